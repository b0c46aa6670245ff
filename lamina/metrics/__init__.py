"""Metrics (``keras.metrics``): stateful ``Metric`` classes, metric functions, ``get``/``serialize``.

Metric state lives in ``role="metric"`` Variables and is updated with
``lamina.ops`` only, so updates run inside compiled steps without host syncs.

Example:
>>> import lamina
>>> m = lamina.metrics.get("mse")
>>> m.update_state([[0.0, 1.0]], [[1.0, 1.0]]); float(m.result())
0.5
"""

import inspect

from lamina.losses import _registry
from lamina.losses.crossentropy import (  # noqa: F401
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    sparse_categorical_crossentropy,
)
from lamina.losses.functions import (  # noqa: F401
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    squared_hinge,
)
from lamina.metrics.accuracy_metrics import (  # noqa: F401
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    resolve_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from lamina.metrics.confusion_metrics import (  # noqa: F401
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from lamina.metrics.f_score_metrics import F1Score, FBetaScore  # noqa: F401
from lamina.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU  # noqa: F401
from lamina.metrics.metric import Metric  # noqa: F401
from lamina.metrics.probabilistic_metrics import (  # noqa: F401
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from lamina.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum  # noqa: F401
from lamina.metrics.sensitivity_metrics import (  # noqa: F401
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
)
from lamina.metrics.regression_metrics import (  # noqa: F401
    ConcordanceCorrelation,
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    PearsonCorrelation,
    R2Score,
    RootMeanSquaredError,
    concordance_correlation,
    cosine_similarity,
    pearson_correlation,
)

_CLASSES = [
    Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, AUC,
    FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives, F1Score,
    FBetaScore, BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU, BinaryCrossentropy,
    CategoricalCrossentropy, CategoricalHinge, Hinge, KLDivergence, Poisson,
    SparseCategoricalCrossentropy, SquaredHinge, ConcordanceCorrelation, CosineSimilarity,
    LogCoshError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
    MeanSquaredLogarithmicError, PearsonCorrelation, R2Score, RootMeanSquaredError,
    PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity,
]
_FUNCTIONS = [
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, binary_crossentropy,
    binary_focal_crossentropy, categorical_crossentropy, categorical_focal_crossentropy,
    sparse_categorical_crossentropy, categorical_hinge, hinge, huber, kl_divergence, log_cosh,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, poisson, squared_hinge, concordance_correlation,
    cosine_similarity, pearson_correlation,
]


def _snake(name):
    import re

    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


ALL_OBJECTS_DICT = {c.__name__: c for c in _CLASSES}
ALL_OBJECTS_DICT.update({_snake(c.__name__): c for c in _CLASSES})
ALL_OBJECTS_DICT.update({
    "acc": Accuracy, "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
    "MAPE": MeanAbsolutePercentageError, "msle": MeanSquaredLogarithmicError,
    "MSLE": MeanSquaredLogarithmicError, "rmse": RootMeanSquaredError, "auc": AUC,
    "logcosh": LogCoshError, "kld": KLDivergence, "kl_divergence": KLDivergence,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
})
_FUNCTIONS_DICT = {f.__name__: f for f in _FUNCTIONS}


def get_function(name):
    """Return the metric function called ``name`` (e.g. ``"binary_accuracy"``).

    Example:
    >>> import lamina
    >>> lamina.metrics.get_function("binary_accuracy").__name__
    'binary_accuracy'
    """
    return _registry.lookup(name, _FUNCTIONS_DICT, "metric function")


def serialize(metric):
    """Return the config dict of a metric (or of a metric function).

    Example:
    >>> import lamina
    >>> lamina.metrics.serialize(lamina.metrics.BinaryAccuracy(threshold=0.7))["config"]["threshold"]
    0.7
    """
    return _registry.serialize(metric, "lamina.metrics")


def deserialize(config, custom_objects=None):
    """Create a metric from ``serialize``'s output (or from a name).

    Example:
    >>> import lamina
    >>> m = lamina.metrics.deserialize({"class_name": "Precision", "config": {"thresholds": 0.3}})
    >>> m.thresholds
    [0.3]
    """
    if isinstance(config, dict) and config.get("class_name") == "function":
        table = dict(ALL_OBJECTS_DICT)
        table.update(_FUNCTIONS_DICT)
        return _registry.lookup(config["config"], table, "metric", custom_objects)
    return _registry.deserialize(config, ALL_OBJECTS_DICT, "metric", custom_objects)


def get(identifier):
    """Return a metric from a name, a config dict, a class, an instance or a function.

    Names give a new instance: class names (``"AUC"``), their snake_case forms
    (``"mean_squared_error"``, ``"sparse_categorical_accuracy"``) and the short
    aliases (``"mse"``, ``"mae"``, ``"acc"``...). Plain ``"accuracy"`` gives
    ``Accuracy``; ``Model.compile`` instead picks the accuracy that fits the loss
    and shapes (see ``resolve_accuracy``).

    Raises:
        ValueError: for an unknown name (listing close matches).

    Example:
    >>> import lamina
    >>> type(lamina.metrics.get("sparse_categorical_accuracy")).__name__
    'SparseCategoricalAccuracy'
    >>> try:
    ...     lamina.metrics.get("precission")
    ... except ValueError as e:
    ...     print(str(e)[:80])
    Could not interpret metric identifier: unknown metric 'precission'. Did you mean
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = _registry.lookup(identifier, ALL_OBJECTS_DICT, "metric")
    else:
        obj = identifier
    if callable(obj) or isinstance(obj, Metric):
        return obj() if inspect.isclass(obj) else obj
    raise ValueError(
        f"Could not interpret metric identifier: {identifier!r}. Expected a metric name, a config "
        "dict, a Metric instance or a callable `fn(y_true, y_pred)`."
    )
