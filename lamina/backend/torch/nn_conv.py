"""Convolution and pooling on PyTorch. Same function names as ``backend/jax/nn_conv.py``.

Kernels use Keras's layout (``spatial... + (in / groups, out)``); data may be channels_last or
channels_first. torch's kernels are channels-first, so channels_last data is converted at the op
boundary with ``permute`` — a view, not a copy: an NHWC tensor permuted to NCHW has exactly torch's
``channels_last`` memory format, which the conv and pool kernels accept directly, and the result is
permuted back (again a view). Padding comes from ``common.conv_utils`` so it matches the JAX engine.
"""

import math

import torch
import torch.nn.functional as F

from lamina.backend.common import conv_utils as cu
from lamina.backend.torch.core import convert_to_tensor, to_engine_dtype

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
_AMAX = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}
_AAVG = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}


def _float(x):
    x = convert_to_tensor(x)
    if not x.is_floating_point():
        x = x.to(to_engine_dtype(None))
    return x


def _to_cf(x, data_format):
    """channels_last -> channels_first as a view (torch's channels_last memory format)."""
    if data_format == "channels_last":
        return x.permute(0, x.ndim - 1, *range(1, x.ndim - 1))
    return x


def _from_cf(x, data_format):
    if data_format == "channels_last":
        return x.permute(0, *range(2, x.ndim), 1)
    return x


def _kernel_cf(kernel, dtype):
    """Keras kernel ``spatial... + (a, b)`` -> torch's ``(b, a) + spatial...`` (a view).

    torch copies this view into its own layout at each call. That copy is not cached for inference: a cache
    keyed on the variable's ``_version`` would go stale, as torch's fused optimizer kernels (``_fused_adam_``,
    which lamina's Adam runs) update weights in place without bumping it.
    """
    kernel = convert_to_tensor(kernel).to(dtype)
    n = kernel.ndim - 2
    return kernel.permute(n + 1, n, *range(n))


def _pad_same(x_cf, kernel_size, strides, dilation, value=0.0):
    """Pad a channels-first tensor for "same"; return it and the symmetric padding left for the op."""
    pads = [cu.same_padding(x_cf.shape[2 + i], kernel_size[i], strides[i], dilation[i])
            for i in range(len(kernel_size))]
    if all(a == b for a, b in pads):
        return x_cf, tuple(a for a, _ in pads)
    flat = [p for a, b in reversed(pads) for p in (a, b)]
    return F.pad(x_cf, flat, value=value), (0,) * len(pads)


def _prep(who, inputs, kernel, data_format, strides, padding, dilation_rate, **flags):
    x = _float(inputs)
    data_format = cu.standardize_data_format(data_format, who)
    kshape = tuple(convert_to_tensor(kernel).shape)
    n, groups = cu.check_conv_args(who, tuple(x.shape), kshape, data_format, **flags)
    strides = cu.normalize_tuple(strides, n, "strides", who)
    dilation = cu.normalize_tuple(dilation_rate, n, "dilation_rate", who)
    padding = cu.standardize_padding(padding, who)
    return x, data_format, n, groups, strides, dilation, padding, kshape[:n]


def _fusable_bias(bias, dtype, channels):
    """``bias`` as torch's conv takes it (1-D, the output's dtype and length), or None when it is not one."""
    if bias is None:
        return None
    bias = convert_to_tensor(bias)
    if bias.ndim == 1 and bias.dtype == dtype and bias.shape[0] == channels:
        return bias
    return None


def _add_bias(out, bias, data_format):
    """``out + bias`` on the channel axis, with lamina's ``add`` (its dtype promotion): the unfused path."""
    from lamina.backend.torch.numpy import add

    bias = convert_to_tensor(bias)
    if data_format == "channels_first" and bias.ndim == 1:
        bias = bias.reshape((-1,) + (1,) * (out.ndim - 2))
    return add(out, bias)


def _conv_cf(x_cf, w_cf, n, strides, padding, dilation, groups, kernel_size, bias=None):
    if padding == "same":
        x_cf, pad = _pad_same(x_cf, kernel_size, strides, dilation)
    else:
        pad = 0
    return _CONV[n](x_cf, w_cf, bias, stride=strides, padding=pad, dilation=dilation, groups=groups)


