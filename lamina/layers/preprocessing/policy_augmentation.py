"""Warping and policy augmentation (Keras 3): ``RandomPerspective``, ``RandomElasticTransform``, ``RandAugment``,
``AugMix``; and (from ``contrast_and_boxes.py``) ``ContrastLimitedAdaptiveHistogramEqualization`` and
``MaxNumBoundingBoxes``.

The random layers act only when called with ``training=True`` (a direct call's default and what ``fit`` passes);
at inference they return their input. ``RandAugment`` and ``AugMix`` compose lamina's own augmentation layers, as
Keras composes its own. Their random choice of operation is a seeded integer and the chosen operation runs through
``ops.switch`` (on JAX ``lax.switch``: only the chosen branch runs, inside compiled steps too). The draws inside a
branch use seeds taken from the policy layer's own ``SeedGenerator`` before the switch, so no generator state is
written inside a branch.

Every layer here also takes Keras's dict ``{"images": ..., "bounding_boxes": ..., "segmentation_masks": ...,
"labels": ...}``: ``RandomPerspective`` moves boxes and masks with the images, ``RandomElasticTransform`` masks only
(boxes raise an error, as Keras), ``RandAugment`` puts boxes and masks through the operations it chooses, and
``AugMix`` mixes the masks as the images but returns the boxes unchanged (as Keras).
"""

import contextlib

import numpy as np

from lamina import ops
from lamina import random as lrandom
from lamina.layers.preprocessing import _dict_inputs as dicts
from lamina.layers.preprocessing import _utils as u
from lamina.layers.preprocessing._augment_base import is_number, parse_factor, parse_value_range, reshape_batch
from lamina.layers.preprocessing.color_augmentation import (AutoContrast, Equalization, RandomPosterization,
                                                            Solarization)
from lamina.layers.preprocessing.color_jitter import RandomColorDegeneration, RandomSharpness
from lamina.layers.preprocessing.image_augmentation import (RandomBrightness, RandomContrast, RandomImageLayer,
                                                            RandomRotation, RandomTranslation)
from lamina.layers.preprocessing.mixing_augmentation import RandomShear
from lamina.ops.image_extra import elastic_kernel_size, elastic_warp
from lamina.ops.image_geometry import FILL_MODES, _homography, perspective_transform
from lamina.utils.bounding_boxes import geometry

INTERPOLATIONS = ("nearest", "bilinear")


def _draw_probability(layer, batch):
    """Keras's per-image switch: a probability drawn in ``layer.factor``, then a uniform threshold below it."""
    probability = layer._uniform((batch,), layer.factor[0], layer.factor[1], "float32")
    threshold = layer._uniform((batch,), 0.0, 1.0, "float32")
    return ops.less(threshold, probability)


