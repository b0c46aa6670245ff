"""Products (matmul, dot, einsum, tensordot, kron, cross, ...), trace and slogdet on JAX.

Same function names as ``backend/torch/numpy_linalg_like.py``; re-exported by ``numpy.py``.
"""

import jax.numpy as jnp

from lamina.backend.common.dtypes import result_type
from lamina.backend.jax._numpy_common import _binary, _dt, _float, _pair
from lamina.backend.jax.core import convert_to_tensor

__all__ = [
    "matmul", "dot", "vdot", "inner", "outer", "tensordot", "einsum", "kron", "cross", "trace", "slogdet",
]


# ---- products ---------------------------------------------------------------

matmul = _binary(jnp.matmul)


def dot(x1, x2):
    x1, x2 = _pair(x1, x2)
    return jnp.dot(x1, x2)


def vdot(x1, x2):
    x1, x2 = _pair(x1, x2)
    return jnp.vdot(x1, x2)


def inner(x1, x2):
    x1, x2 = _pair(x1, x2)
    return jnp.inner(x1, x2)


def outer(x1, x2):
    x1, x2 = _pair(x1, x2)
    return jnp.outer(x1, x2)


def tensordot(x1, x2, axes=2):
    x1, x2 = _pair(x1, x2)
    return jnp.tensordot(x1, x2, axes=axes)


def einsum(subscripts, *operands):
    dtype = result_type(*[_dt(o) for o in operands])
    return jnp.einsum(subscripts, *[convert_to_tensor(o, dtype) for o in operands])


def kron(x1, x2):
    x1, x2 = _pair(x1, x2)
    return jnp.kron(x1, x2)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    x1, x2 = _pair(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    if x1.shape[axisa] != 3 or x2.shape[axisb] != 3:
        raise ValueError(f"cross: vectors must have 3 components, but received shapes {tuple(x1.shape)} and {tuple(x2.shape)}.")
    return jnp.cross(x1, x2, axisa=axisa, axisb=axisb, axisc=axisc)


# ---- matrix functions -------------------------------------------------------

def trace(x, offset=0, axis1=0, axis2=1):
    x = convert_to_tensor(x)
    dtype = None
    if x.dtype == jnp.bool_ or (jnp.issubdtype(x.dtype, jnp.integer) and x.dtype.itemsize < 8):
        dtype = jnp.int32  # as Keras: 32-bit (and smaller) integers sum to int32
    return jnp.trace(x, offset=offset, axis1=axis1, axis2=axis2, dtype=dtype)


def slogdet(x):
    sign, logabsdet = jnp.linalg.slogdet(_float(x))
    return sign, logabsdet
