"""Bounding-box formats and ``convert_format``.

A box is four numbers along the last axis. Every format is one of five *layouts*, given either in pixels or, with
the ``rel_`` prefix, as fractions of the image's width and height:

=================  ==================================
``xyxy``           left, top, right, bottom
``yxyx``           top, left, bottom, right
``xywh``           left, top, width, height
``center_xywh``    center x, center y, width, height
``center_yxhw``    center y, center x, height, width
=================  ==================================

``rel_xyxy``, ``rel_yxyx``, ``rel_xywh`` and ``rel_center_xywh`` are the relative forms (as in Keras, there is no
``rel_center_yxhw``). Conversions go through ``xyxy``; a relative box is turned into pixels by converting its layout
to ``xyxy`` in relative units and then multiplying by the image size, and the other way round.
"""

SUPPORTED_FORMATS = (
    "xyxy",
    "yxyx",
    "xywh",
    "center_xywh",
    "center_yxhw",
    "rel_xyxy",
    "rel_yxyx",
    "rel_xywh",
    "rel_center_xywh",
)

# Which columns of a layout hold x-like (scaled by the width) and y-like (scaled by the height) quantities.
_AXES = {"xyxy": "xyxy", "yxyx": "yxyx", "xywh": "xyxy", "center_xywh": "xyxy", "center_yxhw": "yxyx"}


def _ops():
    # lamina.utils is imported while the backend is still loading: reach the op API only when called.
    from lamina import ops

    return ops


def check_format(fn, fmt, arg="bounding_box_format"):
    """Return ``fmt`` lower-cased, or raise a ValueError naming ``fn`` and ``arg`` when it is not a known format."""
    if not isinstance(fmt, str) or fmt.lower() not in SUPPORTED_FORMATS:
        raise ValueError(f"{fn}() received an unknown bounding box format {arg}={fmt!r}. Expected one of "
                         f"{', '.join(SUPPORTED_FORMATS)}.")
    return fmt.lower()


def as_boxes(fn, boxes, arg="boxes"):
    """``boxes`` as a tensor whose last axis has size 4 (its own dtype kept), or a ValueError naming ``fn``."""
    ops = _ops()
    boxes = ops.convert_to_tensor(boxes)
    shape = tuple(ops.shape(boxes))
    if len(shape) == 0 or shape[-1] != 4:
        raise ValueError(f"{fn}() expected `{arg}` with a last dimension of 4 (one box per row), but received "
                         f"{arg}.shape={shape}.")
    return boxes


def columns(boxes):
    """The four columns of ``boxes``, each with a trailing axis of size 1."""
    return [boxes[..., i:i + 1] for i in range(4)]


def join(cols):
    return _ops().concatenate(list(cols), axis=-1)


def _layout_to_xyxy(layout, b):
    a0, a1, a2, a3 = columns(b)
    if layout == "xyxy":
        return b
    if layout == "yxyx":
        return join([a1, a0, a3, a2])
    if layout == "xywh":
        return join([a0, a1, a0 + a2, a1 + a3])
    if layout == "center_xywh":
        return join([a0 - a2 / 2.0, a1 - a3 / 2.0, a0 + a2 / 2.0, a1 + a3 / 2.0])
    # center_yxhw
    return join([a1 - a3 / 2.0, a0 - a2 / 2.0, a1 + a3 / 2.0, a0 + a2 / 2.0])


def _xyxy_to_layout(layout, b):
    x1, y1, x2, y2 = columns(b)
    if layout == "xyxy":
        return b
    if layout == "yxyx":
        return join([y1, x1, y2, x2])
    w, h = x2 - x1, y2 - y1
    if layout == "xywh":
        return join([x1, y1, w, h])
    cx, cy = x1 + w / 2.0, y1 + h / 2.0
    if layout == "center_xywh":
        return join([cx, cy, w, h])
    return join([cy, cx, h, w])  # center_yxhw


