"""Keras 2's image batch iterators: ``Iterator``, ``NumpyArrayIterator``, ``DirectoryIterator``.

They are ``lamina.utils.PyDataset``s (``len()`` batches per epoch, ``it[i]`` the i-th batch, reshuffled by
``on_epoch_end``), so ``model.fit``/``evaluate``/``predict`` read them directly, and endless Python iterators
(``next(it)`` loops over the data forever), as in Keras 2. With a ``seed``, each batch reseeds NumPy's global
random state with ``seed + batches_seen`` (Keras 2's behaviour, which makes the shuffling and the random
transforms repeatable).
"""

import os
import threading
import warnings

import numpy as np

from lamina import config
from lamina.utils import image_utils, io_utils
from lamina.utils.py_dataset import PyDataset

WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")


def _check_positive_int(value, arg, who):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{who}: `{arg}` must be a positive int, but received {arg}={value!r}.")
    return int(value)


def _check_subset(subset, who):
    if subset not in (None, "training", "validation"):
        raise ValueError(f"{who}: `subset` must be None, 'training' or 'validation', but received "
                         f"subset={subset!r}.")
    return subset


class BatchIndexError(IndexError, ValueError):
    """A batch index out of range (an IndexError, and a ValueError as Keras 2 raised)."""


class Iterator(PyDataset):
    """Base class of the image iterators: ``n`` samples in batches of ``batch_size``.

    Subclasses implement ``_get_batches_of_transformed_samples(index_array)``.

    Args:
        n: the number of samples.
        batch_size: the number of samples per batch (the last batch of an epoch may be smaller).
        shuffle: reshuffle the samples at the start of every epoch.
        seed: an int to make the shuffling (and the random transforms) repeatable, or None.
        **kwargs: ``workers``, ``use_multiprocessing``, ``max_queue_size`` for ``PyDataset``.
    """

    white_list_formats = WHITE_LIST_FORMATS

    def __init__(self, n, batch_size, shuffle, seed, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.n = int(n)
        self.batch_size = _check_positive_int(batch_size, "batch_size", who)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"{who}: `seed` must be an int or None, but received seed={seed!r}.")
        self.seed = seed
        self.shuffle = bool(shuffle)
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        self.index_generator = self._flow_index()

    def __getstate__(self):  # the lock and the generator cannot be pickled (worker processes)
        state = self.__dict__.copy()
        state.pop("lock", None)
        state.pop("index_generator", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.lock = threading.Lock()
        self.index_generator = self._flow_index()

    def _set_index_array(self):
        self.index_array = np.random.permutation(self.n) if self.shuffle else np.arange(self.n)

    def _reseed(self):
        if self.seed is not None:
            np.random.seed(int(self.seed) + self.total_batches_seen)

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def __getitem__(self, idx):
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)):
            raise TypeError(f"{type(self).__name__}: a batch index must be an int, but received {idx!r}.")
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise BatchIndexError(f"{type(self).__name__}: asked for batch {idx}, but there are {len(self)} batches "
                             f"({self.n} samples in batches of {self.batch_size}).")
        self._reseed()
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        index_array = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(index_array)

    def on_epoch_end(self):
        """Draw the order of the next epoch (a new permutation when ``shuffle``)."""
        self._set_index_array()

    def reset(self):
        """Restart the Python iteration (``next``) at the first batch of an epoch."""
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            self._reseed()
            if self.batch_index == 0:
                self._set_index_array()
            start = (self.batch_index * self.batch_size) % self.n if self.n else 0
            if self.n > start + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            yield self.index_array[start:start + self.batch_size]

    def __iter__(self):
        return self

    def __next__(self):
        with self.lock:
            index_array = next(self.index_generator)
        return self._get_batches_of_transformed_samples(index_array)

    def next(self):
        """The next batch (Keras 2's spelling of ``next(it)``)."""
        return self.__next__()

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError(f"{type(self).__name__} must implement _get_batches_of_transformed_samples.")


def _save_batch(batch_x, index_array, data_format, save_to_dir, save_prefix, save_format):
    for i, j in enumerate(index_array):
        img = image_utils.array_to_img(batch_x[i], data_format, scale=True)
        fname = f"{save_prefix}_{j}_{np.random.randint(10 ** 7)}.{save_format}"
        img.save(os.path.join(save_to_dir, fname))


def _check_format(data_format, dtype, who):
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{who}: `data_format` must be 'channels_last' or 'channels_first', but received "
                         f"data_format={data_format!r}.")
    return data_format, config.floatx() if dtype is None else dtype


