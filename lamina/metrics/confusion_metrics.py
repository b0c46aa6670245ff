"""Threshold metrics: TruePositives ... FalseNegatives, Precision, Recall and AUC."""

import numpy as np

from lamina import config, ops
from lamina.metrics import metrics_utils as mu
from lamina.metrics.metric import Metric


class _ConfusionMatrixConditionCount(Metric):
    _cond = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = mu.parse_init_thresholds(thresholds, default_threshold=0.5)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),), name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add this batch's (weighted) count per threshold."""
        mu.update_confusion_matrix_variables({self._cond: self.accumulator}, y_true, y_pred,
                                             self.thresholds, sample_weight=sample_weight)

    def result(self):
        """Return the count (one per threshold, or a scalar for a single threshold)."""
        value = self.accumulator.value
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        config_ = super().get_config()
        config_["thresholds"] = self.init_thresholds
        return config_


class TruePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true positives: label 1 and prediction above the threshold.

    Args:
        thresholds: a float or list of floats in ``[0, 1]`` (default 0.5); a
            prediction above a threshold counts as positive.
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.TruePositives()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); float(m.result())
    2.0
    """

    _cond = mu.TP


class FalsePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false positives (see ``TruePositives`` for the arguments).

    Example:
    >>> import lamina
    >>> m = lamina.metrics.FalsePositives()
    >>> m.update_state([0, 1, 0, 0], [0, 0, 1, 1]); float(m.result())
    2.0
    """

    _cond = mu.FP


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true negatives (see ``TruePositives`` for the arguments).

    Example:
    >>> import lamina
    >>> m = lamina.metrics.TrueNegatives()
    >>> m.update_state([0, 1, 0, 0], [1, 1, 0, 0]); float(m.result())
    2.0
    """

    _cond = mu.TN


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false negatives (see ``TruePositives`` for the arguments).

    Example:
    >>> import lamina
    >>> m = lamina.metrics.FalseNegatives()
    >>> m.update_state([0, 1, 1, 1], [0, 1, 0, 0]); float(m.result())
    2.0
    """

    _cond = mu.FN


class _PrecisionRecall(Metric):
    _second = None  # FP for precision, FN for recall

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else mu.NEG_INF
        if thresholds is None and top_k is not None:
            self.thresholds = [default]
        else:
            self.thresholds = mu.parse_init_thresholds(thresholds, default_threshold=default)
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), name="true_positives")
        second = "false_positives" if self._second == mu.FP else "false_negatives"
        self._other = self.add_variable(shape=(n,), name=second)
        setattr(self, second, self._other)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate this batch's true positives and false positives/negatives."""
        mu.update_confusion_matrix_variables(
            {mu.TP: self.true_positives, self._second: self._other}, y_true, y_pred,
            self.thresholds, top_k=self.top_k, class_id=self.class_id, sample_weight=sample_weight)

    def result(self):
        """Return the ratio (one per threshold, or a scalar for a single threshold)."""
        tp = self.true_positives.value
        value = ops.divide_no_nan(tp, tp + self._other.value)
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        config_ = super().get_config()
        config_.update(thresholds=self.init_thresholds, top_k=self.top_k, class_id=self.class_id)
        return config_


class Precision(_PrecisionRecall):
    """Precision: ``true_positives / (true_positives + false_positives)``.

    Args:
        thresholds: a float or list of floats in ``[0, 1]`` (default 0.5).
        top_k: if set, only the ``top_k`` highest predictions of each sample count as positive.
        class_id: if set, only this class (last-axis index) is considered.
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.Precision()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); round(float(m.result()), 4)
    0.6667
    """

    _second = mu.FP


class Recall(_PrecisionRecall):
    """Recall: ``true_positives / (true_positives + false_negatives)``.

    Args are as for ``Precision``.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.Recall()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); round(float(m.result()), 4)
    0.6667
    """

    _second = mu.FN


