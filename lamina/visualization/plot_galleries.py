"""Matplotlib galleries: ``plot_image_gallery``, ``plot_bounding_box_gallery``, ``plot_segmentation_mask_gallery``.

matplotlib is imported only when a gallery is plotted. Like Keras's, these functions return None: the figure is
shown (``show``), saved (``path``), or, with ``show=False`` and no ``path``, left open as ``plt.gcf()``.
"""

import math

import numpy as np

from lamina import ops
from lamina.visualization.draw_bounding_boxes import check_data_format, check_images, draw_bounding_boxes
from lamina.visualization.draw_segmentation_masks import draw_segmentation_masks


def _pyplot(fn):
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(f"{fn}() needs matplotlib ({e}). Install it with `pip install matplotlib`.") from None
    return plt


def _to_range_255(images, value_range):
    """float32 images rescaled from ``value_range`` to [0, 255] (unchanged when the range already is (0, 255))."""
    low, high = value_range
    if low == 0 and high == 255:
        return images
    low, high = np.float32(low), np.float32(high)
    return (images.astype("float32") - low) / (high - low) * np.float32(255)


def _class_indices(fn, name, labels):
    if labels is None:
        return None
    labels = np.asarray(ops.convert_to_numpy(labels))
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"{fn}() expected `{name}` to be class indices, one per image (1D), but received shape "
                         f"{labels.shape}.")
    return labels


def _grid(batch, rows, cols):
    if rows is None and cols is None:
        rows = int(math.ceil(math.sqrt(batch)))
    if rows is None:
        rows = max(1, int(math.ceil(batch / cols)))
    if cols is None:
        cols = max(1, int(math.ceil(batch / rows)))
    return rows, cols


def plot_image_gallery(images, y_true=None, y_pred=None, label_map=None, rows=None, cols=None, value_range=(0, 255),
                       scale=2, path=None, show=None, transparent=True, dpi=60, legend_handles=None,
                       data_format=None):
    """Displays a grid of images, optionally titled with their true and predicted labels.

    Args:
        images: a batch of images ``(batch, height, width, channels)`` (or channels first); one channel is shown
            in gray.
        y_true: class indices of the images (1D); titles read "Label: <name>". Defaults to None.
        y_pred: predicted class indices (1D); titles read "Pred: <name>". Defaults to None.
        label_map: a dict from class index to name (required with ``y_true`` or ``y_pred``; unknown classes
            show as "Unknown").
        rows: the number of rows; defaults to ``ceil(sqrt(batch))`` (or what ``cols`` needs).
        cols: the number of columns; defaults to what holds the batch in ``rows`` rows.
        value_range: the range of the image values, e.g. ``(0, 255)`` (default) or ``(0, 1)``.
        scale: the size of each image in inches. Defaults to 2.
        path: where to save the figure; when given, the figure is saved and closed.
        show: whether to call ``plt.show()`` (then close the figure). Defaults to True when ``path`` is None.
        transparent: save with a transparent background. Defaults to True.
        dpi: the resolution of the saved figure. Defaults to 60.
        legend_handles: matplotlib artists (e.g. ``Patch``) for a figure legend. Defaults to None.
        data_format: ``"channels_last"`` or ``"channels_first"``; defaults to ``image_data_format()``.

    Raises:
        ValueError: if both ``path`` and ``show`` are set, if ``images`` is not 4D, or if labels come without a
            ``label_map``.
        ImportError: if matplotlib is not installed.

    Example:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from lamina.visualization import plot_image_gallery
    >>> plot_image_gallery(np.zeros((4, 8, 8, 3)), y_true=[0, 1, 1, 0], label_map={0: "cat", 1: "dog"}, show=False)
    >>> fig = plt.gcf()
    >>> len(fig.axes), fig.axes[1].get_title()
    (4, 'Label: dog')
    >>> plt.close(fig)
    """
    fn = "plot_image_gallery"
    plt = _pyplot(fn)
    if path is not None and show:
        raise ValueError(f"{fn}() either saves the figure to `path` or shows it, but received path={path!r} and "
                         f"show={show}.")
    if (y_true is not None or y_pred is not None) and label_map is None:
        raise ValueError(f"{fn}() needs a `label_map` (class index -> name) to title images with `y_true` or "
                         f"`y_pred`, but received label_map=None.")
    show = (path is None) if show is None else show
    data_format = check_data_format(fn, data_format)
    images = check_images(fn, images)
    if data_format == "channels_first":
        images = np.transpose(images, (0, 2, 3, 1))
    batch = images.shape[0]
    rows, cols = _grid(batch, rows, cols)
    images = images[:rows * cols]
    images = np.clip(_to_range_255(images, value_range), 0, 255).astype("uint8")
    y_true, y_pred = _class_indices(fn, "y_true", y_true), _class_indices(fn, "y_pred", y_pred)

    fig, axes = plt.subplots(nrows=rows, ncols=cols, figsize=(cols * scale, rows * scale), frameon=False,
                             layout="tight", squeeze=False, sharex="row", sharey="col")
    fig.subplots_adjust(wspace=0, hspace=0)
    if legend_handles is not None:
        fig.legend(handles=legend_handles, loc="lower center")
    for index, axis in enumerate(axes.reshape(-1)):
        axis.axis("off")
        if index >= len(images):
            continue
        image = images[index]
        if image.shape[-1] == 1:
            axis.imshow(image[..., 0], cmap="gray", vmin=0, vmax=255)
        else:
            axis.imshow(image)
        axis.margins(x=0, y=0)
        title = []
        if y_true is not None and index < len(y_true):
            title.append(f"Label: {label_map.get(y_true[index].item(), 'Unknown')}")
        if y_pred is not None and index < len(y_pred):
            title.append(f"Pred: {label_map.get(y_pred[index].item(), 'Unknown')}")
        if title:
            axis.set_title("  ".join(title), fontsize=8)
    if path is not None:
        plt.savefig(fname=path, pad_inches=0, bbox_inches="tight", transparent=transparent, dpi=dpi)
        plt.close()
    elif show:
        plt.show()
        plt.close()


