"""Moving boxes with their image: ``clip_to_image_size``, ``crop``, ``pad`` and ``affine_transform``.

Keras computes these in ``xyxy`` (and ``rel_xyxy`` for clipping) only and raises ``NotImplementedError`` for any
other ``bounding_box_format``; lamina converts other pixel formats to ``xyxy``, does the same arithmetic, and
converts the result back, so an ``xyxy`` call gives Keras's numbers exactly.
"""

import math

from lamina.backend.common.dtypes import standardize_dtype
from lamina.utils.bounding_boxes.converters import _convert, _ops, as_boxes, check_format, columns, join


def _in_xyxy(fn, boxes, bounding_box_format, compute):
    """Run ``compute`` on ``boxes`` (a tensor, or a dict with "boxes") seen in ``xyxy``; return the same form."""
    if isinstance(boxes, dict):
        if "boxes" not in boxes:
            raise ValueError(f"{fn}() expected boxes as an array or a dict with a 'boxes' entry, but received a "
                             f"dict with keys {sorted(boxes)}.")
        out = dict(boxes)
        out["boxes"] = _in_xyxy(fn, boxes["boxes"], bounding_box_format, compute)
        return out
    fmt = check_format(fn, bounding_box_format)
    if fmt.startswith("rel_"):
        raise ValueError(f"{fn}() works on boxes in pixels, but received bounding_box_format={fmt!r}. Convert them "
                         f"first: bounding_boxes.convert_format(boxes, {fmt!r}, 'xyxy', height=..., width=...).")
    boxes = as_boxes(fn, boxes)
    if fmt == "xyxy":
        return compute(boxes)
    ops = _ops()
    boxes = _convert(ops.cast(boxes, "float32"), fmt, "xyxy", None, None)
    return _convert(compute(boxes), "xyxy", fmt, None, None)


def clip_to_image_size(bounding_boxes, height=None, width=None, bounding_box_format="xyxy"):
    """Clips bounding boxes to the image, and marks boxes left with no area.

    Coordinates are clipped to ``[0, width]`` and ``[0, height]`` (or to ``[0, 1]`` for a relative format). When
    ``bounding_boxes`` has ``"labels"``, the label of every box whose clipped area is not positive becomes ``-1``.

    Args:
        bounding_boxes: a dict with ``"boxes"`` (``(N, 4)`` or ``(batch, N, 4)``) and optionally ``"labels"``
            (``(N,)`` or ``(batch, N)``); a bare array of boxes is accepted too.
        height: the image height (required for a pixel format).
        width: the image width (required for a pixel format).
        bounding_box_format: the format of the boxes. Defaults to ``"xyxy"``. Keras supports ``"xyxy"`` and
            ``"rel_xyxy"``; lamina also accepts the other formats (converting through ``xyxy``/``rel_xyxy``).

    Returns:
        A new dict (the input is not changed) with clipped ``"boxes"`` and updated ``"labels"``; for an array
        input, the clipped array.

    Example:
    >>> import numpy as np
    >>> from lamina import ops
    >>> from lamina.utils import bounding_boxes
    >>> boxes = {"boxes": np.array([[-10., -20., 150., 160.], [130., 40., 170., 80.]]), "labels": np.array([0, 1])}
    >>> out = bounding_boxes.clip_to_image_size(boxes, height=100, width=120)
    >>> ops.convert_to_numpy(out["boxes"]).tolist()
    [[0.0, 0.0, 120.0, 100.0], [120.0, 40.0, 120.0, 80.0]]
    >>> ops.convert_to_numpy(out["labels"]).tolist()
    [0, -1]
    """
    fn = "clip_to_image_size"
    ops = _ops()
    fmt = check_format(fn, bounding_box_format)
    relative = fmt.startswith("rel_")
    if not relative and (height is None or width is None):
        raise ValueError(f"{fn}() needs `height` and `width` for the pixel format {fmt!r}, but received "
                         f"height={height}, width={width}.")
    if not isinstance(bounding_boxes, dict):
        return clip_to_image_size({"boxes": bounding_boxes}, height, width, fmt)["boxes"]
    if "boxes" not in bounding_boxes:
        raise ValueError(f"{fn}() expected a dict with a 'boxes' entry (and optionally 'labels'), but received a "
                         f"dict with keys {sorted(bounding_boxes)}.")
    boxes = as_boxes(fn, bounding_boxes["boxes"])
    base = "rel_xyxy" if relative else "xyxy"
    if fmt != base:
        boxes = _convert(ops.cast(boxes, "float32"), fmt, base, None, None)
    x1, y1, x2, y2 = columns(boxes)
    if relative:
        x_max = y_max = 1.0
    else:
        x_max, y_max = ops.cast(width, boxes.dtype), ops.cast(height, boxes.dtype)
    x1, x2 = ops.clip(x1, 0, x_max), ops.clip(x2, 0, x_max)
    y1, y2 = ops.clip(y1, 0, y_max), ops.clip(y2, 0, y_max)
    boxes = join([x1, y1, x2, y2])
    result = dict(bounding_boxes)
    labels = bounding_boxes.get("labels")
    if labels is not None:
        area = ops.squeeze((x2 - x1) * (y2 - y1), axis=-1)
        result["labels"] = ops.where(area > 0, ops.convert_to_tensor(labels), -1)
    result["boxes"] = boxes if fmt == base else _convert(boxes, base, fmt, None, None)
    return result


