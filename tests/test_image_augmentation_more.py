"""The Keras-3 image augmentation layers added after the first set (color, mixing and geometric ones).

Each layer is checked against a NumPy reference with its factor pinned (so the random draw does not matter),
for output shape and dtype, inference versus training, seeding, ``get_config`` round trips, both data
formats, single images, and the messages of bad arguments. Runs on whichever backend ``LAMINA_BACKEND``
selects (CI runs the file on each).
"""

import colorsys

import numpy as np
import pytest

import lamina
from lamina import layers, ops

RNG = np.random.default_rng(0)
X = RNG.uniform(0, 255, size=(2, 5, 6, 3)).astype("float32")
GRAY_W = np.array([0.2989, 0.5870, 0.1140], dtype="float32")


def np_out(layer, x, **kwargs):
    return ops.convert_to_numpy(layer(x, **kwargs))


def gray(x):
    return (x @ GRAY_W)[..., None]


def hsv_map(x, fn, scale=255.0):
    """Apply ``fn(h, s, v) -> (h, s, v)`` to every pixel of ``x`` (values in [0, scale]) with colorsys."""
    flat = x.reshape(-1, 3) / scale
    out = np.array([colorsys.hsv_to_rgb(*fn(*colorsys.rgb_to_hsv(*p))) for p in flat])
    return (out * scale).reshape(x.shape)


def posterize(x, bits):
    step = 2.0 ** (8 - bits)
    return np.floor(np.floor(x) / step) * step


def auto_contrast(x):
    lo, hi = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
    return np.where(hi > lo, (x - lo) * 255.0 / np.where(hi > lo, hi - lo, 1.0), x)


def equalize(x, bins=256):
    out = np.empty_like(x)
    for c in range(x.shape[-1]):
        ch = x[..., c]
        idx = np.clip((ch * (bins - 1) / 255.0).astype(int), 0, bins - 1)
        hist = np.bincount(idx.ravel(), minlength=bins)
        if np.count_nonzero(hist) <= 1:
            out[..., c] = ch
            continue
        cdf = np.cumsum(hist)
        cdf_min = cdf[np.nonzero(cdf)[0][0]]
        denom = cdf[-1] - cdf_min or 1
        table = np.clip(np.round((cdf - cdf_min) * 255.0 / denom), 0, 255)
        out[..., c] = table[np.clip(ch / 255.0 * (bins - 1), 0, bins - 1).astype(int)]
    return out


def smooth3(x):
    k = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], dtype="float64") / 13.0
    p = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    h, w = x.shape[1:3]
    return sum(p[:, i:i + h, j:j + w] * k[i, j] for i in range(3) for j in range(3))


def gaussian_blur(x, sigma, sizes=(3, 3)):
    def k1(size, s):
        t = np.arange(size) - (size - 1) / 2.0
        k = np.exp(-0.5 * (t / s) ** 2)
        return k / k.sum()
    kernel = np.outer(k1(sizes[1], sigma[1]), k1(sizes[0], sigma[0]))
    ph, pw = sizes[1] // 2, sizes[0] // 2
    p = np.pad(x, [(0, 0), (ph, ph), (pw, pw), (0, 0)])
    h, w = x.shape[1:3]
    out = sum(p[:, i:i + h, j:j + w] * kernel[i, j] for i in range(sizes[1]) for j in range(sizes[0]))
    return np.clip(out, 0, 255)


def shear_x(x, s):
    """Bilinear sampling of ``x`` at column ``col + s * row`` with zeros outside."""
    h, w = x.shape[1:3]
    out = np.zeros_like(x)
    for r in range(h):
        for c in range(w):
            src = c + s * r
            c0 = int(np.floor(src))
            frac = src - c0
            for cc, wt in ((c0, 1 - frac), (c0 + 1, frac)):
                if 0 <= cc < w:
                    out[:, r, c] += wt * x[:, r, cc]
    return out


