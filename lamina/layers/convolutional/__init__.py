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

# Keras 2's ``from keras.layers.convolutional import ...`` names (see lamina/_keras2_paths.py).
from lamina._keras2_paths import forwarding as _forwarding  # noqa: E402

__getattr__, _KERAS2_NAMES = _forwarding(__name__, "lamina.layers", [
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D", "Conv1D",
    "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "Convolution1D",
    "Convolution2D", "Convolution2DTranspose", "Convolution3D", "Cropping1D", "Cropping2D", "Cropping3D",
    "Deconvolution2D", "DepthwiseConv1D", "DepthwiseConv2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPool1D", "MaxPool2D", "MaxPool3D", "MaxPooling1D",
    "MaxPooling2D", "MaxPooling3D", "SeparableConv1D", "SeparableConv2D", "UpSampling1D", "UpSampling2D",
    "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"
])
