"""Accuracy metrics and their per-sample functions."""

from lamina import backend, config, ops
from lamina.losses.loss import squeeze_or_expand_to_same_rank
from lamina.metrics.reduction_metrics import MeanMetricWrapper


def _t(x):
    return ops.convert_to_tensor(x)


def accuracy(y_true, y_pred):
    """1.0 where ``y_pred`` equals ``y_true`` exactly, else 0.0 (element-wise).

    Example:
    >>> from lamina import metrics, ops
    >>> ops.convert_to_numpy(metrics.accuracy([[1], [2]], [[1], [3]])).ravel().tolist()
    [1.0, 0.0]
    """
    y_pred = _t(y_pred)
    y_true = ops.cast(_t(y_true), ops.dtype(y_pred))
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return ops.cast(ops.equal(y_true, y_pred), config.floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``(y_pred > threshold)`` equals the binary target, else 0.0.

    Example:
    >>> from lamina import metrics, ops
    >>> ops.convert_to_numpy(metrics.binary_accuracy([[1], [0]], [[0.7], [0.6]])).ravel().tolist()
    [1.0, 0.0]
    """
    y_pred = _t(y_pred)
    y_true = _t(y_true)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = ops.cast(ops.greater(y_pred, threshold), ops.dtype(y_true))
    return ops.cast(ops.equal(y_true, y_pred), config.floatx())


def categorical_accuracy(y_true, y_pred):
    """1.0 where the arg-max of ``y_pred`` matches that of the one-hot ``y_true``.

    Example:
    >>> from lamina import metrics, ops
    >>> ops.convert_to_numpy(metrics.categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])).tolist()
    [0.0, 1.0]
    """
    y_true = ops.argmax(_t(y_true), axis=-1)
    y_pred = ops.argmax(_t(y_pred), axis=-1)
    return ops.cast(ops.equal(ops.cast(y_true, "int32"), ops.cast(y_pred, "int32")), config.floatx())


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the arg-max of ``y_pred`` equals the integer label ``y_true``.

    Example:
    >>> from lamina import metrics, ops
    >>> ops.convert_to_numpy(metrics.sparse_categorical_accuracy([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])).tolist()
    [0.0, 1.0]
    """
    y_pred = _t(y_pred)
    y_true = _t(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    if len(y_pred.shape) == len(y_true.shape) + 1 and "int" in ops.dtype(y_true):
        # integer labels against scores: arg-max and comparison in the engine's own index dtype (no casts)
        return ops.cast(backend.nn.argmax_matches(y_true, y_pred), config.floatx())
    if len(y_pred.shape) == len(y_true.shape) + 1:
        y_pred = ops.argmax(y_pred, axis=-1)  # integer indices: no cast needed
    else:
        y_pred = ops.cast(y_pred, "int32")
    if "int" not in ops.dtype(y_true):
        y_true = ops.cast(y_true, "int32")
    return ops.cast(ops.equal(y_true, y_pred), config.floatx())


def _top_k_matches(labels, y_pred, k):
    labels = ops.cast(labels, "int32")
    shape = tuple(labels.shape)
    flat_pred = ops.reshape(y_pred, (-1, y_pred.shape[-1]))
    matches = ops.in_top_k(ops.reshape(labels, (-1,)), flat_pred, k)
    return ops.reshape(ops.cast(matches, config.floatx()), shape)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target's class is among the ``k`` highest predictions.

    Example:
    >>> from lamina import metrics, ops
    >>> ops.convert_to_numpy(metrics.top_k_categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k=1)).tolist()
    [0.0, 1.0]
    """
    return _top_k_matches(ops.argmax(_t(y_true), axis=-1), _t(y_pred), k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the ``k`` highest predictions.

    With ``from_sorted_ids=True``, ``y_pred`` holds class ids sorted by score
    (e.g. from ``ops.top_k``) and the first ``k`` are checked.

    Example:
    >>> from lamina import metrics, ops
    >>> ops.convert_to_numpy(metrics.sparse_top_k_categorical_accuracy([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k=2)).tolist()
    [1.0, 1.0]
    """
    y_pred = _t(y_pred)
    y_true = _t(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    if from_sorted_ids:
        ids = ops.cast(y_pred[..., :k], "int32")
        hit = ops.any(ops.equal(ops.expand_dims(ops.cast(y_true, "int32"), -1), ids), axis=-1)
        return ops.cast(hit, config.floatx())
    return _top_k_matches(y_true, y_pred, k)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.Accuracy()
    >>> m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]]); float(m.result())
    0.75
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often binary predictions (``y_pred > threshold``) match the binary labels.

    Args:
        name: the metric's name.
        dtype: the dtype of the state and result.
        threshold: the decision threshold (default 0.5).

    Example:
    >>> import lamina
    >>> m = lamina.metrics.BinaryAccuracy()
    >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]); float(m.result())
    0.75
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if threshold is not None and not 0 <= threshold <= 1:
            raise ValueError(f"BinaryAccuracy: `threshold` must be in [0, 1], but received threshold={threshold}.")
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class (arg-max) matches the one-hot label.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.CategoricalAccuracy()
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]); float(m.result())
    0.5
    """

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class (arg-max) matches the integer label.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.SparseCategoricalAccuracy()
    >>> m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]); float(m.result())
    0.5
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the top ``k`` predictions.

    Args:
        k: how many top predictions count (default 5).
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.TopKCategoricalAccuracy(k=1)
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]); float(m.result())
    0.5
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the top ``k`` predictions.

    Args:
        k: how many top predictions count (default 5).
        name: the metric's name.
        dtype: the dtype of the state and result.
        from_sorted_ids: whether ``y_pred`` holds class ids sorted by score.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.SparseTopKCategoricalAccuracy(k=1)
    >>> m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]); float(m.result())
    0.5
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)


def _loss_name(loss):
    import re

    if loss is None:
        return ""
    if isinstance(loss, str):
        return loss.lower()
    fn = getattr(loss, "fn", None)
    if fn is not None and getattr(fn, "__name__", None):
        return fn.__name__.lower()
    if getattr(loss, "__name__", None):
        return loss.__name__.lower()
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(loss).__name__).lower()


def resolve_accuracy(loss, y_true_shape, y_pred_shape):
    """Return the accuracy metric Keras picks for ``metrics=["accuracy"]``.

    ``BinaryAccuracy`` when the predictions have a last dimension of 1 (or the
    loss is a binary crossentropy); ``SparseCategoricalAccuracy`` when the loss
    is a sparse categorical crossentropy or the targets are integer labels
    (rank below the predictions', or a last dimension of 1 against multi-class
    predictions); ``CategoricalAccuracy`` otherwise.

    Args:
        loss: the compiled loss (a name, function or ``Loss``), or None.
        y_true_shape: the shape of the targets.
        y_pred_shape: the shape of the predictions.

    Example:
    >>> import lamina
    >>> type(lamina.metrics.resolve_accuracy("sparse_categorical_crossentropy", (8,), (8, 10))).__name__
    'SparseCategoricalAccuracy'
    >>> type(lamina.metrics.resolve_accuracy(None, (8, 1), (8, 1))).__name__
    'BinaryAccuracy'
    >>> type(lamina.metrics.resolve_accuracy("categorical_crossentropy", (8, 10), (8, 10))).__name__
    'CategoricalAccuracy'
    """
    name = _loss_name(loss)
    y_true_shape, y_pred_shape = tuple(y_true_shape or ()), tuple(y_pred_shape or ())
    binary_loss = name in ("bce",) or ("binary" in name and "crossentropy" in name)
    sparse_loss = "sparse" in name and "crossentropy" in name
    if (y_pred_shape and y_pred_shape[-1] == 1) or binary_loss or len(y_pred_shape) == 1:
        return BinaryAccuracy(name="accuracy")
    integer_labels = len(y_true_shape) < len(y_pred_shape) or (
        len(y_true_shape) == len(y_pred_shape) and y_true_shape[-1] == 1
    )
    if sparse_loss or integer_labels:
        return SparseCategoricalAccuracy(name="accuracy")
    return CategoricalAccuracy(name="accuracy")
