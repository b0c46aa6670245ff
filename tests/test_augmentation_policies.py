"""``RandomPerspective``, ``RandomElasticTransform``, ``RandAugment``, ``AugMix``, CLAHE and ``MaxNumBoundingBoxes``.

The random layers are checked against NumPy/SciPy references built from the same draws: each reference replays
the layer's documented draw order from a ``lamina.random.SeedGenerator`` with the layer's seed, and pins the rest
(``factor=0`` makes every RandAugment/AugMix operation deterministic). Also: inference identity, seeding, config
round trips, both data formats, single images, a compiled ``fit``, and the messages of bad arguments. Runs on
whichever backend ``LAMINA_BACKEND`` selects (CI runs the file on each).
"""

import numpy as np
import pytest
from scipy import ndimage

import lamina
from lamina import layers, ops
from lamina import random as lrandom

RNG = np.random.default_rng(0)
X = np.round(RNG.uniform(0, 255, size=(2, 9, 11, 3))).astype("float32")  # integer values: stable truncations


def np_out(layer, x, **kwargs):
    return ops.convert_to_numpy(layer(x, **kwargs))


def replay(seed):
    return lrandom.SeedGenerator(seed)


def uniform(gen, shape, low, high):
    return ops.convert_to_numpy(lrandom.uniform(shape, low, high, dtype="float32", seed=gen)).astype("float64")


# ---- NumPy references ------------------------------------------------------------------------------------

def posterize(x, bits):
    step = 2.0 ** (8 - bits)
    return np.floor(np.floor(np.clip(x, 0, 255)) / step) * step


def auto_contrast(x):
    lo, hi = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
    return np.where(hi > lo, np.clip((x - lo) * 255.0 / np.where(hi > lo, hi - lo, 1.0), 0, 255), x)


def equalize(x):
    """Per channel, over the whole batch (as Keras): values remapped through the normalized cumulative histogram."""
    out = np.empty_like(x)
    for c in range(x.shape[-1]):
        ch = x[..., c]
        idx = np.clip(ch.astype(int), 0, 255)
        hist = np.bincount(idx.ravel(), minlength=256)
        if np.count_nonzero(hist) <= 1:
            out[..., c] = ch
            continue
        cdf = np.cumsum(hist)
        cdf_min = cdf[np.nonzero(cdf)[0][0]]
        table = np.clip(np.round((cdf - cdf_min) * 255.0 / ((cdf[-1] - cdf_min) or 1)), 0, 255)
        out[..., c] = table[np.clip(ch, 0, 255).astype(int)]
    return out


def smooth3(x):
    k = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], dtype="float64") / 13.0
    p = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    h, w = x.shape[1:3]
    return sum(p[:, i:i + h, j:j + w] * k[i, j] for i in range(3) for j in range(3))


IDENTITY = (lambda x: x)
# the eleven RandAugment operations at factor=0, in Keras's order
RAND_AUGMENT_AT_ZERO = [IDENTITY, IDENTITY, IDENTITY, IDENTITY, IDENTITY, IDENTITY,  # shear .. contrast
                        lambda x: np.clip(smooth3(x), 0, 255),  # sharpness, factor 0: the smoothed image
                        lambda x: posterize(x, 1), lambda x: 255.0 - np.clip(x, 0, 255),  # posterization, solarization
                        auto_contrast, equalize]
# AugMix without the color operations: shear, translation, rotation, posterization, solarization, auto-contrast,
# equalization, and "none"
AUG_MIX_AT_ZERO = [IDENTITY, IDENTITY, IDENTITY, lambda x: posterize(x, 1), lambda x: 255.0 - np.clip(x, 0, 255),
                   auto_contrast, equalize, IDENTITY]


def homography(start, end):
    """The 8 numbers mapping each end point (output) to its start point (input)."""
    rows, rhs = [], []
    for (sx, sy), (ex, ey) in zip(start, end):
        rows.append([ex, ey, 1, 0, 0, 0, -sx * ex, -sx * ey])
        rows.append([0, 0, 0, ex, ey, 1, -sy * ex, -sy * ey])
        rhs += [sx, sy]
    return np.linalg.solve(np.array(rows), np.array(rhs))