# name -> (deterministic kwargs, NumPy reference of the training output on X)
DETERMINISTIC = {
    "RandomGrayscale": (dict(factor=1.0), lambda x: np.broadcast_to(gray(x), x.shape)),
    "RandomInvert": (dict(factor=(1.0, 1.0)), lambda x: 255.0 - x),
    "Solarization": (dict(), lambda x: 255.0 - x),
    "RandomPosterization": (dict(factor=(3, 3)), lambda x: posterize(x, 3)),
    "AutoContrast": (dict(), auto_contrast),
    "Equalization": (dict(), equalize),
    "RandomSaturation": (dict(factor=(0.25, 0.25)), lambda x: hsv_map(x, lambda h, s, v: (h, s / 3.0, v))),
    "RandomHue": (dict(factor=(1.0, 1.0)), lambda x: hsv_map(x, lambda h, s, v: ((h + 0.5) % 1.0, s, v))),
    "RandomColorDegeneration": (dict(factor=(0.3, 0.3)), lambda x: np.clip(x + 0.3 * (gray(x) - x), 0, 255)),
    "RandomSharpness": (dict(factor=(0.9, 0.9)),
                        lambda x: np.clip(x + (1 - 1.8) * (smooth3(x) - x), 0, 255)),
    "RandomColorJitter": (dict(brightness_factor=(0.1, 0.1), hue_factor=(1.0, 1.0)),
                          lambda x: hsv_map(np.clip(x + 25.5, 0, 255), lambda h, s, v: ((h + 0.5) % 1, s, v))),
    "RandomErasing": (dict(factor=(1.0, 1.0), scale=(1.0, 1.0), fill_value=3.0), lambda x: np.full_like(x, 3.0)),
    "RandomGaussianBlur": (dict(factor=(1.0, 1.0), sigma=(0.7, 0.7), kernel_size=(3, 5)),
                           lambda x: gaussian_blur(x, (0.7 + 1e-6, 0.7 + 1e-6), (3, 5))),
    "RandomShear": (dict(x_factor=0.0, y_factor=0.0), lambda x: x),
}

# layers that change images at inference too, or keep them in training
ACTIVE_AT_INFERENCE = {"AutoContrast"}

# name -> kwargs whose draws really vary (for the seeding checks)
RANDOM = {
    "RandomGrayscale": dict(factor=0.5),
    "RandomInvert": dict(factor=0.5),
    "Solarization": dict(addition_factor=0.3, threshold_factor=0.6),
    "RandomPosterization": dict(factor=(1, 8)),
    "RandomSaturation": dict(factor=(0.1, 0.9)),
    "RandomHue": dict(factor=0.8),
    "RandomColorDegeneration": dict(factor=0.9),
    "RandomSharpness": dict(factor=1.0),
    "RandomColorJitter": dict(brightness_factor=0.3, contrast_factor=0.3, saturation_factor=(0.2, 0.8),
                              hue_factor=0.5),
    "RandomErasing": dict(factor=0.8),
    "RandomGaussianBlur": dict(factor=0.9, sigma=1.0),
    "RandomShear": dict(x_factor=0.3, y_factor=(0.1, 0.2)),
    "MixUp": dict(alpha=0.5),
    "CutMix": dict(factor=1.0),
}

# name -> [(bad kwargs, a fragment of the message)]
BAD = {
    "RandomGrayscale": [(dict(factor=1.5), "factor=1.5")],
    "RandomInvert": [(dict(factor=(2.0, 3.0)), "factor=(2.0, 3.0)"), (dict(value_range=(1, 1)), "value_range")],
    "Solarization": [(dict(addition_factor=2.0), "addition_factor=2.0"),
                     (dict(threshold_factor=(0.2, 1.5)), "threshold_factor"), (dict(value_range=5), "value_range")],
    "RandomPosterization": [(dict(factor=9), "factor=9"), (dict(factor="x"), "factor='x'")],
    "AutoContrast": [(dict(value_range=(0, 1, 2)), "value_range=(0, 1, 2)")],
    "Equalization": [(dict(bins=0), "bins=0"), (dict(value_range="a"), "value_range")],
    "RandomSaturation": [(dict(factor=1.5), "factor=1.5"), (dict(factor=(0.1, 0.2, 0.3)), "factor")],
    "RandomHue": [(dict(factor=-0.5), "factor=-0.5")],
    "RandomColorDegeneration": [(dict(factor=(2.0, 3.0)), "factor")],
    "RandomSharpness": [(dict(factor=-0.1), "factor=-0.1")],
    "RandomColorJitter": [(dict(value_range=None), "value_range"), (dict(hue_factor=3.0), "factor=3.0")],
    "RandomErasing": [(dict(scale=(0.5, 2.0, 3.0)), "scale"), (dict(fill_value="red"), "fill_value='red'"),
                      (dict(factor=-1.0), "factor=-1.0")],
    "RandomGaussianBlur": [(dict(kernel_size=4), "kernel_size=4"), (dict(sigma=2.0), "sigma=2.0")],
    "RandomShear": [(dict(x_factor=1.5), "x_factor=1.5"), (dict(y_factor=(-0.1, 0.2)), "y_factor"),
                    (dict(fill_mode="mirror"), "fill_mode='mirror'"),
                    (dict(interpolation="bicubic"), "interpolation='bicubic'")],
    "MixUp": [(dict(alpha=0.0), "alpha=0.0")],
    "CutMix": [(dict(factor=(1.5, 2.0)), "factor=(1.5, 2.0)")],
}

