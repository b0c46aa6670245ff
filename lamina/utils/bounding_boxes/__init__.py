"""``lamina.utils.bounding_boxes``: convert, clip, crop, pad, transform, encode and compare bounding boxes.

The functions of ``keras.utils.bounding_boxes``, with the same arguments. Boxes are tensors (or arrays) with a last
axis of 4, unbatched ``(N, 4)`` or batched ``(batch, N, 4)``; several functions also take Keras's dict form
``{"boxes": ..., "labels": ...}``. Results are tensors of the current backend.

Example:
>>> from lamina import ops
>>> from lamina.utils import bounding_boxes
>>> ops.convert_to_numpy(bounding_boxes.convert_format([[2., 4., 6., 8.]], "xyxy", "center_xywh")).tolist()
[[4.0, 6.0, 4.0, 4.0]]
"""

from lamina.utils.bounding_boxes.converters import convert_format  # noqa: F401
from lamina.utils.bounding_boxes.deltas import decode_deltas_to_boxes, encode_box_to_deltas  # noqa: F401
from lamina.utils.bounding_boxes.geometry import affine_transform, clip_to_image_size, crop, pad  # noqa: F401
from lamina.utils.bounding_boxes.iou import compute_ciou, compute_iou  # noqa: F401

__all__ = [
    "affine_transform",
    "clip_to_image_size",
    "compute_ciou",
    "compute_iou",
    "convert_format",
    "crop",
    "decode_deltas_to_boxes",
    "encode_box_to_deltas",
    "pad",
]
