"""Image files <-> arrays with Pillow: ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``.

Pillow is an optional dependency (``pip install lamina[image]``); it is imported when first needed.
Arrays are ``(height, width, channels)`` with ``data_format="channels_last"`` and
``(channels, height, width)`` with ``"channels_first"`` (default: ``lamina.config.image_data_format()``).
"""

import io
import os
import warnings

import numpy as np

from lamina import config

# Resampling filters by name: Keras's ``load_img`` names (Pillow's) and its dataset names (tf.image's).
_PIL_FILTERS = {"nearest": "NEAREST", "bilinear": "BILINEAR", "bicubic": "BICUBIC", "hamming": "HAMMING",
                "box": "BOX", "lanczos": "LANCZOS", "area": "BOX", "lanczos3": "LANCZOS"}
COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


def pil_image():
    """The ``PIL.Image`` module, or an ImportError that says how to install it."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("lamina's image utilities need Pillow: `pip install Pillow` (or `pip install "
                          "lamina[image]`).") from None
    return Image


def resample_filter(interpolation, who):
    """The Pillow filter named ``interpolation``."""
    if interpolation not in _PIL_FILTERS:
        raise ValueError(f"{who}: `interpolation` must be one of {sorted(_PIL_FILTERS)}, but received "
                         f"interpolation={interpolation!r}.")
    Image = pil_image()
    return getattr(Image.Resampling, _PIL_FILTERS[interpolation])


def check_color_mode(color_mode, who):
    if color_mode not in COLOR_MODES:
        raise ValueError(f"{who}: `color_mode` must be one of {list(COLOR_MODES)}, but received "
                         f"color_mode={color_mode!r}.")
    return COLOR_MODES[color_mode]


def convert_mode(img, color_mode, who):
    """``img`` in the Pillow mode of ``color_mode`` (16/32-bit grayscale images are kept for "grayscale")."""
    mode = check_color_mode(color_mode, who)
    if mode == "L" and img.mode in ("L", "I;16", "I"):
        return img
    return img.convert(mode) if img.mode != mode else img


def _check_data_format(data_format, who):
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{who}: `data_format` must be 'channels_last' or 'channels_first', but received "
                         f"data_format={data_format!r}.")
    return data_format


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False):
    """Load an image file as a Pillow ``Image``.

    Args:
        path: a file path (``str``/``pathlib.Path``), or a ``io.BytesIO`` of the file's bytes.
        color_mode: ``"rgb"`` (default), ``"rgba"`` or ``"grayscale"``.
        target_size: None (keep the size) or ``(height, width)`` to resize to.
        interpolation: the resampling filter: ``"nearest"`` (default), ``"bilinear"``, ``"bicubic"``,
            ``"hamming"``, ``"box"`` or ``"lanczos"``.
        keep_aspect_ratio: crop the centre of the image to the aspect ratio of ``target_size`` before
            resizing, instead of distorting it.

    Example:
    >>> import os, tempfile, numpy as np, lamina
    >>> path = os.path.join(tempfile.mkdtemp(), "red.png")
    >>> lamina.utils.save_img(path, np.full((4, 6, 3), [255, 0, 0], "uint8"), scale=False)
    >>> img = lamina.utils.load_img(path, target_size=(2, 3))
    >>> img.size, lamina.utils.img_to_array(img)[0, 0].tolist()
    ((3, 2), [255.0, 0.0, 0.0])
    """
    who = "load_img"
    Image = pil_image()
    if isinstance(path, io.BytesIO):
        img = Image.open(path)
    elif isinstance(path, (str, bytes, os.PathLike)):
        if not os.path.isfile(path):
            raise ValueError(f"{who}: no file at '{os.fsdecode(path)}'.")
        with open(path, "rb") as f:
            img = Image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"{who}: `path` must be a file path or an io.BytesIO, but received {type(path).__name__}.")
    img = convert_mode(img, color_mode, who)
    if target_size is not None:
        height, width = _check_size(target_size, "target_size", who)
        resample = resample_filter(interpolation, who)
        if img.size != (width, height):
            # As Keras: resize the crop box's region (the filter may read pixels just outside the box).
            box = crop_box(img.size[1], img.size[0], height, width) if keep_aspect_ratio else None
            img = img.resize((width, height), resample, box=box)
    return img


def _check_size(size, arg, who):
    if not isinstance(size, (tuple, list)) or len(size) != 2 or any(
            isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in size):
        raise ValueError(f"{who}: `{arg}` must be a tuple of two positive ints (height, width), but received "
                         f"{arg}={size!r}.")
    return int(size[0]), int(size[1])


def crop_box(height, width, target_height, target_width):
    """The centred box ``(left, top, right, bottom)`` of the largest crop with the target aspect ratio."""
    crop_h = min(height, width * target_height // target_width)
    crop_w = min(width, height * target_width // target_height)
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return left, top, left + crop_w, top + crop_h


def img_to_array(img, data_format=None, dtype=None):
    """A Pillow image as a NumPy array, ``(h, w, c)`` (``(c, h, w)`` with channels_first); default dtype floatx.

    Example:
    >>> import numpy as np, lamina
    >>> img = lamina.utils.array_to_img(np.zeros((2, 3, 1)), scale=False)
    >>> lamina.utils.img_to_array(img).shape
    (2, 3, 1)
    """
    data_format = _check_data_format(data_format, "img_to_array")
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 2:
        x = x[:, :, None]
    elif x.ndim != 3:
        raise ValueError(f"img_to_array: unsupported image shape {x.shape}; expected (height, width[, channels]).")
    if data_format == "channels_first":
        x = x.transpose(2, 0, 1)
    return x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A rank-3 array (one image) as a Pillow image; ``scale=True`` maps the values' range onto 0..255.

    1 channel gives a grayscale ("L") image (32-bit "I" when values exceed 255), 3 "RGB", 4 "RGBA".
    """
    who = "array_to_img"
    data_format = _check_data_format(data_format, who)
    Image = pil_image()
    x = np.asarray(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(f"{who}: expected one image of rank 3, but received an array of shape {x.shape}.")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x = x / top
        x = x * 255
    channels = x.shape[2]
    if channels == 4:
        return Image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return Image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"{who}: unsupported number of channels {channels} (expected 1, 3 or 4).")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Save a rank-3 array as an image file (``kwargs`` go to Pillow's ``Image.save``).

    The format comes from ``file_format`` or the file extension; an RGBA image saved as JPEG loses its alpha
    channel (with a warning), as JPEG has none.
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    target = os.fspath(path) if isinstance(path, os.PathLike) else path
    is_jpeg = (file_format or "").lower() in ("jpg", "jpeg") or (
        isinstance(target, str) and target.lower().endswith((".jpg", ".jpeg")))
    if img.mode == "RGBA" and is_jpeg:
        warnings.warn("save_img: JPEG has no alpha channel; the image is saved as RGB.", stacklevel=2)
        img = img.convert("RGB")
    if file_format is not None and file_format.lower() == "jpg":
        file_format = "jpeg"
    img.save(target, format=file_format, **kwargs)


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last", backend_module=None):
    """Resize images to ``size`` without distorting them: the centred crop of the largest window with the
    target aspect ratio is resized to ``(height, width)``.

    Args:
        x: one image ``(height, width, channels)`` or a batch ``(batch, height, width, channels)`` (channels
            first with ``data_format="channels_first"``): a NumPy array or a tensor.
        size: ``(height, width)`` of the output.
        interpolation: ``"bilinear"`` (default), ``"nearest"``, ``"bicubic"``, ``"area"``, ``"lanczos3"`` or
            ``"lanczos5"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        backend_module: accepted for Keras compatibility; lamina computes with its current engine.

    Returns:
        The resized images as a float tensor of the engine.

    Example:
    >>> import numpy as np, lamina
    >>> out = lamina.preprocessing.image.smart_resize(np.ones((40, 60, 3)), (20, 20))
    >>> lamina.ops.shape(out)
    (20, 20, 3)
    """
    from lamina import backend, ops
    from lamina.layers.preprocessing import _image_ops as img

    who = "smart_resize"
    height, width = _check_size(size, "size", who)
    if interpolation not in img.INTERPOLATIONS:
        raise ValueError(f"{who} expected interpolation to be one of {list(img.INTERPOLATIONS)}, but received "
                         f"{interpolation!r}.")
    data_format = _check_data_format(data_format, who)
    images = ops.convert_to_tensor(x)
    if not backend.is_float_dtype(backend.standardize_dtype(images.dtype)):
        images = ops.cast(images, backend.floatx())
    if len(images.shape) not in (3, 4):
        raise ValueError(f"{who} expected an image of rank 3 (height, width, channels) or a batch of rank 4, but "
                         f"received shape {tuple(images.shape)}.")
    single = len(images.shape) == 3
    if single:
        images = ops.expand_dims(images, 0)
    if data_format == "channels_first":
        images = ops.transpose(images, (0, 2, 3, 1))
    images = img.crop_or_pad_to_aspect(images, height, width, "crop")
    images = img.resize(images, height, width, interpolation)
    if data_format == "channels_first":
        images = ops.transpose(images, (0, 3, 1, 2))
    return images[0] if single else images