def perspective_ref(x, seed, factor, scale, fill_value):
    gen = replay(seed)
    b, h, w, c = x.shape
    probability = uniform(gen, (b,), *factor)
    threshold = uniform(gen, (b,), 0.0, 1.0)
    shift = uniform(gen, (b, 4, 2), -0.5 * scale, 0.5 * scale)
    corners = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]], "float64")
    out = x.astype("float64").copy()
    ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    for i in range(b):
        if not threshold[i] < probability[i]:
            continue
        t = homography(corners, corners + corners * shift[i])
        k = t[6] * xs + t[7] * ys + 1
        x_in, y_in = (t[0] * xs + t[1] * ys + t[2]) / k, (t[3] * xs + t[4] * ys + t[5]) / k
        for ch in range(c):
            out[i, :, :, ch] = ndimage.map_coordinates(x[i, :, :, ch].astype("float64"), [y_in, x_in], order=1,
                                                       mode="grid-constant", cval=fill_value)
    return out, threshold < probability


def elastic_ref(x, seed, factor, scale, fill_mode, fill_value, value_range=(0, 255)):
    gen = replay(seed)
    b, h, w, c = x.shape
    probability = uniform(gen, (b,), factor, factor)
    threshold = uniform(gen, (b,), 0.0, 1.0)
    s = uniform(gen, (), scale, scale)
    alpha, sigma = max(h, w) * 0.1 * s, min(h, w) * 0.05 * s
    noise = ops.convert_to_numpy(lrandom.normal((2 * b, h, w, 1), dtype="float32", seed=gen))[..., 0]
    radius = (int(6 * sigma) | 1) // 2
    smooth = np.stack([ndimage.gaussian_filter(n.astype("float64") * sigma, sigma, mode="constant",
                                               truncate=radius / sigma) for n in noise])
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    modes = {"reflect": "reflect", "constant": "grid-constant", "nearest": "nearest", "wrap": "grid-wrap",
             "mirror": "mirror"}
    out = x.astype("float64").copy()
    for i in range(b):
        if not threshold[i] < probability[i]:
            continue
        coords = [rows + alpha * smooth[b + i], cols + alpha * smooth[i]]
        for ch in range(c):
            out[i, :, :, ch] = ndimage.map_coordinates(x[i, :, :, ch].astype("float64"), coords, order=1,
                                                       mode=modes[fill_mode], cval=fill_value)
    return np.clip(out, *value_range), threshold < probability


def clahe_ref(x, clip_limit, grid):
    """CLAHE written out per image, channel and tile (channels-last, values on [0, 255])."""
    b, h, w, c = x.shape
    gh, gw = grid
    th, tw = -(-h // gh), -(-w // gw)
    padded = np.pad(x, [(0, 0), (0, th * gh - h), (0, tw * gw - w), (0, 0)], mode="symmetric")
    bins = np.clip(np.trunc(padded).astype(int), 0, 255)
    out = np.zeros(x.shape)
    for i in range(b):
        for ch in range(c):
            maps = np.zeros((gh, gw, 256))
            for r in range(gh):
                for q in range(gw):
                    hist = np.bincount(bins[i, r * th:(r + 1) * th, q * tw:(q + 1) * tw, ch].ravel(),
                                       minlength=256).astype("float64")
                    if clip_limit > 0:
                        limit = clip_limit * th * tw / 256.0
                        hist = np.minimum(hist, limit) + np.maximum(hist - limit, 0).sum() / 256.0
                    cdf = np.cumsum(hist)
                    maps[r, q] = np.clip((cdf - cdf[0]) * 255.0 / ((th * tw - cdf[0]) or 1.0), 0, 255)
            for y in range(h):
                gy = (y - th / 2.0) / th
                y0 = int(np.floor(gy))
                wy = gy - y0
                r0, r1 = min(max(y0, 0), gh - 1), min(max(y0 + 1, 0), gh - 1)
                for z in range(w):
                    gx = (z - tw / 2.0) / tw
                    x0 = int(np.floor(gx))
                    wx = gx - x0
                    q0, q1 = min(max(x0, 0), gw - 1), min(max(x0 + 1, 0), gw - 1)
                    v = bins[i, y, z, ch]
                    top = maps[r0, q0, v] * (1 - wx) + maps[r0, q1, v] * wx
                    bottom = maps[r1, q0, v] * (1 - wx) + maps[r1, q1, v] * wx
                    out[i, y, z, ch] = top * (1 - wy) + bottom * wy
    return out


# ---- the layers against their references ------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_perspective_matches_reference(seed):
    out = np_out(layers.RandomPerspective(factor=(0.5, 1.0), scale=0.6, fill_value=7.0, seed=seed), X)
    ref, applied = perspective_ref(X, seed, (0.5, 1.0), 0.6, 7.0)
    assert out.shape == X.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=2e-2)
    for i in range(X.shape[0]):
        assert applied[i] == (not np.allclose(out[i], X[i]))


