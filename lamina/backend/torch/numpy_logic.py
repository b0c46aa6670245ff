"""Comparisons, logic, element-wise predicates, ``where`` and bitwise operations on PyTorch.

Same function names as ``backend/jax/numpy_logic.py``; re-exported by ``numpy.py``.
"""

import torch

from lamina.backend.torch._numpy_common import _pair
from lamina.backend.torch.core import convert_to_tensor

__all__ = [
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "isclose", "allclose", "isin",
    "logical_and", "logical_or", "logical_xor", "logical_not", "isnan", "isinf", "isfinite", "isneginf",
    "isposinf", "signbit", "where", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "bitwise_invert", "left_shift", "right_shift", "bitwise_left_shift", "bitwise_right_shift",
]


# ---- comparisons ------------------------------------------------------------

def equal(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.eq(x1, x2)


def not_equal(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.ne(x1, x2)


def less(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.lt(x1, x2)


def less_equal(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.le(x1, x2)


def greater(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.gt(x1, x2)


def greater_equal(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.ge(x1, x2)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    x1, x2 = _pair(x1, x2)
    return torch.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return torch.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isin(x1, x2, assume_unique=False, invert=False):
    x1, x2 = _pair(x1, x2)
    return torch.isin(x1, x2, assume_unique=assume_unique, invert=invert)


# ---- logic and predicates ---------------------------------------------------

def logical_and(x1, x2):
    return torch.logical_and(convert_to_tensor(x1), convert_to_tensor(x2))


def logical_or(x1, x2):
    return torch.logical_or(convert_to_tensor(x1), convert_to_tensor(x2))


def logical_xor(x1, x2):
    return torch.logical_xor(convert_to_tensor(x1), convert_to_tensor(x2))


def logical_not(x):
    return torch.logical_not(convert_to_tensor(x))


def isnan(x):
    return torch.isnan(convert_to_tensor(x))


def isinf(x):
    return torch.isinf(convert_to_tensor(x))


def isfinite(x):
    return torch.isfinite(convert_to_tensor(x))


def isneginf(x):
    return torch.isneginf(convert_to_tensor(x))


def isposinf(x):
    return torch.isposinf(convert_to_tensor(x))


def signbit(x):
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        return torch.zeros_like(x)
    return torch.signbit(x)


def where(condition, x1=None, x2=None):
    condition = convert_to_tensor(condition, "bool")
    if x1 is None and x2 is None:
        return tuple(torch.nonzero(condition, as_tuple=True))
    x1, x2 = _pair(x1, x2)
    return torch.where(condition, x1, x2)


# ---- bitwise operations -----------------------------------------------------

def bitwise_and(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.bitwise_and(x1, x2)


def bitwise_or(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.bitwise_or(x1, x2)


def bitwise_xor(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.bitwise_xor(x1, x2)


def bitwise_not(x):
    return torch.bitwise_not(convert_to_tensor(x))


bitwise_invert = bitwise_not


def left_shift(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.bitwise_left_shift(x1, x2)


def right_shift(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.bitwise_right_shift(x1, x2)


bitwise_left_shift = left_shift
bitwise_right_shift = right_shift
