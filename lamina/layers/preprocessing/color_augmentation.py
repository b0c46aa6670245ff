"""Per-pixel color augmentation (Keras 3): ``RandomGrayscale``, ``RandomInvert``, ``Solarization``,
``RandomPosterization``, ``AutoContrast``, ``Equalization``.

The random layers act only when called with ``training=True`` (a direct call's default); ``AutoContrast``
acts always, and ``Equalization`` only in training, as in Keras. Images are ``(batch, h, w, c)`` or a single
``(h, w, c)`` image in either ``data_format``; integer images are computed as floats. Keras's dict input
``{"images": ..., "bounding_boxes": ..., "segmentation_masks": ..., "labels": ...}`` is accepted too: only the
images change, the other entries are returned as they are (boxes as float32 tensors).
"""

import numpy as np

from lamina import ops
from lamina.layers.preprocessing import _image_ops as img
from lamina.layers.preprocessing import _utils as u
from lamina.layers.preprocessing._augment_base import parse_factor, parse_value_range, reshape_batch
from lamina.layers.preprocessing.image_augmentation import RandomImageLayer
from lamina.layers.preprocessing.image_preprocessing import ImageLayer


class RandomGrayscale(RandomImageLayer):
    """Convert each image to grayscale with probability ``factor``, keeping its number of channels.

    The gray level is the luma ``0.2989 R + 0.5870 G + 0.1140 B``, repeated in every channel.

    Args:
        factor: the probability, in ``[0, 1]``, that an image is converted (default 0.5).
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: the global setting).
        seed: an int for reproducible draws.

    Example:
    >>> import numpy as np, lamina
    >>> x = np.array([[[[255.0, 0.0, 0.0]]]])
    >>> out = lamina.ops.convert_to_numpy(lamina.layers.RandomGrayscale(factor=1.0)(x))
    >>> [round(float(v), 2) for v in out.ravel()]
    [76.22, 76.22, 76.22]
    """

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not (isinstance(factor, (int, float, np.number)) and not isinstance(factor, bool)
                and 0 <= factor <= 1):
            raise ValueError(f"{u.who(self)}: factor must be a probability in [0, 1], but received "
                             f"factor={factor!r}.")
        self.factor = float(factor)

    def augment(self, images):
        if images.shape[-1] not in (1, 3):
            raise ValueError(f"{u.who(self)} expected images with 1 or 3 channels, but received "
                             f"{images.shape[-1]} channels.")
        apply = ops.less(reshape_batch(self._uniform((images.shape[0],), 0.0, 1.0, "float32")), self.factor)
        return ops.where(apply, img.rgb_to_grayscale(images) * ops.ones_like(images), images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomInvert(RandomImageLayer):
    """Invert each image, ``value_range[1] - x``, with a random probability drawn in ``factor``.

    Args:
        factor: a float ``f`` (probability drawn in ``[0, f]``) or a pair ``(lo, hi)``, within ``[0, 1]``
            (default 1.0).
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        seed: an int for reproducible draws.

    Example:
    >>> import numpy as np, lamina
    >>> out = lamina.layers.RandomInvert(factor=(1.0, 1.0))(np.array([[[[0.0], [55.0]]]]))
    >>> lamina.ops.convert_to_numpy(out).ravel().tolist()
    [255.0, 200.0]
    """

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))
        self.value_range = parse_value_range(self, value_range)

    def augment(self, images):
        batch = images.shape[0]
        probability = self._uniform((batch,), self.factor[0], self.factor[1], "float32")
        threshold = self._uniform((batch,), 0.0, 1.0, "float32")
        apply = reshape_batch(ops.less(threshold, probability))
        return ops.where(apply, self.value_range[1] - images, images)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "value_range": list(self.value_range)}


class Solarization(RandomImageLayer):
    """Solarize: on the ``[0, 255]`` scale, add a random amount, clip, then invert (``255 - x``) the pixels
    at or above a random threshold.

    Args:
        addition_factor: a float ``f`` (range ``(0, f)``) or a pair, within ``[0, 1]``: the amount added,
            as a fraction of 255 (default 0.0).
        threshold_factor: likewise for the threshold; with the default 0.0 every pixel is inverted.
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        seed: an int for reproducible draws.

    As Keras, an amount is drawn in ``[lower, upper * 255]`` (only the upper end is scaled by 255).

    Example:
    >>> import numpy as np, lamina
    >>> out = lamina.layers.Solarization()(np.array([[[[0.0], [100.0]]]]))
    >>> lamina.ops.convert_to_numpy(out).ravel().tolist()
    [255.0, 155.0]
    """

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = self._factor(addition_factor, "addition_factor")
        self.threshold_factor = self._factor(threshold_factor, "threshold_factor")
        self.value_range = parse_value_range(self, value_range)

    def _factor(self, factor, arg):
        lower, upper = parse_factor(self, factor, (0, 1), arg)
        if isinstance(factor, (list, tuple)) and (lower < 0 or upper > 1):
            raise ValueError(f"{u.who(self)}: {arg} must lie in [0, 1], but received {arg}={factor!r}.")
        return (0.0, upper) if not isinstance(factor, (list, tuple)) else (lower, upper)

    def augment(self, images):
        batch = images.shape[0]
        add = reshape_batch(self._uniform((batch,), self.addition_factor[0], self.addition_factor[1] * 255,
                                          ops.dtype(images)))
        thr = reshape_batch(self._uniform((batch,), self.threshold_factor[0], self.threshold_factor[1] * 255,
                                          ops.dtype(images)))
        x = ops.clip(img.rescale_range(images, self.value_range, (0, 255)) + add, 0, 255)
        x = ops.where(ops.less(x, thr), x, 255 - x)
        return img.rescale_range(x, (0, 255), self.value_range)

    def get_config(self):
        return {**super().get_config(), "addition_factor": list(self.addition_factor),
                "threshold_factor": list(self.threshold_factor), "value_range": list(self.value_range)}


