"""Shared machinery of ``text_dataset_from_directory`` and ``image_dataset_from_directory``.

* ``index_directory`` lists the files of a directory tree (one sub-folder per class, as Keras) and their
  labels, shuffles them with a seed and splits off a validation subset;
* ``FileDataset`` is the ``PyDataset`` that loads one batch of files per index; ``BatchDataset`` (its base)
  adds ``map``, ``cache`` and ``take``, which return new ``PyDataset``s that ``fit`` consumes.
"""

import math
import os

import numpy as np

from lamina.utils.py_dataset import PyDataset
from lamina.utils import io_utils

LABEL_MODES = ("int", "categorical", "binary", None)


# ---- indexing --------------------------------------------------------------------------------------------


def _walk_files(directory, formats, follow_links):
    """Paths of the files under ``directory`` whose name ends with one of ``formats``, in sorted order."""
    found = []
    for root, dirs, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda w: w[0]):
        for fname in sorted(files):
            if fname.lower().endswith(formats):
                found.append(os.path.join(root, fname))
    return found


def check_arguments(who, labels, label_mode, class_names, batch_size, shuffle, seed, validation_split, subset):
    """Validate the arguments the directory datasets share (Keras's rules); returns ``(labels, label_mode)``."""
    if isinstance(labels, np.ndarray):
        labels = labels.tolist()
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple, np.ndarray)):
        raise ValueError(f"{who}: `labels` must be 'inferred', None, or a list/tuple of integer labels (one per "
                         f"file, in the sorted order of the file paths), but received labels={labels!r}. Pass "
                         "labels=None for a dataset of samples only.")
    if label_mode not in LABEL_MODES:
        raise ValueError(f"{who}: `label_mode` must be one of {list(LABEL_MODES)}, but received "
                         f"label_mode={label_mode!r}.")
    if class_names is not None and not isinstance(labels, str):
        raise ValueError(f"{who}: `class_names` can only be passed with labels='inferred' (it selects and orders "
                         f"the class sub-folders), but received labels={labels!r}.")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                   or batch_size < 1):
        raise ValueError(f"{who}: `batch_size` must be a positive int or None, but received batch_size={batch_size!r}.")
    if validation_split is not None:
        if isinstance(validation_split, bool) or not isinstance(validation_split, (float, int)) or \
                not 0 < validation_split < 1:
            raise ValueError(f"{who}: `validation_split` must be a float between 0 and 1, but received "
                             f"validation_split={validation_split!r}.")
    if subset not in (None, "training", "validation", "both"):
        raise ValueError(f"{who}: `subset` must be 'training', 'validation', 'both' or None, but received "
                         f"subset={subset!r}.")
    if validation_split and subset is None:
        raise ValueError(f"{who}: validation_split={validation_split} needs `subset` ('training', 'validation' "
                         "or 'both') to say which part to return.")
    if subset is not None and not validation_split:
        raise ValueError(f"{who}: subset={subset!r} needs `validation_split` (a float between 0 and 1).")
    if validation_split and shuffle and seed is None:
        raise ValueError(f"{who}: with validation_split and shuffle=True, pass a `seed` (the same for the "
                         "training and the validation call) so the two subsets do not overlap.")
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None, follow_links=False,
                    who="index_directory", kind="files", verbose=True):
    """``(file_paths, labels, class_names)`` of the files under ``directory``.

    With ``labels="inferred"`` each sub-folder (not starting with ``.``) is a class, in alphanumeric order or
    in the order of ``class_names``; its files (searched recursively) get its index as label. Otherwise the
    whole tree is listed, and ``labels`` (a list) gives one label per file in sorted path order.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"{who}: the directory '{directory}' does not exist or is not a directory.")
    if isinstance(labels, str) and labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if not d.startswith(".") and os.path.isdir(os.path.join(directory, d))]
        if class_names is not None:
            class_names = [str(c) for c in class_names]
            if not set(class_names) <= set(subdirs) or len(set(class_names)) != len(class_names):
                raise ValueError(f"{who}: `class_names` must name sub-folders of '{directory}' (each once). "
                                 f"Expected {subdirs} (or a subset of it), but received class_names={class_names}.")
            subdirs = class_names
        paths, label_list = [], []
        for i, sub in enumerate(subdirs):
            found = _walk_files(os.path.join(directory, sub), formats, follow_links)
            paths.extend(found)
            label_list.extend([i] * len(found))
        class_names = list(subdirs)
        label_array = np.asarray(label_list, dtype="int32")
    else:
        paths = _walk_files(directory, formats, follow_links)
        label_array = None
        if labels is not None:
            label_array = np.asarray(labels)
            if label_array.ndim != 1 or (label_array.size and label_array.dtype.kind not in "iu"):
                raise ValueError(f"{who}: `labels` must be a flat list of integer labels, but received an array of "
                                 f"shape {label_array.shape} and dtype {label_array.dtype}.")
            if len(label_array) != len(paths):
                raise ValueError(f"{who}: `labels` must have one label per file, but len(labels)={len(label_array)}"
                                 f" while {len(paths)} {kind} were found in '{directory}'.")
            if label_array.size and label_array.min() < 0:
                raise ValueError(f"{who}: `labels` must be >= 0, but received {int(label_array.min())}.")
            label_array = label_array.astype("int32")
            class_names = [str(c) for c in sorted(set(label_array.tolist()))]  # as Keras: the labels seen, as text
    if verbose:
        if isinstance(labels, str) and labels == "inferred":
            io_utils.print_msg(f"Found {len(paths)} files belonging to {len(class_names)} classes.")
        else:
            io_utils.print_msg(f"Found {len(paths)} files.")
    paths = np.asarray(paths, dtype=object)
    if shuffle and len(paths):
        rng = np.random.RandomState(seed if seed is not None else np.random.randint(1_000_000))
        order = rng.permutation(len(paths))
        paths = paths[order]
        label_array = None if label_array is None else label_array[order]
    return paths, label_array, class_names


def split_subset(paths, labels, validation_split, subset, verbose=True):
    """The ``(paths, labels)`` of ``subset`` ("training" or "validation"): the validation part is the last
    ``int(validation_split * n)`` files of the (shuffled) listing."""
    if not validation_split:
        return paths, labels
    num_val = int(validation_split * len(paths))
    cut = len(paths) - num_val
    part = slice(0, cut) if subset == "training" else slice(cut, len(paths))
    paths = paths[part]
    labels = None if labels is None else labels[part]
    if verbose:
        io_utils.print_msg(f"Using {len(paths)} files for {subset}.")
    return paths, labels


def encode_labels(labels, label_mode, num_classes):
    if label_mode == "int":
        return labels.astype("int32")
    if label_mode == "binary":
        return labels.astype("float32").reshape(-1, 1)
    out = np.zeros((len(labels), num_classes), dtype="float32")
    out[np.arange(len(labels)), labels] = 1.0
    return out


# ---- datasets --------------------------------------------------------------------------------------------


class BatchDataset(PyDataset):
    """A ``PyDataset`` with ``map``, ``cache`` and ``take`` (each returns a new dataset)."""

    class_names = None
    file_paths = None
    # A stand-in for Keras's tf.data.Dataset, whose batch order fit keeps (shuffle= is for arrays and
    # PyDatasets); the dataset shuffles itself when made with shuffle=True.
    _lamina_keeps_batch_order = True

    def map(self, fn, num_parallel_calls=None, deterministic=None):
        """A dataset whose batches are ``fn(*batch)`` (``fn(batch)`` when a batch is not a tuple), e.g.
        ``ds.map(lambda x, y: (vectorize(x), y))``. ``fn`` runs each time a batch is read.
        ``num_parallel_calls``/``deterministic`` (``tf.data``'s) are accepted and change nothing: ``fit``
        reads batches on its own worker threads (``workers=``)."""
        if not callable(fn):
            raise TypeError(f"{type(self).__name__}.map expected a callable, but received {fn!r}.")
        return MappedDataset(self, fn)

    def cache(self):
        """A dataset that keeps each batch the first time it is read and returns it again afterwards (so
        the first epoch's order and ``map`` results are reused, as ``tf.data``'s ``cache()``)."""
        return CachedDataset(self)

    def prefetch(self, buffer_size=None):
        """This dataset (``tf.data``'s ``prefetch``, as tutorials call it: ``fit`` already reads the next
        batches ahead on a thread of its own, so there is nothing to add)."""
        return self

    def cardinality(self):
        """The number of batches (an int; ``.numpy()`` gives it too, as on ``tf.data``'s tensor)."""
        return _Count(len(self))

    def take(self, count):
        """A dataset of the first ``count`` batches."""
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)):
            raise ValueError(f"{type(self).__name__}.take expected an int count, but received {count!r}.")
        return TakeDataset(self, int(count))

    def __iter__(self):
        """The batches, as ``tf.data`` gives them to a Python loop: arrays with ``.numpy()`` (the tutorials'
        ``images[i].numpy().astype("uint8")``). ``fit`` reads batches by index, as plain NumPy arrays."""
        for batch in super().__iter__():
            yield _eager(batch)

    def _index(self, index):
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"{type(self).__name__} index {index} out of range for {n} batches.")
        return index


