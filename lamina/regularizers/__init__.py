"""Weight regularizers, as Keras 3's ``keras.regularizers``.

A regularizer is called on a weight and returns a scalar penalty that the
layer adds to the loss.

Example:
>>> import lamina.regularizers
>>> reg = lamina.regularizers.get("l2")
>>> round(float(reg(lamina.ops.ones((10,)))), 4)
0.1
"""

from lamina.initializers._namespace import ObjectNamespace
from lamina.regularizers.regularizers import (
    L1,
    L1L2,
    L2,
    OrthogonalRegularizer,
    Regularizer,
    validate_float_arg,
)

l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

ALL_OBJECTS_DICT = {
    "Regularizer": Regularizer, "L1": L1, "L2": L2, "L1L2": L1L2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "l1": L1, "l2": L2, "l1_l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer,
}

_NAMESPACE = ObjectNamespace("regularizer", "keras.regularizers", ALL_OBJECTS_DICT)


def serialize(regularizer):
    """Return the config dict of ``regularizer``.

    Example:
    >>> import lamina.regularizers
    >>> lamina.regularizers.serialize(lamina.regularizers.L2(0.5))["config"]
    {'l2': 0.5}
    """
    return _NAMESPACE.serialize(regularizer)


def deserialize(config, custom_objects=None):
    """Create a regularizer from a name or a config dict.

    Args:
        config: a name such as ``"l1"`` or a dict with ``class_name`` and ``config``.
        custom_objects: optional dict of name -> custom regularizer class.

    Example:
    >>> import lamina.regularizers
    >>> lamina.regularizers.deserialize({"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}})
    L1L2(l1=0.1, l2=0.2)
    """
    return _NAMESPACE.deserialize(config, custom_objects)


def get(identifier):
    """Return a regularizer for ``identifier``: None, a name, a config dict, a class or a callable.

    Raises:
        ValueError: for an unknown name (close matches are suggested) or an
            identifier of another kind.

    Example:
    >>> import lamina.regularizers
    >>> lamina.regularizers.get("l1_l2")
    L1L2(l1=0.0, l2=0.0)
    >>> lamina.regularizers.get(None) is None
    True
    """
    return _NAMESPACE.get(identifier)


__all__ = sorted(ALL_OBJECTS_DICT) + ["deserialize", "get", "serialize", "validate_float_arg"]
