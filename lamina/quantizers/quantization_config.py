"""Quantization configs, as ``keras.quantizers``: what ``model.quantize(config=...)`` takes.

A config names its mode (``"int8"``, ``"int4"``, ``"float8"``) and, for int8/int4, the weight and
activation quantizers; ``Int4QuantizationConfig`` adds the ``block_size`` of sub-channel groups.
Layers keep their config (``layer.quantization_config``) and write it into their own config, so a
saved model is rebuilt the same way.
"""

# Modes Keras 3.15 knows; lamina implements the first ones (see _SUPPORTED) and explains the others.
KERAS_MODES = ("int8", "float8", "int4", "gptq", "awq")
_SUPPORTED = ("int8", "int4")
_CALIBRATED = ("gptq", "awq")


def _serialize(obj):
    from lamina.quantizers import serialize

    return serialize(obj)


def _deserialize(config):
    from lamina.quantizers import deserialize

    return deserialize(config) if isinstance(config, dict) else config


class QuantizationConfig:
    """Base class of quantization configs (use ``Int8QuantizationConfig``, ``Int4QuantizationConfig``
    or ``Float8QuantizationConfig``).

    Args:
        weight_quantizer: quantizer of the weights (None: the layer's default).
        activation_quantizer: quantizer of the inputs at call time (None: weight-only).
    """

    def __init__(self, weight_quantizer=None, activation_quantizer=None):
        self.weight_quantizer = weight_quantizer
        self.activation_quantizer = activation_quantizer

    @property
    def mode(self):
        raise NotImplementedError("QuantizationConfig is a base class: use Int8QuantizationConfig, "
                                  "Int4QuantizationConfig or Float8QuantizationConfig, or subclass it with a `mode`.")

    def get_config(self):
        return {"weight_quantizer": _serialize(self.weight_quantizer),
                "activation_quantizer": _serialize(self.activation_quantizer)}

    @classmethod
    def from_config(cls, config):
        return cls(weight_quantizer=_deserialize(config.get("weight_quantizer")),
                   activation_quantizer=_deserialize(config.get("activation_quantizer")))

    @staticmethod
    def weight_quantizer_or_default(config, default):
        """``config.weight_quantizer`` when set, else ``default``."""
        if config is not None and config.weight_quantizer is not None:
            return config.weight_quantizer
        return default

    @staticmethod
    def activation_quantizer_or_default(config, default):
        """``config.activation_quantizer`` (None means weight-only) when a config is given, else ``default``."""
        return config.activation_quantizer if config is not None else default

    def __repr__(self):
        return f"<{type(self).__name__} mode={self.mode!r}>"


def _check_int8_output(who, quantizer):
    if quantizer is not None and getattr(quantizer, "output_dtype", "int8") != "int8":
        raise ValueError(f"{who} requires a weight_quantizer with output_dtype='int8', but received "
                         f"output_dtype={quantizer.output_dtype!r}.")


class Int8QuantizationConfig(QuantizationConfig):
    """Config of ``mode="int8"``.

    Args:
        weight_quantizer: quantizer of the kernels (default: ``AbsMaxQuantizer`` over the reduced axes).
        activation_quantizer: quantizer of the inputs; ``"default"``: ``AbsMaxQuantizer()`` (per row,
            int8 x int8 products); None: weight-only int8 (inputs stay float).

    Example:
    >>> import lamina
    >>> from lamina.quantizers import Int8QuantizationConfig
    >>> model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2)])
    >>> model.quantize(config=Int8QuantizationConfig(activation_quantizer=None))
    >>> model.layers[0].quantization_mode, model.layers[0].inputs_quantizer
    ('int8', None)
    """

    def __init__(self, weight_quantizer=None, activation_quantizer="default"):
        from lamina.quantizers.quantizers import AbsMaxQuantizer

        if isinstance(activation_quantizer, str) and activation_quantizer == "default":
            activation_quantizer = AbsMaxQuantizer()
        super().__init__(weight_quantizer, activation_quantizer)
        _check_int8_output("Int8QuantizationConfig", self.weight_quantizer)

    @property
    def mode(self):
        return "int8"


