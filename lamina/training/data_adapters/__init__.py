"""Data adapters: turn whatever ``fit``/``evaluate``/``predict`` receive into batches.

* arrays (NumPy, engine tensors, lists/dicts of them, pandas DataFrame/Series) -> ``ArrayData``,
  the fast path: placed on the device once and sliced there;
* ``lamina.utils.PyDataset`` -> ``PyDatasetData`` (batches fetched by worker threads/processes);
* Python generators and iterators -> ``GeneratorData``;
* ``torch.utils.data.DataLoader`` and any other iterable of batches -> ``IterableSourceData``.

Iterable sources are read on a background thread that places batches on the device
ahead of the step (``prefetch.Prefetcher``).
"""

import numpy as np

from lamina import backend, tree
from lamina.training.data import ArrayData
from lamina.training.data_adapters.batches import is_foreign_tensor, is_pandas
from lamina.training.data_adapters.iterable_data import (  # noqa: F401
    GeneratorData,
    IterableData,
    IterableSourceData,
    PyDatasetData,
)
from lamina.training.data_adapters.prefetch import Prefetcher  # noqa: F401
from lamina.utils.py_dataset import PyDataset

ACCEPTED = (
    "NumPy arrays or array-likes, engine tensors, lists/tuples/dicts of them, pandas DataFrame/Series, "
    "a lamina.utils.PyDataset, a Python generator or iterator of batches, a torch.utils.data.DataLoader, "
    "or another iterable of batches"
)


def _is_array_like(x):
    if x is None or isinstance(x, (np.ndarray, np.generic, int, float, bool)):
        return True
    if backend.is_tensor(x) or isinstance(x, backend.VariableBase) or is_pandas(x) or is_foreign_tensor(x):
        return True
    if _is_scipy_sparse(x):
        return True
    return hasattr(x, "__array__") or hasattr(x, "__array_interface__")


def _is_scipy_sparse(x):
    """A SciPy sparse matrix or array (``Input(sparse=True)`` data): arrays, made dense (lamina's tensors are)."""
    return hasattr(x, "toarray") and hasattr(x, "tocsr") and hasattr(x, "nnz")


def _array_structure(x, who, name):
    """``x`` with pandas objects and foreign tensors turned into arrays; a TypeError for anything else."""
    def leaf(a):
        if is_pandas(a):
            return a.to_numpy()
        if is_foreign_tensor(a):
            return a.detach().cpu().numpy()
        if _is_scipy_sparse(a):
            return a.toarray()
        if not _is_array_like(a) and not isinstance(a, (list, tuple)):
            raise TypeError(
                f"{who}: unsupported type for `{name}`: received {type(a).__module__}.{type(a).__name__}. "
                f"Accepted: {ACCEPTED}."
            )
        return a

    if isinstance(x, list) and x and all(isinstance(e, (int, float, bool, np.generic)) for e in x):
        return np.asarray(x)
    if isinstance(x, list) and x and all(isinstance(e, list) for e in x) and \
            all(isinstance(e, (int, float, bool, np.generic)) for e in tree.flatten(x)):
        try:  # nested Python lists of numbers (``predict([[1.0, 2.0, 3.0]])``): one array, as NumPy reads it
            return np.asarray(x)
        except ValueError:
            pass
    return tree.map_structure(leaf, x)


def is_iterable_source(x):
    """True for data that comes batch by batch rather than as arrays."""
    if isinstance(x, (IterableData, PyDataset)):
        return True
    if isinstance(x, (str, bytes, dict, list, tuple, np.ndarray)) or _is_array_like(x):
        return False
    return hasattr(x, "__next__") or hasattr(x, "__iter__")


def get_data_adapter(x, y=None, sample_weight=None, batch_size=None, shuffle=False, who="fit",
                     class_weight=None):
    """The adapter for ``x``: ``ArrayData`` (arrays) or an ``IterableData`` (batches one by one)."""
    if isinstance(x, (ArrayData, IterableData)):
        return x
    if x is None:
        raise ValueError(f"{who}: `x` is required, but received x=None.")
    if is_iterable_source(x):
        kind = type(x).__name__
        if y is not None:
            raise ValueError(
                f"{who}: `y` must not be given when `x` is a {kind} (received y of type {type(y).__name__}): "
                "the targets come from the batches it yields, as (x, y) or (x, y, sample_weight)."
            )
        if sample_weight is not None:
            raise ValueError(
                f"{who}: `sample_weight` must not be given when `x` is a {kind}: yield the weights "
                "in each batch, as (x, y, sample_weight)."
            )
        if isinstance(x, PyDataset):
            return PyDatasetData(x, who, class_weight)
        if hasattr(x, "__next__"):
            return GeneratorData(x, who, class_weight)
        return IterableSourceData(x, who, class_weight)
    if not isinstance(x, (dict, list, tuple)) and not _is_array_like(x):
        raise TypeError(
            f"{who}: unsupported type for `x`: received {type(x).__module__}.{type(x).__name__}. "
            f"Accepted: {ACCEPTED}."
        )
    x = _array_structure(x, who, "x")
    y = None if y is None else _array_structure(y, who, "y")
    sample_weight = None if sample_weight is None else _array_structure(sample_weight, who, "sample_weight")
    data = ArrayData(x, y, sample_weight, batch_size, shuffle, who=who)
    if class_weight is not None:
        from lamina.training.loop_utils import class_weights_to_sample_weights

        data.sample_weight = class_weights_to_sample_weights(data.y, class_weight, data.sample_weight)
    return data


def get_validation_adapter(validation_data, batch_size):
    """``validation_data``: a tuple ``(x, y[, sample_weight])`` (or ``(x,)``) of arrays, or any iterable source."""
    if isinstance(validation_data, (ArrayData, IterableData)):
        return validation_data
    if isinstance(validation_data, (list, tuple)):
        if len(validation_data) not in (1, 2, 3):
            raise ValueError(
                "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight) (or "
                "(x_val,) for a model without targets), "
                f"or a dataset/generator, but received a {type(validation_data).__name__} of length "
                f"{len(validation_data)}."
            )
        x = validation_data[0]
        y = validation_data[1] if len(validation_data) > 1 else None
        sw = validation_data[2] if len(validation_data) == 3 else None
        return get_data_adapter(x, y, sw, batch_size, False, who="fit(validation_data)")
    if is_iterable_source(validation_data):
        return get_data_adapter(validation_data, who="fit(validation_data)")
    raise ValueError(
        "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight), or a "
        f"dataset/generator ({ACCEPTED}), but received {type(validation_data).__name__}."
    )


def get_single_batch(x, y=None, sample_weight=None, who="train_on_batch", class_weight=None):
    """``train_on_batch``/``test_on_batch`` data: arrays (pandas included) forming exactly one batch."""
    if is_iterable_source(x):
        raise TypeError(
            f"{who} takes one batch of arrays (x, y, sample_weight), but received a {type(x).__name__}; "
            "use fit()/evaluate() for datasets and generators."
        )
    data = get_data_adapter(x, y, sample_weight, None, False, who, class_weight)
    data.batch_size = data.num_samples
    data.steps = 1
    return data
