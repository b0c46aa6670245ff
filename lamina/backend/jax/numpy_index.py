"""Indexing, gathering, slicing and scattering on JAX.

Same function names as ``backend/torch/numpy_index.py``; re-exported by ``numpy.py``.
"""

import builtins
import jax
import jax.numpy as jnp

from lamina.backend.common.dtypes import result_type
from lamina.backend.jax._numpy_common import _dt
from lamina.backend.jax.core import convert_to_tensor, dtype_name

__all__ = [
    "get_item", "take", "take_along_axis", "nonzero", "select", "slice", "slice_update", "scatter",
    "scatter_update",
]


# ---- indexing and gathering -------------------------------------------------

def get_item(x, key):
    x = convert_to_tensor(x)
    if isinstance(key, list) and any(k is None or k is Ellipsis or isinstance(k, builtins.slice) for k in key):
        key = tuple(key)  # a multi-axis index that went through JSON (a saved model's config) as a list
    elif isinstance(key, list):
        key = jnp.asarray(key)  # NumPy's meaning of a list index: these positions (JAX wants an array)
    return x[key]


def take(x, indices, axis=None):
    x = convert_to_tensor(x)
    indices = convert_to_tensor(indices)
    if axis is None:
        x, axis = x.reshape(-1), 0
    indices = jnp.where(indices < 0, indices + x.shape[axis], indices)
    return jnp.take(x, indices, axis=axis)


def take_along_axis(x, indices, axis=None):
    return jnp.take_along_axis(convert_to_tensor(x), convert_to_tensor(indices), axis=axis)


def nonzero(x):
    return tuple(i.astype(jnp.int32) for i in jnp.nonzero(convert_to_tensor(x)))


def select(condlist, choicelist, default=0):
    dtype = result_type(*[_dt(c) for c in choicelist], _dt(default))
    return jnp.select([convert_to_tensor(c, "bool") for c in condlist],
                      [convert_to_tensor(c, dtype) for c in choicelist], convert_to_tensor(default, dtype))


# ---- slicing and scattering -------------------------------------------------

def slice(inputs, start_indices, shape):  # noqa: A001
    inputs = convert_to_tensor(inputs)
    return jax.lax.dynamic_slice(inputs, tuple(start_indices) if isinstance(start_indices, (list, tuple)) else start_indices, tuple(shape))


def slice_update(inputs, start_indices, updates):
    inputs = convert_to_tensor(inputs)
    updates = convert_to_tensor(updates, dtype_name(inputs))
    starts = tuple(start_indices) if isinstance(start_indices, (list, tuple)) else start_indices
    return jax.lax.dynamic_update_slice(inputs, updates, starts)


def scatter(indices, values, shape):
    indices, values = convert_to_tensor(indices), convert_to_tensor(values)
    zeros_ = jnp.zeros(tuple(shape), dtype=values.dtype)
    return zeros_.at[tuple(jnp.moveaxis(indices, -1, 0))].add(values)


def scatter_update(inputs, indices, updates):
    inputs, indices = convert_to_tensor(inputs), convert_to_tensor(indices)
    updates = convert_to_tensor(updates, dtype_name(inputs))
    return inputs.at[tuple(jnp.moveaxis(indices, -1, 0))].set(updates)