class Int4QuantizationConfig(QuantizationConfig):
    """Config of ``mode="int4"``: packed 4-bit weights (two per byte).

    Args:
        weight_quantizer: for per-channel int4 only, a quantizer with ``value_range=(-8, 7)``.
        activation_quantizer: ``"default"``: None (weight-only); a quantizer quantizes the inputs
            of per-channel int4 layers too.
        block_size: rows per group of sub-channel quantization (default 128): one scale and zero point
            per group and output channel (asymmetric). None or -1: per channel (one symmetric scale per
            output channel).

    Example:
    >>> from lamina.quantizers import Int4QuantizationConfig
    >>> Int4QuantizationConfig(block_size=64).get_config()
    {'weight_quantizer': None, 'activation_quantizer': None, 'block_size': 64}
    """

    def __init__(self, weight_quantizer=None, activation_quantizer="default", block_size=128):
        if isinstance(activation_quantizer, str) and activation_quantizer == "default":
            activation_quantizer = None
        super().__init__(weight_quantizer, activation_quantizer)
        if block_size is not None and (isinstance(block_size, bool) or not isinstance(block_size, int)
                                       or (block_size != -1 and block_size <= 0)):
            raise ValueError(f"Int4QuantizationConfig expected block_size to be None, -1 or a positive integer, "
                             f"but received block_size={block_size!r}.")
        self.block_size = block_size
        if block_size is not None and block_size > 0 and (weight_quantizer is not None or
                                                          self.activation_quantizer is not None):
            raise ValueError(f"Int4QuantizationConfig: sub-channel quantization (block_size={block_size}) does not "
                             "take custom quantizers. Set block_size=None (or -1) for per-channel int4, or remove "
                             "weight_quantizer/activation_quantizer.")
        if self.weight_quantizer is not None:
            if tuple(getattr(self.weight_quantizer, "value_range", (-8, 7))) != (-8, 7):
                raise ValueError(f"Int4QuantizationConfig requires a weight_quantizer with value_range=(-8, 7), but "
                                 f"received value_range={self.weight_quantizer.value_range!r}.")
            _check_int8_output("Int4QuantizationConfig", self.weight_quantizer)

    @property
    def mode(self):
        return "int4"

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}

    @classmethod
    def from_config(cls, config):
        # Files written before block_size existed were per-channel.
        return cls(weight_quantizer=_deserialize(config.get("weight_quantizer")),
                   activation_quantizer=_deserialize(config.get("activation_quantizer")),
                   block_size=config.get("block_size", None))


class Float8QuantizationConfig(QuantizationConfig):
    """Config of ``mode="float8"`` (float8 training with delayed scaling; takes no quantizers).

    lamina's layers do not implement float8 yet: ``model.quantize`` refuses this config with a
    message naming the supported modes.
    """

    def __init__(self):
        super().__init__(None, None)

    @property
    def mode(self):
        return "float8"

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls()


def validate_and_resolve_config(mode, config, who="quantize"):
    """Return the config to apply for ``quantize(mode, config)`` (a default one for a bare mode).

    Raises:
        ValueError: for neither argument, an unknown or unsupported mode, a config that is not a
            ``QuantizationConfig``, or a mode contradicting ``config.mode``.
    """
    if isinstance(config, str):  # quantize(config="int8"), an old form
        mode, config = config, None
    if config is None:
        if mode is None:
            raise ValueError(f"{who} needs a `mode` ({list(_SUPPORTED)}) or a `config` "
                             "(e.g. lamina.quantizers.Int4QuantizationConfig(block_size=64)); received neither.")
        _check_mode(who, mode)
        config = {"int8": Int8QuantizationConfig, "int4": Int4QuantizationConfig}[mode]()
    elif not isinstance(config, QuantizationConfig):
        raise ValueError(f"{who} expected `config` to be a lamina.quantizers.QuantizationConfig (such as "
                         f"Int8QuantizationConfig()), but received config={config!r} of type {type(config).__name__}.")
    if mode is not None and config.mode != mode:
        raise ValueError(f"{who} received contradictory arguments: mode={mode!r} but config.mode={config.mode!r}. "
                         "Pass only the config.")
    _check_mode(who, config.mode)
    return config


def _check_mode(who, mode):
    if mode in _SUPPORTED:
        return
    if mode == "float8":
        raise ValueError(f"{who}: mode 'float8' (float8 training with amax history) is not implemented in lamina "
                         f"yet; supported modes are {list(_SUPPORTED)}.")
    if mode in _CALIBRATED:
        raise ValueError(f"{who}: mode {mode!r} needs a calibration data pipeline ({mode.upper()}Config with a "
                         f"dataset and tokenizer), which lamina does not implement; supported modes are "
                         f"{list(_SUPPORTED)}. Hint: 'int4' with Int4QuantizationConfig(block_size=128) gives "
                         "grouped 4-bit weights without calibration.")
    raise ValueError(f"{who} expected mode to be one of {list(_SUPPORTED)}, but received mode={mode!r}.")


def block_size_of(config):
    """The int4 group size a config asks for: None for per-channel (None or -1), else the positive size."""
    size = getattr(config, "block_size", None) if isinstance(config, Int4QuantizationConfig) else None
    return None if size is None or size == -1 else size
