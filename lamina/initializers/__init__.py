"""Weight initializers, as Keras 3's ``keras.initializers``.

An initializer is called as ``init(shape, dtype=None)`` and returns a tensor.
Classes have snake_case aliases (``glorot_uniform`` is ``GlorotUniform``), and
``get`` accepts names, configs, instances and classes.

Example:
>>> import lamina.initializers
>>> init = lamina.initializers.get("ones")
>>> lamina.ops.convert_to_numpy(init((2,))).tolist()
[1.0, 1.0]
"""

from lamina.initializers._namespace import ObjectNamespace
from lamina.initializers.constant_initializers import STFT, Constant, Identity, Ones, Zeros
from lamina.initializers.initializer import Initializer
from lamina.initializers.random_initializers import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomInitializer,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    compute_fans,
)

constant = Constant
zeros = Zeros
ones = Ones
identity = IdentityInitializer = Identity
stft = STFTInitializer = STFT
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_normal = GlorotNormal
glorot_uniform = GlorotUniform
he_normal = HeNormal
he_uniform = HeUniform
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
orthogonal = OrthogonalInitializer = Orthogonal

_CLASSES = (
    Constant, Zeros, Ones, Identity, STFT, RandomNormal, RandomUniform, TruncatedNormal,
    VarianceScaling, GlorotNormal, GlorotUniform, HeNormal, HeUniform, LecunNormal,
    LecunUniform, Orthogonal,
)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({
    "constant": Constant, "zeros": Zeros, "ones": Ones, "identity": Identity,
    "IdentityInitializer": Identity, "stft": STFT, "STFTInitializer": STFT,
    "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_normal": GlorotNormal, "glorot_uniform": GlorotUniform,
    "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
    "orthogonal": Orthogonal, "OrthogonalInitializer": Orthogonal,
    # Keras's legacy short names.
    "uniform": RandomUniform, "normal": RandomNormal, "one": Ones, "zero": Zeros,
})

_NAMESPACE = ObjectNamespace("initializer", "keras.initializers", ALL_OBJECTS_DICT)


def serialize(initializer):
    """Return the config dict of ``initializer`` (``{"module", "class_name", "config", "registered_name"}``).

    Example:
    >>> import lamina.initializers
    >>> lamina.initializers.serialize(lamina.initializers.Constant(2.0))["config"]
    {'value': 2.0}
    """
    return _NAMESPACE.serialize(initializer)


def deserialize(config, custom_objects=None):
    """Create an initializer from a name or a config dict (as ``serialize`` returns).

    Args:
        config: a name such as ``"he_normal"`` or a dict with ``class_name`` and ``config``.
        custom_objects: optional dict of name -> custom initializer class.

    Example:
    >>> import lamina.initializers
    >>> init = lamina.initializers.deserialize({"class_name": "HeNormal", "config": {"seed": 3}})
    >>> type(init).__name__, init.seed
    ('HeNormal', 3)
    """
    return _NAMESPACE.deserialize(config, custom_objects)


def get(identifier):
    """Return an initializer for ``identifier``.

    Args:
        identifier: None (returns None), a name, a config dict, an initializer
            class (instantiated with defaults) or a callable (returned as is).

    Raises:
        ValueError: for an unknown name (close matches are suggested) or an
            identifier of another kind.

    Example:
    >>> import lamina.initializers
    >>> type(lamina.initializers.get("glorot_uniform")).__name__
    'GlorotUniform'
    """
    return _NAMESPACE.get(identifier)


__all__ = sorted(n for n in ALL_OBJECTS_DICT if n in globals()) + [
    "Initializer", "RandomInitializer", "compute_fans", "deserialize", "get", "serialize",
]
