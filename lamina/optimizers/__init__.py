"""Optimizers (``keras.optimizers``): SGD, Adam, AdamW, RMSprop, Adafactor, Muon, ... and ``get``/``serialize``.

Optimizer state (``iterations``, the learning rate, the slots) lives in
``role="optimizer"`` Variables; updates use ``lamina.ops`` and ``assign`` only,
so they run inside compiled JAX steps and eagerly on PyTorch.

Example:
>>> import lamina
>>> opt = lamina.optimizers.get("adam")
>>> type(opt).__name__, round(float(opt.learning_rate), 4)
('Adam', 0.001)
"""

import inspect

from lamina.losses import _registry
from lamina.optimizers import schedules  # noqa: F401
from lamina.optimizers.adam import Adam, Adamax, AdamW, Nadam  # noqa: F401
from lamina.optimizers.adaptive import Adadelta, Adagrad, Ftrl, RMSprop  # noqa: F401
from lamina.optimizers.optimizer import Optimizer  # noqa: F401
from lamina.optimizers.sgd import SGD  # noqa: F401
from lamina.optimizers.sign_and_trust import Lamb, Lion  # noqa: F401
from lamina.optimizers.loss_scale_optimizer import LossScaleOptimizer  # noqa: F401
from lamina.optimizers.adafactor import Adafactor  # noqa: F401
from lamina.optimizers.schedule_free import ScheduleFreeAdamW  # noqa: F401
from lamina.optimizers.muon import Muon  # noqa: F401
from lamina.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap  # noqa: F401

_CLASSES = [Optimizer, SGD, Adam, AdamW, Adamax, Nadam, RMSprop, Adagrad, Adadelta, Ftrl, Lion, Lamb,
            LossScaleOptimizer, Adafactor, ScheduleFreeAdamW, Muon, MultiOptimizer, OptimizerMap]
ALL_OBJECTS_DICT = {c.__name__.lower(): c for c in _CLASSES}


def serialize(optimizer):
    """Return the config dict of an optimizer.

    Example:
    >>> import lamina
    >>> cfg = lamina.optimizers.serialize(lamina.optimizers.SGD(learning_rate=0.1, momentum=0.9))
    >>> cfg["class_name"], cfg["config"]["momentum"]
    ('SGD', 0.9)
    """
    return _registry.serialize(optimizer, "lamina.optimizers")


def deserialize(config, custom_objects=None):
    """Create an optimizer from ``serialize``'s output (class names are case-insensitive).

    Example:
    >>> import lamina
    >>> opt = lamina.optimizers.deserialize({"class_name": "RMSprop", "config": {"rho": 0.8}})
    >>> type(opt).__name__, opt.rho
    ('RMSprop', 0.8)
    """
    if isinstance(config, dict) and isinstance(config.get("class_name"), str):
        name = config["class_name"]
        if ">" in name and _registry.registered_object(name, custom_objects) is None and \
                name.rsplit(">", 1)[1].lower() in ALL_OBJECTS_DICT:
            name = name.rsplit(">", 1)[1]  # tf.keras 2.11+ saved its own optimizers as "Custom>Adam"
        if _registry.registered_object(name, custom_objects) is None and name.lower() in ALL_OBJECTS_DICT:
            config = dict(config, class_name=name.lower(), registered_name=None)
    return _registry.deserialize(config, ALL_OBJECTS_DICT, "optimizer", custom_objects, lower=True)


def get(identifier):
    """Return an optimizer from a name (``"adam"``, ``"SGD"``...), a config dict or an instance.

    Names give a new instance with default arguments.

    Raises:
        ValueError: for an unknown name (listing close matches) or another type.

    Example:
    >>> import lamina
    >>> type(lamina.optimizers.get("rmsprop")).__name__
    'RMSprop'
    >>> try:
    ...     lamina.optimizers.get("adma")
    ... except ValueError as e:
    ...     print(str(e)[:78])
    Could not interpret optimizer identifier: unknown optimizer 'adma'. Did you me
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        obj = _registry.lookup(identifier, ALL_OBJECTS_DICT, "optimizer", lower=True)
        return obj() if inspect.isclass(obj) else obj
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier!r}. Expected an optimizer name such as "
        "'adam', a config dict, or an Optimizer instance."
    )
from lamina.optimizers import legacy  # noqa: E402,F401  (tf.keras.optimizers.legacy names)
