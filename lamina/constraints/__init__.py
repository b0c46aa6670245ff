"""Weight constraints, as Keras 3's ``keras.constraints``.

A constraint is called on a weight after each optimizer update and returns
the projected weight.

Example:
>>> import lamina.constraints
>>> c = lamina.constraints.get("non_neg")
>>> lamina.ops.convert_to_numpy(c(lamina.ops.convert_to_tensor([-1.0, 1.0]))).tolist()
[0.0, 1.0]
"""

from lamina.constraints.constraints import Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm
from lamina.initializers._namespace import ObjectNamespace

max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

ALL_OBJECTS_DICT = {
    "Constraint": Constraint, "MaxNorm": MaxNorm, "MinMaxNorm": MinMaxNorm, "NonNeg": NonNeg,
    "UnitNorm": UnitNorm, "max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg,
    "unit_norm": UnitNorm,
}

_NAMESPACE = ObjectNamespace("constraint", "keras.constraints", ALL_OBJECTS_DICT)


def serialize(constraint):
    """Return the config dict of ``constraint``.

    Example:
    >>> import lamina.constraints
    >>> lamina.constraints.serialize(lamina.constraints.MaxNorm(3))["config"]
    {'max_value': 3, 'axis': 0}
    """
    return _NAMESPACE.serialize(constraint)


def deserialize(config, custom_objects=None):
    """Create a constraint from a name or a config dict.

    Args:
        config: a name such as ``"unit_norm"`` or a dict with ``class_name`` and ``config``.
        custom_objects: optional dict of name -> custom constraint class.

    Example:
    >>> import lamina.constraints
    >>> lamina.constraints.deserialize({"class_name": "UnitNorm", "config": {"axis": 1}})
    UnitNorm(axis=1)
    """
    return _NAMESPACE.deserialize(config, custom_objects)


def get(identifier):
    """Return a constraint for ``identifier``: None, a name, a config dict, a class or a callable.

    Raises:
        ValueError: for an unknown name (close matches are suggested) or an
            identifier of another kind.

    Example:
    >>> import lamina.constraints
    >>> lamina.constraints.get("max_norm")
    MaxNorm(max_value=2, axis=0)
    """
    return _NAMESPACE.get(identifier)


__all__ = sorted(ALL_OBJECTS_DICT) + ["deserialize", "get", "serialize"]
