"""Engine-independent arithmetic of convolution and pooling: argument checks, output lengths, padding.

Both engines compute the padding of an op from these functions, so "same" padding (which may be
asymmetric: the extra pixel goes after, as in Keras/TensorFlow) and transposed-convolution cropping
give the same numbers on PyTorch and JAX. Layers use the output-length functions for their
``compute_output_shape``.
"""

import math
import numbers

DATA_FORMATS = ("channels_last", "channels_first")


def normalize_tuple(value, n, name, who="conv"):
    """Return ``value`` (an int or a sequence of ``n`` ints) as a tuple of ``n`` positive ints."""
    # The common cases first, without the ABC checks (each conv and pool call of a layer comes here).
    if type(value) is int and value > 0:
        return (value,) * n
    if type(value) is tuple and len(value) == n and all(type(v) is int and v > 0 for v in value):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (int(value),) * n
    try:
        value = tuple(value)
    except TypeError:
        value = None
    if value is None or len(value) != n or any(
            isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0 for v in value):
        raise ValueError(
            f"{who}: `{name}` must be a positive int or a tuple of {n} positive ints, "
            f"but received {name}={value!r}."
        )
    return tuple(int(v) for v in value)


def standardize_padding(padding, who="conv", allowed=("valid", "same")):
    """Return ``padding`` lower-cased, or raise a ValueError naming ``who``."""
    if padding in allowed:
        return padding
    p = str(padding).lower() if isinstance(padding, str) else padding
    if p not in allowed:
        raise ValueError(f"{who}: `padding` must be one of {list(allowed)}, but received padding={padding!r}.")
    return p


def standardize_data_format(data_format, who="conv"):
    """Return ``data_format`` checked (None: the global ``image_data_format``)."""
    if data_format in DATA_FORMATS:
        return data_format
    if data_format is None:
        from lamina import config

        return config.image_data_format()
    df = str(data_format).lower()
    if df not in DATA_FORMATS:
        raise ValueError(
            f"{who}: `data_format` must be one of {list(DATA_FORMATS)}, but received data_format={data_format!r}."
        )
    return df


def spatial_shape(shape, data_format):
    """The spatial dimensions of an input of ``shape`` (batch, spatial..., channels) or (batch, channels, spatial...)."""
    return tuple(shape[1:-1]) if data_format == "channels_last" else tuple(shape[2:])


def channels(shape, data_format):
    return shape[-1] if data_format == "channels_last" else shape[1]


def effective_size(kernel_size, dilation):
    return (kernel_size - 1) * dilation + 1


def conv_output_length(length, kernel_size, padding, stride, dilation=1):
    """Output length of a convolution or pool along one dimension (None stays None)."""
    if length is None:
        return None
    k = effective_size(kernel_size, dilation)
    if padding == "same":
        return (length + stride - 1) // stride
    if padding == "causal":
        return (length + stride - 1) // stride
    return max((length - k) // stride + 1, 0)


def same_padding(length, kernel_size, stride, dilation=1):
    """``(before, after)`` zero padding for "same" (Keras/TensorFlow: the odd pixel goes after)."""
    k = effective_size(kernel_size, dilation)
    out = (length + stride - 1) // stride
    total = max((out - 1) * stride + k - length, 0)
    return total // 2, total - total // 2


def conv_transpose_padding(kernel_size, stride, dilation, padding, output_padding):
    """``(left, right)`` padding of the stride-dilated input in a transposed convolution (Keras's rule).

    The transposed convolution is the convolution of the input dilated by ``stride`` with the
    spatially flipped kernel and this padding; ``kernel_size - 1 - left`` is how much of the full
    output is cropped at the start.
    """
    k = effective_size(kernel_size, dilation)
    if padding == "valid":
        extra = max(k, stride) - k if output_padding is None else output_padding
        return k - 1, k - 1 + extra
    pad_len = stride + k - 2 if output_padding is None else k + k % 2 - 2 + output_padding
    left = min(pad_len // 2 + pad_len % 2, k - 1)
    return left, pad_len - left


def conv_transpose_output_length(length, kernel_size, padding, output_padding, stride, dilation=1):
    """Output length of a transposed convolution along one dimension (None stays None)."""
    if length is None:
        return None
    left, right = conv_transpose_padding(kernel_size, stride, dilation, padding, output_padding)
    k = effective_size(kernel_size, dilation)
    return (length - 1) * stride + 1 + left + right - k + 1


def check_conv_args(who, x_shape, kernel_shape, data_format, transpose=False, depthwise=False):
    """Check the ranks and channel counts of a convolution; return ``(rank, groups)``.

    ``kernel_shape`` is Keras's layout: ``spatial... + (in_channels / groups, out_channels)`` for a
    convolution, ``spatial... + (out_channels, in_channels)`` for a transposed one and
    ``spatial... + (in_channels, multiplier)`` for a depthwise one.
    """
    ndim = len(x_shape)
    if ndim not in (3, 4, 5):
        raise ValueError(
            f"{who}: inputs must have rank 3, 4 or 5 (batch, spatial dims, channels), "
            f"but received shape {tuple(x_shape)}."
        )
    if len(kernel_shape) != ndim:
        raise ValueError(
            f"{who}: the kernel must have the same rank as the inputs ({ndim}), but received inputs of shape "
            f"{tuple(x_shape)} and a kernel of shape {tuple(kernel_shape)}."
        )
    c = channels(x_shape, data_format)
    k_in = kernel_shape[-1] if transpose else kernel_shape[-2]
    if c is None:
        return ndim - 2, 1
    if depthwise or transpose:
        if c != k_in:
            raise ValueError(
                f"{who}: the inputs have {c} channels ({data_format}, shape {tuple(x_shape)}), but the kernel of "
                f"shape {tuple(kernel_shape)} expects {k_in}."
            )
        return ndim - 2, 1
    if k_in <= 0 or c % k_in:
        raise ValueError(
            f"{who}: the number of input channels ({c}, shape {tuple(x_shape)}, {data_format}) must be a multiple "
            f"of the kernel's input dimension ({k_in}, kernel shape {tuple(kernel_shape)})."
        )
    groups = c // k_in
    if kernel_shape[-1] % groups:
        raise ValueError(
            f"{who}: with {groups} groups the kernel's output dimension ({kernel_shape[-1]}) must be a multiple "
            f"of {groups}; received a kernel of shape {tuple(kernel_shape)}."
        )
    return ndim - 2, groups


def check_pool_args(who, x_shape, pool_size, strides, padding, data_format):
    """Return ``(pool_size, strides, padding, data_format)`` checked for an input of ``x_shape``."""
    ndim = len(x_shape)
    if ndim not in (3, 4, 5):
        raise ValueError(
            f"{who}: inputs must have rank 3, 4 or 5 (batch, spatial dims, channels), "
            f"but received shape {tuple(x_shape)}."
        )
    n = ndim - 2
    pool_size = normalize_tuple(pool_size, n, "pool_size", who)
    strides = pool_size if strides is None else normalize_tuple(strides, n, "strides", who)
    return pool_size, strides, standardize_padding(padding, who), standardize_data_format(data_format, who)


def adaptive_bins(length, output_size):
    """PyTorch's adaptive-pooling windows along one dimension: ``[(start, end), ...]``."""
    return [(math.floor(i * length / output_size), math.ceil((i + 1) * length / output_size))
            for i in range(output_size)]
