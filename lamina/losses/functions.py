"""Loss functions for regression, hinge, distribution and overlap losses.

Each returns one value per sample (the last axis reduced), except ``dice`` and
``tversky``, which reduce over ``axis`` (all axes by default).
"""

from lamina import config, ops
from lamina.losses.loss import squeeze_or_expand_to_same_rank


def _prepare(y_true, y_pred, same_rank=True, who=None):
    y_pred = ops.convert_to_tensor(y_pred)
    if ops.dtype(y_pred) not in ("float16", "bfloat16", "float32", "float64"):
        y_pred = ops.cast(y_pred, config.floatx())
    y_true = ops.cast(ops.convert_to_tensor(y_true), ops.dtype(y_pred))
    if same_rank:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if who is not None:
            check_broadcastable(who, y_true, y_pred)
    return y_true, y_pred


def check_broadcastable(who, y_true, y_pred):
    """Raise a ValueError naming ``who`` when the shapes of targets and predictions cannot be combined element by
    element (an engine would raise its own broadcasting error, naming neither the loss nor the tensors)."""
    t, p = tuple(y_true.shape), tuple(y_pred.shape)
    for a, b in zip(reversed(t), reversed(p)):
        if a is not None and b is not None and a != b and a != 1 and b != 1:
            raise ValueError(
                f"{who}: y_true of shape {t} and y_pred of shape {p} do not match (they cannot be broadcast "
                "together). y_true is the target given to fit/evaluate (or the loss), y_pred the model's output: "
                "check the labels' shape against the model's last layer (e.g. one-hot labels need as many "
                "units as classes; integer labels need a sparse_* loss).")


def l2_normalize(x, axis=-1):
    """Divide ``x`` by its L2 norm along ``axis`` (norms below ``epsilon()`` count as ``epsilon()``).

    Example:
    >>> from lamina import ops
    >>> from lamina.losses.functions import l2_normalize
    >>> ops.convert_to_numpy(l2_normalize(ops.convert_to_tensor([[3.0, 4.0]]))).round(3)
    array([[0.6, 0.8]], dtype=float32)
    """
    eps = config.epsilon()
    sq = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return x / ops.sqrt(ops.maximum(sq, eps * eps))


def mean_squared_error(y_true, y_pred):
    """Mean squared error over the last axis: ``mean(square(y_true - y_pred), axis=-1)``.

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.mean_squared_error([[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 0.0]]))
    array([0.5, 0.5], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred, who="mean_squared_error")
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean absolute error over the last axis: ``mean(abs(y_true - y_pred), axis=-1)``.

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.mean_absolute_error([[0.0, 2.0]], [[1.0, 1.0]]))
    array([1.], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred, who="mean_absolute_error")
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``.

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.mean_absolute_percentage_error([[2.0, 4.0]], [[1.0, 4.0]]))
    array([25.], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred, who="mean_absolute_percentage_error")
    diff = ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), config.epsilon()))
    return 100.0 * ops.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean(square(log(y_pred + 1) - log(y_true + 1)), axis=-1)`` (inputs floored at epsilon).

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.mean_squared_logarithmic_error([[0.0]], [[1.718282]])).round(3)
    array([1.], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred, who="mean_squared_logarithmic_error")
    eps = config.epsilon()
    first = ops.log(ops.maximum(y_pred, eps) + 1.0)
    second = ops.log(ops.maximum(y_true, eps) + 1.0)
    return ops.mean(ops.square(first - second), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along ``axis``: ``-sum(l2_normalize(y_true) * l2_normalize(y_pred))``.

    Values are in ``[-1, 1]``; -1 means the vectors point the same way (the loss is minimized).

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.cosine_similarity([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])).round(3)
    array([-0., -1.], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred, who="cosine_similarity")
    return -ops.sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis=axis)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: ``0.5 * x**2`` for ``|x| <= delta``, else ``delta * |x| - 0.5 * delta**2``; mean over the last axis.

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.huber([[0.0, 0.0]], [[0.5, 3.0]])).round(3)
    array([1.312], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred, who="huber")
    delta = ops.cast(delta, ops.dtype(y_pred))
    err = ops.abs(y_pred - y_true)
    return ops.mean(ops.where(err <= delta, 0.5 * ops.square(err), delta * err - 0.5 * ops.square(delta)),
                    axis=-1)


def log_cosh(y_true, y_pred):
    """Mean over the last axis of ``log(cosh(y_pred - y_true))``, computed without overflow.

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.log_cosh([[0.0, 0.0]], [[1.0, 0.0]])).round(3)
    array([0.217], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred, who="log_cosh")
    x = y_pred - y_true
    return ops.mean(x + ops.softplus(-2.0 * x) - ops.cast(0.6931471805599453, ops.dtype(x)), axis=-1)


