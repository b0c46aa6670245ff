"""Convolution and pooling on JAX. Same function names as ``backend/torch/nn_conv.py``.

``lax.conv_general_dilated`` and ``lax.reduce_window`` take the data format and Keras's kernel
layout directly through dimension numbers, so nothing is transposed. Padding comes from
``common.conv_utils`` so it matches the PyTorch engine.
"""

import functools
import itertools

import jax
import jax.numpy as jnp
from jax import lax

from lamina.backend.common import conv_utils as cu
from lamina.backend.jax.core import convert_to_tensor, to_engine_dtype

_SPATIAL = "DHW"


def _float(x):
    x = convert_to_tensor(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(to_engine_dtype(None))
    return x


def _dims(n, data_format, kernel="IO"):
    sp = _SPATIAL[-n:] if n <= 3 else None
    lhs = "N" + sp + "C" if data_format == "channels_last" else "NC" + sp
    return (lhs, sp + kernel, lhs)


def _prep(who, inputs, kernel, data_format, strides, padding, dilation_rate, **flags):
    x = _float(inputs)
    data_format = cu.standardize_data_format(data_format, who)
    kernel = convert_to_tensor(kernel).astype(x.dtype)
    n, groups = cu.check_conv_args(who, tuple(x.shape), tuple(kernel.shape), data_format, **flags)
    strides = cu.normalize_tuple(strides, n, "strides", who)
    dilation = cu.normalize_tuple(dilation_rate, n, "dilation_rate", who)
    padding = cu.standardize_padding(padding, who)
    return x, kernel, data_format, n, groups, strides, dilation, padding


def _spatial(x, df):
    return cu.spatial_shape(tuple(x.shape), df)


# Convolutions traced so far. XLA:CPU runs a convolution inside a loop body about 11x slower than in a
# program of its own, so the trainer fuses several steps per compiled call on a CPU only for steps that trace
# none (it reads this count around its traces).
CONVOLUTIONS_TRACED = [0]


# More groups than this (of more than one channel each) stay one grouped convolution: each group is an op of
# its own in the compiled program.
MAX_SPLIT_GROUPS = 32


def _conv(x, kernel, df, n, groups, strides, dilation, padding):
    if groups > 1 and kernel.shape[n] == 1 and jax.default_backend() == "cpu":
        # One input channel per group (ConvNeXt's Conv2D(groups=channels)): a depthwise convolution.
        w = kernel.reshape(tuple(kernel.shape[:n]) + (groups, kernel.shape[-1] // groups))
        return _depthwise_taps(x, w, df, n, strides, dilation, padding)
    if 1 < groups <= MAX_SPLIT_GROUPS and jax.default_backend() == "cpu":
        # One convolution per group, side by side: XLA:CPU's gradient of a grouped convolution is 15-190x
        # slower than its groups' (a 3x3 layer of 64 channels in 2 groups over (32, 16, 16, 64): 121 ms against
        # 7.6; in 32 groups of 4 over (32, 8, 8, 128): 613 against 3.2; the forward 1.3-3x).
        axis = x.ndim - 1 if df == "channels_last" else 1
        parts = zip(jnp.split(x, groups, axis=axis), jnp.split(kernel, groups, axis=-1))
        return jnp.concatenate([_conv(a, k, df, n, 1, strides, dilation, padding) for a, k in parts], axis=axis)
    if _pointwise_on_cpu(kernel, df, n, groups):
        return _pointwise_conv(x, kernel, strides)
    CONVOLUTIONS_TRACED[0] += 1
    ks = tuple(kernel.shape[:n])
    if padding == "same":
        pads = [cu.same_padding(L, k, s, d) for L, k, s, d in zip(_spatial(x, df), ks, strides, dilation)]
    else:
        pads = [(0, 0)] * n
    return lax.conv_general_dilated(x, kernel, window_strides=strides, padding=pads, rhs_dilation=dilation,
                                    dimension_numbers=_dims(n, df), feature_group_count=groups)


def _pointwise_on_cpu(kernel, df, n, groups):
    """A 1x1 convolution (channels last, ungrouped) on a CPU: it is a matrix product over the channels,
    which XLA:CPU runs much faster than its convolution. Measured on 2 cores, forward and gradients of a
    (32, 32, 32, 32) batch into 64 channels: 7.8 ms as a convolution, 0.9 ms as a matrix product; a
    (32, 16, 16, 64) batch into 256: 6.8 against 1.7 ms; the forward alone is 1.7-2.1x faster. The pointwise
    half of SeparableConv2D and the 1x1 layers of MobileNet, ResNet-50 or EfficientNet take this path."""
    return (groups == 1 and df == "channels_last" and all(k == 1 for k in kernel.shape[:n])
            and jax.default_backend() == "cpu")


def _pointwise_conv(x, kernel, strides):
    # A 1x1 window needs no padding ("same" pads 0 for any stride), and a stride keeps every s-th position.
    if any(s != 1 for s in strides):
        x = x[(slice(None),) + tuple(slice(None, None, s) for s in strides)]
    w = kernel.reshape(kernel.shape[-2:])
    low = x.dtype in (jnp.float16, jnp.bfloat16)  # summed in float32, as XLA's convolution does
    out = lax.dot_general(x, w, (((x.ndim - 1,), (0,)), ((), ())),
                          preferred_element_type=jnp.float32 if low else None)
    return out.astype(x.dtype) if low else out


def _add_bias(out, bias, data_format):
    """``out + bias`` on the channel axis (``bias``: None, or the output channels' bias), with lamina's
    ``add`` (its dtype promotion). XLA fuses the add into the convolution's consumer; the PyTorch engine
    passes the bias to torch's conv instead."""
    if bias is None:
        return out
    from lamina.backend.jax.numpy import add

    bias = convert_to_tensor(bias)
    if data_format == "channels_first" and bias.ndim == 1:
        bias = bias.reshape((-1,) + (1,) * (out.ndim - 2))
    return add(out, bias)


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, bias=None):
    x, kernel, df, n, groups, strides, dilation, padding = _prep(
        "conv", inputs, kernel, data_format, strides, padding, dilation_rate)
    return _add_bias(_conv(x, kernel, df, n, groups, strides, dilation, padding), bias, df)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, bias=None):
    x, kernel, df, n, _, strides, dilation, padding = _prep(
        "depthwise_conv", inputs, kernel, data_format, strides, padding, dilation_rate, depthwise=True)
    c = kernel.shape[-2]
    if jax.default_backend() == "cpu":
        return _add_bias(_depthwise_taps(x, kernel, df, n, strides, dilation, padding), bias, df)
    w = kernel.reshape(tuple(kernel.shape[:n]) + (1, c * kernel.shape[-1]))
    return _add_bias(_conv(x, w, df, n, c, strides, dilation, padding), bias, df)


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5, 6))
def _depthwise_taps(x, kernel, df, n, strides, dilation, padding):
    """A depthwise convolution as the sum over the kernel's positions of a shifted (strided) view of the
    padded input times that position's per-channel weights: one fused loop for XLA, whose gradients JAX
    derives (a fused loop for the input's, a reduction per position for the kernel's).

    XLA:CPU runs a depthwise convolution as a grouped convolution, one group per channel, far slower:
    measured on 2 cores, a 3x3 depthwise layer over a (32, 32, 32, 32) batch takes 20 ms forward and
    25.5 ms with its gradients that way, 0.24 and 4.4-10.8 ms this way (8x56x56x96: 45 -> 0.8 ms forward,
    73 -> 23 ms with gradients). It is what DepthwiseConv2D, SeparableConv2D, MobileNet, EfficientNet and
    Xception run on a CPU. Jitted: called eagerly it is one dispatch, not one per kernel position (and JAX's
    process-wide cache of compiled functions does not fill with one entry per slice)."""
    ks = tuple(kernel.shape[:n])
    c, m = kernel.shape[n], kernel.shape[n + 1]
    sp_axes = tuple(range(1, 1 + n)) if df == "channels_last" else tuple(range(2, 2 + n))
    ch_axis = x.ndim - 1 if df == "channels_last" else 1
    lengths = [x.shape[a] for a in sp_axes]
    if padding == "same":
        pads = [cu.same_padding(L, k, s, d) for L, k, s, d in zip(lengths, ks, strides, dilation)]
        widths = [(0, 0)] * x.ndim
        for a, pad in zip(sp_axes, pads):
            widths[a] = pad
        x = jnp.pad(x, widths)
    if m != 1:  # output channel c * m + j reads input channel c (Keras's order)
        x = jnp.repeat(x, m, axis=ch_axis)
    padded = [x.shape[a] for a in sp_axes]
    outs = [max((L - d * (k - 1) - 1) // s + 1, 0) for L, k, s, d in zip(padded, ks, strides, dilation)]
    if 0 in outs:  # a window larger than the input: an empty output, as XLA's convolution gives
        shape = list(x.shape)
        for a, o in zip(sp_axes, outs):
            shape[a] = o
        return jnp.zeros(shape, x.dtype)
    low = x.dtype in (jnp.float16, jnp.bfloat16)
    if low:  # products summed in float32, as XLA's convolution accumulates them
        x = x.astype(jnp.float32)
    w = kernel.reshape(ks + (c * m,)).astype(x.dtype)
    bshape = [1] * x.ndim
    bshape[ch_axis] = c * m
    out = None
    for pos in itertools.product(*(range(k) for k in ks)):
        start, limit, step = [0] * x.ndim, list(x.shape), [1] * x.ndim
        for a, i, o, s, d in zip(sp_axes, pos, outs, strides, dilation):
            start[a], limit[a], step[a] = i * d, i * d + (o - 1) * s + 1, s
        term = lax.slice(x, start, limit, step) * w[pos].reshape(bshape)
        out = term if out is None else out + term
    return out.astype(kernel.dtype) if low else out


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1, bias=None):
    df = cu.standardize_data_format(data_format, "separable_conv")
    out = depthwise_conv(inputs, depthwise_kernel, strides, padding, df, dilation_rate)
    return conv(out, pointwise_kernel, 1, "valid", df, 1, bias=bias)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None,
                   dilation_rate=1, bias=None):
    x, kernel, df, n, _, strides, dilation, padding = _prep(
        "conv_transpose", inputs, kernel, data_format, strides, padding, dilation_rate, transpose=True)
    if output_padding is not None:
        output_padding = (output_padding,) * n if isinstance(output_padding, int) else tuple(output_padding)
    ks = tuple(kernel.shape[:n])
    pads = [cu.conv_transpose_padding(ks[i], strides[i], dilation[i], padding,
                                      None if output_padding is None else output_padding[i]) for i in range(n)]
    spec = (df, n, tuple(strides), tuple(dilation), tuple(tuple(int(v) for v in p) for p in pads))
    CONVOLUTIONS_TRACED[0] += 1
    if jax.default_backend() == "cpu":
        return _add_bias(_conv_transpose_cpu(x, kernel, spec), bias, df)
    return _add_bias(_lhs_dilated(x, kernel, spec), bias, df)


