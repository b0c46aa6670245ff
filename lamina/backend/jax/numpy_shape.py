"""Reshaping, transposing, joining and splitting, flipping, padding, triangles and diagonals on JAX.

Same function names as ``backend/torch/numpy_shape.py``; re-exported by ``numpy.py``.
"""

import jax.numpy as jnp
import numpy as np

from lamina.backend.common.dtypes import result_type
from lamina.backend.jax._numpy_common import _axis, _dt
from lamina.backend.jax.core import convert_to_tensor

__all__ = [
    "reshape", "ravel", "expand_dims", "squeeze", "broadcast_to", "transpose", "moveaxis", "swapaxes",
    "concatenate", "stack", "hstack", "vstack", "dstack", "append", "split", "array_split", "hsplit",
    "vsplit", "unstack", "tile", "repeat", "flip", "fliplr", "flipud", "rot90", "roll", "pad", "tril",
    "triu", "diag", "diagonal", "diagflat",
]


# ---- reshaping and transposing ----------------------------------------------

def reshape(x, newshape):
    if isinstance(newshape, int):
        newshape = (newshape,)
    return jnp.reshape(convert_to_tensor(x), tuple(newshape))


def ravel(x):
    return jnp.ravel(convert_to_tensor(x))


def expand_dims(x, axis):
    return jnp.expand_dims(convert_to_tensor(x), axis)


def squeeze(x, axis=None):
    x = convert_to_tensor(x)
    if axis is not None:
        for a in ((axis,) if isinstance(axis, int) else axis):
            if x.shape[a] != 1:
                raise ValueError(f"squeeze: cannot squeeze axis {a} of size {x.shape[a]} (shape {tuple(x.shape)}).")
    return jnp.squeeze(x, axis=_axis(axis))


def broadcast_to(x, shape):
    return jnp.broadcast_to(convert_to_tensor(x), tuple(shape))


def transpose(x, axes=None):
    return jnp.transpose(convert_to_tensor(x), axes)


def moveaxis(x, source, destination):
    return jnp.moveaxis(convert_to_tensor(x), source, destination)


def swapaxes(x, axis1, axis2):
    return jnp.swapaxes(convert_to_tensor(x), axis1, axis2)


# ---- joining and splitting --------------------------------------------------

def concatenate(xs, axis=0):
    dtype = result_type(*[_dt(x) for x in xs])
    return jnp.concatenate([convert_to_tensor(x, dtype) for x in xs], axis=axis)


def stack(x, axis=0):
    dtype = result_type(*[_dt(e) for e in x])
    return jnp.stack([convert_to_tensor(e, dtype) for e in x], axis=axis)


def hstack(xs):
    dtype = result_type(*[_dt(x) for x in xs])
    return jnp.hstack([convert_to_tensor(x, dtype) for x in xs])


def vstack(xs):
    dtype = result_type(*[_dt(x) for x in xs])
    return jnp.vstack([convert_to_tensor(x, dtype) for x in xs])


def dstack(xs):
    dtype = result_type(*[_dt(x) for x in xs])
    return jnp.dstack([convert_to_tensor(x, dtype) for x in xs])


def append(x1, x2, axis=None):
    return concatenate([x1, x2], axis=axis)


def split(x, indices_or_sections, axis=0):
    x = convert_to_tensor(x)
    if isinstance(indices_or_sections, int) and x.shape[axis] % indices_or_sections:
        raise ValueError(
            f"split: axis {axis} of size {x.shape[axis]} cannot be split into {indices_or_sections} equal parts."
        )
    return jnp.split(x, indices_or_sections, axis=axis)


def array_split(x, indices_or_sections, axis=0):
    return jnp.array_split(convert_to_tensor(x), indices_or_sections, axis=axis)


def hsplit(x, indices_or_sections):
    x = convert_to_tensor(x)
    return split(x, indices_or_sections, axis=1 if x.ndim > 1 else 0)


def vsplit(x, indices_or_sections):
    return split(x, indices_or_sections, axis=0)


def unstack(x, num=None, axis=0):
    x = convert_to_tensor(x)
    return [jnp.squeeze(p, axis) for p in jnp.split(x, x.shape[axis], axis=axis)]


# ---- repeating, flipping, rolling and padding -------------------------------

def tile(x, repeats):
    return jnp.tile(convert_to_tensor(x), repeats)


def repeat(x, repeats, axis=None):
    return jnp.repeat(convert_to_tensor(x), repeats, axis=axis)


def flip(x, axis=None):
    return jnp.flip(convert_to_tensor(x), axis=_axis(axis))


def fliplr(x):
    return jnp.fliplr(convert_to_tensor(x))


def flipud(x):
    return jnp.flipud(convert_to_tensor(x))


def rot90(array, k=1, axes=(0, 1)):
    return jnp.rot90(convert_to_tensor(array), k, axes=tuple(axes))


def roll(x, shift, axis=None):
    return jnp.roll(convert_to_tensor(x), shift, axis=_axis(axis))


def pad(x, pad_width, mode="constant", constant_values=None):
    x = convert_to_tensor(x)
    if mode not in ("constant", "reflect", "symmetric", "edge"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'symmetric' or 'edge', but received '{mode}'.")
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2)).tolist()
    if mode == "constant":
        return jnp.pad(x, pw, mode="constant", constant_values=constant_values or 0)
    return jnp.pad(x, pw, mode=mode)


# ---- triangles and diagonals ------------------------------------------------

def tril(x, k=0):
    return jnp.tril(convert_to_tensor(x), k)


def triu(x, k=0):
    return jnp.triu(convert_to_tensor(x), k)


def diag(x, k=0):
    return jnp.diag(convert_to_tensor(x), k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    return jnp.diagonal(convert_to_tensor(x), offset=offset, axis1=axis1, axis2=axis2)


def diagflat(x, k=0):
    return jnp.diagflat(convert_to_tensor(x), k)
