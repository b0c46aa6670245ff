"""More ops of ``lamina.ops.image`` (as ``keras.ops.image``): ``elastic_transform``, ``sobel_edges``, ``ssim`` and
``extract_patches_3d``, re-exported from ``lamina/ops/image.py``.

Written with ``lamina.ops`` only, so they run on every engine, inside compiled steps and symbolically.
"""

import numbers

import numpy as np

from lamina import backend
from lamina import ops as _ops
from lamina import random as _random
from lamina.ops.image import data_format_of, extract_patches, float_dtype, gaussian_blur, to_batch_last
from lamina.ops.image_geometry import FILL_MODES, INTERPOLATIONS, sample_images
from lamina.ops.operation import op

__all__ = ["elastic_transform", "sobel_edges", "ssim", "extract_patches_3d"]


def _number(name, arg, value, positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (positive and not value > 0):
        kind = "a positive number" if positive else "a number"
        raise ValueError(f"{name}: expected `{arg}` to be {kind}, but received {arg}={value!r}.")
    return float(value)


def elastic_kernel_size(sigma):
    """Keras's Gaussian window for a displacement smoothing of ``sigma``: ``int(6 sigma) | 1`` (odd)."""
    return int(6 * sigma) | 1


def elastic_warp(x, alpha, sigma, kernel_size, order, fill_mode, fill_value, seed):
    """Warp the channels-last batch ``x`` by a random smooth displacement field: two Gaussian noise fields
    (``normal((2, batch, h, w)) * sigma``, the first along the width, the second along the height) blurred by a
    ``kernel_size`` Gaussian window of ``sigma`` (zero padding) and scaled by ``alpha``. ``alpha``/``sigma`` may be
    scalar tensors (the kernel size is static)."""
    batch, height, width, _ = x.shape
    cdt = float_dtype(_ops.dtype(x))
    sigma = _ops.cast(sigma, cdt)
    noise = _random.normal((2 * batch, height, width, 1), dtype=cdt, seed=seed) * sigma
    smooth = gaussian_blur(noise, (kernel_size, kernel_size), (_ops.maximum(sigma, 1e-3),) * 2,
                           data_format="channels_last")
    alpha = _ops.cast(alpha, cdt)
    dx, dy = smooth[:batch, ..., 0] * alpha, smooth[batch:, ..., 0] * alpha
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    x_in = _ops.convert_to_tensor(cols.astype(cdt))[None] + dx
    y_in = _ops.convert_to_tensor(rows.astype(cdt))[None] + dy
    return sample_images(x, y_in, x_in, order, fill_mode, fill_value)


@op
def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                      seed=None, data_format=None):
    """Elastic deformation: each pixel reads the input at its own position plus a random smooth displacement.

    The displacement along the width and along the height are each ``alpha * blur(sigma * noise)``, where
    ``noise`` is standard normal per pixel (independent for the two directions and for each image) and ``blur``
    a Gaussian of standard deviation ``sigma`` over an ``int(6 * sigma) | 1`` window (zero padding); the input is
    then sampled there by ``interpolation`` ("bilinear" or "nearest") and ``fill_mode`` ("reflect", "constant"
    with ``fill_value``, "nearest", "wrap", "mirror"), as ``scipy.ndimage.map_coordinates``. The two noise
    fields are the two halves of ``lamina.random.normal((2 * batch, height, width, 1), seed=seed)``.

    Args:
        images: one image (rank 3) or a batch (rank 4).
        alpha: the strength of the displacement (default 20.0).
        sigma: the smoothness of the displacement, > 0 (default 5.0).
        interpolation, fill_mode, fill_value: the sampling, as above.
        seed: an int, a ``lamina.random.SeedGenerator`` or None (the global generator).
        data_format: "channels_last" or "channels_first" (default: the global setting).

    Returns:
        The deformed images, of the input's shape and dtype.

    Example:
    >>> from lamina import ops
    >>> x = ops.reshape(ops.arange(16, dtype="float32"), (1, 4, 4, 1))
    >>> y = ops.image.elastic_transform(x, alpha=0.0, seed=1, data_format="channels_last")
    >>> bool(ops.all(ops.equal(x, y)))  # no displacement: the image itself
    True
    """
    name = "elastic_transform"
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{name}: expected `interpolation` in {tuple(INTERPOLATIONS)}, but received "
                         f"{interpolation!r}.")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"{name}: expected `fill_mode` in {FILL_MODES}, but received {fill_mode!r}.")
    alpha = _number(name, "alpha", alpha) if not backend.is_tensor(alpha) else alpha
    sigma = _number(name, "sigma", float(sigma) if backend.is_tensor(sigma) else sigma, positive=True)
    x, restore = to_batch_last(name, images, data_format)
    out = elastic_warp(x, alpha, sigma, elastic_kernel_size(sigma), INTERPOLATIONS[interpolation], fill_mode,
                       fill_value, seed)
    return restore(out)


