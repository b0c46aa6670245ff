"""``lamina.ops.image`` (as ``keras.ops.image``): resizing, color conversion, padding and cropping, patches,
blurring and geometric resampling of image batches.

Images are ``(height, width, channels)`` or batches ``(batch, height, width, channels)`` for
``data_format="channels_last"``, and ``(channels, height, width)`` / ``(batch, channels, height, width)`` for
``"channels_first"``; ``data_format=None`` means ``lamina.config.image_data_format()``. Every op is written with
``lamina.ops`` (so it runs on every engine, differentiably) and works on symbolic tensors. The geometric ops
(``affine_transform``, ``map_coordinates``, ``perspective_transform``, ``scale_and_translate``) live in
``lamina/ops/image_geometry.py``; ``elastic_transform``, ``sobel_edges``, ``ssim`` and ``extract_patches_3d`` in
``lamina/ops/image_extra.py``; both are re-exported here.
"""

import numbers

import numpy as np

from lamina import backend, config
from lamina import ops as _ops
from lamina.ops.operation import op

__all__ = ["rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb", "resize", "pad_images", "crop_images", "extract_patches",
           "gaussian_blur"]


def _image_ops():
    from lamina.layers.preprocessing import _image_ops  # the augmentation layers' image math, shared

    return _image_ops


def data_format_of(name, data_format):
    if data_format is None:
        return config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{name}: expected `data_format` 'channels_last' or 'channels_first' (or None), but "
                         f"received {data_format!r}.")
    return data_format


def to_batch_last(name, images, data_format):
    """``images`` as a channels-last batch, and the function that puts a channels-last batch back into the
    caller's layout (rank and data format)."""
    images = backend.convert_to_tensor(images)
    data_format = data_format_of(name, data_format)
    rank = len(images.shape)
    if rank not in (3, 4):
        raise ValueError(f"{name}: expected images of rank 3 (one image) or 4 (a batch), but received shape "
                         f"{tuple(images.shape)}.")
    x = images if rank == 4 else _ops.expand_dims(images, 0)
    if data_format == "channels_first":
        x = _ops.transpose(x, (0, 2, 3, 1))

    def restore(y):
        if data_format == "channels_first":
            y = _ops.transpose(y, (0, 3, 1, 2))
        return y if rank == 4 else y[0]

    return x, restore


def float_dtype(dtype):
    return dtype if "float" in dtype else config.floatx()


def _check_channels(name, x, allowed):
    if x.shape[-1] not in allowed:
        raise ValueError(f"{name}: expected {' or '.join(map(str, allowed))} channels, but received images with "
                         f"{x.shape[-1]} channels (shape {tuple(x.shape)} in channels-last order).")


def _check_float(name, x):
    if "float" not in _ops.dtype(x):
        raise ValueError(f"{name}: expected images of a float dtype, but received dtype {_ops.dtype(x)!r}.")


@op
def rgb_to_grayscale(images, data_format=None):
    """RGB images to one-channel luma ``0.2989 R + 0.5870 G + 0.1140 B`` (ITU-R 601), keeping the channel axis
    (of size 1) and the input dtype; one-channel images are returned unchanged.

    Example:
    >>> from lamina import ops
    >>> x = ops.convert_to_tensor([[[1.0, 1.0, 1.0]]])
    >>> y = ops.image.rgb_to_grayscale(x, data_format="channels_last")
    >>> ops.convert_to_numpy(y).astype("float64").round(4).tolist()
    [[[0.9999]]]
    """
    x, restore = to_batch_last("rgb_to_grayscale", images, data_format)
    _check_channels("rgb_to_grayscale", x, (1, 3))
    if x.shape[-1] == 1:
        return backend.convert_to_tensor(images)
    dtype = _ops.dtype(x)
    gray = _image_ops().rgb_to_grayscale(_ops.cast(x, float_dtype(dtype)))
    return restore(_ops.cast(gray, dtype))


