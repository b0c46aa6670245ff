"""Confusion-matrix accumulation shared by the threshold metrics (TP/FP/..., Precision, Recall, AUC).

Everything stays on device: predictions are compared with all thresholds at
once (or, for evenly spaced thresholds, bucketed with one ``segment_sum`` and a
reversed cumulative sum), and the counts are added to the variables with
``assign``. Predictions are expected in ``[0, 1]``; values outside are not
checked (a check would need a host sync).
"""

import numpy as np

from lamina import config, ops
from lamina.losses.loss import squeeze_or_expand_to_same_rank

NEG_INF = -1e10
TP, FP, TN, FN = "tp", "fp", "tn", "fn"


def parse_init_thresholds(thresholds, default_threshold=0.5):
    """Return ``thresholds`` as a list of floats, checked to lie in ``[0, 1]``."""
    if thresholds is None:
        return [float(default_threshold)]
    values = [float(t) for t in np.ravel(np.asarray(thresholds, dtype="float64"))]
    bad = [t for t in values if not 0.0 <= t <= 1.0]
    if bad:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: thresholds={thresholds}")
    return values


def is_evenly_distributed_thresholds(thresholds):
    """True when ``thresholds`` are ``i / (n - 1)`` for ``i`` in ``0..n-1`` (and n >= 3)."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype="float32") / (n - 1)
    return bool(np.allclose(np.asarray(thresholds, dtype="float32"), even, atol=config.epsilon()))


def filter_top_k(x, k):
    """Keep the top ``k`` values along the last axis; set the others to ``NEG_INF``."""
    _, idx = ops.top_k(x, k, sorted=False)
    mask = ops.sum(ops.one_hot(idx, x.shape[-1], dtype=ops.dtype(x)), axis=-2)
    return x * mask + NEG_INF * (1.0 - mask)


def _reverse_cumsum(x, axis):
    return ops.flip(ops.cumsum(ops.flip(x, axis=axis), axis=axis), axis=axis)


def _prepare(y_true, y_pred, sample_weight, top_k, class_id):
    y_pred = ops.cast(ops.convert_to_tensor(y_pred), "float32")
    y_true = ops.cast(ops.convert_to_tensor(y_true), "float32")
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), "float32")
        y_pred, sample_weight = squeeze_or_expand_to_same_rank(y_pred, sample_weight)
        # Per-sample weights of shape (batch,) for predictions (batch, classes, ...): weigh
        # every entry of a sample alike (as Keras does), not broadcast along the last axis.
        while 0 < len(sample_weight.shape) < len(y_pred.shape):
            sample_weight = ops.expand_dims(sample_weight, -1)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        y_true = y_true[..., class_id:class_id + 1]
        y_pred = y_pred[..., class_id:class_id + 1]
        if sample_weight is not None and len(sample_weight.shape) == len(y_pred.shape) \
                and sample_weight.shape[-1] not in (1, None):
            sample_weight = sample_weight[..., class_id:class_id + 1]
    if sample_weight is not None:
        sample_weight = ops.broadcast_to(sample_weight, tuple(y_pred.shape))
    return y_true, y_pred, sample_weight


def update_confusion_matrix_variables(variables_to_update, y_true, y_pred, thresholds, top_k=None,
                                      class_id=None, sample_weight=None, multi_label=False,
                                      label_weights=None, thresholds_distributed_evenly=False):
    """Add this batch's weighted TP/FP/TN/FN counts per threshold to the given variables.

    Args:
        variables_to_update: a dict from ``"tp"``, ``"fp"``, ``"tn"``, ``"fn"`` to Variables of
            shape ``(num_thresholds,)`` (or ``(num_thresholds, num_labels)`` when ``multi_label``).
        y_true: binary labels.
        y_pred: scores in ``[0, 1]``, the same shape as ``y_true``.
        thresholds: a list of floats; a prediction is positive when ``> threshold``.
        top_k: only the top ``k`` predictions of each sample count as positive.
        class_id: only this class (last-axis index) counts.
        sample_weight: optional weights, broadcastable to ``y_pred``.
        multi_label: keep one count per label (last axis) instead of pooling them.
        label_weights: optional per-label weights (not with ``multi_label``).
        thresholds_distributed_evenly: use bucketing. The thresholds must be evenly spaced:
            either with an epsilon margin below 0 and above 1 (AUC's: every prediction in
            ``[0, 1]`` is above the first), or exactly ``0, 1/(n-1), ..., 1`` (then predictions
            are clipped to ``[0, 1]`` and a prediction of 0 is above none of them).
    """
    y_true, y_pred, weights = _prepare(y_true, y_pred, sample_weight, top_k, class_id)
    if label_weights is not None and not multi_label:
        lw = ops.broadcast_to(ops.cast(ops.convert_to_tensor(label_weights), "float32"), tuple(y_pred.shape))
        weights = lw if weights is None else weights * lw
    labels = ops.cast(ops.cast(y_true, "bool"), "float32")
    if weights is None:
        weights = ops.ones_like(y_pred)
    if multi_label:
        num_labels = 1 if len(y_pred.shape) == 1 else int(np.prod(y_pred.shape[1:]))
        y_pred = ops.reshape(y_pred, (-1, num_labels))
        labels = ops.reshape(labels, (-1, num_labels))
        weights = ops.reshape(weights, (-1, num_labels))
    else:
        y_pred, labels, weights = (ops.reshape(t, (-1,)) for t in (y_pred, labels, weights))
    pos_w, neg_w = labels * weights, (1.0 - labels) * weights
    num_thresholds = len(thresholds)
    if thresholds_distributed_evenly and top_k is None:
        with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
        counts = _bucket_counts(y_pred, pos_w, neg_w, num_thresholds, multi_label, with_epsilon)
    else:
        counts = _tiled_counts(y_pred, pos_w, neg_w, thresholds, multi_label, variables_to_update)
    for key, var in variables_to_update.items():
        var.assign(var.value + ops.cast(counts[key], var.dtype))


def _tiled_counts(y_pred, pos_w, neg_w, thresholds, multi_label, wanted):
    t = ops.convert_to_tensor(np.asarray(thresholds, dtype="float32"))
    if multi_label:
        pred_pos = ops.cast(ops.expand_dims(y_pred, 0) > ops.reshape(t, (-1, 1, 1)), "float32")
    else:
        pred_pos = ops.cast(ops.expand_dims(y_pred, 0) > ops.reshape(t, (-1, 1)), "float32")
    counts = {}
    if TP in wanted or FN in wanted:
        tp = ops.sum(pred_pos * pos_w, axis=1)
        counts[TP] = tp
        if FN in wanted:
            counts[FN] = ops.sum(pos_w, axis=0) - tp
    if FP in wanted or TN in wanted:
        fp = ops.sum(pred_pos * neg_w, axis=1)
        counts[FP] = fp
        if TN in wanted:
            counts[TN] = ops.sum(neg_w, axis=0) - fp
    return counts


def _bucket_counts(y_pred, pos_w, neg_w, num_thresholds, multi_label, with_epsilon=True):
    # A prediction in (i/(T-1), (i+1)/(T-1)] is above thresholds 0..i: it falls in bucket i,
    # and the count above threshold i is the sum of buckets i..T-1 (a reversed cumsum).
    if with_epsilon:
        # Thresholds -eps, 1/(T-1), ..., (T-2)/(T-1), 1+eps: every prediction is above the first.
        bucket = ops.relu(ops.ceil(y_pred * (num_thresholds - 1)) - 1.0)
        bucket = ops.cast(ops.clip(bucket, 0, num_thresholds - 1), "int32")
        segments = num_thresholds
    else:
        # Thresholds 0, 1/(T-1), ..., 1 exactly: predictions are clipped to [0, 1], and a
        # prediction of 0 (bucket -1) is above no threshold: it goes to an extra, dropped bucket.
        bucket = ops.ceil(ops.clip(y_pred, 0.0, 1.0) * (num_thresholds - 1)) - 1.0
        bucket = ops.cast(ops.where(bucket < 0, float(num_thresholds), bucket), "int32")
        segments = num_thresholds + 1
    if multi_label:
        num_labels = y_pred.shape[-1]
        offsets = ops.arange(num_labels, dtype="int32") * segments
        ids = ops.reshape(bucket + ops.expand_dims(offsets, 0), (-1,))
        n = num_labels * segments

        def count(w):
            per = ops.segment_sum(ops.reshape(w, (-1,)), ids, num_segments=n)
            per = ops.reshape(per, (num_labels, segments))[:, :num_thresholds]
            return ops.transpose(_reverse_cumsum(per, 1))
    else:
        def count(w):
            per = ops.segment_sum(w, bucket, num_segments=segments)[:num_thresholds]
            return _reverse_cumsum(per, 0)
    tp, fp = count(pos_w), count(neg_w)
    return {TP: tp, FP: fp, FN: ops.sum(pos_w, axis=0) - tp, TN: ops.sum(neg_w, axis=0) - fp}