def plot_bounding_box_gallery(images, bounding_box_format, y_true=None, y_pred=None, value_range=(0, 255),
                              true_color=(0, 188, 212), pred_color=(255, 235, 59), line_thickness=2, font_scale=1.0,
                              text_thickness=None, class_mapping=None, ground_truth_mapping=None,
                              prediction_mapping=None, legend=False, legend_handles=None, rows=None, cols=None,
                              data_format=None, **kwargs):
    """Displays a grid of images with their ground-truth and/or predicted boxes drawn.

    Args:
        images: a batch of images ``(batch, height, width, channels)`` (or channels first).
        bounding_box_format: the format of the boxes (see ``lamina.utils.bounding_boxes.convert_format``).
        y_true: ground-truth boxes, a dict as ``draw_bounding_boxes`` takes. Defaults to None.
        y_pred: predicted boxes, the same kind of dict. Defaults to None.
        value_range: the range of the image values. Defaults to ``(0, 255)``.
        true_color: the RGB color of ground-truth boxes. Defaults to ``(0, 188, 212)``.
        pred_color: the RGB color of predicted boxes. Defaults to ``(255, 235, 59)``.
        line_thickness: the thickness of box outlines. Defaults to 2.
        font_scale: the size of labels. Defaults to 1.0.
        text_thickness: the thickness of labels; defaults to ``line_thickness``.
        class_mapping: class index -> name, for both kinds of boxes. Defaults to None.
        ground_truth_mapping: class index -> name for ``y_true`` (overrides ``class_mapping``).
        prediction_mapping: class index -> name for ``y_pred`` (overrides ``class_mapping``).
        legend: add a "Ground Truth" / "Prediction" legend. Defaults to False.
        legend_handles: matplotlib artists for a custom legend (not together with ``legend``).
        rows: the number of rows of the grid.
        cols: the number of columns of the grid.
        data_format: ``"channels_last"`` or ``"channels_first"``; defaults to ``image_data_format()``.
        **kwargs: passed on to ``plot_image_gallery`` (``path``, ``show``, ``scale``, ``dpi``, ...).

    Raises:
        ValueError: if ``images`` is not 4D, or both ``legend`` and ``legend_handles`` are given.
        ImportError: if matplotlib is not installed.

    Example:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from lamina.visualization import plot_bounding_box_gallery
    >>> boxes = {"boxes": np.array([[[1, 1, 6, 6]], [[0, 0, 3, 3]]]), "labels": np.array([[0], [0]])}
    >>> plot_bounding_box_gallery(np.zeros((2, 8, 8, 3)), "xyxy", y_true=boxes, show=False)
    >>> len(plt.gcf().axes)
    2
    >>> plt.close("all")
    """
    fn = "plot_bounding_box_gallery"
    _pyplot(fn)
    from matplotlib import patches

    ground_truth_mapping = ground_truth_mapping or class_mapping
    prediction_mapping = prediction_mapping or class_mapping
    if legend and legend_handles:
        raise ValueError(f"{fn}() takes `legend=True` (a default legend) or `legend_handles` (your own), not both.")
    data_format = check_data_format(fn, data_format)
    images = check_images(fn, images)
    if data_format == "channels_first":
        images = np.transpose(images, (0, 2, 3, 1))
    if tuple(value_range) != (0, 255):
        images = np.clip(_to_range_255(images, value_range), 0, 255).astype("uint8")
    draw = dict(bounding_box_format=bounding_box_format, line_thickness=line_thickness,
                text_thickness=text_thickness, font_scale=font_scale, data_format="channels_last")
    if y_true is not None:
        images = draw_bounding_boxes(images, y_true, color=true_color, class_mapping=ground_truth_mapping, **draw)
    if y_pred is not None:
        images = draw_bounding_boxes(images, y_pred, color=pred_color, class_mapping=prediction_mapping, **draw)
    if legend:
        legend_handles = [patches.Patch(color=np.array(true_color) / 255.0, label="Ground Truth"),
                          patches.Patch(color=np.array(pred_color) / 255.0, label="Prediction")]
    return plot_image_gallery(images, value_range=(0, 255), legend_handles=legend_handles, rows=rows, cols=cols,
                              data_format="channels_last", **kwargs)


