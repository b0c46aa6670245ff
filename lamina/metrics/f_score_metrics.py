"""F-scores: ``FBetaScore`` and ``F1Score``."""

from lamina import config, ops
from lamina.metrics.metric import Metric


class FBetaScore(Metric):
    """The F-beta score: ``(1 + beta**2) * precision * recall / (beta**2 * precision + recall)``.

    Works on 2D inputs ``(batch_size, num_classes)`` (one-hot or multi-label
    targets); the state is created on the first update.

    Args:
        average: None (one score per class), ``"micro"`` (pool all classes),
            ``"macro"`` (mean over classes) or ``"weighted"`` (mean weighted by support).
        beta: the weight of recall relative to precision (> 0, default 1.0).
        threshold: predictions above it count as positive; None (default)
            means the highest prediction of each row is positive.
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.FBetaScore(beta=2.0, threshold=0.5)
    >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
    ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    >>> lamina.ops.convert_to_numpy(m.result()).round(3)
    array([0.385, 0.909, 0.833], dtype=float32)
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "FBetaScore: invalid `average` argument value. Expected one of: None, 'micro', "
                f"'macro', 'weighted'. Received: average={average!r}"
            )
        if not isinstance(beta, (int, float)) or isinstance(beta, bool) or beta <= 0.0:
            raise ValueError(f"FBetaScore: `beta` must be a float > 0. Received: beta={beta!r}")
        if threshold is not None and (not isinstance(threshold, (int, float)) or not 0 < threshold <= 1):
            raise ValueError(
                f"FBetaScore: `threshold` must be a float in (0, 1]. Received: threshold={threshold!r}")
        self.average = average
        self.beta = float(beta)
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs with shape (batch_size, output_dim). "
                f"Received input shapes: y_pred.shape={tuple(y_pred_shape)} and "
                f"y_true.shape={tuple(y_true_shape)}."
            )
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        self.true_positives = self.add_variable(shape=shape, name="true_positives")
        self.false_positives = self.add_variable(shape=shape, name="false_positives")
        self.false_negatives = self.add_variable(shape=shape, name="false_negatives")
        self.intermediate_weights = self.add_variable(shape=shape, name="intermediate_weights")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate weighted true positives, false positives and false negatives."""
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if self.threshold is None:
            top = ops.max(y_pred, axis=-1, keepdims=True)
            y_pred = ops.logical_and(y_pred >= top, ops.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = ops.cast(y_pred, self.dtype)
        sw = None if sample_weight is None else ops.expand_dims(
            ops.reshape(ops.convert_to_tensor(sample_weight, dtype=self.dtype), (-1,)), 1)

        def weighted_sum(v):
            return ops.sum(v if sw is None else v * sw, axis=self.axis)

        self.true_positives.assign(self.true_positives.value + weighted_sum(y_pred * y_true))
        self.false_positives.assign(self.false_positives.value + weighted_sum(y_pred * (1.0 - y_true)))
        self.false_negatives.assign(self.false_negatives.value + weighted_sum((1.0 - y_pred) * y_true))
        self.intermediate_weights.assign(self.intermediate_weights.value + weighted_sum(y_true))

    def result(self):
        """Return the score(s), averaged as configured."""
        if not self._built:
            return ops.convert_to_tensor(0.0, dtype=self.dtype)
        eps = config.epsilon()
        tp = self.true_positives.value
        precision = tp / (tp + self.false_positives.value + eps)
        recall = tp / (tp + self.false_negatives.value + eps)
        b2 = self.beta ** 2
        score = (precision * recall) / (b2 * precision + recall + eps) * (1.0 + b2)
        if self.average == "weighted":
            w = self.intermediate_weights.value
            score = ops.sum(score * (w / (ops.sum(w) + eps)))
        elif self.average is not None:
            score = ops.mean(score)
        return score

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config_ = super().get_config()
        config_.update(average=self.average, beta=self.beta, threshold=self.threshold)
        return config_


class F1Score(FBetaScore):
    """The F1 score, the harmonic mean of precision and recall (``FBetaScore`` with ``beta=1``).

    Args:
        average: None, ``"micro"``, ``"macro"`` or ``"weighted"`` (see ``FBetaScore``).
        threshold: see ``FBetaScore``.
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.F1Score(threshold=0.5)
    >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
    ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    >>> lamina.ops.convert_to_numpy(m.result()).round(3)
    array([0.5  , 0.8  , 0.667], dtype=float32)
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config_ = super().get_config()
        del config_["beta"]
        return config_
