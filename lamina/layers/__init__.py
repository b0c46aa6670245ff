"""``lamina.layers``: the building blocks of models (Keras's ``keras.layers``)."""

from lamina.layers.core.dense import Dense  # noqa: F401
from lamina.layers.core.input_layer import Input, InputLayer  # noqa: F401
from lamina.layers.core.simple import (  # noqa: F401
    Activation,
    Dropout,
    Flatten,
    Identity,
    Lambda,
    Masking,
    Reshape,
)
from lamina.layers.input_spec import InputSpec  # noqa: F401
from lamina.layers.layer import Layer  # noqa: F401
