"""DepthwiseConv1D/2D and SeparableConv1D/2D (Keras's weight names and shapes)."""

from lamina import backend, constraints, initializers, regularizers
from lamina.layers.convolutional.base_conv import BaseConv
from lamina.layers.core.dense import check_positive_int


class DepthwiseConv(BaseConv):
    """Depthwise convolution (the base of DepthwiseConv1D/2D): each input channel is convolved with its own
    ``depth_multiplier`` filters; the kernel (named ``kernel``) is ``kernel_size + (in, depth_multiplier)``."""

    def __init__(self, rank, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, None, kernel_size, strides, padding, data_format, dilation_rate, 1, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self.depth_multiplier = check_positive_int(self._who_name(), "depth_multiplier", depth_multiplier)

    def _build_kernels(self, in_channels):
        self.kernel = self._add_kernel("kernel", self.kernel_size + (in_channels, self.depth_multiplier),
                                       self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint)
        return in_channels * self.depth_multiplier

    def _output_channels(self, in_channels):
        return None if in_channels is None else in_channels * self.depth_multiplier

    def _convolve(self, inputs, bias=None):
        return backend.nn.depthwise_conv(inputs, self.kernel.value, strides=self.strides, padding=self.padding,
                                         data_format=self.data_format, dilation_rate=self.dilation_rate, bias=bias)

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.kernel_initializer),
                "depthwise_regularizer": regularizers.serialize(self.kernel_regularizer),
                "depthwise_constraint": constraints.serialize(self.kernel_constraint)}


class DepthwiseConv1D(DepthwiseConv):
    """1D depthwise convolution: each channel of ``(batch, steps, channels)`` convolved separately.

    Args:
        kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias: as ``Conv1D``.
        depth_multiplier: filters per input channel; the output has ``channels * depth_multiplier`` channels.
        depthwise_initializer, depthwise_regularizer, depthwise_constraint: for the kernel.
        bias_initializer, bias_regularizer, bias_constraint, activity_regularizer: as ``Conv1D``.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.DepthwiseConv1D(3, depth_multiplier=2)
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 8, 4))))
    (2, 6, 8)
    """

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, **kwargs):
        super().__init__(1, kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, **kwargs)


class DepthwiseConv2D(DepthwiseConv):
    """2D depthwise convolution: each channel of an image convolved separately (MobileNet's building block).

    Args:
        kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias: as ``Conv2D``.
        depth_multiplier: filters per input channel; the output has ``channels * depth_multiplier`` channels.
        depthwise_initializer, depthwise_regularizer, depthwise_constraint: for the kernel.
        bias_initializer, bias_regularizer, bias_constraint, activity_regularizer: as ``Conv2D``.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.DepthwiseConv2D(3, padding="same")
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 8, 8, 4))))
    (2, 8, 8, 4)
    >>> [w.shape for w in layer.weights]
    [(3, 3, 4, 1), (4,)]
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), **kwargs):
        super().__init__(2, kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, **kwargs)


class SeparableConv(BaseConv):
    """Depthwise then pointwise convolution (the base of SeparableConv1D/2D). Weights ``depthwise_kernel``
    ``kernel_size + (in, depth_multiplier)``, ``pointwise_kernel`` ``(1,)*rank + (in*depth_multiplier, filters)``,
    ``bias``."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self.depth_multiplier = check_positive_int(self._who_name(), "depth_multiplier", depth_multiplier)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def _build_kernels(self, in_channels):
        self.depthwise_kernel = self._add_kernel(
            "depthwise_kernel", self.kernel_size + (in_channels, self.depth_multiplier), self.kernel_initializer,
            self.kernel_regularizer, self.kernel_constraint)
        self.pointwise_kernel = self._add_kernel(
            "pointwise_kernel", (1,) * self.rank + (in_channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer, self.pointwise_regularizer, self.pointwise_constraint)
        return self.filters

    def _convolve(self, inputs, bias=None):
        return backend.nn.separable_conv(inputs, self.depthwise_kernel.value, self.pointwise_kernel.value,
                                         strides=self.strides, padding=self.padding, data_format=self.data_format,
                                         dilation_rate=self.dilation_rate, bias=bias)

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.kernel_initializer),
                "depthwise_regularizer": regularizers.serialize(self.kernel_regularizer),
                "depthwise_constraint": constraints.serialize(self.kernel_constraint),
                **self._kernel_config("pointwise")}


class SeparableConv1D(SeparableConv):
    """1D separable convolution: a depthwise convolution, then a pointwise (size-1) convolution mixing channels.

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias: as ``Conv1D``.
        depth_multiplier: depthwise filters per input channel.
        depthwise_initializer, pointwise_initializer, bias_initializer: initializers.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer: regularizers.
        depthwise_constraint, pointwise_constraint, bias_constraint: constraints.

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.SeparableConv1D(6, 3)(lamina.ops.ones((2, 8, 4))))
    (2, 6, 6)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                         **kwargs)


class SeparableConv2D(SeparableConv):
    """2D separable convolution: a depthwise convolution, then a pointwise (1x1) convolution mixing channels.

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias: as ``Conv2D``.
        depth_multiplier: depthwise filters per input channel.
        depthwise_initializer, pointwise_initializer, bias_initializer: initializers.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer: regularizers.
        depthwise_constraint, pointwise_constraint, bias_constraint: constraints.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.SeparableConv2D(8, 3, padding="same")
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 6, 6, 4))))
    (2, 6, 6, 8)
    >>> [w.shape for w in layer.weights]
    [(3, 3, 4, 1), (1, 1, 4, 8), (8,)]
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                         **kwargs)
