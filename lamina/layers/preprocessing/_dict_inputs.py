"""Keras's dict inputs of the image layers: images with their bounding boxes, segmentation masks and labels.

An image layer called on ``{"images": ..., "bounding_boxes": {"boxes": ..., "labels": ...}, "segmentation_masks":
..., "labels": ...}`` (every entry but ``"images"`` optional) returns a dict with the same keys, every entry
transformed by the same random draw as the images. ``call_dict`` does the bookkeeping once for every layer:

* it checks the entries and brings them to one internal form, the *extras*: ``segmentation_masks`` as a
  channels-last float batch, ``boxes`` as a ``(batch, num_boxes, 4)`` float32 batch in ``xyxy`` pixels (converted
  from the layer's ``bounding_box_format``), ``box_labels`` (``(batch, num_boxes)``) and the sample ``labels``;
* a layer that moves pixels (it has ``_augment_dict(images, extras, training)``) transforms the channels-last
  image batch and returns new extras, usually through ``move``: masks go through the same warp with nearest
  interpolation, boxes through the same geometry, then are clipped to the output image, and a box left with no area
  gets the label ``-1`` (as Keras);
* any other image layer (colour, blur, ...) changes the images only: the other entries are returned as they came
  (boxes as a float32 tensor);
* the results go back to the caller's layout: ``data_format``, unbatched, and the ``bounding_box_format`` (relative
  formats relative to the *output* image size).

Boxes may be arrays, tensors or (possibly ragged) Python lists: a ragged batch is padded with ``[0, 0, 0, 0]`` boxes
of label ``-1``.
"""

import numpy as np

from lamina import ops
from lamina.layers.preprocessing import _utils as u
from lamina.utils.bounding_boxes import converters, geometry

EXTRA_KEYS = ("segmentation_masks", "boxes", "box_labels", "labels")


def check_box_format(layer, fmt):
    """``bounding_box_format`` as given (None allowed), or a ValueError naming the layer."""
    if fmt is None:
        return None
    if not isinstance(fmt, str) or fmt.lower() not in converters.SUPPORTED_FORMATS:
        raise ValueError(f"{u.who(layer)}: unknown bounding_box_format={fmt!r}. Expected one of "
                         f"{', '.join(converters.SUPPORTED_FORMATS)}, or None when no bounding boxes are passed.")
    return fmt


def _box_rows(layer, boxes, where):
    b = np.asarray(boxes, "float32")
    if b.size == 0:
        b = b.reshape(0, 4)
    if b.ndim != 2 or b.shape[-1] != 4:
        raise ValueError(f"{u.who(layer)} expected {where} to be a list of boxes of 4 numbers each, but received "
                         f"an entry of shape {b.shape}.")
    return b


def from_lists(layer, boxes, labels, batched):
    """Nested Python lists of boxes (and labels, or None) as NumPy arrays; a ragged batch is padded with
    ``[0, 0, 0, 0]`` boxes of label -1."""
    if not batched:
        return _box_rows(layer, boxes, "bounding_boxes['boxes']"), None if labels is None else np.asarray(labels)
    rows = [_box_rows(layer, b, f"bounding_boxes['boxes'][{i}]") for i, b in enumerate(boxes)]
    count = max([len(b) for b in rows], default=0)
    out = np.zeros((len(rows), count, 4), "float32")
    for i, b in enumerate(rows):
        out[i, :len(b)] = b
    if labels is None:
        return out, None
    if len(labels) != len(rows):
        raise ValueError(f"{u.who(layer)} expected one list of labels per list of boxes, but received "
                         f"{len(labels)} lists of labels for {len(rows)} lists of boxes.")
    flat = [np.asarray(lab).reshape(-1) for lab in labels]
    dtype = np.concatenate(flat).dtype if any(f.size for f in flat) else np.dtype("int32")
    lab = np.full((len(rows), count), -1, "int32" if dtype.kind in "iub" else dtype)
    for i, (b, f) in enumerate(zip(rows, flat)):
        if f.size != len(b):
            raise ValueError(f"{u.who(layer)} expected one label per box, but image {i} has {len(b)} boxes and "
                             f"{f.size} labels.")
        lab[i, :len(b)] = f
    return out, lab


