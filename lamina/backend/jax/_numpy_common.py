"""Private helpers shared by the ``numpy_*`` modules of the JAX backend."""

import sys

import jax
import jax.numpy as jnp

from lamina.backend.common.dtypes import result_type
from lamina.backend.jax.core import convert_to_tensor, dtype_name, to_engine_dtype


def _dt(x):
    if isinstance(x, (bool, int, float)):
        return type(x)
    return dtype_name(x)


def _pair(x1, x2):
    if isinstance(x1, jax.Array) and isinstance(x2, jax.Array) and x1.dtype == x2.dtype:
        return x1, x2
    dtype = result_type(_dt(x1), _dt(x2))
    return convert_to_tensor(x1, dtype), convert_to_tensor(x2, dtype)


def _float(x):
    x = convert_to_tensor(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(to_engine_dtype(None))
    return x


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _caller_module():
    """The module that called an op factory: the op it builds belongs there, as if written there."""
    return sys._getframe(2).f_globals["__name__"]


def _binary(fn):
    def f(x1, x2):
        x1, x2 = _pair(x1, x2)
        return fn(x1, x2)
    f.__name__ = fn.__name__
    f.__module__ = _caller_module()
    return f


def _unary_float(fn):
    def f(x):
        return fn(_float(x))
    f.__name__ = fn.__name__
    f.__module__ = _caller_module()
    return f


def _unary(fn):
    def f(x):
        return fn(convert_to_tensor(x))
    f.__name__ = fn.__name__
    f.__module__ = _caller_module()
    return f
