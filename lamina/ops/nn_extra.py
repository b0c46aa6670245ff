"""Pixel shuffles and im2col (as ``keras.ops.nn``): ``depth_to_space``, ``space_to_depth``, ``unfold``,
``fold``."""

import numbers

from lamina import backend
from lamina.ops.einops import rearrange
from lamina.ops.operation import op

__all__ = ["depth_to_space", "space_to_depth", "unfold", "fold"]


def _block(name, x, block_size, data_format):
    if isinstance(block_size, bool) or not isinstance(block_size, numbers.Integral) or block_size < 1:
        raise ValueError(f"{name}: expected `block_size` to be a positive integer, but received {block_size!r}.")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{name}: expected `data_format` 'channels_last' or 'channels_first', but received "
                         f"{data_format!r}.")
    if len(x.shape) != 4:
        raise ValueError(f"{name}: expected a 4-D image batch, but received shape {tuple(x.shape)}.")
    return int(block_size)


@op
def depth_to_space(x, block_size, data_format="channels_last"):
    """Pixel shuffle: ``(N, H, W, C * r * r)`` -> ``(N, H * r, W * r, C)`` with ``r = block_size``
    (``(N, C * r * r, H, W)`` -> ``(N, C, H * r, W * r)`` for "channels_first").

    Example:
    >>> from lamina import ops
    >>> ops.shape(ops.depth_to_space(ops.zeros((1, 2, 3, 8)), 2))
    (1, 4, 6, 2)
    """
    x = backend.convert_to_tensor(x)
    r = _block("depth_to_space", x, block_size, data_format)
    c = x.shape[-1] if data_format == "channels_last" else x.shape[1]
    if c % (r * r):
        raise ValueError(f"depth_to_space: expected a channel count divisible by block_size**2 = {r * r}, but "
                         f"received shape {tuple(x.shape)} ({data_format}).")
    if data_format == "channels_last":
        return rearrange(x, "n h w (b1 b2 c) -> n (h b1) (w b2) c", b1=r, b2=r)
    return rearrange(x, "n (c b1 b2) h w -> n c (h b1) (w b2)", b1=r, b2=r)


@op
def space_to_depth(x, block_size, data_format="channels_last"):
    """Pixel unshuffle, the inverse of ``depth_to_space``: ``(N, H * r, W * r, C)`` -> ``(N, H, W, C * r * r)``.

    Example:
    >>> from lamina import ops
    >>> ops.shape(ops.space_to_depth(ops.zeros((1, 4, 6, 2)), 2))
    (1, 2, 3, 8)
    """
    x = backend.convert_to_tensor(x)
    r = _block("space_to_depth", x, block_size, data_format)
    h, w = (x.shape[1], x.shape[2]) if data_format == "channels_last" else (x.shape[2], x.shape[3])
    if h % r or w % r:
        raise ValueError(f"space_to_depth: expected height and width divisible by block_size = {r}, but received "
                         f"shape {tuple(x.shape)} ({data_format}).")
    if data_format == "channels_last":
        return rearrange(x, "n (h b1) (w b2) c -> n h w (b1 b2 c)", b1=r, b2=r)
    return rearrange(x, "n c (h b1) (w b2) -> n (c b1 b2) h w", b1=r, b2=r)


def _pair(name, arg, value, minimum):
    pair = (value, value) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or any(
            isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum for v in pair):
        raise ValueError(f"{name}: expected `{arg}` to be an integer >= {minimum} or a pair of them, but received "
                         f"{value!r}.")
    return tuple(int(v) for v in pair)


def _blocks(name, size, kernel, dilation, padding, stride):
    return tuple((size[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in (0, 1))


@op
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: the sliding ``kernel_size`` blocks of the channels-first batch ``x`` ``(N, C, H, W)`` as
    columns, ``(N, C * kH * kW, L)`` with ``L`` the number of block positions (as ``torch.nn.Unfold``).

    Example:
    >>> from lamina import ops
    >>> ops.shape(ops.unfold(ops.ones((1, 2, 4, 4)), kernel_size=2, stride=2))
    (1, 8, 4)
    """
    x = backend.convert_to_tensor(x)
    if len(x.shape) != 4:
        raise ValueError(f"unfold: expected a 4-D (N, C, H, W) input, but received shape {tuple(x.shape)}.")
    k = _pair("unfold", "kernel_size", kernel_size, 1)
    d = _pair("unfold", "dilation", dilation, 1)
    p = _pair("unfold", "padding", padding, 0)
    s = _pair("unfold", "stride", stride, 1)
    if min(_blocks("unfold", tuple(x.shape[2:]), k, d, p, s)) < 1:
        raise ValueError(f"unfold: kernel_size={k} (dilation {d}) does not fit in the padded input of shape "
                         f"{tuple(x.shape)} with padding {p}.")
    return backend.engine.nn_extra.unfold(x, k, d, p, s)


@op
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im, the adjoint of ``unfold``: sums the columns of ``x`` ``(N, C * kH * kW, L)`` back into an image
    ``(N, C, oH, oW)`` (overlapping blocks add up), as ``torch.nn.Fold``.

    Example:
    >>> from lamina import ops
    >>> patches = ops.unfold(ops.ones((1, 2, 4, 4)), kernel_size=2, stride=2)
    >>> ops.shape(ops.fold(patches, output_size=(4, 4), kernel_size=2, stride=2))
    (1, 2, 4, 4)
    """
    x = backend.convert_to_tensor(x)
    if len(x.shape) != 3:
        raise ValueError(f"fold: expected a 3-D (N, C * kH * kW, L) input, but received shape {tuple(x.shape)}.")
    o = _pair("fold", "output_size", output_size, 1)
    k = _pair("fold", "kernel_size", kernel_size, 1)
    d = _pair("fold", "dilation", dilation, 1)
    p = _pair("fold", "padding", padding, 0)
    s = _pair("fold", "stride", stride, 1)
    nh, nw = _blocks("fold", o, k, d, p, s)
    if x.shape[1] % (k[0] * k[1]) or x.shape[2] != nh * nw:
        raise ValueError(f"fold: expected x of shape (N, C * {k[0] * k[1]}, {nh * nw}) for output_size={o}, "
                         f"kernel_size={k}, dilation={d}, padding={p}, stride={s}, but received shape "
                         f"{tuple(x.shape)}.")
    return backend.engine.nn_extra.fold(x, o, k, d, p, s)
