"""Deterministic image preprocessing: ``Rescaling``, ``Resizing``, ``CenterCrop``."""

import numpy as np

from lamina import backend, ops
from lamina.config import standardize_data_format
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import _dict_inputs as dicts
from lamina.layers.preprocessing import _image_ops as img
from lamina.layers.preprocessing import _utils as u
from lamina.utils import bounding_boxes


class ImageLayer(Layer):
    """Base of the image layers: batched ``(b, h, w, c)`` or single ``(h, w, c)`` images in either
    ``data_format``; subclasses implement ``transform(images, training)`` on channels-last float batches.

    Every image layer also takes Keras's dict input ``{"images": ..., "bounding_boxes": {"boxes": ...,
    "labels": ...}, "segmentation_masks": ..., "labels": ...}`` (see ``_dict_inputs``): a layer that moves pixels
    defines ``_augment_dict(images, extras, training)``; the others change the images only. ``bounding_box_format``
    (None by default, as Keras) is the format of the boxes, needed by the layers that move them.
    """

    def __init__(self, data_format=None, bounding_box_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.bounding_box_format = dicts.check_box_format(self, bounding_box_format)

    def _check_rank(self, shape):
        if len(shape) not in (3, 4):
            raise ValueError(f"{u.who(self)} expected images of rank 3 (height, width, channels) or 4 (batch, "
                             f"height, width, channels), but received shape {tuple(shape)}.")

    def _hw_axes(self, rank):
        return (rank - 3, rank - 2) if self.data_format == "channels_last" else (rank - 2, rank - 1)

    def _batch_last(self, images):
        """``images`` as a channels-last float batch, and the function that brings a result back to the caller's
        layout (rank and ``data_format``)."""
        self._check_rank(images.shape)
        if not backend.is_float_dtype(backend.dtype_name(images)):
            images = ops.cast(images, self.compute_dtype)
        single = len(images.shape) == 3
        if single:
            images = ops.expand_dims(images, 0)
        if self.data_format == "channels_first":
            images = ops.transpose(images, (0, 2, 3, 1))

        def restore(out):
            if self.data_format == "channels_first":
                out = ops.transpose(out, (0, 3, 1, 2))
            return ops.squeeze(out, 0) if single else out

        return images, restore

    def _apply(self, images, fn):
        images, restore = self._batch_last(images)
        return restore(fn(images))

    def _call_dict(self, data, training=True):
        return dicts.call_dict(self, data, training)

    def compute_output_spec(self, *args, **kwargs):
        inputs = args[0] if args else kwargs.get("inputs")
        if isinstance(inputs, dict):
            return dicts.output_spec(self, inputs)
        return super().compute_output_spec(*args, **kwargs)

    def _with_hw(self, input_shape, height, width):
        shape = list(input_shape)
        self._check_rank(shape)
        h_axis, w_axis = self._hw_axes(len(shape))
        shape[h_axis], shape[w_axis] = height, width
        return tuple(shape)

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config


class Rescaling(Layer):
    """Multiply inputs by ``scale`` and add ``offset`` (e.g. ``scale=1/255`` maps ``[0, 255]`` to ``[0, 1]``).

    Called on Keras's dict of images and their annotations (``{"images": ..., "bounding_boxes": ...,
    "segmentation_masks": ..., "labels": ...}``), it rescales ``"images"`` and returns the other entries as they
    are (Keras itself accepts only tensors here).

    Args:
        scale: a float, or a list of floats (one per channel, broadcast on the last axis).
        offset: a float or a list of floats added after scaling.

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.Rescaling(scale=1 / 127.5, offset=-1)
    >>> lamina.ops.convert_to_numpy(layer(np.array([0.0, 127.5, 255.0]))).tolist()
    [-1.0, 0.0, 1.0]
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("scale", scale), ("offset", offset)):
            arr = np.asarray(u.to_numpy(value))
            if arr.dtype.kind not in "iuf":
                raise ValueError(f"{u.who(self)}: {arg} must be a number or a list of numbers, but received "
                                 f"{arg}={value!r}.")
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        if isinstance(inputs, dict):
            if "images" not in inputs:
                raise ValueError(f"{u.who(self)} received a dict without an 'images' entry (keys "
                                 f"{sorted(inputs)}). Pass a tensor, or a dict {{'images': ..., ...}}.")
            return {**inputs, "images": self.call(inputs["images"])}
        dtype = self.compute_dtype
        x = ops.cast(inputs, dtype)
        scale = np.asarray(u.to_numpy(self.scale), dtype=dtype)
        offset = np.asarray(u.to_numpy(self.offset), dtype=dtype)
        return x * ops.convert_to_tensor(scale) + ops.convert_to_tensor(offset)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": u.listify(self.scale), "offset": u.listify(self.offset)}


class Resizing(ImageLayer):
    """Resize images to ``(height, width)``.

    Pixel centers follow the half-pixel convention of Keras/TF/JAX; ``"bicubic"`` is Keys' cubic with
    ``a = -0.5``. Samples that would fall outside the image are dropped and the remaining weights
    renormalized.

    Args:
        height, width: the output size.
        interpolation: ``"bilinear"`` (default), ``"nearest"``, ``"bicubic"``, ``"area"``, ``"lanczos3"``
            or ``"lanczos5"``.
        crop_to_aspect_ratio: first center-crop the largest window of the target aspect ratio.
        pad_to_aspect_ratio: first pad (centered, with ``fill_value``) to the target aspect ratio.
        fill_mode: with ``pad_to_aspect_ratio``, only ``"constant"``.
        fill_value: the padding value.
        antialias: widen the kernel when downsampling (smoother; not for ``"nearest"``/``"area"``).
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: ``image_data_format()``).
        bounding_box_format: the format of the ``bounding_boxes`` of a dict input (e.g. ``"xyxy"``); None (default)
            when there are none.

    Call arguments:
        inputs: images, or Keras's dict ``{"images": ..., "bounding_boxes": {"boxes": ..., "labels": ...},
            "segmentation_masks": ..., "labels": ...}``. Boxes are scaled (and shifted by the crop or pad, with
            Keras's offsets ``floor((new - target) / 2)``), clipped to the output, and a box left empty gets the
            label -1; all-zero or all-``-1`` (padding) boxes stay ``[0, 0, 0, 0]``. Masks are resized with
            ``"nearest"``.

    Example:
    >>> import numpy as np, lamina
    >>> out = lamina.layers.Resizing(2, 2)(np.ones((1, 4, 4, 3)))
    >>> lamina.ops.shape(out)
    (1, 2, 2, 3)
    >>> data = {"images": np.ones((4, 8, 3)), "bounding_boxes": {"boxes": [[2.0, 0.0, 6.0, 2.0]], "labels": [1]}}
    >>> out = lamina.layers.Resizing(2, 4, bounding_box_format="xyxy")(data)
    >>> lamina.ops.convert_to_numpy(out["bounding_boxes"]["boxes"]).tolist()
    [[1.0, 0.0, 3.0, 1.0]]
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, antialias=False,
                 data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = u.check_positive_int(self, "height", height)
        self.width = u.check_positive_int(self, "width", width)
        self.interpolation = u.check_choice(self, "interpolation", interpolation, img.INTERPOLATIONS)
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(f"{u.who(self)}: crop_to_aspect_ratio and pad_to_aspect_ratio cannot both be True.")
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = u.check_choice(self, "fill_mode", fill_mode, ("constant",))
        self.fill_value = fill_value
        self.antialias = bool(antialias)

    def call(self, inputs):
        if isinstance(inputs, dict):
            return self._call_dict(inputs)
        out = self._apply(inputs, lambda images: self._resize(images, self.interpolation))
        dtype = ops.dtype(inputs)
        if backend.is_int_dtype(dtype) and ops.dtype(out) != dtype:
            # as Keras: integer images come back in their own dtype, rounded and saturated (uint8 stays uint8)
            info = np.iinfo(dtype)
            out = ops.cast(ops.clip(ops.round(out), float(info.min), float(info.max)), dtype)
        return out

    def compute_output_spec(self, *args, **kwargs):
        spec = super().compute_output_spec(*args, **kwargs)
        inputs = args[0] if args else kwargs.get("inputs")
        if not isinstance(inputs, dict) and backend.is_int_dtype(inputs.dtype):  # integer images keep theirs
            return backend.KerasTensor(spec.shape, inputs.dtype)
        return spec

    def _resize(self, images, interpolation):
        if self.crop_to_aspect_ratio:
            images = img.crop_or_pad_to_aspect(images, self.height, self.width, "crop")
        elif self.pad_to_aspect_ratio:
            images = img.crop_or_pad_to_aspect(images, self.height, self.width, "pad", self.fill_value)
        return img.resize(images, self.height, self.width, interpolation, self.antialias)

    def _augment_dict(self, images, extras, training):
        in_h, in_w = images.shape[1], images.shape[2]

        def boxes(b, labels):
            if self.pad_to_aspect_ratio:  # Keras's arithmetic (its offsets are floored, in output pixels)
                sx = sy = min(self.height / in_h, self.width / in_w)
                dx, dy = (self.width - in_w * sx) // 2, (self.height - in_h * sy) // 2
            elif self.crop_to_aspect_ratio:
                wider = in_w / in_h > self.width / self.height
                new_w = self.height * in_w / in_h if wider else self.width
                new_h = self.height if wider else self.width * in_h / in_w
                sx, sy = new_w / in_w, new_h / in_h
                dx, dy = -((new_w - self.width) // 2), -((new_h - self.height) // 2)
            else:
                sx, sy, dx, dy = self.width / in_w, self.height / in_h, 0.0, 0.0
            scale = ops.convert_to_tensor(np.array([sx, sy, sx, sy], "float32"))
            moved = b * scale + ops.convert_to_tensor(np.array([dx, dy, dx, dy], "float32"))
            padding = ops.logical_or(ops.all(ops.equal(b, 0.0), axis=-1, keepdims=True),
                                     ops.all(ops.equal(b, -1.0), axis=-1, keepdims=True))
            return ops.where(padding, ops.zeros_like(moved), moved), labels

        return self._resize(images, self.interpolation), dicts.move(
            extras, self.height, self.width, masks=lambda m: self._resize(m, "nearest"), boxes=boxes)

    def compute_output_shape(self, input_shape):
        return self._with_hw(input_shape, self.height, self.width)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


def center_window(in_h, in_w, height, width):
    """The window ``(top, left, crop_h, crop_w)`` that ``center_crop`` keeps (then resized to the target)."""
    if in_h < height or in_w < width:
        return img.aspect_window(in_h, in_w, height, width, "crop")
    return (in_h - height) // 2, (in_w - width) // 2, height, width


def center_crop(images, height, width, interpolation="bilinear"):
    """Center-crop channels-last ``images`` to ``(height, width)``; smaller images are first resized
    (bilinear) so the largest window of the target aspect ratio fills the output."""
    top, left, crop_h, crop_w = center_window(images.shape[1], images.shape[2], height, width)
    images = images[:, top:top + crop_h, left:left + crop_w, :]
    return img.resize(images, height, width, interpolation)


def crop_boxes(boxes, window, height, width):
    """``xyxy`` boxes of an image -> of its ``window`` ``(top, left, crop_h, crop_w)`` resized to ``height`` x
    ``width`` (clipped to the window, as Keras)."""
    top, left, crop_h, crop_w = window
    boxes = bounding_boxes.crop(boxes, top=top, left=left, height=crop_h, width=crop_w)
    if (crop_h, crop_w) == (height, width):
        return boxes
    sx, sy = width / crop_w, height / crop_h
    return boxes * ops.convert_to_tensor(np.array([sx, sy, sx, sy], "float32"))


class CenterCrop(ImageLayer):
    """Crop the central ``(height, width)`` window of images.

    The window starts at ``((H - height) // 2, (W - width) // 2)``. An image smaller than the target is
    resized (keeping its aspect ratio by cropping first) to the target size, as Keras does.

    Args:
        height, width: the output size.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: ``image_data_format()``).
        bounding_box_format: the format of the ``bounding_boxes`` of a dict input (e.g. ``"xyxy"``); None (default)
            when there are none.

    Call arguments:
        inputs: images, or Keras's dict ``{"images": ..., "bounding_boxes": {"boxes": ..., "labels": ...},
            "segmentation_masks": ..., "labels": ...}``: boxes are moved into the window (and scaled when it is
            resized) and clipped to it; a box left empty gets the label -1. Masks are cropped (resized with
            ``"nearest"``).

    Example:
    >>> import numpy as np, lamina
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> lamina.ops.convert_to_numpy(lamina.layers.CenterCrop(2, 2)(x))[0, :, :, 0].tolist()
    [[5.0, 6.0], [9.0, 10.0]]
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = u.check_positive_int(self, "height", height)
        self.width = u.check_positive_int(self, "width", width)

    def call(self, inputs):
        if isinstance(inputs, dict):
            return self._call_dict(inputs)
        return self._apply(inputs, lambda images: center_crop(images, self.height, self.width))

    def _augment_dict(self, images, extras, training):
        window = center_window(images.shape[1], images.shape[2], self.height, self.width)
        return center_crop(images, self.height, self.width), dicts.move(
            extras, self.height, self.width, masks=lambda m: center_crop(m, self.height, self.width, "nearest"),
            boxes=lambda b, labels: (crop_boxes(b, window, self.height, self.width), labels))

    def compute_output_shape(self, input_shape):
        return self._with_hw(input_shape, self.height, self.width)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
