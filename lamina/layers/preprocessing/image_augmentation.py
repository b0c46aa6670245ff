"""Random image augmentation: ``RandomFlip``, ``RandomRotation``, ``RandomZoom``, ``RandomTranslation``,
``RandomCrop``, ``RandomContrast``, ``RandomBrightness``.

Each layer is active only when called with ``training=True`` (the default of a direct call, and what
``fit`` passes); at inference (``predict``, ``evaluate``, ``training=False``) it returns its input
(``RandomCrop`` center-crops instead, as Keras). Randomness comes from a ``lamina.random.SeedGenerator``
whose state is a variable, so it advances inside compiled JAX training steps and the same ``seed`` gives
the same augmentations on one backend.

Every layer also takes Keras's dict ``{"images": ..., "bounding_boxes": {"boxes": ..., "labels": ...},
"segmentation_masks": ..., "labels": ...}`` (see ``_dict_inputs``): the geometric layers move the masks (nearest
sampling) and the boxes (given in the layer's ``bounding_box_format``, None by default) with the same draw as the
images, clip the boxes to the output and give the label -1 to a box left empty; ``RandomContrast`` and
``RandomBrightness`` change the images only.
"""

import math

import numpy as np

from lamina import ops
from lamina import random as lrandom
from lamina.layers.core.simple import _next_seed
from lamina.layers.preprocessing import _dict_inputs as dicts
from lamina.layers.preprocessing import _image_ops as img
from lamina.layers.preprocessing import _utils as u
from lamina.layers.preprocessing.image_preprocessing import ImageLayer, crop_boxes
from lamina.utils import bounding_boxes


def _parse_factor(layer, factor, arg, lo_limit=None, hi_limit=None):
    """A float ``f`` means ``(-f, f)``; a pair means itself. Returns ``(lower, upper)``."""
    if isinstance(factor, (int, float, np.number)) and not isinstance(factor, bool):
        pair = (-abs(float(factor)), abs(float(factor)))
    elif isinstance(factor, (list, tuple)) and len(factor) == 2 and all(
            isinstance(f, (int, float, np.number)) and not isinstance(f, bool) for f in factor):
        pair = (float(factor[0]), float(factor[1]))
    else:
        raise ValueError(f"{u.who(layer)}: {arg} must be a float or a tuple of two floats (lower, upper), "
                         f"but received {arg}={factor!r}.")
    if pair[0] > pair[1]:
        raise ValueError(f"{u.who(layer)}: {arg} has lower bound {pair[0]} above its upper bound {pair[1]}.")
    if (lo_limit is not None and pair[0] < lo_limit) or (hi_limit is not None and pair[1] > hi_limit):
        raise ValueError(f"{u.who(layer)}: {arg} must lie in [{lo_limit}, {hi_limit}], but received "
                         f"{arg}={factor!r}.")
    return pair


def _check_value_range(layer, value_range):
    if not (isinstance(value_range, (list, tuple)) and len(value_range) == 2 and value_range[0] < value_range[1]):
        raise ValueError(f"{u.who(layer)}: value_range must be a pair (low, high) with low < high, but received "
                         f"value_range={value_range!r}.")
    return tuple(float(v) for v in value_range)


