"""Turn user data (arrays, lists and dicts of arrays, engine tensors) into batches."""

import math

import numpy as np

from lamina import backend, tree


def _to_array(x, who):
    if x is None:
        return None
    if backend.is_tensor(x):
        return x
    if isinstance(x, backend.VariableBase):
        return x.value
    if hasattr(x, "toarray") and hasattr(x, "tocsr") and hasattr(x, "nnz"):
        # a SciPy sparse matrix (Input(sparse=True), bag-of-words features): lamina's tensors are dense
        return _to_array(x.toarray(), who)
    arr = np.asarray(x)
    if arr.dtype == object:
        raise ValueError(
            f"{who}: could not turn the data into a numeric array (received a {type(x).__name__} "
            f"holding Python objects, e.g. ragged lists). Pad sequences to one length first "
            f"(lamina.utils.pad_sequences)."
        )
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    return arr


def _num_rows(struct):
    lengths = {int(a.shape[0]) for a in tree.flatten(struct) if a is not None and getattr(a, "ndim", 0) > 0}
    return lengths


class ArrayData:
    """In-memory data: ``x``, ``y`` and ``sample_weight`` structures of arrays with equal length.

    The fast path of the data adapters (``is_array``): placed on the device once, sliced there."""

    is_array = True
    source_name = "arrays"

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, shuffle=False, who="fit"):
        if x is None:
            raise ValueError(f"{who}: `x` is required, but received x=None.")
        self.x = tree.map_structure(lambda a: _to_array(a, who), x)
        self.y = tree.map_structure(lambda a: _to_array(a, who), y) if y is not None else None
        self.sample_weight = (tree.map_structure(lambda a: _to_array(a, who), sample_weight)
                              if sample_weight is not None else None)
        sizes = {}
        for name, s in (("x", self.x), ("y", self.y), ("sample_weight", self.sample_weight)):
            if s is not None:
                n = _num_rows(s)
                if len(n) > 1:
                    raise ValueError(f"{who}: the arrays in `{name}` have different numbers of samples: {sorted(n)}.")
                if n:
                    sizes[name] = n.pop()
        if len(set(sizes.values())) > 1:
            detail = ", ".join(f"{k} has {v}" for k, v in sizes.items())
            raise ValueError(
                f"{who}: x, y and sample_weight must have the same number of samples, but {detail}."
            )
        self.num_samples = sizes.get("x", 0)
        if self.num_samples == 0:
            raise ValueError(f"{who}: the data is empty (0 samples); there is nothing to train or evaluate on.")
        if batch_size is None:
            batch_size = 32
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"{who}: batch_size must be a positive integer, but received batch_size={batch_size!r}.")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.steps = math.ceil(self.num_samples / self.batch_size)

    def close(self):
        """Nothing to release (iterable adapters stop their workers here)."""

    def split(self, fraction):
        """Split off the last ``fraction`` of samples (before shuffling), as Keras's validation_split."""
        if not 0 < fraction < 1:
            raise ValueError(f"validation_split must be in (0, 1), but received {fraction}.")
        cut = int(self.num_samples * (1 - fraction))
        if cut == 0 or cut == self.num_samples:
            raise ValueError(
                f"validation_split={fraction} leaves no samples for training or validation "
                f"({self.num_samples} samples in all)."
            )
        take = lambda s, a, b: tree.map_structure(lambda v: v[a:b] if v is not None else None, s) if s is not None else None
        train = ArrayData.__new__(ArrayData)
        val = ArrayData.__new__(ArrayData)
        for obj, (a, b) in ((train, (0, cut)), (val, (cut, self.num_samples))):
            obj.x, obj.y, obj.sample_weight = take(self.x, a, b), take(self.y, a, b), take(self.sample_weight, a, b)
            obj.num_samples = b - a
            obj.batch_size = self.batch_size
            obj.shuffle = self.shuffle
            obj.steps = math.ceil(obj.num_samples / obj.batch_size)
        return train, val
