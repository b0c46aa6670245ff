"""Keras 2's NumPy/SciPy image augmentation helpers (``keras.preprocessing.image.random_rotation`` & co).

Every function works on ONE image, a rank-3 NumPy array. The geometric transforms resample with
``scipy.ndimage.affine_transform`` (SciPy is imported when first needed), as Keras 2 did, so the same
parameters give Keras 2's numbers. The ``random_*`` functions draw from NumPy's global random state
(``np.random.seed`` makes them repeatable), as Keras 2's did.

Keras 2.15 quirk kept for fidelity: in ``apply_affine_transform`` the matrix is built with ``tx`` on the
first image axis and then conjugated by the axis swap (when the column axis follows the row axis), so ``tx``
moves the image along its *columns* (horizontally) and ``ty`` along its rows, and the centre used for
rotation/shear/zoom has its two coordinates exchanged (which matters only for non-square images).
"""

import numbers

import numpy as np

FILL_MODES = ("constant", "nearest", "reflect", "wrap", "mirror", "grid-constant", "grid-mirror", "grid-wrap")


def _ndimage():
    try:
        from scipy import ndimage
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("lamina.preprocessing.image's geometric transforms need SciPy: "
                          "`pip install scipy`.") from None
    return ndimage


def _is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def check_fill_mode(fill_mode, who):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"{who}: `fill_mode` must be one of {list(FILL_MODES[:4])} (or another scipy.ndimage "
                         f"mode: {list(FILL_MODES[4:])}), but received fill_mode={fill_mode!r}.")
    return fill_mode


def _check_image(x, who):
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"{who}: expected one image as a rank-3 array (rows, cols, channels) or (channels, rows, "
                         f"cols), but received an array of shape {x.shape}.")
    return x


def transform_matrix_offset_center(matrix, x, y):
    """``matrix`` (3x3, homogeneous) re-expressed about the centre of an ``x`` by ``y`` image."""
    cx, cy = float(x) / 2 - 0.5, float(y) / 2 - 0.5
    to_center = np.array([[1.0, 0.0, cx], [0.0, 1.0, cy], [0.0, 0.0, 1.0]])
    from_center = np.array([[1.0, 0.0, -cx], [0.0, 1.0, -cy], [0.0, 0.0, 1.0]])
    return to_center @ matrix @ from_center