class RandomImageLayer(ImageLayer):
    """Base of the augmentation layers: a seeded generator and the training switch."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"{u.who(self)}: seed must be an int or None, but received seed={seed!r}.")
        self.seed = seed
        self.seed_generator = lrandom.SeedGenerator(seed if seed is not None else _next_seed())
        self.supports_masking = False

    def _uniform(self, shape, low, high, dtype):
        return lrandom.uniform(shape, low, high, dtype=dtype, seed=self.seed_generator)

    def call(self, inputs, training=True):
        if isinstance(inputs, dict):
            return self._call_dict(inputs, training)
        if not training:
            return self._apply(inputs, self.inference)
        return self._apply(inputs, self.augment)

    def inference(self, images):
        return images

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class RandomFlip(RandomImageLayer):
    """Flip each image horizontally and/or vertically with probability 1/2 (per image and direction).

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (default).
        seed: an int for reproducible flips.
        bounding_box_format: the format of the ``bounding_boxes`` of a dict input (e.g. ``"xyxy"``); None
            (default) when there are none.

    Call arguments:
        inputs: images, or Keras's dict ``{"images": ..., "bounding_boxes": {"boxes": ..., "labels": ...},
            "segmentation_masks": ..., "labels": ...}``: the boxes and masks of an image are flipped with it
            (``x1, x2 -> width - x2, width - x1``), boxes are clipped to the image and a box left empty gets the
            label -1.
        training: flip only when True (the default of a direct call).

    Example:
    >>> import numpy as np, lamina
    >>> x = np.arange(4.0).reshape(1, 2, 2, 1)
    >>> out = lamina.layers.RandomFlip("horizontal", seed=1)(x, training=False)
    >>> lamina.ops.convert_to_numpy(out).tolist() == x.tolist()
    True
    >>> layer = lamina.layers.RandomFlip("horizontal", bounding_box_format="xyxy", seed=1)
    >>> out = layer({"images": np.zeros((1, 4, 10, 3)), "bounding_boxes": {"boxes": [[[1.0, 0.0, 3.0, 2.0]]],
    ...                                                                      "labels": [[1]]}})
    >>> lamina.ops.convert_to_numpy(out["bounding_boxes"]["boxes"]).tolist() in ([[[7.0, 0.0, 9.0, 2.0]]],
    ...                                                                          [[[1.0, 0.0, 3.0, 2.0]]])
    True
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = u.check_choice(self, "mode", mode, ("horizontal", "vertical", "horizontal_and_vertical"))

    def _flips(self, batch):
        """Per image, whether it flips horizontally and vertically (booleans, ``(batch,)`` each)."""
        draws = self._uniform((batch, 2), 0.0, 1.0, "float32")
        horizontal = self.mode in ("horizontal", "horizontal_and_vertical")
        vertical = self.mode in ("vertical", "horizontal_and_vertical")
        return (ops.less(draws[:, 0], 0.5) if horizontal else None, ops.less(draws[:, 1], 0.5) if vertical else None)

    def _flip(self, images, flips):
        for axis, flip in zip((2, 1), flips):
            if flip is not None:
                images = ops.where(dicts.per_image(flip, 4), ops.flip(images, axis=axis), images)
        return images

    def augment(self, images):
        return self._flip(images, self._flips(images.shape[0]))

    def _augment_dict(self, images, extras, training):
        if not training:
            return images, extras
        batch, height, width, _ = images.shape
        flips = self._flips(batch)

        def boxes(b, labels):
            x1, y1, x2, y2 = (b[..., i] for i in range(4))
            for flip, size, (lo, hi) in ((flips[0], width, (0, 2)), (flips[1], height, (1, 3))):
                if flip is not None:
                    flip = dicts.per_image(flip, 2)
                    c = [x1, y1, x2, y2]
                    c[lo], c[hi] = ops.where(flip, size - c[hi], c[lo]), ops.where(flip, size - c[lo], c[hi])
                    x1, y1, x2, y2 = c
            return ops.stack([x1, y1, x2, y2], axis=-1), labels

        return self._flip(images, flips), dicts.move(
            extras, height, width, masks=lambda m: self._flip(m, flips), boxes=boxes)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class _AffineLayer(RandomImageLayer):
    """Shared arguments of the layers that resample through an affine map."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.fill_mode = u.check_choice(self, "fill_mode", fill_mode, img.FILL_MODES)
        self.interpolation = u.check_choice(self, "interpolation", interpolation, ("bilinear", "nearest"))
        self.fill_value = float(fill_value)

    def _warp(self, images, params, interpolation):
        height, width = images.shape[1], images.shape[2]
        transforms = self._matrix(params, height, width)
        return img.affine_transform(images, transforms, interpolation, self.fill_mode, self.fill_value)

    def augment(self, images):
        return self._warp(images, self._draw(images.shape[0], images.shape[1], images.shape[2]), self.interpolation)

    def _augment_dict(self, images, extras, training):
        if not training:
            return images, extras
        batch, height, width, _ = images.shape
        params = self._draw(batch, height, width)
        return self._warp(images, params, self.interpolation), dicts.move(
            extras, height, width, masks=lambda m: self._warp(m, params, "nearest"),
            boxes=lambda b, labels: (self._move_boxes(b, params, height, width), labels))

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}


class RandomRotation(_AffineLayer):
    """Rotate each image by a random angle (counter-clockwise for positive angles) about its center.

    Args:
        factor: a float ``f`` (angles in ``[-f, f] * 2pi``) or a pair ``(lo, hi)`` (``[lo, hi] * 2pi``).
        fill_mode: how to fill points outside the input: ``"reflect"`` (default), ``"wrap"``,
            ``"constant"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: an int for reproducible rotations.
        fill_value: the value of ``"constant"`` filling.
        bounding_box_format: the format of the ``bounding_boxes`` of a dict input (e.g. ``"xyxy"``); None
            (default) when there are none.

    Call arguments:
        inputs: images, or Keras's dict of ``"images"``, ``"bounding_boxes"``, ``"segmentation_masks"`` and
            ``"labels"``: masks are rotated with the image (nearest sampling); each box becomes the box around
            its rotated corners, then clipped (a box left empty gets the label -1).
        training: augment only when True (the default of a direct call).

    Example:
    >>> import numpy as np, lamina
    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> out = lamina.layers.RandomRotation((0.25, 0.25))(x)  # exactly 90 degrees
    >>> np.allclose(lamina.ops.convert_to_numpy(out)[0, :, :, 0], np.rot90(x[0, :, :, 0]), atol=1e-5)
    True
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor
        self._range = _parse_factor(self, factor, "factor")

    def _draw(self, batch, height, width):
        return self._uniform((batch,), self._range[0] * 2 * math.pi, self._range[1] * 2 * math.pi, "float32")

    def _move_boxes(self, boxes, angle, height, width):
        zeros, ones = ops.zeros_like(angle), ops.ones_like(angle)
        return bounding_boxes.affine_transform(boxes, angle * (180.0 / math.pi), zeros, zeros, ones, zeros, zeros,
                                               height, width)

    def _matrix(self, angle, height, width):
        cos, sin = ops.cos(angle), ops.sin(angle)
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        return ops.stack([cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy], axis=1)

    def get_config(self):
        return {**super().get_config(), "factor": u.listify(self.factor)}


