"""Losses (``keras.losses``): ``Loss`` classes, loss functions, ``get``/``serialize``/``deserialize``.

Example:
>>> import lamina
>>> loss = lamina.losses.get("mse")
>>> round(float(lamina.ops.mean(loss([[0.0, 1.0]], [[1.0, 1.0]]))), 4)
0.5
>>> lamina.losses.get("CategoricalCrossentropy").name
'categorical_crossentropy'
"""

import inspect

from lamina.losses import _registry
from lamina.losses.crossentropy import (  # noqa: F401
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    sparse_categorical_crossentropy,
)
from lamina.losses.ctc import CTC, ctc  # noqa: F401
from lamina.losses.functions import (  # noqa: F401
    categorical_hinge,
    circle,
    cosine_similarity,
    dice,
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
    tversky,
)
from lamina.losses.loss import Loss, LossFunctionWrapper  # noqa: F401
from lamina.losses.losses import (  # noqa: F401
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    CategoricalHinge,
    Circle,
    CosineSimilarity,
    Dice,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    Tversky,
)

# Keras 2-era short aliases (still common in tutorials).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
huber_loss = huber

_CLASSES = [
    Loss, LossFunctionWrapper, BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    CategoricalFocalCrossentropy, CategoricalHinge, CosineSimilarity, Dice, Hinge, Huber,
    KLDivergence, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
    MeanSquaredLogarithmicError, Poisson, SparseCategoricalCrossentropy, SquaredHinge, Tversky,
    CTC, Circle, CategoricalGeneralizedCrossEntropy,
]
_FUNCTIONS = [
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, sparse_categorical_crossentropy, categorical_hinge,
    cosine_similarity, dice, hinge, huber, kl_divergence, log_cosh, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error, poisson,
    squared_hinge, tversky, ctc, circle, categorical_generalized_cross_entropy,
]
ALL_OBJECTS_DICT = {c.__name__: c for c in _CLASSES}
ALL_OBJECTS_DICT.update({f.__name__: f for f in _FUNCTIONS})
ALL_OBJECTS_DICT.update({
    "mse": mse, "MSE": mse, "mae": mae, "MAE": mae, "mape": mape, "MAPE": mape, "msle": msle,
    "MSLE": msle, "kld": kld, "KLD": kld, "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "kullback_leibler_divergence": kld, "logcosh": log_cosh, "huber_loss": huber,
})


def serialize(loss):
    """Return the config of a loss object (or a ``{"class_name": "function"}`` dict for a function).

    Example:
    >>> import lamina
    >>> cfg = lamina.losses.serialize(lamina.losses.Huber(delta=2.0))
    >>> cfg["class_name"], cfg["config"]["delta"]
    ('Huber', 2.0)
    """
    return _registry.serialize(loss, "lamina.losses")


def deserialize(config, custom_objects=None):
    """Create a loss from ``serialize``'s output (or from a name).

    Example:
    >>> import lamina
    >>> lamina.losses.deserialize({"class_name": "Huber", "config": {"delta": 2.0}}).get_config()["delta"]
    2.0
    """
    return _registry.deserialize(config, ALL_OBJECTS_DICT, "loss", custom_objects)


def get(identifier):
    """Return a loss from a name, a config dict or a callable.

    Class names give a new instance (``"MeanSquaredError"``); function names and
    the short aliases (``"mse"``, ``"categorical_crossentropy"``) give the function.

    Raises:
        ValueError: for an unknown name (listing close matches) or an object that is not callable.

    Example:
    >>> import lamina
    >>> lamina.losses.get("sparse_categorical_crossentropy").__name__
    'sparse_categorical_crossentropy'
    >>> type(lamina.losses.get("Huber")).__name__
    'Huber'
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = _registry.lookup(identifier, ALL_OBJECTS_DICT, "loss")
    else:
        obj = identifier
    if callable(obj):
        return obj() if inspect.isclass(obj) else obj
    raise ValueError(
        f"Could not interpret loss identifier: {identifier!r}. Expected a loss name, a config dict, "
        "a Loss instance or a callable `fn(y_true, y_pred)`."
    )
