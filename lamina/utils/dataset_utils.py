"""Dataset helpers: ``pack/unpack_x_y_sample_weight``, ``timeseries_dataset_from_array``, ``split_dataset``."""

import math

import numpy as np

from lamina import tree
from lamina.utils.directory_dataset import BatchDataset
from lamina.utils.py_dataset import PyDataset


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Pack user data into the tuple a batch is made of: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sw)``.

    Example:
    >>> import lamina
    >>> lamina.utils.pack_x_y_sample_weight([1, 2], 3)
    ([1, 2], 3)
    >>> lamina.utils.pack_x_y_sample_weight([1, 2])
    ([1, 2],)
    """
    if y is None:
        # A list or tuple x alone would be read as (x, y): wrap it.
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """Split one batch into ``(x, y, sample_weight)``, ``None`` for the parts it lacks.

    Example:
    >>> import lamina
    >>> lamina.utils.unpack_x_y_sample_weight((1, 2))
    (1, 2, None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"but received a {type(data).__name__} of length {len(data)}."
    )


def _positive_int(value, name, who):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{who}: `{name}` must be a positive integer, but received {name}={value!r}.")
    return int(value)


class ArrayDataset(BatchDataset):
    """A ``PyDataset`` over in-memory arrays: item ``i`` is batch ``i`` (or sample ``i`` when unbatched).

    ``data`` is an array or a tuple/list/dict of arrays with equal first dimension.
    ``batch(n)`` returns the same data batched by ``n`` (as ``tf.data``'s ``batch``); ``map``, ``cache``
    and ``take`` are those of the directory datasets (e.g. ``ds.map(lambda x, y: (feature_space(x), y))``)."""

    def __init__(self, data, batch_size=None, **kwargs):
        super().__init__(**kwargs)
        self.data = data
        self.batch_size = None if batch_size is None else _positive_int(batch_size, "batch_size", "ArrayDataset")
        lengths = {len(a) for a in tree.flatten(data)}
        if len(lengths) != 1:
            raise ValueError(f"ArrayDataset: the arrays have different numbers of samples: {sorted(lengths)}.")
        self.num_samples = lengths.pop()

    def __len__(self):
        if self.batch_size is None:
            return self.num_samples
        return math.ceil(self.num_samples / self.batch_size)

    def __getitem__(self, index):
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"ArrayDataset index {index} out of range for {n} items.")
        if self.batch_size is None:
            return tree.map_structure(lambda a: a[index], self.data)
        sl = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return tree.map_structure(lambda a: a[sl], self.data)

    def batch(self, batch_size):
        """The same samples, ``batch_size`` at a time (the last batch may be shorter)."""
        return ArrayDataset(self.data, batch_size, workers=self.workers,
                            use_multiprocessing=self.use_multiprocessing, max_queue_size=self.max_queue_size)


class TimeseriesDataset(BatchDataset):
    """Windows over a time series, produced by ``timeseries_dataset_from_array``.

    A stand-in for Keras's tf.data.Dataset (fit keeps its batch order; its own ``shuffle=`` shuffles it), with
    the ``map``, ``cache`` and ``take`` of the other lamina datasets (e.g. ``for x, y in ds.take(1):``)."""

    def __init__(self, data, targets, starts, sequence_length, sampling_rate, batch_size):
        super().__init__()
        self.data, self.targets, self.starts = data, targets, starts
        self.offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size = batch_size

    def __len__(self):
        if self.batch_size is None:
            return len(self.starts)
        return math.ceil(len(self.starts) / self.batch_size)

    def __getitem__(self, index):
        index = self._index(index)
        if self.batch_size is None:
            starts = self.starts[index:index + 1]
        else:
            starts = self.starts[index * self.batch_size:(index + 1) * self.batch_size]
        x = self.data[starts[:, None] + self.offsets[None, :]]
        if self.batch_size is None:
            x = x[0]
        if self.targets is None:
            return x
        y = self.targets[starts]
        return x, (y[0] if self.batch_size is None else y)


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1, sampling_rate=1,
                                  batch_size=128, shuffle=False, seed=None, start_index=None, end_index=None):
    """Sliding windows over a time series, batched: a ``PyDataset`` that ``fit`` reads directly.

    Window ``i`` holds ``data[s, s + sampling_rate, ..., s + (sequence_length - 1) * sampling_rate]``
    with ``s = start_index + i * sequence_stride``; its target is ``targets[s]``.

    Example:
    >>> import numpy as np, lamina
    >>> ds = lamina.utils.timeseries_dataset_from_array(np.arange(10), None, sequence_length=3, batch_size=4)
    >>> len(ds), ds[0][1].tolist()
    (2, [1, 2, 3])
    """
    who = "timeseries_dataset_from_array"
    sequence_length = _positive_int(sequence_length, "sequence_length", who)
    sequence_stride = _positive_int(sequence_stride, "sequence_stride", who)
    sampling_rate = _positive_int(sampling_rate, "sampling_rate", who)
    if batch_size is not None:
        batch_size = _positive_int(batch_size, "batch_size", who)
    data = np.asarray(data)
    if data.ndim == 0:
        raise ValueError(f"{who}: `data` must have a time axis (at least 1 dimension), but received a scalar.")
    if targets is not None:
        targets = np.asarray(targets)  # fewer targets than time steps: fewer windows, as Keras
    start = 0 if start_index is None else start_index
    end = len(data) if end_index is None else end_index
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 0 <= start < len(data):
        raise ValueError(f"{who}: `start_index` must be an int in [0, {len(data)}), but received {start_index!r}.")
    if isinstance(end, bool) or not isinstance(end, (int, np.integer)) or not start < end <= len(data):
        raise ValueError(
            f"{who}: `end_index` must be an int in ({start}, {len(data)}], but received {end_index!r}."
        )
    num_seqs = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:  # the window starting at step i has targets[i]
        num_seqs = min(num_seqs, len(targets) - start)
    starts = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        rng = np.random.default_rng(seed if seed is not None else np.random.randint(1 << 31))
        rng.shuffle(starts)
    return TimeseriesDataset(data, targets, starts + start, sequence_length, sampling_rate, batch_size)


