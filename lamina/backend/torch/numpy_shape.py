"""Reshaping, transposing, joining and splitting, flipping, padding, triangles and diagonals on PyTorch.

Same function names as ``backend/jax/numpy_shape.py``; re-exported by ``numpy.py``.
"""

import numpy as np
import torch

from lamina.backend.common.dtypes import result_type
from lamina.backend.torch._numpy_common import _dt
from lamina.backend.torch.core import convert_to_tensor

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
    return torch.reshape(convert_to_tensor(x), tuple(newshape))


def ravel(x):
    return torch.reshape(convert_to_tensor(x), (-1,))


def expand_dims(x, axis):
    x = convert_to_tensor(x)
    if isinstance(axis, (list, tuple)):
        out_ndim = x.ndim + len(axis)
        for a in sorted(a % out_ndim for a in axis):
            x = torch.unsqueeze(x, a)
        return x
    return torch.unsqueeze(x, axis)


def squeeze(x, axis=None):
    x = convert_to_tensor(x)
    if axis is None:
        return torch.squeeze(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: cannot squeeze axis {a} of size {x.shape[a]} (shape {tuple(x.shape)}).")
    return torch.squeeze(x, dim=axes)


def broadcast_to(x, shape):
    return torch.broadcast_to(convert_to_tensor(x), tuple(shape))


def transpose(x, axes=None):
    x = convert_to_tensor(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    return x.permute(tuple(axes))


def moveaxis(x, source, destination):
    return torch.movedim(convert_to_tensor(x), source, destination)


def swapaxes(x, axis1, axis2):
    return torch.swapaxes(convert_to_tensor(x), axis1, axis2)


# ---- joining and splitting --------------------------------------------------

def concatenate(xs, axis=0):
    dtype = result_type(*[_dt(x) for x in xs])
    xs = [convert_to_tensor(x, dtype) for x in xs]
    if axis is None:
        return torch.cat([x.reshape(-1) for x in xs])
    return torch.cat(xs, dim=axis)


def stack(x, axis=0):
    dtype = result_type(*[_dt(e) for e in x])
    return torch.stack([convert_to_tensor(e, dtype) for e in x], dim=axis)


def hstack(xs):
    dtype = result_type(*[_dt(x) for x in xs])
    return torch.hstack([convert_to_tensor(x, dtype) for x in xs])


def vstack(xs):
    dtype = result_type(*[_dt(x) for x in xs])
    return torch.vstack([convert_to_tensor(x, dtype) for x in xs])


def dstack(xs):
    dtype = result_type(*[_dt(x) for x in xs])
    return torch.dstack([convert_to_tensor(x, dtype) for x in xs])


def append(x1, x2, axis=None):
    return concatenate([x1, x2], axis=axis)


def split(x, indices_or_sections, axis=0):
    x = convert_to_tensor(x)
    size = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if size % indices_or_sections:
            raise ValueError(
                f"split: axis {axis} of size {size} cannot be split into {indices_or_sections} equal parts."
            )
        return list(torch.split(x, size // indices_or_sections, dim=axis))
    bounds = [0] + list(indices_or_sections) + [size]
    return [torch.narrow(x, axis, a, b - a) for a, b in zip(bounds[:-1], bounds[1:])]


def array_split(x, indices_or_sections, axis=0):
    x = convert_to_tensor(x)
    if isinstance(indices_or_sections, int):
        return list(torch.tensor_split(x, indices_or_sections, dim=axis))
    return list(torch.tensor_split(x, list(indices_or_sections), dim=axis))


def hsplit(x, indices_or_sections):
    x = convert_to_tensor(x)
    return split(x, indices_or_sections, axis=1 if x.ndim > 1 else 0)


def vsplit(x, indices_or_sections):
    return split(x, indices_or_sections, axis=0)


def unstack(x, num=None, axis=0):
    return list(torch.unbind(convert_to_tensor(x), dim=axis))


# ---- repeating, flipping, rolling and padding -------------------------------

def tile(x, repeats):
    x = convert_to_tensor(x)
    if isinstance(repeats, int):
        repeats = (repeats,)
    return torch.tile(x, tuple(repeats))


def repeat(x, repeats, axis=None):
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if not isinstance(repeats, int):
        repeats = convert_to_tensor(repeats, "int64")
    return torch.repeat_interleave(x, repeats, dim=axis)


def flip(x, axis=None):
    x = convert_to_tensor(x)
    if axis is None:
        axis = tuple(range(x.ndim))
    elif isinstance(axis, int):
        axis = (axis,)
    return torch.flip(x, dims=tuple(axis))


def fliplr(x):
    return flip(x, 1)


def flipud(x):
    return flip(x, 0)


def rot90(array, k=1, axes=(0, 1)):
    return torch.rot90(convert_to_tensor(array), k, dims=tuple(axes))


def roll(x, shift, axis=None):
    x = convert_to_tensor(x)
    if axis is None:
        return torch.roll(x.reshape(-1), shift).reshape(x.shape)
    return torch.roll(x, shift, dims=axis)


def pad(x, pad_width, mode="constant", constant_values=None):
    x = convert_to_tensor(x)
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    flat = []
    for before, after in reversed(pw.tolist()):
        flat += [before, after]
    torch_mode = {"constant": "constant", "reflect": "reflect", "symmetric": "replicate", "edge": "replicate"}.get(mode)
    if torch_mode is None:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'symmetric' or 'edge', but received '{mode}'.")
    if torch_mode == "constant":
        return torch.nn.functional.pad(x, flat, mode="constant", value=constant_values or 0)
    return _pad_per_axis(x, pw, mode)


def _pad_per_axis(x, pw, mode):
    # torch's reflect/replicate pads only the last dims of batched inputs: pad one axis at a time.
    out = x
    for axis in range(x.ndim):
        before, after = pw[axis]
        if before == 0 and after == 0:
            continue
        moved = torch.movedim(out, axis, -1)
        shp = moved.shape
        flat = moved.reshape(1, -1, shp[-1])
        if mode == "symmetric":
            left = torch.flip(flat[..., :before], dims=(-1,))
            right = torch.flip(flat[..., flat.shape[-1] - after:], dims=(-1,))
            flat = torch.cat([left, flat, right], dim=-1)
        else:
            m = "reflect" if mode == "reflect" else "replicate"
            flat = torch.nn.functional.pad(flat.float() if not flat.is_floating_point() else flat, (int(before), int(after)), mode=m).to(flat.dtype)
        out = torch.movedim(flat.reshape(*shp[:-1], flat.shape[-1]), -1, axis)
    return out


# ---- triangles and diagonals ------------------------------------------------

def tril(x, k=0):
    return torch.tril(convert_to_tensor(x), diagonal=k)


def triu(x, k=0):
    return torch.triu(convert_to_tensor(x), diagonal=k)


def diag(x, k=0):
    return torch.diag(convert_to_tensor(x), diagonal=k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    return torch.diagonal(convert_to_tensor(x), offset=offset, dim1=axis1, dim2=axis2)


def diagflat(x, k=0):
    return torch.diagflat(convert_to_tensor(x), offset=k)
