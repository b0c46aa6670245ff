"""Activation functions (``lamina.activations``), written with ``lamina.ops``.

Each activation is a plain function of a tensor (an engine tensor, a NumPy
array, a Python list or a symbolic ``KerasTensor``) with the same name,
arguments and defaults as in Keras 3.
"""

import weakref

from lamina import backend, ops
from lamina.backend.common.keras_tensor import KerasTensor


def _tensor(x):
    if isinstance(x, KerasTensor) or ops.is_tensor(x):
        return x
    return ops.convert_to_tensor(x)


_LOGITS = {}  # id(output) -> (weak reference to output, logits), for outputs that take no attribute


def _cache_logits(output, logits):
    # Losses read the logits of a softmax/sigmoid output to compute crossentropies from them (as
    # Keras). A torch tensor carries them as ``_keras_logits``; a JAX array or tracer takes no
    # attribute, so a weak side table holds them while the output lives.
    try:
        output._keras_logits = logits
    except (AttributeError, TypeError):
        key = id(output)
        try:
            ref = weakref.ref(output, lambda _, key=key: _LOGITS.pop(key, None))
        except TypeError:
            return output
        _LOGITS[key] = (ref, logits)
    return output


def logits_of(output):
    """The logits a softmax/sigmoid ``output`` was computed from, or None."""
    logits = getattr(output, "_keras_logits", None)
    if logits is None:
        entry = _LOGITS.get(id(output))
        if entry is not None and entry[0]() is output:
            logits = entry[1]
    return logits


def _check_number(fn, name, value, allow_none=False):
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{fn}: {name} must be a number, but received {name}={value!r}.")


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, with optional leak, cap and threshold.

    With default values it returns ``max(x, 0)``. Otherwise it follows
    ``f(x) = max_value`` for ``x >= max_value``, ``x`` for
    ``threshold <= x < max_value``, and ``negative_slope * (x - threshold)``
    below ``threshold``.

    Args:
        x: input tensor.
        negative_slope: slope for values below the threshold (0 = hard zero).
        max_value: upper bound of the output, or None for no bound.
        threshold: values below it are damped or set to zero.

    Returns:
        A tensor of the same shape and dtype as ``x``.

    Example:
    >>> from lamina import activations, ops
    >>> x = [-10.0, -5.0, 0.0, 5.0, 10.0]
    >>> ops.convert_to_numpy(activations.relu(x)).tolist()
    [0.0, 0.0, 0.0, 5.0, 10.0]
    >>> ops.convert_to_numpy(activations.relu(x, negative_slope=0.5, max_value=5.0)).tolist()
    [-5.0, -2.5, 0.0, 5.0, 5.0]
    >>> ops.convert_to_numpy(activations.relu(x, threshold=5.0)).tolist()
    [0.0, 0.0, 0.0, 0.0, 10.0]
    """
    if max_value is None and type(negative_slope) in (float, int) and type(threshold) in (float, int) and \
            negative_slope == 0.0 and threshold == 0.0:  # the common case, checked in one go
        return backend.nn.relu(x) if backend.is_tensor(x) else ops.relu(_tensor(x))
    _check_number("relu", "negative_slope", negative_slope)
    _check_number("relu", "max_value", max_value, allow_none=True)
    _check_number("relu", "threshold", threshold)
    x = _tensor(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    if negative_slope != 0.0:
        if max_value is None and threshold == 0.0:
            return ops.leaky_relu(x, negative_slope=negative_slope)
        negative_part = ops.relu(ops.add(ops.negative(x), threshold))
    clip_max = max_value is not None
    if threshold != 0.0:
        x = ops.where(ops.greater(x, threshold), x, ops.zeros_like(x))
    elif max_value == 6:
        x = ops.relu6(x)
        clip_max = False
    else:
        x = ops.relu(x)
    if clip_max:
        x = ops.clip(x, 0.0, max_value)
    if negative_slope != 0.0:
        x = ops.subtract(x, ops.multiply(negative_part, negative_slope))
    return x


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: ``x`` if ``x > 0`` else ``negative_slope * x``.

    Args:
        x: input tensor.
        negative_slope: slope of the negative part.

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.leaky_relu([-2.0, 3.0], negative_slope=0.5)).tolist()
    [-1.0, 3.0]
    """
    _check_number("leaky_relu", "negative_slope", negative_slope)
    return ops.leaky_relu(_tensor(x), negative_slope=negative_slope)


