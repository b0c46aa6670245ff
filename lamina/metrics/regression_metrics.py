"""Regression metrics: errors, cosine similarity, R2 and correlation."""

from lamina import config, ops
from lamina.losses import functions as lf
from lamina.losses.loss import squeeze_or_expand_to_same_rank
from lamina.metrics.metric import Metric
from lamina.metrics.reduction_metrics import Mean, MeanMetricWrapper


class MeanSquaredError(MeanMetricWrapper):
    """The mean squared error between ``y_true`` and ``y_pred``.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.MeanSquaredError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]]); float(m.result())
    0.25
    """

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(lf.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean absolute error between ``y_true`` and ``y_pred``.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.MeanAbsoluteError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]]); float(m.result())
    0.25
    """

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(lf.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The mean absolute percentage error between ``y_true`` and ``y_pred``.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.MeanAbsolutePercentageError()
    >>> m.update_state([[2.0, 4.0]], [[1.0, 4.0]]); float(m.result())
    25.0
    """

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(lf.mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """The mean squared logarithmic error between ``y_true`` and ``y_pred``.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.MeanSquaredLogarithmicError()
    >>> m.update_state([[0.0]], [[1.718282]]); round(float(m.result()), 3)
    1.0
    """

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(lf.mean_squared_logarithmic_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """The square root of the mean squared error.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.RootMeanSquaredError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]]); float(m.result())
    0.5
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate the squared errors of one batch."""
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state(ops.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        """Return ``sqrt(total / count)``."""
        return ops.sqrt(ops.divide_no_nan(self.total.value, self.count.value))


def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity of ``y_true`` and ``y_pred`` along ``axis`` (1 = same direction).

    Example:
    >>> from lamina import metrics, ops
    >>> ops.convert_to_numpy(metrics.cosine_similarity([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])).round(3)
    array([0., 1.], dtype=float32)
    """
    return -lf.cosine_similarity(y_true, y_pred, axis=axis)


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity between labels and predictions.

    Args:
        name: the metric's name.
        dtype: the dtype of the state and result.
        axis: the axis along which the similarity is computed (default -1).

    Example:
    >>> import lamina
    >>> m = lamina.metrics.CosineSimilarity()
    >>> m.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]); round(float(m.result()), 3)
    0.5
    """

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


class LogCoshError(MeanMetricWrapper):
    """The mean of ``log(cosh(y_pred - y_true))``.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.LogCoshError()
    >>> m.update_state([[0.0, 0.0]], [[1.0, 0.0]]); round(float(m.result()), 3)
    0.217
    """

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(lf.log_cosh, name=name, dtype=dtype)


def _standardize(x, axis):
    mean = ops.mean(x, axis=axis, keepdims=True)
    return (x - mean) / ops.std(x, axis=axis, keepdims=True)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson correlation coefficient of ``y_true`` and ``y_pred`` along ``axis``.

    Example:
    >>> from lamina import metrics, ops
    >>> ops.convert_to_numpy(metrics.pearson_correlation([[1.0, 2.0, 3.0]], [[2.0, 4.0, 7.0]])).round(3)
    array([0.993], dtype=float32)
    """
    y_true, y_pred = lf._prepare(y_true, y_pred, who="pearson_correlation")
    return ops.mean(_standardize(y_true, axis) * _standardize(y_pred, axis), axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Concordance correlation coefficient of ``y_true`` and ``y_pred`` along ``axis``.

    ``2 * cov / (var_true + var_pred + (mean_true - mean_pred) ** 2)``.

    Example:
    >>> from lamina import metrics, ops
    >>> ops.convert_to_numpy(metrics.concordance_correlation([[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]])).round(3)
    array([1.], dtype=float32)
    """
    y_true, y_pred = lf._prepare(y_true, y_pred, who="concordance_correlation")
    mt = ops.mean(y_true, axis=axis, keepdims=True)
    mp = ops.mean(y_pred, axis=axis, keepdims=True)
    cov = ops.mean((y_true - mt) * (y_pred - mp), axis=axis)
    norm = (ops.var(y_true, axis=axis) + ops.var(y_pred, axis=axis)
            + ops.squeeze(ops.square(mt - mp), axis))
    return 2.0 * cov / (norm + config.epsilon())


class PearsonCorrelation(MeanMetricWrapper):
    """The mean Pearson correlation coefficient (computed per sample along ``axis``).

    Example:
    >>> import lamina
    >>> m = lamina.metrics.PearsonCorrelation()
    >>> m.update_state([[1.0, 2.0, 3.0]], [[2.0, 4.0, 7.0]]); round(float(m.result()), 3)
    0.993
    """

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)


class ConcordanceCorrelation(MeanMetricWrapper):
    """The mean concordance correlation coefficient (computed per sample along ``axis``).

    Example:
    >>> import lamina
    >>> m = lamina.metrics.ConcordanceCorrelation()
    >>> m.update_state([[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]]); round(float(m.result()), 3)
    1.0
    """

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)


class R2Score(Metric):
    """The coefficient of determination (R²) of a regression, per output then aggregated.

    Expects 2D inputs ``(batch_size, num_outputs)`` (1D is treated as one output).
    Its state is created on the first update, from the number of outputs.

    Args:
        class_aggregation: ``"uniform_average"`` (default), ``"variance_weighted_average"``
            or None (one score per output).
        num_regressors: the number of independent regressors, for the adjusted R²
            (default 0: plain R²); its sample count is the number of target values, as in Keras.
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.R2Score()
    >>> m.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]]); round(float(m.result()), 3)
    0.571
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in ("uniform_average", "variance_weighted_average", None):
            raise ValueError(
                "R2Score: `class_aggregation` must be one of 'uniform_average', "
                f"'variance_weighted_average' or None, but received {class_aggregation!r}."
            )
        if not isinstance(num_regressors, int) or num_regressors < 0:
            raise ValueError(f"R2Score: `num_regressors` must be an int >= 0, but received {num_regressors!r}.")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim), but received "
                f"y_true.shape={tuple(y_true_shape)} and y_pred.shape={tuple(y_pred_shape)}."
            )
        n = y_pred_shape[-1]
        self.squared_sum = self.add_variable(shape=(n,), name="squared_sum")
        self.sum = self.add_variable(shape=(n,), name="sum")
        self.total_mse = self.add_variable(shape=(n,), name="residual")
        self.count = self.add_variable(shape=(n,), name="count")
        self.num_samples = self.add_variable(shape=(), name="num_samples")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate sums, squared sums and residuals of one batch."""
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if len(y_true.shape) == 1:
            y_true, y_pred = ops.expand_dims(y_true, -1), ops.expand_dims(y_pred, -1)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        sw = 1.0 if sample_weight is None else ops.convert_to_tensor(sample_weight, dtype=self.dtype)
        sw = ops.convert_to_tensor(sw, dtype=self.dtype)
        if len(sw.shape) == 1:
            sw = ops.expand_dims(sw, 1)
        sw = ops.broadcast_to(sw, tuple(y_true.shape))
        weighted = y_true * sw
        self.sum.assign(self.sum.value + ops.sum(weighted, axis=0))
        self.squared_sum.assign(self.squared_sum.value + ops.sum(y_true * weighted, axis=0))
        self.total_mse.assign(self.total_mse.value + ops.sum(ops.square(y_true - y_pred) * sw, axis=0))
        self.count.assign(self.count.value + ops.sum(sw, axis=0))
        # n of the adjusted R² counts every target value, as Keras counts it (ops.size(y_true)), not the rows
        self.num_samples.assign(self.num_samples.value + ops.cast(ops.size(y_true), self.dtype))

    def result(self):
        """Return the R² score (aggregated as configured)."""
        if not self._built:
            return ops.convert_to_tensor(0.0, dtype=self.dtype)
        mean = self.sum.value / self.count.value
        total = self.squared_sum.value - self.sum.value * mean
        raw = 1.0 - self.total_mse.value / total
        raw = ops.where(ops.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = ops.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = ops.sum(total * raw) / ops.sum(total)
        else:
            score = raw
        if self.num_regressors:
            n = self.num_samples.value
            p = float(self.num_regressors)
            adjusted = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
            score = ops.where(n - 1.0 > p, adjusted, score)  # too few samples: no adjustment
        return score

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config_ = super().get_config()
        config_.update(class_aggregation=self.class_aggregation, num_regressors=self.num_regressors)
        return config_