class EagerArray(np.ndarray):
    """A NumPy array with ``numpy()`` (a ``tf.Tensor``'s), for code written against ``tf.data`` batches; a
    single element taken from it is one too (a 0-d array), so ``labels[i].numpy()`` works as well.

    Example:
    >>> import numpy as np, lamina
    >>> ds = lamina.utils.timeseries_dataset_from_array(np.arange(6), None, sequence_length=3, batch_size=4)
    >>> batch = next(iter(ds))
    >>> batch.numpy().tolist(), int(batch[0][0].numpy())
    ([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], 0)
    """

    def numpy(self):
        return np.asarray(self)

    def __getitem__(self, index):
        out = super().__getitem__(index)
        return np.asarray(out).view(EagerArray) if isinstance(out, np.generic) else out


def _eager(batch):
    if isinstance(batch, np.ndarray):
        return batch.view(EagerArray)
    if isinstance(batch, tuple):
        return tuple(_eager(b) for b in batch)
    if isinstance(batch, list):
        return [_eager(b) for b in batch]
    if isinstance(batch, dict):
        return {k: _eager(v) for k, v in batch.items()}
    return batch


class _Count(int):
    """An int with ``numpy()``, for code written against ``tf.data``'s ``cardinality()`` tensor."""

    def numpy(self):
        return int(self)


