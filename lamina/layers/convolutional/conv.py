"""Conv1D, Conv2D, Conv3D: convolutions with a kernel in Keras's layout ``kernel_size + (in / groups, filters)``."""

from lamina import backend, ops
from lamina.backend.common import conv_utils as cu
from lamina.layers.convolutional.base_conv import BaseConv

_ARGS_DOC = """
    Args:
        filters: positive int, the number of output channels.
        kernel_size: int or tuple of {rank} ints, the window size.
        strides: int or tuple of {rank} ints (default 1). Strides > 1 cannot be combined with
            ``dilation_rate`` > 1.
        padding: ``"valid"`` (no padding) or ``"same"`` (output length ``ceil(length / stride)``){causal}.
        data_format: ``"channels_last"`` (default, from ``lamina.config.image_data_format()``) or
            ``"channels_first"``.
        dilation_rate: int or tuple of {rank} ints, the dilation of the kernel (default 1).
        groups: positive int; the input channels are split in ``groups`` groups, each convolved with
            ``filters / groups`` filters.
        activation: activation name or function (default: linear).
        use_bias: whether to add a bias vector (default True).
        kernel_initializer, bias_initializer: initializers (default ``"glorot_uniform"``, ``"zeros"``).
        kernel_regularizer, bias_regularizer, activity_regularizer: regularizers.
        kernel_constraint, bias_constraint: constraints.

    Input shape:
        ``(batch, {spatial}, channels)`` (channels_last) or ``(batch, channels, {spatial})``.

    Output shape:
        ``(batch, {new_spatial}, filters)`` (channels_last) or ``(batch, filters, {new_spatial})``.
"""


class Conv(BaseConv):
    """N-D convolution layer (the base of Conv1D/2D/3D): ``activation(conv(inputs, kernel) + bias)``."""

    _padding_choices = ("valid", "same")
    supports_quantization = True

    def _build_kernels(self, in_channels):
        self.kernel = self._add_kernel("kernel", self.kernel_size + (in_channels // self.groups, self.filters),
                                       self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint)
        return self.filters

    def _convolve(self, inputs, bias=None):
        padding = self.padding
        if padding == "causal":
            pad = [(0, 0)] * 3
            pad[1 if self.data_format == "channels_last" else 2] = (
                (self.kernel_size[0] - 1) * self.dilation_rate[0], 0)
            inputs, padding = ops.pad(inputs, pad), "valid"
        # The engine's op itself: call sees engine tensors only (shapes come from compute_output_shape).
        return backend.nn.conv(inputs, self._kernel_value(), strides=self.strides, padding=padding,
                               data_format=self.data_format, dilation_rate=self.dilation_rate, bias=bias)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, **self._kernel_config()}


class Conv1D(Conv):
    __doc__ = ("""1D convolution layer (temporal convolution).
""" + _ARGS_DOC.format(rank=1, spatial="steps", new_spatial="new_steps",
                       causal=', or ``"causal"`` (left padding: output ``t`` sees inputs up to ``t``)') + """
    Example:
    >>> import lamina
    >>> layer = lamina.layers.Conv1D(4, 3, padding="causal")
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 10, 3))))
    (2, 10, 4)
    >>> [w.shape for w in layer.weights]
    [(3, 3, 4), (4,)]
    """)

    _padding_choices = ("valid", "same", "causal")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)

    def _spatial_output(self, lengths):
        if self.padding != "causal":
            return super()._spatial_output(lengths)
        return [cu.conv_output_length(lengths[0], self.kernel_size[0], "causal", self.strides[0])]


class Conv2D(Conv):
    __doc__ = ("""2D convolution layer (spatial convolution over images).
""" + _ARGS_DOC.format(rank=2, spatial="rows, cols", new_spatial="new_rows, new_cols", causal="") + """
    Example:
    >>> import lamina
    >>> layer = lamina.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 28, 28, 1))))
    (2, 14, 14, 8)
    >>> [w.shape for w in layer.weights]
    [(3, 3, 1, 8), (8,)]
    """)

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3D(Conv):
    __doc__ = ("""3D convolution layer (spatial convolution over volumes).
""" + _ARGS_DOC.format(rank=3, spatial="d1, d2, d3", new_spatial="new_d1, new_d2, new_d3", causal="") + """
    Example:
    >>> import lamina
    >>> layer = lamina.layers.Conv3D(2, 3)
    >>> lamina.ops.shape(layer(lamina.ops.ones((1, 5, 6, 7, 3))))
    (1, 3, 4, 5, 2)
    """)

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