class RandomPerspective(RandomImageLayer):
    """Warp each image (with a random probability drawn in ``factor``) by a random perspective.

    The corners ``(0, 0)``, ``(w - 1, 0)``, ``(0, h - 1)``, ``(w - 1, h - 1)`` move to ``corner * (1 + d)`` with
    ``d`` drawn per coordinate in ``[-scale / 2, scale / 2]`` (so, as Keras, the top-left corner stays); pixels from
    outside the image read ``fill_value``.

    Args:
        factor: a float ``f`` (probability drawn in ``[0, f]``) or a pair, within ``[0, 1]`` (default 1.0).
        scale: the amount of displacement, a number in ``[0, 1]`` (default 1.0).
        interpolation: "bilinear" (default) or "nearest".
        fill_value: the value of pixels from outside the image (default 0.0).
        seed: an int for reproducible draws.
        data_format: "channels_last" or "channels_first" (default: the global setting).
        bounding_box_format: the format of the ``bounding_boxes`` of a dict input (e.g. ``"xyxy"``); None
            (default) when there are none.

    Call arguments:
        inputs: images, or Keras's dict ``{"images": ..., "bounding_boxes": {"boxes": ..., "labels": ...},
            "segmentation_masks": ..., "labels": ...}``: masks are warped with the image (nearest), each box
            becomes the box around its warped corners, clipped to the image (a box left empty gets the label -1).
        training: warp only when True (the default of a direct call).

    Example:
    >>> import numpy as np, lamina
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> out = lamina.layers.RandomPerspective(scale=0.0)(x)  # no displacement
    >>> bool(np.allclose(lamina.ops.convert_to_numpy(out), x, atol=1e-4))
    True
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0, seed=None, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))
        if not (is_number(scale) and 0 <= scale <= 1):
            raise ValueError(f"{u.who(self)}: scale must be a number in [0, 1], but received scale={scale!r}.")
        self.scale = float(scale)
        self.interpolation = u.check_choice(self, "interpolation", interpolation, INTERPOLATIONS)
        if not is_number(fill_value):
            raise ValueError(f"{u.who(self)}: fill_value must be a number, but received fill_value={fill_value!r}.")
        self.fill_value = float(fill_value)

    def _draw(self, batch, height, width):
        apply = _draw_probability(self, batch)
        shift = self._uniform((batch, 4, 2), -0.5 * self.scale, 0.5 * self.scale, "float32")
        corners = np.array([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]], "float32")
        start = ops.broadcast_to(ops.convert_to_tensor(corners)[None], (batch, 4, 2))
        return apply, start, start + start * shift

    def _warp(self, images, params, interpolation):
        apply, start, end = params
        out = perspective_transform(images, start, end, interpolation, self.fill_value, data_format="channels_last")
        return ops.where(reshape_batch(apply), out, images)

    def augment(self, images):
        return self._warp(images, self._draw(*images.shape[:3]), self.interpolation)

    def _augment_dict(self, images, extras, training):
        if not training:
            return images, extras
        batch, height, width, _ = images.shape
        params = self._draw(batch, height, width)

        def boxes(b, labels):
            apply, start, end = params
            to_input = ops.concatenate([_homography(start, end), ops.ones((batch, 1), "float32")], axis=-1)
            to_output = ops.linalg.inv(ops.reshape(to_input, (batch, 3, 3)))  # input corners -> output corners
            to_output = ops.reshape(to_output / to_output[:, 2:3, 2:3], (batch, 9))
            moved = geometry.transform_corners(b, [ops.reshape(to_output[:, i], (-1, 1, 1)) for i in range(8)])
            return ops.where(ops.reshape(apply, (-1, 1, 1)), moved, b), labels

        return self._warp(images, params, self.interpolation), dicts.move(
            extras, height, width, masks=lambda m: self._warp(m, params, "nearest"), boxes=boxes)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "scale": self.scale,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


class RandomElasticTransform(RandomImageLayer):
    """Deform each image (with a random probability drawn in ``factor``) elastically, as
    ``ops.image.elastic_transform``, then clip to ``value_range``.

    A distortion ``s`` is drawn in ``scale`` once per call; the deformation has ``alpha = 0.1 s max(h, w)`` and
    ``sigma = 0.05 s min(h, w)``. The smoothing window is that of the largest ``sigma`` (``scale[1]``), so its
    size is fixed and the layer runs inside compiled steps.

    Args:
        factor: a float ``f`` (probability drawn in ``[0, f]``) or a pair, within ``[0, 1]`` (default 1.0).
        scale: a float ``s`` (range ``[0, s]``) or a pair, within ``[0, 1]`` (default 1.0).
        interpolation: "bilinear" (default) or "nearest".
        fill_mode: "reflect" (default), "constant", "nearest", "wrap" or "mirror".
        fill_value: the value of "constant" filling (default 0.0).
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        seed: an int for reproducible draws.
        data_format: "channels_last" or "channels_first" (default: the global setting).
        bounding_box_format: accepted for Keras compatibility; the layer cannot move bounding boxes.

    Call arguments:
        inputs: images, or Keras's dict ``{"images": ..., "segmentation_masks": ..., "labels": ...}``: masks are
            deformed by the same displacement field (nearest). A dict with ``"bounding_boxes"`` raises an error,
            as Keras.
        training: deform only when True (the default of a direct call).

    Example:
    >>> import numpy as np, lamina
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> out = lamina.layers.RandomElasticTransform(factor=0.0)(x)  # probability 0: unchanged
    >>> bool(np.array_equal(lamina.ops.convert_to_numpy(out), x))
    True
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))
        self.scale = parse_factor(self, scale, (0, 1), "scale")
        self.interpolation = u.check_choice(self, "interpolation", interpolation, INTERPOLATIONS)
        self.fill_mode = u.check_choice(self, "fill_mode", fill_mode, FILL_MODES)
        if not is_number(fill_value):
            raise ValueError(f"{u.who(self)}: fill_value must be a number, but received fill_value={fill_value!r}.")
        self.fill_value = float(fill_value)
        self.value_range = parse_value_range(self, value_range)

    def _draw(self, batch):
        """Per image whether it is deformed, the strength ``s``, and the seed of the displacement field."""
        apply = _draw_probability(self, batch)
        return apply, self._uniform((), self.scale[0], self.scale[1], "float32"), self.seed_generator.next()

    def _deform(self, images, params, interpolation, clip=True):
        apply, s, seed = params
        _, height, width, _ = images.shape
        alpha, sigma = max(height, width) * 0.1 * s, min(height, width) * 0.05 * s
        size = elastic_kernel_size(min(height, width) * 0.05 * self.scale[1])
        order = INTERPOLATIONS.index(interpolation)
        out = elastic_warp(images, alpha, sigma, size, order, self.fill_mode, self.fill_value, seed)
        out = ops.where(reshape_batch(apply), out, images)
        return ops.clip(out, self.value_range[0], self.value_range[1]) if clip else out

    def augment(self, images):
        if self.scale[1] == 0 or self.factor[1] == 0:
            return images
        return self._deform(images, self._draw(images.shape[0]), self.interpolation)

    def _augment_dict(self, images, extras, training):
        if extras.get("boxes") is not None:
            raise dicts.unsupported_boxes(self, "an elastic deformation does not map boxes to boxes")
        if not training or self.scale[1] == 0 or self.factor[1] == 0:
            return images, extras
        params = self._draw(images.shape[0])
        return self._deform(images, params, self.interpolation), dicts.move(
            extras, images.shape[1], images.shape[2], masks=lambda m: self._deform(m, params, "nearest", False))

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "scale": list(self.scale),
                "interpolation": self.interpolation, "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "value_range": list(self.value_range)}