class RandomZoom(_AffineLayer):
    """Zoom each image in or out by a random amount about its center.

    Args:
        height_factor: a float ``f`` (range ``[-f, f]``) or a pair ``(lo, hi)``. The image height is scaled
            by ``1 / (1 + factor)``: positive values zoom out (e.g. ``(0.2, 0.3)``), negative values zoom in.
        width_factor: likewise for the width; None (default) zooms both axes by the same amount.
        fill_mode, interpolation, seed, fill_value: as ``RandomRotation``.
        bounding_box_format: the format of the ``bounding_boxes`` of a dict input (e.g. ``"xyxy"``); None
            (default) when there are none.

    Call arguments:
        inputs: images, or Keras's dict of ``"images"``, ``"bounding_boxes"``, ``"segmentation_masks"`` and
            ``"labels"``: masks are zoomed with the image (nearest sampling); boxes are cropped to the region
            that fills the output and scaled, then clipped (a box left empty gets the label -1).
        training: augment only when True (the default of a direct call).

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.RandomZoom(0.2, seed=3)
    >>> lamina.ops.shape(layer(np.ones((2, 8, 8, 3))))
    (2, 8, 8, 3)
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._h_range = _parse_factor(self, height_factor, "height_factor", lo_limit=-1.0)
        self._w_range = _parse_factor(self, width_factor, "width_factor", lo_limit=-1.0) \
            if width_factor is not None else None

    def _draw(self, batch, height, width):
        zy = 1.0 + self._uniform((batch,), self._h_range[0], self._h_range[1], "float32")
        zx = zy if self._w_range is None else 1.0 + self._uniform((batch,), *self._w_range, "float32")
        return zx, zy

    def _move_boxes(self, boxes, zooms, height, width):
        """The region ``[x0, x0 + zx W] x [y0, y0 + zy H]`` of the input fills the output: boxes are cropped to
        it and scaled by ``1 / zoom`` (Keras's arithmetic)."""
        zx, zy = (dicts.per_image(z) for z in zooms)
        left, top = (width - 1) / 2.0 * (1.0 - zx), (height - 1) / 2.0 * (1.0 - zy)
        boxes = bounding_boxes.crop(boxes, top=top, left=left, height=zy * height, width=zx * width)
        return boxes / ops.concatenate([zx, zy, zx, zy], axis=-1)

    def _matrix(self, zooms, height, width):
        zx, zy = zooms
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        zeros = ops.zeros_like(zx)
        return ops.stack([zx, zeros, cx * (1 - zx), zeros, zy, cy * (1 - zy)], axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": u.listify(self.height_factor),
                "width_factor": u.listify(self.width_factor)}


class RandomTranslation(_AffineLayer):
    """Shift each image by a random fraction of its height and width.

    Args:
        height_factor: a float ``f`` (shift in ``[-f, f] * height``) or a pair ``(lo, hi)``; positive values
            move the image down.
        width_factor: likewise for the width; positive values move the image right.
        fill_mode, interpolation, seed, fill_value: as ``RandomRotation``.
        bounding_box_format: the format of the ``bounding_boxes`` of a dict input (e.g. ``"xyxy"``); None
            (default) when there are none.

    Call arguments:
        inputs: images, or Keras's dict of ``"images"``, ``"bounding_boxes"``, ``"segmentation_masks"`` and
            ``"labels"``: masks are shifted with the image (nearest sampling); boxes are shifted, then
            clipped (a box left empty gets the label -1).
        training: augment only when True (the default of a direct call).

    Example:
    >>> import numpy as np, lamina
    >>> x = np.arange(4.0).reshape(1, 1, 4, 1)
    >>> out = lamina.layers.RandomTranslation(0.0, (0.25, 0.25), fill_mode="constant")(x)
    >>> lamina.ops.convert_to_numpy(out)[0, 0, :, 0].tolist()
    [0.0, 0.0, 1.0, 2.0]
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._h_range = _parse_factor(self, height_factor, "height_factor", -1.0, 1.0)
        self._w_range = _parse_factor(self, width_factor, "width_factor", -1.0, 1.0)

    def _draw(self, batch, height, width):
        draws = self._uniform((batch, 2), 0.0, 1.0, "float32")
        dy = (self._h_range[0] + draws[:, 0] * (self._h_range[1] - self._h_range[0])) * height
        dx = (self._w_range[0] + draws[:, 1] * (self._w_range[1] - self._w_range[0])) * width
        return dx, dy

    def _move_boxes(self, boxes, shifts, height, width):
        dx, dy = shifts
        return bounding_boxes.pad(boxes, top=dicts.per_image(dy), left=dicts.per_image(dx))

    def _matrix(self, shifts, height, width):
        dx, dy = shifts
        ones, zeros = ops.ones_like(dx), ops.zeros_like(dx)
        return ops.stack([ones, zeros, -dx, zeros, ones, -dy], axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": u.listify(self.height_factor),
                "width_factor": u.listify(self.width_factor)}


class RandomCrop(RandomImageLayer):
    """Crop a random ``(height, width)`` window (one offset per batch) in training.

    At inference, and in training when an image is smaller than the target, the image is instead
    center-cropped to the target aspect ratio and resized (bilinear) to ``(height, width)``, as Keras.

    Args:
        height, width: the output size.
        seed: an int for reproducible crops.
        bounding_box_format: the format of the ``bounding_boxes`` of a dict input (e.g. ``"xyxy"``); None
            (default) when there are none.

    Call arguments:
        inputs: images, or Keras's dict of ``"images"``, ``"bounding_boxes"``, ``"segmentation_masks"`` and
            ``"labels"``: masks are cropped (resized with nearest sampling) with the image; boxes are moved into
            the window (scaled when it is resized) and clipped to it, a box left empty gets the label -1. (Keras
            3.15 shifts boxes by swapped offsets and does not clip them.)
        training: crop at random when True (the default of a direct call), else center-crop.

    Example:
    >>> import numpy as np, lamina
    >>> lamina.ops.shape(lamina.layers.RandomCrop(4, 5, seed=0)(np.ones((2, 8, 8, 3))))
    (2, 4, 5, 3)
    """

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.height = u.check_positive_int(self, "height", height)
        self.width = u.check_positive_int(self, "width", width)

    def inference(self, images):
        _, in_h, in_w, _ = images.shape
        if (in_h, in_w) == (self.height, self.width):
            return images
        images = img.crop_or_pad_to_aspect(images, self.height, self.width, "crop")
        return img.resize(images, self.height, self.width, "bilinear")

    def _offsets(self, in_h, in_w):
        draws = self._uniform((2,), 0.0, 1.0, "float32")
        top = ops.cast(ops.floor(draws[0] * (in_h - self.height + 1)), "int64")
        left = ops.cast(ops.floor(draws[1] * (in_w - self.width + 1)), "int64")
        return top, left

    def _crop(self, images, top, left):
        _, in_h, in_w, _ = images.shape
        rows = ops.minimum(top + ops.arange(self.height, dtype="int64"), in_h - 1)
        cols = ops.minimum(left + ops.arange(self.width, dtype="int64"), in_w - 1)
        return ops.take(ops.take(images, rows, axis=1), cols, axis=2)

    def augment(self, images):
        _, in_h, in_w, _ = images.shape
        if in_h < self.height or in_w < self.width:
            return self.inference(images)
        return self._crop(images, *self._offsets(in_h, in_w))

    def _augment_dict(self, images, extras, training):
        _, in_h, in_w, _ = images.shape
        size = (self.height, self.width)
        if training and in_h >= self.height and in_w >= self.width:
            top, left = self._offsets(in_h, in_w)
            window = (ops.cast(top, "float32"), ops.cast(left, "float32")) + size
            return self._crop(images, top, left), dicts.move(
                extras, *size, masks=lambda m: self._crop(m, top, left),
                boxes=lambda b, labels: (crop_boxes(b, window, *size), labels))
        if (in_h, in_w) == size:
            return images, extras
        window = img.aspect_window(in_h, in_w, self.height, self.width, "crop")

        def center(x, interpolation):
            top, left, crop_h, crop_w = window
            return img.resize(x[:, top:top + crop_h, left:left + crop_w, :], self.height, self.width, interpolation)

        return center(images, "bilinear"), dicts.move(
            extras, *size, masks=lambda m: center(m, "nearest"),
            boxes=lambda b, labels: (crop_boxes(b, window, *size), labels))

    def compute_output_shape(self, input_shape):
        return self._with_hw(input_shape, self.height, self.width)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class RandomContrast(RandomImageLayer):
    """Scale each image's contrast by a random factor: ``(x - mean) * c + mean`` per channel, clipped.

    Args:
        factor: a float ``f`` (``c`` in ``[1 - f, 1 + f]``) or a pair ``(lo, hi)`` (``c`` in
            ``[1 - lo, 1 + hi]``); values in ``[0, 1]``.
        value_range: the range of the input values, used to clip the output (default ``(0, 255)``).
        seed: an int for reproducible draws.

    Example:
    >>> import numpy as np, lamina
    >>> out = lamina.layers.RandomContrast(0.5, seed=0)(np.full((1, 2, 2, 1), 7.0))
    >>> lamina.ops.convert_to_numpy(out).ravel().tolist()  # a flat image keeps its mean
    [7.0, 7.0, 7.0, 7.0]
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        if isinstance(factor, (list, tuple)):
            lower, upper = _parse_factor(self, factor, "factor", 0.0, 1.0)
        else:
            _, upper = _parse_factor(self, factor, "factor", -1.0, 1.0)
            lower = upper
        self._range = (1.0 - lower, 1.0 + upper)
        self.value_range = _check_value_range(self, value_range)

    def augment(self, images):
        c = ops.reshape(self._uniform((images.shape[0],), *self._range, "float32"), (-1, 1, 1, 1))
        c = ops.cast(c, images.dtype)
        mean = ops.mean(images, axis=(1, 2), keepdims=True)
        return ops.clip((images - mean) * c + mean, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": u.listify(self.factor), "value_range": list(self.value_range)}


class RandomBrightness(RandomImageLayer):
    """Add a random brightness shift to each image: ``x + d * (high - low)``, clipped to ``value_range``.

    Args:
        factor: a float ``f`` (``d`` in ``[-f, f]``) or a pair ``(lo, hi)``; values in ``[-1, 1]``.
        value_range: the range of the input values (default ``(0, 255)``).
        seed: an int for reproducible draws.

    Example:
    >>> import numpy as np, lamina
    >>> out = lamina.ops.convert_to_numpy(lamina.layers.RandomBrightness((0.1, 0.1))(np.zeros((1, 2, 2, 3))))
    >>> np.allclose(out, 25.5)
    True
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        self._range = _parse_factor(self, factor, "factor", -1.0, 1.0)
        self.value_range = _check_value_range(self, value_range)

    def augment(self, images):
        span = self.value_range[1] - self.value_range[0]
        d = ops.reshape(self._uniform((images.shape[0],), *self._range, "float32"), (-1, 1, 1, 1)) * span
        return ops.clip(images + ops.cast(d, images.dtype), self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": u.listify(self.factor), "value_range": list(self.value_range)}
