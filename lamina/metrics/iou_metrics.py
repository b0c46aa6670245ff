"""Intersection-over-union metrics, accumulated in a confusion matrix on device."""

from lamina import config, ops
from lamina.metrics.metric import Metric


def confusion_matrix(labels, predictions, num_classes, weights=None, dtype="float32"):
    """The ``(num_classes, num_classes)`` matrix of (weighted) counts, rows = labels, columns = predictions.

    Pairs with a class outside ``[0, num_classes)`` are not counted.

    Example:
    >>> from lamina import ops
    >>> from lamina.metrics.iou_metrics import confusion_matrix
    >>> ops.convert_to_numpy(confusion_matrix([0, 1, 1], [0, 1, 0], 2)).tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    labels = ops.reshape(ops.cast(ops.convert_to_tensor(labels), "int32"), (-1,))
    predictions = ops.reshape(ops.cast(ops.convert_to_tensor(predictions), "int32"), (-1,))
    if weights is None:
        weights = ops.ones(tuple(labels.shape), dtype=dtype)
    weights = ops.cast(ops.broadcast_to(ops.convert_to_tensor(weights), tuple(labels.shape)), dtype)
    valid = ops.logical_and(ops.logical_and(labels >= 0, labels < num_classes),
                            ops.logical_and(predictions >= 0, predictions < num_classes))
    ids = ops.where(valid, labels * num_classes + predictions, 0)
    weights = ops.where(valid, weights, ops.zeros_like(weights))
    flat = ops.segment_sum(weights, ids, num_segments=num_classes * num_classes)
    return ops.reshape(flat, (num_classes, num_classes))


class _IoUBase(Metric):
    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "float32")
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"{type(self).__name__}: `num_classes` must be an int >= 1, but received {num_classes!r}.")
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(shape=(num_classes, num_classes), name="total_confusion_matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add this batch's confusion matrix."""
        y_true, y_pred = ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred)
        if not self.sparse_y_true:
            y_true = ops.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = ops.argmax(y_pred, axis=self.axis)
        y_true = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        y_pred = ops.reshape(ops.cast(y_pred, "int32"), (-1,))
        if y_true.shape[0] != y_pred.shape[0]:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': y_true and y_pred hold {y_true.shape[0]} and "
                f"{y_pred.shape[0]} class ids. Hint: for per-class scores or one-hot arrays pass "
                "sparse_y_pred=False / sparse_y_true=False (or use OneHotIoU / OneHotMeanIoU)."
            )
        if sample_weight is None:
            weights = ops.ones(tuple(y_true.shape), dtype=self.dtype)
        else:
            weights = ops.reshape(ops.convert_to_tensor(sample_weight, dtype=self.dtype), (-1,))
            weights = ops.broadcast_to(weights, tuple(y_true.shape))
        if self.ignore_class is not None:
            weights = weights * ops.cast(ops.not_equal(y_true, int(self.ignore_class)), self.dtype)
        cm = confusion_matrix(y_true, y_pred, self.num_classes, weights=weights, dtype=self.dtype)
        self.total_cm.assign(self.total_cm.value + cm)

    def get_config(self):
        config_ = super().get_config()
        config_.update(num_classes=self.num_classes, ignore_class=self.ignore_class,
                       sparse_y_true=self.sparse_y_true, sparse_y_pred=self.sparse_y_pred, axis=self.axis)
        return config_


class IoU(_IoUBase):
    """Intersection-over-union ``TP / (TP + FP + FN)``, averaged over ``target_class_ids``.

    Classes that never appear (in labels or predictions) are left out of the average.

    Args:
        num_classes: the number of classes.
        target_class_ids: the class ids to report (their IoUs are averaged).
        name: the metric's name.
        dtype: the dtype of the state and result.
        ignore_class: a label value to leave out (e.g. a void class), or None.
        sparse_y_true: whether labels are integers (else one-hot/scores, arg-maxed on ``axis``).
        sparse_y_pred: whether predictions are integers (else scores, arg-maxed on ``axis``).
        axis: the class axis for the arg-max.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.IoU(num_classes=2, target_class_ids=[0])
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1]); round(float(m.result()), 4)
    0.3333
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        ids = list(target_class_ids)
        bad = [i for i in ids if not 0 <= int(i) < num_classes]
        if bad:
            raise ValueError(
                f"{type(self).__name__}: target_class_ids {bad} are out of range for "
                f"num_classes={num_classes}; valid ids are 0..{num_classes - 1}."
            )
        self.target_class_ids = [int(i) for i in ids]

    def result(self):
        """Return the mean IoU over the target classes that occurred."""
        cm = self.total_cm.value
        tp = ops.diagonal(cm)
        denom = ops.sum(cm, axis=0) + ops.sum(cm, axis=1) - tp
        ids = ops.convert_to_tensor(self.target_class_ids, dtype="int32")
        tp, denom = ops.take(tp, ids), ops.take(denom, ids)
        valid = ops.sum(ops.cast(denom > 1e-9, self.dtype))
        iou = tp / (denom + config.epsilon())
        return ops.sum(iou) / (valid + config.epsilon())

    def get_config(self):
        config_ = super().get_config()
        config_["target_class_ids"] = self.target_class_ids
        return config_


class BinaryIoU(IoU):
    """IoU for binary labels, with predictions thresholded at ``threshold``.

    Args:
        target_class_ids: which of the classes 0 and 1 to average (default both).
        threshold: predictions ``>= threshold`` are class 1 (default 0.5).
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7]); round(float(m.result()), 4)
    0.3333
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Threshold the predictions, then add this batch's confusion matrix."""
        y_pred = ops.cast(ops.convert_to_tensor(y_pred, dtype=self.dtype) >= self.threshold, "int32")
        super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self._dtype_arg}


class MeanIoU(IoU):
    """The mean IoU over all ``num_classes`` classes.

    Args:
        num_classes: the number of classes.
        name, dtype, ignore_class, sparse_y_true, sparse_y_pred, axis: as in ``IoU``.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.MeanIoU(num_classes=2)
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1]); round(float(m.result()), 4)
    0.3333
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, list(range(num_classes)) if isinstance(num_classes, int) else [],
                         name=name, dtype=dtype, ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config_ = super().get_config()
        del config_["target_class_ids"]
        return config_


class OneHotIoU(IoU):
    """IoU for one-hot labels and per-class scores (both arg-maxed on ``axis``).

    Args:
        num_classes: the number of classes.
        target_class_ids: the class ids to average.
        name, dtype, ignore_class, axis: as in ``IoU``.
        sparse_y_pred: whether predictions are already integer classes (default False).

    Example:
    >>> import lamina
    >>> m = lamina.metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    >>> m.update_state([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]],
    ...                [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]],
    ...                sample_weight=[0.1, 0.2, 0.3, 0.4])
    >>> round(float(m.result()), 4)
    0.0714
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False, sparse_y_pred=sparse_y_pred,
                         axis=axis)

    def get_config(self):
        config_ = super().get_config()
        del config_["sparse_y_true"]
        return config_


class OneHotMeanIoU(MeanIoU):
    """Mean IoU over all classes, for one-hot labels and per-class scores.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.OneHotMeanIoU(num_classes=3)
    >>> m.update_state([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]],
    ...                [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]],
    ...                sample_weight=[0.1, 0.2, 0.3, 0.4])
    >>> round(float(m.result()), 4)
    0.0476
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config_ = super().get_config()
        del config_["sparse_y_true"]
        return config_
