"""NumPy helpers: ``to_categorical`` and ``normalize``."""

import numpy as np


def to_categorical(x, num_classes=None):
    """Turn integer class labels into one-hot rows.

    Args:
        x: integer labels: an array-like (NumPy array, list, tuple, number) or a backend tensor.
        num_classes: number of classes (default: ``max(x) + 1``).

    Returns:
        For array-like ``x``, a float64 NumPy array of shape ``x.shape + (num_classes,)``; for a tensor, a
        float32 tensor (``lamina.ops.one_hot``), as Keras 3. A trailing axis of size 1 in ``x`` is dropped
        first, as in Keras.

    Example:
    >>> from lamina.utils import to_categorical
    >>> y = to_categorical([0, 2], 3)
    >>> y.tolist(), y.dtype.name
    ([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], 'float64')
    """
    from lamina import backend

    tensor = backend.is_tensor(x)
    arr = np.asarray(backend.convert_to_numpy(x) if tensor else x)
    if arr.dtype.kind == "f":
        if not np.all(np.mod(arr, 1) == 0):
            raise ValueError("to_categorical expected integer class labels, but received non-integer values.")
    elif arr.dtype.kind not in "iub":
        raise ValueError(f"to_categorical expected integer class labels, but received dtype {arr.dtype}.")
    arr = arr.astype("int64")
    if arr.ndim > 1 and arr.shape[-1] == 1:
        arr = arr.reshape(arr.shape[:-1])
    if arr.size and arr.min() < 0:
        raise ValueError(f"to_categorical expected non-negative labels, but the smallest label is {arr.min()}.")
    if not num_classes:  # None (or 0, as Keras): from the labels
        num_classes = int(arr.max()) + 1 if arr.size else 0
    elif arr.size and arr.max() >= num_classes:
        raise ValueError(
            f"to_categorical: label {int(arr.max())} is out of range for num_classes={num_classes} "
            f"(labels must be in [0, {num_classes - 1}])."
        )
    if tensor:
        from lamina import ops

        return ops.one_hot(ops.convert_to_tensor(arr, dtype="int32"), int(num_classes))
    out = np.zeros(arr.shape + (int(num_classes),), dtype="float64")
    np.put_along_axis(out, arr[..., None], 1.0, axis=-1)
    return out


def normalize(x, axis=-1, order=2):
    """Scale ``x`` to unit ``order``-norm along ``axis`` (zero rows stay zero).

    Example:
    >>> from lamina.utils import normalize
    >>> [round(float(v), 4) for v in normalize([[3.0, 4.0]])[0]]
    [0.6, 0.8]
    """
    x = np.asarray(x)
    x = x if x.dtype.kind == "f" else x.astype("float32")  # float64 stays float64, as in Keras
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)