def _lhs_dilated(x, kernel, spec):
    """The transposed convolution: the convolution of the stride-dilated input with the spatially flipped
    kernel (Keras's kernel is (spatial..., out, in), i.e. "OI" in lax's terms)."""
    df, n, strides, dilation, pads = spec
    flipped = jnp.flip(kernel, axis=tuple(range(n)))
    return lax.conv_general_dilated(x, flipped, window_strides=(1,) * n, padding=pads, lhs_dilation=strides,
                                    rhs_dilation=dilation, dimension_numbers=_dims(n, df, kernel="OI"))


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _conv_transpose_cpu(x, kernel, spec):
    return _lhs_dilated(x, kernel, spec)


@functools.partial(_conv_transpose_cpu.defjvp, symbolic_zeros=True)
def _conv_transpose_cpu_jvp(spec, primals, tangents):
    """The kernel's tangent written so that its transpose (the reverse pass) is XLA's fast form.

    JAX's own kernel gradient of the stride-dilated convolution is a convolution of the dilated input with
    the output gradient, which XLA:CPU runs 25-40x slower than anything else in the layer (32 ms against
    0.8 forward for a stride-2 3x3 layer from (32, 16, 16, 32) to (32, 32, 32, 16)). The same numbers are
    the kernel gradient of the strided convolution this layer transposes, taken at the layer's input:
    ``kernel_grad`` below, 0.76 ms. The tangent is that linear map's transpose, so JAX's reverse pass
    transposes it back into ``kernel_grad``; forward mode and higher orders work as for any JAX code."""
    (x, kernel), (x_dot, kernel_dot) = primals, tangents
    out = _lhs_dilated(x, kernel, spec)
    terms = []
    if not isinstance(x_dot, jax.custom_derivatives.SymbolicZero):
        terms.append(_lhs_dilated(x_dot, kernel, spec))
    if not isinstance(kernel_dot, jax.custom_derivatives.SymbolicZero):
        x_like = jax.ShapeDtypeStruct(x.shape, x.dtype)

        def kernel_grad(ct):  # linear in ct (an output-shaped array)
            def strided(k):  # the strided convolution whose transpose this layer is, applied to ct
                return jax.linear_transpose(lambda v: _lhs_dilated(v, k, spec), x_like)(ct)[0]

            return jax.vjp(strided, kernel)[1](x)[0]

        terms.append(jax.linear_transpose(kernel_grad, jax.ShapeDtypeStruct(out.shape, out.dtype))(kernel_dot)[0])
    tangent = terms[0] if len(terms) == 1 else terms[0] + terms[1] if terms else jnp.zeros_like(out)
    return out, tangent


