"""Plain NumPy references for convolution and pooling: explicit loops over output positions and kernel
offsets, written independently of lamina's padding helpers. Used by the op conformance cases and the
layer tests."""

import math

import numpy as np


def _tup(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


def _cl(x, df):
    return x if df == "channels_last" else np.moveaxis(x, 1, -1)


def _back(x, df):
    return x if df == "channels_last" else np.moveaxis(x, -1, 1)


def _same(length, k, s, d=1):
    keff = (k - 1) * d + 1
    total = max((math.ceil(length / s) - 1) * s + keff - length, 0)
    return total // 2, total - total // 2


def np_conv(x, w, strides=1, padding="valid", data_format="channels_last", dilation_rate=1):
    x = _cl(np.asarray(x, "float64"), data_format)
    w = np.asarray(w, "float64")
    n = x.ndim - 2
    s, d, ks = _tup(strides, n), _tup(dilation_rate, n), w.shape[:n]
    pads = [_same(x.shape[1 + i], ks[i], s[i], d[i]) if padding == "same" else (0, 0) for i in range(n)]
    x = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out_sp = [(x.shape[1 + i] - (ks[i] - 1) * d[i] - 1) // s[i] + 1 for i in range(n)]
    gin, cout = w.shape[-2], w.shape[-1]
    groups = x.shape[-1] // gin
    gout = cout // groups
    out = np.zeros((x.shape[0], *out_sp, cout))
    for idx in np.ndindex(*out_sp):
        for kidx in np.ndindex(*ks):
            patch = x[(slice(None),) + tuple(i * si + k * di for i, k, si, di in zip(idx, kidx, s, d))]
            for g in range(groups):
                out[(slice(None),) + idx + (slice(g * gout, (g + 1) * gout),)] += (
                    patch[:, g * gin:(g + 1) * gin] @ w[kidx][:, g * gout:(g + 1) * gout])
    return _back(out, data_format)


def np_depthwise_conv(x, w, strides=1, padding="valid", data_format="channels_last", dilation_rate=1):
    w = np.asarray(w, "float64")
    n = w.ndim - 2
    c, m = w.shape[-2:]
    full = np.zeros(w.shape[:n] + (1, c * m))
    for ci in range(c):
        full[..., 0, ci * m:(ci + 1) * m] = w[..., ci, :]
    return np_conv(x, full, strides, padding, data_format, dilation_rate)


def np_separable_conv(x, dw, pw, strides=1, padding="valid", data_format="channels_last", dilation_rate=1):
    return np_conv(np_depthwise_conv(x, dw, strides, padding, data_format, dilation_rate), pw,
                   data_format=data_format)


def np_conv_transpose(x, w, strides=1, padding="valid", output_padding=None, data_format="channels_last",
                      dilation_rate=1):
    """Scatter every input pixel through the kernel (the adjoint of ``np_conv``), then crop as Keras."""
    x = _cl(np.asarray(x, "float64"), data_format)
    w = np.asarray(w, "float64")  # spatial... + (out, in)
    n = x.ndim - 2
    s, d, ks = _tup(strides, n), _tup(dilation_rate, n), w.shape[:n]
    op = None if output_padding is None else _tup(output_padding, n)
    full_sp = [(x.shape[1 + i] - 1) * s[i] + (ks[i] - 1) * d[i] + 1 for i in range(n)]
    full = np.zeros((x.shape[0], *full_sp, w.shape[-2]))
    for idx in np.ndindex(*x.shape[1:-1]):
        for kidx in np.ndindex(*ks):
            pos = tuple(i * si + k * di for i, k, si, di in zip(idx, kidx, s, d))
            full[(slice(None),) + pos] += x[(slice(None),) + idx] @ w[kidx].T
    out = full
    for i in range(n):
        length, keff = x.shape[1 + i], (ks[i] - 1) * d[i] + 1
        if op is None:
            size = length * s[i] if padding == "same" else length * s[i] + max(keff - s[i], 0)
            start = max((length - 1) * s[i] + keff - size, 0) // 2 if padding == "same" else 0
        else:
            pad_len = keff + keff % 2 - 2 + op[i] if padding == "same" else 2 * (keff - 1) + op[i]
            left = min(pad_len // 2 + pad_len % 2, keff - 1) if padding == "same" else keff - 1
            start = keff - 1 - left
            size = (length - 1) * s[i] + 1 + pad_len - keff + 1
        grown = np.zeros(out.shape[:1 + i] + (start + size,) + out.shape[2 + i:])
        keep = min(out.shape[1 + i], start + size)
        grown[(slice(None),) * (1 + i) + (slice(0, keep),)] = out[(slice(None),) * (1 + i) + (slice(0, keep),)]
        out = grown[(slice(None),) * (1 + i) + (slice(start, start + size),)]
    return _back(out, data_format)


def np_pool(x, pool_size, strides=None, padding="valid", data_format="channels_last", kind="max"):
    x = _cl(np.asarray(x, "float64"), data_format)
    n = x.ndim - 2
    p = _tup(pool_size, n)
    s = p if strides is None else _tup(strides, n)
    pads = [_same(x.shape[1 + i], p[i], s[i]) if padding == "same" else (0, 0) for i in range(n)]
    valid = np.pad(np.ones(x.shape[1:-1]), pads)
    x = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out_sp = [(x.shape[1 + i] - p[i]) // s[i] + 1 for i in range(n)]
    out = np.zeros((x.shape[0], *out_sp, x.shape[-1]))
    for idx in np.ndindex(*out_sp):
        win = tuple(slice(i * si, i * si + pi) for i, si, pi in zip(idx, s, p))
        mask = valid[win].astype(bool)
        vals = x[(slice(None),) + win][:, mask]  # (N, count, C)
        out[(slice(None),) + idx] = vals.max(1) if kind == "max" else vals.mean(1)
    return _back(out, data_format)


def np_adaptive_pool(x, output_size, data_format="channels_last", kind="average"):
    x = _cl(np.asarray(x, "float64"), data_format)
    n = x.ndim - 2
    size = _tup(output_size, n)
    out = np.zeros((x.shape[0], *size, x.shape[-1]))
    for idx in np.ndindex(*size):
        win = tuple(slice(math.floor(i * x.shape[1 + a] / o), math.ceil((i + 1) * x.shape[1 + a] / o))
                    for a, (i, o) in enumerate(zip(idx, size)))
        vals = x[(slice(None),) + win].reshape(x.shape[0], -1, x.shape[-1])
        out[(slice(None),) + idx] = vals.max(1) if kind == "max" else vals.mean(1)
    return _back(out, data_format)
