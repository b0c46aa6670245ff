"""Integer kernels for ``lamina.quantizers`` (JAX): int8 x int8 -> int32 matrix products."""

import jax
import jax.numpy as jnp

from lamina.backend.jax.core import convert_to_tensor

# XLA's GPU int8 product is wrong when the contraction or output size is not aligned (seen on an H200 with
# JAX 0.11.2: (5, 10) @ (10, 6) off by up to 30601, while (3, 24) @ (24, 4) and (8, 16) @ (16, 8) were
# exact). Zero rows/columns change no sum, so those sizes are padded up to a multiple of this.
_ALIGN = 8


def _round_up(n):
    return -(-n // _ALIGN) * _ALIGN


def int8_matmul(x, kernel):
    """``x @ kernel`` for 2-D int8 arrays, accumulated exactly in int32 (XLA's integer dot), with the
    contraction and output sizes padded with zeros to aligned sizes (the batch size stays as it is: it may be
    symbolic in an exported function)."""
    x, kernel = convert_to_tensor(x), convert_to_tensor(kernel)
    k, n = kernel.shape
    pk, pn = _round_up(k) - k, _round_up(n) - n
    if pk or pn:
        x = jnp.pad(x, ((0, 0), (0, pk))) if pk else x
        kernel = jnp.pad(kernel, ((0, pk), (0, pn)))
    out = jax.lax.dot(x, kernel, preferred_element_type=jnp.int32)
    return out[:, :n] if pn else out