def _biased_conv(x, w_cf, df, n, strides, padding, dilation, groups, ks, bias):
    """The convolution of ``x`` (``df`` layout) with the torch-layout kernel, plus ``bias`` (output channels):
    fused into torch's conv (one kernel, as ``torch.nn.Conv2d``) when it is a 1-D bias of the output's
    dtype, else added afterwards."""
    fused = _fusable_bias(bias, x.dtype, w_cf.shape[0])
    out = _from_cf(_conv_cf(_to_cf(x, df), w_cf, n, strides, padding, dilation, groups, ks, fused), df)
    if bias is not None and fused is None:
        out = _add_bias(out, bias, df)
    return out


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, bias=None):
    x, df, n, groups, strides, dilation, padding, ks = _prep(
        "conv", inputs, kernel, data_format, strides, padding, dilation_rate)
    return _biased_conv(x, _kernel_cf(kernel, x.dtype), df, n, strides, padding, dilation, groups, ks, bias)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, bias=None):
    x, df, n, _, strides, dilation, padding, ks = _prep(
        "depthwise_conv", inputs, kernel, data_format, strides, padding, dilation_rate, depthwise=True)
    kernel = convert_to_tensor(kernel).to(x.dtype)
    c = kernel.shape[-2]
    w = kernel.reshape(*ks, 1, c * kernel.shape[-1])
    return _biased_conv(x, _kernel_cf(w, x.dtype), df, n, strides, padding, dilation, c, ks, bias)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1, bias=None):
    df = cu.standardize_data_format(data_format, "separable_conv")
    out = depthwise_conv(inputs, depthwise_kernel, strides, padding, df, dilation_rate)
    return conv(out, pointwise_kernel, 1, "valid", df, 1, bias=bias)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None,
                   dilation_rate=1, bias=None):
    x, df, n, _, strides, dilation, padding, ks = _prep(
        "conv_transpose", inputs, kernel, data_format, strides, padding, dilation_rate, transpose=True)
    out_pad = None if output_padding is None else _out_pad_tuple(output_padding, n)
    # crop of the full transposed output at each side (negative: zeros appended)
    crops = []
    for i in range(n):
        left, right = cu.conv_transpose_padding(ks[i], strides[i], dilation[i], padding,
                                                None if out_pad is None else out_pad[i])
        k = cu.effective_size(ks[i], dilation[i])
        crops.append((k - 1 - left, k - 1 - right))
    # torch's transposed kernel is (in, out) + spatial: Keras's (out, in) last two dims swapped.
    w = _kernel_cf(kernel, x.dtype)
    x_cf = _to_cf(x, df)
    ops_pad = [a - b for a, b in crops]
    fused = None
    if all(a >= 0 for a, _ in crops) and all(0 <= p < max(s, d) for p, s, d in zip(ops_pad, strides, dilation)):
        fused = _fusable_bias(bias, x.dtype, w.shape[1])
        out = _CONV_T[n](x_cf, w, fused, stride=strides, padding=tuple(a for a, _ in crops),
                         output_padding=tuple(ops_pad), dilation=dilation)
    else:
        # Cropped (or zero-extended) afterwards: the bias is added after that, to the appended zeros too.
        out = _CONV_T[n](x_cf, w, stride=strides, dilation=dilation)
        out = F.pad(out, [-p for a, b in reversed(crops) for p in (a, b)])
    out = _from_cf(out, df)
    if bias is not None and fused is None:
        out = _add_bias(out, bias, df)
    return out


def _out_pad_tuple(output_padding, n):
    if isinstance(output_padding, int):
        return (output_padding,) * n
    return tuple(int(p) for p in output_padding)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    x = convert_to_tensor(inputs)
    pool_size, strides, padding, df = cu.check_pool_args("max_pool", tuple(x.shape), pool_size, strides,
                                                         padding, data_format)
    n = len(pool_size)
    x_cf = _to_cf(x, df)
    pad = 0
    if padding == "same":
        x_cf, pad = _pad_same(x_cf, pool_size, strides, (1,) * n, value=-math.inf)
        if any(p > k // 2 for p, k in zip(pad, pool_size)):  # torch limits implicit padding to k/2
            flat = [q for p in reversed(pad) for q in (p, p)]
            x_cf, pad = F.pad(x_cf, flat, value=-math.inf), 0
    return _from_cf(_MAX[n](x_cf, pool_size, strides, pad), df)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    x = _float(inputs)
    pool_size, strides, padding, df = cu.check_pool_args("average_pool", tuple(x.shape), pool_size, strides,
                                                         padding, data_format)
    n = len(pool_size)
    x_cf = _to_cf(x, df)
    if padding == "valid":
        return _from_cf(_AVG[n](x_cf, pool_size, strides), df)
    pads = [cu.same_padding(x_cf.shape[2 + i], pool_size[i], strides[i]) for i in range(n)]
    if all(a == b and a <= k // 2 for (a, b), k in zip(pads, pool_size)):
        out = _AVG[n](x_cf, pool_size, strides, tuple(a for a, _ in pads), count_include_pad=False)
        return _from_cf(out, df)
    # Asymmetric "same": the mean over the real (unpadded) values of each window, as Keras.
    flat = [p for a, b in reversed(pads) for p in (a, b)]
    summed = _AVG[n](F.pad(x_cf, flat), pool_size, strides)
    ones = torch.ones((1, 1) + tuple(x_cf.shape[2:]), dtype=x.dtype, device=x.device)
    counts = _AVG[n](F.pad(ones, flat), pool_size, strides)
    return _from_cf(summed / counts, df)


def _adaptive(who, table, inputs, output_size, data_format):
    x = _float(inputs)
    df = cu.standardize_data_format(data_format, who)
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"{who}: inputs must have rank 3, 4 or 5, but received shape {tuple(x.shape)}.")
    n = x.ndim - 2
    size = cu.normalize_tuple(output_size, n, "output_size", who)
    return _from_cf(table[n](_to_cf(x, df), size), df)


def adaptive_max_pool(inputs, output_size, data_format=None):
    return _adaptive("adaptive_max_pool", _AMAX, inputs, output_size, data_format)


def adaptive_average_pool(inputs, output_size, data_format=None):
    return _adaptive("adaptive_average_pool", _AAVG, inputs, output_size, data_format)
