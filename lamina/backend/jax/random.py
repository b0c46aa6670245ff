"""Random number generation on JAX, from explicit seeds.

A seed is a 2-element integer array ``[seed, counter]`` drawn from a
``lamina.random.SeedGenerator``; the same seed always gives the same numbers,
and seeds can be traced through compiled steps.
"""

import jax
import jax.numpy as jnp
import numpy as np

from lamina.backend.jax.core import convert_to_tensor, to_engine_dtype


def _key(seed):
    seed = convert_to_tensor(seed).astype(jnp.uint32)
    return jax.random.fold_in(jax.random.key(seed[0]), seed[1])


def _shape(shape):
    return (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)


def _drawn(draw, shape, seed):
    """``draw(shape)``; outside a compiled function, drawn as a flat block of the next power-of-two
    size and cut to ``shape`` on the host. Every eager draw compiles a random-number program for
    its shape, so building a model with many weight shapes (DenseNet: 119) spent most of its time
    compiling; with power-of-two blocks a few programs serve every weight."""
    shape = _shape(shape)
    n = int(np.prod(shape)) if shape else 1
    if isinstance(seed, jax.core.Tracer) or n < 2:
        return draw(shape)
    block = draw((1 << (n - 1).bit_length(),))
    if isinstance(block, jax.core.Tracer):  # being traced with a constant seed: draw as asked
        return draw(shape)
    return jnp.asarray(np.asarray(block)[:n].reshape(shape))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    dtype = to_engine_dtype(dtype)
    return _drawn(lambda s: jax.random.normal(_key(seed), s, dtype) * stddev + mean, shape, seed)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    dtype = to_engine_dtype(dtype)
    return _drawn(lambda s: jax.random.uniform(_key(seed), s, dtype, minval, maxval), shape, seed)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    dtype = to_engine_dtype(dtype)
    return _drawn(lambda s: jax.random.truncated_normal(_key(seed), -2.0, 2.0, s, dtype) * stddev + mean,
                  shape, seed)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    return jax.random.randint(_key(seed), _shape(shape), minval, maxval, to_engine_dtype(dtype))


def dropout(inputs, rate, noise_shape=None, seed=None):
    inputs = convert_to_tensor(inputs)
    shape = tuple(inputs.shape) if noise_shape is None else tuple(
        inputs.shape[i] if d is None else d for i, d in enumerate(noise_shape))
    keep = jax.random.bernoulli(_key(seed), 1.0 - rate, shape)
    return jnp.where(keep, inputs / (1.0 - rate), jnp.zeros((), inputs.dtype))


def shuffle(x, axis=0, seed=None):
    return jax.random.permutation(_key(seed), convert_to_tensor(x), axis=axis, independent=False)


def categorical(logits, num_samples, dtype="int32", seed=None):
    logits = convert_to_tensor(logits)
    out = jax.random.categorical(_key(seed), logits[..., None, :], axis=-1,
                                 shape=(*logits.shape[:-1], num_samples))
    return out.astype(to_engine_dtype(dtype))


def seed_engine(seed):
    """JAX has no global generator: nothing to seed (lamina's SeedGenerator covers JAX)."""
    return None
