"""``draw_bounding_boxes``: box outlines (and class labels) burnt into a batch of images, in NumPy.

Keras draws with OpenCV (``cv2.rectangle`` and ``cv2.putText``). lamina does not need OpenCV: the outlines are
rasterized here with the same rule OpenCV follows for axis-aligned rectangles, so the box pixels are the same; a
line ``t`` pixels thick covers every pixel within ``(t + 1) // 2`` (Euclidean distance) of the 1-pixel outline,
which rounds its outer corners, and a negative ``t`` fills the box. Labels are rendered with Pillow's built-in
font (imported only when a label is drawn) at OpenCV's anchor point, so their glyphs differ from OpenCV's Hershey
font.
"""

import functools

import numpy as np

from lamina import config, ops
from lamina.utils.bounding_boxes.converters import convert_format


def _channel_color(color, channels):
    """``color`` for an image of ``channels`` channels, as OpenCV reads it: missing channels are 0."""
    values = [float(c) for c in (color if isinstance(color, (tuple, list, np.ndarray)) else [color])]
    values = (values + [0.0] * channels)[:channels]
    return np.clip(np.rint(values), 0, 255).astype("uint8")


def _draw_rectangle(image, x1, y1, x2, y2, color, thickness):
    """Draw, in place on an (H, W, C) uint8 ``image``, the outline of the box with corners (x1, y1), (x2, y2)."""
    height, width = image.shape[:2]
    xa, xb = sorted((int(x1), int(x2)))
    ya, yb = sorted((int(y1), int(y2)))
    radius = 0 if thickness < 0 or thickness <= 1 else (int(thickness) + 1) // 2
    left, right = max(xa - radius, 0), min(xb + radius, width - 1)
    top, bottom = max(ya - radius, 0), min(yb + radius, height - 1)
    if left > right or top > bottom:
        return
    yy, xx = np.meshgrid(np.arange(top, bottom + 1, dtype=np.int64), np.arange(left, right + 1, dtype=np.int64),
                         indexing="ij")
    inside = (xx >= xa) & (xx <= xb) & (yy >= ya) & (yy <= yb)
    if thickness < 0:
        covered = inside
    else:
        to_edge = np.minimum(np.minimum(xx - xa, xb - xx), np.minimum(yy - ya, yb - yy))
        outside = (xx - np.clip(xx, xa, xb)) ** 2 + (yy - np.clip(yy, ya, yb)) ** 2
        covered = np.where(inside, to_edge ** 2, outside) <= radius * radius
    image[top:bottom + 1, left:right + 1][covered] = color


@functools.lru_cache(maxsize=16)
def _font(size):
    try:
        from PIL import ImageFont
    except ImportError as e:
        raise ImportError(f"draw_bounding_boxes() needs Pillow to draw class labels ({e}). Install it with "
                          f"`pip install pillow`, or pass class_mapping=None to draw the boxes only.") from None
    return ImageFont.load_default(size=size)


def _draw_text(image, text, origin, font_scale, thickness, color):
    """Draw ``text`` in place with its baseline starting at ``origin`` (OpenCV's ``putText`` anchor)."""
    from PIL import Image, ImageDraw

    font = _font(max(1, int(round(30 * font_scale))))
    stroke = max(0, int(thickness) - 1) // 2
    left, top, right, bottom = font.getbbox(text, anchor="ls", stroke_width=stroke)
    if right <= left or bottom <= top:
        return
    canvas = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(canvas).text((-left, -top), text, fill=255, font=font, anchor="ls", stroke_width=stroke,
                                stroke_fill=255)
    ink = np.asarray(canvas) >= 128  # crisp pixels, as OpenCV's default (non anti-aliased) lines
    x0, y0 = origin[0] + left, origin[1] + top
    height, width = image.shape[:2]
    ys, xs = slice(max(y0, 0), min(y0 + ink.shape[0], height)), slice(max(x0, 0), min(x0 + ink.shape[1], width))
    if ys.start >= ys.stop or xs.start >= xs.stop:
        return
    ink = ink[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0]
    image[ys, xs][ink] = color


def _text_origin(x, y, font_scale, thickness):
    """Where a label goes: just above the box when it fits in the image, else just inside its top-left corner."""
    font_height = int(font_scale * 12)
    if y - 8 - 2 * font_height > 0:
        return x, y - 8
    return x + 3, y + 2 * font_height + thickness + 3


def to_uint8_images(images):
    """Images as uint8, the way Keras's drawing functions read them: floats whose maximum is at most 1 are taken
    as [0, 1] and scaled by 255, other floats are clipped to [0, 255]; integers are cast."""
    images = np.asarray(images)
    if images.dtype.kind == "f" and images.size > 0:
        images = np.clip(images, 0, 1) * 255 if images.max() <= 1.0 else np.clip(images, 0, 255)
    return images.astype("uint8")


def check_data_format(fn, data_format):
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{fn}() expected data_format 'channels_last' or 'channels_first', but received "
                         f"data_format={data_format!r}.")
    return data_format


def check_images(fn, images):
    images = np.asarray(ops.convert_to_numpy(images))
    if images.ndim != 4:
        raise ValueError(f"{fn}() expected a batch of images, a 4D array (batch, height, width, channels) or "
                         f"(batch, channels, height, width), but received images.shape={images.shape}.")
    return images


