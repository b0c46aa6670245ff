"""``draw_segmentation_masks``: class masks painted over a batch of images, in NumPy."""

import numpy as np

from lamina import ops
from lamina.visualization.draw_bounding_boxes import check_data_format, check_images


def default_palette(num_classes):
    """The colors Keras gives classes ``0 .. num_classes - 1`` when no ``color_mapping`` is passed."""
    steps = np.array([2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1])
    return [((i * steps) % 255).tolist() for i in range(num_classes)]


def _as_masks(fn, masks, images_shape, data_format):
    if data_format == "channels_first" and masks.ndim == 4:
        masks = np.transpose(masks, (0, 2, 3, 1))
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if masks.shape != tuple(images_shape[:3]):
        raise ValueError(f"{fn}() expected segmentation masks of shape (batch, height, width) or (batch, height, "
                         f"width, 1) = {tuple(images_shape[:3])} for images of shape {tuple(images_shape)}, but "
                         f"received segmentation_masks.shape={masks.shape}.")
    return masks


def _fit_color(color, channels):
    color = [float(c) for c in color]
    return np.array((color + [0.0] * channels)[:channels], "float32")


def draw_segmentation_masks(images, segmentation_masks, num_classes=None, color_mapping=None, alpha=0.8, blend=True,
                            ignore_index=-1, data_format=None):
    """Draws segmentation masks over a batch of images.

    Pixels of class ``k`` (for ``0 <= k < num_classes``) take the color of class ``k``; with ``blend`` the result
    is ``image * (1 - alpha) + color * alpha`` there, cast to uint8. Pixels equal to ``ignore_index`` (and classes
    outside ``[0, num_classes)``) keep the image.

    Args:
        images: a batch of images ``(batch, height, width, channels)`` (or channels first).
        segmentation_masks: integer class masks ``(batch, height, width)`` or ``(batch, height, width, 1)``.
        num_classes: the number of classes; defaults to the largest class in the masks plus one.
        color_mapping: a dict from class index to an RGB color. Classes missing from it are not painted. Defaults
            to a fixed palette (class 0 is black).
        alpha: the opacity of the masks, in ``[0, 1]``. Defaults to 0.8.
        blend: blend the colors with the image (True, the default; uint8 result) or return the painted image in
            float32 without blending.
        ignore_index: the class value never drawn. Defaults to -1.
        data_format: ``"channels_last"`` or ``"channels_first"``; defaults to ``image_data_format()``.

    Returns:
        A NumPy array of the images with masks drawn, in the layout of ``images``.

    Raises:
        ValueError: if ``images`` is not 4D or the masks do not match them.
        TypeError: if the masks are not of an integer dtype.

    Example:
    >>> import numpy as np
    >>> from lamina.visualization import draw_segmentation_masks
    >>> images = np.full((1, 1, 2, 3), 100, "uint8")
    >>> masks = np.array([[[1, 0]]])
    >>> draw_segmentation_masks(images, masks, color_mapping={1: (255, 0, 0)}, alpha=0.5)[0, 0].tolist()
    [[177, 50, 50], [100, 100, 100]]
    """
    fn = "draw_segmentation_masks"
    data_format = check_data_format(fn, data_format)
    images = check_images(fn, images)
    if data_format == "channels_first":
        images = np.transpose(images, (0, 2, 3, 1))
    masks = np.asarray(ops.convert_to_numpy(segmentation_masks))
    if masks.dtype.kind not in "iu":
        raise TypeError(f"{fn}() expected `segmentation_masks` of an integer dtype (class indices), but received "
                        f"dtype {masks.dtype}.")
    masks = _as_masks(fn, masks, images.shape, data_format)
    if num_classes is None:
        num_classes = int(masks.max()) + 1 if masks.size else 0
    if color_mapping is None:
        colors = dict(enumerate(default_palette(num_classes)))
    else:
        colors = {k: color_mapping[k] for k in range(num_classes) if k in color_mapping}
    images = images.astype("float32")
    valid = masks != ignore_index
    painted = images.copy()
    for k, color in colors.items():
        painted[(masks == k) & valid] = _fit_color(color, images.shape[-1])
    if blend:
        mixed = images * (1 - alpha) + painted * alpha
        out = np.where(valid[..., None], mixed, images)
        out = np.clip(out, 0, 255).astype("uint8")
    else:
        out = painted
    if data_format == "channels_first":
        out = np.transpose(out, (0, 3, 1, 2))
    return out
