"""Keras 2-era ``K.*`` functions that tutorials still call.

The config functions (``epsilon``, ``floatx``, ...) are current Keras API. The
tensor functions (``K.dot``, ``K.set_value`` ...) were removed in Keras 3; lamina
keeps them working and warns once, naming the modern form.

Example:
>>> from lamina import backend as K
>>> K.epsilon()
1e-07
"""

import warnings

from lamina.config import (  # noqa: F401
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)

_WARNED = set()


def _deprecated(old, new):
    if old not in _WARNED:
        _WARNED.add(old)
        warnings.warn(
            f"`K.{old}` is Keras 2 API; use `{new}` instead.", DeprecationWarning, stacklevel=3
        )


def set_value(x, value):
    """Assign ``value`` to the variable ``x`` (Keras 2; use ``x.assign(value)``)."""
    _deprecated("set_value", "variable.assign(value)")
    if not hasattr(x, "assign"):
        raise TypeError(
            f"K.set_value expected a lamina Variable (e.g. optimizer.learning_rate), "
            f"but received {type(x).__name__}."
        )
    x.assign(value)


def get_value(x):
    """Return the value of ``x`` as NumPy (Keras 2; use ``lamina.ops.convert_to_numpy``)."""
    _deprecated("get_value", "lamina.ops.convert_to_numpy(x)")
    from lamina import ops

    return ops.convert_to_numpy(x)


def batch_get_value(xs):
    """Return the values of ``xs`` as NumPy arrays (Keras 2)."""
    return [get_value(x) for x in xs]


def batch_set_value(pairs):
    """Assign each ``(variable, value)`` pair (Keras 2)."""
    for x, v in pairs:
        set_value(x, v)


def _ops_alias(name, modern=None):
    def fn(*args, **kwargs):
        from lamina import ops

        _deprecated(name, f"lamina.ops.{modern or name}")
        return getattr(ops, modern or name)(*args, **kwargs)

    fn.__name__ = name
    fn.__doc__ = f"Keras 2 ``K.{name}``: same as ``lamina.ops.{modern or name}`` (warns once)."
    return fn


dot = _ops_alias("dot", "matmul")
batch_dot = _ops_alias("batch_dot", "matmul")
sum = _ops_alias("sum")  # noqa: A001
mean = _ops_alias("mean")
max = _ops_alias("max")  # noqa: A001
min = _ops_alias("min")  # noqa: A001
exp = _ops_alias("exp")
log = _ops_alias("log")
sqrt = _ops_alias("sqrt")
square = _ops_alias("square")
abs = _ops_alias("abs")  # noqa: A001
clip = _ops_alias("clip")
concatenate = _ops_alias("concatenate")
reshape = _ops_alias("reshape")
transpose = _ops_alias("transpose")
expand_dims = _ops_alias("expand_dims")
squeeze = _ops_alias("squeeze")
softmax = _ops_alias("softmax")
sigmoid = _ops_alias("sigmoid")
relu = _ops_alias("relu")
tanh = _ops_alias("tanh")
argmax = _ops_alias("argmax")
cast = _ops_alias("cast")
zeros = _ops_alias("zeros")
ones = _ops_alias("ones")
stack = _ops_alias("stack")
maximum = _ops_alias("maximum")
minimum = _ops_alias("minimum")
pow = _ops_alias("pow", "power")  # noqa: A001


def int_shape(x):
    """Return the shape of ``x`` as a tuple (Keras 2; use ``x.shape``)."""
    _deprecated("int_shape", "x.shape")
    return tuple(x.shape)


def ndim(x):
    """Return the rank of ``x`` (Keras 2; use ``len(x.shape)``)."""
    return len(x.shape)


def clear_session():
    """Reset lamina's global name counters (as ``lamina.utils.clear_session``)."""
    from lamina.utils.naming import reset_uids

    reset_uids()