def standardize_boxes(layer, entry, batched):
    """``data["bounding_boxes"]`` -> ``(boxes, labels)``: batched float32 boxes ``(batch, n, 4)`` and labels
    ``(batch, n, ...)`` (or None), as tensors; checks every shape."""
    if not isinstance(entry, dict) or "boxes" not in entry:
        got = f"a dict with keys {sorted(entry)}" if isinstance(entry, dict) else f"{type(entry).__name__}"
        raise ValueError(f"{u.who(layer)} expected data['bounding_boxes'] to be a dict with 'boxes' (and 'labels'), "
                         f"but received {got}.")
    boxes, labels = entry["boxes"], entry.get("labels")
    if isinstance(boxes, (list, tuple)):
        listed = labels if isinstance(labels, (list, tuple)) else None
        boxes, listed = from_lists(layer, boxes, listed, batched)
        labels = labels if listed is None else listed
    boxes = ops.cast(ops.convert_to_tensor(boxes), "float32")
    shape, rank = tuple(boxes.shape), 3 if batched else 2
    if len(shape) == 0 or shape[-1] != 4:
        raise ValueError(f"{u.who(layer)} expected bounding_boxes['boxes'] with a last dimension of 4 (one box per "
                         f"row), but received shape {shape}.")
    if len(shape) != rank:
        expected = "(batch, num_boxes, 4) for a batch of images" if batched else "(num_boxes, 4) for a single image"
        raise ValueError(f"{u.who(layer)} expected bounding_boxes['boxes'] of shape {expected}, but received shape "
                         f"{shape}.")
    if labels is not None:
        labels = ops.convert_to_tensor(labels)
        lshape = tuple(labels.shape)
        if tuple(lshape[:rank - 1]) != shape[:-1] or len(lshape) not in (rank - 1, rank):
            raise ValueError(f"{u.who(layer)} expected bounding_boxes['labels'] of shape {shape[:-1]} (one label "
                             f"per box), but received shape {lshape} for boxes of shape {shape}.")
    if not batched:
        boxes = ops.expand_dims(boxes, 0)
        labels = None if labels is None else ops.expand_dims(labels, 0)
    return boxes, labels


def clip_boxes(boxes, labels, height, width):
    """Clip ``xyxy`` boxes to the image; a box left without area gets the label -1."""
    marks = labels is not None and len(labels.shape) == len(boxes.shape) - 1
    clipped = geometry.clip_to_image_size({"boxes": boxes, **({"labels": labels} if marks else {})},
                                          height=height, width=width)
    return clipped["boxes"], clipped.get("labels", labels)


def move(extras, height, width, masks=None, boxes=None, labels=None, clip=True):
    """Apply one draw to the extras: ``masks(masks)``, ``boxes(boxes, box_labels) -> (boxes, box_labels)`` (then
    clipped to ``height`` x ``width`` when ``clip``), ``labels(labels)``; a None function leaves its entry."""
    out = dict(extras)
    if masks is not None and out.get("segmentation_masks") is not None:
        out["segmentation_masks"] = masks(out["segmentation_masks"])
    if boxes is not None and out.get("boxes") is not None:
        b, lab = boxes(out["boxes"], out.get("box_labels"))
        if clip:
            b, lab = clip_boxes(b, lab, height, width)
        out["boxes"], out["box_labels"] = b, lab
    if labels is not None and out.get("labels") is not None:
        out["labels"] = labels(out["labels"])
    return out


def per_image(values, rank=3):
    """``(batch,)`` values shaped ``(batch, 1, ..., 1)`` to broadcast against ``rank``-d batches."""
    return ops.reshape(values, (-1,) + (1,) * (rank - 1))


def _images_of(layer, data, symbolic=False):
    if "images" not in data:
        raise ValueError(f"{u.who(layer)} received a dict without an 'images' entry. Expected {{'images': ..., "
                         f"'bounding_boxes': {{'boxes': ..., 'labels': ...}}, 'segmentation_masks': ..., "
                         f"'labels': ...}} (all but 'images' optional), but received keys {sorted(data)}.")
    images = data["images"] if symbolic else ops.convert_to_tensor(data["images"])
    layer._check_rank(images.shape)
    return images


def _masks_of(layer, data, images):
    masks = data.get("segmentation_masks")
    if masks is None:
        return None
    masks = ops.convert_to_tensor(masks)
    h_axis, w_axis = layer._hw_axes(len(images.shape))
    if len(masks.shape) != len(images.shape) or (masks.shape[h_axis], masks.shape[w_axis]) != (
            images.shape[h_axis], images.shape[w_axis]):
        raise ValueError(f"{u.who(layer)} expected segmentation_masks with the rank and the height and width of the "
                         f"images {tuple(images.shape)}, but received shape {tuple(masks.shape)}.")
    return masks


def _tensor_call(layer, images, training):
    return layer.call(images, training=training) if layer._has_training_arg else layer.call(images)


