"""Conv1DTranspose, Conv2DTranspose, Conv3DTranspose: transposed convolutions, kernel ``kernel_size + (filters, in)``."""

from lamina import backend
from lamina.backend.common import conv_utils as cu
from lamina.layers.convolutional.base_conv import BaseConv

_DOC = """
    The transpose of a convolution (sometimes called deconvolution): it maps an input of a strided
    convolution's output size back to that convolution's input size, e.g. to upsample in a decoder.

    Args:
        filters: positive int, the number of output channels.
        kernel_size: int or tuple of {rank} ints.
        strides: int or tuple of {rank} ints (default 1).
        padding: ``"valid"`` or ``"same"``.
        output_padding: None, or int or tuple of {rank} ints smaller than the strides: the extra length
            added at the end of each spatial output dimension. None: the output length is
            ``length * stride`` ("same") or ``length * stride + max(kernel - stride, 0)`` ("valid").
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: int or tuple of {rank} ints (default 1).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as ``Conv{rank}D``.

    Input shape:
        ``(batch, {spatial}, channels)`` (channels_last) or ``(batch, channels, {spatial})``.

    Output shape:
        ``(batch, {spatial_out}, filters)`` (channels_last) or ``(batch, filters, {spatial_out})``.
"""


class ConvTranspose(BaseConv):
    """N-D transposed convolution layer (the base of Conv1D/2D/3DTranspose)."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(rank, filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
        self.output_padding = None
        if output_padding is not None:
            who = self._who_name()
            op = (output_padding,) * rank if isinstance(output_padding, int) else tuple(output_padding)
            if len(op) != rank or any(not isinstance(p, int) or p < 0 for p in op):
                raise ValueError(f"{who}: `output_padding` must be a non-negative int or a tuple of {rank} "
                                 f"non-negative ints, but received output_padding={output_padding!r}.")
            for p, s, d in zip(op, self.strides, self.dilation_rate):
                if p >= max(s, d):
                    raise ValueError(f"{who}: each `output_padding` must be smaller than the stride (or dilation), "
                                     f"but received output_padding={op} with strides={self.strides}.")
            self.output_padding = op

    def _build_kernels(self, in_channels):
        self.kernel = self._add_kernel("kernel", self.kernel_size + (self.filters, in_channels),
                                       self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint)
        return self.filters

    def _convolve(self, inputs, bias=None):
        return backend.nn.conv_transpose(inputs, self.kernel.value, strides=self.strides, padding=self.padding,
                                         output_padding=self.output_padding, data_format=self.data_format,
                                         dilation_rate=self.dilation_rate, bias=bias)

    def _spatial_output(self, lengths):
        op = self.output_padding or (None,) * self.rank
        return [cu.conv_transpose_output_length(L, k, self.padding, p, s, d)
                for L, k, p, s, d in zip(lengths, self.kernel_size, op, self.strides, self.dilation_rate)]

    def get_config(self):
        return {**super().get_config(), **self._kernel_config(),
                "output_padding": None if self.output_padding is None else list(self.output_padding)}


class Conv1DTranspose(ConvTranspose):
    __doc__ = "1D transposed convolution layer.\n" + _DOC.format(rank=1, spatial="steps", spatial_out="new_steps") + """
    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.Conv1DTranspose(4, 3, strides=2, padding="same")(lamina.ops.ones((2, 5, 3))))
    (2, 10, 4)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         **kwargs)


class Conv2DTranspose(ConvTranspose):
    __doc__ = "2D transposed convolution layer.\n" + _DOC.format(
        rank=2, spatial="rows, cols", spatial_out="new_rows, new_cols") + """
    Example:
    >>> import lamina
    >>> layer = lamina.layers.Conv2DTranspose(4, 3, strides=2, padding="same")
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 7, 7, 8))))
    (2, 14, 14, 4)
    >>> [w.shape for w in layer.weights]
    [(3, 3, 4, 8), (4,)]
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         **kwargs)


class Conv3DTranspose(ConvTranspose):
    __doc__ = "3D transposed convolution layer.\n" + _DOC.format(
        rank=3, spatial="d1, d2, d3", spatial_out="new_d1, new_d2, new_d3") + """
    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.Conv3DTranspose(2, 2, strides=2)(lamina.ops.ones((1, 2, 3, 4, 3))))
    (1, 4, 6, 8, 2)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1, 1), **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         **kwargs)