def test_perspective_pinned_edges():
    np.testing.assert_allclose(np_out(layers.RandomPerspective(scale=0.0, seed=1), X), X, atol=1e-3)
    np.testing.assert_array_equal(np_out(layers.RandomPerspective(factor=0.0, seed=1), X), X)
    out = np_out(layers.RandomPerspective(factor=(1.0, 1.0), scale=1.0, interpolation="nearest", seed=4), X)
    values = set(np.unique(out)) - {0.0}
    assert values <= set(np.unique(X)), "nearest interpolation only copies input values (or the fill value)"


@pytest.mark.parametrize("fill_mode", ["reflect", "constant", "nearest", "wrap", "mirror"])
def test_elastic_matches_reference(fill_mode):
    x = np.round(RNG.uniform(0, 255, size=(3, 20, 24, 2))).astype("float32")
    layer = layers.RandomElasticTransform(factor=(1.0, 1.0), scale=(1.0, 1.0), fill_mode=fill_mode,
                                          fill_value=300.0, seed=5)
    out = np_out(layer, x)
    ref, _ = elastic_ref(x, 5, 1.0, 1.0, fill_mode, 300.0)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=2e-2)
    assert np.abs(out - x).mean() > 1.0 and out.max() <= 255.0  # it moved; filled values are clipped


def test_elastic_probability_and_value_range():
    x = X / 255.0
    layer = layers.RandomElasticTransform(factor=(0.5, 0.5), scale=(0.8, 0.8), value_range=(0, 1), seed=9)
    out = np_out(layer, x)
    ref, applied = elastic_ref(x, 9, 0.5, 0.8, "reflect", 0.0, value_range=(0, 1))
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    for i in range(x.shape[0]):
        assert applied[i] == (not np.allclose(out[i], x[i]))
    np.testing.assert_array_equal(np_out(layers.RandomElasticTransform(scale=0.0), X), X)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_rand_augment_matches_reference_at_factor_zero(seed):
    layer = layers.RandAugment(num_ops=3, factor=0.0, seed=seed)
    out = np_out(layer, X)
    choices = ops.convert_to_numpy(lrandom.randint((3,), 0, 11, seed=replay(seed)))
    ref = X.astype("float64")
    for c in choices:
        ref = RAND_AUGMENT_AT_ZERO[c](ref)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=2e-3)


def test_rand_augment_choices_vary_between_calls():
    layer = layers.RandAugment(num_ops=1, factor=0.0, seed=3)
    outs = [np_out(layer, X) for _ in range(12)]
    candidates = [f(X.astype("float64")) for f in RAND_AUGMENT_AT_ZERO]
    seen = set()
    for o in outs:
        distances = [np.abs(o - c).max() for c in candidates]
        assert min(distances) < 2e-3, "each call applies one of the eleven operations"
        seen.add(int(np.argmin(distances)) if min(distances[6:]) < 2e-3 else 0)
    assert len(seen) >= 3
    np.testing.assert_array_equal(np_out(layers.RandAugment(num_ops=0, seed=1), X), X)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_aug_mix_matches_reference_at_factor_zero(seed):
    layer = layers.AugMix(num_chains=3, chain_depth=2, factor=0.0, alpha=0.7, all_ops=False, seed=seed)
    out = np_out(layer, X)
    gen = replay(seed)
    gammas = ops.convert_to_numpy(lrandom.gamma((3,), 0.7, dtype="float32", seed=gen)).astype("float64")
    keep = float(ops.convert_to_numpy(lrandom.beta((), 0.7, 0.7, dtype="float32", seed=gen)))
    steps = ops.convert_to_numpy(lrandom.randint((3, 2), 0, 8, seed=gen))
    x = X.astype("float64")
    mixed = 0.0
    for c in range(3):
        chain = x
        for d in range(2):
            chain = AUG_MIX_AT_ZERO[steps[c, d]](chain)
        mixed = mixed + chain * gammas[c] / gammas.sum()
    ref = np.clip(keep * x + (1 - keep) * mixed, 0, 255)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=5e-3)