@op
def rgb_to_hsv(images, data_format=None):
    """RGB float images to HSV: hue and saturation in ``[0, 1]``, value the largest of R, G, B.

    Example:
    >>> from lamina import ops
    >>> x = ops.convert_to_tensor([[[0.0, 0.5, 0.0]]])
    >>> y = ops.image.rgb_to_hsv(x, data_format="channels_last")
    >>> ops.convert_to_numpy(y).astype("float64").round(4).tolist()
    [[[0.3333, 1.0, 0.5]]]
    """
    x, restore = to_batch_last("rgb_to_hsv", images, data_format)
    _check_float("rgb_to_hsv", x)
    _check_channels("rgb_to_hsv", x, (3,))
    return restore(_image_ops().rgb_to_hsv(x))


@op
def hsv_to_rgb(images, data_format=None):
    """HSV float images (hue, saturation in ``[0, 1]``) to RGB, the inverse of ``rgb_to_hsv``.

    Example:
    >>> from lamina import ops
    >>> x = ops.convert_to_tensor([[[1 / 3, 1.0, 0.5]]])
    >>> y = ops.image.hsv_to_rgb(x, data_format="channels_last")
    >>> ops.convert_to_numpy(y).astype("float64").round(4).tolist()
    [[[0.0, 0.5, 0.0]]]
    """
    x, restore = to_batch_last("hsv_to_rgb", images, data_format)
    _check_float("hsv_to_rgb", x)
    _check_channels("hsv_to_rgb", x, (3,))
    return restore(_image_ops().hsv_to_rgb(x))


RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")


def _aspect_box(height, width, target_h, target_w, grow):
    """Keras's integer arithmetic for the crop (``grow=False``) or pad (``grow=True``) box of the target
    aspect ratio: ``(box_h, box_w)``."""
    box_h = int(float(width * target_h) / target_w)
    box_w = int(float(height * target_w) / target_h)
    if grow:
        return max(height, box_h), max(width, box_w)
    return max(min(height, box_h), 1), max(min(width, box_w), 1)


