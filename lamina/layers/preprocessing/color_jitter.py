"""Color jitter augmentation (Keras 3): ``RandomSaturation``, ``RandomHue``, ``RandomColorDegeneration``,
``RandomSharpness`` and ``RandomColorJitter`` (brightness, contrast, saturation and hue in turn).

Active only when called with ``training=True`` (a direct call's default). Hue and saturation go through
HSV (hue and saturation in ``[0, 1]``). Keras's dict input ``{"images": ..., "bounding_boxes": ...,
"segmentation_masks": ..., "labels": ...}`` is accepted too: only the images change, the other entries are returned
as they are.
"""

import numpy as np

from lamina.config import epsilon
from lamina import ops
from lamina.layers.preprocessing import _image_ops as img
from lamina.layers.preprocessing import _utils as u
from lamina.layers.preprocessing._augment_base import check_rgb, parse_factor, parse_value_range, reshape_batch
from lamina.layers.preprocessing.image_augmentation import RandomBrightness, RandomContrast, RandomImageLayer


class _ColorLayer(RandomImageLayer):
    _BOUNDS = (-1, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = parse_factor(self, factor, self._BOUNDS)
        self.value_range = parse_value_range(self, value_range)

    def _draw(self, batch):
        return self._uniform((batch,), self.factor[0], self.factor[1], "float32")

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "value_range": list(self.value_range)}


class RandomSaturation(_ColorLayer):
    """Scale each image's saturation by ``f / (1 - f)`` with ``f`` drawn in ``factor``.

    ``f = 0.5`` keeps the image, ``f = 0`` makes it gray, ``f`` near 1 saturates it fully. The scaled
    saturation is clipped to ``value_range``, as Keras.

    Args:
        factor: a float ``f`` (range ``[-f, f]``; negative draws give gray) or a pair ``(lo, hi)``, within
            ``[-1, 1]``; e.g. ``(0.5, 0.5)`` is the identity.
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        seed: an int for reproducible draws.

    Example:
    >>> import numpy as np, lamina
    >>> out = lamina.layers.RandomSaturation(factor=(0.0, 0.0))(np.array([[[[200.0, 100.0, 50.0]]]]))
    >>> lamina.ops.convert_to_numpy(out).ravel().tolist()  # no saturation: every channel takes the max
    [200.0, 200.0, 200.0]
    """

    def augment(self, images):
        check_rgb(self, images)
        f = self._draw(images.shape[0])
        scale = ops.cast(ops.reshape(f / (1.0 - f + epsilon()), (-1, 1, 1)), ops.dtype(images))
        hsv = img.rgb_to_hsv(images)
        s = ops.clip(hsv[..., 1] * scale, self.value_range[0], self.value_range[1])
        return img.hsv_to_rgb(ops.stack([hsv[..., 0], s, hsv[..., 2]], axis=-1))


class RandomHue(_ColorLayer):
    """Rotate each image's hue by ``±f / 2`` of a turn, ``f`` drawn in ``factor`` and the sign at random.

    Args:
        factor: a float ``f`` (range ``[0, f]``) or a pair ``(lo, hi)``, within ``[0, 1]``; ``1`` turns the hue
            half-way round the color wheel.
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``); the output is clipped to it.
        seed: an int for reproducible draws.

    Example:
    >>> import numpy as np, lamina
    >>> out = lamina.layers.RandomHue(factor=(1.0, 1.0))(np.array([[[[255.0, 0.0, 0.0]]]]))
    >>> [round(float(v), 3) for v in lamina.ops.convert_to_numpy(out).ravel()]  # red -> cyan
    [0.0, 255.0, 255.0]
    """

    _BOUNDS = (0, 1)

    def augment(self, images):
        check_rgb(self, images)
        batch = images.shape[0]
        sign = ops.where(ops.greater(self._uniform((batch,), 0.0, 1.0, "float32"), 0.5), -1.0, 1.0)
        delta = ops.cast(ops.reshape(sign * self._draw(batch) * 0.5, (-1, 1, 1)), ops.dtype(images))
        hsv = img.rgb_to_hsv(img.rescale_range(images, self.value_range, (0, 1)))
        h = hsv[..., 0] + delta
        h = ops.where(ops.greater(h, 1.0), h - 1.0, h)
        h = ops.where(ops.less(h, 0.0), h + 1.0, h)
        rgb = ops.clip(img.hsv_to_rgb(ops.stack([h, hsv[..., 1], hsv[..., 2]], axis=-1)), 0.0, 1.0)
        return img.rescale_range(rgb, (0, 1), self.value_range)