class AUC(Metric):
    """Area under the ROC or precision-recall curve, from confusion counts at fixed thresholds.

    Args:
        num_thresholds: the number of thresholds (> 1, default 200), evenly spaced in [0, 1].
        curve: ``"ROC"`` (default) or ``"PR"``.
        summation_method: ``"interpolation"`` (default; for PR the Davis & Goadrich
            interpolation), ``"minoring"`` or ``"majoring"``.
        name: the metric's name.
        dtype: the dtype of the state and result.
        thresholds: explicit thresholds in [0, 1] (then ``num_thresholds`` is ignored).
        multi_label: treat the last axis as independent labels and average their AUCs.
        num_labels: the number of labels (with ``multi_label``; else taken from the first batch).
        label_weights: per-label weights for the average (or for pooling, without ``multi_label``).
        from_logits: apply a sigmoid to the predictions first.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.AUC(num_thresholds=3)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]); round(float(m.result()), 4)
    0.75
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None,
                 dtype=None, thresholds=None, multi_label=False, num_labels=None, label_weights=None,
                 from_logits=False):
        super().__init__(name=name, dtype=dtype)
        curve = str(curve).upper()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'AUC: invalid `curve` argument {curve!r}; expected "ROC" or "PR".')
        summation_method = str(summation_method).lower()
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f"AUC: invalid `summation_method` {summation_method!r}; expected 'interpolation', "
                "'minoring' or 'majoring'."
            )
        self.curve, self.summation_method = curve, summation_method
        eps = config.epsilon()
        if thresholds is not None:
            inner = sorted(mu.parse_init_thresholds(thresholds))
            self.num_thresholds = len(inner) + 2
            self._thresholds_distributed_evenly = mu.is_evenly_distributed_thresholds(
                [0.0] + inner + [1.0])
        else:
            if not isinstance(num_thresholds, int) or num_thresholds <= 1:
                raise ValueError(
                    f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        self._thresholds = [0.0 - eps] + inner + [1.0 + eps]
        self._init_thresholds = thresholds
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else [float(w) for w in np.ravel(label_weights)]
        self._from_logits = from_logits
        self._built = False
        if not multi_label or num_labels is not None:
            self._build(num_labels)

    @property
    def thresholds(self):
        """The thresholds, including the two outside [0, 1]."""
        return list(self._thresholds)

    def _build(self, num_labels):
        shape = (self.num_thresholds, num_labels) if self.multi_label else (self.num_thresholds,)
        self.num_labels = num_labels
        self.true_positives = self.add_variable(shape=shape, name="true_positives")
        self.false_positives = self.add_variable(shape=shape, name="false_positives")
        self.true_negatives = self.add_variable(shape=shape, name="true_negatives")
        self.false_negatives = self.add_variable(shape=shape, name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate this batch's confusion counts at every threshold."""
        y_pred = ops.convert_to_tensor(y_pred)
        if not self._built:
            if len(y_pred.shape) < 2:
                raise ValueError(
                    "AUC(multi_label=True) expects predictions of shape (batch_size, num_labels), "
                    f"but received shape {tuple(y_pred.shape)}."
                )
            self._build(int(np.prod(y_pred.shape[1:])))
        if self._from_logits:
            y_pred = ops.sigmoid(y_pred)
        mu.update_confusion_matrix_variables(
            {mu.TP: self.true_positives, mu.FP: self.false_positives,
             mu.TN: self.true_negatives, mu.FN: self.false_negatives},
            y_true, y_pred, self._thresholds, sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly)

    def _by_label(self, terms):
        if not self.multi_label:
            return ops.sum(terms)
        by_label = ops.sum(terms, axis=0)
        if self.label_weights is None:
            return ops.mean(by_label)
        lw = ops.convert_to_tensor(np.asarray(self.label_weights, dtype="float32"))
        return ops.divide_no_nan(ops.sum(by_label * lw), ops.sum(lw))

    def interpolate_pr_auc(self):
        """The PR-AUC with Davis & Goadrich's interpolation between thresholds."""
        n = self.num_thresholds
        tp, fp, fn = self.true_positives.value, self.false_positives.value, self.false_negatives.value
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        slope = ops.divide_no_nan(dtp, ops.maximum(dp, 0.0))
        intercept = tp[1:] - slope * p[1:]
        both = ops.logical_and(p[: n - 1] > 0, p[1:] > 0)
        safe_ratio = ops.where(both, ops.divide_no_nan(p[: n - 1], ops.maximum(p[1:], 0.0)),
                               ops.ones_like(p[1:]))
        increments = ops.divide_no_nan(slope * (dtp + intercept * ops.log(safe_ratio)),
                                       ops.maximum(tp[1:] + fn[1:], 0.0))
        return self._by_label(increments)

    def result(self):
        """Return the area under the curve."""
        if not self._built:
            return ops.convert_to_tensor(0.0, dtype=self.dtype)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        n = self.num_thresholds
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        recall = ops.divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = ops.divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, ops.divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[: n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = ops.minimum(y[: n - 1], y[1:])
        else:
            heights = ops.maximum(y[: n - 1], y[1:])
        return self._by_label((x[: n - 1] - x[1:]) * heights)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config_ = super().get_config()
        config_.update(
            num_thresholds=self.num_thresholds, curve=self.curve,
            summation_method=self.summation_method, multi_label=self.multi_label,
            num_labels=self.num_labels if self.multi_label else None,
            label_weights=self.label_weights, from_logits=self._from_logits,
        )
        if self._init_thresholds is not None:
            config_["thresholds"] = self._thresholds[1:-1]
        return config_