class NumpyArrayIterator(Iterator):
    """Batches of images from a rank-4 NumPy array, randomly transformed and standardized by an
    ``ImageDataGenerator`` (what ``ImageDataGenerator.flow`` returns).

    Batches are ``x`` (when ``y`` is None), ``(x, y)``, or ``(x, y, sample_weight)``. ``x`` may be a pair
    ``(images, other)`` where ``other`` is an array or a list of arrays with one row per image: then the batch's
    inputs are ``[images, *other]`` (the other arrays are not transformed).
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False, sample_weight=None, seed=None,
                 data_format=None, save_to_dir=None, save_prefix="", save_format="png", subset=None,
                 ignore_class_split=False, dtype=None, **kwargs):
        who = "NumpyArrayIterator"
        data_format, dtype = _check_format(data_format, dtype, who)
        self.dtype = dtype
        if isinstance(x, (tuple, list)):
            if len(x) != 2:
                raise ValueError(f"{who}: a tuple/list `x` must be (images, other arrays), but received one of "
                                 f"length {len(x)}.")
            x_misc = [np.asarray(a) for a in x[1]] if isinstance(x[1], list) else [np.asarray(x[1])]
            x = x[0]
            for a in x_misc:
                if len(a) != len(x):
                    raise ValueError(f"{who}: all arrays in `x` must have one row per image, but the images have "
                                     f"{len(x)} rows and another array {len(a)}.")
        else:
            x_misc = []
        if y is not None and len(x) != len(y):
            raise ValueError(f"{who}: `x` (the images) and `y` (the labels) must have the same length, but received "
                             f"x.shape={np.shape(x)} and y.shape={np.shape(y)}.")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError(f"{who}: `x` (the images) and `sample_weight` must have the same length, but received "
                             f"x.shape={np.shape(x)} and sample_weight.shape={np.shape(sample_weight)}.")
        if _check_subset(subset, who) is not None:
            split_idx = int(len(x) * image_data_generator._validation_split)
            if (y is not None and not ignore_class_split
                    and not np.array_equal(np.unique(np.asarray(y)[:split_idx]),
                                           np.unique(np.asarray(y)[split_idx:]))):
                raise ValueError(f"{who}: the training and validation subsets hold different classes after the "
                                 f"split at {split_idx} of {len(x)} samples. If the arrays are sorted by label, "
                                 "shuffle them first (or pass ignore_class_split=True).")
            part = slice(None, split_idx) if subset == "validation" else slice(split_idx, None)
            x = x[part]
            x_misc = [a[part] for a in x_misc]
            if y is not None:
                y = y[part]
            if sample_weight is not None:
                sample_weight = sample_weight[part]
        self.x = np.asarray(x, dtype=self.dtype)
        self.x_misc = x_misc
        if self.x.ndim != 4:
            raise ValueError(f"{who}: the images `x` must be a rank-4 array (samples, rows, cols, channels) or "
                             f"(samples, channels, rows, cols), but received an array of shape {self.x.shape}.")
        channels_axis = 3 if data_format == "channels_last" else 1
        if self.x.shape[channels_axis] not in (1, 3, 4):
            warnings.warn(f"{who}: with data_format={data_format!r} the channels are on axis {channels_axis}, which "
                          f"should hold 1, 3 or 4 channels, but the images of shape {self.x.shape} have "
                          f"{self.x.shape[channels_axis]} there.", stacklevel=3)
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed, **kwargs)

    def _get_batches_of_transformed_samples(self, index_array):
        gen = self.image_data_generator
        batch_x = np.zeros((len(index_array),) + self.x.shape[1:], dtype=self.dtype)
        for i, j in enumerate(index_array):
            x = self.x[j].astype(self.dtype)  # a copy: standardize works in place
            if gen is not None:
                x = gen.apply_transform(x, gen.get_random_transform(x.shape))
                x = gen.standardize(x)
            batch_x[i] = x
        if self.save_to_dir:
            _save_batch(batch_x, index_array, self.data_format, self.save_to_dir, self.save_prefix, self.save_format)
        inputs = [batch_x] + [a[index_array] for a in self.x_misc] if self.x_misc else batch_x
        if self.y is None:
            return inputs
        if self.sample_weight is None:
            return inputs, self.y[index_array]
        return inputs, self.y[index_array], self.sample_weight[index_array]


class _BatchFromFiles:
    """The part of ``DirectoryIterator`` and ``DataFrameIterator`` that reads image files into batches."""

    allowed_class_modes = ()

    def _set_processing_attrs(self, who, image_data_generator, target_size, color_mode, data_format, save_to_dir,
                              save_prefix, save_format, subset, interpolation, keep_aspect_ratio, class_mode):
        self.image_data_generator = image_data_generator
        self.target_size = image_utils._check_size(tuple(target_size) if isinstance(target_size, list)
                                                   else target_size, "target_size", who)
        self.keep_aspect_ratio = bool(keep_aspect_ratio)
        if color_mode not in ("rgb", "rgba", "grayscale"):
            raise ValueError(f"{who}: `color_mode` must be 'rgb', 'rgba' or 'grayscale', but received "
                             f"color_mode={color_mode!r}.")
        image_utils.resample_filter(interpolation, who)
        if class_mode not in self.allowed_class_modes:
            raise ValueError(f"{who}: `class_mode` must be one of {list(self.allowed_class_modes)}, but received "
                             f"class_mode={class_mode!r}.")
        self.class_mode = class_mode
        self.color_mode = color_mode
        self.data_format = data_format
        channels = {"rgb": 3, "rgba": 4, "grayscale": 1}[color_mode]
        self.image_shape = (self.target_size + (channels,) if data_format == "channels_last"
                            else (channels,) + self.target_size)
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        self.interpolation = interpolation
        _check_subset(subset, who)
        split = image_data_generator._validation_split if image_data_generator is not None else 0.0
        self.split = None if subset is None else ((0, split) if subset == "validation" else (split, 1))
        self.subset = subset

    def _get_batches_of_transformed_samples(self, index_array):
        gen = self.image_data_generator
        batch_x = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
        paths = self.filepaths
        for i, j in enumerate(index_array):
            img = image_utils.load_img(paths[j], color_mode=self.color_mode, target_size=self.target_size,
                                       interpolation=self.interpolation, keep_aspect_ratio=self.keep_aspect_ratio)
            x = image_utils.img_to_array(img, data_format=self.data_format, dtype=self.dtype)
            if hasattr(img, "close"):
                img.close()
            if gen is not None:
                x = gen.apply_transform(x, gen.get_random_transform(x.shape))
                x = gen.standardize(x)
            batch_x[i] = x
        if self.save_to_dir:
            _save_batch(batch_x, index_array, self.data_format, self.save_to_dir, self.save_prefix, self.save_format)
        mode = self.class_mode
        if mode is None:
            return batch_x
        if mode == "input":
            batch_y = batch_x.copy()
        elif mode in ("binary", "sparse"):
            batch_y = np.asarray([self.classes[j] for j in index_array], dtype=self.dtype)
        elif mode == "categorical":
            batch_y = np.zeros((len(batch_x), len(self.class_indices)), dtype=self.dtype)
            for i, j in enumerate(index_array):
                batch_y[i, self.classes[j]] = 1.0  # a list of classes (multi-label) sets several
        elif mode == "multi_output":
            batch_y = [out[index_array] for out in self.labels]
        else:  # "raw"
            batch_y = self.labels[index_array]
        weights = self.sample_weight
        if weights is None:
            return batch_x, batch_y
        return batch_x, batch_y, weights[index_array]


def _valid_files(directory, follow_links, formats):
    """``(root, filename)`` of the image files under ``directory``, in sorted order (recursively)."""
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda t: t[0]):
        for fname in sorted(files):
            if fname.lower().endswith(".tiff"):
                warnings.warn("DirectoryIterator: '.tiff' files with several bands may be distorted; check the "
                              "images.", stacklevel=4)
            if fname.lower().endswith(formats):
                yield root, fname


class DirectoryIterator(_BatchFromFiles, Iterator):
    """Batches of images read from a directory with one subdirectory per class (what
    ``ImageDataGenerator.flow_from_directory`` returns).

    Attributes after construction: ``class_indices`` (class name -> index), ``classes`` (the class index of
    every sample), ``filenames`` (paths relative to ``directory``), ``filepaths``, ``samples``, ``num_classes``.
    """

    allowed_class_modes = ("categorical", "binary", "sparse", "input", None)

    def __init__(self, directory, image_data_generator, target_size=(256, 256), color_mode="rgb", classes=None,
                 class_mode="categorical", batch_size=32, shuffle=True, seed=None, data_format=None,
                 save_to_dir=None, save_prefix="", save_format="png", follow_links=False, subset=None,
                 interpolation="nearest", keep_aspect_ratio=False, dtype=None, **kwargs):
        who = "DirectoryIterator"
        data_format, dtype = _check_format(data_format, dtype, who)
        self._set_processing_attrs(who, image_data_generator, target_size, color_mode, data_format, save_to_dir,
                                   save_prefix, save_format, subset, interpolation, keep_aspect_ratio, class_mode)
        if not isinstance(directory, (str, os.PathLike)) or not os.path.isdir(directory):
            raise ValueError(f"{who}: `directory` must be an existing directory, but received "
                             f"directory={directory!r}.")
        self.directory = os.fspath(directory)
        self.dtype = dtype
        if not classes:
            classes = [d for d in sorted(os.listdir(self.directory))
                       if os.path.isdir(os.path.join(self.directory, d))]
        elif isinstance(classes, str) or not all(isinstance(c, str) for c in classes):
            raise ValueError(f"{who}: `classes` must be a list of subdirectory names, but received "
                             f"classes={classes!r}.")
        self.num_classes = len(classes)
        self.class_indices = {c: i for i, c in enumerate(classes)}
        self.filenames, labels = [], []
        for name in classes:
            subdir = os.path.join(self.directory, name)
            files = list(_valid_files(subdir, follow_links, self.white_list_formats))
            if self.split is not None:
                files = files[int(self.split[0] * len(files)):int(self.split[1] * len(files))]
            for root, fname in files:
                self.filenames.append(os.path.join(name, os.path.relpath(os.path.join(root, fname), subdir)))
                labels.append(self.class_indices[name])
        self.samples = len(self.filenames)
        self.classes = np.asarray(labels, dtype="int32")
        io_utils.print_msg(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        self._filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed, **kwargs)

    @property
    def filepaths(self):
        """The full paths of the image files, in sample order."""
        return self._filepaths

    @property
    def labels(self):
        """The class index of every sample."""
        return self.classes

    @property
    def sample_weight(self):
        return None
