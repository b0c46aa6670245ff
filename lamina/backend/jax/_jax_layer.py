"""What ``lamina.layers.JaxLayer`` needs from JAX: seeds as raw PRNG keys, arrays recognised as weights."""

import jax
import jax.numpy as jnp
import numpy as np


def to_key(seed):
    """A lamina seed (two integers) as a raw ``uint32[2]`` PRNG key, as JAX's legacy ``PRNGKey`` is."""
    return jnp.asarray(seed).astype(jnp.uint32)


def is_array(value):
    return isinstance(value, (jax.Array, np.ndarray, np.generic))


def ones(shape, dtype):
    return jnp.ones(shape, dtype)
