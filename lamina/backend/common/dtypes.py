"""Dtype names shared by both engines (strings such as ``"float32"``)."""

import numpy as np

FLOAT_TYPES = ("bfloat16", "float16", "float32", "float64")
INT_TYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
ALLOWED_DTYPES = FLOAT_TYPES + INT_TYPES + ("bool", "complex64", "complex128")

_ALIASES = {
    "float": "float32", "double": "float64", "half": "float16", "int": "int64",
    "long": "int64", "bool_": "bool", "boolean": "bool",
}


def standardize_dtype(dtype):
    """Return the canonical string name of ``dtype`` (None gives ``floatx()``).

    Accepts strings, NumPy dtypes and engine dtypes (``torch.float32``,
    ``jnp.float32``), by their names.

    Example:
    >>> from lamina.backend import standardize_dtype
    >>> standardize_dtype("float")
    'float32'
    """
    if dtype is None:
        from lamina import config

        return config.floatx()
    key = (type(dtype), dtype)
    try:
        return _STANDARD[key]  # (NumPy's dtype.name alone costs microseconds: this runs for every batch)
    except KeyError:
        name = _standard_name(dtype)
        _STANDARD[key] = name  # only valid dtypes reach here: a small set
        return name
    except TypeError:  # unhashable
        return _standard_name(dtype)


_STANDARD = {}


def _standard_name(dtype):
    if isinstance(dtype, str):
        name = dtype
    elif hasattr(dtype, "name") and isinstance(getattr(dtype, "name"), str):
        name = dtype.name  # numpy dtypes, jax/ml_dtypes
    elif isinstance(dtype, type) and issubclass(dtype, np.generic):
        name = np.dtype(dtype).name
    elif dtype is float:
        name = "float32"
    elif dtype is int:
        name = "int64"
    elif dtype is bool:
        name = "bool"
    else:
        name = str(dtype)
        if name.startswith("torch."):
            name = name[len("torch."):]
    name = _ALIASES.get(name, name)
    if name not in ALLOWED_DTYPES:
        if isinstance(dtype, np.dtype) and dtype.kind in "USO":
            raise ValueError(f"Unsupported dtype: {dtype!r} (text). lamina has no string tensors: keep strings as "
                             "NumPy arrays or lists - models with string inputs and the text preprocessing layers "
                             "take them as they are (e.g. model.predict({'name': np.array(['fixed'])})).")
        raise ValueError(f"Unsupported dtype: {dtype!r}. Expected one of {list(ALLOWED_DTYPES)}.")
    return name


def is_float_dtype(dtype):
    """Return True for float dtypes."""
    return standardize_dtype(dtype) in FLOAT_TYPES


def is_int_dtype(dtype):
    """Return True for integer dtypes (signed or unsigned)."""
    return standardize_dtype(dtype) in INT_TYPES


def result_type(*dtypes):
    """Return the dtype that NumPy-style promotion gives for ``dtypes``.

    Python scalars (``int``/``float``) are weak: they do not widen a tensor's dtype.

    Example:
    >>> from lamina.backend import result_type
    >>> result_type("float32", "int64")
    'float32'
    """
    strong = [standardize_dtype(d) for d in dtypes if d not in (int, float, bool)]
    if not strong:
        if float in dtypes:
            from lamina import config

            return config.floatx()
        return "int64" if int in dtypes else "bool"
    floats = [d for d in strong if d in FLOAT_TYPES]
    if floats and len(floats) < len(strong) and all(
        d in FLOAT_TYPES or d in INT_TYPES or d == "bool" for d in strong
    ):
        # int + float: keep the widest float (JAX/Keras convention, avoids float64).
        return max(floats, key=lambda d: (_FLOAT_BITS[d], d != "bfloat16"))
    if "bfloat16" in strong and set(strong) <= {"bfloat16", "float16"} and len(set(strong)) == 2:
        return "float32"
    names = tuple(d if d != "bfloat16" else "float16" for d in strong)
    out = _PROMOTED.get(names)
    if out is None:
        out = _PROMOTED[names] = np.result_type(*names).name
    if "bfloat16" in strong and out == "float16" and "float16" not in strong:
        return "bfloat16"
    if float in dtypes and out not in FLOAT_TYPES:
        from lamina import config

        return config.floatx()
    return out


_FLOAT_BITS = {"bfloat16": 16, "float16": 16, "float32": 32, "float64": 64}
# NumPy's promotion of dtype names, remembered: every pair up front, longer lists as they come. A dictionary
# read instead of np.result_type at each binary op (also something torch.compile can trace).
_PROMOTED = {(a, b): np.result_type(a, b).name for a in ALLOWED_DTYPES if a != "bfloat16"
             for b in ALLOWED_DTYPES if b != "bfloat16"}
_PROMOTED.update({(a,): np.dtype(a).name for a in ALLOWED_DTYPES if a != "bfloat16"})


def infer_dtype(x):
    """Return the dtype a value converts to: arrays keep theirs; Python floats and
    lists of them give ``floatx()``; Python ints give ``int32``."""
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, int):
        return "int32"
    if isinstance(x, float):
        return standardize_dtype(None)
    d = getattr(x, "dtype", None)
    if d is not None:
        return standardize_dtype(d)
    arr = np.asarray(x)
    if arr.dtype == object:
        raise ValueError(f"Cannot convert {type(x).__name__} of Python objects to a tensor: {x!r:.200}")
    if arr.dtype == np.float64:
        return standardize_dtype(None)
    if arr.dtype == np.int64 and arr.size and np.abs(arr).max() < 2**31:
        return "int32"
    return standardize_dtype(arr.dtype)
