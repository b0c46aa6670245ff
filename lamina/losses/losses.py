"""Loss classes: each wraps one loss function with its arguments and a reduction."""

from lamina import ops
from lamina.losses import crossentropy as ce
from lamina.losses import functions as fn
from lamina.losses.loss import LossFunctionWrapper

_SUM = "sum_over_batch_size"


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squares of errors: ``mean(square(y_true - y_pred))``.

    Args:
        reduction: see ``lamina.losses.Loss`` (default ``"sum_over_batch_size"``).
        name: the loss's name.
        dtype: the computation dtype (default ``floatx()``).

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]])), 4)
    0.5
    """

    def __init__(self, reduction=_SUM, name="mean_squared_error", dtype=None):
        super().__init__(fn.mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors: ``mean(abs(y_true - y_pred))``.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.MeanAbsoluteError()([[0.0, 2.0]], [[1.0, 1.0]])), 4)
    1.0
    """

    def __init__(self, reduction=_SUM, name="mean_absolute_error", dtype=None):
        super().__init__(fn.mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute percentage error: ``100 * mean(abs((y_true - y_pred) / y_true))``.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.MeanAbsolutePercentageError()([[2.0, 4.0]], [[1.0, 4.0]])), 4)
    25.0
    """

    def __init__(self, reduction=_SUM, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(fn.mean_absolute_percentage_error, reduction=reduction, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared logarithmic error: ``mean(square(log(y_true + 1) - log(y_pred + 1)))``.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.MeanSquaredLogarithmicError()([[0.0]], [[1.718282]])), 3)
    1.0
    """

    def __init__(self, reduction=_SUM, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(fn.mean_squared_logarithmic_error, reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity between targets and predictions along ``axis``.

    Args:
        axis: the axis along which the similarity is computed (default -1).
        reduction, name, dtype: see ``lamina.losses.Loss``.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.CosineSimilarity()([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])), 3)
    -0.5
    """

    def __init__(self, axis=-1, reduction=_SUM, name="cosine_similarity", dtype=None):
        super().__init__(fn.cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic for errors up to ``delta``, linear beyond.

    Args:
        delta: the error size where the loss turns linear (default 1.0).
        reduction, name, dtype: see ``lamina.losses.Loss``.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.Huber()([[0.0, 0.0]], [[0.5, 3.0]])), 4)
    1.3125
    """

    def __init__(self, delta=1.0, reduction=_SUM, name="huber_loss", dtype=None):
        super().__init__(fn.huber, reduction=reduction, name=name, dtype=dtype, delta=delta)


class LogCosh(LossFunctionWrapper):
    """Logarithm of the hyperbolic cosine of the error.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.LogCosh()([[0.0, 0.0]], [[1.0, 0.0]])), 3)
    0.217
    """

    def __init__(self, reduction=_SUM, name="log_cosh", dtype=None):
        super().__init__(fn.log_cosh, reduction=reduction, name=name, dtype=dtype)


