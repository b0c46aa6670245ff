"""Reduction metrics: ``Sum``, ``Mean`` and ``MeanMetricWrapper`` (the mean of a function)."""

from lamina.backend.common.masking import get_keras_mask
from lamina import ops
from lamina.losses.loss import apply_mask, squeeze_or_expand_to_same_rank
from lamina.metrics.metric import Metric


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Weight ``values`` and reduce them to one value per sample (as Keras does).

    Returns ``(values, sample_weight)`` with ``values`` of rank <= 1 and the
    weight reduced to the same samples.
    """
    mask = get_keras_mask(values)
    if not (ops.is_tensor(values) and ops.dtype(values) == dtype):
        values = ops.cast(ops.convert_to_tensor(values), dtype)
    if sample_weight is not None:
        sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), dtype)
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask, dtype=dtype, reduction="sum")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = len(sample_weight.shape), len(values.shape)
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=tuple(range(weight_ndim, values_ndim)))
        sample_weight = ops.broadcast_to(sample_weight, tuple(values.shape))
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, weight_ndim)))
    if len(values.shape) > 1:
        values = reduce_fn(values, axis=tuple(range(1, len(values.shape))))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the given values.

    Args:
        name: the metric's name (default ``"sum"``).
        dtype: the dtype of the state and result.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.Sum()
    >>> m.update_state([1.0, 3.0, 5.0]); m.update_state([2.0], sample_weight=[0.5])
    >>> float(m.result())
    10.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, values, sample_weight=None):
        """Add the (weighted) sum of ``values``."""
        values, _ = reduce_to_samplewise_values(values, sample_weight, ops.sum, self.dtype)
        self.total.assign_add(ops.sum(values))

    def result(self):
        """Return the running sum."""
        return ops.cast(self.total.value, self.dtype)


class Mean(Metric):
    """The (weighted) mean of the given values.

    Values of rank > 1 are first averaged per sample; ``sample_weight`` weighs samples.

    Args:
        name: the metric's name (default ``"mean"``).
        dtype: the dtype of the state and result.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.Mean()
    >>> m.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1.0, 1.0, 0.0, 0.0])
    >>> float(m.result())
    2.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values, sample_weight=None):
        """Accumulate the (weighted) sum and count of ``values``."""
        if isinstance(sample_weight, (int, float)) and not isinstance(sample_weight, bool) and \
                ops.is_tensor(values) and len(values.shape) == 0:
            # One scalar with a constant weight (the trainer's loss tracker, every step): two updates.
            value = ops.cast(values, self.dtype)
            self.total.assign_add(value * float(sample_weight))
            self.count.assign_add(float(sample_weight))
            return
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, ops.mean, self.dtype)
        self.total.assign_add(ops.sum(values))
        if sample_weight is not None:
            self.count.assign_add(ops.cast(ops.sum(sample_weight), self.dtype))
        else:
            self.count.assign_add(float(values.shape[0]) if len(values.shape) >= 1 else 1.0)

    def result(self):
        """Return ``total / count`` (0 before any update)."""
        return ops.divide_no_nan(self.total.value, ops.cast(self.count.value, self.dtype))


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    Args:
        fn: a function returning per-sample values.
        name: the metric's name.
        dtype: the dtype of the state and result.
        **kwargs: passed to ``fn``.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.MeanMetricWrapper(lamina.metrics.binary_accuracy, name="acc", threshold=0.5)
    >>> m.update_state([[1.0], [0.0]], [[0.7], [0.6]]); float(m.result())
    0.5
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add ``fn(y_true, y_pred)`` for one batch, weighted by ``sample_weight``."""
        mask = get_keras_mask(y_pred)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if sample_weight is not None and mask is not None:
            sample_weight = apply_mask(sample_weight, mask, dtype=self.dtype, reduction="sum")
        elif mask is not None:
            sample_weight = ops.cast(mask, self.dtype)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config_ = super().get_config()
        if type(self) is MeanMetricWrapper:
            config_["fn"] = getattr(self._fn, "__name__", None)
        config_.update(self._fn_kwargs)
        return config_

    @classmethod
    def from_config(cls, config_):
        config_ = dict(config_)
        if cls is MeanMetricWrapper and isinstance(config_.get("fn"), str):
            from lamina.metrics import get_function

            config_["fn"] = get_function(config_["fn"])
        return cls(**config_)
