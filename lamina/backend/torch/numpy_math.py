"""Element-wise arithmetic, exponentials, logarithms, trigonometry, rounding, special functions on PyTorch.

Same function names as ``backend/jax/numpy_math.py``; re-exported by ``numpy.py``.
"""

import torch

from lamina.backend.torch._numpy_common import _float, _pair
from lamina.backend.torch.core import convert_to_tensor, to_engine_dtype

__all__ = [
    "add", "subtract", "multiply", "divide", "true_divide", "divide_no_nan", "floor_divide", "mod", "fmod",
    "power", "negative", "abs", "absolute", "fabs", "sign", "square", "reciprocal", "maximum", "minimum",
    "fmax", "fmin", "clip", "gcd", "lcm", "heaviside", "sqrt", "rsqrt", "cbrt", "exp", "exp2", "expm1",
    "log", "log1p", "log2", "log10", "logaddexp", "logaddexp2", "sin", "cos", "tan", "arcsin", "arccos",
    "arctan", "arctan2", "hypot", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "deg2rad",
    "rad2deg", "sinc", "floor", "ceil", "round", "trunc", "erf", "erfinv", "conj", "conjugate", "real",
    "imag", "angle", "nan_to_num",
]


# ---- arithmetic -------------------------------------------------------------

def add(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.add(x1, x2)


def subtract(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.subtract(x1, x2)


def multiply(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.multiply(x1, x2)


def divide(x1, x2):
    x1, x2 = _pair(x1, x2)
    if not x1.is_floating_point():
        x1, x2 = _float(x1), _float(x2)
    return torch.divide(x1, x2)


true_divide = divide


def divide_no_nan(x1, x2):
    x1, x2 = _pair(x1, x2)
    x1, x2 = _float(x1), _float(x2)
    safe = torch.where(x2 == 0, torch.ones_like(x2), x2)
    return torch.where(x2 == 0, torch.zeros_like(x1 / safe), x1 / safe)


def floor_divide(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.floor_divide(x1, x2)


def mod(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.remainder(x1, x2)


def fmod(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.fmod(x1, x2)


def power(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.pow(x1, x2)


def negative(x):
    return torch.negative(convert_to_tensor(x))


def abs(x):  # noqa: A001
    x = convert_to_tensor(x)
    return x if x.dtype == torch.bool else torch.abs(x)  # booleans are their own absolute value (NumPy, Keras)


absolute = abs


def fabs(x):
    return torch.abs(_float(x))


def sign(x):
    return torch.sign(convert_to_tensor(x))


def square(x):
    x = convert_to_tensor(x)
    return x * x


def reciprocal(x):
    return torch.reciprocal(_float(x))


def maximum(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.maximum(x1, x2)


def minimum(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.minimum(x1, x2)


def fmax(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.fmax(x1, x2)


def fmin(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.fmin(x1, x2)


def clip(x, x_min, x_max):
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    if torch.is_tensor(x_min) != torch.is_tensor(x_max):  # clamp takes two numbers or two tensors, not one of each
        x_min, x_max = (b if b is None or torch.is_tensor(b) else torch.as_tensor(b, dtype=x.dtype, device=x.device)
                        for b in (x_min, x_max))
    return torch.clamp(x, min=x_min, max=x_max)


def gcd(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.gcd(x1, x2)


def lcm(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.lcm(x1, x2)


def heaviside(x1, x2):
    x1, x2 = _pair(x1, x2)
    if not x1.is_floating_point():  # as Keras: integers give floats (float64 for 64-bit ones)
        dtype = torch.float64 if torch.int64 in (x1.dtype, x2.dtype) else to_engine_dtype(None)
        x1, x2 = x1.to(dtype), x2.to(dtype)
    return torch.heaviside(x1, x2)


# ---- powers, exponentials and logarithms ------------------------------------

def sqrt(x):
    return torch.sqrt(_float(x))


def rsqrt(x):
    return torch.rsqrt(_float(x))


def cbrt(x):
    x = _float(x)
    return torch.sign(x) * torch.pow(torch.abs(x), 1.0 / 3.0)


def exp(x):
    return torch.exp(_float(x))


def exp2(x):
    return torch.exp2(_float(x))


def expm1(x):
    return torch.expm1(_float(x))


def log(x):
    return torch.log(_float(x))


def log1p(x):
    return torch.log1p(_float(x))


def log2(x):
    return torch.log2(_float(x))


def log10(x):
    return torch.log10(_float(x))


def logaddexp(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.logaddexp(_float(x1), _float(x2))


def logaddexp2(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.logaddexp2(_float(x1), _float(x2))


# ---- trigonometric and hyperbolic functions ---------------------------------

def sin(x):
    return torch.sin(_float(x))


def cos(x):
    return torch.cos(_float(x))


def tan(x):
    return torch.tan(_float(x))


def arcsin(x):
    return torch.arcsin(_float(x))


def arccos(x):
    return torch.arccos(_float(x))


def arctan(x):
    return torch.arctan(_float(x))


def arctan2(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.arctan2(_float(x1), _float(x2))


def hypot(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.hypot(_float(x1), _float(x2))


def sinh(x):
    return torch.sinh(_float(x))


def cosh(x):
    return torch.cosh(_float(x))


def tanh(x):
    return torch.tanh(_float(x))


def arcsinh(x):
    return torch.arcsinh(_float(x))


def arccosh(x):
    return torch.arccosh(_float(x))


def arctanh(x):
    return torch.arctanh(_float(x))


def deg2rad(x):
    return torch.deg2rad(_float(x))


def rad2deg(x):
    return torch.rad2deg(_float(x))


def sinc(x):
    return torch.sinc(_float(x))


# ---- rounding ---------------------------------------------------------------

def _float_for_rounding(x):
    # As Keras: integers and booleans are floor/ceil'd as floats (float32; float64 for 64-bit integers)
    x = convert_to_tensor(x)
    if x.is_floating_point() or x.is_complex():
        return x
    return x.to(torch.float64 if x.dtype in (torch.int64, torch.uint64) else to_engine_dtype(None))


def floor(x):
    return torch.floor(_float_for_rounding(x))


def ceil(x):
    return torch.ceil(_float_for_rounding(x))


def round(x, decimals=0):  # noqa: A001
    x = convert_to_tensor(x)
    if x.is_floating_point():
        return torch.round(x, decimals=decimals)
    if decimals < 0 and x.dtype != torch.bool and not x.is_complex():  # to tens, hundreds...: half to even
        factor = 10.0 ** -decimals
        return (torch.round(x.to(torch.float64) / factor) * factor).to(x.dtype)
    return x


def trunc(x):
    x = convert_to_tensor(x)
    return torch.trunc(x) if x.is_floating_point() else x


# ---- special functions and complex numbers ----------------------------------

def erf(x):
    return torch.erf(_float(x))


def erfinv(x):
    return torch.erfinv(_float(x))


def conj(x):
    x = convert_to_tensor(x)
    return torch.conj(x).resolve_conj() if x.is_complex() else x


conjugate = conj


def real(x):
    x = convert_to_tensor(x)
    return torch.real(x) if x.is_complex() else x


def imag(x):
    x = convert_to_tensor(x)
    return torch.imag(x) if x.is_complex() else torch.zeros_like(x)


def angle(x):
    x = _float(x)
    return torch.angle(x)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return torch.nan_to_num(convert_to_tensor(x), nan=nan, posinf=posinf, neginf=neginf)
