"""``image_dataset_from_directory``: a dataset of ``(images, labels)`` batches from a folder of image files.

Images are decoded and resized in NumPy the way Keras's (TensorFlow's) pipeline does: ``tf.io.decode_image``
(JPEG with libjpeg's fast integer IDCT and "fancy" chroma upsampling, PNG's grayscale with libpng's weights)
and ``tf.image.resize`` (half-pixel centres, no antialiasing unless asked; float32, not rounded).
"""

import io

import numpy as np

from lamina.utils import image_utils as iu
from lamina.utils.directory_dataset import make_datasets

IMAGE_FORMATS = (".jpeg", ".jpg", ".png", ".bmp", ".gif")
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")
_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
_F32 = np.float32


# ---- decoding (as tf.io.decode_image) ---------------------------------------------------------------------


def _pil_jpeg_fast(img, rawmode=None):
    """Make Pillow decode the JPEG ``img`` with libjpeg's fast integer IDCT (TensorFlow's default). Pillow's
    "draft" decoder flag selects it (and switches chroma upsampling to plain replication)."""
    if rawmode is not None:
        img.draft(rawmode, None)
    if len(img.tile) != 1 or not isinstance(getattr(img, "decoderconfig", None), tuple):
        return False
    img.decoderconfig = (1, 1)
    return True


def _fancy_upsample(plane, h_factor, v_factor):
    """libjpeg(-turbo)'s "fancy" (triangle-filter) upsampling of a chroma plane, integer arithmetic exactly
    as jdsample.c (2x horizontal, 2x vertical or both); other factors replicate samples."""
    p = plane.astype(np.int32)
    fancy_w = h_factor == 2 and p.shape[1] > 2
    if v_factor == 2 and (h_factor == 1 or fancy_w):
        above = np.concatenate([p[:1], p[:-1]], axis=0)
        below = np.concatenate([p[1:], p[-1:]], axis=0)
        rows = np.stack([3 * p + above, 3 * p + below], axis=1).reshape(-1, p.shape[1])  # column sums
        if h_factor == 1:
            bias = np.tile(np.array([1, 2], np.int32), p.shape[0])[:, None]
            return (rows + bias) >> 2
        left = np.concatenate([rows[:, :1], rows[:, :-1]], axis=1)
        right = np.concatenate([rows[:, 1:], rows[:, -1:]], axis=1)
        return np.stack([(3 * rows + left + 8) >> 4, (3 * rows + right + 7) >> 4], axis=2).reshape(rows.shape[0], -1)
    if h_factor == 2 and v_factor == 1 and fancy_w:
        left = np.concatenate([p[:, :1], p[:, :-1]], axis=1)
        right = np.concatenate([p[:, 1:], p[:, -1:]], axis=1)
        return np.stack([(3 * p + left + 1) >> 2, (3 * p + right + 2) >> 2], axis=2).reshape(p.shape[0], -1)
    return np.repeat(np.repeat(p, v_factor, axis=0), h_factor, axis=1)


def _ycc_to_rgb(y, cb, cr):
    """libjpeg's fixed-point YCbCr -> RGB (jdcolor.c), on int32 planes."""
    def fix(v):
        return int(v * 65536 + 0.5)
    cb, cr = cb - 128, cr - 128
    r = y + ((fix(1.40200) * cr + 32768) >> 16)
    g = y + ((-fix(0.34414) * cb + 32768 - fix(0.71414) * cr) >> 16)
    b = y + ((fix(1.77200) * cb + 32768) >> 16)
    return np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)


def _decode_jpeg_rgb(img):
    """TensorFlow's RGB decoding of a YCbCr JPEG: fast IDCT, then fancy upsampling and the colour conversion
    done here (Pillow cannot combine the fast IDCT with fancy upsampling). None where it does not apply."""
    layers = getattr(img, "layer", None)
    if (img.mode != "RGB" or not layers or len(layers) != 3 or img.info.get("adobe_transform", 1) == 0
            or not _pil_jpeg_fast(img, "YCbCr") or img.mode != "YCbCr"):
        return None
    ycc = np.asarray(img)
    height, width = ycc.shape[:2]
    max_h = max(layer[1] for layer in layers)
    max_v = max(layer[2] for layer in layers)
    planes = [ycc[..., 0].astype(np.int32)]
    for k in (1, 2):
        hf, vf = max_h // layers[k][1], max_v // layers[k][2]
        if (hf, vf) == (1, 1):
            planes.append(ycc[..., k].astype(np.int32))
            continue
        plane = _fancy_upsample(ycc[::vf, ::hf, k], hf, vf)
        planes.append(plane[:height, :width])
    return _ycc_to_rgb(*planes)