# ---- policies: a seeded choice among augmentation layers ---------------------------------------------------

_SEEDS_PER_BRANCH = 4  # the most draws one augmentation layer makes per call is 3 (RandomShear)


class _SeedPool(lrandom.SeedGenerator):
    """Stands in for a layer's SeedGenerator inside a switch branch: hands out seeds drawn before the branch (a
    branch must not write generator state). Has no state of its own."""

    def __init__(self, seeds, owner):  # no SeedGenerator.__init__: no state variable
        self._seeds = list(seeds)
        self._owner = owner

    def next(self):
        if not self._seeds:
            raise RuntimeError(f"{u.who(self._owner)} drew more than {_SEEDS_PER_BRANCH} times inside a policy "
                               f"branch.")
        return self._seeds.pop(0)


@contextlib.contextmanager
def _drawing_from(layer, seeds):
    own = layer.__dict__.get("seed_generator")
    if own is None:  # AutoContrast and Equalization draw nothing
        yield
        return
    object.__setattr__(layer, "seed_generator", _SeedPool(seeds, layer))  # not tracked: the real one stays
    try:
        yield
    finally:
        object.__setattr__(layer, "seed_generator", own)


def _op_layers(policy, names, factor, value_range, interpolation, seed):
    """The augmentation layers of RandAugment/AugMix, under Keras's attribute names and with Keras's arguments."""
    geometric = {"interpolation": interpolation}
    color = {"value_range": value_range}
    specs = {
        "random_shear": (RandomShear, {"x_factor": factor, "y_factor": factor, **geometric}),
        "random_translation": (RandomTranslation, {"height_factor": factor, "width_factor": factor, **geometric}),
        "random_rotation": (RandomRotation, {"factor": factor, **geometric}),
        "random_brightness": (RandomBrightness, {"factor": factor, **color}),
        "random_color_degeneration": (RandomColorDegeneration, {"factor": factor, **color}),
        "random_contrast": (RandomContrast, {"factor": factor, **color}),
        "random_sharpness": (RandomSharpness, {"factor": factor, **color}),
        "random_posterization": (RandomPosterization, {"factor": max(1, int(8 * factor[1])), **color}),
        "solarization": (Solarization, {"addition_factor": factor, "threshold_factor": factor, **color}),
        "auto_contrast": (AutoContrast, color),
        "equalization": (Equalization, color),
    }
    layers = []
    for name in names:
        cls, kwargs = specs[name]
        if issubclass(cls, RandomImageLayer):
            kwargs = {**kwargs, "seed": seed}  # as Keras (the draws come from the policy's generator)
        layer = cls(name=f"{policy.name}_{name}", **kwargs)
        setattr(policy, name, layer)
        layers.append(layer)
    return layers


