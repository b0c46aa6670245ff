"""Element-wise arithmetic, exponentials, logarithms, trigonometry, rounding, special functions on JAX.

Same function names as ``backend/torch/numpy_math.py``; re-exported by ``numpy.py``.
"""

import jax
import jax.numpy as jnp

from lamina.backend.jax._numpy_common import _binary, _float, _pair, _unary, _unary_float
from lamina.backend.jax.core import convert_to_tensor, to_engine_dtype

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

add = _binary(jnp.add)
subtract = _binary(jnp.subtract)
multiply = _binary(jnp.multiply)


def divide(x1, x2):
    x1, x2 = _pair(x1, x2)
    return jnp.divide(_float(x1), _float(x2))


true_divide = divide


def divide_no_nan(x1, x2):
    x1, x2 = _pair(x1, x2)
    x1, x2 = _float(x1), _float(x2)
    safe = jnp.where(x2 == 0, 1, x2)
    return jnp.where(x2 == 0, 0, x1 / safe)


floor_divide = _binary(jnp.floor_divide)
mod = _binary(jnp.remainder)
fmod = _binary(jnp.fmod)
power = _binary(jnp.power)
negative = _unary(jnp.negative)
abs = _unary(jnp.abs)  # noqa: A001
absolute = abs
fabs = _unary_float(jnp.abs)
sign = _unary(jnp.sign)
square = _unary(jnp.square)
reciprocal = _unary_float(jnp.reciprocal)
maximum = _binary(jnp.maximum)
minimum = _binary(jnp.minimum)
fmax = _binary(jnp.fmax)
fmin = _binary(jnp.fmin)


def clip(x, x_min, x_max):
    x = convert_to_tensor(x)
    if x.dtype == jnp.bool_:
        x = x.astype(jnp.int32)
    if jnp.issubdtype(x.dtype, jnp.integer) and any(isinstance(b, float) for b in (x_min, x_max)):
        x = x.astype(to_engine_dtype(None))  # integers clipped to Python floats: float32 (not x64's float64)
    return jnp.clip(x, x_min, x_max)


gcd = _binary(jnp.gcd)
lcm = _binary(jnp.lcm)
heaviside = _binary(jnp.heaviside)


# ---- powers, exponentials and logarithms ------------------------------------

sqrt = _unary_float(jnp.sqrt)
rsqrt = _unary_float(jax.lax.rsqrt)
cbrt = _unary_float(jnp.cbrt)
exp = _unary_float(jnp.exp)
exp2 = _unary_float(jnp.exp2)
expm1 = _unary_float(jnp.expm1)
log = _unary_float(jnp.log)
log1p = _unary_float(jnp.log1p)
log2 = _unary_float(jnp.log2)
log10 = _unary_float(jnp.log10)


def logaddexp(x1, x2):
    x1, x2 = _pair(x1, x2)
    return jnp.logaddexp(_float(x1), _float(x2))


def logaddexp2(x1, x2):
    x1, x2 = _pair(x1, x2)
    return jnp.logaddexp2(_float(x1), _float(x2))


# ---- trigonometric and hyperbolic functions ---------------------------------

sin = _unary_float(jnp.sin)
cos = _unary_float(jnp.cos)
tan = _unary_float(jnp.tan)
arcsin = _unary_float(jnp.arcsin)
arccos = _unary_float(jnp.arccos)
arctan = _unary_float(jnp.arctan)


def arctan2(x1, x2):
    x1, x2 = _pair(x1, x2)
    return jnp.arctan2(_float(x1), _float(x2))


def hypot(x1, x2):
    x1, x2 = _pair(x1, x2)
    return jnp.hypot(_float(x1), _float(x2))


sinh = _unary_float(jnp.sinh)
cosh = _unary_float(jnp.cosh)
tanh = _unary_float(jnp.tanh)
arcsinh = _unary_float(jnp.arcsinh)
arccosh = _unary_float(jnp.arccosh)
arctanh = _unary_float(jnp.arctanh)
deg2rad = _unary_float(jnp.deg2rad)
rad2deg = _unary_float(jnp.rad2deg)
sinc = _unary_float(jnp.sinc)


# ---- rounding ---------------------------------------------------------------

def _float_for_rounding(x):
    # As Keras: integers and booleans are floor/ceil'd as floats (float32; float64 for 64-bit integers)
    x = convert_to_tensor(x)
    if jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.complexfloating):
        return x
    return x.astype(jnp.float64 if x.dtype in (jnp.int64, jnp.uint64) else to_engine_dtype(None))


def floor(x):
    return jnp.floor(_float_for_rounding(x))


def ceil(x):
    return jnp.ceil(_float_for_rounding(x))


def round(x, decimals=0):  # noqa: A001
    x = convert_to_tensor(x)
    if jnp.issubdtype(x.dtype, jnp.floating):
        return jnp.round(x, decimals)
    if decimals < 0 and jnp.issubdtype(x.dtype, jnp.integer):  # to tens, hundreds...: half to even, as Keras
        factor = 10.0 ** -decimals
        return (jnp.round(x.astype(jnp.float64) / factor) * factor).astype(x.dtype)
    return x


trunc = _unary(lambda x: jnp.trunc(x) if jnp.issubdtype(x.dtype, jnp.floating) else x)


# ---- special functions and complex numbers ----------------------------------

erf = _unary_float(jax.scipy.special.erf)
erfinv = _unary_float(jax.scipy.special.erfinv)


def conj(x):
    return jnp.conj(convert_to_tensor(x))


conjugate = conj


def real(x):
    return jnp.real(convert_to_tensor(x))


def imag(x):
    return jnp.imag(convert_to_tensor(x))


angle = _unary_float(jnp.angle)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return jnp.nan_to_num(convert_to_tensor(x), nan=nan, posinf=posinf, neginf=neginf)
