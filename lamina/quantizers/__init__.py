"""Post-training quantization (``model.quantize("int8" | "int4", config=..., filters=...)``), as ``keras.quantizers``.

* Quantizers and configs: ``Quantizer``, ``AbsMaxQuantizer``, ``QuantizationConfig``,
  ``Int8QuantizationConfig``, ``Int4QuantizationConfig`` (``block_size``), ``Float8QuantizationConfig``.
* Functions: ``abs_max_quantize``, ``abs_max_quantize_grouped_with_zero_point``, ``pack_int4`` /
  ``unpack_int4``, ``fake_quant_with_min_max_vars``, ``quantize_and_dequantize``,
  ``compute_float8_scale``, ``compute_float8_amax_history``; ``get`` / ``serialize`` / ``deserialize``.
* ``quantize_model(model, mode, config, filters)``: what ``Model.quantize`` calls. The layers with a
  ``quantize`` method: Dense, EinsumDense, Embedding, ReversibleEmbedding (int8, int4), Conv1D/2D/3D (int8).

Keras 3's ``float8`` mode and its calibrated ``gptq`` / ``awq`` modes (``GPTQConfig``,
``AWQConfig``) are not implemented: ``quantize`` refuses them with a message naming the supported modes.
"""

from lamina.quantizers.fake_quant import fake_quant_with_min_max_vars  # noqa: F401
from lamina.quantizers.float8 import (  # noqa: F401
    compute_float8_amax_history,
    compute_float8_scale,
    quantize_and_dequantize,
)
from lamina.quantizers.int4 import abs_max_quantize_grouped_with_zero_point, pack_int4, unpack_int4  # noqa: F401
from lamina.quantizers.quantization_config import (  # noqa: F401
    Float8QuantizationConfig,
    Int4QuantizationConfig,
    Int8QuantizationConfig,
    QuantizationConfig,
    block_size_of,
)
from lamina.quantizers.quantize_model import quantize_model, quantizable_layers  # noqa: F401
from lamina.quantizers.quantizers import (  # noqa: F401
    QUANTIZATION_MODES,
    AbsMaxQuantizer,
    Quantizer,
    abs_max_quantize,
    dequantize,
    int8_dense,
    int8_einsum,
)

ALL_OBJECTS = (Quantizer, AbsMaxQuantizer, QuantizationConfig, Int8QuantizationConfig, Int4QuantizationConfig,
               Float8QuantizationConfig)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({"quantizer": Quantizer, "abs_max_quantizer": AbsMaxQuantizer,
                         "quantization_config": QuantizationConfig,
                         "int8_quantization_config": Int8QuantizationConfig,
                         "int4_quantization_config": Int4QuantizationConfig,
                         "float8_quantization_config": Float8QuantizationConfig})


def serialize(quantizer):
    """The config dict of a quantizer or quantization config (``None`` stays ``None``), in Keras 3's layout.

    Example:
    >>> import lamina
    >>> lamina.quantizers.serialize(lamina.quantizers.Int4QuantizationConfig(block_size=32))["config"]
    {'weight_quantizer': None, 'activation_quantizer': None, 'block_size': 32}
    """
    if quantizer is None:
        return None
    if not hasattr(quantizer, "get_config"):
        raise TypeError(f"quantizers.serialize expected a Quantizer or QuantizationConfig, but received "
                        f"{quantizer!r:.100}.")
    from lamina.saving.serialization import get_registered_name

    config = quantizer.get_config()
    if isinstance(config.get("value_range"), tuple):
        config = {**config, "value_range": list(config["value_range"])}
    if isinstance(config.get("axis"), tuple):
        config = {**config, "axis": list(config["axis"])}
    builtin = ALL_OBJECTS_DICT.get(type(quantizer).__name__) is type(quantizer)
    return {"module": "keras.quantizers" if builtin else type(quantizer).__module__,
            "class_name": type(quantizer).__name__, "config": config,
            "registered_name": None if builtin else get_registered_name(quantizer)}


def deserialize(config, custom_objects=None):
    """The quantizer or quantization config described by ``config`` (from ``serialize``).

    Only lamina's quantizer classes, registered classes and ``custom_objects`` are created.
    """
    if config is None:
        return None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"quantizers.deserialize expected a dict with a 'class_name', but received {config!r:.200}.")
    from lamina.saving.serialization import get_registered_object

    name = config["class_name"]
    cls = (get_registered_object(config.get("registered_name") or name, custom_objects)
           or ALL_OBJECTS_DICT.get(name))
    if cls is None:
        hint = (" lamina does not implement GPTQ/AWQ (they need calibration data)."
                if name in ("GPTQConfig", "AWQConfig", "GPTQQuantizer") else "")
        raise ValueError(f"Unknown quantizer class {name!r}; expected one of {sorted(c.__name__ for c in ALL_OBJECTS)}"
                         f" or a registered class.{hint}")
    inner = dict(config.get("config") or {})
    if "value_range" in inner and isinstance(inner["value_range"], list):
        inner["value_range"] = tuple(inner["value_range"])
    if "axis" in inner and isinstance(inner["axis"], list):
        inner["axis"] = tuple(inner["axis"])
    return cls.from_config(inner)


def get(identifier, **kwargs):
    """A quantizer or config from an instance, a class name (``"AbsMaxQuantizer"``), a config dict or None.

    Example:
    >>> import lamina
    >>> lamina.quantizers.get({"class_name": "AbsMaxQuantizer", "config": {"value_range": [-8, 7]}}).value_range
    (-8, 7)
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = ALL_OBJECTS_DICT.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret quantizer identifier {identifier!r}; expected one of "
                             f"{sorted(c.__name__ for c in ALL_OBJECTS)}.")
        return cls(**kwargs)
    if isinstance(identifier, type):
        return identifier(**kwargs)
    if callable(identifier) or isinstance(identifier, QuantizationConfig):
        return identifier
    raise ValueError(f"Could not interpret quantizer identifier {identifier!r}.")
