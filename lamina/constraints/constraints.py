"""Weight constraints: projections applied to a weight after each optimizer update."""

import numbers

from lamina import config, ops
from lamina.backend.common.keras_tensor import KerasTensor


def _tensor(x):
    if isinstance(x, KerasTensor) or ops.is_tensor(x):
        return x
    return ops.convert_to_tensor(x)


def _check_number(owner, name, value, non_negative=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (non_negative and value < 0):
        kind = "a non-negative number" if non_negative else "a number"
        raise ValueError(f"{owner}: {name} must be {kind}, but received {name}={value!r}.")
    return value


def _check_axis(owner, axis):
    def is_int(a):
        return isinstance(a, int) and not isinstance(a, bool)

    if not (is_int(axis) or (isinstance(axis, (list, tuple)) and axis and all(map(is_int, axis)))):
        raise ValueError(f"{owner}: axis must be an int or a list of ints, but received axis={axis!r}.")
    return axis


def _norms(w, axis):
    axis = tuple(axis) if isinstance(axis, list) else axis
    return ops.sqrt(ops.sum(ops.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class of weight constraints: ``constraint(w)`` returns the projected weight.

    Example:
    >>> import lamina.constraints
    >>> from lamina import ops
    >>> class Clip(lamina.constraints.Constraint):
    ...     def __call__(self, w):
    ...         return ops.clip(w, -1.0, 1.0)
    >>> ops.convert_to_numpy(Clip()(ops.convert_to_tensor([-3.0, 0.5]))).tolist()
    [-1.0, 0.5]
    """

    def __call__(self, w):
        return w

    def get_config(self):
        """Return the constructor arguments as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Create a constraint from the dict returned by ``get_config``."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Scales each weight vector down so its L2 norm is at most ``max_value``.

    Args:
        max_value: the maximum norm.
        axis: the axis (or axes) along which norms are computed. For a Dense
            kernel ``(input_dim, units)`` use ``axis=0`` (one vector per unit);
            for a Conv2D kernel ``(rows, cols, in, out)`` use ``axis=[0, 1, 2]``.

    Example:
    >>> import lamina.constraints
    >>> w = lamina.ops.convert_to_tensor([[3.0, 0.3], [4.0, 0.4]])
    >>> [[round(v, 4) for v in row] for row in lamina.ops.convert_to_numpy(lamina.constraints.MaxNorm(1.0)(w)).tolist()]
    [[0.6, 0.3], [0.8, 0.4]]
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = _check_number("MaxNorm", "max_value", max_value, non_negative=True)
        self.axis = _check_axis("MaxNorm", axis)

    def __call__(self, w):
        w = _tensor(w)
        norms = _norms(w, self.axis)
        desired = ops.clip(norms, 0.0, self.max_value)
        return ops.multiply(w, ops.divide(desired, ops.add(norms, config.epsilon())))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero.

    Example:
    >>> import lamina.constraints
    >>> lamina.ops.convert_to_numpy(lamina.constraints.NonNeg()(lamina.ops.convert_to_tensor([-1.0, 2.0]))).tolist()
    [0.0, 2.0]
    """

    def __call__(self, w):
        w = _tensor(w)
        return ops.where(ops.greater_equal(w, 0.0), w, ops.zeros_like(w))


class UnitNorm(Constraint):
    """Scales each weight vector to unit L2 norm along ``axis``.

    Args:
        axis: the axis (or axes) along which norms are computed (see ``MaxNorm``).

    Example:
    >>> import lamina.constraints
    >>> w = lamina.ops.convert_to_tensor([[3.0], [4.0]])
    >>> [[round(v, 4) for v in row] for row in lamina.ops.convert_to_numpy(lamina.constraints.UnitNorm()(w)).tolist()]
    [[0.6], [0.8]]
    """

    def __init__(self, axis=0):
        self.axis = _check_axis("UnitNorm", axis)

    def __call__(self, w):
        w = _tensor(w)
        return ops.divide(w, ops.add(_norms(w, self.axis), config.epsilon()))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Keeps the L2 norm of each weight vector between ``min_value`` and ``max_value``.

    The new norm is ``rate * clip(norm, min_value, max_value) + (1 - rate) * norm``.

    Args:
        min_value: the minimum norm.
        max_value: the maximum norm.
        rate: how far to move toward the clipped norm (1.0 = all the way).
        axis: the axis (or axes) along which norms are computed (see ``MaxNorm``).

    Example:
    >>> import lamina.constraints
    >>> c = lamina.constraints.MinMaxNorm(min_value=1.0, max_value=2.0)
    >>> w = lamina.ops.convert_to_tensor([[0.3, 6.0], [0.4, 8.0]])
    >>> [[round(v, 4) for v in row] for row in lamina.ops.convert_to_numpy(c(w)).tolist()]
    [[0.6, 1.2], [0.8, 1.6]]
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _check_number("MinMaxNorm", "min_value", min_value, non_negative=True)
        self.max_value = _check_number("MinMaxNorm", "max_value", max_value, non_negative=True)
        if min_value > max_value:
            raise ValueError(
                f"MinMaxNorm: min_value must be <= max_value, but received min_value={min_value!r}, "
                f"max_value={max_value!r}."
            )
        self.rate = _check_number("MinMaxNorm", "rate", rate, non_negative=True)
        self.axis = _check_axis("MinMaxNorm", axis)

    def __call__(self, w):
        w = _tensor(w)
        norms = _norms(w, self.axis)
        desired = ops.add(ops.multiply(ops.clip(norms, self.min_value, self.max_value), self.rate),
                          ops.multiply(norms, 1.0 - self.rate))
        return ops.multiply(w, ops.divide(desired, ops.add(norms, config.epsilon())))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}