def _as_samples(dataset, who):
    """The samples of ``dataset`` as a structure of arrays (first axis = samples)."""
    if isinstance(dataset, ArrayDataset):
        return dataset.data
    if isinstance(dataset, list) and dataset and np.isscalar(dataset[0]):
        dataset = np.asarray(dataset)
    if isinstance(dataset, (np.ndarray, list, tuple, dict)) or hasattr(dataset, "__array__"):
        data = tree.map_structure(np.asarray, dataset)
        lengths = {len(a) for a in tree.flatten(data)}
        if len(lengths) != 1:
            raise ValueError(f"{who}: the arrays have different numbers of samples: {sorted(lengths)}.")
        return data
    if isinstance(dataset, PyDataset) or hasattr(dataset, "__iter__"):
        batches = [tree.map_structure(np.asarray, b) for b in dataset]
        if not batches:
            raise ValueError(f"{who}: the dataset is empty.")
        unbatched = getattr(dataset, "batch_size", 0) is None
        if unbatched:
            return tree.map_structure(lambda *s: np.stack(s), *batches)
        return tree.map_structure(lambda *b: np.concatenate(b, axis=0), *batches)
    raise TypeError(
        f"{who}: `dataset` must be an array, a tuple/list/dict of arrays, a lamina.utils.PyDataset or an "
        f"iterable of batches, but received {type(dataset).__name__}."
    )


def _split_size(size, total, name):
    if size is None:
        return None
    if isinstance(size, float):
        if not 0 < size < 1:
            raise ValueError(f"split_dataset: a float `{name}` must be in (0, 1), but received {name}={size}.")
        return int(round(size * total))
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
        raise ValueError(
            f"split_dataset: `{name}` must be a float in (0, 1) or a positive int, but received {name}={size!r}."
        )
    if size > total:
        raise ValueError(f"split_dataset: {name}={size} is larger than the dataset ({total} samples).")
    return int(size)


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Split a dataset's samples in two: returns ``(left, right)`` unbatched ``ArrayDataset``s.

    ``dataset`` is an array, a tuple/list/dict of arrays, a ``PyDataset`` or an iterable of
    batches (batches are split into samples). Sizes are fractions (float) or counts (int);
    the missing one is the rest. Call ``.batch(n)`` on a result before ``fit``.

    Example:
    >>> import numpy as np, lamina
    >>> left, right = lamina.utils.split_dataset(np.arange(10), left_size=0.8)
    >>> len(left), len(right)
    (8, 2)
    """
    who = "split_dataset"
    data = _as_samples(dataset, who)
    total = len(tree.flatten(data)[0])
    if left_size is None and right_size is None:
        raise ValueError(f"{who}: give `left_size` or `right_size` (or both), but both are None.")
    left = _split_size(left_size, total, "left_size")
    right = _split_size(right_size, total, "right_size")
    if left is None:
        left = total - right
    if right is None:
        right = total - left
    if left + right > total:
        raise ValueError(
            f"{who}: left_size={left_size} and right_size={right_size} ask for {left + right} samples, "
            f"but the dataset has {total}."
        )
    if left == 0 or right == 0:
        raise ValueError(
            f"{who}: left_size={left_size} and right_size={right_size} leave one side empty "
            f"({left} and {right} samples of {total})."
        )
    order = np.arange(total)
    if shuffle:
        np.random.default_rng(seed if seed is not None else np.random.randint(1 << 31)).shuffle(order)
    take = lambda idx: tree.map_structure(lambda a: a[idx], data)  # noqa: E731
    return ArrayDataset(take(order[:left])), ArrayDataset(take(order[left:left + right]))
