"""Overlap of boxes: ``compute_iou`` (pairwise table) and ``compute_ciou`` (elementwise Complete IoU)."""

import math

from lamina import config
from lamina.utils.bounding_boxes.converters import _ops, as_boxes, check_format, columns, convert_format


def _image_size(fn, fmt, image_shape):
    if image_shape is None:
        if fmt.startswith("rel_"):
            raise ValueError(f"{fn}() needs `image_shape` (height, width, channels) for the relative format "
                             f"{fmt!r}, but received image_shape=None.")
        return None, None
    if len(image_shape) not in (2, 3):
        raise ValueError(f"{fn}() expected `image_shape` as (height, width, channels) or (height, width), but "
                         f"received image_shape={image_shape}.")
    return image_shape[0], image_shape[1]


def compute_iou(boxes1, boxes2, bounding_box_format, use_masking=False, mask_val=-1, image_shape=None):
    """The table of intersection-over-union of every box of ``boxes1`` with every box of ``boxes2``.

    Shapes: ``(M, 4)`` and ``(N, 4)`` give ``(M, N)``; when either is batched (``(batch, M, 4)`` or
    ``(batch, N, 4)``) the result is ``(batch, M, N)``.

    Args:
        boxes1: the first boxes, rank 2 or 3.
        boxes2: the second boxes, rank 2 or 3.
        bounding_box_format: the format of both (case-insensitive).
        use_masking: when True, pairs involving a padding box (one whose 4 coordinates, in ``yxyx``, are all
            negative) get ``mask_val`` instead of their IoU. Defaults to False.
        mask_val: the value of masked pairs. Defaults to -1.
        image_shape: ``(height, width, channels)``; required for a relative format.

    Returns:
        The IoU table, float32.

    Example:
    >>> from lamina import ops
    >>> from lamina.utils import bounding_boxes
    >>> iou = bounding_boxes.compute_iou([[0., 0., 2., 2.]], [[1., 0., 3., 2.], [5., 5., 6., 6.]], "xyxy")
    >>> ops.convert_to_numpy(iou).astype(float).round(4).tolist()
    [[0.3333, 0.0]]
    """
    fn = "compute_iou"
    ops = _ops()
    fmt = check_format(fn, bounding_box_format)
    boxes1, boxes2 = as_boxes(fn, boxes1, "boxes1"), as_boxes(fn, boxes2, "boxes2")
    for name, b in (("boxes1", boxes1), ("boxes2", boxes2)):
        if len(ops.shape(b)) not in (2, 3):
            raise ValueError(f"{fn}() expected `{name}` of shape (num_boxes, 4) or (batch, num_boxes, 4), but "
                             f"received {name}.shape={tuple(ops.shape(b))}.")
    height, width = _image_size(fn, fmt, image_shape)
    boxes1 = convert_format(boxes1, fmt, "yxyx", height=height, width=width)
    boxes2 = convert_format(boxes2, fmt, "yxyx", height=height, width=width)
    # (..., M, 1) against (..., 1, N): broadcasting gives the table for every mix of batched and unbatched inputs.
    t1, l1, b1, r1 = columns(boxes1)
    t2, l2, b2, r2 = [ops.swapaxes(c, -1, -2) for c in columns(boxes2)]
    zero = ops.cast(0, boxes1.dtype)
    inter_h = ops.maximum(zero, ops.minimum(b1, b2) - ops.maximum(t1, t2))
    inter_w = ops.maximum(zero, ops.minimum(r1, r2) - ops.maximum(l1, l2))
    intersection = inter_h * inter_w
    union = (b1 - t1) * (r1 - l1) + (b2 - t2) * (r2 - l2) - intersection
    iou = intersection / (union + config.epsilon())
    if not use_masking:
        return iou
    padding1 = ops.max(boxes1, axis=-1, keepdims=True) < 0.0
    padding2 = ops.swapaxes(ops.max(boxes2, axis=-1, keepdims=True) < 0.0, -1, -2)
    masked = ops.logical_or(padding1, padding2)
    return ops.where(masked, ops.cast(mask_val, iou.dtype) * ops.ones_like(iou), iou)


def compute_ciou(boxes1, boxes2, bounding_box_format, image_shape=None):
    """The Complete IoU of boxes taken pairwise, element by element (not a table).

    CIoU = IoU - (squared distance between the centers / squared diagonal of the enclosing box) - v * alpha, where
    ``v`` measures the difference of aspect ratios and ``alpha = v / (1 - IoU + v)``.

    Args:
        boxes1: boxes of shape ``(..., 4)``.
        boxes2: boxes of a shape that broadcasts with ``boxes1``.
        bounding_box_format: the format of both (case-insensitive).
        image_shape: ``(height, width, channels)``; required for a relative format (Keras rejects relative
            formats outright).

    Returns:
        The CIoU, of shape ``(...)``: the boxes' shape without the last axis.

    Example:
    >>> from lamina import ops
    >>> from lamina.utils import bounding_boxes
    >>> ciou = bounding_boxes.compute_ciou([[0., 0., 2., 2.]], [[0., 0., 2., 2.]], "xyxy")
    >>> ops.convert_to_numpy(ciou).astype(float).round(4).tolist()
    [1.0]
    """
    fn = "compute_ciou"
    ops = _ops()
    fmt = check_format(fn, bounding_box_format)
    boxes1, boxes2 = as_boxes(fn, boxes1, "boxes1"), as_boxes(fn, boxes2, "boxes2")
    height, width = _image_size(fn, fmt, image_shape)
    boxes1 = convert_format(boxes1, fmt, "xyxy", height=height, width=width)
    boxes2 = convert_format(boxes2, fmt, "xyxy", height=height, width=width)
    eps = config.epsilon()
    xa1, ya1, xa2, ya2 = columns(boxes1)
    xb1, yb1, xb2, yb2 = columns(boxes2)
    w1, h1 = xa2 - xa1, ya2 - ya1 + eps
    w2, h2 = xb2 - xb1, yb2 - yb1 + eps
    inter = (ops.maximum(ops.minimum(xa2, xb2) - ops.maximum(xa1, xb1), 0)
             * ops.maximum(ops.minimum(ya2, yb2) - ops.maximum(ya1, yb1), 0))
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = ops.squeeze(inter / (union + eps), axis=-1)
    enclosing_w = ops.maximum(xa2, xb2) - ops.minimum(xa1, xb1)
    enclosing_h = ops.maximum(ya2, yb2) - ops.minimum(ya1, yb1)
    diagonal2 = ops.squeeze(enclosing_w ** 2 + enclosing_h ** 2 + eps, axis=-1)
    centers2 = ops.squeeze(((xa1 + xa2) / 2 - (xb1 + xb2) / 2) ** 2 + ((ya1 + ya2) / 2 - (yb1 + yb2) / 2) ** 2,
                           axis=-1)
    v = ops.squeeze((4 / math.pi ** 2) * (ops.arctan(w2 / h2) - ops.arctan(w1 / h1)) ** 2, axis=-1)
    alpha = v / (v - iou + (1 + eps))
    return iou - (centers2 / diagonal2 + v * alpha)