def _scale(layout, b, height, width, divide):
    sizes = {"x": width, "y": height}
    cols = columns(b)
    return join([c / sizes[a] if divide else c * sizes[a] for c, a in zip(cols, _AXES[layout])])


def _convert(boxes, source, target, height, width):
    """Convert a float tensor between two lower-cased formats (no checks)."""
    if source == target:
        return boxes
    src_rel, tgt_rel = source.startswith("rel_"), target.startswith("rel_")
    src, tgt = source[4:] if src_rel else source, target[4:] if tgt_rel else target
    xyxy = _layout_to_xyxy(src, boxes)
    if src_rel and not tgt_rel:
        xyxy = _scale("xyxy", xyxy, height, width, divide=False)
    out = _xyxy_to_layout(tgt, xyxy)
    if tgt_rel and not src_rel:
        out = _scale(tgt, out, height, width, divide=True)
    return out


def convert_format(boxes, source, target, height=None, width=None, dtype="float32"):
    """Converts bounding boxes between formats.

    Formats (case-insensitive): ``"xyxy"`` (left, top, right, bottom), ``"yxyx"`` (top, left, bottom, right),
    ``"xywh"`` (left, top, width, height), ``"center_xywh"`` (center x, center y, width, height),
    ``"center_yxhw"`` (center y, center x, height, width), and the relative forms ``"rel_xyxy"``, ``"rel_yxyx"``,
    ``"rel_xywh"``, ``"rel_center_xywh"`` whose values are fractions of the image ``width`` and ``height``.

    Args:
        boxes: boxes with a last axis of 4, of any leading shape (``(N, 4)``, ``(batch, N, 4)``, ...), or a dict
            with a ``"boxes"`` entry. As in Keras, a dict is updated in place (its ``"boxes"`` replaced) and
            returned.
        source: the format of ``boxes``.
        target: the format to convert to.
        height: the image height; required when ``source`` or ``target`` is relative.
        width: the image width; required when ``source`` or ``target`` is relative.
        dtype: the dtype of the result (and of the computation). Defaults to ``"float32"``.

    Returns:
        The converted boxes, a tensor of the backend (or the dict, with converted ``"boxes"``).

    Raises:
        ValueError: for an unknown format, a last dimension other than 4, or a relative format without
            ``height`` and ``width``.

    Example:
    >>> import numpy as np
    >>> from lamina import ops
    >>> from lamina.utils import bounding_boxes
    >>> boxes = np.array([[10, 20, 30, 40], [50, 60, 70, 80]])
    >>> ops.convert_to_numpy(bounding_boxes.convert_format(boxes, "xyxy", "xywh")).tolist()
    [[10.0, 20.0, 20.0, 20.0], [50.0, 60.0, 20.0, 20.0]]
    >>> rel = bounding_boxes.convert_format(boxes, "xyxy", "rel_xyxy", height=200, width=100)
    >>> ops.convert_to_numpy(rel).astype(float).round(2).tolist()
    [[0.1, 0.1, 0.3, 0.2], [0.5, 0.3, 0.7, 0.4]]
    """
    if isinstance(boxes, dict):
        if "boxes" not in boxes:
            raise ValueError(f"convert_format() expected a dict with a 'boxes' entry, but received a dict with "
                             f"keys {sorted(boxes)}.")
        boxes["boxes"] = convert_format(boxes["boxes"], source, target, height=height, width=width, dtype=dtype)
        return boxes
    ops = _ops()
    boxes = as_boxes("convert_format", boxes)
    source = check_format("convert_format", source, "source")
    target = check_format("convert_format", target, "target")
    if (source.startswith("rel_") or target.startswith("rel_")) and (height is None or width is None):
        raise ValueError(f"convert_format() needs `height` and `width` to convert between a relative and another "
                         f"format, but received source={source!r}, target={target!r}, height={height}, "
                         f"width={width}.")
    boxes = ops.cast(boxes, dtype)
    if source == target:
        return boxes
    height = None if height is None else ops.cast(height, dtype)
    width = None if width is None else ops.cast(width, dtype)
    return _convert(boxes, source, target, height, width)