@pytest.mark.parametrize("grid,clip_limit", [((3, 4), 4.0), ((2, 2), 1.0), ((1, 1), 0.0), ((4, 3), 2.5)])
def test_clahe_matches_reference(grid, clip_limit):
    x = np.cumsum(RNG.uniform(0, 9, size=(2, 13, 14, 3)), axis=2).clip(0, 255).astype("float32")
    layer = layers.ContrastLimitedAdaptiveHistogramEqualization(clip_limit=clip_limit, tile_grid_size=grid)
    out = np_out(layer, x)
    np.testing.assert_allclose(out, clahe_ref(x, clip_limit, grid), rtol=1e-5, atol=2e-3)
    np.testing.assert_allclose(np_out(layer, x, training=False), out)  # active at inference too
    assert out.std() > x.std() * 0.9


def test_clahe_value_range_dtype_and_formats():
    x = np.cumsum(RNG.uniform(0, 9, size=(2, 10, 12, 3)), axis=2).clip(0, 255)
    unit = np_out(layers.ContrastLimitedAdaptiveHistogramEqualization(value_range=(0, 1), tile_grid_size=(2, 3)),
                  (x / 255.0).astype("float32"))
    np.testing.assert_allclose(unit, clahe_ref(x.astype("float32"), 4.0, (2, 3)) / 255.0, atol=1e-4)
    ints = np_out(layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 3)), x.astype("uint8"))
    assert ints.dtype == np.uint8
    np.testing.assert_array_equal(ints, np.trunc(clahe_ref(x.astype("uint8"), 4.0, (2, 3))).astype("uint8"))
    layer = layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 3), data_format="channels_first")
    first = np_out(layer, np.transpose(x, (0, 3, 1, 2)).astype("float32"))
    np.testing.assert_allclose(np.transpose(first, (0, 2, 3, 1)), clahe_ref(x, 4.0, (2, 3)), atol=2e-3)


# ---- behaviour shared by the random layers ---------------------------------------------------------------

RANDOM = {
    "RandomPerspective": dict(factor=(0.7, 1.0), scale=0.5),
    "RandomElasticTransform": dict(factor=(0.7, 1.0), scale=(0.5, 1.0)),
    "RandAugment": dict(num_ops=2, factor=0.6),
    "AugMix": dict(num_chains=2, chain_depth=2, factor=0.5),
}


