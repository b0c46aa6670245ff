"""Random initializers: normal, uniform, truncated normal, variance scaling, orthogonal."""

import math
import numbers

from lamina import ops
from lamina import random as lrandom
from lamina.initializers.initializer import (
    Initializer,
    check_choice,
    check_number,
    float_dtype,
    standardize_shape,
)
from lamina.random.random import SeedGenerator, global_seed_generator

_TRUNCATION_CORRECTION = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]


def _draw_int_seed():
    seed = lrandom.randint((), 1, 2**31 - 1, dtype="int32", seed=global_seed_generator())
    return int(ops.convert_to_numpy(seed))


def compute_fans(shape, input_axes=None, output_axes=None):
    """Return ``(fan_in, fan_out)`` for a weight of ``shape``, as Keras computes them.

    Dense kernels ``(in, out)`` give ``(in, out)``; convolution kernels
    ``(*spatial, in_channels, out_channels)`` multiply both by the receptive
    field size (the product of the spatial dimensions). When both
    ``input_axes`` and ``output_axes`` are given, the fans are the products of
    the dimensions on those axes (e.g. an attention kernel ``(dim, heads, key_dim)``
    with ``input_axes=[0]``, ``output_axes=[1, 2]``).

    Example:
    >>> from lamina.initializers.random_initializers import compute_fans
    >>> compute_fans((3, 3, 16, 32))
    (144, 288)
    >>> compute_fans((8, 2, 4), input_axes=[0], output_axes=[1, 2])
    (8, 8)
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        try:
            return (int(math.prod(shape[a] for a in input_axes)), int(math.prod(shape[a] for a in output_axes)))
        except IndexError:
            raise ValueError(f"compute_fans: input_axes={list(input_axes)} and output_axes={list(output_axes)} "
                             f"must be axes of the weight's shape {shape}.") from None
    if len(shape) < 1:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in, fan_out = shape
    else:
        receptive_field = math.prod(shape[:-2])
        fan_in = shape[-2] * receptive_field
        fan_out = shape[-1] * receptive_field
    return int(fan_in), int(fan_out)


def _check_axes(who, name, axes):
    if axes is None:
        return None
    if not isinstance(axes, (list, tuple)) or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
        raise ValueError(f"{type(who).__name__}: `{name}` must be None or a list of ints, but received "
                         f"{name}={axes!r}.")
    return list(axes)


class RandomInitializer(Initializer):
    """Base class of the random initializers: holds and serializes the seed.

    Args:
        seed: an int (every call gives the same values), None (each instance
            draws its own seed from the global generator at construction, so
            ``lamina.utils.set_random_seed`` makes runs repeatable, and
            successive calls differ), or a ``lamina.random.SeedGenerator``.
    """

    def __init__(self, seed=None):
        self._init_seed = seed
        if seed is None:
            seed = SeedGenerator(_draw_int_seed())
        elif isinstance(seed, dict):
            inner = seed.get("config", seed) if "class_name" in seed else seed
            if seed.get("class_name", "SeedGenerator") != "SeedGenerator" or set(inner) - {"seed"}:
                raise ValueError(
                    f"{type(self).__name__}: a seed config must describe a SeedGenerator, "
                    f"but received seed={seed!r}."
                )
            seed = SeedGenerator(inner.get("seed"))
            self._init_seed = seed
        elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
            seed = self._init_seed = int(seed)
        elif not isinstance(seed, SeedGenerator):
            raise ValueError(
                f"{type(self).__name__}: seed must be an int, None or a lamina.random.SeedGenerator, "
                f"but received seed={seed!r}."
            )
        self.seed = seed

    def get_config(self):
        seed = self._init_seed
        if isinstance(seed, SeedGenerator):
            seed = {"module": "keras.random", "class_name": "SeedGenerator",
                    "config": seed.get_config(), "registered_name": None}
        return {"seed": seed}


class RandomNormal(RandomInitializer):
    """Samples from a normal distribution ``N(mean, stddev**2)``.

    Args:
        mean: mean of the values.
        stddev: standard deviation of the values.
        seed: int, None or ``SeedGenerator`` (see ``RandomInitializer``).

    Example:
    >>> import lamina.initializers
    >>> w = lamina.initializers.RandomNormal(mean=0.0, stddev=1.0, seed=1)((2, 3))
    >>> lamina.ops.shape(w)
    (2, 3)
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = check_number(self, "mean", mean)
        self.stddev = check_number(self, "stddev", stddev, non_negative=True)
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = standardize_shape(self, shape)
        return lrandom.normal(shape, mean=self.mean, stddev=self.stddev,
                              dtype=float_dtype(self, dtype), seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class TruncatedNormal(RandomInitializer):
    """Samples from a normal distribution cut at two standard deviations from the mean.

    Args:
        mean: mean of the values.
        stddev: standard deviation of the (untruncated) normal.
        seed: int, None or ``SeedGenerator``.

    Example:
    >>> import lamina.initializers
    >>> w = lamina.initializers.TruncatedNormal(stddev=1.0, seed=1)((100,))
    >>> bool(abs(lamina.ops.convert_to_numpy(w)).max() <= 2.0)
    True
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = check_number(self, "mean", mean)
        self.stddev = check_number(self, "stddev", stddev, non_negative=True)
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = standardize_shape(self, shape)
        return lrandom.truncated_normal(shape, mean=self.mean, stddev=self.stddev,
                                        dtype=float_dtype(self, dtype), seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(RandomInitializer):
    """Samples uniformly from ``[minval, maxval)``.

    Args:
        minval: lower bound.
        maxval: upper bound (exclusive).
        seed: int, None or ``SeedGenerator``.

    Example:
    >>> import lamina.initializers
    >>> w = lamina.ops.convert_to_numpy(lamina.initializers.RandomUniform(0.0, 1.0, seed=1)((50,)))
    >>> bool(w.min() >= 0.0 and w.max() < 1.0)
    True
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = check_number(self, "minval", minval)
        self.maxval = check_number(self, "maxval", maxval)
        if minval > maxval:
            raise ValueError(
                f"RandomUniform: minval must be <= maxval, but received minval={minval!r}, maxval={maxval!r}."
            )
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = standardize_shape(self, shape)
        return lrandom.uniform(shape, minval=self.minval, maxval=self.maxval,
                               dtype=float_dtype(self, dtype), seed=self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(RandomInitializer):
    """Samples with a variance scaled to the shape of the weight.

    With ``n`` the fan-in, fan-out or their average (``mode``), samples come
    from a normal truncated at 2 standard deviations with
    ``stddev = sqrt(scale / n) / 0.8796...`` (the correction makes the
    truncated distribution's variance ``scale / n``), an untruncated normal with
    ``stddev = sqrt(scale / n)``, or a uniform on ``[-limit, limit]`` with
    ``limit = sqrt(3 * scale / n)``.

    Args:
        scale: positive scaling factor.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"`` (``"normal"`` is an alias),
            ``"untruncated_normal"`` or ``"uniform"``.
        seed: int, None or ``SeedGenerator``.
        input_axes: optional list of the weight's axes whose product is the fan-in
            (used together with ``output_axes``; by default the fans follow ``compute_fans``).
        output_axes: optional list of the weight's axes whose product is the fan-out.

    Example:
    >>> import lamina.initializers
    >>> init = lamina.initializers.VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform", seed=0)
    >>> w = lamina.ops.convert_to_numpy(init((8, 4)))
    >>> bool(abs(w).max() <= (3 * 2.0 / 8) ** 0.5)
    True
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None, input_axes=None,
                 output_axes=None):
        self.scale = check_number(self, "scale", scale, positive=True)
        self.mode = check_choice(self, "mode", mode, _MODES)
        if not isinstance(distribution, str):
            check_choice(self, "distribution", distribution, _DISTRIBUTIONS)
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        self.distribution = check_choice(self, "distribution", distribution, _DISTRIBUTIONS)
        self.input_axes = _check_axes(self, "input_axes", input_axes)
        self.output_axes = _check_axes(self, "output_axes", output_axes)
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = standardize_shape(self, shape)
        dtype = float_dtype(self, dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        if self.mode == "fan_in":
            n = max(1.0, fan_in)
        elif self.mode == "fan_out":
            n = max(1.0, fan_out)
        else:
            n = max(1.0, (fan_in + fan_out) / 2.0)
        scale = self.scale / n
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / _TRUNCATION_CORRECTION
            return lrandom.truncated_normal(shape, 0.0, stddev, dtype=dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return lrandom.normal(shape, 0.0, math.sqrt(scale), dtype=dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return lrandom.uniform(shape, -limit, limit, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config(), "input_axes": self.input_axes, "output_axes": self.output_axes}


class _VarianceScalingPreset(VarianceScaling):
    """A VarianceScaling with fixed scale, mode and distribution; ``seed``, ``input_axes`` and ``output_axes``
    are configurable (as Keras 3.15)."""

    _preset = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        scale, mode, distribution = self._preset
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed, input_axes=input_axes,
                         output_axes=output_axes)

    def get_config(self):
        return {**RandomInitializer.get_config(self), "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_VarianceScalingPreset):
    """Glorot (Xavier) uniform: uniform on ``[-limit, limit]`` with
    ``limit = sqrt(6 / (fan_in + fan_out))``.

    Same as ``VarianceScaling(scale=1.0, mode="fan_avg", distribution="uniform")``.

    Args:
        seed: int, None or ``SeedGenerator`` (see ``RandomInitializer``).
        input_axes, output_axes: optional axes defining the fans (see ``VarianceScaling``).

    Example:
    >>> import lamina.initializers
    >>> w = lamina.initializers.GlorotUniform(seed=0)((3, 4))
    >>> lamina.ops.shape(w)
    (3, 4)
    """

    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_VarianceScalingPreset):
    """Glorot (Xavier) normal: a truncated normal with variance ``2 / (fan_in + fan_out)``.

    Same as ``VarianceScaling(scale=1.0, mode="fan_avg", distribution="truncated_normal")``.

    Args:
        seed: int, None or ``SeedGenerator`` (see ``RandomInitializer``).
        input_axes, output_axes: optional axes defining the fans (see ``VarianceScaling``).

    Example:
    >>> import lamina.initializers
    >>> w = lamina.initializers.GlorotNormal(seed=0)((3, 4))
    >>> lamina.ops.shape(w)
    (3, 4)
    """

    _preset = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_VarianceScalingPreset):
    """He uniform: uniform on ``[-limit, limit]`` with ``limit = sqrt(6 / fan_in)``.

    Same as ``VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform")``.

    Args:
        seed: int, None or ``SeedGenerator`` (see ``RandomInitializer``).
        input_axes, output_axes: optional axes defining the fans (see ``VarianceScaling``).

    Example:
    >>> import lamina.initializers
    >>> w = lamina.initializers.HeUniform(seed=0)((3, 4))
    >>> lamina.ops.shape(w)
    (3, 4)
    """

    _preset = (2.0, "fan_in", "uniform")


class HeNormal(_VarianceScalingPreset):
    """He normal: a truncated normal with variance ``2 / fan_in``.

    Same as ``VarianceScaling(scale=2.0, mode="fan_in", distribution="truncated_normal")``.

    Args:
        seed: int, None or ``SeedGenerator`` (see ``RandomInitializer``).
        input_axes, output_axes: optional axes defining the fans (see ``VarianceScaling``).

    Example:
    >>> import lamina.initializers
    >>> w = lamina.initializers.HeNormal(seed=0)((3, 4))
    >>> lamina.ops.shape(w)
    (3, 4)
    """

    _preset = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_VarianceScalingPreset):
    """LeCun uniform: uniform on ``[-limit, limit]`` with ``limit = sqrt(3 / fan_in)``.

    Same as ``VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform")``.

    Args:
        seed: int, None or ``SeedGenerator`` (see ``RandomInitializer``).
        input_axes, output_axes: optional axes defining the fans (see ``VarianceScaling``).

    Example:
    >>> import lamina.initializers
    >>> w = lamina.initializers.LecunUniform(seed=0)((3, 4))
    >>> lamina.ops.shape(w)
    (3, 4)
    """

    _preset = (1.0, "fan_in", "uniform")


class LecunNormal(_VarianceScalingPreset):
    """LeCun normal: a truncated normal with variance ``1 / fan_in`` (use with ``selu``).

    Same as ``VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal")``.

    Args:
        seed: int, None or ``SeedGenerator`` (see ``RandomInitializer``).
        input_axes, output_axes: optional axes defining the fans (see ``VarianceScaling``).

    Example:
    >>> import lamina.initializers
    >>> w = lamina.initializers.LecunNormal(seed=0)((3, 4))
    >>> lamina.ops.shape(w)
    (3, 4)
    """

    _preset = (1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """A random orthogonal matrix (times ``gain``), from the QR decomposition of a normal matrix.

    For shapes of rank > 2 the weight is treated as a matrix of
    ``prod(shape[:-1])`` rows and ``shape[-1]`` columns. Rows are orthonormal
    when there are fewer rows than columns, otherwise columns are.

    Args:
        gain: multiplicative factor.
        seed: int, None or ``SeedGenerator``.

    Example:
    >>> import lamina.initializers
    >>> import numpy as np
    >>> q = lamina.ops.convert_to_numpy(lamina.initializers.Orthogonal(seed=0)((4, 4)))
    >>> bool(np.allclose(q.T @ q, np.eye(4), atol=1e-5))
    True
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = check_number(self, "gain", gain)
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = standardize_shape(self, shape)
        dtype = float_dtype(self, dtype)
        if len(shape) < 2:
            raise ValueError(
                f"Orthogonal: shape must have at least 2 dimensions, but received shape={shape} "
                f"of rank {len(shape)}."
            )
        num_rows, num_cols = math.prod(shape[:-1]), shape[-1]
        flat_shape = (max(num_rows, num_cols), min(num_rows, num_cols))
        compute_dtype = "float64" if dtype == "float64" else "float32"
        a = lrandom.normal(flat_shape, dtype=compute_dtype, seed=self.seed)
        q, r = ops.qr(a)
        q = ops.multiply(q, ops.sign(ops.diagonal(r)))
        if num_rows < num_cols:
            q = ops.transpose(q)
        return ops.cast(ops.multiply(ops.reshape(q, shape), self.gain), dtype)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}
