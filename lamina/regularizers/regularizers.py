"""Weight regularizers: penalties added to the loss, written with ``lamina.ops``."""

import math
import numbers

from lamina import config, ops
from lamina.backend.common.keras_tensor import KerasTensor


def _tensor(x):
    if isinstance(x, KerasTensor) or ops.is_tensor(x):
        return x
    return ops.convert_to_tensor(x)


def validate_float_arg(owner, name, value):
    """Return ``value`` as a float, or raise a ValueError unless it is a finite number >= 0."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or math.isinf(value) or math.isnan(value) or value < 0):
        raise ValueError(
            f"{owner}: {name} must be a non-negative finite float, but received {name}={value!r}."
        )
    return float(value)


class Regularizer:
    """Base class of regularizers: ``regularizer(weight)`` returns a scalar penalty.

    A subclass implements ``__call__(x)`` and ``get_config()``.

    Example:
    >>> import lamina.regularizers
    >>> from lamina import ops
    >>> class Sum(lamina.regularizers.Regularizer):
    ...     def __call__(self, x):
    ...         return ops.sum(x)
    ...     def get_config(self):
    ...         return {}
    >>> float(Sum()(ops.ones((2, 2))))
    4.0
    """

    def __call__(self, x):
        return 0.0

    @classmethod
    def from_config(cls, config):
        """Create a regularizer from the dict returned by ``get_config``."""
        return cls(**config)

    def get_config(self):
        """Return the constructor arguments as a JSON-serializable dict."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config().")

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """L1 and L2 penalty: ``l1 * sum(abs(x)) + l2 * sum(square(x))``.

    Args:
        l1: L1 factor (non-negative float).
        l2: L2 factor (non-negative float).

    Example:
    >>> import lamina.regularizers
    >>> reg = lamina.regularizers.L1L2(l1=0.5, l2=0.25)
    >>> float(reg(lamina.ops.convert_to_tensor([[1.0, -2.0]])))
    2.75
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = validate_float_arg("L1L2", "l1", 0.0 if l1 is None else l1)
        self.l2 = validate_float_arg("L1L2", "l2", 0.0 if l2 is None else l2)

    def __call__(self, x):
        x = _tensor(x)
        penalty = ops.zeros((), dtype=ops.dtype(x))
        if self.l1:
            penalty = ops.add(penalty, ops.multiply(ops.sum(ops.abs(x)), self.l1))
        if self.l2:
            penalty = ops.add(penalty, ops.multiply(ops.sum(ops.square(x)), self.l2))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """L1 penalty: ``l1 * sum(abs(x))``.

    Args:
        l1: factor (non-negative float).

    Example:
    >>> import lamina.regularizers
    >>> float(lamina.regularizers.L1(0.5)(lamina.ops.convert_to_tensor([1.0, -3.0])))
    2.0
    """

    def __init__(self, l1=0.01):
        self.l1 = validate_float_arg("L1", "l1", 0.01 if l1 is None else l1)

    def __call__(self, x):
        return ops.multiply(ops.sum(ops.abs(_tensor(x))), self.l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """L2 penalty: ``l2 * sum(square(x))``.

    Args:
        l2: factor (non-negative float).

    Example:
    >>> import lamina.regularizers
    >>> float(lamina.regularizers.L2(0.5)(lamina.ops.convert_to_tensor([1.0, -3.0])))
    5.0
    """

    def __init__(self, l2=0.01):
        self.l2 = validate_float_arg("L2", "l2", 0.01 if l2 is None else l2)

    def __call__(self, x):
        return ops.multiply(ops.sum(ops.square(_tensor(x))), self.l2)

    def get_config(self):
        return {"l2": self.l2}


def _l2_normalize(x, axis):
    square_sum = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return ops.divide(x, ops.sqrt(ops.maximum(square_sum, config.epsilon())))


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2D weight to be orthonormal to each other.

    The penalty is ``factor * mean(abs(dot products of distinct normalized rows))``
    (over the ``n * (n - 1) / 2`` pairs), so it is 0 for orthogonal rows.

    Args:
        factor: penalty factor (non-negative float).
        mode: ``"rows"`` or ``"columns"``: which vectors should be orthogonal.

    Example:
    >>> import lamina.regularizers
    >>> reg = lamina.regularizers.OrthogonalRegularizer(factor=1.0)
    >>> float(reg(lamina.ops.eye(3)))
    0.0
    >>> float(reg(lamina.ops.convert_to_tensor([[1.0, 0.0], [1.0, 0.0]])))
    1.0
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = validate_float_arg("OrthogonalRegularizer", "factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(
                "OrthogonalRegularizer: mode must be one of ['rows', 'columns'], "
                f"but received mode={mode!r}."
            )
        self.mode = mode

    def __call__(self, inputs):
        inputs = _tensor(inputs)
        shape = ops.shape(inputs)
        if len(shape) != 2:
            raise ValueError(
                f"OrthogonalRegularizer: inputs must have rank 2, but received inputs with shape {shape}."
            )
        if self.mode == "rows":
            inputs = _l2_normalize(inputs, axis=1)
            product = ops.matmul(inputs, ops.transpose(inputs))
            size = shape[0]
        else:
            inputs = _l2_normalize(inputs, axis=0)
            product = ops.matmul(ops.transpose(inputs), inputs)
            size = shape[1]
        off_diagonal = ops.multiply(product, ops.subtract(1.0, ops.eye(size, dtype=ops.dtype(inputs))))
        num_pairs = max(size * (size - 1.0) / 2.0, 1.0)
        return ops.multiply(ops.sum(ops.abs(off_diagonal)), self.factor * 0.5 / num_pairs)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}