def _hinge_labels(y_true):
    """Map binary {0, 1} labels to {-1, 1}; leave other labels as they are (no host sync)."""
    is_binary = ops.all(ops.logical_or(ops.equal(y_true, 0), ops.equal(y_true, 1)))
    return ops.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """``mean(maximum(1 - y_true * y_pred, 0), axis=-1)``; labels 0/1 are mapped to -1/1.

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.hinge([[1.0, 0.0]], [[0.5, -2.0]])).round(3)
    array([0.25], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred, who="hinge")
    y_true = _hinge_labels(y_true)
    return ops.mean(ops.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """``mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)``; labels 0/1 are mapped to -1/1.

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.squared_hinge([[1.0, 0.0]], [[0.5, -2.0]])).round(3)
    array([0.125], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred, who="squared_hinge")
    y_true = _hinge_labels(y_true)
    return ops.mean(ops.square(ops.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """``maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` over the last axis.

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.categorical_hinge([[0.0, 1.0]], [[0.6, 0.4]])).round(3)
    array([1.2], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred, who="categorical_hinge")
    pos = ops.sum(y_true * y_pred, axis=-1)
    neg = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


def kl_divergence(y_true, y_pred):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred), axis=-1)`` (inputs clipped to ``[epsilon, 1]``).

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.kl_divergence([[0.5, 0.5]], [[0.25, 0.75]])).round(3)
    array([0.144], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred, who="kl_divergence")
    eps = config.epsilon()
    y_true = ops.clip(y_true, eps, 1.0)
    y_pred = ops.clip(y_pred, eps, 1.0)
    return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """Poisson loss ``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``.

    Example:
    >>> from lamina import losses, ops
    >>> ops.convert_to_numpy(losses.poisson([[1.0, 0.0]], [[1.0, 1.0]])).round(3)
    array([1.], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred, who="poisson")
    return ops.mean(y_pred - y_true * ops.log(y_pred + 1e-7), axis=-1)


def dice(y_true, y_pred, axis=None):
    """Dice loss ``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred))`` over ``axis`` (all when None).

    Example:
    >>> from lamina import losses, ops
    >>> round(float(losses.dice([[1.0, 0.0]], [[0.5, 0.5]])), 3)
    0.5
    """
    y_true, y_pred = _prepare(y_true, y_pred, same_rank=False)
    inter = ops.sum(y_true * y_pred, axis=axis)
    denom = ops.sum(y_true, axis=axis) + ops.sum(y_pred, axis=axis) + config.epsilon()
    return 1.0 - 2.0 * inter / denom


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Tversky loss over ``axis`` (all axes when None), with Keras's weighting.

    ``loss = 1 - I / (I + alpha * sum(y_true * (1 - y_pred)) + beta * sum((1 - y_true) * y_pred))``
    where ``I = sum(y_true * y_pred)``. With ``alpha = beta = 0.5`` it is the Dice loss.

    Example:
    >>> from lamina import losses, ops
    >>> round(float(losses.tversky([[1.0, 0.0]], [[0.5, 0.5]], alpha=0.5, beta=0.5)), 3)
    0.5
    """
    y_true, y_pred = _prepare(y_true, y_pred, same_rank=False)
    tp = ops.sum(y_true * y_pred, axis=axis)
    missed = ops.sum(y_true * (1.0 - y_pred), axis=axis)  # Keras names this term `fp`
    extra = ops.sum((1.0 - y_true) * y_pred, axis=axis)
    return 1.0 - tp / (tp + alpha * missed + beta * extra + config.epsilon())


def _circle_labels(labels, name):
    labels = ops.cast(ops.convert_to_tensor(labels), "int32")
    if len(labels.shape) == 2 and labels.shape[-1] == 1:
        labels = ops.squeeze(labels, -1)
    if len(labels.shape) != 1:
        raise ValueError(f"circle: `{name}` must be integer labels of shape (batch_size,) or (batch_size, 1), "
                         f"but received shape {tuple(labels.shape)}.")
    return labels


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4):
    """Circle loss (Sun et al., 2020) between integer labels and L2-normalized embeddings.

    For each sample, a log-sum-exp of its similarities to the reference embeddings of the
    same label (positives) and of other labels (negatives), each weighted by how far it is
    from its optimum, combined through a softplus. ``y_pred`` should already have unit norm
    (e.g. a ``UnitNormalization`` layer after a linear ``Dense``). Samples with no positive
    or no negative get 0; a ``Loss`` reduction (``Circle``, or ``compile(loss="circle")``)
    averages only over the samples with a positive loss, as Keras.

    Args:
        y_true: integer labels, shape ``(batch_size,)`` or ``(batch_size, 1)``.
        y_pred: L2-normalized embeddings, shape ``(batch_size, dim)``.
        ref_labels: labels of the reference embeddings (default: ``y_true``).
        ref_embeddings: L2-normalized reference embeddings ``(num_refs, dim)`` (default: ``y_pred``).
        remove_diagonal: leave the pair (i, i) out of the positives (default True).
        gamma: the scale of the similarities (default 80).
        margin: the relaxation margin (default 0.4).

    Returns:
        The losses, shape ``(batch_size,)``.

    Raises:
        ValueError: for labels or embeddings of the wrong rank or mismatched sizes.

    Example:
    >>> from lamina import losses, ops
    >>> emb = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]  # two tight, orthogonal classes
    >>> ops.convert_to_numpy(losses.circle([0, 0, 1, 1], emb)).round(4)
    array([0., 0., 0., 0.], dtype=float32)
    """
    y_pred = ops.convert_to_tensor(y_pred)
    if ops.dtype(y_pred) not in ("float16", "bfloat16", "float32", "float64"):
        y_pred = ops.cast(y_pred, config.floatx())
    labels = _circle_labels(y_true, "y_true")
    refs = y_pred if ref_embeddings is None else ops.cast(ops.convert_to_tensor(ref_embeddings), ops.dtype(y_pred))
    ref_labels = labels if ref_labels is None else _circle_labels(ref_labels, "ref_labels")
    if len(y_pred.shape) != 2 or len(refs.shape) != 2 or y_pred.shape[-1] != refs.shape[-1]:
        raise ValueError(
            "circle: `y_pred` and `ref_embeddings` must be embeddings of shape (batch_size, dim) and "
            f"(num_refs, dim), but received y_pred.shape={tuple(y_pred.shape)} and "
            f"ref_embeddings.shape={tuple(refs.shape)}."
        )
    for name, lab, emb in (("y_true", labels, y_pred), ("ref_labels", ref_labels, refs)):
        if None not in (lab.shape[0], emb.shape[0]) and lab.shape[0] != emb.shape[0]:
            raise ValueError(f"circle: `{name}` must have one label per embedding ({emb.shape[0]}), but received "
                             f"{lab.shape[0]} labels.")
    distance = ops.maximum(1.0 - ops.matmul(y_pred, ops.transpose(refs)), 0.0)    # cosine distances
    positive = ops.equal(labels[:, None], ref_labels[None, :])
    negative = ops.logical_not(positive)
    if remove_diagonal:
        positive = ops.logical_and(
            positive, ops.logical_not(ops.eye(labels.shape[0], ref_labels.shape[0], k=0, dtype="bool")))
    dtype = ops.dtype(distance)
    pos_weight = ops.maximum((margin + distance) * ops.cast(positive, dtype), 0.0)
    neg_weight = ops.maximum((1.0 + margin - distance) * ops.cast(negative, dtype), 0.0)
    pos_term = -gamma * pos_weight * (margin - distance)
    neg_term = gamma * neg_weight * (1.0 - margin - distance)
    pos_loss = ops.logsumexp(ops.where(positive, pos_term, float("-inf")), axis=1)
    neg_loss = ops.logsumexp(ops.where(negative, neg_term, float("-inf")), axis=1)
    return ops.softplus(pos_loss + neg_loss)


# As Keras, a reduction of circle losses averages over the samples whose loss is positive
# (the values mask of ``lamina.losses.Loss``).
circle._values_mask = lambda values: ops.greater(values, 0.0)
