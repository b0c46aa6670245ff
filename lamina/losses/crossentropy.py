"""Crossentropy loss functions: binary, categorical, sparse categorical and their focal forms.

Out-of-range integer labels in ``sparse_categorical_crossentropy`` give a NaN loss
for that sample (never a silently wrong number) without reading the labels on
the host; the trainer checks label ranges on the data itself, where it can
raise a clear error before training starts.
"""

import warnings

from lamina import config, ops
from lamina.losses.functions import check_broadcastable
from lamina.activations.activations import logits_of

_FLOATS = ("float16", "bfloat16", "float32", "float64")


def _float(x):
    x = ops.convert_to_tensor(x)
    return x if ops.dtype(x) in _FLOATS else ops.cast(x, config.floatx())


def _logits_of(y_pred, from_logits):
    """As Keras: the output of a softmax (last axis) or sigmoid activation carries its logits
    (``_keras_logits``); the crossentropy is then computed from them, which is one fused,
    numerically stable kernel and keeps a gradient where clipped probabilities would not."""
    if not from_logits:
        logits = logits_of(y_pred)
        if logits is not None and tuple(logits.shape) == tuple(y_pred.shape):
            return logits, True
    return y_pred, from_logits


def _check_axis(axis, fn):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"{fn}: `axis` must be an int, but received axis={axis!r}.")