def make(name, **kwargs):
    return getattr(layers, name)(**{**RANDOM.get(name, {}), **kwargs})


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_inference_is_identity_and_training_is_not(name):
    layer = make(name, seed=2)
    np.testing.assert_array_equal(np_out(layer, X, training=False), X)
    outs = [np_out(layer, X) for _ in range(4)]
    assert any(not np.allclose(o, X, atol=1e-3) for o in outs)
    assert all(o.shape == X.shape and o.dtype == np.float32 and np.all(np.isfinite(o)) for o in outs)
    assert layer.compute_output_shape((None, 9, 11, 3)) == (None, 9, 11, 3)
    ints = np_out(layer, X.astype("uint8"))
    assert ints.dtype == np.float32 and ints.shape == X.shape


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_seeded_draws_repeat_and_advance(name):
    a, b = make(name, seed=11), make(name, seed=11)
    first = np_out(a, X)
    np.testing.assert_array_equal(first, np_out(b, X))
    later = [np_out(a, X) for _ in range(3)]
    assert any(not np.allclose(first, o) for o in later), "the generator should advance between calls"


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_channels_first_and_single_images(name):
    last = np_out(make(name, seed=6), X)
    first = np_out(make(name, seed=6, data_format="channels_first"), np.transpose(X, (0, 3, 1, 2)))
    np.testing.assert_allclose(np.transpose(first, (0, 2, 3, 1)), last, rtol=1e-5, atol=1e-3)
    single = np_out(make(name, seed=6), X[0])
    assert single.shape == X[0].shape
    np.testing.assert_allclose(single, np_out(make(name, seed=6), X[:1])[0], rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("name", sorted(RANDOM) + ["ContrastLimitedAdaptiveHistogramEqualization"])
def test_config_round_trip(name):
    kwargs = {} if name.startswith("Contrast") else {"seed": 4}
    layer = make(name, value_range=(0, 255), **kwargs) if name != "RandomPerspective" else make(name, **kwargs)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    np.testing.assert_array_equal(np_out(clone, X), np_out(type(layer).from_config(config), X))


def test_configs_follow_keras():
    assert layers.RandAugment().get_config()["factor"] == [0.0, 0.5]
    assert layers.AugMix().get_config()["factor"] == [0.0, 0.3]
    config = layers.RandomElasticTransform(scale=0.5).get_config()
    assert config["scale"] == [0.0, 0.5] and config["factor"] == [0.0, 1.0] and config["fill_mode"] == "reflect"
    config = layers.RandomPerspective().get_config()
    assert {k: config[k] for k in ("factor", "scale", "interpolation", "fill_value")} == {
        "factor": [0.0, 1.0], "scale": 1.0, "interpolation": "bilinear", "fill_value": 0.0}
    config = layers.ContrastLimitedAdaptiveHistogramEqualization().get_config()
    assert (config["clip_limit"], config["tile_grid_size"], config["value_range"]) == (4.0, [8, 8], [0.0, 255.0])
    augmix = layers.AugMix(all_ops=False, seed=3)
    assert len(augmix._ops) == 7 and augmix.random_posterization.factor == (1, 2)  # max(1, int(8 * 0.3))


BAD = {
    "RandomPerspective": [(dict(scale=1.5), "scale=1.5"), (dict(interpolation="bicubic"), "interpolation='bicubic'"),
                          (dict(factor=2.0), "factor=2.0"), (dict(fill_value="x"), "fill_value='x'")],
    "RandomElasticTransform": [(dict(scale=(2.0, 3.0)), "scale=(2.0, 3.0)"),
                               (dict(fill_mode="edge"), "fill_mode='edge'"),
                               (dict(value_range=(1, 1)), "value_range"), (dict(factor=-0.5), "factor=-0.5")],
    "RandAugment": [(dict(num_ops=-1), "num_ops=-1"), (dict(factor=1.5), "factor=1.5"),
                    (dict(interpolation="area"), "interpolation='area'"), (dict(value_range="a"), "value_range")],
    "AugMix": [(dict(num_chains=0), "num_chains=0"), (dict(chain_depth=1.5), "chain_depth=1.5"),
               (dict(alpha=0.0), "alpha=0.0"), (dict(all_ops="yes"), "all_ops='yes'")],
    "ContrastLimitedAdaptiveHistogramEqualization": [(dict(clip_limit=-1), "clip_limit=-1"),
                                                     (dict(tile_grid_size=(0, 2)), "tile_grid_size=(0, 2)"),
                                                     (dict(value_range=(0,)), "value_range=(0,)")],
    "MaxNumBoundingBoxes": [(dict(max_number=0), "max_number=0"),
                            (dict(max_number=2, fill_value="a"), "fill_value")],
}


@pytest.mark.parametrize("name,bad", [(n, b) for n in sorted(BAD) for b in BAD[n]])
def test_bad_arguments_are_named(name, bad):
    kwargs, fragment = bad
    with pytest.raises(ValueError) as info:
        getattr(layers, name)(**kwargs)
    message = str(info.value)
    assert name in message and "received" in message and fragment in message, message


def test_layers_refuse_other_ranks():
    with pytest.raises(ValueError, match="RandAugment.*expected images of rank 3 .* or 4 .* received shape"):
        layers.RandAugment()(np.ones((4, 4), "float32"))


# ---- inside a model ----------------------------------------------------------------------------------------

def test_fit_with_every_layer_then_predict_skips_them():
    x = X[:1].repeat(4, axis=0) + RNG.uniform(0, 1, size=(4, 9, 11, 3)).astype("float32")
    y = np.array([0, 1, 0, 1])
    augment = [layers.RandomPerspective(scale=0.3, seed=1), layers.RandomElasticTransform(seed=2),
               layers.RandAugment(num_ops=1, seed=3), layers.AugMix(num_chains=2, chain_depth=1, seed=4),
               layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))]
    dense = layers.Dense(2)
    model = lamina.Sequential([lamina.Input((9, 11, 3))] + augment + [layers.Rescaling(1 / 255.0), layers.Flatten(),
                                                                      dense])
    model.compile("sgd", lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=2, batch_size=2, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    states = [ops.convert_to_numpy(a.seed_generator.state.value).copy() for a in augment[:4]]
    model.fit(x, y, epochs=1, batch_size=2, verbose=0)
    moved = [not np.array_equal(s, ops.convert_to_numpy(a.seed_generator.state.value))
             for s, a in zip(states, augment[:4])]
    assert all(moved), "each layer's seed state advances through (compiled) training steps"
    w, b = (ops.convert_to_numpy(v) for v in dense.weights)
    clahe = np_out(augment[4], x)  # the only layer active at inference
    expected = (clahe / 255.0).reshape(4, -1) @ w + b
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-4)