def relu6(x):
    """ReLU capped at 6: ``min(max(x, 0), 6)``.

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.relu6([-1.0, 3.0, 8.0])).tolist()
    [0.0, 3.0, 6.0]
    """
    return ops.relu6(_tensor(x))


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.

    Example:
    >>> from lamina import activations, ops
    >>> [round(v, 4) for v in ops.convert_to_numpy(activations.elu([-1.0, 2.0])).tolist()]
    [-0.6321, 2.0]
    """
    return ops.elu(_tensor(x), alpha=alpha)


def selu(x):
    """Scaled exponential linear unit: ``scale * elu(x, alpha)``.

    ``alpha=1.67326324`` and ``scale=1.05070098``, for self-normalizing
    networks (use with the ``lecun_normal`` initializer).

    Example:
    >>> from lamina import activations, ops
    >>> [round(v, 4) for v in ops.convert_to_numpy(activations.selu([-1.0, 1.0])).tolist()]
    [-1.1113, 1.0507]
    """
    return ops.selu(_tensor(x))


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Example:
    >>> from lamina import activations, ops
    >>> [round(v, 4) for v in ops.convert_to_numpy(activations.celu([-1.0, 1.0])).tolist()]
    [-0.6321, 1.0]
    """
    return ops.celu(_tensor(x), alpha=alpha)


def softplus(x):
    """Softplus: ``log(exp(x) + 1)``.

    Example:
    >>> from lamina import activations, ops
    >>> [round(v, 4) for v in ops.convert_to_numpy(activations.softplus([0.0, 1.0])).tolist()]
    [0.6931, 1.3133]
    """
    return ops.softplus(_tensor(x))


def softsign(x):
    """Softsign: ``x / (abs(x) + 1)``.

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.softsign([-1.0, 3.0])).tolist()
    [-0.5, 0.75]
    """
    return ops.softsign(_tensor(x))


def soft_shrink(x, threshold=0.5):
    """Soft shrink: ``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0.

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.soft_shrink([-2.0, 0.25, 2.0])).tolist()
    [-1.5, 0.0, 1.5]
    """
    _check_number("soft_shrink", "threshold", threshold)
    x = _tensor(x)
    zeros = ops.zeros_like(x)
    return ops.where(
        ops.greater(x, threshold),
        ops.subtract(x, threshold),
        ops.where(ops.less(x, -threshold), ops.add(x, threshold), zeros),
    )


def hard_shrink(x, threshold=0.5):
    """Hard shrink: ``x`` where ``abs(x) > threshold``, else 0.

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.hard_shrink([-2.0, 0.25, 2.0])).tolist()
    [-2.0, 0.0, 2.0]
    """
    _check_number("hard_shrink", "threshold", threshold)
    x = _tensor(x)
    return ops.where(ops.greater(ops.abs(x), threshold), x, ops.zeros_like(x))


