"""``Dense``: the densely connected layer ``activation(inputs @ kernel + bias)``."""

import numbers

from lamina import activations, backend, constraints, initializers, ops, quantizers, regularizers
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.quantizers import int4_layers
from lamina.quantizers import layer_support as quant


def check_positive_int(who, name, value):
    """Return ``value`` as an int, or raise a ValueError naming ``who`` unless it is a positive int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{who} expected a positive integer for `{name}`, but received {name}={value!r}.")
    return int(value)


class Dense(Layer):
    """Densely connected layer: ``output = activation(dot(input, kernel) + bias)``.

    Args:
        units: positive int, the size of the output.
        activation: activation name or function (default: none, i.e. linear).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (default
            ``"glorot_uniform"`` and ``"zeros"``).
        kernel_regularizer, bias_regularizer, activity_regularizer: regularizers.
        kernel_constraint, bias_constraint: constraints.
        quantization_config: the ``lamina.quantizers.QuantizationConfig`` of a quantized layer
            (set by ``quantize``; read back from a saved config).

    Input shape:
        N-D tensor ``(batch_size, ..., input_dim)``.

    Output shape:
        N-D tensor ``(batch_size, ..., units)``.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.Dense(4, activation="relu")
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 3))))
    (2, 4)
    >>> [w.shape for w in layer.weights]
    [(3, 4), (4,)]
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 lora_rank=None, dtype=None, quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, dtype=dtype, **kwargs)
        quant.init_quantization(self, quantization_config, ("int8", "int4"))
        self.units = check_positive_int(f"Layer '{self.name}' (Dense)", "units", units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"Layer '{self.name}' (Dense) needs a known last input dimension to create its kernel, "
                f"but received input shape {tuple(input_shape)}."
            )
        quant.resolve_build_policy(self)
        if self.quantization_mode:  # int8 (in, units), or int4 packed along the units: (in, ceil(units / 2))
            packed = self.units if self.quantization_mode == "int8" else (self.units + 1) // 2
            self.kernel = quant.add_int8_weight(self, "kernel", (input_dim, packed))
        else:
            self.kernel = self.add_weight(name="kernel", shape=(input_dim, self.units),
                                          initializer=self.kernel_initializer,
                                          regularizer=self.kernel_regularizer,
                                          constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        if self.quantization_mode == "int8":
            self.kernel_scale = quant.add_scale_weight(self, "kernel_scale", (self.units,))
        elif self.quantization_mode == "int4":
            int4_layers.add_int4_extras(self, "kernel", input_dim, self.units)
        self.inputs_quantizer = quant.inputs_quantizer(self)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    def call(self, inputs):
        if self.quantization_mode:
            quant.check_not_training(self)
            if self.quantization_mode == "int4":
                x = int4_layers.int4_dense(self, inputs)
            else:
                x = quantizers.int8_dense(inputs, self.kernel.value, self.kernel_scale.value, self.inputs_quantizer)
            if self.bias is not None:
                x = ops.add(x, self.bias.value)
        else:  # the engine's op itself: call only sees engine tensors (shapes come from compute_output_shape)
            x = backend.nn.dense(inputs, self.kernel.value, None if self.bias is None else self.bias.value)
        if self.activation is not activations.linear:
            x = self.activation(x)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def quantize(self, mode=None, type_check=True, config=None):
        """Replace the float kernel by a quantized one (as Keras 3's ``Dense.quantize``).

        ``mode="int8"``: an int8 ``kernel`` and one float ``kernel_scale`` per unit; inputs are then
        quantized per row at call time and multiplied in int8 -> int32 (see
        ``lamina.quantizers.int8_dense``), unless the config's ``activation_quantizer`` is None.
        ``mode="int4"``: the kernel packed two values per byte, ``(input_dim, ceil(units / 2))``,
        with per-unit scales or, in groups of ``block_size`` input rows (default 128), scales and
        zero points ``(groups, units)`` (see ``lamina.quantizers.int4_layers``). ``config``: a
        ``lamina.quantizers.QuantizationConfig`` instead of (or agreeing with) ``mode``.
        ``type_check`` is accepted for Keras compatibility (lamina also quantizes subclasses).
        Inference only.
        """
        config = quant.begin_quantize(self, mode, config)
        weight_quantizer = config.weight_quantizer
        if config.mode == "int8":
            quant.quantize_int8_weight(self, "kernel", axis=0, scale_name="kernel_scale", scale_shape=(self.units,),
                                       quantizer=weight_quantizer)
        else:
            block = quantizers.block_size_of(config)
            packed, scale, zero = int4_layers.quantize_int4(self.kernel.value, block, weight_quantizer)
            quant.replace_weight(self, "kernel", packed, "int8")
            self._int4_block_size = block
            int4_layers.set_int4_extras(self, "kernel", scale, zero, self.kernel.shape[0])
        quant.finish_quantize(self, config)
        self.inputs_quantizer = quant.inputs_quantizer(self)

    def get_config(self):
        return {
            **super().get_config(),
            "dtype": quant.policy_name(self, self.dtype),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            **quant.config_entries(self),
        }
