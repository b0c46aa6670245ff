"""The data ``FeatureSpace`` takes in (see ``lamina/utils/feature_space.py``): columns as NumPy arrays of each
feature's dtype, from a dict, a pandas DataFrame, or the batches of a dataset (for ``adapt``)."""

import numpy as np

from lamina import backend

WHO = "FeatureSpace"


def as_numpy(value):
    """A column as a NumPy array: pandas Series, lists, scalars, backend tensors."""
    if hasattr(value, "to_numpy") and not isinstance(value, np.ndarray):
        value = value.to_numpy()
    if backend.is_tensor(value):
        return backend.convert_to_numpy(value)
    return np.asarray(value)


def as_columns(data):
    """``data`` (a dict of columns or a pandas DataFrame) as a dict, else None."""
    if isinstance(data, dict):
        return data
    if hasattr(data, "columns") and hasattr(data, "to_numpy") and hasattr(data, "items"):  # a DataFrame
        return {str(k): v for k, v in data.items()}
    return None


def column(key, dtype, value, for_adapt=False):
    """Feature ``key``'s values as a NumPy array of rank >= 2 (``(n,)`` -> ``(n, 1)``, a scalar -> ``(1, 1)``)
    of its ``dtype`` ("string" gives ``str``; floats stay float64 ``for_adapt``, for exact statistics)."""
    from lamina.layers.preprocessing import _utils as u

    arr = as_numpy(value)
    if dtype == "string":
        if arr.size and not u.is_string_data(arr):
            raise ValueError(f"{WHO}: feature '{key}' holds strings (dtype 'string'), but received values of "
                             f"dtype {arr.dtype} (e.g. {arr.reshape(-1)[0]!r}).")
        arr = u.as_string_array(arr)
    else:
        if arr.dtype.kind == "O":  # e.g. a pandas column of Python numbers
            try:
                arr = arr.astype("float64")
            except (TypeError, ValueError):
                pass
        if arr.dtype.kind not in "iufb":
            raise ValueError(f"{WHO}: feature '{key}' is numeric (dtype '{dtype}'), but received values of dtype "
                             f"{arr.dtype} (e.g. {arr.reshape(-1)[0]!r}).")
        if backend.is_int_dtype(dtype) and arr.dtype.kind == "f" and (
                not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))):
            raise ValueError(f"{WHO}: feature '{key}' holds integers (dtype '{dtype}'), but received float values "
                             "that are not whole numbers (or NaN).")
        arr = arr.astype("float64" if for_adapt and backend.is_float_dtype(dtype) else dtype)
    if arr.ndim == 0:
        return arr.reshape(1, 1)
    return arr[:, None] if arr.ndim == 1 else arr


def adapt_columns(dataset, dtypes):
    """``{name: array}`` of the features named in ``dtypes`` (name -> dtype), gathered from ``dataset``: a
    dict of columns, a DataFrame, or an iterable (e.g. a ``PyDataset``) of such dicts or of ``(dict, labels)``
    tuples, batched or not."""
    who = f"{WHO}.adapt"
    cols = as_columns(dataset)
    if cols is not None:
        items = [cols]
    elif dataset is None or isinstance(dataset, (str, bytes, np.ndarray)) or \
            backend.is_tensor(dataset) or not hasattr(dataset, "__iter__"):
        raise ValueError(f"{who} expected a dict of feature columns (name -> array or list), a pandas DataFrame, "
                         "a lamina.utils.PyDataset or an iterable of such dicts (or of (dict, labels) tuples), but "
                         f"received {type(dataset).__name__}.")
    else:
        items = dataset
    names = list(dtypes)
    parts, count = {key: [] for key in names}, 0
    for i, item in enumerate(items):
        x = item
        if isinstance(item, (tuple, list)) and item and as_columns(item[0]) is not None:
            x = item[0]  # (features, labels[, sample_weight])
        x = as_columns(x)
        if x is None:
            raise ValueError(f"{who}: every item of the dataset must be a dict of feature columns (or a (dict, "
                             f"labels) tuple), but item {i} is a {type(item).__name__}.")
        missing = [key for key in names if key not in x]
        if missing:
            raise ValueError(f"{who}: the data lacks the feature(s) {missing} that must be adapted (expected the "
                             f"keys {names}, received {sorted(str(k) for k in x)}).")
        for key in names:
            parts[key].append(column(key, dtypes[key], x[key], for_adapt=True))
        count += 1
        if not names:
            break
    if count == 0:
        raise ValueError(f"{who} received an empty dataset: there is nothing to adapt on.")
    return {key: np.concatenate(parts[key], axis=0) for key in names}