def _libpng_gray(rgb):
    """libpng's RGB -> gray (``png_set_rgb_to_gray(.., 0.299, 0.587)``, as TensorFlow's PNG decoder)."""
    rgb = rgb.astype(np.int32)
    return ((9797 * rgb[..., 0] + 19234 * rgb[..., 1] + 3737 * rgb[..., 2]) >> 15).astype(np.uint8)


def _decode(data, color_mode, who):
    """The image file ``data`` (bytes) as a uint8 ``(height, width, channels)`` array, as
    ``tf.io.decode_image(data, channels=..., expand_animations=False)``."""
    Image = iu.pil_image()
    img = Image.open(io.BytesIO(data))
    img.seek(0)  # animated GIF: the first frame
    if img.format in ("JPEG", "MPO") and img.mode in ("L", "RGB"):  # MPO: multi-picture JPEG (cameras)
        if color_mode == "grayscale":
            # libjpeg's own grayscale output (the luma channel), as TensorFlow's channels=1.
            _pil_jpeg_fast(img, "L" if img.mode == "RGB" else None)
            if img.mode == "L":
                return np.asarray(img)[:, :, None]
        elif img.mode == "L" or all(layer[1:3] == img.layer[0][1:3] for layer in getattr(img, "layer", ())):
            _pil_jpeg_fast(img)  # no chroma upsampling: the fast IDCT alone is TensorFlow's decoding
        else:
            rgb = _decode_jpeg_rgb(img)
            if rgb is not None:
                return rgb if color_mode == "rgb" else np.concatenate(
                    [rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=-1)
            img = Image.open(io.BytesIO(data))
    if img.mode.startswith("I;16") or img.mode == "I":
        # 16-bit grayscale (PNG): to 8 bits by the high byte, as TensorFlow's decode_image (uint16 -> uint8)
        high = (np.asarray(img).astype(np.int64) >> 8).clip(0, 255).astype(np.uint8)
        img = Image.fromarray(high, "L")
    if color_mode == "grayscale" and img.mode != "L":
        return _libpng_gray(np.asarray(img.convert("RGB")))[:, :, None]
    x = np.asarray(iu.convert_mode(img, color_mode, who))
    return x[:, :, None] if x.ndim == 2 else x


# ---- resizing (as tf.image.resize) ------------------------------------------------------------------------


def _lanczos(radius):
    def kernel(x):
        pi = 3.14159265359
        safe = np.maximum(x, 1e-3)
        value = radius * np.sin(pi * safe) * np.sin(pi * safe / radius) / (pi * pi * safe * safe)
        return np.where(x > radius, 0.0, np.where(x <= 1e-3, 1.0, value))
    return kernel, float(radius)


def _gaussian(x):  # radius 1.5, sigma 0.5
    return np.where(x >= 1.5, 0.0, np.exp(-x * x / 0.5))


def _mitchell(x):  # Mitchell-Netravali, B = C = 1/3
    far = (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
    near = (((7.0 / 6.0) * x - 2.0) * x) * x + 8.0 / 9.0
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, far, near))


def _keys_cubic(x):  # a = -0.5
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, far, near))


def _triangle(x):
    return np.where(x < 1.0, 1.0 - x, 0.0)


# TensorFlow's ScaleAndTranslate kernels (sampling_kernels.h): (function of |x|, radius).
_KERNELS = {"lanczos3": _lanczos(3), "lanczos5": _lanczos(5), "gaussian": (_gaussian, 1.5),
            "mitchellcubic": (_mitchell, 2.0), "triangle": (_triangle, 1.0), "keyscubic": (_keys_cubic, 2.0)}


