"""Small helpers shared by the optimizers added after the Keras 3.0 set (Adafactor, Muon, ...)."""

import numbers

from lamina import ops


def local_step(optimizer, dtype):
    """The 1-based number of the update being made, as ``dtype``.

    With gradient accumulation it counts updates, not ``apply`` calls (as Keras's
    ``iterations`` does in the optimizers' formulas).
    """
    return ops.cast(optimizer._update_count() + 1, dtype)


def check_number(owner, arg, value, ok, expected):
    """Raise a ValueError naming ``owner`` and ``arg`` unless ``value`` is a real number with ``ok(value)``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not ok(value):
        raise ValueError(f"{owner}: `{arg}` must be {expected}. Received: {arg}={value!r}")