def _window(df, n, pool_size, strides, pads):
    if df == "channels_last":
        return (1,) + pool_size + (1,), (1,) + strides + (1,), [(0, 0)] + pads + [(0, 0)]
    return (1, 1) + pool_size, (1, 1) + strides, [(0, 0), (0, 0)] + pads


def _pool_pads(x, df, pool_size, strides, padding):
    if padding == "valid":
        return [(0, 0)] * len(pool_size)
    return [cu.same_padding(L, k, s) for L, k, s in zip(_spatial(x, df), pool_size, strides)]


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    x = convert_to_tensor(inputs)
    pool_size, strides, padding, df = cu.check_pool_args("max_pool", tuple(x.shape), pool_size, strides,
                                                         padding, data_format)
    n = len(pool_size)
    axes = tuple(range(1, 1 + n)) if df == "channels_last" else tuple(range(2, 2 + n))
    if tuple(strides) == tuple(pool_size) and (
            padding == "valid" or all(x.shape[a] % k == 0 for a, k in zip(axes, pool_size))):
        # Windows that tile the input (the usual MaxPooling2D()): a reshape and a max, whose gradient (below)
        # costs 0.3 ms where XLA's select-and-scatter costs 8 ms on the CPU (a (32, 30, 30, 32) batch).
        return _tiled_max_pool(x, tuple(pool_size), axes)
    pads = _pool_pads(x, df, pool_size, strides, padding)
    dims, st, pd = _window(df, len(pool_size), pool_size, strides, pads)
    # A Python scalar init value (not an array) keeps reduce_window differentiable under jit.
    init = -jnp.inf if jnp.issubdtype(x.dtype, jnp.floating) else jnp.array(jnp.iinfo(x.dtype).min, x.dtype)
    return lax.reduce_window(x, init, lax.max, dims, st, pd)