def tanh_shrink(x):
    """Tanh shrink: ``x - tanh(x)``.

    Example:
    >>> from lamina import activations, ops
    >>> [round(v, 4) for v in ops.convert_to_numpy(activations.tanh_shrink([0.0, 1.0])).tolist()]
    [0.0, 0.2384]
    """
    x = _tensor(x)
    return ops.subtract(x, ops.tanh(x))


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``.

    Args:
        x: input tensor.
        threshold: the value to compare against.
        default_value: the value used where ``x <= threshold``.

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.threshold([-1.0, 0.5, 2.0], 0.0, -9.0)).tolist()
    [-9.0, 0.5, 2.0]
    """
    _check_number("threshold", "threshold", threshold)
    _check_number("threshold", "default_value", default_value)
    x = _tensor(x)
    return ops.where(ops.greater(x, threshold), x, ops.full_like(x, default_value))


def sparse_plus(x):
    """SparsePlus: 0 for ``x <= -1``, ``(x + 1)**2 / 4`` for ``-1 < x < 1``, ``x`` for ``x >= 1``.

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.sparse_plus([-2.0, 0.0, 2.0])).tolist()
    [0.0, 0.25, 2.0]
    """
    x = _tensor(x)
    middle = ops.multiply(ops.square(ops.add(x, 1.0)), 0.25)
    return ops.where(ops.less_equal(x, -1.0), ops.zeros_like(x),
                     ops.where(ops.less(x, 1.0), middle, x))


def sparse_sigmoid(x):
    """Sparse sigmoid: 0 for ``x <= -1``, ``(x + 1) / 2`` in between, 1 for ``x >= 1``.

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.sparse_sigmoid([-2.0, 0.0, 2.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    x = _tensor(x)
    return ops.clip(ops.multiply(ops.add(x, 1.0), 0.5), 0.0, 1.0)


def squareplus(x, b=4):
    """Squareplus: ``(x + sqrt(x**2 + b)) / 2``.

    Args:
        x: input tensor.
        b: smoothness (``b >= 0``; ``b = 0`` gives ReLU).

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.squareplus([0.0, 1.5])).tolist()
    [1.0, 2.0]
    """
    _check_number("squareplus", "b", b)
    if b < 0:
        raise ValueError(f"squareplus: b must be >= 0, but received b={b!r}.")
    x = _tensor(x)
    return ops.multiply(ops.add(x, ops.sqrt(ops.add(ops.square(x), b))), 0.5)


def silu(x):
    """Sigmoid linear unit (also called swish): ``x * sigmoid(x)``.

    Example:
    >>> from lamina import activations, ops
    >>> [round(v, 4) for v in ops.convert_to_numpy(activations.silu([0.0, 1.0])).tolist()]
    [0.0, 0.7311]
    """
    return ops.silu(_tensor(x))


def gelu(x, approximate=False):
    """Gaussian error linear unit: ``x * P(X <= x)`` for ``X ~ N(0, 1)``.

    Args:
        x: input tensor.
        approximate: use the tanh approximation (default False: exact, with erf).

    Example:
    >>> from lamina import activations, ops
    >>> [round(v, 4) for v in ops.convert_to_numpy(activations.gelu([0.0, 1.0])).tolist()]
    [0.0, 0.8413]
    """
    return ops.gelu(_tensor(x), approximate=approximate)


def tanh(x):
    """Hyperbolic tangent.

    Example:
    >>> from lamina import activations, ops
    >>> [round(v, 4) for v in ops.convert_to_numpy(activations.tanh([0.0, 1.0])).tolist()]
    [0.0, 0.7616]
    """
    return ops.tanh(_tensor(x))


def hard_tanh(x):
    """Hard tanh: ``clip(x, -1, 1)``.

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.hard_tanh([-2.0, 0.5, 2.0])).tolist()
    [-1.0, 0.5, 1.0]
    """
    return ops.clip(_tensor(x), -1.0, 1.0)


def sigmoid(x):
    """Sigmoid: ``1 / (1 + exp(-x))``.

    Example:
    >>> from lamina import activations, ops
    >>> [round(v, 4) for v in ops.convert_to_numpy(activations.sigmoid([0.0, 2.0])).tolist()]
    [0.5, 0.8808]
    """
    x = _tensor(x)
    return _cache_logits(ops.sigmoid(x), x)


def exponential(x):
    """Exponential: ``exp(x)``.

    Example:
    >>> from lamina import activations, ops
    >>> [round(v, 4) for v in ops.convert_to_numpy(activations.exponential([0.0, 1.0])).tolist()]
    [1.0, 2.7183]
    """
    return ops.exp(_tensor(x))


def hard_sigmoid(x):
    """Hard sigmoid: ``clip(x / 6 + 0.5, 0, 1)``.

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.hard_sigmoid([-6.0, 0.0, 3.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    return ops.hard_sigmoid(_tensor(x))


def log_sigmoid(x):
    """``log(sigmoid(x))``, computed stably.

    Example:
    >>> from lamina import activations, ops
    >>> [round(v, 4) for v in ops.convert_to_numpy(activations.log_sigmoid([0.0])).tolist()]
    [-0.6931]
    """
    return ops.log_sigmoid(_tensor(x))


def hard_silu(x):
    """Hard SiLU (also called hard swish): ``x * hard_sigmoid(x)``.

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.hard_silu([-3.0, 0.0, 3.0])).tolist()
    [-0.0, 0.0, 3.0]
    """
    return ops.hard_silu(_tensor(x))


def linear(x):
    """Linear (identity) activation: returns ``x`` unchanged.

    Example:
    >>> from lamina import activations
    >>> activations.linear([1.0, -2.0])
    [1.0, -2.0]
    """
    return x


def mish(x):
    """Mish: ``x * tanh(softplus(x))``.

    Example:
    >>> from lamina import activations, ops
    >>> [round(v, 4) for v in ops.convert_to_numpy(activations.mish([0.0, 1.0])).tolist()]
    [0.0, 0.8651]
    """
    x = _tensor(x)
    return ops.multiply(x, ops.tanh(ops.softplus(x)))


swish = silu
hard_swish = hard_silu
