"""Argument parsing shared by the Keras-3 augmentation layers (``color_augmentation``, ``color_jitter``,
``mixing_augmentation``, ...): Keras's conventions for ``factor`` pairs and ``value_range``."""

import numpy as np

from lamina import ops
from lamina.layers.preprocessing import _utils as u


def is_number(x):
    return isinstance(x, (int, float, np.number)) and not isinstance(x, bool)


def parse_factor(layer, factor, bounds, arg="factor"):
    """Keras's factor convention: a number ``f`` in ``bounds`` means ``(max(-|f|, bounds[0]), |f|)``; a pair
    means itself (sorted). Returns ``(lower, upper)`` as floats."""
    lo, hi = bounds
    msg = (f"{u.who(layer)}: {arg} must be a number or a pair of two numbers (lower, upper) in the range "
           f"[{lo}, {hi}], but received {arg}={factor!r}.")
    if isinstance(factor, (list, tuple)):
        if len(factor) != 2 or not all(is_number(f) for f in factor):
            raise ValueError(msg)
        if factor[0] > hi or factor[1] < lo:
            raise ValueError(msg)
        lower, upper = sorted(float(f) for f in factor)
    elif is_number(factor):
        if factor < lo or factor > hi:
            raise ValueError(msg)
        upper = abs(float(factor))
        lower = max(-upper, float(lo))
    else:
        raise ValueError(msg)
    return lower, upper


def parse_value_range(layer, value_range):
    """A pair ``(low, high)`` of numbers (sorted, as Keras), with ``low < high``."""
    if not (isinstance(value_range, (list, tuple)) and len(value_range) == 2
            and all(is_number(v) for v in value_range) and value_range[0] != value_range[1]):
        raise ValueError(f"{u.who(layer)}: value_range must be a list or tuple of two different numbers "
                         f"(low, high), but received value_range={value_range!r}.")
    return sorted(float(v) for v in value_range)


def check_rgb(layer, images):
    if images.shape[-1] != 3:
        raise ValueError(f"{u.who(layer)} expected RGB images with 3 channels, but received images with "
                         f"{images.shape[-1]} channels (shape {tuple(images.shape)}, channels-last view).")


def reshape_batch(values):
    """``(batch,)`` -> ``(batch, 1, 1, 1)`` for broadcasting over images."""
    return ops.reshape(values, (-1, 1, 1, 1))