def _kernel_taps(in_size, out_size, kernel_name, antialias):
    """``(index, weight)``, each ``(out_size, taps)``, of TensorFlow's ScaleAndTranslate (no translation):
    the kernel is centred on each output pixel's source position, widened by the scale when ``antialias``
    and downsampling, and its weights over the image are normalised to sum to 1."""
    kernel, radius = _KERNELS[kernel_name]
    inv_scale = _F32(1.0 / float(_F32(out_size) / _F32(in_size)))
    kernel_scale = max(inv_scale, _F32(1)) if antialias else _F32(1)
    reach = _F32(radius) * kernel_scale
    sample = (np.arange(out_size, dtype=_F32) + _F32(0.5)) * inv_scale
    start = np.clip(np.ceil(sample - reach - _F32(0.5)).astype(np.int64), 0, in_size - 1)
    end = np.clip(np.floor(sample + reach - _F32(0.5)).astype(np.int64), 0, in_size - 1) + 1
    index = start[:, None] + np.arange(int((end - start).max()))[None, :]
    pos = (index.astype(_F32) + _F32(0.5) - sample[:, None]) * _F32(1.0 / float(kernel_scale))
    weight = np.where(index < end[:, None], kernel(np.abs(pos.astype(np.float64))), 0.0)
    total = weight.sum(axis=1, keepdims=True)
    weight = np.where(np.abs(total) >= 1000.0 * np.finfo(_F32).tiny, weight / np.where(total == 0, 1.0, total), 0.0)
    return np.minimum(index, in_size - 1), weight.astype(_F32)


def _bicubic_taps(in_size, out_size):
    """TensorFlow's ResizeBicubic (half-pixel centres): Keys cubic (a=-0.5) from a 1024-entry table; taps
    outside the image are dropped and the rest renormalised."""
    x = (np.arange(1025) / 1024.0).astype(_F32)
    a = _F32(-0.5)
    near = ((a + _F32(2)) * x - (a + _F32(3))) * x * x + _F32(1)
    x = x + _F32(1)
    far = ((a * x - _F32(5) * a) * x + _F32(8) * a) * x - _F32(4) * a
    loc = (np.arange(out_size, dtype=_F32) + _F32(0.5)) * (_F32(in_size) / _F32(out_size)) - _F32(0.5)
    base = np.floor(loc)
    offset = np.rint((loc - base) * _F32(1024)).astype(np.int64)
    index = base.astype(np.int64)[:, None] + np.arange(-1, 3)[None, :]
    weight = np.stack([far[offset], near[offset], near[1024 - offset], far[1024 - offset]], axis=1)
    weight = np.where((index >= 0) & (index < in_size), weight, _F32(0))
    total = weight.sum(axis=1, keepdims=True, dtype=_F32)
    ok = np.abs(total) >= _F32(1000.0) * np.finfo(_F32).tiny
    weight = np.where(ok, weight * (_F32(1) / np.where(ok, total, _F32(1))), weight)
    return np.clip(index, 0, in_size - 1), weight.astype(_F32)


def _area_taps(in_size, out_size):
    """TensorFlow's ResizeArea: the overlaps of each output pixel's box with the input cells (the caller
    divides by the box area), and that box size."""
    scale = _F32(in_size) / _F32(out_size)
    pos = np.arange(out_size + 1, dtype=_F32) * scale
    lo, hi = pos[:-1, None], pos[1:, None]
    start, end = np.floor(lo[:, 0]).astype(np.int64), np.ceil(hi[:, 0]).astype(np.int64)
    index = start[:, None] + np.arange(int((end - start).max()))[None, :]
    cell = index.astype(_F32)
    weight = np.where(cell < lo, np.where(cell + 1 > hi, scale, cell + 1 - lo),
                      np.where(cell + 1 > hi, hi - cell, _F32(1)))
    weight = np.where(index < end[:, None], weight, _F32(0)).astype(_F32)
    return np.clip(index, 0, in_size - 1), weight, scale


