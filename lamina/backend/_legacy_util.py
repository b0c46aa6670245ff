"""Shared helpers of the Keras 2-era ``K.*`` modules (``legacy``, ``legacy_math``, ``legacy_nn``)."""

import warnings as _warnings

_WARNED = set()


def deprecated(old, new):
    """Warn once per process that ``K.<old>`` is Keras 2 API, naming its modern form ``new``."""
    if old not in _WARNED:
        _WARNED.add(old)
        _warnings.warn(f"`K.{old}` is Keras 2 API; use `{new}` instead.", DeprecationWarning, stacklevel=3)


def ops():
    """``lamina.ops``, imported on first use (``lamina.backend`` is imported before ``lamina.ops`` exists)."""
    from lamina import ops as _ops

    return _ops


def rank(x):
    """The number of axes of ``x`` (a tensor, Variable, NumPy array or nested list)."""
    shape = getattr(x, "shape", None)
    if shape is None:
        import numpy as np

        shape = np.shape(x)
    return len(shape)


def as_tensor(x):
    """``x`` as a tensor (Variables and KerasTensors pass through unchanged)."""
    if hasattr(x, "shape") and hasattr(x, "dtype") and not type(x).__module__.startswith("numpy"):
        return x
    return ops().convert_to_tensor(x)