# ---- MaxNumBoundingBoxes -----------------------------------------------------------------------------------

def test_max_num_bounding_boxes_pads_and_truncates():
    boxes = RNG.uniform(0, 10, size=(2, 3, 4)).astype("float32")
    labels = np.array([[1, 2, 3], [4, 5, 6]])
    sample = {"images": X, "bounding_boxes": {"boxes": boxes, "labels": labels}, "labels": np.array([0, 1])}
    out = layers.MaxNumBoundingBoxes(max_number=5, fill_value=-7)(sample)
    got = ops.convert_to_numpy(out["bounding_boxes"]["boxes"])
    assert got.shape == (2, 5, 4)
    np.testing.assert_array_equal(got[:, :3], boxes)
    np.testing.assert_array_equal(got[:, 3:], -7.0)
    np.testing.assert_array_equal(ops.convert_to_numpy(out["bounding_boxes"]["labels"]),
                                  [[1, 2, 3, -7, -7], [4, 5, 6, -7, -7]])
    np.testing.assert_array_equal(ops.convert_to_numpy(out["images"]), X)  # everything else passes through
    np.testing.assert_array_equal(ops.convert_to_numpy(out["labels"]), [0, 1])
    short = layers.MaxNumBoundingBoxes(max_number=2)(sample)
    np.testing.assert_array_equal(ops.convert_to_numpy(short["bounding_boxes"]["boxes"]), boxes[:, :2])
    one = layers.MaxNumBoundingBoxes(max_number=4)({"bounding_boxes": {"boxes": boxes[0], "labels": labels[0]}})
    np.testing.assert_array_equal(ops.convert_to_numpy(one["bounding_boxes"]["labels"]), [1, 2, 3, -1])
    np.testing.assert_array_equal(np_out(layers.MaxNumBoundingBoxes(3), X), X)  # a plain tensor passes through


def test_max_num_bounding_boxes_shapes_config_and_errors():
    layer = layers.MaxNumBoundingBoxes(max_number=6, fill_value=-2)
    shapes = layer.compute_output_shape({"images": (2, 8, 8, 3), "bounding_boxes": {"boxes": (2, 9, 4),
                                                                                   "labels": (2, 9)}})
    assert shapes["bounding_boxes"] == {"boxes": (2, 6, 4), "labels": (2, 6)} and shapes["images"] == (2, 8, 8, 3)
    config = layer.get_config()
    assert config["max_number"] == 6 and config["fill_value"] == -2
    assert layers.MaxNumBoundingBoxes.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="MaxNumBoundingBoxes.*only 'boxes' and 'labels'.*received the keys"):
        layer({"bounding_boxes": {"boxes": np.zeros((1, 2, 4)), "scores": np.zeros((1, 2))}})
    with pytest.raises(ValueError, match=r"MaxNumBoundingBoxes.*bounding_boxes\['boxes'\] with a boxes axis.*\(4,\)"):
        layer({"bounding_boxes": {"boxes": np.zeros((4,)), "labels": np.zeros((1,))}})