def crop(boxes, top, left, height, width, bounding_box_format="xyxy"):
    """Moves boxes into the frame of a crop of their image, clipping them to it.

    The crop is the ``height`` x ``width`` region whose top-left corner is at (``left``, ``top``) of the image.
    Boxes are shifted by (-``left``, -``top``) and clipped to ``[0, width]`` x ``[0, height]`` (a ``None`` size
    leaves that side unclipped).

    Args:
        boxes: boxes of shape ``(N, 4)`` or ``(batch, N, 4)`` (or a dict with ``"boxes"``).
        top: the crop's offset from the top of the image.
        left: the crop's offset from the left of the image.
        height: the crop's height.
        width: the crop's width.
        bounding_box_format: the format of the boxes, a pixel format. Defaults to ``"xyxy"``.

    Returns:
        The cropped boxes, in ``bounding_box_format``.

    Example:
    >>> import numpy as np
    >>> from lamina import ops
    >>> from lamina.utils import bounding_boxes
    >>> boxes = np.array([[10., 20., 50., 60.], [70., 80., 100., 120.]])
    >>> out = bounding_boxes.crop(boxes, top=10, left=20, height=40, width=30)
    >>> ops.convert_to_numpy(out).tolist()
    [[0.0, 10.0, 30.0, 40.0], [30.0, 40.0, 30.0, 40.0]]
    """
    ops = _ops()

    def compute(b):
        x1, y1, x2, y2 = columns(b)
        x1, x2 = ops.clip(x1 - left, 0, width), ops.clip(x2 - left, 0, width)
        y1, y2 = ops.clip(y1 - top, 0, height), ops.clip(y2 - top, 0, height)
        return join([x1, y1, x2, y2])

    return _in_xyxy("crop", boxes, bounding_box_format, compute)


def pad(boxes, top, left, height=None, width=None, bounding_box_format="xyxy"):
    """Moves boxes into the frame of their image padded by ``top`` rows and ``left`` columns.

    Args:
        boxes: boxes of shape ``(N, 4)`` or ``(batch, N, 4)`` (or a dict with ``"boxes"``).
        top: rows added above the image.
        left: columns added left of the image.
        height: the padded image's height (unused, as in Keras).
        width: the padded image's width (unused, as in Keras).
        bounding_box_format: the format of the boxes, a pixel format. Defaults to ``"xyxy"``.

    Returns:
        The shifted boxes, in ``bounding_box_format``.

    Example:
    >>> from lamina import ops
    >>> from lamina.utils import bounding_boxes
    >>> ops.convert_to_numpy(bounding_boxes.pad([[1., 2., 3., 4.]], top=10, left=5)).tolist()
    [[6.0, 12.0, 8.0, 14.0]]
    """
    del height, width  # the shift does not depend on the image size

    def compute(b):
        x1, y1, x2, y2 = columns(b)
        return join([x1 + left, y1 + top, x2 + left, y2 + top])

    return _in_xyxy("pad", boxes, bounding_box_format, compute)


def _inverse_affine_rows(angle, translate_x, translate_y, scale, shear_x, shear_y, height, width, cx, cy):
    """The two first rows (a0, a1, a2), (b0, b1, b2) of the inverse of the image's affine transformation."""
    ops = _ops()
    to_rad = 1.0 / 180.0 * math.pi
    rot, sx, sy = -angle * to_rad, -shear_x * to_rad, -shear_y * to_rad
    cx, cy = cx * (width - 1), cy * (height - 1)
    tx, ty = -translate_x * (width - 1), -translate_y * (height - 1)
    cos_sy, tan_sx = ops.cos(sy), ops.tan(sx)
    p = ops.cos(rot - sy) / cos_sy
    q = p * tan_sx + ops.sin(rot)
    r = -ops.sin(rot - sy) / cos_sy
    s = ops.cos(rot) - r * tan_sx
    a0, a1, b0, b1 = s * scale, -q * scale, -r * scale, p * scale
    ox, oy = cx + tx, cy + ty
    return (a0, a1, cx - a0 * ox - a1 * oy), (b0, b1, cy - b0 * ox - b1 * oy)


