"""The ``Loss`` base class, reductions and ``LossFunctionWrapper``.

A loss object computes per-sample values in ``call(y_true, y_pred)``; its
``__call__`` applies ``sample_weight`` and a mask, then reduces them to a scalar
(or not, with ``reduction=None``). Everything is written with ``lamina.ops`` and
never reads a tensor value on the host, so it runs inside compiled JAX steps.
"""

import math

from lamina.backend.common.masking import get_keras_mask
from lamina import config, ops, tree

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)

def _auto_name(class_name):
    """Keras's default name for an unnamed loss or metric: snake case, uniquified (``AUC`` -> ``auc``, ``auc_1``).

    Shares the counters of layer names, so ``clear_session()`` starts them again.
    """
    from lamina.utils.naming import to_snake_case, uniquify

    return uniquify(to_snake_case(class_name))


def standardize_reduction(reduction):
    """Return ``reduction`` checked against the allowed values.

    Raises:
        ValueError: for an unknown reduction, naming the allowed ones.

    Example:
    >>> from lamina.losses.loss import standardize_reduction
    >>> standardize_reduction("sum")
    'sum'
    """
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`: {reduction!r}. Expected one of "
            f"{list(REDUCTIONS)}."
        )
    return reduction


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Squeeze or expand the last axis of one input when the ranks differ by exactly 1.

    Example:
    >>> from lamina import ops
    >>> from lamina.losses.loss import squeeze_or_expand_to_same_rank
    >>> a, b = squeeze_or_expand_to_same_rank(ops.zeros((4, 1)), ops.zeros((4, 3, 1)))
    >>> tuple(a.shape), tuple(b.shape)
    ((4, 1), (4, 3))
    """
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, -1)
        else:
            x1 = ops.squeeze(x1, -1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, -1)
        else:
            x2 = ops.squeeze(x2, -1)
    return x1, x2


def _num_elements(x):
    shape = tuple(x.shape)
    if all(d is not None for d in shape):
        return math.prod(shape)
    return ops.prod(ops.convert_to_tensor(ops.shape(x), dtype="int32"))


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduce (already weighted) per-sample ``values`` as ``reduction`` says.

    Example:
    >>> from lamina import ops
    >>> from lamina.losses.loss import reduce_values
    >>> float(reduce_values(ops.convert_to_tensor([1.0, 2.0, 3.0]), reduction="sum"))
    6.0
    """
    if reduction is None or reduction == "none" or tuple(values.shape) in ((), (0,)):
        return values
    if reduction in ("sum_over_batch_size", "mean") and all(d is not None for d in values.shape):
        return ops.mean(values)  # sum / number of elements, as one kernel
    loss = ops.sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            loss = ops.divide_no_nan(loss, ops.cast(ops.sum(sample_weight), loss.dtype))
        else:
            n = _num_elements(values)
            if isinstance(n, int):
                loss = loss / n if n > 0 else loss
            else:
                loss = ops.divide_no_nan(loss, ops.cast(n, loss.dtype))
    return loss


def apply_mask(sample_weight, mask, dtype, reduction):
    """Merge a boolean ``mask`` into ``sample_weight`` (masked entries get weight 0).

    For the averaging reductions the valid entries are scaled so that the mean
    is over the valid entries only.
    """
    if mask is None:
        return sample_weight
    mask = ops.cast(mask, dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        total = ops.cast(_num_elements(mask), dtype)
        mask = mask * ops.divide_no_nan(total, ops.sum(mask))
    if sample_weight is None:
        return mask
    sample_weight = ops.cast(sample_weight, dtype)
    mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight)
    return sample_weight * mask


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", dtype=None):
    """Weight per-sample ``values`` by ``sample_weight`` and ``mask``, then reduce.

    Example:
    >>> from lamina import ops
    >>> from lamina.losses.loss import reduce_weighted_values
    >>> float(reduce_weighted_values(ops.convert_to_tensor([1.0, 3.0]), sample_weight=[1.0, 0.0]))
    0.5
    """
    reduction = standardize_reduction(reduction)
    values = ops.convert_to_tensor(values, dtype=dtype)
    if sample_weight is None and mask is None:
        return reduce_values(values, None, reduction)
    if sample_weight is not None:
        sample_weight = ops.convert_to_tensor(sample_weight, dtype=values.dtype)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        sample_weight = ops.cast(sample_weight, values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


def _convert_structure(x, convert):
    """Convert ``x`` to a tensor, or each tensor of a dict/list of tensors (nested outputs)."""
    if isinstance(x, dict) or (
        isinstance(x, (list, tuple)) and any(hasattr(e, "shape") or isinstance(e, dict) for e in x)
    ):
        return tree.map_structure(convert, x)
    return convert(x)


class Loss:
    """Base class of losses.

    Subclasses implement ``call(y_true, y_pred)``, which returns one value per
    sample (or per element); ``__call__`` weights and reduces them.

    Args:
        name: the loss's name (default: from the class name).
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, or ``"none"``/``None`` (no reduction).
            ``"sum_over_batch_size"`` and ``"mean"`` divide the weighted sum by
            the number of elements; ``"mean_with_sample_weight"`` divides it by
            the sum of the sample weights.
        dtype: the dtype of the computation (default ``floatx()``).

    Example:
    >>> import lamina
    >>> from lamina import ops
    >>> class MyMSE(lamina.losses.Loss):
    ...     def call(self, y_true, y_pred):
    ...         return ops.mean(ops.square(y_pred - y_true), axis=-1)
    >>> round(float(MyMSE()([[0.0, 1.0]], [[1.0, 1.0]])), 4)
    0.5
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or _auto_name(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype_arg = dtype
        self._dtype = str(dtype) if dtype is not None else config.floatx()

    @property
    def dtype(self):
        """The dtype the loss computes in."""
        return self._dtype

    def _convert_y_true(self, y_true):
        return ops.convert_to_tensor(y_true, dtype=self.dtype)

    def _output_mask(self, y_true, y_pred):
        """A boolean mask of the per-sample values to ignore, or None (a subclass hook)."""
        return None

    def _values_mask(self, values):
        """A boolean mask of the per-sample ``values`` to leave out of the reduction, or None (a subclass hook).

        Keras losses such as ``circle`` attach one to their values; here the loss says so."""
        return None

    def __call__(self, y_true, y_pred, sample_weight=None):
        in_mask = get_keras_mask(y_pred)
        if not (ops.is_tensor(y_pred) and ops.dtype(y_pred) == self.dtype):
            y_pred = _convert_structure(y_pred, lambda x: ops.convert_to_tensor(x, dtype=self.dtype))
        y_true = _convert_structure(y_true, self._convert_y_true)
        losses = self.call(y_true, y_pred)
        mask = None
        for m in (in_mask, self._output_mask(y_true, y_pred), self._values_mask(losses)):
            if m is not None:
                mask = m if mask is None else ops.logical_and(ops.cast(mask, "bool"), ops.cast(m, "bool"))
        return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask,
                                      reduction=self.reduction, dtype=self.dtype)

    def call(self, y_true, y_pred):
        """Return the per-sample loss values (subclasses implement this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement `call(y_true, y_pred)`.")

    def get_config(self):
        """Return the constructor arguments as a dict."""
        config_ = {"name": self.name, "reduction": self.reduction}
        if self._dtype_arg is not None:
            config_["dtype"] = self._dtype_arg
        return config_

    @classmethod
    def from_config(cls, config_):
        """Create a loss from ``get_config()``'s dict."""
        return cls(**config_)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, reduction={self.reduction}>"


class LossFunctionWrapper(Loss):
    """Wrap a loss function ``fn(y_true, y_pred, **kwargs)`` as a ``Loss`` object.

    Args:
        fn: the function, returning per-sample values.
        reduction: see ``Loss``.
        name: the loss's name (default: the function's name).
        dtype: see ``Loss``.
        **kwargs: passed to ``fn`` on each call.

    Example:
    >>> import lamina
    >>> loss = lamina.losses.LossFunctionWrapper(lamina.losses.mean_absolute_error)
    >>> round(float(loss([[0.0, 2.0]], [[1.0, 1.0]])), 4)
    1.0
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def _convert_y_true(self, y_true):
        # A function of integer class labels (``fn._integer_labels``: the sparse crossentropies) takes them as
        # they are: no round trip through the loss's float dtype (two copies a step, and inexact above 2**24).
        if getattr(self.fn, "_integer_labels", False):
            return ops.convert_to_tensor(y_true)
        return super()._convert_y_true(y_true)

    def _values_mask(self, values):
        # A loss function may name the values its reduction leaves out (``fn._values_mask``, e.g. ``circle``).
        hook = getattr(self.fn, "_values_mask", None)
        return hook(values) if hook is not None else None

    def call(self, y_true, y_pred):
        if not isinstance(y_true, (list, tuple, dict)):
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config_ = super().get_config()
        if type(self) is LossFunctionWrapper:
            config_["fn"] = getattr(self.fn, "__name__", None)
        config_.update(self._fn_kwargs)
        return config_

    @classmethod
    def from_config(cls, config_):
        config_ = dict(config_)
        if cls is LossFunctionWrapper and isinstance(config_.get("fn"), str):
            from lamina.losses import get

            config_["fn"] = get(config_["fn"])
        return cls(**config_)