class Hinge(LossFunctionWrapper):
    """Hinge loss ``maximum(1 - y_true * y_pred, 0)``; labels are -1/1 (0/1 are converted).

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.Hinge()([[1.0, 0.0]], [[0.5, -2.0]])), 3)
    0.25
    """

    def __init__(self, reduction=_SUM, name="hinge", dtype=None):
        super().__init__(fn.hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss ``square(maximum(1 - y_true * y_pred, 0))``.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.SquaredHinge()([[1.0, 0.0]], [[0.5, -2.0]])), 3)
    0.125
    """

    def __init__(self, reduction=_SUM, name="squared_hinge", dtype=None):
        super().__init__(fn.squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss ``maximum(neg - pos + 1, 0)`` for one-hot targets.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.CategoricalHinge()([[0.0, 1.0]], [[0.6, 0.4]])), 3)
    1.2
    """

    def __init__(self, reduction=_SUM, name="categorical_hinge", dtype=None):
        super().__init__(fn.categorical_hinge, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence ``y_true * log(y_true / y_pred)``.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.KLDivergence()([[0.5, 0.5]], [[0.25, 0.75]])), 3)
    0.144
    """

    def __init__(self, reduction=_SUM, name="kl_divergence", dtype=None):
        super().__init__(fn.kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """Poisson loss ``y_pred - y_true * log(y_pred)``.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.Poisson()([[1.0, 0.0]], [[1.0, 1.0]])), 3)
    1.0
    """

    def __init__(self, reduction=_SUM, name="poisson", dtype=None):
        super().__init__(fn.poisson, reduction=reduction, name=name, dtype=dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """Crossentropy for binary (0/1) targets.

    Args:
        from_logits: whether ``y_pred`` holds logits (default: probabilities).
        label_smoothing: in ``[0, 1]``; squeeze targets towards 0.5 by this fraction.
        axis: the axis to average over (default -1).
        reduction, name, dtype: see ``lamina.losses.Loss``.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.BinaryCrossentropy()([[0.0, 1.0]], [[0.4, 0.6]])), 3)
    0.511
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=_SUM,
                 name="binary_crossentropy", dtype=None):
        ce._check_smoothing(label_smoothing, "BinaryCrossentropy")
        super().__init__(ce.binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary crossentropy scaled by the focal factor ``(1 - p_t) ** gamma``.

    Args:
        apply_class_balancing: weight positives by ``alpha`` and negatives by ``1 - alpha``.
        alpha: the class-balancing weight (default 0.25).
        gamma: the focusing parameter (default 2.0).
        from_logits, label_smoothing, axis: as in ``BinaryCrossentropy``.
        reduction, name, dtype: see ``lamina.losses.Loss``.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.BinaryFocalCrossentropy()([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])), 3)
    0.268
    """

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction=_SUM, name="binary_focal_crossentropy",
                 dtype=None):
        ce._check_smoothing(label_smoothing, "BinaryFocalCrossentropy")
        super().__init__(ce.binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for one-hot targets (use ``SparseCategoricalCrossentropy`` for integer labels).

    Args:
        from_logits: whether ``y_pred`` holds logits (default: probabilities).
        label_smoothing: in ``[0, 1]``; mix targets with the uniform distribution.
        axis: the class axis (default -1).
        reduction, name, dtype: see ``lamina.losses.Loss``.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.CategoricalCrossentropy()([[0.0, 1.0]], [[0.5, 0.5]])), 3)
    0.693
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=_SUM,
                 name="categorical_crossentropy", dtype=None):
        ce._check_axis(axis, "CategoricalCrossentropy")
        ce._check_smoothing(label_smoothing, "CategoricalCrossentropy")
        super().__init__(ce.categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical crossentropy scaled by ``alpha * (1 - p) ** gamma``.

    Args:
        alpha: the weighting factor (default 0.25).
        gamma: the focusing parameter (default 2.0).
        from_logits, label_smoothing, axis: as in ``CategoricalCrossentropy``.
        reduction, name, dtype: see ``lamina.losses.Loss``.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.CategoricalFocalCrossentropy()([[0.0, 1.0]], [[0.5, 0.5]])), 4)
    0.0433
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction=_SUM, name="categorical_focal_crossentropy", dtype=None):
        ce._check_axis(axis, "CategoricalFocalCrossentropy")
        super().__init__(ce.categorical_focal_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for integer class labels.

    Labels out of ``[0, num_classes)`` give NaN (no silent garbage, no host sync);
    ``Model.fit`` checks the label range on the data first and raises a clear error.

    Args:
        from_logits: whether ``y_pred`` holds logits (default: probabilities).
        ignore_class: a label value to leave out of the loss (and of the mean), or None.
        reduction: see ``lamina.losses.Loss``.
        axis: the class axis of ``y_pred`` (default -1).
        name, dtype: see ``lamina.losses.Loss``.

    Example:
    >>> import lamina
    >>> loss = lamina.losses.SparseCategoricalCrossentropy(ignore_class=-1)
    >>> round(float(loss([1, -1], [[0.5, 0.5], [0.9, 0.1]])), 3)
    0.693
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction=_SUM, axis=-1,
                 name="sparse_categorical_crossentropy", dtype=None):
        ce._check_axis(axis, "SparseCategoricalCrossentropy")
        super().__init__(ce.sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def _convert_y_true(self, y_true):
        return ops.convert_to_tensor(y_true)  # keep integer labels exact

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def _output_mask(self, y_true, y_pred):
        if self.ignore_class is None:
            return None
        if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
            y_true = ops.squeeze(y_true, -1)
        return ops.not_equal(ops.cast(y_true, "int32"), int(self.ignore_class))


class Dice(LossFunctionWrapper):
    """Dice loss ``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred))``.

    Args:
        reduction: see ``lamina.losses.Loss``.
        name: the loss's name.
        axis: the axes to reduce over (default None: all, one value per call).
        dtype: the computation dtype.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.Dice()([[1.0, 0.0]], [[0.5, 0.5]])), 3)
    0.5
    """

    def __init__(self, reduction=_SUM, name="dice", axis=None, dtype=None):
        super().__init__(fn.dice, reduction=reduction, name=name, dtype=dtype, axis=axis)

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)


class Tversky(LossFunctionWrapper):
    """Tversky loss, a Dice loss with separate weights for the two kinds of error.

    Args:
        alpha: the weight of ``sum(y_true * (1 - y_pred))`` (default 0.5).
        beta: the weight of ``sum((1 - y_true) * y_pred)`` (default 0.5).
        reduction, name, axis, dtype: as in ``Dice``.

    Example:
    >>> import lamina
    >>> round(float(lamina.losses.Tversky(alpha=0.7, beta=0.3)([[1.0, 0.0]], [[0.5, 0.5]])), 3)
    0.5
    """

    def __init__(self, alpha=0.5, beta=0.5, reduction=_SUM, name="tversky", axis=None, dtype=None):
        super().__init__(fn.tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha,
                         beta=beta, axis=axis)

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)


class Circle(LossFunctionWrapper):
    """Circle loss between integer labels and L2-normalized embeddings (metric learning).

    Pulls embeddings of the same label together and pushes other labels apart, weighting
    each similarity by how far it is from its optimum (Sun et al., 2020). The model should
    end in a linear ``Dense`` and a ``UnitNormalization`` layer. The reduction averages only
    over the samples with a positive loss, as Keras. See ``lamina.losses.circle``.

    Args:
        gamma: the scale of the similarities (default 80.0).
        margin: the relaxation margin (default 0.4).
        remove_diagonal: leave each sample's similarity to itself out of its positives (default True).
        reduction, name, dtype: see ``lamina.losses.Loss``.

    Example:
    >>> import lamina
    >>> emb = [[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.8, 0.6]]
    >>> round(float(lamina.losses.Circle()([0, 0, 1, 1], emb)), 2)
    49.66
    """

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction=_SUM, name="circle", dtype=None):
        super().__init__(fn.circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)
        self.gamma = gamma
        self.margin = margin
        self.remove_diagonal = remove_diagonal

    def _convert_y_true(self, y_true):
        return ops.convert_to_tensor(y_true)  # keep integer labels exact


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized cross entropy ``(1 - p ** q) / q`` for integer labels, robust to noisy labels.

    ``p`` is the predicted probability of the true class (Zhang and Sabuncu, 2018). Small
    ``q`` behaves like the crossentropy, ``q`` near 1 like the mean absolute error. See
    ``lamina.losses.categorical_generalized_cross_entropy``.

    Args:
        q: the noise parameter, in ``(0, 1)`` (default 0.5).
        reduction, name, dtype: see ``lamina.losses.Loss``.

    Raises:
        ValueError: for ``q`` outside ``(0, 1)``.

    Example:
    >>> import lamina
    >>> loss = lamina.losses.CategoricalGeneralizedCrossEntropy()
    >>> round(float(loss([1, 0], [[0.75, 0.25], [0.64, 0.36]])), 4)
    0.7
    """

    def __init__(self, q=0.5, reduction=_SUM, name="categorical_generalized_cross_entropy", dtype=None):
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: `q` must be a float in (0, 1), but received "
                             f"q={q!r}.")
        super().__init__(ce.categorical_generalized_cross_entropy, reduction=reduction, name=name, dtype=dtype, q=q)
        self.q = q

    def _convert_y_true(self, y_true):
        return ops.convert_to_tensor(y_true)  # keep integer labels exact

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)
