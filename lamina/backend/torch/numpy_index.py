"""Indexing, gathering, slicing and scattering on PyTorch.

Same function names as ``backend/jax/numpy_index.py``; re-exported by ``numpy.py``.
"""

import builtins

import torch

from lamina.backend.common.dtypes import result_type
from lamina.backend.torch._numpy_common import _dt, _int_index
from lamina.backend.torch.core import convert_to_tensor, dtype_name

__all__ = [
    "get_item", "take", "take_along_axis", "nonzero", "select", "slice", "slice_update", "scatter",
    "scatter_update",
]


# ---- indexing and gathering -------------------------------------------------

def get_item(x, key):
    x = convert_to_tensor(x)
    if isinstance(key, list) and any(k is None or k is Ellipsis or isinstance(k, builtins.slice) for k in key):
        key = tuple(key)  # a multi-axis index that went through JSON (a saved model's config) as a list
    if isinstance(key, torch.Tensor) and key.dtype != torch.bool:
        key = key.long()
    return x[key]


def take(x, indices, axis=None):
    x = convert_to_tensor(x)
    indices = convert_to_tensor(indices).long()
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis % x.ndim
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    out = torch.index_select(x, axis, indices.reshape(-1))
    return out.reshape((*x.shape[:axis], *indices.shape, *x.shape[axis + 1:]))  # a tuple: () for a 0-d result


def take_along_axis(x, indices, axis=None):
    x = convert_to_tensor(x)
    indices = convert_to_tensor(indices).long()
    if axis is None:
        x, axis = x.reshape(-1), 0
    shape = list(torch.broadcast_shapes(
        tuple(s if i != axis % x.ndim else 1 for i, s in enumerate(x.shape)),
        tuple(s if i != axis % x.ndim else 1 for i, s in enumerate(indices.shape))))
    xs = list(shape); xs[axis % x.ndim] = x.shape[axis]
    ish = list(shape); ish[axis % x.ndim] = indices.shape[axis]
    return torch.gather(x.expand(xs), axis, indices.expand(ish))


def nonzero(x):
    x = convert_to_tensor(x)
    return tuple(i.to(torch.int32) for i in torch.nonzero(x, as_tuple=True))


def select(condlist, choicelist, default=0):
    dtype = result_type(*[_dt(c) for c in choicelist], _dt(default))
    out = torch.broadcast_to(convert_to_tensor(default, dtype), torch.broadcast_shapes(
        *[tuple(convert_to_tensor(c).shape) for c in list(condlist) + list(choicelist)]))
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = torch.where(convert_to_tensor(cond, "bool"), convert_to_tensor(choice, dtype), out)
    return out


# ---- slicing and scattering -------------------------------------------------

def _static_starts(start_indices):
    if isinstance(start_indices, torch.Tensor):
        return [int(v) for v in start_indices.reshape(-1).tolist()]
    return [int(v) for v in start_indices]


def slice(inputs, start_indices, shape):  # noqa: A001
    inputs = convert_to_tensor(inputs)
    out = inputs
    for axis, (s, n) in enumerate(zip(_static_starts(start_indices), shape)):
        s = builtins.min(builtins.max(s, 0), inputs.shape[axis] - n)  # clamp, as lax.dynamic_slice
        out = torch.narrow(out, axis, s, n)
    return out


def slice_update(inputs, start_indices, updates):
    inputs = convert_to_tensor(inputs)
    updates = convert_to_tensor(updates, dtype_name(inputs))
    out = inputs.clone()
    idx = tuple(
        builtins.slice(s, s + n) for s, n in (
            (builtins.min(builtins.max(s, 0), dim - n), n)
            for s, n, dim in zip(_static_starts(start_indices), updates.shape, inputs.shape)))
    out[idx] = updates
    return out


def scatter(indices, values, shape):
    indices = _int_index(convert_to_tensor(indices))
    values = convert_to_tensor(values)
    out = torch.zeros(tuple(shape), dtype=values.dtype, device=values.device)
    return out.index_put(tuple(indices.reshape(-1, indices.shape[-1]).T),
                         values.reshape(-1, *values.shape[indices.ndim - 1:]), accumulate=True)


def scatter_update(inputs, indices, updates):
    inputs = convert_to_tensor(inputs)
    indices = _int_index(convert_to_tensor(indices))
    updates = convert_to_tensor(updates, dtype_name(inputs))
    return inputs.index_put(tuple(indices.reshape(-1, indices.shape[-1]).T),
                            updates.reshape(-1, *updates.shape[indices.ndim - 1:]))
