"""Image resampling written with lamina.ops (so it runs the same on every backend and inside compiled steps).

* ``resize``: separable resampling by two small interpolation matrices built with NumPy on the host
  (the sizes are static), applied with ``einsum``. Pixel centers follow the half-pixel convention
  (output pixel ``i`` samples input coordinate ``(i + 0.5) * in / out - 0.5``), as Keras/TF/JAX.
* ``affine_transform``: per-image inverse affine maps (output pixel -> input coordinate), sampled with
  nearest or bilinear interpolation and a fill mode for points outside the image.

All functions take channels-last batches ``(batch, height, width, channels)``.
"""

import numpy as np

from lamina import ops

INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5")
FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def _cubic(x, a=-0.5):
    x = np.abs(x)
    return np.where(x <= 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, ((x - 5) * x + 8) * x * a - 4 * a, 0.0))


def _lanczos(x, radius):
    x = np.abs(x)
    return np.where(x < radius, np.sinc(x) * np.sinc(x / radius), 0.0)


_KERNELS = {
    "bilinear": (lambda x: np.maximum(0.0, 1.0 - np.abs(x)), 1.0),
    "bicubic": (_cubic, 2.0),
    "lanczos3": (lambda x: _lanczos(x, 3.0), 3.0),
    "lanczos5": (lambda x: _lanczos(x, 5.0), 5.0),
}


def resize_matrix(in_size, out_size, interpolation, antialias=False):
    """The ``(out_size, in_size)`` matrix that resamples one axis (rows sum to 1)."""
    scale = in_size / out_size
    centers = (np.arange(out_size) + 0.5) * scale  # in input units, pixel j spans [j, j + 1)
    if interpolation == "nearest":
        src = np.clip(np.floor(centers).astype(int), 0, in_size - 1)
        m = np.zeros((out_size, in_size))
        m[np.arange(out_size), src] = 1.0
        return m
    if interpolation == "area":
        lo, hi = np.arange(out_size) * scale, (np.arange(out_size) + 1) * scale
        j = np.arange(in_size)
        overlap = np.clip(np.minimum(hi[:, None], j[None, :] + 1) - np.maximum(lo[:, None], j[None, :]), 0, None)
        return overlap / overlap.sum(axis=1, keepdims=True)
    kernel, _ = _KERNELS[interpolation]
    stretch = max(scale, 1.0) if antialias else 1.0
    dist = (np.arange(in_size)[None, :] + 0.5 - centers[:, None]) / stretch
    m = kernel(dist)
    total = m.sum(axis=1, keepdims=True)
    return m / np.where(total == 0, 1.0, total)  # weights of samples outside the image are dropped


def resize(images, height, width, interpolation="bilinear", antialias=False):
    """Resize channels-last ``images`` to ``(height, width)`` (a float result of the images' float dtype)."""
    _, in_h, in_w, _ = images.shape
    dtype = ops.dtype(images)
    if (in_h, in_w) == (height, width):
        return images
    mh = ops.convert_to_tensor(resize_matrix(in_h, height, interpolation, antialias).astype(dtype))
    mw = ops.convert_to_tensor(resize_matrix(in_w, width, interpolation, antialias).astype(dtype))
    out = ops.einsum("oh,bhwc->bowc", mh, images)
    return ops.einsum("pw,bowc->bopc", mw, out)


def aspect_window(in_h, in_w, height, width, mode):
    """Keras's integer arithmetic for the window of the aspect ratio ``width / height``: for ``mode="crop"`` the
    centered crop ``(top, left, crop_h, crop_w)`` inside the image, for ``"pad"`` the rows and columns
    ``(top, left, padded_h, padded_w)`` added on *each* side and the padded size (``in + 2 * pad``, which can be
    one short of the exact ratio, as Keras)."""
    box_h = int(float(in_w * height) / width)
    box_w = int(float(in_h * width) / height)
    if mode == "crop":
        box_h, box_w = max(min(in_h, box_h), 1), max(min(in_w, box_w), 1)
        return (in_h - box_h) // 2, (in_w - box_w) // 2, box_h, box_w
    top, left = (max(in_h, box_h) - in_h) // 2, (max(in_w, box_w) - in_w) // 2
    return top, left, in_h + 2 * top, in_w + 2 * left