def _tiles(x, pool, axes):
    """``x`` cropped to whole windows and reshaped so that each pooled axis of size d becomes (d // k, k);
    returns it and the positions of the window axes."""
    shape, win, crop = [], [], []
    for i, d in enumerate(x.shape):
        if i in axes:
            k = pool[axes.index(i)]
            crop.append(slice(0, d // k * k))
            shape += [d // k, k]
            win.append(len(shape) - 1)
        else:
            crop.append(slice(None))
            shape.append(d)
    return x[tuple(crop)].reshape(shape), tuple(win)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def _tiled_max_pool(x, pool, axes):
    tiles, win = _tiles(x, pool, axes)
    return tiles.max(axis=win)


@_tiled_max_pool.defjvp
def _tiled_max_pool_jvp(pool, axes, primals, tangents):
    # The tangent of the first maximum of each window (XLA's select-and-scatter gives the whole gradient to
    # the first maximum too, so gradients are the same bit for bit, ties included); JAX transposes this
    # linear map for the reverse pass, and forward mode and higher orders work as well.
    (x,), (t,) = primals, tangents
    tiles, win = _tiles(x, pool, axes)
    keep = [i for i in range(tiles.ndim) if i not in win]
    perm = keep + list(win)
    flat = tiles.transpose(perm).reshape(tuple(tiles.shape[i] for i in keep) + (-1,))
    first = jnp.arange(flat.shape[-1]) == jnp.argmax(flat, axis=-1)[..., None]
    t_flat = _tiles(t, pool, axes)[0].transpose(perm).reshape(flat.shape)
    return flat.max(axis=-1), jnp.sum(jnp.where(first, t_flat, jnp.zeros((), t_flat.dtype)), axis=-1)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    x = _float(inputs)
    pool_size, strides, padding, df = cu.check_pool_args("average_pool", tuple(x.shape), pool_size, strides,
                                                         padding, data_format)
    pads = _pool_pads(x, df, pool_size, strides, padding)
    dims, st, pd = _window(df, len(pool_size), pool_size, strides, pads)
    zero = 0.0
    summed = lax.reduce_window(x, zero, lax.add, dims, st, pd)
    if padding == "valid":
        size = 1
        for k in pool_size:
            size *= k
        return summed / jnp.asarray(size, x.dtype)
    # "same": the mean over the real (unpadded) values of each window, as Keras.
    ones = jnp.ones(tuple(1 if i in (0, _channel_axis(x, df)) else d for i, d in enumerate(x.shape)), x.dtype)
    counts = lax.reduce_window(ones, zero, lax.add, dims, st, pd)
    return summed / counts


def _channel_axis(x, df):
    return x.ndim - 1 if df == "channels_last" else 1


def _adaptive(who, reduce, inputs, output_size, data_format):
    x = _float(inputs)
    df = cu.standardize_data_format(data_format, who)
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"{who}: inputs must have rank 3, 4 or 5, but received shape {tuple(x.shape)}.")
    n = x.ndim - 2
    size = cu.normalize_tuple(output_size, n, "output_size", who)
    first = 1 if df == "channels_last" else 2
    # PyTorch's windows (start = floor(i*L/out), end = ceil((i+1)*L/out)), one spatial axis at a time.
    for i in range(n):
        axis = first + i
        bins = cu.adaptive_bins(x.shape[axis], size[i])
        parts = [reduce(lax.slice_in_dim(x, a, b, axis=axis), axis=axis, keepdims=True) for a, b in bins]
        x = jnp.concatenate(parts, axis=axis)
    return x


def adaptive_max_pool(inputs, output_size, data_format=None):
    return _adaptive("adaptive_max_pool", jnp.max, inputs, output_size, data_format)


def adaptive_average_pool(inputs, output_size, data_format=None):
    return _adaptive("adaptive_average_pool", jnp.mean, inputs, output_size, data_format)
