"""Helpers shared by the preprocessing layers: argument checks, host data, encodings, a stable hash."""

import numpy as np

from lamina import backend, ops
from lamina.backend.common.keras_tensor import KerasTensor

ENCODING_MODES = ("one_hot", "multi_hot", "count")


def who(layer):
    return f"Layer '{layer.name}' ({type(layer).__name__})"


def check_choice(layer, arg, value, allowed):
    if value not in allowed:
        raise ValueError(f"{who(layer)}: {arg} must be one of {list(allowed)}, but received {arg}={value!r}.")
    return value


def check_positive_int(layer, arg, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{who(layer)}: {arg} must be a positive int, but received {arg}={value!r}.")
    return int(value)


def check_not_sparse(layer, sparse):
    if sparse:
        raise ValueError(f"{who(layer)}: sparse=True is not supported (lamina's engines have no sparse "
                         "tensors in this layer); use the default sparse=False to get a dense output.")


def is_symbolic(x):
    return isinstance(x, KerasTensor)


def to_numpy(x):
    """Concrete data (array, list, tensor) as a NumPy array."""
    if backend.is_tensor(x) or isinstance(x, backend.VariableBase):
        return backend.convert_to_numpy(x)
    return np.asarray(x)


def iterate_batches(layer, data, steps=None):
    """Yield the batches of ``data`` (an array, a tensor, a list of arrays or an iterable of batches) as
    NumPy arrays."""
    if data is None:
        raise ValueError(f"{who(layer)}: adapt() needs data, but received None.")
    batch_list = isinstance(data, (list, tuple)) and data and all(
        isinstance(b, np.ndarray) or backend.is_tensor(b) for b in data)
    if not batch_list and (isinstance(data, (np.ndarray, list, tuple)) or backend.is_tensor(data)):
        yield to_numpy(data)
        return
    if is_symbolic(data):
        raise ValueError(f"{who(layer)}: adapt() needs concrete data (an array or an iterable of batches), "
                         f"but received a symbolic tensor {data}.")
    try:
        iterator = iter(data)
    except TypeError:
        raise TypeError(f"{who(layer)}: adapt() expected an array, a tensor or an iterable of batches, but "
                        f"received {type(data).__name__}.") from None
    for i, batch in enumerate(iterator):
        if steps is not None and i >= steps:
            break
        if isinstance(batch, tuple) and len(batch) in (2, 3) and not isinstance(batch[0], (int, float, str)):
            batch = batch[0]  # (x, y[, sample_weight]) from a dataset: adapt on the features
        yield to_numpy(batch)


def encode_categorical(indices, output_mode, depth, dtype, count_weights=None, idf_weights=None):
    """Encode int ``indices`` (rank 0, 1 or 2) as one_hot / multi_hot / count / tf_idf vectors of ``depth``.

    Rank-2 inputs ``(batch, k)`` give ``(batch, depth)`` for multi_hot/count/tf_idf; one_hot gives
    ``(batch, depth)`` when ``k == 1`` and ``(batch, k, depth)`` otherwise. Negative or out-of-range
    indices encode as all zeros.
    """
    if output_mode == "int":
        return ops.cast(indices, dtype)
    if len(indices.shape) == 0:
        indices = ops.expand_dims(indices, -1)
    if output_mode == "one_hot":
        if len(indices.shape) > 1 and indices.shape[-1] == 1:
            indices = ops.squeeze(indices, -1)
        return ops.one_hot(indices, depth, dtype=dtype)
    reduce_axis = 1 if len(indices.shape) > 1 else 0
    hot = ops.one_hot(indices, depth, dtype=dtype)
    if output_mode == "multi_hot":
        return ops.max(hot, axis=reduce_axis)
    if count_weights is not None:
        hot = hot * ops.expand_dims(ops.cast(count_weights, dtype), -1)
    counts = ops.sum(hot, axis=reduce_axis)
    if output_mode == "tf_idf":
        counts = counts * ops.cast(idf_weights, dtype)
    return counts


def encoded_shape(input_shape, output_mode, depth):
    """The shape ``encode_categorical`` gives for ``input_shape``."""
    input_shape = tuple(input_shape)
    if output_mode == "int":
        return input_shape
    if not input_shape:
        return (depth,)
    if output_mode == "one_hot":
        if len(input_shape) > 1 and input_shape[-1] == 1:
            input_shape = input_shape[:-1]
        return input_shape + (depth,)
    return (input_shape[0], depth) if len(input_shape) > 1 else (depth,)


def check_encoding_rank(layer, shape, output_mode):
    if output_mode != "int" and len(shape) > 2:
        raise ValueError(f"{who(layer)}: with output_mode='{output_mode}' the input must have rank 1 or 2 "
                         f"(batch, [tokens]), but received shape {tuple(shape)}. Use output_mode='int' or "
                         "reshape the input.")


# ---- a stable 64-bit hash ---------------------------------------------------------------------------
# Integers: the splitmix64 finalizer of (x XOR key); strings: FNV-1a 64 of the UTF-8 bytes, then the
# same finalizer. All arithmetic is modulo 2**64 on int64 values, so NumPy, PyTorch and JAX agree bit for
# bit and the result does not depend on the process (unlike Python's hash()).

_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1


def _signed(v):
    v &= _MASK64
    return v - (1 << 64) if v >= 1 << 63 else v


def salt_key(salt):
    """Fold ``salt`` (None, an int or a pair of ints) into one signed 64-bit key."""
    if salt is None:
        return 0
    parts = [salt] if isinstance(salt, (int, np.integer)) else list(salt)
    key = 0
    for p in parts:
        key = _py_mix((key ^ (int(p) & _MASK64)) + _GOLDEN)
    return _signed(key)


def _py_mix(z):
    z &= _MASK64
    z = ((z ^ (z >> 30)) * _M1) & _MASK64
    z = ((z ^ (z >> 27)) * _M2) & _MASK64
    return z ^ (z >> 31)


def _rshift_logical(x, k):
    """Logical right shift of int64 tensor ``x`` by ``k`` bits."""
    return ops.bitwise_and(ops.right_shift(x, k), (1 << (64 - k)) - 1)


def hash_tensor(x, key=0):
    """Stable non-negative int64 hashes of an int tensor (splitmix64's finalizer of the value mixed with
    ``key``), computed with lamina.ops (works inside compiled steps)."""
    z = ops.bitwise_xor(ops.cast(x, "int64"), ops.convert_to_tensor(_signed(key), "int64"))
    m1 = ops.convert_to_tensor(_signed(_M1), "int64")
    m2 = ops.convert_to_tensor(_signed(_M2), "int64")
    z = ops.multiply(ops.bitwise_xor(z, _rshift_logical(z, 30)), m1)
    z = ops.multiply(ops.bitwise_xor(z, _rshift_logical(z, 27)), m2)
    z = ops.bitwise_xor(z, _rshift_logical(z, 31))
    return ops.bitwise_and(z, (1 << 63) - 1)


def listify(value):
    """Arrays and tuples as JSON-friendly lists (None stays None)."""
    if value is None:
        return None
    if isinstance(value, (np.ndarray, np.generic)) or backend.is_tensor(value):
        return to_numpy(value).tolist()
    if isinstance(value, (list, tuple)):
        return [listify(v) for v in value]
    return value


def is_string_data(x):
    """True for NumPy arrays / (nested) lists / scalars of str or bytes (data that must stay on the host)."""
    if isinstance(x, (str, bytes)):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "USO" and (x.dtype.kind != "O" or x.size == 0 or
                                          isinstance(x.reshape(-1)[0], (str, bytes)))
    if isinstance(x, (list, tuple)):
        for v in x:
            if isinstance(v, (list, tuple)):
                if is_string_data(v):
                    return True
                continue
            return isinstance(v, (str, bytes))
    return False


def as_string_array(x):
    """String data as a NumPy array of ``str`` (bytes decoded as UTF-8)."""
    arr = np.asarray(x, dtype=object)
    if arr.size and any(isinstance(v, bytes) for v in arr.reshape(-1)):
        arr = np.vectorize(lambda v: v.decode("utf-8") if isinstance(v, bytes) else v, otypes=[object])(arr)
    return arr.astype(str)


def symbolic_string_error(layer, x, what="string"):
    hint = ("Inside a model, call it directly on a string Input (`lamina.Input(shape=(1,), dtype=\"string\")`), "
            "which the model runs on the host; or apply" if what == "string" else "Apply")
    return ValueError(
        f"{who(layer)} received a symbolic tensor {x} inside a model, but it works on {what} data, which "
        f"lamina's engines (PyTorch, JAX) cannot hold as tensors. {hint} the layer to NumPy arrays in your "
        "input pipeline instead (e.g. `x_ids = layer(np.array(texts))` before `model.fit(x_ids, ...)`, or "
        "in a PyDataset's __getitem__), and give the model the integer outputs.")