def crop_or_pad_to_aspect(images, height, width, mode, fill_value=0.0):
    """Center-crop (``mode="crop"``) or pad (``"pad"``) to the aspect ratio ``width / height`` (``aspect_window``)."""
    _, in_h, in_w, _ = images.shape
    top, left, box_h, box_w = aspect_window(in_h, in_w, height, width, mode)
    if mode == "crop":
        return images[:, top:top + box_h, left:left + box_w, :]
    return ops.pad(images, [[0, 0], [top, top], [left, left], [0, 0]], constant_values=fill_value)


def _fill_index(index, size, fill_mode):
    """Map integer coordinates into ``[0, size)`` by ``fill_mode``; also return where they were inside."""
    inside = ops.logical_and(ops.greater_equal(index, 0), ops.less(index, size))
    if fill_mode == "reflect":  # (d c b a | a b c d | d c b a)
        period = 2 * size
        m = ops.mod(index, period)
        index = ops.where(ops.less(m, size), m, period - 1 - m)
    elif fill_mode == "wrap":  # (a b c d | a b c d | a b c d)
        index = ops.mod(index, size)
    else:  # nearest: (a a a a | a b c d | d d d d); constant: masked afterwards
        index = ops.clip(index, 0, size - 1)
    return index, inside


def affine_transform(images, transforms, interpolation="bilinear", fill_mode="reflect", fill_value=0.0):
    """Sample ``images`` at ``x_in = a0*x + a1*y + a2``, ``y_in = b0*x + b1*y + b2`` for each output pixel.

    Args:
        images: ``(batch, height, width, channels)`` floats.
        transforms: ``(batch, 6)`` rows ``[a0, a1, a2, b0, b1, b2]`` in pixel coordinates (x = column).
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_mode: ``"reflect"``, ``"wrap"``, ``"constant"`` (``fill_value``) or ``"nearest"``.
    """
    batch, height, width, channels = images.shape
    dtype = ops.dtype(images)
    t = ops.cast(transforms, dtype)
    ys, xs = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    xs = ops.convert_to_tensor(xs.astype(dtype))[None]
    ys = ops.convert_to_tensor(ys.astype(dtype))[None]

    def coef(i):
        return ops.reshape(t[:, i], (-1, 1, 1))

    x_in = coef(0) * xs + coef(1) * ys + coef(2)
    y_in = coef(3) * xs + coef(4) * ys + coef(5)
    flat = ops.reshape(images, (-1, channels))
    base = ops.reshape(ops.arange(batch, dtype="int64") * (height * width), (-1, 1, 1))

    def gather(yi, xi):
        yi, y_ok = _fill_index(yi, height, fill_mode)
        xi, x_ok = _fill_index(xi, width, fill_mode)
        values = ops.take(flat, ops.reshape(base + yi * width + xi, (-1,)), axis=0)
        values = ops.reshape(values, (batch, height, width, channels))
        if fill_mode == "constant":
            ok = ops.expand_dims(ops.logical_and(y_ok, x_ok), -1)
            values = ops.where(ok, values, ops.cast(fill_value, dtype))
        return values

    if interpolation == "nearest":
        return gather(ops.cast(ops.floor(y_in + 0.5), "int64"), ops.cast(ops.floor(x_in + 0.5), "int64"))
    y0f, x0f = ops.floor(y_in), ops.floor(x_in)
    wy = ops.expand_dims(y_in - y0f, -1)
    wx = ops.expand_dims(x_in - x0f, -1)
    y0, x0 = ops.cast(y0f, "int64"), ops.cast(x0f, "int64")
    top = gather(y0, x0) * (1 - wx) + gather(y0, x0 + 1) * wx
    bottom = gather(y0 + 1, x0) * (1 - wx) + gather(y0 + 1, x0 + 1) * wx
    return top * (1 - wy) + bottom * wy


# ---- color-space and filtering helpers of the augmentation layers (channels-last batches) -------------

GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)  # ITU-R 601 luma, as Keras/TF


