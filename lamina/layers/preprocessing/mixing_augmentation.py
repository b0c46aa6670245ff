"""Region and mixing augmentation (Keras 3): ``RandomErasing``, ``RandomGaussianBlur``, ``MixUp``,
``CutMix``, and the shear ``RandomShear``.

Active only when called with ``training=True`` (a direct call's default). Besides image tensors, every layer takes
Keras's dict ``{"images": ..., "bounding_boxes": ..., "segmentation_masks": ..., "labels": ...}``: ``RandomShear``
moves boxes and masks with the images; ``MixUp`` and ``CutMix`` mix the sample ``labels`` (and masks) with the same
weights as the images; ``RandomErasing`` and ``RandomGaussianBlur`` change the images only.
"""

import numpy as np

from lamina import backend, ops
from lamina import random as lrandom
from lamina.layers.preprocessing import _dict_inputs as dicts
from lamina.layers.preprocessing import _image_ops as img
from lamina.layers.preprocessing import _utils as u
from lamina.layers.preprocessing._augment_base import is_number, parse_factor, parse_value_range, reshape_batch
from lamina.layers.preprocessing.image_augmentation import RandomImageLayer
from lamina.utils.bounding_boxes import geometry


def _box_mask(height, width, x0, x1, y0, y1):
    """``(batch, h, w, 1)`` booleans: pixel centers ``x0 <= col < x1`` and ``y0 <= row < y1``."""
    cols = ops.reshape(ops.arange(width, dtype="float32"), (1, 1, -1, 1))
    rows = ops.reshape(ops.arange(height, dtype="float32"), (1, -1, 1, 1))
    x0, x1, y0, y1 = (reshape_batch(v) for v in (x0, x1, y0, y1))
    return ops.logical_and(ops.logical_and(ops.greater_equal(cols, x0), ops.less(cols, x1)),
                           ops.logical_and(ops.greater_equal(rows, y0), ops.less(rows, y1)))


class _RandomBoxLayer(RandomImageLayer):
    def _span(self, batch, length, ratio):
        size = ratio * length
        start = self._uniform((batch,), 0.0, 1.0, "float32") * (length - size)
        return start, start + size


class RandomErasing(_RandomBoxLayer):
    """Erase a random rectangle of each image (with a random probability drawn in ``factor``).

    The rectangle's width and height are ``sqrt(s) * width`` and ``sqrt(t) * height`` with ``s, t`` drawn
    in ``scale``; its position is uniform. The erased pixels take ``fill_value`` (clipped to
    ``value_range``), or, when it is None, Gaussian noise times ``value_range[1]``.

    Args:
        factor: a float ``f`` (probability drawn in ``[0, f]``) or a pair, within ``[0, 1]`` (default 1.0).
        scale: a float or a pair within ``[0, 1]`` (default ``(0.02, 0.33)``).
        fill_value: None (noise, default), a number, or three numbers (one per channel).
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        seed: an int for reproducible draws.

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.RandomErasing(factor=(1.0, 1.0), scale=(1.0, 1.0), fill_value=0.0)
    >>> lamina.ops.convert_to_numpy(layer(np.ones((1, 2, 2, 1)))).ravel().tolist()
    [0.0, 0.0, 0.0, 0.0]
    """

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))
        self.scale = parse_factor(self, scale, (0, 1), "scale")
        if not (fill_value is None or is_number(fill_value) or (
                isinstance(fill_value, (list, tuple)) and len(fill_value) == 3
                and all(is_number(v) for v in fill_value))):
            raise ValueError(f"{u.who(self)}: fill_value must be None, a number or a list of three numbers, but "
                             f"received fill_value={fill_value!r}.")
        self.fill_value = list(fill_value) if isinstance(fill_value, tuple) else fill_value
        self.value_range = parse_value_range(self, value_range)

    def augment(self, images):
        batch, height, width, _ = images.shape
        ratio = ops.sqrt(self._uniform((batch, 2), self.scale[0], self.scale[1], "float32"))
        x0, x1 = self._span(batch, width, ratio[:, 0])
        y0, y1 = self._span(batch, height, ratio[:, 1])
        mask = _box_mask(height, width, x0, x1, y0, y1)
        probability = self._uniform((batch,), self.factor[0], self.factor[1], "float32")
        apply = reshape_batch(ops.less(self._uniform((batch,), 0.0, 1.0, "float32"), probability))
        if self.fill_value is None:
            fill = lrandom.normal(tuple(images.shape), dtype=ops.dtype(images), seed=self.seed_generator)
            fill = fill * self.value_range[1]
        else:
            fill = ops.convert_to_tensor(np.asarray(self.fill_value, dtype=ops.dtype(images))) * ops.ones_like(images)
        fill = ops.clip(fill, self.value_range[0], self.value_range[1])
        return ops.where(ops.logical_and(mask, apply), fill, images)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "scale": list(self.scale),
                "fill_value": self.fill_value, "value_range": list(self.value_range)}


