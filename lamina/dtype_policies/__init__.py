"""Dtype policies: the dtype a layer computes in and the dtype its weights are kept in.

``"float32"`` (the default: ``floatx()``) computes and stores in float32.
``"mixed_float16"`` / ``"mixed_bfloat16"`` keep the weights in float32 and compute in
float16 / bfloat16: inputs are cast on entry to each layer and, inside the layer's
``call``, its float weights read as the compute dtype (autocast), so the gradients still
reach float32 weights. Losses are computed in float32. With ``"mixed_float16"``,
``compile`` wraps the optimizer in a ``LossScaleOptimizer`` (as Keras does) so that small
gradients do not underflow in float16.

Example:
>>> import lamina
>>> policy = lamina.dtype_policies.DTypePolicy("mixed_float16")
>>> policy.compute_dtype, policy.variable_dtype
('float16', 'float32')
>>> layer = lamina.layers.Dense(2, dtype="mixed_bfloat16")
>>> layer.dtype, layer.compute_dtype, layer.dtype_policy.name
('float32', 'bfloat16', 'mixed_bfloat16')
"""

from lamina import config
from lamina.backend.common.dtypes import standardize_dtype

__all__ = ["DTypePolicy", "FloatDTypePolicy", "get", "set_dtype_policy", "dtype_policy", "serialize",
           "deserialize"]

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
_GLOBAL = None


class DTypePolicy:
    """A dtype policy named ``"float32"``, ``"float16"``, ``"bfloat16"``, ``"float64"``,
    ``"mixed_float16"`` or ``"mixed_bfloat16"`` (default: ``floatx()``)."""

    def __init__(self, name=None):
        if name is None:
            name = config.floatx()
        if not isinstance(name, str):
            raise ValueError(f"DTypePolicy: name must be a string such as 'float32' or 'mixed_float16', but "
                             f"received {name!r}.")
        if name in _MIXED:
            compute, variable = _MIXED[name], "float32"
        else:
            try:
                compute = variable = standardize_dtype(name)
            except (ValueError, TypeError):
                raise ValueError(f"DTypePolicy: unknown policy {name!r}; expected a dtype name ('float32', "
                                 f"'bfloat16', ...) or 'mixed_float16' / 'mixed_bfloat16'.") from None
        self._name, self._compute_dtype, self._variable_dtype = name, compute, variable

    name = property(lambda self: self._name)
    compute_dtype = property(lambda self: self._compute_dtype)
    variable_dtype = property(lambda self: self._variable_dtype)

    @property
    def is_mixed(self):
        return self._compute_dtype != self._variable_dtype

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config_):
        return cls(**config_)

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


FloatDTypePolicy = DTypePolicy  # Keras 3.0-3.3 name


def get(identifier):
    """A ``DTypePolicy`` from a policy, a name, a serialized dict, or ``None`` (the global policy)."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):  # as Keras 3 files store it
        name = (identifier.get("config") or {}).get("name", identifier.get("name"))
        return DTypePolicy(name)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(standardize_dtype(identifier))
    except (ValueError, TypeError):
        raise ValueError(f"Cannot interpret {identifier!r} as a dtype policy; expected a DTypePolicy, a name "
                         "such as 'float32' or 'mixed_float16', or a dtype.") from None


def set_dtype_policy(policy):
    """Set the policy of layers created from now on without a ``dtype`` argument."""
    global _GLOBAL
    _GLOBAL = None if policy is None else get(policy)


def dtype_policy():
    """The global policy (``floatx()`` unless ``set_dtype_policy`` changed it)."""
    return _GLOBAL if _GLOBAL is not None else DTypePolicy(config.floatx())


def serialize(policy):
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config(),
            "registered_name": None}


def deserialize(config_):
    return get(config_)
