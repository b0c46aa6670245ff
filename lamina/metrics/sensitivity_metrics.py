"""Metrics read off a curve at a target: PrecisionAtRecall, RecallAtPrecision,
SensitivityAtSpecificity and SpecificityAtSensitivity.

Each one accumulates the four confusion counts at a fixed grid of thresholds
(``0, 1/(n-1), ..., 1``; a single threshold 0.5 when ``num_thresholds=1``). Its
result is the best value of one rate over the thresholds where another rate
reaches the target: ``max(dependent[i] for i where constrained[i] >= target)``,
or 0.0 when no threshold reaches it. A rate whose denominator is zero counts as
0 (so precision is 0 at a threshold no prediction exceeds). The update and the
result run with ``lamina.ops`` on device, inside compiled steps too.
"""

import math
import numbers

from lamina import ops
from lamina.metrics import metrics_utils as mu
from lamina.metrics.metric import Metric


def _threshold_grid(num_thresholds):
    if num_thresholds == 1:
        return [0.5]
    step = num_thresholds - 1
    return [0.0] + [(i + 1) * 1.0 / step for i in range(num_thresholds - 2)] + [1.0]


def _check_target(owner, arg, value):
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{owner}: argument `{arg}` must be a number in the range [0, 1]. "
            f"Received: {arg}={value!r} of type {type(value).__name__}."
        )
    value = float(value)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(
            f"{owner}: argument `{arg}` must be in the range [0, 1]. Received: {arg}={value!r}."
        )
    return value


