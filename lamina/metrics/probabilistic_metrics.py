"""Probabilistic and hinge metrics: crossentropies, KL divergence, Poisson, hinge losses as metrics."""

from lamina.losses import crossentropy as ce
from lamina.losses import functions as lf
from lamina.metrics.reduction_metrics import MeanMetricWrapper


class BinaryCrossentropy(MeanMetricWrapper):
    """The mean binary crossentropy between labels and predictions.

    Args:
        name: the metric's name.
        dtype: the dtype of the state and result.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in ``[0, 1]``; squeeze targets towards 0.5.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.BinaryCrossentropy()
    >>> m.update_state([[0.0, 1.0]], [[0.4, 0.6]]); round(float(m.result()), 3)
    0.511
    """

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(ce.binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """The mean categorical crossentropy between one-hot labels and predictions.

    Args:
        name: the metric's name.
        dtype: the dtype of the state and result.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in ``[0, 1]``.
        axis: the class axis (default -1).

    Example:
    >>> import lamina
    >>> m = lamina.metrics.CategoricalCrossentropy()
    >>> m.update_state([[0.0, 1.0]], [[0.5, 0.5]]); round(float(m.result()), 3)
    0.693
    """

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(ce.categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The mean crossentropy between integer labels and predictions.

    Args:
        name: the metric's name.
        dtype: the dtype of the state and result.
        from_logits: whether ``y_pred`` holds logits.
        axis: the class axis (default -1).

    Example:
    >>> import lamina
    >>> m = lamina.metrics.SparseCategoricalCrossentropy()
    >>> m.update_state([1, 0], [[0.5, 0.5], [0.9, 0.1]]); round(float(m.result()), 3)
    0.399
    """

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, axis=-1):
        super().__init__(ce.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, axis=axis)


class KLDivergence(MeanMetricWrapper):
    """The mean Kullback-Leibler divergence between labels and predictions.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.KLDivergence()
    >>> m.update_state([[0.5, 0.5]], [[0.25, 0.75]]); round(float(m.result()), 3)
    0.144
    """

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(lf.kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """The mean Poisson loss between labels and predictions.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.Poisson()
    >>> m.update_state([[1.0, 0.0]], [[1.0, 1.0]]); round(float(m.result()), 3)
    1.0
    """

    def __init__(self, name="poisson", dtype=None):
        super().__init__(lf.poisson, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """The mean hinge loss.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.Hinge()
    >>> m.update_state([[1.0, 0.0]], [[0.5, -2.0]]); round(float(m.result()), 3)
    0.25
    """

    def __init__(self, name="hinge", dtype=None):
        super().__init__(lf.hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """The mean squared hinge loss.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.SquaredHinge()
    >>> m.update_state([[1.0, 0.0]], [[0.5, -2.0]]); round(float(m.result()), 3)
    0.125
    """

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(lf.squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """The mean categorical hinge loss.

    Example:
    >>> import lamina
    >>> m = lamina.metrics.CategoricalHinge()
    >>> m.update_state([[0.0, 1.0]], [[0.6, 0.4]]); round(float(m.result()), 3)
    1.2
    """

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(lf.categorical_hinge, name=name, dtype=dtype)