def flip_axis(x, axis):
    """``x`` reversed along ``axis``."""
    return np.flip(np.asarray(x), axis)


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=1, col_axis=2, channel_axis=0,
                           fill_mode="nearest", cval=0.0, order=1):
    """Rotate, shift, shear and zoom one image (Keras 2's ``apply_affine_transform``).

    Args:
        x: one image, a rank-3 NumPy array.
        theta: rotation angle in degrees.
        tx, ty: shifts in pixels (see the module docstring for which axis each moves, as in Keras 2.15).
        shear: shear angle in degrees.
        zx, zy: zoom factors of the sampling grid, as in Keras 2: below 1 magnifies (zooms in), above 1
            shrinks the image (zooms out).
        row_axis, col_axis, channel_axis: the axes of ``x`` (defaults: channels first; use 0, 1, 2 for an
            image ``(rows, cols, channels)``).
        fill_mode: how points outside the image are filled: ``"nearest"`` (default), ``"constant"``,
            ``"reflect"`` or ``"wrap"`` (scipy.ndimage modes).
        cval: the fill value with ``fill_mode="constant"``.
        order: the spline interpolation order, 0 to 5 (default 1, bilinear).

    Returns:
        The transformed image: ``x`` itself when every parameter is the identity.

    Example:
    >>> import numpy as np
    >>> from lamina.preprocessing.image import apply_affine_transform
    >>> img = np.arange(9.0).reshape(3, 3, 1)
    >>> out = apply_affine_transform(img, theta=90, row_axis=0, col_axis=1, channel_axis=2)
    >>> out[..., 0].round(4).tolist()  # a quarter turn counterclockwise
    [[2.0, 5.0, 8.0], [1.0, 4.0, 7.0], [0.0, 3.0, 6.0]]
    """
    who = "apply_affine_transform"
    axes = [row_axis, col_axis, channel_axis]
    if sorted(axes) != [0, 1, 2]:
        raise ValueError(f"{who}: `row_axis`, `col_axis` and `channel_axis` must be 0, 1 and 2 in some order, but "
                         f"received row_axis={row_axis!r}, col_axis={col_axis!r}, channel_axis={channel_axis!r}.")
    if channel_axis not in (0, 2):
        raise ValueError(f"{who}: the channels must be the first or the last axis (channel_axis 0 or 2), but "
                         f"received channel_axis={channel_axis!r}.")
    x = _check_image(x, who)
    check_fill_mode(fill_mode, who)
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not 0 <= order <= 5:
        raise ValueError(f"{who}: `order` (the spline interpolation order) must be an int from 0 to 5, but "
                         f"received order={order!r}.")

    parts = []
    if theta != 0:
        t = np.deg2rad(theta)
        parts.append(np.array([[np.cos(t), -np.sin(t), 0.0], [np.sin(t), np.cos(t), 0.0], [0.0, 0.0, 1.0]]))
    if tx != 0 or ty != 0:
        parts.append(np.array([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]]))
    if shear != 0:
        s = np.deg2rad(shear)
        parts.append(np.array([[1.0, -np.sin(s), 0.0], [0.0, np.cos(s), 0.0], [0.0, 0.0, 1.0]]))
    if zx != 1 or zy != 1:
        parts.append(np.array([[zx, 0.0, 0.0], [0.0, zy, 0.0], [0.0, 0.0, 1.0]]))
    if not parts:
        return x
    matrix = parts[0]
    for p in parts[1:]:
        matrix = matrix @ p
    matrix = transform_matrix_offset_center(matrix, x.shape[row_axis], x.shape[col_axis])
    if col_axis > row_axis:  # Keras 2.15: conjugate by the permutation of the two spatial axes
        swap = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
        matrix = swap @ matrix @ swap
    ndimage = _ndimage()
    planes = np.moveaxis(x, channel_axis, 0)
    out = np.stack([ndimage.affine_transform(p, matrix[:2, :2], matrix[:2, 2], order=order, mode=fill_mode,
                                             cval=cval) for p in planes], axis=0)
    return np.moveaxis(out, 0, channel_axis)


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                    interpolation_order=1):
    """Rotate one image by an angle drawn uniformly from ``[-rg, rg]`` degrees."""
    theta = np.random.uniform(-rg, rg)
    return apply_affine_transform(x, theta=theta, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval, order=interpolation_order)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                 interpolation_order=1):
    """Shift one image by fractions drawn from ``[-hrg, hrg]`` of its height and ``[-wrg, wrg]`` of its width."""
    x = _check_image(x, "random_shift")
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = np.random.uniform(-hrg, hrg) * h
    ty = np.random.uniform(-wrg, wrg) * w
    return apply_affine_transform(x, tx=tx, ty=ty, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval, order=interpolation_order)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                 interpolation_order=1):
    """Shear one image by an angle drawn from ``[-intensity, intensity]`` degrees."""
    shear = np.random.uniform(-intensity, intensity)
    return apply_affine_transform(x, shear=shear, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval, order=interpolation_order)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                interpolation_order=1):
    """Zoom one image by factors ``zx, zy`` drawn independently from ``[zoom_range[0], zoom_range[1]]``."""
    if not isinstance(zoom_range, (tuple, list, np.ndarray)) or len(zoom_range) != 2:
        raise ValueError(f"random_zoom: `zoom_range` must be a tuple or list of two floats (lower, upper), but "
                         f"received zoom_range={zoom_range!r}.")
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return apply_affine_transform(x, zx=zx, zy=zy, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval, order=interpolation_order)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Add ``intensity`` to every channel of one image, clipped to the image's own value range.

    Example:
    >>> import numpy as np
    >>> from lamina.preprocessing.image import apply_channel_shift
    >>> apply_channel_shift(np.array([[[0.0, 10.0]]]), 4.0, channel_axis=2).tolist()
    [[[4.0, 10.0]]]
    """
    x = _check_image(x, "apply_channel_shift")
    lo, hi = np.min(x), np.max(x)
    planes = np.moveaxis(x, channel_axis, 0)
    out = np.stack([np.clip(p + intensity, lo, hi) for p in planes], axis=0)
    return np.moveaxis(out, 0, channel_axis)


def random_channel_shift(x, intensity_range, channel_axis=0):
    """``apply_channel_shift`` with an intensity drawn from ``[-intensity_range, intensity_range]``."""
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def apply_brightness_shift(x, brightness, scale=True, data_format=None):
    """Change the brightness of one image by the factor ``brightness`` (Pillow's ``ImageEnhance.Brightness``:
    0 gives black, 1 the original). ``data_format`` (lamina's addition; default
    ``lamina.config.image_data_format()``) says where the channels are.

    The image goes through an 8-bit Pillow image, as in Keras 2: with ``scale=True`` its values are first
    mapped onto 0..255 (and the result stays there); with ``scale=False`` values already within 0..255 are used
    as they are, and other ranges are mapped onto 0..255 and back.
    """
    from lamina.utils import image_utils

    x = _check_image(x, "apply_brightness_shift")
    if not _is_number(brightness):
        raise ValueError(f"apply_brightness_shift: `brightness` must be a number (a factor), but received "
                         f"brightness={brightness!r}.")
    image_utils.pil_image()
    from PIL import ImageEnhance

    lo, hi = np.min(x), np.max(x)
    out_of_range = bool(lo < 0 or hi > 255)
    img = image_utils.array_to_img(x, data_format=data_format, scale=out_of_range or scale)
    img = ImageEnhance.Brightness(img).enhance(brightness)
    out = image_utils.img_to_array(img, data_format=data_format)
    if out_of_range and not scale:
        out = out / 255 * (hi - lo) + lo
    return out


def random_brightness(x, brightness_range, scale=True, data_format=None):
    """``apply_brightness_shift`` with a factor drawn from ``[brightness_range[0], brightness_range[1]]``."""
    if not isinstance(brightness_range, (tuple, list, np.ndarray)) or len(brightness_range) != 2:
        raise ValueError(f"random_brightness: `brightness_range` must be a tuple or list of two floats (lower, "
                         f"upper), but received brightness_range={brightness_range!r}.")
    u = np.random.uniform(brightness_range[0], brightness_range[1])
    return apply_brightness_shift(x, u, scale, data_format=data_format)