def plot_segmentation_mask_gallery(images, num_classes, value_range=(0, 255), y_true=None, y_pred=None,
                                   color_mapping=None, blend=True, alpha=0.8, ignore_index=-1, data_format=None,
                                   **kwargs):
    """Displays each image in a row, followed by its ground-truth and/or predicted masks drawn over it.

    Args:
        images: a batch of images ``(batch, height, width, channels)`` (or channels first).
        num_classes: the number of classes (class ``k`` in ``[0, num_classes)`` is painted).
        value_range: the range of the image values. Defaults to ``(0, 255)``.
        y_true: ground-truth masks ``(batch, height, width)`` or ``(batch, height, width, 1)``. Defaults to None.
        y_pred: predicted masks, the same shape. Defaults to None.
        color_mapping: class index -> RGB color; defaults to the palette of ``draw_segmentation_masks``.
        blend: blend masks with the image. Defaults to True.
        alpha: the opacity of the masks. Defaults to 0.8.
        ignore_index: the class value never drawn. Defaults to -1.
        data_format: ``"channels_last"`` or ``"channels_first"``; defaults to ``image_data_format()``.
        **kwargs: passed on to ``plot_image_gallery`` (``path``, ``show``, ``scale``, ``dpi``, ...).

    Raises:
        ValueError: if ``images`` is not 4D or the masks do not match them.
        ImportError: if matplotlib is not installed.

    Example:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from lamina.visualization import plot_segmentation_mask_gallery
    >>> masks = np.ones((2, 4, 4, 1), "int32")
    >>> plot_segmentation_mask_gallery(np.zeros((2, 4, 4, 3)), 2, y_true=masks, y_pred=masks, show=False)
    >>> len(plt.gcf().axes)
    6
    >>> plt.close("all")
    """
    fn = "plot_segmentation_mask_gallery"
    _pyplot(fn)
    data_format = check_data_format(fn, data_format)
    images = check_images(fn, images)
    if data_format == "channels_first":
        images = np.transpose(images, (0, 2, 3, 1))
    if tuple(value_range) != (0, 255):
        images = np.clip(_to_range_255(images, value_range), 0, 255).astype("uint8")
    draw = dict(num_classes=num_classes, color_mapping=color_mapping, alpha=alpha, ignore_index=ignore_index,
                blend=blend, data_format="channels_last")
    columns = [images]
    for masks in (y_true, y_pred):
        if masks is not None:
            masks = np.asarray(ops.convert_to_numpy(masks))
            if data_format == "channels_first" and masks.ndim == 4:
                masks = np.transpose(masks, (0, 2, 3, 1))
            columns.append(draw_segmentation_masks(images, masks.astype("int32"), **draw))
    gallery = np.stack(columns, axis=1).reshape((-1,) + images.shape[1:])
    return plot_image_gallery(gallery, value_range=(0, 255), rows=images.shape[0], cols=len(columns),
                              data_format="channels_last", **kwargs)