class RandomGaussianBlur(RandomImageLayer):
    """Blur each image (with a random probability drawn in ``factor``) with a Gaussian kernel.

    One ``(sigma_x, sigma_y)`` pair is drawn in ``sigma`` per call; the kernel is
    ``kernel_size[0]`` wide (along the width) and ``kernel_size[1]`` tall, with zero padding; the output
    is clipped to ``value_range``.

    Args:
        factor: a float ``f`` (probability drawn in ``[0, f]``) or a pair, within ``[0, 1]`` (default 1.0).
        kernel_size: an odd int or a pair of odd ints (default 3).
        sigma: a float ``s`` (range ``[0, s]``) or a pair, within ``[0, 1]`` as Keras (default 1.0).
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        seed: an int for reproducible draws.

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.RandomGaussianBlur(factor=(1.0, 1.0), sigma=(1.0, 1.0))
    >>> out = lamina.ops.convert_to_numpy(layer(np.full((1, 5, 5, 1), 10.0)))
    >>> round(float(out[0, 2, 2, 0]), 4)  # interior pixels keep a constant image's value
    10.0
    """

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))
        sizes = kernel_size if isinstance(kernel_size, (list, tuple)) else (kernel_size, kernel_size)
        if len(sizes) != 2 or not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool)
                                      and k > 0 and k % 2 == 1 for k in sizes):
            raise ValueError(f"{u.who(self)}: kernel_size must be an odd positive int or a pair of them, but "
                             f"received kernel_size={kernel_size!r}.")
        self.kernel_size = (int(sizes[0]), int(sizes[1]))
        self.sigma = parse_factor(self, sigma, (0, 1), "sigma")
        self.value_range = parse_value_range(self, value_range)

    def augment(self, images):
        batch = images.shape[0]
        probability = self._uniform((batch,), self.factor[0], self.factor[1], "float32")
        apply = reshape_batch(ops.less(self._uniform((batch,), 0.0, 1.0, "float32"), probability))
        sigma = self._uniform((2,), self.sigma[0], self.sigma[1], ops.dtype(images)) + 1e-6
        kernels = []
        for size, s in zip(self.kernel_size, (sigma[0], sigma[1])):
            offsets = ops.convert_to_tensor(np.arange(size, dtype=ops.dtype(images)) - (size - 1) / 2.0)
            k = ops.exp(-0.5 * ops.square(offsets / s))
            kernels.append(k / ops.sum(k))
        blurred = img.separable_filter(images, kernels[0], kernels[1])
        return ops.clip(ops.where(apply, blurred, images), self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "kernel_size": list(self.kernel_size),
                "sigma": list(self.sigma), "value_range": list(self.value_range)}