SOBEL_ROWS = np.array([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]])  # d/dy (bottom minus top)


@op
def sobel_edges(images, data_format=None):
    """Sobel gradients of each channel: ``(..., channels, 2)`` holding ``[dy, dx]``.

    ``dy`` correlates each channel with ``[[-1, -2, -1], [0, 0, 0], [1, 2, 1]]`` and ``dx`` with its transpose
    (zero "same" padding), so a brightness rising downwards (rightwards) gives positive ``dy`` (``dx``).

    Args:
        images: a batch ``(batch, height, width, channels)`` (or ``(batch, channels, height, width)`` for
            ``data_format="channels_first"``).
        data_format: "channels_last" or "channels_first" (default: the global setting).

    Returns:
        ``images.shape + (2,)``, in the input dtype.

    Example:
    >>> from lamina import ops
    >>> x = ops.convert_to_tensor([[[[0.0], [0.0], [1.0]]] * 3])  # a step to the right, (1, 3, 3, 1)
    >>> e = ops.convert_to_numpy(ops.image.sobel_edges(x, data_format="channels_last"))
    >>> e.shape, e[0, 1, 1, 0].tolist()
    ((1, 3, 3, 1, 2), [0.0, 4.0])
    """
    name = "sobel_edges"
    data_format = data_format_of(name, data_format)
    x = backend.convert_to_tensor(images)
    if len(x.shape) != 4:
        raise ValueError(f"{name}: expected a batch of images of rank 4, but received shape {tuple(x.shape)}.")
    if data_format == "channels_first":
        x = _ops.transpose(x, (0, 2, 3, 1))
    dtype = _ops.dtype(x)
    xf = _ops.cast(x, float_dtype(dtype))
    height, width = x.shape[1], x.shape[2]
    padded = _ops.pad(xf, [[0, 0], [1, 1], [1, 1], [0, 0]])
    dy = dx = None
    for i in range(3):
        for j in range(3):
            part = padded[:, i:i + height, j:j + width, :]
            if SOBEL_ROWS[i, j]:
                dy = part * SOBEL_ROWS[i, j] if dy is None else dy + part * SOBEL_ROWS[i, j]
            if SOBEL_ROWS[j, i]:
                dx = part * SOBEL_ROWS[j, i] if dx is None else dx + part * SOBEL_ROWS[j, i]
    out = _ops.stack([dy, dx], axis=-1)
    if data_format == "channels_first":
        out = _ops.transpose(out, (0, 3, 1, 2, 4))
    return _ops.cast(out, dtype)


def _gaussian_window(size, sigma, dtype):
    t = np.arange(size, dtype="float64") - (size - 1) / 2.0
    w = np.exp(-(t ** 2) / (2.0 * sigma ** 2))
    return (w / w.sum()).astype(dtype)


def _valid_filter(x, window):
    """Correlate the channels-last batch ``x`` with ``outer(window, window)`` ("valid": no padding)."""
    k = window.shape[0]
    height, width = x.shape[1] - k + 1, x.shape[2] - k + 1
    rows = sum(x[:, i:i + height] * float(window[i]) for i in range(k))
    return sum(rows[:, :, j:j + width] * float(window[j]) for j in range(k))