def _check_smoothing(label_smoothing, fn):
    if not 0.0 <= float(label_smoothing) <= 1.0:
        raise ValueError(f"{fn}: `label_smoothing` must be in [0, 1], but received {label_smoothing}.")


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy, averaged over ``axis``.

    Args:
        y_true: targets in ``[0, 1]``.
        y_pred: probabilities, or logits when ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: squeeze the targets towards 0.5 by this fraction.
        axis: the axis to average over.

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.binary_crossentropy([[0.0, 1.0]], [[0.4, 0.6]])).round(3)
    array([0.511], dtype=float32)
    """
    _check_smoothing(label_smoothing, "binary_crossentropy")
    y_pred = _float(y_pred)
    y_pred, from_logits = _logits_of(y_pred, from_logits)
    y_true = ops.cast(y_true, ops.dtype(y_pred))
    check_broadcastable("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return ops.mean(ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)


def _check_same_shape(y_true, y_pred, fn):
    if tuple(y_true.shape) != tuple(y_pred.shape):
        hint = ""
        if len(y_true.shape) == len(y_pred.shape) - 1 or (
            len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1
        ):
            hint = (" Hint: the targets look like integer class indices; use "
                    "sparse_categorical_crossentropy (SparseCategoricalCrossentropy), or one-hot "
                    "encode them with lamina.ops.one_hot.")
        raise ValueError(
            f"{fn}: `y_true` and `y_pred` must have the same shape, but received "
            f"y_true.shape={tuple(y_true.shape)} and y_pred.shape={tuple(y_pred.shape)}.{hint}"
        )


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical crossentropy between one-hot (or soft) targets and predicted class probabilities.

    Args:
        y_true: one-hot targets, the same shape as ``y_pred``.
        y_pred: probabilities (normalized along ``axis``), or logits when ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: mix the targets with the uniform distribution by this fraction.
        axis: the class axis.

    Raises:
        ValueError: when the shapes differ (with a hint for integer labels).

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])).round(3)
    array([0.693], dtype=float32)
    """
    _check_axis(axis, "categorical_crossentropy")
    _check_smoothing(label_smoothing, "categorical_crossentropy")
    y_pred = _float(y_pred)
    y_true = ops.cast(y_true, ops.dtype(y_pred))
    _check_same_shape(y_true, y_pred, "categorical_crossentropy")
    if axis in (-1, len(y_pred.shape) - 1):
        y_pred, from_logits = _logits_of(y_pred, from_logits)
    if label_smoothing:
        num_classes = ops.cast(ops.shape(y_true)[axis], ops.dtype(y_pred))
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Crossentropy between integer class labels and predicted class probabilities.

    A label outside ``[0, num_classes)`` (other than ``ignore_class``) makes that
    sample's loss NaN, so the mistake shows instead of training on garbage;
    lamina's trainer checks the label range of the data up front and raises a
    clear ``ValueError`` there. Entries equal to ``ignore_class`` get loss 0 (and
    the ``SparseCategoricalCrossentropy`` class leaves them out of the mean).

    Args:
        y_true: integer labels, shaped like ``y_pred`` without the class axis
            (a trailing axis of size 1 is allowed).
        y_pred: probabilities, or logits when ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label value to ignore (e.g. a padding/void class), or None.
        axis: the class axis of ``y_pred``.

    Raises:
        ValueError: when the label shape does not fit ``y_pred``.

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.sparse_categorical_crossentropy([1, 0], [[0.5, 0.5], [0.9, 0.1]])).round(3)
    array([0.693, 0.105], dtype=float32)
    """
    _check_axis(axis, "sparse_categorical_crossentropy")
    y_pred = _float(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    if axis not in (-1, len(y_pred.shape) - 1):
        y_pred = ops.moveaxis(y_pred, axis, -1)
    if len(y_true.shape) != len(y_pred.shape) - 1 or tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        hint = ""
        if len(y_true.shape) == len(y_pred.shape):
            hint = (" Hint: the targets look one-hot encoded; use categorical_crossentropy "
                    "(CategoricalCrossentropy) instead.")
        raise ValueError(
            "sparse_categorical_crossentropy expects integer labels of shape y_pred.shape without "
            f"the class axis, but received y_true.shape={tuple(y_true.shape)} and "
            f"y_pred.shape={tuple(y_pred.shape)}.{hint}"
        )
    y_pred, from_logits = _logits_of(y_pred, from_logits)
    if ignore_class is not None:
        keep = ops.not_equal(ops.cast(y_true, "int32"), int(ignore_class))
        y_true = ops.where(keep, y_true, 0)
    # The engine's kernel: log-softmax (logits) or the log of the clipped normalised
    # probabilities, then a gather; a label out of range gives NaN for its sample.
    res = ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=-1)
    if ignore_class is not None:
        res = ops.where(keep, res, 0.0)
    return res


sparse_categorical_crossentropy._integer_labels = True  # LossFunctionWrapper keeps its labels' integer dtype


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary focal crossentropy: ``(1 - p_t) ** gamma * bce``, averaged over ``axis``.

    ``p_t`` is the predicted probability of the true class. With
    ``apply_class_balancing`` the positives are weighted by ``alpha`` and the
    negatives by ``1 - alpha``.

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.binary_focal_crossentropy([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])).round(3)
    array([0.33 , 0.206], dtype=float32)
    """
    _check_smoothing(label_smoothing, "binary_focal_crossentropy")
    y_pred = _float(y_pred)
    y_true = ops.cast(y_true, ops.dtype(y_pred))
    check_broadcastable("binary_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    bce = ops.binary_crossentropy(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal = ops.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return ops.mean(focal, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Categorical focal crossentropy: ``sum(alpha * (1 - p) ** gamma * -y_true * log(p))`` over ``axis``.

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.categorical_focal_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])).round(4)
    array([0.0433], dtype=float32)
    """
    _check_axis(axis, "categorical_focal_crossentropy")
    _check_smoothing(label_smoothing, "categorical_focal_crossentropy")
    y_pred = _float(y_pred)
    y_true = ops.cast(y_true, ops.dtype(y_pred))
    _check_same_shape(y_true, y_pred, "categorical_focal_crossentropy")
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "categorical_focal_crossentropy received y_pred with a last dimension of 1: with one "
            "class the loss is always 0. Use binary_focal_crossentropy for binary problems.",
            stacklevel=2,
        )
    if label_smoothing:
        num_classes = ops.cast(ops.shape(y_true)[axis], ops.dtype(y_pred))
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    if from_logits:
        y_pred = ops.softmax(y_pred, axis=axis)
    eps = config.epsilon()
    output = ops.clip(y_pred / ops.sum(y_pred, axis=axis, keepdims=True), eps, 1.0 - eps)
    cce = -y_true * ops.log(output)
    return ops.sum(alpha * ops.power(1.0 - output, gamma) * cce, axis=axis)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Generalized cross entropy ``(1 - p ** q) / q``, ``p`` the predicted probability of the true class.

    A noise-robust crossentropy (Zhang and Sabuncu, 2018): as ``q`` goes to 0 it approaches
    the crossentropy ``-log(p)``; at ``q = 1`` it is the mean absolute error ``1 - p``.
    A label outside ``[0, num_classes)`` gives NaN for its sample.

    Args:
        y_true: integer class labels, shape ``(batch_size,)`` or ``(batch_size, 1)``.
        y_pred: predicted class probabilities, shape ``(batch_size, num_classes)``.
        q: the noise parameter, a float > 0 (the ``CategoricalGeneralizedCrossEntropy`` class
            takes it in ``(0, 1)``).

    Returns:
        The losses, shape ``(batch_size,)``.

    Raises:
        ValueError: for ``q <= 0`` or labels whose shape does not fit ``y_pred``.

    Example:
    >>> from lamina import losses, ops
    >>> loss = losses.categorical_generalized_cross_entropy([1, 0], [[0.75, 0.25], [0.64, 0.36]], q=0.5)
    >>> ops.convert_to_numpy(loss).round(4)
    array([1. , 0.4], dtype=float32)
    """
    fn = "categorical_generalized_cross_entropy"
    if isinstance(q, (int, float)) and not q > 0:
        raise ValueError(f"{fn}: `q` must be > 0 (the class takes it in (0, 1)), but received q={q!r}.")
    y_pred = _float(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    if len(y_true.shape) != len(y_pred.shape) - 1 or tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(
            f"{fn} expects integer labels of shape y_pred.shape without the class axis (a trailing axis of "
            f"size 1 is allowed), but received y_true.shape={tuple(y_true.shape)} and "
            f"y_pred.shape={tuple(y_pred.shape)}. Hint: for one-hot targets, take ops.argmax(y_true, axis=-1)."
        )
    num_classes = y_pred.shape[-1]
    labels = ops.cast(y_true, "int32")
    p = ops.sum(y_pred * ops.one_hot(labels, num_classes, dtype=ops.dtype(y_pred)), axis=-1)
    loss = (1.0 - ops.power(p, q)) / q
    out_of_range = ops.logical_or(ops.less(labels, 0), ops.greater_equal(labels, num_classes))
    return ops.where(out_of_range, float("nan"), loss)
