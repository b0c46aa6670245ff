"""Comparisons, logic, element-wise predicates, ``where`` and bitwise operations on JAX.

Same function names as ``backend/torch/numpy_logic.py``; re-exported by ``numpy.py``.
"""

import jax.numpy as jnp

from lamina.backend.jax._numpy_common import _binary, _pair, _unary
from lamina.backend.jax.core import convert_to_tensor

__all__ = [
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "isclose", "allclose", "isin",
    "logical_and", "logical_or", "logical_xor", "logical_not", "isnan", "isinf", "isfinite", "isneginf",
    "isposinf", "signbit", "where", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "bitwise_invert", "left_shift", "right_shift", "bitwise_left_shift", "bitwise_right_shift",
]


# ---- comparisons ------------------------------------------------------------

equal = _binary(jnp.equal)
not_equal = _binary(jnp.not_equal)
less = _binary(jnp.less)
less_equal = _binary(jnp.less_equal)
greater = _binary(jnp.greater)
greater_equal = _binary(jnp.greater_equal)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    x1, x2 = _pair(x1, x2)
    return jnp.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return jnp.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isin(x1, x2, assume_unique=False, invert=False):
    x1, x2 = _pair(x1, x2)
    return jnp.isin(x1, x2, assume_unique=assume_unique, invert=invert)


# ---- logic and predicates ---------------------------------------------------

def logical_and(x1, x2):
    return jnp.logical_and(convert_to_tensor(x1), convert_to_tensor(x2))


def logical_or(x1, x2):
    return jnp.logical_or(convert_to_tensor(x1), convert_to_tensor(x2))


def logical_xor(x1, x2):
    return jnp.logical_xor(convert_to_tensor(x1), convert_to_tensor(x2))


logical_not = _unary(jnp.logical_not)
isnan = _unary(jnp.isnan)
isinf = _unary(jnp.isinf)
isfinite = _unary(jnp.isfinite)
isneginf = _unary(jnp.isneginf)
isposinf = _unary(jnp.isposinf)


def signbit(x):
    x = convert_to_tensor(x)
    if x.dtype == jnp.bool_:
        return jnp.zeros_like(x)
    return jnp.signbit(x)


def where(condition, x1=None, x2=None):
    condition = convert_to_tensor(condition, "bool")
    if x1 is None and x2 is None:
        return jnp.nonzero(condition)
    x1, x2 = _pair(x1, x2)
    return jnp.where(condition, x1, x2)


# ---- bitwise operations -----------------------------------------------------

bitwise_and = _binary(jnp.bitwise_and)
bitwise_or = _binary(jnp.bitwise_or)
bitwise_xor = _binary(jnp.bitwise_xor)
bitwise_not = _unary(jnp.bitwise_not)
bitwise_invert = bitwise_not
left_shift = _binary(jnp.left_shift)
right_shift = _binary(jnp.right_shift)
bitwise_left_shift = left_shift
bitwise_right_shift = right_shift