def _apply_taps(x, axis, index, weight):
    """``out[i] = sum_k weight[i, k] * x[index[i, k]]`` along ``axis`` (0: rows, 1: columns), float32."""
    out = None
    for k in range(index.shape[1]):
        w = weight[:, k][:, None, None] if axis == 0 else weight[:, k][None, :, None]
        term = np.take(x, index[:, k], axis=axis) * w
        out = term if out is None else out + term
    return out


def _lerp(x, axis, in_size, out_size):
    """TensorFlow's ResizeBilinear (half-pixel centres) along one axis, with its float32 arithmetic."""
    loc = (np.arange(out_size, dtype=_F32) + _F32(0.5)) * (_F32(in_size) / _F32(out_size)) - _F32(0.5)
    floor = np.floor(loc)
    lower = np.maximum(floor.astype(np.int64), 0)
    upper = np.minimum(np.ceil(loc).astype(np.int64), in_size - 1)
    frac = (loc - floor).astype(_F32)
    frac = frac[:, None, None] if axis == 0 else frac[None, :, None]
    a = np.take(x, lower, axis=axis)
    return a + (np.take(x, upper, axis=axis) - a) * frac


def resize_like_tf(image, size, interpolation="bilinear", antialias=False):
    """``tf.image.resize(image, size, method=interpolation, antialias=antialias)`` in NumPy for one
    ``(height, width, channels)`` image (agrees with TensorFlow to ~1e-6 relative). The result is float32,
    except for "nearest", which keeps the dtype of ``image`` (as TensorFlow)."""
    height, width = size
    in_h, in_w = image.shape[0], image.shape[1]
    if interpolation == "nearest":
        def pick(n_in, n_out):
            src = np.floor((np.arange(n_out, dtype=_F32) + _F32(0.5)) * (_F32(n_in) / _F32(n_out)))
            return np.minimum(src.astype(np.int64), n_in - 1)
        return image[pick(in_h, height)][:, pick(in_w, width)]
    x = np.asarray(image, dtype=_F32)
    if interpolation == "bilinear" and not antialias:
        return _lerp(_lerp(x, 1, in_w, width), 0, in_h, height)
    if interpolation == "area":
        rows, row_w, scale_h = _area_taps(in_h, height)
        cols, col_w, scale_w = _area_taps(in_w, width)
        return _apply_taps(_apply_taps(x, 1, cols, col_w), 0, rows, row_w) * _F32(1.0 / float(scale_h * scale_w))
    if interpolation == "bicubic" and not antialias:
        (rows, row_w), (cols, col_w) = _bicubic_taps(in_h, height), _bicubic_taps(in_w, width)
    else:
        name = {"bilinear": "triangle", "bicubic": "keyscubic"}.get(interpolation, interpolation)
        rows, row_w = _kernel_taps(in_h, height, name, antialias)
        cols, col_w = _kernel_taps(in_w, width, name, antialias)
    return _apply_taps(_apply_taps(x, 1, cols, col_w), 0, rows, row_w)


def _crop_to_aspect(x, height, width):
    """Keras's ``smart_resize`` crop: the centred largest box of the target aspect ratio (float32 maths)."""
    h, w = x.shape[0], x.shape[1]
    crop_h = max(min(h, int(_F32(w * height) / _F32(width))), 1)
    crop_w = max(min(w, int(_F32(h * width) / _F32(height))), 1)
    top, left = int(_F32(h - crop_h) / _F32(2)), int(_F32(w - crop_w) / _F32(2))
    return x[top:top + crop_h, left:left + crop_w]


def _resize_with_pad(x, height, width, interpolation, antialias):
    """``tf.image.resize_with_pad``: resize to fit inside ``(height, width)`` keeping the aspect ratio, then
    pad with zeros (centred)."""
    h, w = _F32(x.shape[0]), _F32(x.shape[1])
    ratio = max(w / _F32(width), h / _F32(height))
    new_h, new_w = h / ratio, w / ratio
    top = max(0, int(np.floor((_F32(height) - new_h) / _F32(2))))
    left = max(0, int(np.floor((_F32(width) - new_w) / _F32(2))))
    resized = resize_like_tf(x, (int(np.floor(new_h)), int(np.floor(new_w))), interpolation, antialias)
    out = np.zeros((height, width, x.shape[2]), resized.dtype)
    out[top:top + resized.shape[0], left:left + resized.shape[1]] = resized
    return out