class _RateAtTarget(Metric):
    """Base: confusion counts at ``num_thresholds`` thresholds, and a constrained maximum."""

    _target_arg = None  # the constructor argument naming the target: "recall", ...

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        owner = type(self).__name__
        value = _check_target(owner, self._target_arg, value)
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, numbers.Integral) \
                or num_thresholds <= 0:
            raise ValueError(
                f"{owner}: argument `num_thresholds` must be an integer > 0. "
                f"Received: num_thresholds={num_thresholds!r}."
            )
        if class_id is not None and (isinstance(class_id, bool)
                                     or not isinstance(class_id, numbers.Integral) or class_id < 0):
            raise ValueError(
                f"{owner}: argument `class_id` must be None or an integer >= 0 (an index on the "
                f"last axis of the predictions). Received: class_id={class_id!r}."
            )
        super().__init__(name=name, dtype=dtype)
        setattr(self, self._target_arg, value)
        self.value = value
        self.num_thresholds = int(num_thresholds)
        self.class_id = None if class_id is None else int(class_id)
        self.thresholds = _threshold_grid(self.num_thresholds)
        self._thresholds_distributed_evenly = self.num_thresholds > 1
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), name="true_positives")
        self.false_positives = self.add_variable(shape=(n,), name="false_positives")
        self.true_negatives = self.add_variable(shape=(n,), name="true_negatives")
        self.false_negatives = self.add_variable(shape=(n,), name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add this batch's (weighted) TP/FP/TN/FN at every threshold.

        Args:
            y_true: binary labels (cast to bool).
            y_pred: scores, expected in ``[0, 1]``, the same shape as ``y_true``.
            sample_weight: optional weights broadcastable to ``y_true`` (default 1; 0 masks).
        """
        if self.class_id is not None:
            y_pred = ops.convert_to_tensor(y_pred)
            shape = tuple(y_pred.shape)
            if len(shape) < 2:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}' with class_id={self.class_id} expects "
                    f"predictions of shape (batch_size, num_classes), but received shape {shape}."
                )
            if shape[-1] is not None and self.class_id >= shape[-1]:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': class_id={self.class_id} is out of range "
                    f"for predictions with {shape[-1]} classes (shape {shape}); expected "
                    f"0 <= class_id < {shape[-1]}."
                )
        mu.update_confusion_matrix_variables(
            {mu.TP: self.true_positives, mu.FP: self.false_positives,
             mu.TN: self.true_negatives, mu.FN: self.false_negatives},
            y_true, y_pred, self.thresholds, class_id=self.class_id, sample_weight=sample_weight,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly)

    def _rates(self):
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        return {
            "recall": ops.divide_no_nan(tp, tp + fn),  # = sensitivity
            "precision": ops.divide_no_nan(tp, tp + fp),
            "specificity": ops.divide_no_nan(tn, tn + fp),
        }

    def _best_where(self, constrained, dependent):
        """The largest ``dependent`` among thresholds where ``constrained >= value`` (else 0)."""
        target = ops.convert_to_tensor(self.value, dtype=ops.dtype(constrained))
        feasible = ops.greater_equal(constrained, target)
        return ops.max(ops.where(feasible, dependent, ops.zeros_like(dependent)))

    def get_config(self):
        config_ = super().get_config()
        config_.update(class_id=self.class_id, num_thresholds=self.num_thresholds)
        config_[self._target_arg] = self.value
        return config_


class PrecisionAtRecall(_RateAtTarget):
    """The best precision over the thresholds where recall is at least ``recall``.

    Precision is ``tp / (tp + fp)`` and recall ``tp / (tp + fn)``, both computed from
    weighted counts at each of ``num_thresholds`` thresholds. 0.0 when no threshold
    reaches the recall.

    Args:
        recall: the target recall, in ``[0, 1]``.
        num_thresholds: how many thresholds (default 200), evenly spaced over ``[0, 1]``
            (just 0.5 when 1).
        class_id: if set, only this class (last-axis index) of the labels and predictions counts.
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.PrecisionAtRecall(recall=0.6)
    >>> m.update_state([1, 0, 1, 1, 0, 0], [0.9, 0.7, 0.6, 0.2, 0.4, 0.1])
    >>> round(float(m.result()), 4)
    0.6667
    >>> m.reset_state()
    >>> m.update_state([1, 0, 1, 1, 0, 0], [0.9, 0.7, 0.6, 0.2, 0.4, 0.1],
    ...                sample_weight=[1, 3, 1, 1, 1, 1])
    >>> round(float(m.result()), 4)
    0.4286
    """

    _target_arg = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds=num_thresholds, class_id=class_id, name=name,
                         dtype=dtype)

    def result(self):
        """Return the best precision where recall >= ``recall`` (0.0 if none)."""
        rates = self._rates()
        return self._best_where(rates["recall"], rates["precision"])


class RecallAtPrecision(_RateAtTarget):
    """The best recall over the thresholds where precision is at least ``precision``.

    0.0 when no threshold reaches the precision (see ``PrecisionAtRecall`` for the rates).

    Args:
        precision: the target precision, in ``[0, 1]``.
        num_thresholds: how many thresholds (default 200), evenly spaced over ``[0, 1]``
            (just 0.5 when 1).
        class_id: if set, only this class (last-axis index) of the labels and predictions counts.
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.RecallAtPrecision(precision=0.75)
    >>> m.update_state([1, 0, 1, 1, 0, 0], [0.9, 0.7, 0.6, 0.2, 0.4, 0.1])
    >>> round(float(m.result()), 4)
    0.3333
    >>> m.reset_state()
    >>> m.update_state([1, 0, 1, 1, 0, 0], [0.9, 0.7, 0.6, 0.2, 0.4, 0.1],
    ...                sample_weight=[1, 0, 1, 1, 1, 1])
    >>> round(float(m.result()), 4)
    1.0
    """

    _target_arg = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds=num_thresholds, class_id=class_id, name=name,
                         dtype=dtype)

    def result(self):
        """Return the best recall where precision >= ``precision`` (0.0 if none)."""
        rates = self._rates()
        return self._best_where(rates["precision"], rates["recall"])


class SensitivityAtSpecificity(_RateAtTarget):
    """The best sensitivity over the thresholds where specificity is at least ``specificity``.

    Sensitivity (recall) is ``tp / (tp + fn)``, the share of positives found;
    specificity is ``tn / (tn + fp)``, the share of negatives rejected. 0.0 when
    no threshold reaches the specificity.

    Args:
        specificity: the target specificity, in ``[0, 1]``.
        num_thresholds: how many thresholds (default 200), evenly spaced over ``[0, 1]``
            (just 0.5 when 1).
        class_id: if set, only this class (last-axis index) of the labels and predictions counts.
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.SensitivityAtSpecificity(specificity=0.6)
    >>> m.update_state([1, 0, 1, 1, 0, 0], [0.9, 0.7, 0.6, 0.2, 0.4, 0.1])
    >>> round(float(m.result()), 4)
    0.6667
    >>> m.reset_state()
    >>> m.update_state([1, 0, 1, 1, 0, 0], [0.9, 0.7, 0.6, 0.2, 0.4, 0.1],
    ...                sample_weight=[1, 1, 1, 2, 1, 1])
    >>> round(float(m.result()), 4)
    0.5
    """

    _target_arg = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self):
        """Return the best sensitivity where specificity >= ``specificity`` (0.0 if none)."""
        rates = self._rates()
        return self._best_where(rates["specificity"], rates["recall"])


class SpecificityAtSensitivity(_RateAtTarget):
    """The best specificity over the thresholds where sensitivity is at least ``sensitivity``.

    0.0 when no threshold reaches the sensitivity (see ``SensitivityAtSpecificity`` for
    the rates).

    Args:
        sensitivity: the target sensitivity, in ``[0, 1]``.
        num_thresholds: how many thresholds (default 200), evenly spaced over ``[0, 1]``
            (just 0.5 when 1).
        class_id: if set, only this class (last-axis index) of the labels and predictions counts.
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.SpecificityAtSensitivity(sensitivity=0.9)
    >>> m.update_state([1, 0, 1, 1, 0, 0], [0.9, 0.7, 0.6, 0.2, 0.4, 0.1])
    >>> round(float(m.result()), 4)
    0.3333
    >>> m.reset_state()
    >>> m.update_state([1, 0, 1, 1, 0, 0], [0.9, 0.7, 0.6, 0.2, 0.4, 0.1],
    ...                sample_weight=[1, 1, 1, 1, 1, 4])
    >>> round(float(m.result()), 4)
    0.6667
    """

    _target_arg = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self):
        """Return the best specificity where sensitivity >= ``sensitivity`` (0.0 if none)."""
        rates = self._rates()
        return self._best_where(rates["recall"], rates["specificity"])