@op
def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Resize images to ``size = (height, width)`` by ``interpolation`` ("bilinear", "nearest", "bicubic",
    "area", "lanczos3", "lanczos5"; half-pixel centers, as Keras). ``antialias`` widens the kernel when
    downsampling. ``crop_to_aspect_ratio`` / ``pad_to_aspect_ratio`` first center-crop, or pad with
    ``fill_value``, to the target aspect ratio so nothing is stretched (``fill_mode`` must be "constant").

    Example:
    >>> from lamina import ops
    >>> x = ops.ones((2, 4, 6, 3))
    >>> ops.shape(ops.image.resize(x, (8, 3), data_format="channels_last"))
    (2, 8, 3, 3)
    """
    name = "resize"
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(f"{name}: expected `interpolation` in {RESIZE_INTERPOLATIONS}, but received "
                         f"{interpolation!r}.")
    if fill_mode != "constant":
        raise ValueError(f"{name}: only fill_mode='constant' is supported, but received {fill_mode!r}.")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(f"{name}: only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be True.")
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in size)):
        raise ValueError(f"{name}: expected `size` to be a pair of positive integers (height, width), but "
                         f"received {size!r}.")
    target_h, target_w = int(size[0]), int(size[1])
    x, restore = to_batch_last(name, images, data_format)
    _, height, width, _ = x.shape
    if crop_to_aspect_ratio:
        box_h, box_w = _aspect_box(height, width, target_h, target_w, grow=False)
        top, left = (height - box_h) // 2, (width - box_w) // 2
        x = x[:, top:top + box_h, left:left + box_w, :]
    elif pad_to_aspect_ratio:
        box_h, box_w = _aspect_box(height, width, target_h, target_w, grow=True)
        top, left = (box_h - height) // 2, (box_w - width) // 2
        x = _ops.pad(x, [[0, 0], [top, top], [left, left], [0, 0]], constant_values=fill_value)
    dtype = _ops.dtype(x)
    out = _image_ops().resize(_ops.cast(x, float_dtype(dtype)), target_h, target_w, interpolation, antialias)
    if "float" not in dtype:
        out = _ops.cast(_ops.round(out), dtype)
    return restore(out)


def _non_negative(name, arg, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name}: expected `{arg}` to be a non-negative integer (or None), but received "
                         f"{value!r}.")
    return int(value)


def _edges(name, kind, before, after, target, extent, axis):
    """Resolve two of (before, after, target) into ``(before, after)`` for padding (``kind="padding"``) or
    ``(before, target)`` for cropping."""
    names = {"height": ("top", "bottom", "target_height"), "width": ("left", "right", "target_width")}[axis]
    b_arg, a_arg, t_arg = f"{names[0]}_{kind}", f"{names[1]}_{kind}", names[2]
    before, after = _non_negative(name, b_arg, before), _non_negative(name, a_arg, after)
    target = _non_negative(name, t_arg, target)
    if [before, after, target].count(None) != 1:
        raise ValueError(f"{name}: expected exactly two of `{b_arg}`, `{a_arg}` and `{t_arg}`, but received "
                         f"{b_arg}={before}, {a_arg}={after}, {t_arg}={target}.")
    sign = 1 if kind == "padding" else -1
    if before is None:
        before = sign * (target - extent) - after
    elif after is None:
        after = sign * (target - extent) - before
    if min(before, after) < 0:
        raise ValueError(f"{name}: the image {axis} {extent} does not fit {t_arg}={target} with "
                         f"{b_arg}={before}, {a_arg}={after} (a {kind} would be negative).")
    if kind == "cropping" and before + after > extent:
        raise ValueError(f"{name}: cannot crop {before} + {after} rows/columns from an image {axis} of {extent}.")
    return before, after


@op
def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None, right_padding=None,
               target_height=None, target_width=None, data_format=None):
    """Pad images with zeros. Give exactly two of ``top_padding``, ``bottom_padding``, ``target_height`` and
    two of ``left_padding``, ``right_padding``, ``target_width``.

    Example:
    >>> from lamina import ops
    >>> x = ops.ones((2, 3, 3, 1))
    >>> ops.shape(ops.image.pad_images(x, 1, 2, target_height=5, target_width=6, data_format="channels_last"))
    (2, 5, 6, 1)
    """
    x, restore = to_batch_last("pad_images", images, data_format)
    _, height, width, _ = x.shape
    top, bottom = _edges("pad_images", "padding", top_padding, bottom_padding, target_height, height, "height")
    left, right = _edges("pad_images", "padding", left_padding, right_padding, target_width, width, "width")
    return restore(_ops.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]))


@op
def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None, right_cropping=None,
                target_height=None, target_width=None, data_format=None):
    """Crop images. Give exactly two of ``top_cropping``, ``bottom_cropping``, ``target_height`` and two of
    ``left_cropping``, ``right_cropping``, ``target_width``.

    Example:
    >>> from lamina import ops
    >>> x = ops.ones((2, 6, 6, 1))
    >>> ops.shape(ops.image.crop_images(x, 1, 2, target_height=3, target_width=4, data_format="channels_last"))
    (2, 3, 4, 1)
    """
    x, restore = to_batch_last("crop_images", images, data_format)
    _, height, width, _ = x.shape
    top, bottom = _edges("crop_images", "cropping", top_cropping, bottom_cropping, target_height, height, "height")
    left, right = _edges("crop_images", "cropping", left_cropping, right_cropping, target_width, width, "width")
    return restore(x[:, top:height - bottom, left:width - right, :])


def _tuple(name, arg, value, n):
    pair = (value,) * n if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != n
            or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in pair)):
        raise ValueError(f"{name}: expected `{arg}` to be a positive integer or a tuple of {n} of them, but "
                         f"received {value!r}.")
    return tuple(int(v) for v in pair)


@op
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Patches of ``size`` (2 numbers for images, 3 for volumes ``(depth, height, width)``) taken every
    ``strides`` (default: ``size``, non-overlapping), flattened into the channel axis in
    (patch row, patch column, channel) order: ``(N, H, W, C)`` -> ``(N, oH, oW, pH * pW * C)``.

    Example:
    >>> from lamina import ops
    >>> ops.shape(ops.image.extract_patches(ops.ones((2, 20, 20, 3)), (5, 5), data_format="channels_last"))
    (2, 4, 4, 75)
    """
    name = "extract_patches"
    n = 3 if isinstance(size, (tuple, list)) and len(size) == 3 else 2
    size = _tuple(name, "size", size, n)
    strides = size if strides is None else _tuple(name, "strides", strides, n)
    dilation = _tuple(name, "dilation_rate", dilation_rate, n)
    if max(dilation) > 1 and max(strides) > 1:
        raise ValueError(f"{name}: `dilation_rate` > 1 is not supported together with `strides` > 1, but "
                         f"received dilation_rate={dilation_rate!r} and strides={strides!r}.")
    if padding not in ("valid", "same"):
        raise ValueError(f"{name}: expected `padding` 'valid' or 'same', but received {padding!r}.")
    data_format = data_format_of(name, data_format)
    x = backend.convert_to_tensor(images)
    if len(x.shape) not in (n + 1, n + 2):
        raise ValueError(f"{name}: expected input of rank {n + 1} or {n + 2} for a patch size of {n} numbers, but "
                         f"received shape {tuple(x.shape)}.")
    batched = len(x.shape) == n + 2
    if not batched:
        x = _ops.expand_dims(x, 0)
    channels = x.shape[-1] if data_format == "channels_last" else x.shape[1]
    depth = int(np.prod(size)) * channels
    kernel = np.eye(depth, dtype=_ops.dtype(x)).reshape(size + (channels, depth))
    out = _ops.conv(x, kernel, strides=strides, padding=padding, data_format=data_format, dilation_rate=dilation)
    return out if batched else out[0]