def _image_loader(color_mode, image_size, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio,
                  data_format, antialias=False):
    height, width = image_size

    def load(path):
        with open(path, "rb") as f:
            x = _decode(f.read(), color_mode, "image_dataset_from_directory")
        if pad_to_aspect_ratio:
            x = _resize_with_pad(x, height, width, interpolation, antialias)
        else:
            if crop_to_aspect_ratio:
                x = _crop_to_aspect(x, height, width)
            x = resize_like_tf(x, (height, width), interpolation, antialias)
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    return load


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                 color_mode="rgb", batch_size=32, image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, data_format=None,
                                 format=None, verbose=True, *, antialias=False):
    """Batches of images (and labels) from ``directory``, which holds one sub-folder of images per class.

    Images (``.jpeg .jpg .png .bmp .gif``; the first frame of an animated GIF) are decoded when a batch is
    requested, converted to ``color_mode`` and resized to ``image_size`` with the arithmetic of Keras's
    TensorFlow pipeline (``tf.io.decode_image`` then ``tf.image.resize``), so the pixel values are Keras's.
    Returns a ``PyDataset`` (a ``FileDataset``) whose item ``i`` is ``(images, labels)``: ``images`` of shape
    ``(batch, height, width, channels)`` (``(batch, channels, height, width)`` with
    ``data_format="channels_first"``), float32 values in 0..255 (not rounded), or uint8 with
    ``interpolation="nearest"`` (as Keras); ``labels`` as in ``text_dataset_from_directory`` (``"int"``:
    int32 ``(batch,)``, ``"categorical"``: float32 one-hot, ``"binary"``: float32 ``(batch, 1)``, None:
    images only). The dataset has ``class_names``, ``file_paths``, ``map(fn)``, ``cache()`` and ``take(n)``.

    Args:
        directory, labels, label_mode, class_names, batch_size, shuffle, seed, validation_split, subset,
            follow_links, verbose: as in ``lamina.utils.text_dataset_from_directory``.
        color_mode: ``"rgb"`` (3 channels), ``"rgba"`` (4) or ``"grayscale"`` (1).
        image_size: ``(height, width)`` of the output images.
        interpolation: ``"bilinear"`` (default), ``"nearest"``, ``"bicubic"``, ``"area"``, ``"lanczos3"``,
            ``"lanczos5"``, ``"gaussian"`` or ``"mitchellcubic"`` (``tf.image.resize``'s methods: half-pixel
            centres; no smoothing when shrinking, except "area").
        crop_to_aspect_ratio: crop the centre of each image to the aspect ratio of ``image_size`` first.
        pad_to_aspect_ratio: resize each image to fit inside ``image_size`` keeping its aspect ratio, then pad
            it with black (centred), as ``tf.image.resize_with_pad``.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: ``lamina.config.image_data_format()``).
        format: accepted for Keras compatibility and ignored (the result is always a lamina ``PyDataset``).
        antialias: (lamina only; Keras always resizes without) widen the filter when shrinking, as
            ``tf.image.resize(..., antialias=True)``. Default False, as Keras.
    """
    who = "image_dataset_from_directory"
    height, width = iu._check_size(image_size, "image_size", who)
    iu.check_color_mode(color_mode, who)
    interpolation = interpolation.lower() if isinstance(interpolation, str) else interpolation
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{who}: `interpolation` must be one of {list(_INTERPOLATIONS)}, but received "
                         f"interpolation={interpolation!r}.")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(f"{who}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True.")
    data_format = iu._check_data_format(data_format, who)
    iu.pil_image()  # fail early, with the install hint, when Pillow is missing
    load = _image_loader(color_mode, (height, width), interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio,
                         data_format, bool(antialias))
    return make_datasets(who, directory, labels, label_mode, class_names, IMAGE_FORMATS, "images", batch_size,
                         shuffle, seed, validation_split, subset, follow_links, verbose, load, np.stack)
