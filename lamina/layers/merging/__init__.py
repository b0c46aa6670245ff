"""Merging layers and their functional forms."""

from lamina.layers.merging.base_merge import Merge  # noqa: F401
from lamina.layers.merging.merge_layers import (  # noqa: F401
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
