"""Random image augmentation: ``RandomFlip``, ``RandomRotation``, ``RandomZoom``, ``RandomTranslation``,
``RandomCrop``, ``RandomContrast``, ``RandomBrightness``.

Each layer is active only when called with ``training=True`` (the default of a direct call, and what
``fit`` passes); at inference (``predict``, ``evaluate``, ``training=False``) it returns its input
(``RandomCrop`` center-crops instead, as Keras). Randomness comes from a ``lamina.random.SeedGenerator``
whose state is a variable, so it advances inside compiled JAX training steps and the same ``seed`` gives
the same augmentations on one backend.
"""

import math

import numpy as np

from lamina import ops
from lamina import random as lrandom
from lamina.layers.core.simple import _next_seed
from lamina.layers.preprocessing import _image_ops as img
from lamina.layers.preprocessing import _utils as u
from lamina.layers.preprocessing.image_preprocessing import ImageLayer


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

    Example:
    >>> import numpy as np, lamina
    >>> x = np.arange(4.0).reshape(1, 2, 2, 1)
    >>> out = lamina.layers.RandomFlip("horizontal", seed=1)(x, training=False)
    >>> lamina.ops.convert_to_numpy(out).tolist() == x.tolist()
    True
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = u.check_choice(self, "mode", mode, ("horizontal", "vertical", "horizontal_and_vertical"))

    def augment(self, images):
        batch = images.shape[0]
        draws = self._uniform((batch, 2), 0.0, 1.0, "float32")
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            flip = ops.reshape(ops.less(draws[:, 0], 0.5), (-1, 1, 1, 1))
            images = ops.where(flip, ops.flip(images, axis=2), images)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            flip = ops.reshape(ops.less(draws[:, 1], 0.5), (-1, 1, 1, 1))
            images = ops.where(flip, ops.flip(images, axis=1), images)
        return images

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

    def augment(self, images):
        transforms = self.transforms(images.shape[0], images.shape[1], images.shape[2], images.dtype)
        return img.affine_transform(images, transforms, self.interpolation, self.fill_mode, self.fill_value)

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

    def transforms(self, batch, height, width, dtype):
        angle = self._uniform((batch,), self._range[0] * 2 * math.pi, self._range[1] * 2 * math.pi, "float32")
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

    def transforms(self, batch, height, width, dtype):
        zy = 1.0 + self._uniform((batch,), self._h_range[0], self._h_range[1], "float32")
        zx = zy if self._w_range is None else 1.0 + self._uniform((batch,), *self._w_range, "float32")
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

    def transforms(self, batch, height, width, dtype):
        draws = self._uniform((batch, 2), 0.0, 1.0, "float32")
        dy = (self._h_range[0] + draws[:, 0] * (self._h_range[1] - self._h_range[0])) * height
        dx = (self._w_range[0] + draws[:, 1] * (self._w_range[1] - self._w_range[0])) * width
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

    def augment(self, images):
        _, in_h, in_w, _ = images.shape
        if in_h < self.height or in_w < self.width:
            return self.inference(images)
        draws = self._uniform((2,), 0.0, 1.0, "float32")
        top = ops.cast(ops.floor(draws[0] * (in_h - self.height + 1)), "int64")
        left = ops.cast(ops.floor(draws[1] * (in_w - self.width + 1)), "int64")
        rows = ops.minimum(top + ops.arange(self.height, dtype="int64"), in_h - 1)
        cols = ops.minimum(left + ops.arange(self.width, dtype="int64"), in_w - 1)
        return ops.take(ops.take(images, rows, axis=1), cols, axis=2)

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