def draw_bounding_boxes(images, bounding_boxes, bounding_box_format, class_mapping=None, color=(128, 128, 128),
                        line_thickness=2, text_thickness=1, font_scale=1.0, data_format=None):
    """Draws bounding boxes (and their class labels) on a batch of images.

    Args:
        images: a batch of images, ``(batch, height, width, channels)`` (or channels first, see ``data_format``).
            Float images whose maximum is at most 1 are read as ``[0, 1]``, other floats as ``[0, 255]``.
        bounding_boxes: a dict with ``"boxes"`` ``(batch, num_boxes, 4)``, ``"labels"`` ``(batch, num_boxes)`` and
            optionally ``"confidences"`` ``(batch, num_boxes)``. Boxes labelled ``-1`` are not drawn.
        bounding_box_format: the format of the boxes (see ``lamina.utils.bounding_boxes.convert_format``).
        class_mapping: a dict from class id to name; boxes whose class is in it get a label (with the confidence,
            when given). Defaults to None (no labels).
        color: the RGB color of boxes and labels. Defaults to ``(128, 128, 128)``.
        line_thickness: the thickness of the box outlines in pixels (negative: filled boxes). Defaults to 2.
        text_thickness: the thickness of the labels; falsy means ``line_thickness``. Defaults to 1.
        font_scale: the size of the labels (1.0 is about 22 pixels for a capital letter). Defaults to 1.0.
        data_format: ``"channels_last"`` or ``"channels_first"``; defaults to ``image_data_format()``.

    Returns:
        A uint8 NumPy array of the images with the boxes drawn, of the shape of ``images``.

    Raises:
        ValueError: if ``images`` is not 4D, ``bounding_boxes`` misses ``"boxes"`` or ``"labels"``, or their
            shapes do not match the batch.
        TypeError: if ``bounding_boxes`` is not a dict.
        ImportError: if a label is to be drawn and Pillow is not installed.

    Example:
    >>> import numpy as np
    >>> from lamina.visualization import draw_bounding_boxes
    >>> images = np.zeros((1, 6, 8, 3), "uint8")
    >>> boxes = {"boxes": np.array([[[1, 1, 5, 3]]]), "labels": np.array([[0]])}
    >>> out = draw_bounding_boxes(images, boxes, "xyxy", color=(255, 0, 0), line_thickness=1)
    >>> (out[0, :, :, 0] > 0).astype(int)
    array([[0, 0, 0, 0, 0, 0, 0, 0],
           [0, 1, 1, 1, 1, 1, 0, 0],
           [0, 1, 0, 0, 0, 1, 0, 0],
           [0, 1, 1, 1, 1, 1, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0]])
    """
    fn = "draw_bounding_boxes"
    class_mapping = class_mapping or {}
    text_thickness = text_thickness or line_thickness
    data_format = check_data_format(fn, data_format)
    images = check_images(fn, images)
    if not isinstance(bounding_boxes, dict):
        raise TypeError(f"{fn}() expected `bounding_boxes` to be a dict with 'boxes' and 'labels', but received "
                        f"{type(bounding_boxes).__name__}.")
    if "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
        raise ValueError(f"{fn}() expected `bounding_boxes` to be a dict with 'boxes' and 'labels', but received "
                         f"a dict with keys {sorted(bounding_boxes)}.")
    if data_format == "channels_first":
        images = np.transpose(images, (0, 2, 3, 1))
    batch, height, width = images.shape[:3]
    boxes = convert_format(dict(bounding_boxes), bounding_box_format, "xyxy", height, width)["boxes"]
    boxes = np.asarray(ops.convert_to_numpy(boxes))
    labels = np.asarray(ops.convert_to_numpy(bounding_boxes["labels"]))
    confidences = bounding_boxes.get("confidences")
    if confidences is not None:
        confidences = np.asarray(ops.convert_to_numpy(confidences))
    if boxes.shape[:1] != (batch,) or boxes.ndim != 3 or labels.shape != boxes.shape[:2]:
        raise ValueError(f"{fn}() expected boxes of shape (batch, num_boxes, 4) and labels of shape (batch, "
                         f"num_boxes) with batch={batch} (the images' batch), but received boxes.shape="
                         f"{boxes.shape} and labels.shape={labels.shape}.")
    images = to_uint8_images(images).copy()
    paint = _channel_color(color, images.shape[-1])
    for i in range(batch):
        for j in range(boxes.shape[1]):
            x1, y1, x2, y2 = (int(v) for v in boxes[i, j].astype("int32"))
            label = int(labels[i, j].astype("int32"))
            if label == -1:
                continue
            _draw_rectangle(images[i], x1, y1, x2, y2, paint, line_thickness)
            if label in class_mapping:
                text = str(class_mapping[label])
                if confidences is not None:
                    text = f"{text} | {confidences[i][j]:.2f}"
                origin = _text_origin(x1, y1, font_scale, text_thickness)
                _draw_text(images[i], text, origin, font_scale, text_thickness, paint)
    if data_format == "channels_first":
        images = np.transpose(images, (0, 3, 1, 2))
    return images