class MixUp(RandomImageLayer):
    """MixUp: blend each image with another image of the batch (a random permutation),
    ``w * x + (1 - w) * x[perm]`` with ``w ~ Beta(alpha, alpha)`` per image.

    Args:
        alpha: the Beta distribution's parameter (default 0.2), > 0.
        seed: an int for reproducible draws.
        bounding_box_format: the format of the ``bounding_boxes`` of a dict input; None (default) when there are
            none (MixUp does not move boxes, so any format is fine).

    Call arguments:
        inputs: images, or Keras's dict ``{"images": ..., "labels": ..., "bounding_boxes": {"boxes": ...,
            "labels": ...}, "segmentation_masks": ...}``. The sample ``labels`` (e.g. one-hot) and the masks are
            mixed with the images' weights; each image's boxes become its own followed by its partner's
            (``(batch, 2 * num_boxes, 4)``, labels likewise; Keras concatenates the box labels along the batch
            axis instead, a shape mismatch). A single (unbatched) image is returned unchanged.
        training: mix only when True (the default of a direct call).

    Example:
    >>> import numpy as np, lamina
    >>> x = np.full((3, 2, 2, 1), 4.0)
    >>> lamina.ops.convert_to_numpy(lamina.layers.MixUp(seed=0)(x)).ravel().tolist() == x.ravel().tolist()
    True
    >>> out = lamina.layers.MixUp(seed=0)({"images": x, "labels": np.eye(3)})
    >>> np.allclose(lamina.ops.convert_to_numpy(out["labels"]).sum(axis=1), 1.0)
    True
    """

    _BOXES_GROWTH = 2  # each image gets its partner's boxes too

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not (is_number(alpha) and alpha > 0):
            raise ValueError(f"{u.who(self)}: alpha must be a positive number, but received alpha={alpha!r}.")
        self.alpha = float(alpha)

    def _draw(self, batch):
        order = lrandom.shuffle(ops.arange(batch, dtype="int32"), seed=self.seed_generator)
        return order, lrandom.beta((batch,), self.alpha, self.alpha, dtype="float32", seed=self.seed_generator)

    def _mix(self, values, order, w):
        w = ops.cast(dicts.per_image(w, len(values.shape)), ops.dtype(values))
        return w * values + (1.0 - w) * ops.take(values, order, axis=0)

    def augment(self, images):
        return self._mix(images, *self._draw(images.shape[0]))

    def _augment_dict(self, images, extras, training):
        if not training or extras["single"]:
            return images, extras
        order, w = self._draw(images.shape[0])

        def boxes(b, labels):
            b = ops.concatenate([b, ops.take(b, order, axis=0)], axis=1)
            return b, None if labels is None else ops.concatenate([labels, ops.take(labels, order, axis=0)], axis=1)

        def labels(values):
            return self._mix(ops.cast(values, "float32") if not backend.is_float_dtype(ops.dtype(values))
                             else values, order, w)

        return self._mix(images, order, w), dicts.move(
            extras, images.shape[1], images.shape[2], masks=lambda m: self._mix(m, order, w), boxes=boxes,
            labels=labels, clip=False)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class CutMix(_RandomBoxLayer):
    """CutMix: paste a random rectangle of another image of the batch (a random permutation) into each
    image. The rectangle covers a fraction ``1 - w`` of the image, ``w ~ Beta(a, a)`` with ``a`` drawn in
    ``factor`` once per call. A single (unbatched) image is returned unchanged, as Keras.

    Args:
        factor: a float ``f`` (``a`` in ``[0, f]``) or a pair, within ``[0, 1]`` (default 1.0).
        seed: an int for reproducible draws.
        bounding_box_format: accepted for Keras compatibility; CutMix cannot move bounding boxes.

    Call arguments:
        inputs: images, or Keras's dict ``{"images": ..., "labels": ..., "segmentation_masks": ...}``: the
            pasted rectangle of the partner's mask is pasted into each mask, and the sample ``labels`` are mixed
            with the weight ``1 - area / (height * width)`` of the rectangle (as Keras). A dict with
            ``"bounding_boxes"`` raises an error, as Keras.
        training: mix only when True (the default of a direct call).

    Example:
    >>> import numpy as np, lamina
    >>> x = np.full((3, 4, 4, 1), 2.0)
    >>> lamina.ops.convert_to_numpy(lamina.layers.CutMix(seed=0)(x)).ravel().tolist() == x.ravel().tolist()
    True
    """

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))

    def call(self, inputs, training=True):
        if isinstance(inputs, dict):
            if inputs.get("bounding_boxes") is not None:
                raise dicts.unsupported_boxes(self, "pasting a rectangle of another image has no box geometry")
            return self._call_dict(inputs, training)
        if len(inputs.shape) == 3:  # a single image: nothing to mix with
            return self._apply(inputs, self.inference)
        return super().call(inputs, training=training)

    def _draw(self, batch, height, width):
        """The pasted rectangle of each image, as a ``(batch, h, w, 1)`` mask, the partner order and the weight of
        the own image (``1 -`` the rectangle's share of the area)."""
        a = self._uniform((), self.factor[0], self.factor[1], "float32") + 1e-6
        w = lrandom.beta((batch,), a, a, dtype="float32", seed=self.seed_generator)
        ratio = ops.sqrt(1.0 - w)
        x0, x1 = self._span(batch, width, ratio)
        y0, y1 = self._span(batch, height, ratio)
        mask = _box_mask(height, width, x0, x1, y0, y1)
        order = lrandom.shuffle(ops.arange(batch, dtype="int32"), seed=self.seed_generator)
        return mask, order, 1.0 - (x1 - x0) * (y1 - y0) / (width * height)

    def augment(self, images):
        mask, order, _ = self._draw(*images.shape[:3])
        return ops.where(mask, ops.take(images, order, axis=0), images)

    def _augment_dict(self, images, extras, training):
        if not training or extras["single"]:
            return images, extras
        mask, order, weight = self._draw(*images.shape[:3])

        def paste(values):
            return ops.where(mask, ops.take(values, order, axis=0), values)

        def labels(values):
            values = ops.cast(values, "float32") if not backend.is_float_dtype(ops.dtype(values)) else values
            w = ops.cast(dicts.per_image(weight, len(values.shape)), ops.dtype(values))
            return w * values + (1.0 - w) * ops.take(values, order, axis=0)

        return paste(images), dicts.move(extras, images.shape[1], images.shape[2], masks=paste, labels=labels)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor)}


