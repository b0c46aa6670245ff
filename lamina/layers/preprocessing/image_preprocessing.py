"""Deterministic image preprocessing: ``Rescaling``, ``Resizing``, ``CenterCrop``."""

import numpy as np

from lamina import backend, ops
from lamina.config import standardize_data_format
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import _image_ops as img
from lamina.layers.preprocessing import _utils as u


class ImageLayer(Layer):
    """Base of the image layers: batched ``(b, h, w, c)`` or single ``(h, w, c)`` images in either
    ``data_format``; subclasses implement ``transform(images, training)`` on channels-last float batches."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)

    def _check_rank(self, shape):
        if len(shape) not in (3, 4):
            raise ValueError(f"{u.who(self)} expected images of rank 3 (height, width, channels) or 4 (batch, "
                             f"height, width, channels), but received shape {tuple(shape)}.")

    def _hw_axes(self, rank):
        return (rank - 3, rank - 2) if self.data_format == "channels_last" else (rank - 2, rank - 1)

    def _apply(self, images, fn):
        self._check_rank(images.shape)
        if not backend.is_float_dtype(backend.dtype_name(images)):
            images = ops.cast(images, self.compute_dtype)
        single = len(images.shape) == 3
        if single:
            images = ops.expand_dims(images, 0)
        if self.data_format == "channels_first":
            images = ops.transpose(images, (0, 2, 3, 1))
        out = fn(images)
        if self.data_format == "channels_first":
            out = ops.transpose(out, (0, 3, 1, 2))
        return ops.squeeze(out, 0) if single else out

    def _with_hw(self, input_shape, height, width):
        shape = list(input_shape)
        self._check_rank(shape)
        h_axis, w_axis = self._hw_axes(len(shape))
        shape[h_axis], shape[w_axis] = height, width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Rescaling(Layer):
    """Multiply inputs by ``scale`` and add ``offset`` (e.g. ``scale=1/255`` maps ``[0, 255]`` to ``[0, 1]``).

    Args:
        scale: a float, or a list of floats (one per channel, broadcast on the last axis).
        offset: a float or a list of floats added after scaling.

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.Rescaling(scale=1 / 127.5, offset=-1)
    >>> lamina.ops.convert_to_numpy(layer(np.array([0.0, 127.5, 255.0]))).tolist()
    [-1.0, 0.0, 1.0]
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("scale", scale), ("offset", offset)):
            arr = np.asarray(u.to_numpy(value))
            if arr.dtype.kind not in "iuf":
                raise ValueError(f"{u.who(self)}: {arg} must be a number or a list of numbers, but received "
                                 f"{arg}={value!r}.")
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        dtype = self.compute_dtype
        x = ops.cast(inputs, dtype)
        scale = np.asarray(u.to_numpy(self.scale), dtype=dtype)
        offset = np.asarray(u.to_numpy(self.offset), dtype=dtype)
        return x * ops.convert_to_tensor(scale) + ops.convert_to_tensor(offset)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": u.listify(self.scale), "offset": u.listify(self.offset)}


class Resizing(ImageLayer):
    """Resize images to ``(height, width)``.

    Pixel centers follow the half-pixel convention of Keras/TF/JAX; ``"bicubic"`` is Keys' cubic with
    ``a = -0.5``. Samples that would fall outside the image are dropped and the remaining weights
    renormalized.

    Args:
        height, width: the output size.
        interpolation: ``"bilinear"`` (default), ``"nearest"``, ``"bicubic"``, ``"area"``, ``"lanczos3"``
            or ``"lanczos5"``.
        crop_to_aspect_ratio: first center-crop the largest window of the target aspect ratio.
        pad_to_aspect_ratio: first pad (centered, with ``fill_value``) to the target aspect ratio.
        fill_mode: with ``pad_to_aspect_ratio``, only ``"constant"``.
        fill_value: the padding value.
        antialias: widen the kernel when downsampling (smoother; not for ``"nearest"``/``"area"``).
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: ``image_data_format()``).

    Example:
    >>> import numpy as np, lamina
    >>> out = lamina.layers.Resizing(2, 2)(np.ones((1, 4, 4, 3)))
    >>> lamina.ops.shape(out)
    (1, 2, 2, 3)
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, antialias=False,
                 data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = u.check_positive_int(self, "height", height)
        self.width = u.check_positive_int(self, "width", width)
        self.interpolation = u.check_choice(self, "interpolation", interpolation, img.INTERPOLATIONS)
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(f"{u.who(self)}: crop_to_aspect_ratio and pad_to_aspect_ratio cannot both be True.")
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = u.check_choice(self, "fill_mode", fill_mode, ("constant",))
        self.fill_value = fill_value
        self.antialias = bool(antialias)

    def call(self, inputs):
        def fn(images):
            if self.crop_to_aspect_ratio:
                images = img.crop_or_pad_to_aspect(images, self.height, self.width, "crop")
            elif self.pad_to_aspect_ratio:
                images = img.crop_or_pad_to_aspect(images, self.height, self.width, "pad", self.fill_value)
            return img.resize(images, self.height, self.width, self.interpolation, self.antialias)
        return self._apply(inputs, fn)

    def compute_output_shape(self, input_shape):
        return self._with_hw(input_shape, self.height, self.width)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


def center_crop(images, height, width):
    """Center-crop channels-last ``images`` to ``(height, width)``; smaller images are first resized
    (bilinear) so the largest window of the target aspect ratio fills the output."""
    _, in_h, in_w, _ = images.shape
    if in_h < height or in_w < width:
        images = img.crop_or_pad_to_aspect(images, height, width, "crop")
        return img.resize(images, height, width, "bilinear")
    top, left = (in_h - height) // 2, (in_w - width) // 2
    return images[:, top:top + height, left:left + width, :]


class CenterCrop(ImageLayer):
    """Crop the central ``(height, width)`` window of images.

    The window starts at ``((H - height) // 2, (W - width) // 2)``. An image smaller than the target is
    resized (keeping its aspect ratio by cropping first) to the target size, as Keras does.

    Args:
        height, width: the output size.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: ``image_data_format()``).

    Example:
    >>> import numpy as np, lamina
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> lamina.ops.convert_to_numpy(lamina.layers.CenterCrop(2, 2)(x))[0, :, :, 0].tolist()
    [[5.0, 6.0], [9.0, 10.0]]
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = u.check_positive_int(self, "height", height)
        self.width = u.check_positive_int(self, "width", width)

    def call(self, inputs):
        return self._apply(inputs, lambda images: center_crop(images, self.height, self.width))

    def compute_output_shape(self, input_shape):
        return self._with_hw(input_shape, self.height, self.width)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