class _Branch:
    """One operation of a policy as a switch branch ``(images, seeds) -> images``, or with the extras of a dict
    input (masks and ``xyxy`` boxes, see ``_dict_inputs``) ``(images, seeds, extras) -> (images, extras)``;
    ``layer=None`` is the identity. Equal branches compare equal, so JAX reuses their traces from call to call."""

    def __init__(self, layer):
        self.layer = layer

    def __eq__(self, other):
        return isinstance(other, _Branch) and other.layer is self.layer

    def __hash__(self):
        return hash((_Branch, id(self.layer)))

    def __call__(self, images, seeds, extras=None):
        layer = self.layer
        if layer is None:
            return images if extras is None else (images, extras)
        with _drawing_from(layer, seeds):
            if extras is not None and hasattr(layer, "_augment_dict"):
                out, moved = layer._augment_dict(images, {**extras, "single": False}, True)
                return ops.cast(out, ops.dtype(images)), {key: moved[key] for key in extras}
            if isinstance(layer, AutoContrast):
                out = layer._stretch(images)
            elif isinstance(layer, Equalization):
                out = layer._equalize(images)
            else:
                out = ops.cast(layer.augment(images), ops.dtype(images))
            return out if extras is None else (out, extras)


class _PolicyLayer(RandomImageLayer):
    def __init__(self, value_range, factor, interpolation, seed, data_format, kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = parse_value_range(self, value_range)
        self.factor = parse_factor(self, factor, (0, 1))
        self.interpolation = u.check_choice(self, "interpolation", interpolation, INTERPOLATIONS)

    def _choose(self, index, images, with_identity=False, extras=None):
        """Apply the operation ``index`` (``len(ops)``: none, when ``with_identity``) to the whole batch (and to
        ``extras``, a dict of masks and boxes, when given: then returns ``(images, extras)``)."""
        seeds = tuple(self.seed_generator.next() for _ in range(_SEEDS_PER_BRANCH))
        key = "_branches_and_identity" if with_identity else "_branches"
        branches = self.__dict__.get(key)
        if branches is None:  # kept: JAX's trace caches hold their functions weakly
            branches = [_Branch(layer) for layer in self._ops] + ([_Branch(None)] if with_identity else [])
            object.__setattr__(self, key, branches)
        if extras is None:
            return ops.switch(index, branches, images, seeds)
        return ops.switch(index, branches, images, seeds, extras)

    def get_config(self):
        return {**super().get_config(), "value_range": list(self.value_range), "factor": list(self.factor),
                "interpolation": self.interpolation}


RAND_AUGMENT_OPS = ("random_shear", "random_translation", "random_rotation", "random_brightness",
                    "random_color_degeneration", "random_contrast", "random_sharpness", "random_posterization",
                    "solarization", "auto_contrast", "equalization")


class RandAugment(_PolicyLayer):
    """RandAugment (Cubuk et al., 2019): ``num_ops`` times, apply one operation chosen at random (the same for the
    whole batch) among shear, translation, rotation, brightness, color degeneration, contrast, sharpness,
    posterization, solarization, auto-contrast and equalization, each of strength ``factor``.

    The operations are lamina's own layers with Keras's arguments: ``factor`` is passed to each as its factor
    (e.g. rotations of ``factor * 2 pi``), posterization keeps ``[1, max(1, int(8 factor_high)))`` bits.

    Args:
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        num_ops: how many operations to apply in turn, a non-negative int (default 2).
        factor: the strength, a float ``f`` (range ``[0, f]``) or a pair, within ``[0, 1]`` (default 0.5).
        interpolation: "bilinear" (default) or "nearest", for the geometric operations.
        seed: an int for reproducible draws.
        data_format: "channels_last" or "channels_first" (default: the global setting).
        bounding_box_format: the format of the ``bounding_boxes`` of a dict input (e.g. ``"xyxy"``); None
            (default) when there are none.

    Call arguments:
        inputs: images, or Keras's dict ``{"images": ..., "bounding_boxes": {"boxes": ..., "labels": ...},
            "segmentation_masks": ..., "labels": ...}``: boxes and masks go through the chosen geometric operations
            in turn (shear, translation, rotation; the colour operations leave them), boxes clipped after each.
        training: augment only when True (the default of a direct call).

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.RandAugment(seed=0)
    >>> x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    >>> lamina.ops.shape(layer(x)), bool(np.array_equal(lamina.ops.convert_to_numpy(layer(x, training=False)), x))
    ((2, 8, 8, 3), True)
    """

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear", seed=None,
                 data_format=None, **kwargs):
        super().__init__(value_range, factor, interpolation, seed, data_format, kwargs)
        if isinstance(num_ops, bool) or not isinstance(num_ops, (int, np.integer)) or num_ops < 0:
            raise ValueError(f"{u.who(self)}: num_ops must be a non-negative int, but received num_ops={num_ops!r}.")
        self.num_ops = int(num_ops)
        self._ops = _op_layers(self, RAND_AUGMENT_OPS, self.factor, self.value_range, interpolation, seed)

    def augment(self, images):
        return self._augment(images)[0]

    def _augment(self, images, extras=None):
        if self.num_ops == 0:
            return images, extras
        choices = lrandom.randint((self.num_ops,), 0, len(self._ops), seed=self.seed_generator)
        for i in range(self.num_ops):
            if extras is None:
                images = self._choose(choices[i], images)
            else:
                images, extras = self._choose(choices[i], images, extras=extras)
        return images, extras

    def _augment_dict(self, images, extras, training):
        if not training:
            return images, extras
        moving = {key: extras[key] for key in ("segmentation_masks", "boxes", "box_labels")}
        images, moved = self._augment(images, moving)
        return images, {**extras, **moved}

    def get_config(self):
        return {**super().get_config(), "num_ops": self.num_ops}