def affine_transform(boxes, angle, translate_x, translate_y, scale, shear_x, shear_y, height, width, center_x=None,
                     center_y=None, bounding_box_format="xyxy"):
    """Applies to boxes the affine transformation that ``RandomAffine``-style layers apply to their image.

    The four corners of each box are mapped through the inverse affine matrix of the image transformation
    (rotation ``angle`` in degrees about the center, translation by fractions of the size, ``scale``, and shears in
    degrees), and the result is the axis-aligned box around them.

    Args:
        boxes: boxes of shape ``(batch, N, 4)``, or ``(N, 4)`` with scalar parameters.
        angle: rotation angle in degrees: a scalar or one value per image (shape ``(batch,)``).
        translate_x: horizontal translation, a fraction of the width (scalar or ``(batch,)``).
        translate_y: vertical translation, a fraction of the height (scalar or ``(batch,)``).
        scale: scaling factor (scalar or ``(batch,)``).
        shear_x: shear angle along x, in degrees (scalar or ``(batch,)``).
        shear_y: shear angle along y, in degrees (scalar or ``(batch,)``).
        height: the image height.
        width: the image width.
        center_x: the x of the transformation center, a fraction of the width. Defaults to ``0.5``.
        center_y: the y of the transformation center, a fraction of the height. Defaults to ``0.5``.
        bounding_box_format: the format of the boxes, a pixel format. Defaults to ``"xyxy"``.

    Returns:
        The transformed boxes, of the same shape as ``boxes``.

    Example:
    >>> import numpy as np
    >>> from lamina import ops
    >>> from lamina.utils import bounding_boxes
    >>> boxes = np.array([[[1., 2., 3., 4.]]])
    >>> out = bounding_boxes.affine_transform(boxes, np.array([0.]), np.array([0.]), np.array([0.]),
    ...                                       np.array([1.]), np.array([0.]), np.array([0.]), height=11, width=11)
    >>> ops.convert_to_numpy(out).astype(float).round(4).tolist()
    [[[1.0, 2.0, 3.0, 4.0]]]
    """
    fn = "affine_transform"
    ops = _ops()
    params = {"angle": angle, "translate_x": translate_x, "translate_y": translate_y, "scale": scale,
              "shear_x": shear_x, "shear_y": shear_y,
              "center_x": 0.5 if center_x is None else center_x, "center_y": 0.5 if center_y is None else center_y}
    dtype = "float32"
    tensors = {}
    for name, value in params.items():
        t = ops.convert_to_tensor(value)
        if name == "angle" and "float" in standardize_dtype(t.dtype):
            dtype = standardize_dtype(t.dtype)  # the matrix takes the dtype of `angle`, as in Keras
        tensors[name] = t

    def compute(b):
        rank = len(ops.shape(b))
        if rank not in (2, 3):
            raise ValueError(f"{fn}() expected boxes of shape (N, 4) or (batch, N, 4), but received "
                             f"boxes.shape={tuple(ops.shape(b))}.")
        p = {}
        for name, t in tensors.items():
            t = ops.cast(t, dtype)
            size = int(math.prod(ops.shape(t)))
            if len(ops.shape(t)) > 1 or (rank == 2 and size != 1) or (rank == 3 and size not in (1, ops.shape(b)[0])):
                expected = "a scalar" if rank == 2 else f"a scalar or shape ({ops.shape(b)[0]},)"
                raise ValueError(f"{fn}() expected `{name}` to be {expected} for boxes of shape "
                                 f"{tuple(ops.shape(b))}, but received shape {tuple(ops.shape(t))}.")
            p[name] = ops.reshape(t, (-1, 1) if rank == 3 else ())
        (a0, a1, a2), (b0, b1, b2) = _inverse_affine_rows(
            p["angle"], p["translate_x"], p["translate_y"], p["scale"], p["shear_x"], p["shear_y"],
            ops.cast(height, dtype), ops.cast(width, dtype), p["center_x"], p["center_y"])
        return transform_corners(ops.cast(b, dtype), [ops.expand_dims(v, -1) for v in (a0, a1, a2, b0, b1, b2)])

    return _in_xyxy(fn, boxes, bounding_box_format, compute)


def transform_corners(boxes, coefficients):
    """The ``xyxy`` boxes around the four corners of ``xyxy`` ``boxes`` ``(..., 4)`` mapped by the affine
    (``coefficients = (a0, a1, a2, b0, b1, b2)``) or projective (``(a0, a1, a2, b0, b1, b2, c0, c1)``) map
    ``x' = (a0 x + a1 y + a2) / k``, ``y' = (b0 x + b1 y + b2) / k`` with ``k = c0 x + c1 y + 1`` (``k = 1`` for an
    affine map). Each coefficient broadcasts against ``(..., 4 corners)``, e.g. ``(batch, 1, 1)`` for
    ``(batch, N, 4)`` boxes. Used by ``affine_transform`` and the image augmentation layers."""
    ops = _ops()
    x1, y1, x2, y2 = [c[..., 0] for c in columns(boxes)]
    xs = ops.stack([x1, x2, x2, x1], axis=-1)
    ys = ops.stack([y1, y1, y2, y2], axis=-1)
    a0, a1, a2, b0, b1, b2 = coefficients[:6]
    new_x = xs * a0 + ys * a1 + a2
    new_y = xs * b0 + ys * b1 + b2
    if len(coefficients) == 8:
        k = xs * coefficients[6] + ys * coefficients[7] + 1.0
        new_x, new_y = new_x / k, new_y / k
    return ops.stack([ops.min(new_x, axis=-1), ops.min(new_y, axis=-1), ops.max(new_x, axis=-1),
                      ops.max(new_y, axis=-1)], axis=-1)
