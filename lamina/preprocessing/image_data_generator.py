"""Keras 2's ``ImageDataGenerator``: real-time image augmentation and normalization with NumPy/SciPy."""

import numbers
import warnings

import numpy as np

from lamina import config
from lamina.preprocessing import image_transforms as T
from lamina.preprocessing.image_dataframe import DataFrameIterator
from lamina.preprocessing.image_iterators import DirectoryIterator, NumpyArrayIterator

WHO = "ImageDataGenerator"


def _is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _check_number(value, arg):
    if not _is_number(value):
        raise ValueError(f"{WHO}: `{arg}` must be a number, but received {arg}={value!r}.")
    return value


def _check_shift_range(value, arg):
    """A float (a fraction of the size when < 1, else pixels), an int (pixels), or a 1-D list of choices."""
    if _is_number(value):
        return value
    if isinstance(value, (list, tuple, np.ndarray)) and np.ndim(value) == 1 and len(value) > 0 and all(
            _is_number(v) for v in value):
        return list(value)
    raise ValueError(f"{WHO}: `{arg}` must be a float, an int or a non-empty 1-D list of numbers, but received "
                     f"{arg}={value!r}.")


class ImageDataGenerator:
    """Generate batches of images with real-time data augmentation (Keras 2's ``ImageDataGenerator``).

    Every image of a batch gets its own random transform (``get_random_transform`` then ``apply_transform``),
    then ``standardize``. The randomness comes from NumPy's global random state, as in Keras 2
    (``np.random.seed``, or the ``seed`` of ``flow``, make it repeatable).

    Args:
        featurewise_center: subtract the dataset's per-channel mean (computed by ``fit``).
        samplewise_center: subtract each image's mean.
        featurewise_std_normalization: divide by the dataset's per-channel std (computed by ``fit``).
        samplewise_std_normalization: divide each image by its std.
        zca_whitening: apply ZCA whitening (computed by ``fit``).
        zca_epsilon: epsilon of the ZCA whitening (default 1e-6).
        rotation_range: rotations drawn from ``[-rotation_range, rotation_range]`` degrees.
        width_shift_range, height_shift_range: a float (a fraction of the size when below 1, else pixels) gives
            shifts drawn from ``[-r, r]``; an int ``n`` gives whole pixels from ``(-n, n)``; a list gives one of its
            values with a random sign. As in Keras 2.15, ``height_shift_range`` is scaled by the height but moves
            the image along the width axis, and ``width_shift_range`` the other way round.
        brightness_range: None or a pair ``(lower, upper)`` of brightness factors.
        shear_range: shear angles drawn from ``[-shear_range, shear_range]`` degrees.
        zoom_range: a float ``z`` (zooms from ``[1 - z, 1 + z]``) or a pair ``(lower, upper)``.
        channel_shift_range: channel shifts drawn from ``[-channel_shift_range, channel_shift_range]``.
        fill_mode: how the points outside the image are filled: ``"nearest"`` (default), ``"constant"``,
            ``"reflect"`` or ``"wrap"``.
        cval: the fill value with ``fill_mode="constant"``.
        horizontal_flip, vertical_flip: flip half of the images.
        rescale: None (or 0) or a factor every image is multiplied by before the other normalizations.
        preprocessing_function: a function of one image (rank-3 array) returning an array of the same shape,
            run first by ``standardize``, after the random transform.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: ``lamina.config.image_data_format()``).
        validation_split: the fraction of the data (its start) reserved for ``subset="validation"``.
        interpolation_order: the spline order of the geometric transforms (0 to 5, default 1).
        dtype: the dtype of the generated batches (default: ``lamina.config.floatx()``).

    Example:
    >>> import numpy as np
    >>> from lamina.preprocessing.image import ImageDataGenerator
    >>> x = np.arange(2 * 4 * 4 * 1, dtype="float32").reshape(2, 4, 4, 1)
    >>> it = ImageDataGenerator(rescale=0.5).flow(x, np.array([0, 1]), batch_size=2, shuffle=False)
    >>> bx, by = next(it)
    >>> bx.shape, float(bx[1, 0, 0, 0]), by.tolist()
    ((2, 4, 4, 1), 8.0, [0, 1])
    """

    def __init__(self, featurewise_center=False, samplewise_center=False, featurewise_std_normalization=False,
                 samplewise_std_normalization=False, zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0.0, height_shift_range=0.0, brightness_range=None, shear_range=0.0,
                 zoom_range=0.0, channel_shift_range=0.0, fill_mode="nearest", cval=0.0, horizontal_flip=False,
                 vertical_flip=False, rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None):
        data_format = config.image_data_format() if data_format is None else data_format
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"{WHO}: `data_format` must be 'channels_last' (channels after rows and columns) or "
                             f"'channels_first', but received data_format={data_format!r}.")
        self.data_format = data_format
        if data_format == "channels_first":
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        try:
            self.dtype = config.floatx() if dtype is None else np.dtype(dtype).name
        except TypeError:
            raise ValueError(f"{WHO}: `dtype` must be None or a NumPy dtype name such as 'float32', but received "
                             f"dtype={dtype!r}.") from None
        self.featurewise_center = bool(featurewise_center)
        self.samplewise_center = bool(samplewise_center)
        self.featurewise_std_normalization = bool(featurewise_std_normalization)
        self.samplewise_std_normalization = bool(samplewise_std_normalization)
        self.zca_whitening = bool(zca_whitening)
        self.zca_epsilon = _check_number(zca_epsilon, "zca_epsilon")
        self.rotation_range = _check_number(rotation_range, "rotation_range")
        self.width_shift_range = _check_shift_range(width_shift_range, "width_shift_range")
        self.height_shift_range = _check_shift_range(height_shift_range, "height_shift_range")
        self.shear_range = _check_number(shear_range, "shear_range")
        self.channel_shift_range = _check_number(channel_shift_range, "channel_shift_range")
        self.fill_mode = T.check_fill_mode(fill_mode, WHO)
        self.cval = _check_number(cval, "cval")
        self.horizontal_flip = bool(horizontal_flip)
        self.vertical_flip = bool(vertical_flip)
        if rescale is not None:
            _check_number(rescale, "rescale")
        self.rescale = rescale
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise ValueError(f"{WHO}: `preprocessing_function` must be None or a function of one image, but "
                             f"received {preprocessing_function!r}.")
        self.preprocessing_function = preprocessing_function
        if (isinstance(interpolation_order, bool) or not isinstance(interpolation_order, (int, np.integer))
                or not 0 <= interpolation_order <= 5):
            raise ValueError(f"{WHO}: `interpolation_order` must be an int from 0 to 5, but received "
                             f"interpolation_order={interpolation_order!r}.")
        self.interpolation_order = int(interpolation_order)
        if not _is_number(validation_split) or (validation_split and not 0 < validation_split < 1):
            raise ValueError(f"{WHO}: `validation_split` must be 0 or strictly between 0 and 1, but received "
                             f"validation_split={validation_split!r}.")
        self._validation_split = validation_split
        self.mean = None
        self.std = None
        self.zca_whitening_matrix = None

        if _is_number(zoom_range):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif isinstance(zoom_range, (list, tuple, np.ndarray)) and len(zoom_range) == 2 and all(
                _is_number(v) for v in zoom_range):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError(f"{WHO}: `zoom_range` must be a float or a tuple or list of two floats (lower, upper), "
                             f"but received zoom_range={zoom_range!r}.")
        if brightness_range is not None and not (
                isinstance(brightness_range, (list, tuple, np.ndarray)) and len(brightness_range) == 2
                and all(_is_number(v) for v in brightness_range)):
            raise ValueError(f"{WHO}: `brightness_range` must be None or a tuple or list of two floats (lower, "
                             f"upper), but received brightness_range={brightness_range!r}.")
        self.brightness_range = brightness_range

        if self.zca_whitening:
            if not self.featurewise_center:
                self.featurewise_center = True
                warnings.warn(f"{WHO}: zca_whitening=True turns on featurewise_center.", stacklevel=2)
            if self.featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn(f"{WHO}: zca_whitening=True turns off featurewise_std_normalization.", stacklevel=2)
        if self.featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            warnings.warn(f"{WHO}: featurewise_std_normalization=True turns on featurewise_center.", stacklevel=2)
        if self.samplewise_std_normalization and not self.samplewise_center:
            self.samplewise_center = True
            warnings.warn(f"{WHO}: samplewise_std_normalization=True turns on samplewise_center.", stacklevel=2)

    # ---------------------------------------------------------------- iterators
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None, save_to_dir=None,
             save_prefix="", save_format="png", ignore_class_split=False, subset=None):
        """A ``NumpyArrayIterator`` of augmented batches of the rank-4 images ``x`` (and ``y``, ``sample_weight``).

        ``subset="validation"`` takes the first ``validation_split`` of the samples, ``"training"`` the rest.
        """
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight,
                                  seed=seed, data_format=self.data_format, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format,
                                  ignore_class_split=ignore_class_split, subset=subset, dtype=self.dtype)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb", classes=None,
                            class_mode="categorical", batch_size=32, shuffle=True, seed=None, save_to_dir=None,
                            save_prefix="", save_format="png", follow_links=False, subset=None,
                            interpolation="nearest", keep_aspect_ratio=False):
        """A ``DirectoryIterator`` over ``directory``/<class name>/<images>, one class per subdirectory.

        ``class_mode``: ``"categorical"`` (one-hot labels), ``"binary"`` (0/1 floats), ``"sparse"`` (class
        indices), ``"input"`` (the images themselves, for autoencoders) or None (images only).
        """
        return DirectoryIterator(directory, self, target_size=target_size, color_mode=color_mode,
                                 keep_aspect_ratio=keep_aspect_ratio, classes=classes, class_mode=class_mode,
                                 data_format=self.data_format, batch_size=batch_size, shuffle=shuffle, seed=seed,
                                 save_to_dir=save_to_dir, save_prefix=save_prefix, save_format=save_format,
                                 follow_links=follow_links, subset=subset, interpolation=interpolation,
                                 dtype=self.dtype)

    def flow_from_dataframe(self, dataframe, directory=None, x_col="filename", y_col="class", weight_col=None,
                            target_size=(256, 256), color_mode="rgb", classes=None, class_mode="categorical",
                            batch_size=32, shuffle=True, seed=None, save_to_dir=None, save_prefix="",
                            save_format="png", subset=None, interpolation="nearest", validate_filenames=True,
                            **kwargs):
        """A ``DataFrameIterator`` over the image files named in the ``x_col`` column of ``dataframe`` (a
        ``pandas.DataFrame``, or any object with ``len(df)`` rows whose ``df[column]`` iterates over a column),
        joined to ``directory`` when given, with labels from ``y_col``.

        ``class_mode``: ``"categorical"``, ``"binary"``, ``"sparse"``, ``"input"``, ``"multi_output"``,
        ``"raw"`` or None. Keras 2's deprecated ``has_ext``, ``sort``, ``drop_duplicates`` (ignored) and
        ``class_mode="other"`` (``"raw"``) are accepted with a DeprecationWarning.
        """
        for name, note in (("has_ext", "file names must match the files on disk"),
                           ("sort", "batches follow the dataframe's order when shuffle=False"),
                           ("drop_duplicates", "use DataFrame.drop_duplicates")):
            if name in kwargs:
                kwargs.pop(name)
                warnings.warn(f"{WHO}.flow_from_dataframe: `{name}` is deprecated and ignored ({note}).",
                              DeprecationWarning, stacklevel=2)
        if class_mode == "other":
            warnings.warn(f"{WHO}.flow_from_dataframe: class_mode='other' is deprecated; use class_mode='raw'.",
                          DeprecationWarning, stacklevel=2)
            class_mode = "raw"
        keep_aspect_ratio = kwargs.pop("keep_aspect_ratio", False)
        if kwargs:
            raise TypeError(f"{WHO}.flow_from_dataframe got unexpected keyword arguments {sorted(kwargs)}.")
        return DataFrameIterator(dataframe, directory, self, x_col=x_col, y_col=y_col, weight_col=weight_col,
                                 target_size=target_size, color_mode=color_mode, classes=classes,
                                 class_mode=class_mode, data_format=self.data_format, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, subset=subset, interpolation=interpolation,
                                 keep_aspect_ratio=keep_aspect_ratio, validate_filenames=validate_filenames,
                                 dtype=self.dtype)

    # ---------------------------------------------------------------- normalization
    def standardize(self, x):
        """Normalize one image (or a batch) in place, as configured: ``preprocessing_function``, ``rescale``,
        samplewise then featurewise centring and scaling, ZCA whitening. Returns the result (pass
        ``np.copy(x)`` to keep ``x``)."""
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(self.dtype)
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        if self.featurewise_center:
            if self.mean is not None:
                x -= self.mean
            else:
                self._warn_not_fit("featurewise_center")
        if self.featurewise_std_normalization:
            if self.std is not None:
                x /= self.std + 1e-6
            else:
                self._warn_not_fit("featurewise_std_normalization")
        if self.zca_whitening:
            if self.zca_whitening_matrix is not None:
                flat = x.reshape(-1, int(np.prod(x.shape[-3:])))
                x = (flat @ self.zca_whitening_matrix).reshape(x.shape)
            else:
                self._warn_not_fit("zca_whitening")
        return x

    @staticmethod
    def _warn_not_fit(what):
        warnings.warn(f"{WHO}: {what}=True, but the generator has not been fit on any data, so it is skipped. "
                      "Call `.fit(x_train)` first.", stacklevel=3)

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Compute the dataset statistics of ``featurewise_center``, ``featurewise_std_normalization`` and
        ``zca_whitening`` from the rank-4 sample images ``x`` (after ``rescale``; with ``augment=True``, from
        ``rounds`` randomly transformed copies of them)."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"{WHO}.fit: `x` must be a rank-4 array of images, but received an array of shape "
                             f"{x.shape}.")
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(f"{WHO}.fit: with data_format={self.data_format!r} the channels are on axis "
                          f"{self.channel_axis}, which should hold 1, 3 or 4 channels, but the images of shape "
                          f"{x.shape} have {x.shape[self.channel_axis]} there.", stacklevel=2)
        rounds = int(rounds)
        if rounds < 1:
            raise ValueError(f"{WHO}.fit: `rounds` must be a positive int, but received rounds={rounds!r}.")
        if seed is not None:
            np.random.seed(seed)
        x = np.copy(x)
        if self.rescale:
            x *= self.rescale
        if augment:
            ax = np.zeros((rounds * x.shape[0],) + x.shape[1:], dtype=self.dtype)
            for r in range(rounds):
                for i in range(x.shape[0]):
                    ax[i + r * x.shape[0]] = self.random_transform(x[i])
            x = ax
        stat_shape = [1, 1, 1]
        stat_shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        axes = (0, self.row_axis, self.col_axis)
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=axes), stat_shape)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=axes), stat_shape)
            x /= self.std + 1e-6
        if self.zca_whitening:
            n = len(x)
            flat = np.reshape(x, (n, -1))
            u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
            self.zca_whitening_matrix = (u * (np.sqrt(n) / (s + self.zca_epsilon))) @ u.T

    # ---------------------------------------------------------------- random transforms
    @staticmethod
    def _draw_shift(r, size):
        if isinstance(r, list) or isinstance(r, (int, np.integer)):  # pixels: one of the values, random sign
            t = np.random.choice(r)
            t *= np.random.choice([-1, 1])
        else:
            t = np.random.uniform(-r, r)
        if np.max(r) < 1:
            t *= size
        return t

    def get_random_transform(self, img_shape, seed=None):
        """Draw the parameters of a random transform of one image of shape ``img_shape``: a dict with keys
        ``theta, tx, ty, shear, zx, zy, flip_horizontal, flip_vertical, channel_shift_intensity, brightness``."""
        if len(img_shape) != 3:
            raise ValueError(f"{WHO}.get_random_transform: `img_shape` must be the shape of one image (rank 3), but "
                             f"received {tuple(img_shape)!r}.")
        if seed is not None:
            np.random.seed(seed)
        theta = np.random.uniform(-self.rotation_range, self.rotation_range) if self.rotation_range else 0
        hs, ws = self.height_shift_range, self.width_shift_range
        tx = self._draw_shift(hs, img_shape[self.row_axis - 1]) if (hs if _is_number(hs) else True) else 0
        ty = self._draw_shift(ws, img_shape[self.col_axis - 1]) if (ws if _is_number(ws) else True) else 0
        shear = np.random.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = (np.random.random() < 0.5) * self.horizontal_flip
        flip_vertical = (np.random.random() < 0.5) * self.vertical_flip
        channel_shift_intensity = None
        if self.channel_shift_range != 0:
            channel_shift_intensity = np.random.uniform(-self.channel_shift_range, self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = np.random.uniform(self.brightness_range[0], self.brightness_range[1])
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift_intensity, "brightness": brightness}

    def apply_transform(self, x, transform_parameters):
        """Apply the transform described by ``transform_parameters`` (the keys of ``get_random_transform``; a
        missing key means no change) to one image ``x``: affine transform, channel shift, flips, brightness."""
        if not isinstance(transform_parameters, dict):
            raise ValueError(f"{WHO}.apply_transform: `transform_parameters` must be a dict, but received "
                             f"{type(transform_parameters).__name__}.")
        row, col, ch = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        p = transform_parameters
        x = T.apply_affine_transform(x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
                                     p.get("zx", 1), p.get("zy", 1), row_axis=row, col_axis=col, channel_axis=ch,
                                     fill_mode=self.fill_mode, cval=self.cval, order=self.interpolation_order)
        if p.get("channel_shift_intensity") is not None:
            x = T.apply_channel_shift(x, p["channel_shift_intensity"], ch)
        if p.get("flip_horizontal", False):
            x = T.flip_axis(x, col)
        if p.get("flip_vertical", False):
            x = T.flip_axis(x, row)
        if p.get("brightness") is not None:
            x = T.apply_brightness_shift(x, p["brightness"], False, data_format=self.data_format)
        return x

    def random_transform(self, x, seed=None):
        """``x`` (one image) randomly transformed: ``apply_transform(x, get_random_transform(x.shape, seed))``."""
        x = np.asarray(x)
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))
