"""Layers the ConvNeXt models are built from: ``LayerScale`` and ``StochasticDepth``.

Both are registered serializable, so models holding them save and load (``model.save("m.keras")``). Their class
names are Keras's, so Keras 3 ``.weights.h5`` files (which key layers by class name) load into lamina's models.

Example:
>>> import numpy as np, lamina
>>> from lamina.applications._blocks import LayerScale, StochasticDepth
>>> x = np.ones((2, 3), "float32")
>>> lamina.ops.convert_to_numpy(LayerScale(0.5, 3)(x)).tolist()
[[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
>>> lamina.ops.convert_to_numpy(StochasticDepth(0.3)(x, training=False)).tolist()
[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
"""

from lamina import initializers, ops
from lamina import random as lrandom
from lamina.layers.core.simple import _next_seed
from lamina.layers.layer import Layer
from lamina.saving import register_serializable
from lamina.saving.serialization import get_custom_objects


def _who(layer):
    return f"Layer '{layer.name}' ({type(layer).__name__})"


@register_serializable(package="lamina.applications")
class LayerScale(Layer):
    """Multiply the last axis by a learned per-channel scale ``gamma`` (Touvron et al., 2021, "CaiT").

    Args:
        init_values: the initial value of every entry of ``gamma`` (ConvNeXt uses 1e-6).
        projection_dim: the size of the last axis of the inputs (the length of ``gamma``).
    """

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        if isinstance(init_values, bool) or not isinstance(init_values, (int, float)):
            raise TypeError(f"{_who(self)}: init_values must be a number, but received {init_values!r}.")
        if isinstance(projection_dim, bool) or not isinstance(projection_dim, int) or projection_dim < 1:
            raise ValueError(f"{_who(self)}: projection_dim must be a positive int, but received "
                             f"{projection_dim!r}.")
        self.init_values = float(init_values)
        self.projection_dim = projection_dim

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self.projection_dim:
            raise ValueError(f"{_who(self)} expected inputs whose last dimension is projection_dim="
                             f"{self.projection_dim}, but received shape {tuple(input_shape)}.")
        self.gamma = self.add_weight(shape=(self.projection_dim,), name="gamma",
                                     initializer=initializers.Constant(self.init_values), trainable=True)

    def call(self, inputs):
        return inputs * ops.cast(self.gamma, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init_values": self.init_values, "projection_dim": self.projection_dim}


@register_serializable(package="lamina.applications")
class StochasticDepth(Layer):
    """Drop a residual branch for whole samples in training (Huang et al., 2016; "drop path").

    In training each sample's input is zeroed with probability ``drop_path_rate`` and the kept ones are scaled by
    ``1 / (1 - drop_path_rate)``; at inference the input passes unchanged.

    Args:
        drop_path_rate: float in [0, 1), the probability of dropping a sample's branch.
        seed: optional int seed for reproducible masks.
    """

    def __init__(self, drop_path_rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(drop_path_rate, bool) or not isinstance(drop_path_rate, (int, float)) \
                or not 0 <= drop_path_rate < 1:
            raise ValueError(f"{_who(self)}: drop_path_rate must be a float in [0, 1), but received "
                             f"drop_path_rate={drop_path_rate!r}.")
        self.drop_path_rate = float(drop_path_rate)
        self.seed = seed
        self.seed_generator = lrandom.SeedGenerator(seed if seed is not None else _next_seed())

    def call(self, inputs, training=False):
        if not training or self.drop_path_rate == 0:
            return inputs
        noise_shape = (None,) + (1,) * (len(inputs.shape) - 1)
        return lrandom.dropout(inputs, self.drop_path_rate, noise_shape=noise_shape, seed=self.seed_generator)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate, "seed": self.seed}


# Keras saves its (unregistered) ConvNeXt layers under their bare class names: let such files load too.
get_custom_objects().setdefault("LayerScale", LayerScale)
get_custom_objects().setdefault("StochasticDepth", StochasticDepth)