def call_dict(layer, data, training=True):
    """Run ``layer`` on Keras's dict input ``data`` (see the module docstring); returns a new dict."""
    images = _images_of(layer, data)
    batched = len(images.shape) == 4
    entry = data.get("bounding_boxes")
    boxes, box_labels = standardize_boxes(layer, entry, batched) if entry is not None else (None, None)
    masks = _masks_of(layer, data, images)
    result = dict(data)
    if not hasattr(layer, "_augment_dict"):  # a layer of colours: the images change, nothing else
        result["images"] = _tensor_call(layer, images, training)
        if masks is not None:
            result["segmentation_masks"] = masks
        if boxes is not None:
            result["bounding_boxes"] = _boxes_out(entry, boxes, box_labels, batched)
        return result
    fmt = getattr(layer, "bounding_box_format", None)
    if boxes is not None and fmt is None:
        raise ValueError(f"{u.who(layer)} received an input with a 'bounding_boxes' entry but has no "
                         f"bounding_box_format. Pass one to the layer, e.g. bounding_box_format='xyxy'.")
    x, restore = layer._batch_last(images)
    height, width = x.shape[1], x.shape[2]
    extras = dict.fromkeys(EXTRA_KEYS)
    if masks is not None:
        extras["segmentation_masks"] = layer._batch_last(ops.cast(masks, layer.compute_dtype))[0]
    if boxes is not None:
        extras["boxes"] = converters.convert_format(boxes, fmt, "xyxy", height=height, width=width)
        extras["box_labels"] = box_labels
    if data.get("labels") is not None:
        extras["labels"] = ops.convert_to_tensor(data["labels"])
    extras["single"] = not batched
    out_x, out = layer._augment_dict(x, extras, training)
    result["images"] = restore(out_x)
    if masks is not None:
        result["segmentation_masks"] = restore(out["segmentation_masks"])
    if boxes is not None:
        if out["boxes"] is not extras["boxes"]:  # moved: back to the caller's format, for the output size
            boxes = converters.convert_format(out["boxes"], "xyxy", fmt, height=out_x.shape[1], width=out_x.shape[2])
            box_labels = out["box_labels"]
        result["bounding_boxes"] = _boxes_out(entry, boxes, box_labels, batched)
    if extras["labels"] is not None:
        result["labels"] = out["labels"]
    return result


def output_spec(layer, data):
    """The symbolic result of ``call_dict`` for a dict of KerasTensors (shapes and dtypes, as a real call)."""
    from lamina.backend.common.keras_tensor import KerasTensor

    images = _images_of(layer, data, symbolic=True)
    out_shape = tuple(layer.compute_output_shape(tuple(images.shape)))
    moves = hasattr(layer, "_augment_dict")
    result = dict(data)
    result["images"] = KerasTensor(out_shape, layer.compute_dtype)
    masks = data.get("segmentation_masks")
    if masks is not None:
        h_axis, w_axis = layer._hw_axes(len(out_shape))
        shape = list(masks.shape)
        shape[h_axis], shape[w_axis] = out_shape[h_axis], out_shape[w_axis]
        result["segmentation_masks"] = KerasTensor(tuple(shape), layer.compute_dtype if moves else masks.dtype)
    entry = data.get("bounding_boxes")
    if entry is not None:
        if not isinstance(entry, dict) or "boxes" not in entry:
            standardize_boxes(layer, entry, len(images.shape) == 4)  # raises the error of a real call
        grow = getattr(layer, "_BOXES_GROWTH", 1) if len(images.shape) == 4 else 1
        out = dict(entry)
        for key, dtype in (("boxes", "float32"), ("labels", None)):
            if entry.get(key) is not None:
                shape = list(entry[key].shape)
                axis = len(images.shape) - 3  # the boxes axis: 1 for a batch, 0 for one image
                shape[axis] = None if shape[axis] is None else shape[axis] * grow
                out[key] = KerasTensor(tuple(shape), dtype or entry[key].dtype)
        result["bounding_boxes"] = out
    return result


def _boxes_out(entry, boxes, labels, batched):
    out = dict(entry)
    out["boxes"] = boxes if batched else ops.squeeze(boxes, 0)
    if labels is not None:
        out["labels"] = labels if batched else ops.squeeze(labels, 0)
    return out


def unsupported_boxes(layer, why):
    """The error of a layer that cannot move boxes (a ValueError that is also a NotImplementedError, as Keras)."""
    return BoundingBoxesNotSupported(f"{u.who(layer)} cannot transform bounding boxes: {why} (Keras raises "
                             f"NotImplementedError too). Call it on a dict without 'bounding_boxes'.")


class BoundingBoxesNotSupported(ValueError, NotImplementedError):
    pass
