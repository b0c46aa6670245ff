"""``BaseConv``: what every convolution layer shares (arguments, bias, activation, shapes, config)."""

from lamina import activations, constraints, initializers, quantizers, regularizers
from lamina.backend.common import conv_utils as cu
from lamina.layers.core.dense import check_positive_int
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.quantizers import layer_support as quant


class BaseConv(Layer):
    """Base of the convolution layers: validates and stores the shared arguments.

    Subclasses set ``_who`` (the class name used in messages), and implement ``_build_kernels(in_channels)``
    (returning the number of output channels), ``_convolve(inputs, bias=None)`` (the convolution plus
    ``bias``, a 1-D tensor over the output channels, or None) and ``_spatial_output(lengths)``.
    """

    _padding_choices = ("valid", "same")
    # Subclasses whose single ``kernel`` has the output channels last (Conv1D/2D/3D) set this True:
    # they can be quantized to int8 (weight-only, one scale per output channel).
    supports_quantization = False

    def __init__(self, rank, filters=None, kernel_size=None, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, dtype=None, **kwargs):
        quantization_config = kwargs.pop("quantization_config", None)
        super().__init__(activity_regularizer=activity_regularizer, dtype=dtype, **kwargs)
        if self._dtype_policy.quantization_mode and not self.supports_quantization:
            raise ValueError(f"{type(self).__name__} cannot be quantized (only Conv1D/2D/3D can), but received "
                             f"dtype={self._dtype_policy.name!r}.")
        quant.init_quantization(self, quantization_config, ("int8",) if self.supports_quantization else ())
        who = self._who_name()
        self.rank = rank
        self.filters = None if filters is None else check_positive_int(who, "filters", filters)
        self.kernel_size = cu.normalize_tuple(kernel_size, rank, "kernel_size", who)
        self.strides = cu.normalize_tuple(strides, rank, "strides", who)
        self.dilation_rate = cu.normalize_tuple(dilation_rate, rank, "dilation_rate", who)
        self.padding = cu.standardize_padding(padding, who, self._padding_choices)
        self.data_format = cu.standardize_data_format(data_format, who)
        self.groups = check_positive_int(who, "groups", groups)
        if self.filters is not None and self.filters % self.groups:
            raise ValueError(
                f"{who}: `filters` must be divisible by `groups`, but received filters={self.filters} "
                f"and groups={self.groups}."
            )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{who}: strides > 1 cannot be combined with dilation_rate > 1, but received "
                f"strides={self.strides} and dilation_rate={self.dilation_rate}."
            )
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=rank + 2)

    def _who_name(self):
        return f"Layer '{self.name}' ({type(self).__name__})"

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def build(self, input_shape):
        who = self._who_name()
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{who} expects inputs of rank {self.rank + 2} (batch, {self.rank} spatial dims, channels), "
                f"but received input shape {tuple(input_shape)}."
            )
        in_channels = input_shape[self._channel_axis]
        if in_channels is None:
            raise ValueError(
                f"{who} needs a known channel dimension ({self.data_format}) to create its kernel, but received "
                f"input shape {tuple(input_shape)}."
            )
        if in_channels % self.groups:
            raise ValueError(
                f"{who}: the number of input channels ({in_channels}) must be divisible by groups={self.groups}; "
                f"received input shape {tuple(input_shape)}."
            )
        quant.resolve_build_policy(self)
        out_channels = self._build_kernels(in_channels)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(out_channels,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        if self.quantization_mode:
            self.kernel_scale = quant.add_scale_weight(self, "kernel_scale", (out_channels,))
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={self._channel_axis: in_channels})
        self.built = True

    def _add_kernel(self, name, shape, initializer, regularizer, constraint):
        if self.quantization_mode:
            return quant.add_int8_weight(self, name, shape)
        return self.add_weight(name=name, shape=shape, initializer=initializer, regularizer=regularizer,
                               constraint=constraint)

    def _kernel_value(self):
        """The kernel as a float tensor (dequantized from int8 once the layer is quantized)."""
        if self.quantization_mode:
            quant.check_not_training(self)
            return quantizers.dequantize(self.kernel.value, self.kernel_scale.value, self.compute_dtype)
        return self.kernel.value

    def quantize(self, mode=None, type_check=True, config=None):
        """Replace the float kernel by an int8 ``kernel`` and a per-output-channel float ``kernel_scale``.

        ``mode="int8"`` (or an ``Int8QuantizationConfig``), weight-only: the kernel is dequantized at call
        time and the convolution runs in float. Conv1D/2D/3D only (Keras 3 does not quantize
        convolutions; int4 is not offered). Inference only.
        """
        if not self.supports_quantization:
            raise ValueError(f"{self._who_name()} cannot be quantized: int8 quantization supports Conv1D, "
                             "Conv2D and Conv3D among the convolutions.")
        config = quant.begin_quantize(self, mode, config)
        axes = tuple(range(len(self.kernel.shape) - 1))
        quant.quantize_int8_weight(self, "kernel", axis=axes, scale_name="kernel_scale",
                                   scale_shape=(self.kernel.shape[-1],), quantizer=config.weight_quantizer)
        quant.finish_quantize(self, config)

    def call(self, inputs):
        # The bias goes to the engine's convolution, which adds it on the channel axis (PyTorch fuses it into
        # the conv kernel, as torch.nn.Conv2d; JAX adds it and XLA fuses the add).
        x = self._convolve(inputs, None if self.bias is None else self.bias.value)
        if self.activation is not activations.linear:
            x = self.activation(x)
        return x

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        spatial = self._spatial_output(cu.spatial_shape(input_shape, self.data_format))
        out_channels = self._output_channels(input_shape[self._channel_axis])
        if self.data_format == "channels_last":
            return (input_shape[0],) + tuple(spatial) + (out_channels,)
        return (input_shape[0], out_channels) + tuple(spatial)

    def _output_channels(self, in_channels):
        return self.filters

    def _spatial_output(self, lengths):
        return [cu.conv_output_length(L, k, self.padding, s, d)
                for L, k, s, d in zip(lengths, self.kernel_size, self.strides, self.dilation_rate)]

    def get_config(self):
        config = {
            **super().get_config(),
            "dtype": quant.policy_name(self, self.dtype),
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            # always present, as Keras 3 (None when unset), so a saved model keeps it
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            **quant.config_entries(self),
        }
        if self.filters is not None:
            config["filters"] = self.filters
        return config

    def _kernel_config(self, prefix="kernel"):
        return {
            f"{prefix}_initializer": initializers.serialize(getattr(self, f"{prefix}_initializer")),
            f"{prefix}_regularizer": regularizers.serialize(getattr(self, f"{prefix}_regularizer")),
            f"{prefix}_constraint": constraints.serialize(getattr(self, f"{prefix}_constraint")),
        }
