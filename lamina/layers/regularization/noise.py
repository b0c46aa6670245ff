"""Seeded noise layers: SpatialDropout1D/2D/3D, GaussianDropout, GaussianNoise, AlphaDropout; and
ActivityRegularization. Noise is applied only in training; each layer draws from its own
``SeedGenerator`` (saved with the model, threaded through compiled JAX steps)."""

import math

from lamina import ops, regularizers
from lamina import random as lrandom
from lamina.backend.common import conv_utils as cu
from lamina.layers.core.simple import Dropout, _next_seed
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


def _check_rate(layer, name, value, upper_open=True):
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and 0 <= value and (
        value < 1 if upper_open else True)
    if not ok:
        bound = "[0, 1)" if upper_open else ">= 0"
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}): {name} must be a float in {bound}, "
                         f"but received {name}={value!r}.")
    return float(value)


class _SpatialDropout(Dropout):
    """Drop whole feature maps (channels) instead of single values."""

    def __init__(self, rank, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.rank = rank
        self.data_format = cu.standardize_data_format(data_format, f"Layer '{self.name}' ({type(self).__name__})")
        self.input_spec = InputSpec(ndim=rank + 2)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.rate >= 1:
            return ops.zeros_like(inputs)
        shape = tuple(inputs.shape)
        if self.data_format == "channels_last":
            noise = (shape[0],) + (1,) * self.rank + (shape[-1],)
        else:
            noise = (shape[0], shape[1]) + (1,) * self.rank
        return lrandom.dropout(inputs, self.rate, noise_shape=noise, seed=self.seed_generator)

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        config.pop("noise_shape", None)
        if self.rank == 1:
            config.pop("data_format")
        return config


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole channels of ``(batch, steps, channels)`` inputs in training (scaled by ``1/(1-rate)``).

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        seed: int seed for reproducible masks.

    Example:
    >>> import lamina
    >>> out = lamina.layers.SpatialDropout1D(0.5, seed=1)(lamina.ops.ones((1, 3, 2)), training=True)
    >>> sorted(set(lamina.ops.convert_to_numpy(out).ravel().tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(1, rate, None, seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole feature maps of images in training (scaled by ``1/(1-rate)``).

    Args:
        rate: float in [0, 1].
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: int seed.

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.SpatialDropout2D(0.5)(lamina.ops.ones((2, 4, 4, 3)), training=True))
    (2, 4, 4, 3)
    """

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(2, rate, data_format, seed, **kwargs)


class SpatialDropout3D(_SpatialDropout):
    """Dropout of whole feature maps of volumes in training (scaled by ``1/(1-rate)``).

    Args:
        rate: float in [0, 1].
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: int seed.

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.SpatialDropout3D(0.5)(lamina.ops.ones((1, 2, 2, 2, 3)), training=True))
    (1, 2, 2, 2, 3)
    """

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(3, rate, data_format, seed, **kwargs)


class _SeededNoise(Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = lrandom.SeedGenerator(seed if seed is not None else _next_seed())
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


class GaussianDropout(_SeededNoise):
    """Multiply the inputs by noise drawn from ``N(1, rate / (1 - rate))`` in training.

    Args:
        rate: float in [0, 1), the drop probability of the equivalent dropout.
        seed: int seed.

    Example:
    >>> import lamina
    >>> lamina.ops.convert_to_numpy(lamina.layers.GaussianDropout(0.3)(lamina.ops.ones((2,)))).tolist()
    [1.0, 1.0]
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate(self, "rate", rate)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        std = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * lrandom.normal(tuple(inputs.shape), 1.0, std, ops.dtype(inputs), self.seed_generator)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class GaussianNoise(_SeededNoise):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` in training (a regularizer).

    Args:
        stddev: float >= 0.
        seed: int seed.

    Example:
    >>> import lamina
    >>> lamina.ops.convert_to_numpy(lamina.layers.GaussianNoise(0.1)(lamina.ops.ones((2,)))).tolist()
    [1.0, 1.0]
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = _check_rate(self, "stddev", stddev, upper_open=False)

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        return inputs + lrandom.normal(tuple(inputs.shape), 0.0, self.stddev, ops.dtype(inputs), self.seed_generator)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class AlphaDropout(_SeededNoise):
    """Dropout that keeps the mean and variance of its inputs (for SELU networks): dropped values are set to
    SELU's negative saturation and the result is affinely rescaled.

    Args:
        rate: float in [0, 1).
        noise_shape: shape of the keep mask (None entries follow the input).
        seed: int seed.

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.AlphaDropout(0.2, seed=0)(lamina.ops.ones((4, 3)), training=True))
    (4, 3)
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate(self, "rate", rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
        shape = tuple(inputs.shape) if self.noise_shape is None else tuple(
            inputs.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        kept = ops.cast(lrandom.uniform(shape, seed=self.seed_generator) >= self.rate, ops.dtype(inputs))
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * kept + alpha_p * (1 - kept)) + b

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": list(self.noise_shape) if self.noise_shape else None}


class ActivityRegularization(Layer):
    """Pass the inputs through and add ``l1 * sum(|x|) + l2 * sum(x**2)`` (per sample) to the model's losses.

    Args:
        l1, l2: non-negative floats.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.ActivityRegularization(l1=0.1)
    >>> _ = layer(lamina.ops.convert_to_tensor([[1.0, -2.0]]))
    >>> [round(float(lamina.ops.convert_to_numpy(v)), 4) for v in layer.losses]
    [0.3]
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = float(l1), float(l2)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = {**super().get_config(), "l1": self.l1, "l2": self.l2}
        config.pop("activity_regularizer", None)  # l1 and l2 make it (Keras's __init__ refuses both)
        return config