def rescale_range(images, source, target):
    """Map values linearly from the range ``source=(lo, hi)`` to ``target=(lo, hi)``."""
    if tuple(source) == tuple(target):
        return images
    scale = (target[1] - target[0]) / (source[1] - source[0])
    return (images - source[0]) * scale + target[0]


def rgb_to_grayscale(images):
    """``(b, h, w, 3)`` RGB -> ``(b, h, w, 1)`` luma; one-channel images are returned as they are."""
    if images.shape[-1] == 1:
        return images
    w = ops.convert_to_tensor(np.asarray(GRAY_WEIGHTS, dtype=ops.dtype(images)))
    return ops.expand_dims(ops.sum(images * w, axis=-1), -1)


def rgb_to_hsv(images):
    """RGB -> HSV with hue and saturation in ``[0, 1]``; value keeps the scale of the input."""
    eps = float(np.finfo(ops.dtype(images)).eps)
    images = ops.where(ops.less(ops.abs(images), eps), ops.zeros_like(images), images)
    r, g, b = images[..., 0], images[..., 1], images[..., 2]
    value = ops.maximum(ops.maximum(r, g), b)
    spread = value - ops.minimum(ops.minimum(r, g), b)
    has_value, has_spread = ops.greater(value, 0), ops.greater(spread, 0)
    saturation = ops.where(has_value, spread / ops.where(has_value, value, ops.ones_like(value)),
                           ops.zeros_like(value))
    norm = 1.0 / (6.0 * ops.where(has_spread, spread, ops.ones_like(spread)))
    hue = ops.where(ops.equal(value, g), norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = ops.where(ops.equal(value, r), norm * (g - b), hue)
    hue = ops.where(has_spread, hue, ops.zeros_like(hue))
    hue = hue + ops.cast(ops.less(hue, 0.0), ops.dtype(hue))
    return ops.stack([hue, saturation, value], axis=-1)


def hsv_to_rgb(images):
    """The inverse of ``rgb_to_hsv`` (hue taken modulo 1)."""
    h, s, v = images[..., 0], images[..., 1], images[..., 2]
    sector = ops.mod(h, 1.0) * 6.0
    dr = ops.clip(ops.abs(sector - 3.0) - 1.0, 0.0, 1.0)
    dg = ops.clip(2.0 - ops.abs(sector - 2.0), 0.0, 1.0)
    db = ops.clip(2.0 - ops.abs(sector - 4.0), 0.0, 1.0)
    return ops.stack([v * (1.0 - s + s * d) for d in (dr, dg, db)], axis=-1)


def filter2d(images, kernel):
    """Correlate each channel with ``kernel`` (a ``(kh, kw)`` array or tensor, odd sizes), zero ``"same"``
    padding. Written as a sum of shifted copies, so it is cheap for the small kernels of augmentation."""
    _, height, width, _ = images.shape
    kh, kw = kernel.shape
    ph, pw = kh // 2, kw // 2
    padded = ops.pad(images, [[0, 0], [ph, ph], [pw, pw], [0, 0]])
    if isinstance(kernel, np.ndarray):
        kernel = ops.convert_to_tensor(kernel.astype(ops.dtype(images)))
    out = None
    for i in range(kh):
        for j in range(kw):
            term = padded[:, i:i + height, j:j + width, :] * kernel[i, j]
            out = term if out is None else out + term
    return out


def separable_filter(images, row_kernel, col_kernel):
    """Filter with the outer product ``col_kernel[:, None] * row_kernel[None, :]`` as two 1-D passes (zero
    ``"same"`` padding). ``col_kernel`` runs along the height, ``row_kernel`` along the width."""
    _, height, width, _ = images.shape
    kh, kw = col_kernel.shape[0], row_kernel.shape[0]
    padded = ops.pad(images, [[0, 0], [kh // 2, kh // 2], [0, 0], [0, 0]])
    out = sum(padded[:, i:i + height] * col_kernel[i] for i in range(kh))
    padded = ops.pad(out, [[0, 0], [0, 0], [kw // 2, kw // 2], [0, 0]])
    return sum(padded[:, :, j:j + width] * row_kernel[j] for j in range(kw))
