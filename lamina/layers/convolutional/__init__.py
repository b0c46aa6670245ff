"""Convolution layers: Conv1D/2D/3D, their transposes, depthwise and separable convolutions."""

from lamina.layers.convolutional.conv import Conv1D, Conv2D, Conv3D  # noqa: F401
from lamina.layers.convolutional.conv_transpose import (  # noqa: F401
    Conv1DTranspose,
    Conv2DTranspose,
    Conv3DTranspose,
)
from lamina.layers.convolutional.depthwise_separable import (  # noqa: F401
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)

# Keras aliases
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution1DTranspose, Convolution2DTranspose, Convolution3DTranspose = (
    Conv1DTranspose, Conv2DTranspose, Conv3DTranspose)
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
Deconvolution2D, Deconvolution3D = Conv2DTranspose, Conv3DTranspose
