"""Reshaping layers: Permute, RepeatVector, cropping, zero padding and upsampling (Flatten and Reshape live in
``layers.core``)."""

from lamina.layers.reshaping.cropping_padding import (  # noqa: F401
    Cropping1D,
    Cropping2D,
    Cropping3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from lamina.layers.reshaping.permute_repeat import Permute, RepeatVector  # noqa: F401
from lamina.layers.reshaping.up_sampling import UpSampling1D, UpSampling2D, UpSampling3D  # noqa: F401
