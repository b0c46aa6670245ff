"""Anchor-box regression targets: ``encode_box_to_deltas`` and ``decode_deltas_to_boxes``.

With anchors and boxes in a center format, a delta is ``((box_center - anchor_center) / anchor_size,
log(box_size / anchor_size))`` (sizes floored at ``epsilon``), optionally divided by a 4-value ``variance``.
"""

from lamina import config
from lamina.utils.bounding_boxes.converters import _ops, check_format, convert_format

_CENTER_FORMATS = ("center_xywh", "center_yxhw")


def _variance(fn, variance):
    if variance is None:
        return None
    ops = _ops()
    variance = ops.convert_to_tensor(variance, "float32")
    shape = tuple(ops.shape(variance))
    if not shape or shape[-1] != 4:
        raise ValueError(f"{fn}() expected `variance` to hold 4 values (one per box coordinate), but received "
                         f"variance={ops.convert_to_numpy(variance).tolist()}.")
    return variance


def _image_size(fn, image_shape):
    if image_shape is None:
        return None, None
    if len(image_shape) not in (2, 3):
        raise ValueError(f"{fn}() expected `image_shape` as (height, width, channels) or (height, width), but "
                         f"received image_shape={image_shape}.")
    return image_shape[0], image_shape[1]


def _check_center(fn, arg, fmt):
    fmt = check_format(fn, fmt, arg)
    if fmt not in _CENTER_FORMATS:
        raise ValueError(f"{fn}() expected `{arg}` to be 'center_xywh' or 'center_yxhw', but received {fmt!r}.")
    return fmt


def encode_box_to_deltas(anchors, boxes, anchor_format, box_format, encoding_format="center_yxhw", variance=None,
                         image_shape=None):
    """Encodes boxes as deltas from anchors (the regression targets of an anchor-based detector).

    Both are converted to ``encoding_format``; the delta of a box is its center offset from the anchor's center
    divided by the anchor's size, then the log of its size over the anchor's size, and is divided by ``variance``
    when one is given.

    Args:
        anchors: anchor boxes, shape ``(N, 4)``.
        boxes: boxes to encode, shape ``(N, 4)`` or ``(batch, N, 4)``.
        anchor_format: the format of ``anchors``.
        box_format: the format of ``boxes``.
        encoding_format: ``"center_yxhw"`` (default) or ``"center_xywh"``: the layout of the deltas.
        variance: optional 4 values that divide the deltas.
        image_shape: ``(height, width, channels)`` of the image; needed when a format is relative.

    Returns:
        The deltas, of the shape of ``boxes``.

    Raises:
        ValueError: if ``variance`` does not hold 4 values, or ``encoding_format`` is not a center format.

    Example:
    >>> from lamina import ops
    >>> from lamina.utils import bounding_boxes
    >>> anchors = [[0., 0., 10., 10.]]
    >>> deltas = bounding_boxes.encode_box_to_deltas(anchors, [[1., 2., 11., 12.]], "xyxy", "xyxy")
    >>> ops.convert_to_numpy(deltas).astype(float).round(4).tolist()
    [[0.2, 0.1, 0.0, 0.0]]
    """
    fn = "encode_box_to_deltas"
    ops = _ops()
    variance = _variance(fn, variance)
    encoding_format = _check_center(fn, "encoding_format", encoding_format)
    height, width = _image_size(fn, image_shape)
    anchors = convert_format(anchors, anchor_format, encoding_format, height=height, width=width)
    boxes = convert_format(boxes, box_format, encoding_format, height=height, width=width)
    eps = config.epsilon()
    anchor_size = ops.maximum(anchors[..., 2:], eps)
    box_size = ops.maximum(boxes[..., 2:], eps)
    deltas = ops.concatenate([(boxes[..., :2] - anchors[..., :2]) / anchor_size, ops.log(box_size / anchor_size)],
                             axis=-1)
    return deltas if variance is None else deltas / variance


def decode_deltas_to_boxes(anchors, boxes_delta, anchor_format, box_format, encoded_format="center_yxhw",
                           variance=None, image_shape=None):
    """Turns deltas back into boxes: the inverse of ``encode_box_to_deltas``.

    Args:
        anchors: anchor boxes, shape ``(N, 4)``, or a dict of them (one entry per feature level).
        boxes_delta: deltas, shape ``(N, 4)`` or ``(batch, N, 4)``, or a dict with the keys of ``anchors``.
        anchor_format: the format of ``anchors``.
        box_format: the format of the returned boxes.
        encoded_format: ``"center_yxhw"`` (default) or ``"center_xywh"``: the layout of the deltas.
        variance: optional 4 values that multiply the deltas first.
        image_shape: ``(height, width, channels)`` of the image; needed when a format is relative.

    Returns:
        The boxes in ``box_format`` (a dict of them for dict inputs).

    Raises:
        ValueError: if ``variance`` does not hold 4 values, ``encoded_format`` is not a center format, or a dict
            of deltas misses a level of ``anchors``.

    Example:
    >>> from lamina import ops
    >>> from lamina.utils import bounding_boxes
    >>> boxes = bounding_boxes.decode_deltas_to_boxes([[0., 0., 10., 10.]], [[0.2, 0.1, 0., 0.]], "xyxy", "xyxy")
    >>> ops.convert_to_numpy(boxes).astype(float).round(4).tolist()
    [[1.0, 2.0, 11.0, 12.0]]
    """
    fn = "decode_deltas_to_boxes"
    ops = _ops()
    variance = _variance(fn, variance)
    encoded_format = _check_center(fn, "encoded_format", encoded_format)
    height, width = _image_size(fn, image_shape)

    def decode(anchor, delta):
        anchor = convert_format(anchor, anchor_format, encoded_format, height=height, width=width)
        delta = ops.convert_to_tensor(delta)
        if variance is not None:
            delta = delta * variance
        box = ops.concatenate([delta[..., :2] * anchor[..., 2:] + anchor[..., :2],
                               ops.exp(delta[..., 2:]) * anchor[..., 2:]], axis=-1)
        return convert_format(box, encoded_format, box_format, height=height, width=width)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        missing = [k for k in anchors if k not in boxes_delta]
        if missing:
            raise ValueError(f"{fn}() expected `boxes_delta` to have the levels of `anchors` {list(anchors)}, but "
                             f"it misses {missing}.")
        return {level: decode(anchor, boxes_delta[level]) for level, anchor in anchors.items()}
    return decode(anchors, boxes_delta)