REQUIRED = {"RandomPosterization": dict(factor=(3, 3)), "RandomSaturation": dict(factor=0.5),
            "RandomHue": dict(factor=0.5), "RandomColorDegeneration": dict(factor=0.5),
            "RandomSharpness": dict(factor=0.5)}


def make(name, **kwargs):
    return getattr(layers, name)(**{**REQUIRED.get(name, {}), **kwargs})


@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_matches_numpy_reference(name):
    kwargs, ref = DETERMINISTIC[name]
    out = np_out(make(name, **kwargs), X)
    assert out.shape == X.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, ref(X.astype("float64")), rtol=1e-4, atol=2e-3)


@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_single_image_and_channels_first(name):
    kwargs, ref = DETERMINISTIC[name]
    single = np_out(make(name, **kwargs), X[0])
    assert single.shape == X[0].shape
    if name != "Equalization":  # Equalization's histogram spans the batch, as Keras
        np.testing.assert_allclose(single, ref(X[:1].astype("float64"))[0], rtol=1e-4, atol=2e-3)
    first = np_out(make(name, data_format="channels_first", **kwargs), X.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(first.transpose(0, 2, 3, 1), ref(X.astype("float64")), rtol=1e-4, atol=2e-3)


@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_inference_and_integer_inputs(name):
    kwargs, ref = DETERMINISTIC[name]
    layer = make(name, **kwargs)
    out = np_out(layer, X, training=False)
    if name in ACTIVE_AT_INFERENCE:
        np.testing.assert_allclose(out, ref(X.astype("float64")), rtol=1e-4, atol=2e-3)
    else:
        np.testing.assert_array_equal(out, X)
    ints = np.round(X).astype("uint8")
    got = np_out(layer, ints)
    assert got.dtype == np.float32 and got.shape == X.shape
    assert layer.compute_output_shape((None, 5, 6, 3)) == (None, 5, 6, 3)


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_seeded_draws_repeat_and_vary(name):
    a = np_out(make(name, seed=11, **RANDOM[name]), X)
    b = np_out(make(name, seed=11, **RANDOM[name]), X)
    np.testing.assert_array_equal(a, b)
    layer = make(name, seed=11, **RANDOM[name])
    outs = [np_out(layer, np.concatenate([X] * 4)) for _ in range(3)]
    assert any(not np.allclose(outs[0], o) for o in outs[1:]), "the generator should advance between calls"
    assert np.all(np.isfinite(outs[0]))


@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_config_round_trip(name):
    kwargs = RANDOM.get(name, DETERMINISTIC[name][0])
    layer = make(name, seed=3, **kwargs) if name in RANDOM else make(name, **kwargs)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    det_kwargs = DETERMINISTIC[name][0]
    det = make(name, **det_kwargs)
    np.testing.assert_allclose(np_out(type(det).from_config(det.get_config()), X), np_out(det, X), atol=1e-3)


@pytest.mark.parametrize("name,bad", [(n, b) for n in sorted(BAD) for b in BAD[n]])
def test_bad_arguments_are_named(name, bad):
    kwargs, fragment = bad
    with pytest.raises(ValueError) as info:
        make(name, **kwargs)
    message = str(info.value)
    assert name in message and "received" in message and fragment in message, message


@pytest.mark.parametrize("name", ["RandomSaturation", "RandomHue", "RandomColorDegeneration"])
def test_rgb_layers_refuse_other_channel_counts(name):
    with pytest.raises(ValueError, match=f"{name}.*3 channels.*received"):
        make(name)(np.ones((1, 4, 4, 2), "float32"))


def test_grayscale_refuses_two_channels_and_keeps_one():
    with pytest.raises(ValueError, match="RandomGrayscale.*1 or 3 channels.*received 2"):
        layers.RandomGrayscale(factor=1.0)(np.ones((1, 2, 2, 2), "float32"))
    x = X[..., :1]
    np.testing.assert_allclose(np_out(layers.RandomGrayscale(factor=1.0), x), x)


def test_value_ranges_in_unit_scale():
    x = X / 255.0
    np.testing.assert_allclose(np_out(layers.RandomInvert(factor=(1.0, 1.0), value_range=(0, 1)), x), 1 - x,
                               atol=1e-6)
    np.testing.assert_allclose(np_out(layers.Solarization(value_range=(0, 1)), x), 1 - x, atol=1e-6)
    np.testing.assert_allclose(np_out(layers.RandomPosterization(factor=(2, 2), value_range=(0, 1)), x),
                               posterize(x * 255.0, 2) / 255.0, atol=1e-6)
    np.testing.assert_allclose(np_out(layers.AutoContrast(value_range=(0, 1)), x * 0.5),
                               auto_contrast(x * 0.5 * 255) / 255, atol=1e-5)
    np.testing.assert_allclose(np_out(layers.Equalization(value_range=(0, 1), bins=16), x),
                               equalize(x * 255.0, bins=16) / 255.0, atol=1e-5)
    np.testing.assert_allclose(np_out(layers.RandomHue(factor=(1.0, 1.0), value_range=(0, 1)), x),
                               hsv_map(x, lambda h, s, v: ((h + 0.5) % 1, s, v), scale=1.0), atol=1e-5)


def test_pinned_draws_edge_cases():
    np.testing.assert_array_equal(np_out(layers.RandomInvert(factor=(0.0, 0.0)), X), X)
    np.testing.assert_array_equal(np_out(layers.RandomGrayscale(factor=0.0), X), X)
    np.testing.assert_allclose(np_out(layers.RandomSaturation(factor=(0.5, 0.5)), X), X, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(np_out(layers.RandomSharpness(factor=(0.5, 0.5)), X), X, atol=1e-4)
    np.testing.assert_allclose(np_out(layers.RandomColorDegeneration(factor=(0.0, 0.0)), X), X, atol=1e-4)
    flat = np.full((1, 3, 3, 3), 9.0, "float32")  # one value per channel: nothing to stretch or equalize
    np.testing.assert_array_equal(np_out(layers.AutoContrast(), flat), flat)
    np.testing.assert_array_equal(np_out(layers.Equalization(), flat), flat)
    # thresholded solarization only inverts pixels at or above the threshold
    np.testing.assert_allclose(np_out(layers.Solarization(addition_factor=(0.0, 0.0)), X), 255.0 - X)


def test_factor_numbers_follow_keras_ranges():
    assert layers.RandomInvert(factor=0.4).get_config()["factor"] == [0.0, 0.4]
    assert layers.RandomPosterization(factor=4).get_config()["factor"] == [1, 4]
    assert layers.RandomSaturation(factor=0.5).get_config()["factor"] == [-0.5, 0.5]
    assert layers.RandomHue(factor=0.5).get_config()["factor"] == [0.0, 0.5]
    assert layers.RandomSharpness(factor=0.5).get_config()["factor"] == [0.0, 0.5]
    assert layers.Solarization(threshold_factor=0.5).get_config()["threshold_factor"] == [0.0, 0.5]


def test_inside_a_model_with_fit_mode_switch():
    model = lamina.Sequential([lamina.Input((5, 6, 3)), layers.RandomInvert(factor=(1.0, 1.0)),
                               layers.RandomGrayscale(factor=1.0)])
    np.testing.assert_allclose(ops.convert_to_numpy(model(X, training=False)), X)
    np.testing.assert_allclose(ops.convert_to_numpy(model.predict(X, verbose=0)), X)
    np.testing.assert_allclose(ops.convert_to_numpy(model(X, training=True)),
                               np.broadcast_to(gray(255.0 - X), X.shape), rtol=1e-4, atol=2e-3)


@pytest.mark.parametrize("sign", [1, -1])
def test_shear_matches_bilinear_reference_up_to_sign(sign):
    out = np_out(layers.RandomShear(x_factor=(0.4, 0.4), fill_mode="constant", seed=sign + 5), X)
    for i in range(X.shape[0]):
        refs = [shear_x(X[i:i + 1].astype("float64"), s)[0] for s in (0.4, -0.4)]
        assert min(np.abs(out[i] - r).max() for r in refs) < 1e-3


def test_erasing_fills_one_rectangle():
    x = X + 1.0
    out = np_out(layers.RandomErasing(factor=(1.0, 1.0), scale=(0.2, 0.3), fill_value=0.0, seed=4), x)
    for i in range(x.shape[0]):
        erased = np.all(out[i] == 0.0, axis=-1)
        np.testing.assert_array_equal(out[i][~erased], x[i][~erased])
        rows, cols = np.nonzero(erased)
        if rows.size:  # a box: every pixel inside its bounding rectangle is erased
            assert erased[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()
    noise = np_out(layers.RandomErasing(factor=(1.0, 1.0), scale=(1.0, 1.0), seed=1), x)
    assert noise.min() >= 0.0 and noise.max() <= 255.0
    per_channel = np_out(layers.RandomErasing(factor=(1.0, 1.0), scale=(1.0, 1.0), fill_value=(1, 2, 300)), x)
    np.testing.assert_array_equal(per_channel, np.broadcast_to([1.0, 2.0, 255.0], x.shape))


def _mix_partner(out, x):
    """For each output image, some image j of the batch and a weight w with out = w x_i + (1 - w) x_j."""
    found = []
    for i in range(x.shape[0]):
        for j in range(x.shape[0]):
            d = (x[i] - x[j]).ravel()
            if not d.any():
                if np.allclose(out[i], x[i], atol=1e-3):
                    found.append((j, 1.0))
                    break
                continue
            w = float(np.dot((out[i] - x[j]).ravel(), d) / np.dot(d, d))
            if -1e-4 <= w <= 1 + 1e-4 and np.allclose(out[i], w * x[i] + (1 - w) * x[j], atol=1e-2):
                found.append((j, w))
                break
        else:
            raise AssertionError(f"output image {i} is not a blend of two input images")
    return found


def test_mixup_blends_pairs_of_images():
    x = RNG.uniform(0, 255, size=(4, 3, 3, 3)).astype("float32")
    layer = layers.MixUp(alpha=0.5, seed=2)
    out = np_out(layer, x)
    assert out.shape == x.shape and out.dtype == np.float32
    _mix_partner(out, x)
    np.testing.assert_array_equal(np_out(layer, x, training=False), x)
    np.testing.assert_allclose(np_out(layers.MixUp(), x[0]), x[0], atol=1e-4)  # a lone image mixes with itself
    first = np_out(layers.MixUp(alpha=0.5, seed=2, data_format="channels_first"), x.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(first.transpose(0, 2, 3, 1), out, atol=1e-4)


def test_cutmix_pastes_a_rectangle_of_a_partner():
    x = np.stack([np.full((6, 6, 3), v, "float32") for v in (1.0, 2.0, 3.0, 4.0)])
    layer = layers.CutMix(seed=3)
    out = np_out(layer, x)
    for i in range(4):
        foreign = out[i, ..., 0] != x[i, 0, 0, 0]
        assert len(np.unique(out[i])) <= 2
        rows, cols = np.nonzero(foreign)
        if rows.size:
            assert foreign[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()
    np.testing.assert_array_equal(np_out(layer, x, training=False), x)
    np.testing.assert_array_equal(np_out(layer, x[0]), x[0])  # a single image is returned as it is
    first = np_out(layers.CutMix(seed=3, data_format="channels_first"), x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(first.transpose(0, 2, 3, 1), out)


@pytest.mark.parametrize("name", ["MixUp", "CutMix"])
def test_mixing_config_round_trip(name):
    layer = make(name, seed=9, **RANDOM[name])
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    np.testing.assert_array_equal(np_out(clone, X), np_out(make(name, seed=9, **RANDOM[name]), X))