class _Derived(BatchDataset):
    def __init__(self, source):
        super().__init__(workers=source.workers, use_multiprocessing=source.use_multiprocessing,
                         max_queue_size=source.max_queue_size)
        self.source = source
        self.class_names = source.class_names
        self.file_paths = source.file_paths

    def __len__(self):
        return len(self.source)

    def on_epoch_begin(self):
        self.source.on_epoch_begin()

    def on_epoch_end(self):
        self.source.on_epoch_end()


class MappedDataset(_Derived):
    """The batches of ``source`` transformed by ``fn`` (see ``BatchDataset.map``)."""

    def __init__(self, source, fn):
        super().__init__(source)
        self.fn = fn

    def __getitem__(self, index):
        batch = self.source[self._index(index)]
        return self.fn(*batch) if isinstance(batch, tuple) else self.fn(batch)


class CachedDataset(_Derived):
    """The batches of ``source``, each kept after it is first read (see ``BatchDataset.cache``)."""

    def __init__(self, source):
        super().__init__(source)
        self._store = {}

    def __getitem__(self, index):
        index = self._index(index)
        if index not in self._store:
            self._store[index] = self.source[index]
        return self._store[index]

    def on_epoch_end(self):
        if len(self._store) < len(self):  # keep the source's order until every batch is stored
            self.source.on_epoch_end()


