"""Integer kernels for ``lamina.quantizers`` (JAX): int8 x int8 -> int32 matrix products."""

import jax
import jax.numpy as jnp

from lamina.backend.jax.core import convert_to_tensor


def int8_matmul(x, kernel):
    """``x @ kernel`` for 2-D int8 arrays, accumulated exactly in int32 (XLA's integer dot)."""
    x, kernel = convert_to_tensor(x), convert_to_tensor(kernel)
    return jax.lax.dot(x, kernel, preferred_element_type=jnp.int32)
