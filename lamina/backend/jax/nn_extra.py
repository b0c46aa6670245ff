"""im2col / col2im on JAX (``jax.lax.conv_general_dilated_patches`` and its transpose). Same names as
``backend/torch/nn_extra.py``; arguments are checked in ``lamina/ops/nn_extra.py`` (pairs of ints here)."""

import jax
import jax.numpy as jnp

from lamina.backend.jax.core import convert_to_tensor
from lamina.backend.jax.nn_conv import CONVOLUTIONS_TRACED


def unfold(x, kernel_size, dilation, padding, stride):
    x = convert_to_tensor(x)
    CONVOLUTIONS_TRACED[0] += 1  # a convolution for XLA (see nn_conv)
    n = x.shape[0]
    x = jnp.pad(x, ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])))
    patches = jax.lax.conv_general_dilated_patches(x, filter_shape=kernel_size, window_strides=stride,
                                                   padding="VALID", rhs_dilation=dilation,
                                                   dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return patches.reshape(n, patches.shape[1], -1)


def fold(x, output_size, kernel_size, dilation, padding, stride):
    # col2im is the transpose of the (linear) im2col map: sum every block back where it came from.
    x = convert_to_tensor(x)
    n, ckk = x.shape[0], x.shape[1]
    c = ckk // (kernel_size[0] * kernel_size[1])
    image = jax.ShapeDtypeStruct((n, c, *output_size), x.dtype)
    (out,) = jax.linear_transpose(lambda t: unfold(t, kernel_size, dilation, padding, stride), image)(x)
    return out
