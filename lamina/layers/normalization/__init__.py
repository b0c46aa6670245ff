"""Normalization layers: batch, layer, group, RMS and unit normalization."""

from lamina.layers.normalization.batch_normalization import BatchNormalization  # noqa: F401
from lamina.layers.normalization.layer_normalization import (  # noqa: F401
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)