@op
def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03, data_format=None):
    """The structural similarity (SSIM, Wang et al. 2004) of two images or two batches: 1 for identical images.

    Local means, variances and the covariance are taken under a ``filter_size`` Gaussian window of
    ``filter_sigma`` ("valid": only windows inside the image); the SSIM map
    ``(2 mu1 mu2 + c1)(2 cov + c2) / ((mu1^2 + mu2^2 + c1)(var1 + var2 + c2))``, ``c1 = (k1 max_val)^2``,
    ``c2 = (k2 max_val)^2``, is averaged over the positions and the channels.

    Args:
        image1, image2: images of the same shape, rank 3 (one image) or 4 (a batch).
        max_val: the dynamic range of the values (1.0 for ``[0, 1]`` images, 255.0 for ``[0, 255]``).
        filter_size: the window size, a positive odd int no larger than the images (default 11).
        filter_sigma: the window's standard deviation, > 0 (default 1.5).
        k1, k2: the stabilizing constants (default 0.01, 0.03).
        data_format: "channels_last" or "channels_first" (default: the global setting).

    Returns:
        One value per image pair (``(batch,)``), or a scalar for rank-3 images, in ``image1``'s dtype.

    Example:
    >>> import numpy as np
    >>> from lamina import ops
    >>> x = np.random.default_rng(0).random((2, 16, 16, 3)).astype("float32")
    >>> s = ops.convert_to_numpy(ops.image.ssim(x, x, data_format="channels_last"))
    >>> s.shape, bool(np.allclose(s, 1.0, atol=1e-4))
    ((2,), True)
    """
    name = "ssim"
    if (isinstance(filter_size, bool) or not isinstance(filter_size, numbers.Integral) or filter_size < 1
            or filter_size % 2 == 0):
        raise ValueError(f"{name}: expected `filter_size` to be a positive odd int, but received "
                         f"filter_size={filter_size!r}.")
    filter_sigma = _number(name, "filter_sigma", filter_sigma, positive=True)
    max_val, k1, k2 = (_number(name, a, v) for a, v in (("max_val", max_val), ("k1", k1), ("k2", k2)))
    a = backend.convert_to_tensor(image1)
    b = backend.convert_to_tensor(image2)
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"{name}: expected `image1` and `image2` of the same shape, but received "
                         f"{tuple(a.shape)} and {tuple(b.shape)}.")
    x1, _ = to_batch_last(name, a, data_format)
    x2, _ = to_batch_last(name, b, data_format)
    if x1.shape[1] is not None and x1.shape[2] is not None and filter_size > min(x1.shape[1], x1.shape[2]):
        raise ValueError(f"{name}: `filter_size`={filter_size} is larger than the images' height and width "
                         f"{(x1.shape[1], x1.shape[2])}. Hint: pass a smaller filter_size.")
    dtype = _ops.dtype(a)
    cdt = float_dtype(dtype)
    x1, x2 = _ops.cast(x1, cdt), _ops.cast(x2, cdt)
    window = _gaussian_window(int(filter_size), filter_sigma, cdt)
    mu1, mu2 = _valid_filter(x1, window), _valid_filter(x2, window)
    var1 = _valid_filter(x1 * x1, window) - mu1 * mu1
    var2 = _valid_filter(x2 * x2, window) - mu2 * mu2
    cov = _valid_filter(x1 * x2, window) - mu1 * mu2
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    ssim_map = (2.0 * mu1 * mu2 + c1) * (2.0 * cov + c2) / ((mu1 * mu1 + mu2 * mu2 + c1) * (var1 + var2 + c2))
    out = _ops.mean(ssim_map, axis=(1, 2, 3))
    if len(a.shape) == 3:
        out = out[0]
    return _ops.cast(out, dtype)


@op
def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Patches of ``size = (depth, height, width)`` (or one int for all three) taken every ``strides`` (default:
    ``size``, non-overlapping) from volumes ``(batch, depth, height, width, channels)`` (or one volume, rank 4),
    flattened into the channel axis: ``(batch, oD, oH, oW, pD * pH * pW * channels)``.

    Args:
        volumes: a volume (rank 4) or a batch of them (rank 5).
        size: an int or three ints.
        strides: an int, three ints, or None (= ``size``).
        dilation_rate: an int or three ints (not together with strides > 1).
        padding: "valid" (default) or "same".
        data_format: "channels_last" or "channels_first" (default: the global setting).

    Example:
    >>> from lamina import ops
    >>> ops.shape(ops.image.extract_patches_3d(ops.ones((2, 10, 10, 10, 3)), 3, data_format="channels_last"))
    (2, 3, 3, 3, 81)
    """
    name = "extract_patches_3d"
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (int(size),) * 3
    if not isinstance(size, (tuple, list)) or len(size) != 3:
        raise ValueError(f"{name}: expected `size` to be a positive int or a tuple of 3 of them (depth, height, "
                         f"width), but received size={size!r}.")
    if isinstance(strides, numbers.Integral) and not isinstance(strides, bool):
        strides = (int(strides),) * 3
    rank = len(backend.convert_to_tensor(volumes).shape)
    if rank not in (4, 5):
        raise ValueError(f"{name}: expected volumes of rank 4 (one volume) or 5 (a batch), but received rank "
                         f"{rank}.")
    return extract_patches(volumes, tuple(size), strides=strides, dilation_rate=dilation_rate, padding=padding,
                           data_format=data_format)