def _gaussian_kernel(size, sigma, dtype):
    offsets = _ops.convert_to_tensor(np.arange(size, dtype=dtype) - (size - 1) / 2.0)
    weights = _ops.exp(-0.5 * _ops.square(offsets / _ops.cast(sigma, dtype)))
    return weights / _ops.sum(weights)


def _same_filter(x, kernel, axis):
    """Correlate ``x`` along ``axis`` (1 = height, 2 = width) with the 1-D ``kernel`` (zero "same" padding)."""
    k = kernel.shape[0]
    pads = [[0, 0]] * 4
    pads[axis] = [(k - 1) // 2, k // 2]
    padded = _ops.pad(x, pads)
    extent = x.shape[axis]
    out = None
    for i in range(k):
        part = padded[:, i:i + extent] if axis == 1 else padded[:, :, i:i + extent]
        out = part * kernel[i] if out is None else out + part * kernel[i]
    return out


@op
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blur each channel with a Gaussian kernel (zero "same" padding). As Keras, ``kernel_size`` and ``sigma``
    are ``(along width, along height)`` pairs.

    Example:
    >>> from lamina import ops
    >>> y = ops.image.gaussian_blur(ops.ones((1, 5, 5, 1)), data_format="channels_last")
    >>> float(ops.convert_to_numpy(y)[0, 2, 2, 0])
    1.0
    """
    name = "gaussian_blur"
    size = _tuple(name, "kernel_size", kernel_size, 2)
    if isinstance(sigma, numbers.Number):
        sigma = (sigma, sigma)
    if not isinstance(sigma, (tuple, list)) and len(getattr(sigma, "shape", ())) == 1:
        sigma = (sigma[0], sigma[1])
    if not isinstance(sigma, (tuple, list)) or len(sigma) != 2:
        raise ValueError(f"{name}: expected `sigma` to be a number or a pair (along width, along height), but "
                         f"received {sigma!r}.")
    for s in sigma:
        if isinstance(s, numbers.Number) and not s > 0:
            raise ValueError(f"{name}: expected positive `sigma` values, but received {sigma!r}.")
    x, restore = to_batch_last(name, images, data_format)
    dtype = _ops.dtype(x)
    x = _ops.cast(x, float_dtype(dtype))
    fdt = _ops.dtype(x)
    out = _same_filter(x, _gaussian_kernel(size[1], sigma[1], fdt), axis=1)
    out = _same_filter(out, _gaussian_kernel(size[0], sigma[0], fdt), axis=2)
    return restore(_ops.cast(out, dtype))


from lamina.ops.image_geometry import (  # noqa: E402,F401  (re-exported: keras.ops.image has them)
    affine_transform,
    map_coordinates,
    perspective_transform,
    scale_and_translate,
)

__all__ += ["affine_transform", "map_coordinates", "perspective_transform", "scale_and_translate"]

from lamina.ops.image_extra import (  # noqa: E402,F401  (re-exported: keras.ops.image has them)
    elastic_transform,
    extract_patches_3d,
    sobel_edges,
    ssim,
)

__all__ += ["elastic_transform", "extract_patches_3d", "sobel_edges", "ssim"]