class TakeDataset(_Derived):
    """The first ``count`` batches of ``source``."""

    def __init__(self, source, count):
        super().__init__(source)
        self.count = max(0, min(count, len(source)) if count >= 0 else len(source))

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        return self.source[self._index(index)]


class FileDataset(BatchDataset):
    """Batches of samples loaded from files: item ``i`` is ``(x, y)`` (``x`` alone without labels).

    ``load(path)`` reads one sample; ``collate(list)`` stacks a batch. With ``shuffle=True`` the order of
    the samples changes every epoch (drawn from ``seed``); ``batch_size=None`` gives single samples.
    """

    def __init__(self, file_paths, labels, label_mode, class_names, load, collate, batch_size=32, shuffle=True,
                 seed=None, num_classes=None):
        super().__init__()
        self.file_paths = [str(p) for p in file_paths]
        self.labels = labels
        self.label_mode = label_mode if labels is not None else None
        self.class_names = class_names
        self.num_classes = num_classes
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self._load, self._collate = load, collate
        self._rng = np.random.default_rng(seed if seed is not None else np.random.randint(1 << 31))
        self._order = np.arange(len(self.file_paths))
        if self.shuffle:
            self._order = self._rng.permutation(len(self.file_paths))

    def __len__(self):
        n = len(self.file_paths)
        return n if self.batch_size is None else math.ceil(n / self.batch_size)

    def __getitem__(self, index):
        index = self._index(index)
        if self.batch_size is None:
            picks = self._order[index:index + 1]
        else:
            picks = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        x = self._collate([self._load(self.file_paths[i]) for i in picks])
        if self.label_mode is None:
            return x[0] if self.batch_size is None else x
        y = encode_labels(self.labels[picks], self.label_mode, self.num_classes)
        if self.batch_size is None:
            return x[0], y[0]
        return x, y

    def on_epoch_end(self):
        if self.shuffle:
            self._order = self._rng.permutation(len(self.file_paths))


def make_datasets(who, directory, labels, label_mode, class_names, formats, kind, batch_size, shuffle, seed,
                  validation_split, subset, follow_links, verbose, load, collate):
    """Index ``directory`` and build the ``FileDataset`` (or the (training, validation) pair for "both")."""
    labels, label_mode = check_arguments(who, labels, label_mode, class_names, batch_size, shuffle, seed,
                                         validation_split, subset)
    if seed is None and shuffle:
        seed = int(np.random.randint(1_000_000))
    paths, label_array, class_names = index_directory(directory, labels, formats, class_names, shuffle, seed,
                                                      follow_links, who, kind, verbose)
    if labels is None and label_array is None:
        label_mode = None
    if not len(paths):
        raise ValueError(f"{who}: no {kind} found in directory '{directory}'. Allowed formats: {formats}.")
    # class names given or inferred from folders: one class each; a list of labels: classes 0..max
    num_classes = len(class_names) if class_names is not None and isinstance(labels, str) else (
        int(label_array.max()) + 1 if label_array is not None and label_array.size else
        (len(class_names) if class_names is not None else None))
    if label_mode == "binary" and num_classes != 2:
        raise ValueError(f"{who}: label_mode='binary' needs exactly 2 classes, but found {num_classes}"
                         + (f": class_names={class_names}" if class_names is not None else "")
                         + ". Use label_mode='int' or 'categorical'.")
    if isinstance(labels, str) and labels == "inferred" and label_mode is not None and class_names is not None \
            and not class_names:
        raise ValueError(f"{who}: no class sub-folders found in '{directory}'.")

    def build(part):
        p, lab = split_subset(paths, label_array, validation_split, part, verbose)
        if not len(p):
            raise ValueError(f"{who}: the {part} subset is empty ({len(paths)} {kind}, validation_split="
                             f"{validation_split}).")
        return FileDataset(p, lab, label_mode, class_names, load, collate, batch_size, shuffle, seed, num_classes)

    if subset == "both":
        return build("training"), build("validation")
    return build(subset)