AUG_MIX_OPS = ("random_shear", "random_translation", "random_rotation", "random_posterization", "solarization",
               "auto_contrast", "equalization")
AUG_MIX_COLOR_OPS = ("random_brightness", "random_color_degeneration", "random_contrast", "random_sharpness")


class AugMix(_PolicyLayer):
    """AugMix (Hendrycks et al., 2020): ``num_chains`` chains of up to ``chain_depth`` random operations each (every
    step picks one of the operations, or none, at random; the same for the whole batch), mixed with Dirichlet
    weights, then blended with the input by a Beta weight: ``w x + (1 - w) sum_k d_k chain_k(x)``, clipped to
    ``value_range``.

    Args:
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        num_chains: the number of chains, a positive int (default 3).
        chain_depth: the most operations in a chain, a positive int (default 3).
        factor: the strength of the operations, a float ``f`` (range ``[0, f]``) or a pair in ``[0, 1]``
            (default 0.3).
        alpha: the parameter of the Dirichlet and Beta distributions, > 0 (default 1.0).
        all_ops: also use brightness, color degeneration, contrast and sharpness (default True) besides shear,
            translation, rotation, posterization, solarization, auto-contrast and equalization.
        interpolation: "bilinear" (default) or "nearest", for the geometric operations.
        seed: an int for reproducible draws.
        data_format: "channels_last" or "channels_first" (default: the global setting).
        bounding_box_format: the format of the ``bounding_boxes`` of a dict input; None (default) when there are
            none.

    Call arguments:
        inputs: images, or Keras's dict ``{"images": ..., "segmentation_masks": ..., "bounding_boxes": ...,
            "labels": ...}``: masks go through the same chains and are mixed with the same weights (so they come
            out as float weights of the classes, not clipped); boxes and labels are returned unchanged, as Keras
            (a blend of several warps has no single box).
        training: augment only when True (the default of a direct call).

    Example:
    >>> import numpy as np, lamina
    >>> x = np.full((2, 6, 6, 3), 100.0)
    >>> out = lamina.layers.AugMix(all_ops=False, seed=1)(x)
    >>> lamina.ops.shape(out), bool(np.all(lamina.ops.convert_to_numpy(out) <= 255.0))
    ((2, 6, 6, 3), True)
    """

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3, alpha=1.0, all_ops=True,
                 interpolation="bilinear", seed=None, data_format=None, **kwargs):
        super().__init__(value_range, factor, interpolation, seed, data_format, kwargs)
        self.num_chains = u.check_positive_int(self, "num_chains", num_chains)
        self.chain_depth = u.check_positive_int(self, "chain_depth", chain_depth)
        if not (is_number(alpha) and alpha > 0):
            raise ValueError(f"{u.who(self)}: alpha must be a positive number, but received alpha={alpha!r}.")
        self.alpha = float(alpha)
        if not isinstance(all_ops, (bool, np.bool_)):
            raise ValueError(f"{u.who(self)}: all_ops must be True or False, but received all_ops={all_ops!r}.")
        self.all_ops = bool(all_ops)
        names = AUG_MIX_OPS + (AUG_MIX_COLOR_OPS if self.all_ops else ())
        self._ops = _op_layers(self, names, self.factor, self.value_range, interpolation, seed)

    def augment(self, images):
        return self._augment(images)[0]

    def _augment(self, images, masks=None):
        dtype = ops.dtype(images)
        gammas = lrandom.gamma((self.num_chains,), self.alpha, dtype="float32", seed=self.seed_generator)
        mixing = ops.cast(gammas / ops.sum(gammas), dtype)
        keep = ops.cast(lrandom.beta((), self.alpha, self.alpha, dtype="float32", seed=self.seed_generator), dtype)
        steps = lrandom.randint((self.num_chains, self.chain_depth), 0, len(self._ops) + 1, seed=self.seed_generator)
        mixed = mixed_masks = None
        for c in range(self.num_chains):
            chain, extras = images, {"segmentation_masks": masks, "boxes": None, "box_labels": None}
            for d in range(self.chain_depth):
                if masks is None:
                    chain = self._choose(steps[c, d], chain, with_identity=True)
                else:
                    chain, extras = self._choose(steps[c, d], chain, with_identity=True, extras=extras)
            mixed = chain * mixing[c] if mixed is None else mixed + chain * mixing[c]
            if masks is not None:
                part = extras["segmentation_masks"] * ops.cast(mixing[c], ops.dtype(masks))
                mixed_masks = part if mixed_masks is None else mixed_masks + part
        out = ops.clip(keep * images + (1.0 - keep) * mixed, self.value_range[0], self.value_range[1])
        if masks is None:
            return out, None
        keep = ops.cast(keep, ops.dtype(masks))
        return out, keep * masks + (1.0 - keep) * mixed_masks

    def _augment_dict(self, images, extras, training):
        if not training:
            return images, extras
        images, masks = self._augment(images, extras["segmentation_masks"])
        return images, {**extras, "segmentation_masks": masks if masks is not None else extras["segmentation_masks"]}

    def get_config(self):
        return {**super().get_config(), "num_chains": self.num_chains, "chain_depth": self.chain_depth,
                "alpha": self.alpha, "all_ops": self.all_ops}


from lamina.layers.preprocessing.contrast_and_boxes import (  # noqa: E402,F401  (the same Keras family)
    ContrastLimitedAdaptiveHistogramEqualization,
    MaxNumBoundingBoxes,
)

__all__ = ["RandomPerspective", "RandomElasticTransform", "RandAugment", "AugMix",
           "ContrastLimitedAdaptiveHistogramEqualization", "MaxNumBoundingBoxes"]