class RandomShear(RandomImageLayer):
    """Shear each image: output pixel ``(x, y)`` samples input ``(x + sx * y, y + sy * x)`` (about the
    top-left corner, as Keras), with ``sx`` drawn in ``x_factor``, ``sy`` in ``y_factor`` and one random
    sign per image for both.

    Args:
        x_factor, y_factor: a float ``f`` (range ``[-f, f]``) or a pair of floats in ``[0, 1]``
            (default 0.0: no shear along that axis).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        fill_value: the value of ``"constant"`` filling (default 0.0).
        seed: an int for reproducible draws.
        bounding_box_format: the format of the ``bounding_boxes`` of a dict input (e.g. ``"xyxy"``); None
            (default) when there are none.

    Call arguments:
        inputs: images, or Keras's dict ``{"images": ..., "bounding_boxes": {"boxes": ..., "labels": ...},
            "segmentation_masks": ..., "labels": ...}``: masks are sheared with the image (nearest), and each box
            becomes the box around its sheared corners, clipped to the image (a box left empty gets the label -1).
            Keras shears boxes in relative coordinates, which agrees for square images sheared along one axis
            only; lamina maps the corners exactly, for any image and both shears.
        training: shear only when True (the default of a direct call).

    Example:
    >>> import numpy as np, lamina
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> out = lamina.layers.RandomShear(x_factor=0.0, y_factor=0.0)(x)
    >>> bool(np.allclose(lamina.ops.convert_to_numpy(out), x))
    True
    """

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._x_range = self._shear_factor(x_factor, "x_factor")
        self._y_range = self._shear_factor(y_factor, "y_factor")
        self.x_factor = list(x_factor) if isinstance(x_factor, (list, tuple)) else x_factor
        self.y_factor = list(y_factor) if isinstance(y_factor, (list, tuple)) else y_factor
        self.interpolation = u.check_choice(self, "interpolation", interpolation, ("nearest", "bilinear"))
        self.fill_mode = u.check_choice(self, "fill_mode", fill_mode, img.FILL_MODES)
        if not is_number(fill_value):
            raise ValueError(f"{u.who(self)}: fill_value must be a number, but received fill_value={fill_value!r}.")
        self.fill_value = float(fill_value)

    def _shear_factor(self, factor, arg):
        values = factor if isinstance(factor, (list, tuple)) else [factor]
        if not (len(values) in (1, 2) and all(is_number(v) and 0 <= v <= 1 for v in values)):
            raise ValueError(f"{u.who(self)}: {arg} must be a number or a pair of numbers in [0, 1], but "
                             f"received {arg}={factor!r}.")
        if len(values) == 1:
            return (-abs(float(factor)), abs(float(factor)))
        return tuple(sorted(float(v) for v in values))

    def _draw(self, batch):
        sign = ops.where(ops.greater(self._uniform((batch,), 0.0, 1.0, "float32"), 0.5), -1.0, 1.0)
        sy = self._uniform((batch,), self._y_range[0], self._y_range[1], "float32") * sign
        sx = self._uniform((batch,), self._x_range[0], self._x_range[1], "float32") * sign
        return sx, sy

    def _warp(self, images, shears, interpolation):
        sx, sy = shears
        ones, zeros = ops.ones_like(sx), ops.zeros_like(sx)
        transforms = ops.stack([ones, sx, zeros, sy, ones, zeros], axis=1)
        return img.affine_transform(images, transforms, interpolation, self.fill_mode, self.fill_value)

    def augment(self, images):
        return self._warp(images, self._draw(images.shape[0]), self.interpolation)

    def _augment_dict(self, images, extras, training):
        if not training:
            return images, extras
        batch, height, width, _ = images.shape
        shears = self._draw(batch)

        def boxes(b, labels):
            # the image reads (x + sx y, y + sy x): a point of the input moves by the inverse of that matrix
            sx, sy = (dicts.per_image(v) for v in shears)
            d = 1.0 - sx * sy
            zeros = ops.zeros_like(sx)
            return geometry.transform_corners(b, [1.0 / d, -sx / d, zeros, -sy / d, 1.0 / d, zeros]), labels

        return self._warp(images, shears, self.interpolation), dicts.move(
            extras, height, width, masks=lambda m: self._warp(m, shears, "nearest"), boxes=boxes)

    def get_config(self):
        return {**super().get_config(), "x_factor": self.x_factor, "y_factor": self.y_factor,
                "interpolation": self.interpolation, "fill_mode": self.fill_mode, "fill_value": self.fill_value}