class RandomColorDegeneration(_ColorLayer):
    """Blend each image toward its grayscale version: ``x + f * (gray - x)``, ``f`` drawn in ``factor``,
    clipped to ``value_range``.

    Args:
        factor: a float ``f`` (range ``[-f, f]``) or a pair ``(lo, hi)``, within ``[-1, 1]``; ``1`` gives
            grayscale, ``0`` the image, negative values push colors away from gray.
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        seed: an int for reproducible draws.

    Example:
    >>> import numpy as np, lamina
    >>> out = lamina.layers.RandomColorDegeneration(factor=(1.0, 1.0))(np.array([[[[255.0, 0.0, 0.0]]]]))
    >>> [round(float(v), 2) for v in lamina.ops.convert_to_numpy(out).ravel()]
    [76.22, 76.22, 76.22]
    """

    def augment(self, images):
        check_rgb(self, images)
        f = ops.cast(reshape_batch(self._draw(images.shape[0])), ops.dtype(images))
        out = images + f * (img.rgb_to_grayscale(images) - images)
        return ops.clip(out, self.value_range[0], self.value_range[1])

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[-3]
        if len(input_shape) in (3, 4) and channels is not None and channels != 3:
            check_rgb(self, np.zeros((1, 1, 1, channels)))
        return super().compute_output_shape(input_shape)


class RandomSharpness(_ColorLayer):
    """Sharpen or blur each image: ``x + (1 - 2f) * (smooth(x) - x)``, ``f`` drawn in ``factor``, where
    ``smooth`` is the 3x3 filter ``[[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13`` (zero padding), clipped to
    ``value_range``.

    Args:
        factor: a float ``f`` (range ``[0, f]``) or a pair ``(lo, hi)``, within ``[0, 1]``; ``0`` gives the
            smoothed image, ``0.5`` the image, ``1`` a sharpened one.
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        seed: an int for reproducible draws.

    Example:
    >>> import numpy as np, lamina
    >>> x = np.full((1, 3, 3, 1), 10.0)
    >>> out = lamina.layers.RandomSharpness(factor=(0.5, 0.5))(x)
    >>> bool(np.allclose(lamina.ops.convert_to_numpy(out), x))
    True
    """

    _BOUNDS = (0, 1)
    _KERNEL = np.array([[1.0, 1.0, 1.0], [1.0, 5.0, 1.0], [1.0, 1.0, 1.0]]) / 13.0

    def augment(self, images):
        f = ops.cast(reshape_batch(self._draw(images.shape[0]) * 2.0), ops.dtype(images))
        smooth = img.filter2d(images, self._KERNEL)
        return ops.clip(images + (1.0 - f) * (smooth - images), self.value_range[0], self.value_range[1])


class RandomColorJitter(RandomImageLayer):
    """Apply, in this order and each only when its factor is given, ``RandomBrightness``,
    ``RandomContrast``, ``RandomSaturation`` and ``RandomHue`` with a shared ``value_range``.

    Args:
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        brightness_factor, contrast_factor, saturation_factor, hue_factor: the ``factor`` of each step
            (see those layers), or None (default) to skip it.
        seed: an int for reproducible draws (each step draws from its own stream derived from it).

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.RandomColorJitter(brightness_factor=0.2, hue_factor=0.1, seed=1)
    >>> lamina.ops.shape(layer(np.ones((2, 4, 4, 3))))
    (2, 4, 4, 3)
    """

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None,
                 saturation_factor=None, hue_factor=None, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = parse_value_range(self, value_range)
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        steps = []
        for i, (cls, factor) in enumerate(((RandomBrightness, brightness_factor),
                                           (RandomContrast, contrast_factor),
                                           (RandomSaturation, saturation_factor), (RandomHue, hue_factor))):
            if factor is not None:
                step_seed = None if seed is None else seed + i
                try:
                    steps.append(cls(factor=factor, value_range=self.value_range, seed=step_seed,
                                     name=f"{self.name}_{cls.__name__.lower()}"))
                except ValueError as e:
                    arg = ("brightness_factor", "contrast_factor", "saturation_factor", "hue_factor")[i]
                    raise ValueError(f"{u.who(self)}: invalid {arg} ({e})") from None
        self._steps = steps

    def augment(self, images):
        for step in self._steps:
            images = step.augment(images)
        return images

    def get_config(self):
        return {**super().get_config(), "value_range": list(self.value_range),
                "brightness_factor": _listify(self.brightness_factor),
                "contrast_factor": _listify(self.contrast_factor),
                "saturation_factor": _listify(self.saturation_factor), "hue_factor": _listify(self.hue_factor)}


def _listify(value):
    return list(value) if isinstance(value, tuple) else value
