"""Dtype policies: the dtype a layer computes in, the dtype its weights are kept in, and its quantization.

``"float32"`` (the default: ``floatx()``) computes and stores in float32.
``"mixed_float16"`` / ``"mixed_bfloat16"`` keep the weights in float32 and compute in
float16 / bfloat16: inputs are cast on entry to each layer and, inside the layer's
``call``, its float weights read as the compute dtype (autocast), so the gradients still
reach float32 weights. Losses are computed in float32. With ``"mixed_float16"``,
``compile`` wraps the optimizer in a ``LossScaleOptimizer`` (as Keras does) so that small
gradients do not underflow in float16.

Quantized layers have a ``QuantizedDTypePolicy`` named ``"<mode>_from_<source>"``
(``"int8_from_float32"``, or ``Int4DTypePolicy`` ``"int4/128_from_float32"`` with its group size);
``DTypePolicyMap`` gives each layer path its own policy. lamina implements the int8 and int4
modes; Keras 3's float8, GPTQ and AWQ policies (``QuantizedFloat8DTypePolicy``,
``GPTQDTypePolicy``, ``AWQDTypePolicy``) are not provided, and their names are refused with a
message saying so.

Example:
>>> import lamina
>>> policy = lamina.dtype_policies.DTypePolicy("mixed_float16")
>>> policy.compute_dtype, policy.variable_dtype
('float16', 'float32')
>>> layer = lamina.layers.Dense(2, dtype="mixed_bfloat16")
>>> layer.dtype, layer.compute_dtype, layer.dtype_policy.name
('float32', 'bfloat16', 'mixed_bfloat16')
>>> lamina.dtype_policies.get("int8_from_float32")
<QuantizedDTypePolicy "int8_from_float32">
"""

from lamina import config
from lamina.backend.common.dtypes import standardize_dtype
from lamina.dtype_policies.dtype_policy import (  # noqa: F401
    QUANTIZATION_MODES,
    SUPPORTED_QUANTIZATION_MODES,
    DTypePolicy,
    FloatDTypePolicy,
    Int4DTypePolicy,
    QuantizedDTypePolicy,
    from_quantized_name,
    is_quantized_name,
)
from lamina.dtype_policies.policy_map import DTypePolicyMap

__all__ = ["DTypePolicy", "FloatDTypePolicy", "QuantizedDTypePolicy", "Int4DTypePolicy", "DTypePolicyMap", "get",
           "set_dtype_policy", "dtype_policy", "serialize", "deserialize"]

ALL_OBJECTS_DICT = {cls.__name__: cls for cls in (DTypePolicy, QuantizedDTypePolicy, Int4DTypePolicy,
                                                  DTypePolicyMap)}
ALL_OBJECTS_DICT["FloatDTypePolicy"] = DTypePolicy
_GLOBAL = None


def get(identifier):
    """A policy from a policy, a name (``"mixed_bfloat16"``, ``"int8_from_float32"``), a serialized
    dict, a dtype, or ``None`` (the global policy).

    Example:
    >>> import lamina
    >>> lamina.dtype_policies.get({"class_name": "Int4DTypePolicy",
    ...                            "config": {"mode": "int4/64", "source_name": "float32"}})
    <Int4DTypePolicy "int4/64_from_float32">
    """
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):  # as Keras 3 files store it
        return deserialize(identifier)
    if isinstance(identifier, str):
        if is_quantized_name(identifier):
            return from_quantized_name(identifier)
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(standardize_dtype(identifier))
    except (ValueError, TypeError):
        raise ValueError(f"Cannot interpret {identifier!r} as a dtype policy; expected a DTypePolicy, a name "
                         "such as 'float32', 'mixed_float16' or 'int8_from_float32', or a dtype.") from None


def set_dtype_policy(policy):
    """Set the policy of layers created from now on without a ``dtype`` argument."""
    global _GLOBAL
    _GLOBAL = None if policy is None else get(policy)


def dtype_policy():
    """The global policy (``floatx()`` unless ``set_dtype_policy`` changed it)."""
    return _GLOBAL if _GLOBAL is not None else DTypePolicy(config.floatx())


def serialize(policy):
    """The config dict of ``policy``, in Keras 3's layout (``{"module", "class_name", "config", ...}``).

    Example:
    >>> import lamina
    >>> lamina.dtype_policies.serialize(lamina.dtype_policies.get("int8_from_float32"))["config"]
    {'mode': 'int8', 'source_name': 'float32'}
    """
    if not isinstance(policy, DTypePolicy):
        raise TypeError(f"dtype_policies.serialize expected a DTypePolicy, but received {policy!r:.100}.")
    name = type(policy).__name__
    return {"module": "keras" if name == "DTypePolicy" else "keras.dtype_policies", "class_name": name,
            "config": policy.get_config(), "registered_name": None}


def config_entry(policy, dtype):
    """The ``dtype`` entry of a layer's config: a mixed or quantized policy's name, a map's config, else ``dtype``."""
    if isinstance(policy, DTypePolicyMap):
        return serialize(policy)
    return policy.name if policy.is_mixed or policy.quantization_mode else dtype


def deserialize(config_, custom_objects=None):
    """The policy described by a ``serialize`` dict (or a name)."""
    if not isinstance(config_, dict):
        return get(config_)
    name = config_.get("class_name")
    inner = config_.get("config")
    if name is None and "name" in config_:  # a bare {"name": ...}
        return get(config_["name"])
    cls = ALL_OBJECTS_DICT.get(name) or (custom_objects or {}).get(name)
    if cls is None:
        hint = (" lamina implements the int8 and int4 quantization modes only."
                if name in ("QuantizedFloat8DTypePolicy", "GPTQDTypePolicy", "AWQDTypePolicy") else "")
        raise ValueError(f"Cannot read the dtype policy {config_!r:.200}: unknown class {name!r}; expected one of "
                         f"{sorted(ALL_OBJECTS_DICT)}.{hint}")
    if not isinstance(inner, dict):
        raise ValueError(f"Cannot read the dtype policy {config_!r:.200}: its 'config' must be a dict.")
    if cls is DTypePolicy:
        return get(inner.get("name"))  # a quantized name (Keras 3.3 files) gets its class
    if cls is QuantizedDTypePolicy and not inner.get("mode") and inner.get("name"):
        return get(inner["name"])  # Keras 3.3 wrote {"name": "int8_from_float32"}
    return cls.from_config(inner)
