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


def _drawn(draw, shape, seed, host=None):
    """``draw(shape)`` inside a compiled function; outside one (building a model: the initializers),
    drawn on the host by NumPy's generator seeded with the seed's two numbers, when ``host`` gives
    that draw. Every eager JAX draw compiles small programs for its shape (and the scaling after it),
    so building a model spent seconds compiling (an MLP: 27 programs, 3.4 s); on the host it
    compiles nothing. The same seed gives the same numbers, eager or not each time."""
    shape = _shape(shape)
    if isinstance(seed, jax.core.Tracer):
        return draw(shape)
    if host is not None:
        try:
            numbers = np.asarray(seed).astype(np.int64).reshape(-1)
        except (TypeError, jax.errors.ConcretizationTypeError):
            return draw(shape)
        rng = np.random.default_rng([int(numbers[0]) & 0xFFFFFFFF, int(numbers[-1]) & 0xFFFFFFFF])
        return _on_device(host(rng, shape))  # a transfer; jnp.asarray would compile a program here
    return draw(shape)


def _on_device(host_array):
    """``host_array`` as a concrete JAX array, even while a function is being traced (a layer built inside a
    traced call, e.g. a sublayer made in ``build`` during symbolic shape inference): there ``jax.device_put``
    alone would give a tracer, which a seed drawn to an int, or a state assigned to a Variable, cannot be."""
    with jax.ensure_compile_time_eval():
        return jax.device_put(host_array)


def _np_dtype(dtype):
    return np.dtype(dtype)


def _host_normal(mean, stddev, dtype):
    def draw(rng, shape):
        return (rng.standard_normal(shape) * stddev + mean).astype(_np_dtype(dtype))
    return draw


def _host_uniform(minval, maxval, dtype):
    def draw(rng, shape):
        if np.issubdtype(_np_dtype(dtype), np.integer):
            return rng.integers(int(minval), int(maxval), shape).astype(_np_dtype(dtype))
        return rng.uniform(float(minval), float(maxval), shape).astype(_np_dtype(dtype))
    return draw


def _host_truncated_normal(mean, stddev, dtype):
    def draw(rng, shape):
        out = rng.standard_normal(shape)
        outside = np.abs(out) > 2.0
        while outside.any():  # redraw the values beyond two standard deviations
            out[outside] = rng.standard_normal(int(outside.sum()))
            outside = np.abs(out) > 2.0
        return (out * stddev + mean).astype(_np_dtype(dtype))
    return draw


def _concrete(*values):
    return all(not isinstance(v, jax.core.Tracer) for v in values)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    dtype = to_engine_dtype(dtype)
    host = _host_normal(mean, stddev, dtype) if _concrete(mean, stddev) else None
    return _drawn(lambda s: jax.random.normal(_key(seed), s, dtype) * stddev + mean, shape, seed, host)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    dtype = to_engine_dtype(dtype)
    host = _host_uniform(minval, maxval, dtype) if _concrete(minval, maxval) else None
    return _drawn(lambda s: jax.random.uniform(_key(seed), s, dtype, minval, maxval), shape, seed, host)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    dtype = to_engine_dtype(dtype)
    host = _host_truncated_normal(mean, stddev, dtype) if _concrete(mean, stddev) else None
    return _drawn(lambda s: jax.random.truncated_normal(_key(seed), -2.0, 2.0, s, dtype) * stddev + mean,
                  shape, seed, host)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    dtype = to_engine_dtype(dtype)
    host = _host_uniform(minval, maxval, dtype) if _concrete(minval, maxval) else None
    return _drawn(lambda s: jax.random.randint(_key(seed), s, minval, maxval, dtype), shape, seed, host)


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


def gamma(shape, alpha, dtype=None, seed=None):
    dtype = to_engine_dtype(dtype)
    return jax.random.gamma(_key(seed), jnp.asarray(alpha, dtype), _shape(shape), dtype)


def beta(shape, alpha, beta, dtype=None, seed=None):
    dtype = to_engine_dtype(dtype)
    return jax.random.beta(_key(seed), jnp.asarray(alpha, dtype), jnp.asarray(beta, dtype), _shape(shape), dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    dtype = to_engine_dtype(dtype)
    return jax.random.binomial(_key(seed), jnp.asarray(counts, dtype), jnp.asarray(probabilities, dtype),
                               _shape(shape), dtype)


def advance_seed(state):
    """``(seed for this draw, next state)`` of a SeedGenerator's ``[seed, counter]`` state: the counter + 1; on
    the host (no program to compile) unless the state is being traced."""
    if isinstance(state, jax.core.Tracer):
        return state, state + jnp.asarray([0, 1], state.dtype)
    host = np.asarray(state)
    return state, _on_device(host + np.asarray([0, 1], host.dtype))


def seed_engine(seed):
    """JAX has no global generator: nothing to seed (lamina's SeedGenerator covers JAX)."""
    return None