class RandomPosterization(RandomImageLayer):
    """Keep only the top ``bits`` bits of each channel's 8-bit value (values taken on the ``[0, 255]`` scale
    and truncated to integers first).

    Args:
        factor: the number of bits to keep, within ``[1, 8]``: an int ``n`` draws ``bits`` in ``[1, n)``
            (just ``1`` when ``n == 1``), a pair ``(lo, hi)`` draws in ``[lo, hi)``, and ``(n, n)`` keeps
            exactly ``n`` bits (as Keras).
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        seed: an int for reproducible draws.

    Example:
    >>> import numpy as np, lamina
    >>> out = lamina.layers.RandomPosterization(factor=(2, 2))(np.array([[[[200.0], [100.0]]]]))
    >>> lamina.ops.convert_to_numpy(out).ravel().tolist()
    [192.0, 64.0]
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        lower, upper = parse_factor(self, factor, (1, 8))
        self.factor = (int(lower), int(upper))
        self.value_range = parse_value_range(self, value_range)

    def augment(self, images):
        batch = images.shape[0]
        if self.factor[0] != self.factor[1]:
            bits = ops.cast(self._uniform((batch,), float(self.factor[0]), float(self.factor[1]), "float32"),
                            "int32")  # an integer in [lo, hi)
        else:
            bits = ops.full((batch,), self.factor[0], dtype="int32")
        step = reshape_batch(ops.cast(ops.power(2.0, ops.cast(8 - bits, "float32")), ops.dtype(images)))
        x = ops.floor(ops.clip(img.rescale_range(images, self.value_range, (0, 255)), 0, 255))
        x = ops.floor(x / step) * step
        return img.rescale_range(x, (0, 255), self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "value_range": list(self.value_range)}


class AutoContrast(ImageLayer):
    """Stretch each channel of each image to fill ``value_range`` (its min maps to ``low``, its max to
    ``high``); a constant channel is left unchanged. Active in training and at inference, as Keras.

    Args:
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).

    Example:
    >>> import numpy as np, lamina
    >>> out = lamina.layers.AutoContrast()(np.array([[[[10.0], [20.0], [30.0]]]]))
    >>> lamina.ops.convert_to_numpy(out).ravel().tolist()
    [0.0, 127.5, 255.0]
    """

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = parse_value_range(self, value_range)

    def call(self, inputs, training=True):
        if isinstance(inputs, dict):
            return self._call_dict(inputs, training)
        return self._apply(inputs, self._stretch)

    def _stretch(self, images):
        x = img.rescale_range(images, self.value_range, (0, 255))
        low = ops.min(x, axis=(1, 2), keepdims=True)
        high = ops.max(x, axis=(1, 2), keepdims=True)
        spread = high - low
        ok = ops.greater(spread, 0)
        scaled = ops.clip((x - low) * (255.0 / ops.where(ok, spread, ops.ones_like(spread))), 0.0, 255.0)
        return ops.where(ok, img.rescale_range(scaled, (0, 255), self.value_range), images)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "value_range": list(self.value_range)}


class Equalization(ImageLayer):
    """Histogram equalization of each channel: values are remapped through the normalized cumulative
    histogram (``bins`` bins over ``[0, 255]``), so they spread over the whole range.

    As Keras, the histogram of a channel is taken over the whole batch, a channel whose values fall in one
    bin is left unchanged, and the layer acts only in training (``training=True``, a direct call's default).

    Args:
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        bins: the number of histogram bins (default 256).

    Example:
    >>> import numpy as np, lamina
    >>> out = lamina.layers.Equalization()(np.array([[[[0.0], [10.0], [20.0], [30.0]]]]))
    >>> lamina.ops.convert_to_numpy(out).ravel().tolist()
    [0.0, 85.0, 170.0, 255.0]
    """

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = parse_value_range(self, value_range)
        self.bins = u.check_positive_int(self, "bins", bins)

    def call(self, inputs, training=True):
        if isinstance(inputs, dict):
            return self._call_dict(inputs, training)
        return self._apply(inputs, self._equalize if training else (lambda x: x))

    def _equalize(self, images):
        x = img.rescale_range(images, self.value_range, (0, 255))
        bins = self.bins
        channels = []
        for c in range(x.shape[-1]):
            channel = x[..., c]
            index = ops.clip(ops.cast(channel * ((bins - 1) / 255.0), "int32"), 0, bins - 1)
            hist = ops.segment_sum(ops.ones_like(ops.reshape(channel, (-1,))), ops.reshape(index, (-1,)),
                                   num_segments=bins)
            cdf = ops.cumsum(hist)
            cdf_min = ops.min(ops.where(ops.greater(cdf, 0), cdf, cdf[-1]))  # the first nonzero (cdf is sorted)
            denom = cdf[-1] - cdf_min
            denom = ops.where(ops.equal(denom, 0), ops.ones_like(denom), denom)
            table = ops.clip(ops.round((cdf - cdf_min) * 255.0 / denom), 0, 255)
            lookup = ops.cast(ops.clip(channel / 255.0 * (bins - 1), 0, bins - 1), "int32")
            equalized = ops.reshape(ops.take(table, ops.reshape(lookup, (-1,))), tuple(channel.shape))
            used_bins = ops.sum(ops.cast(ops.greater(hist, 0), "int32"))
            channels.append(ops.where(ops.less_equal(used_bins, 1), channel, equalized))
        return img.rescale_range(ops.stack(channels, axis=-1), (0, 255), self.value_range)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "value_range": list(self.value_range), "bins": self.bins}
