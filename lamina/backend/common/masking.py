"""Keras masks carried by tensors: ``x._keras_mask``, the boolean mask of the time steps (or other entries) of
``x`` that hold data. A layer that makes a mask (``Embedding(mask_zero=True)``, ``Masking``) attaches it to its
output; layers whose ``call`` takes ``mask=`` receive it from their input, and losses and metrics leave the
masked entries out. Tensors that refuse new attributes (a concrete JAX array) keep theirs in a table, cleared
when the tensor is freed."""

import weakref

_TABLE = {}


def _forget(key):
    _TABLE.pop(key, None)


def set_keras_mask(x, mask):
    """Attach ``mask`` to ``x`` (None clears it)."""
    try:
        x._keras_mask = mask
        return
    except (AttributeError, TypeError):
        pass
    key = id(x)
    if mask is None:
        _TABLE.pop(key, None)
        return
    try:
        weakref.finalize(x, _forget, key)
    except TypeError:  # neither attributes nor weak references: nothing can carry a mask
        return
    _TABLE[key] = mask


def get_keras_mask(x):
    """The mask attached to ``x``, or None."""
    mask = getattr(x, "_keras_mask", None)
    if mask is None and _TABLE:
        return _TABLE.get(id(x))
    return mask
