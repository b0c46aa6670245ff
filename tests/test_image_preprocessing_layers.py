"""Image preprocessing and augmentation layers against NumPy references, on the current backend."""

import os

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from tests.layer_test_utils import run_layer_test


def np_(x):
    return np.asarray(ops.convert_to_numpy(x))


def images(shape=(2, 6, 6, 3), seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


def _np_bilinear_resize(x, out_h, out_w):
    """Hand-written bilinear resize, half-pixel centers, edge samples clamped (one image, HWC)."""
    in_h, in_w, _ = x.shape
    out = np.zeros((out_h, out_w, x.shape[2]))
    for i in range(out_h):
        for j in range(out_w):
            sy = min(max((i + 0.5) * in_h / out_h - 0.5, 0), in_h - 1)
            sx = min(max((j + 0.5) * in_w / out_w - 0.5, 0), in_w - 1)
            y0, x0 = int(np.floor(sy)), int(np.floor(sx))
            y1, x1 = min(y0 + 1, in_h - 1), min(x0 + 1, in_w - 1)
            wy, wx = sy - y0, sx - x0
            out[i, j] = ((1 - wy) * (1 - wx) * x[y0, x0] + (1 - wy) * wx * x[y0, x1]
                         + wy * (1 - wx) * x[y1, x0] + wy * wx * x[y1, x1])
    return out


# ---- Rescaling / Resizing / CenterCrop ---------------------------------------------------------------------

def test_rescaling():
    x = images()
    np.testing.assert_allclose(np_(layers.Rescaling(1 / 127.5, offset=-1)(x)), x / 127.5 - 1, rtol=1e-5, atol=1e-6)
    per_channel = np_(layers.Rescaling([1.0, 2.0, 3.0])(x))
    np.testing.assert_allclose(per_channel, x * np.array([1.0, 2.0, 3.0]), rtol=1e-6)
    assert np_(layers.Rescaling(0.5)(np.array([2, 4], "uint8"))).dtype == np.float32
    run_layer_test(layers.Rescaling, {"scale": 0.5, "offset": 1.0}, (2, 3), expected_output_shape=(2, 3))
    with pytest.raises(ValueError, match=r"\(Rescaling\): scale must be a number"):
        layers.Rescaling("big")


@pytest.mark.parametrize("size", [(9, 5), (3, 4), (6, 6)])
def test_resizing_bilinear_matches_numpy(size):
    x = images((2, 6, 7, 3))
    out = np_(layers.Resizing(*size)(x))
    assert out.shape == (2,) + size + (3,)
    for b in range(2):
        np.testing.assert_allclose(out[b], _np_bilinear_resize(x[b], *size), rtol=1e-4, atol=1e-3)


def test_resizing_nearest_area_bicubic_and_formats():
    x = images((1, 4, 4, 2))
    nearest = np_(layers.Resizing(8, 8, interpolation="nearest")(x))
    np.testing.assert_array_equal(nearest, x.repeat(2, axis=1).repeat(2, axis=2))
    area = np_(layers.Resizing(2, 2, interpolation="area")(x))
    np.testing.assert_allclose(area, x.reshape(1, 2, 2, 2, 2, 2).mean(axis=(2, 4)), rtol=1e-5)
    flat = np.full((1, 5, 5, 1), 3.0, "float32")
    for interp in ("bicubic", "lanczos3", "lanczos5", "bilinear"):
        np.testing.assert_allclose(np_(layers.Resizing(7, 3, interpolation=interp)(flat)), 3.0, rtol=1e-5)
    cf = np_(layers.Resizing(3, 5, data_format="channels_first")(np.transpose(x, (0, 3, 1, 2))))
    np.testing.assert_allclose(cf, np.transpose(np_(layers.Resizing(3, 5)(x)), (0, 3, 1, 2)), rtol=1e-5)
    single = np_(layers.Resizing(3, 5)(x[0]))
    np.testing.assert_allclose(single, np_(layers.Resizing(3, 5)(x))[0], rtol=1e-6)


def test_resizing_crop_and_pad_to_aspect_ratio():
    x = images((1, 4, 8, 1))
    cropped = np_(layers.Resizing(4, 4, crop_to_aspect_ratio=True)(x))
    np.testing.assert_allclose(cropped, x[:, :, 2:6, :], rtol=1e-5)
    padded = np_(layers.Resizing(8, 8, pad_to_aspect_ratio=True, fill_value=-1.0)(x))
    np.testing.assert_allclose(padded[:, 2:6], x, rtol=1e-5)
    assert (padded[:, :2] == -1).all() and (padded[:, 6:] == -1).all()
    run_layer_test(layers.Resizing, {"height": 3, "width": 2}, (2, 5, 4, 3), expected_output_shape=(2, 3, 2, 3))
    with pytest.raises(ValueError, match="cannot both be True"):
        layers.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match=r"interpolation must be one of"):
        layers.Resizing(2, 2, interpolation="cubic-ish")
    with pytest.raises(ValueError, match=r"'rs' \(Resizing\) expected images of rank 3.*\(2, 3\)"):
        layers.Resizing(2, 2, name="rs")(np.ones((2, 3), "float32"))


def test_center_crop():
    x = images((2, 7, 6, 3))
    np.testing.assert_array_equal(np_(layers.CenterCrop(3, 4)(x)), x[:, 2:5, 1:5, :])
    small = np_(layers.CenterCrop(8, 8)(x))  # smaller than the target: cropped to 1:1, then resized
    np.testing.assert_allclose(small, np_(layers.Resizing(8, 8, crop_to_aspect_ratio=True)(x)), rtol=1e-5)
    run_layer_test(layers.CenterCrop, {"height": 2, "width": 2}, (2, 4, 4, 1), expected_output_shape=(2, 2, 2, 1))


# ---- augmentation -------------------------------------------------------------------------------------------

def test_random_flip_outcomes_seeds_and_inference():
    x = images((16, 4, 5, 1))
    out = np_(layers.RandomFlip("horizontal_and_vertical", seed=3)(x))
    seen = set()
    for o, xi in zip(out, x):
        options = {"none": xi, "h": xi[:, ::-1], "v": xi[::-1], "hv": xi[::-1, ::-1]}
        match = [k for k, v in options.items() if np.array_equal(o, v)]
        assert match, "each output is the image, flipped along some of its axes"
        seen.add(match[0])
    assert len(seen) >= 3
    horizontal = np_(layers.RandomFlip("horizontal", seed=3)(x))
    assert all(np.array_equal(o, xi) or np.array_equal(o, xi[:, ::-1]) for o, xi in zip(horizontal, x))
    np.testing.assert_array_equal(np_(layers.RandomFlip(seed=3)(x)), out)  # same seed, same flips
    np.testing.assert_array_equal(np_(layers.RandomFlip(seed=3)(x, training=False)), x)
    with pytest.raises(ValueError, match="mode must be one of"):
        layers.RandomFlip("diagonal")


@pytest.mark.parametrize("k", [1, 2, 3])
def test_random_rotation_right_angles_match_rot90(k):
    x = images((2, 5, 5, 2))
    out = np_(layers.RandomRotation((k / 4, k / 4))(x))
    np.testing.assert_allclose(out, np.rot90(x, k=k, axes=(1, 2)), atol=1e-2)


def test_random_rotation_constant_fill_and_nearest():
    x = np.ones((1, 9, 9, 1), "float32")
    out = np_(layers.RandomRotation((0.125, 0.125), fill_mode="constant", fill_value=-5.0,
                                    interpolation="nearest")(x))
    assert out[0, 0, 0, 0] == -5.0 and out[0, 4, 4, 0] == 1.0  # corners leave the image, center stays
    angles = np_(layers.RandomRotation(0.1, seed=1)(images((8, 6, 6, 1))))
    assert angles.shape == (8, 6, 6, 1)
    with pytest.raises(ValueError, match=r"\(RandomRotation\): factor must be a float or a tuple"):
        layers.RandomRotation("lots")
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        layers.RandomRotation(0.1, fill_mode="mirror")


def test_random_zoom_matches_numpy_map():
    x = images((1, 6, 6, 1))
    out = np_(layers.RandomZoom((-0.5, -0.5), interpolation="nearest", fill_mode="nearest")(x))
    c = 2.5  # zoom in 2x about the center: output (i, j) reads input (c + (i - c) / 2, c + (j - c) / 2)
    ref = np.empty_like(x)
    for i in range(6):
        for j in range(6):
            ref[0, i, j] = x[0, int(np.floor(c + (i - c) * 0.5 + 0.5)), int(np.floor(c + (j - c) * 0.5 + 0.5))]
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_allclose(np_(layers.RandomZoom(0.0)(x)), x, atol=1e-4)
    with pytest.raises(ValueError, match=r"height_factor must lie in \[-1.0, None\]"):
        layers.RandomZoom((-2.0, 0.1))


def test_random_translation_matches_roll():
    x = images((2, 4, 8, 1))
    out = np_(layers.RandomTranslation((0.25, 0.25), (-0.25, -0.25), fill_mode="wrap")(x))
    np.testing.assert_allclose(out, np.roll(x, shift=(1, -2), axis=(1, 2)), atol=1e-3)
    const = np_(layers.RandomTranslation((0.5, 0.5), 0.0, fill_mode="constant", fill_value=7.0)(x))
    assert (const[:, :2] == 7.0).all()
    np.testing.assert_allclose(const[:, 2:], x[:, :2], atol=1e-3)
    with pytest.raises(ValueError, match="width_factor must lie in"):
        layers.RandomTranslation(0.1, 1.5)


def test_random_crop_windows_and_inference():
    x = np.arange(2 * 8 * 8, dtype="float32").reshape(2, 8, 8, 1)
    out = np_(layers.RandomCrop(3, 4, seed=5)(x))
    assert out.shape == (2, 3, 4, 1)
    top, left = np.argwhere(x[0, :, :, 0] == out[0, 0, 0, 0])[0]
    np.testing.assert_array_equal(out, x[:, top:top + 3, left:left + 4])  # one window for the batch
    inference = np_(layers.RandomCrop(4, 4, seed=5)(x, training=False))
    np.testing.assert_allclose(inference, np_(layers.Resizing(4, 4, crop_to_aspect_ratio=True)(x)), rtol=1e-5)
    windows = {tuple(np_(layers.RandomCrop(2, 2, seed=s)(x))[0, 0, 0].tolist()) for s in range(6)}
    assert len(windows) > 1


def test_random_contrast_is_affine_per_image():
    x = images((6, 5, 5, 3))
    out = np_(layers.RandomContrast((0.2, 0.5), value_range=(-1e9, 1e9), seed=0)(x))
    for o, xi in zip(out, x):
        mean = xi.mean(axis=(0, 1))
        c = ((o - mean) / (xi - mean)).mean()
        assert 0.8 - 1e-4 <= c <= 1.5 + 1e-4
        np.testing.assert_allclose(o, (xi - mean) * c + mean, rtol=1e-3, atol=1e-2)
    clipped = np_(layers.RandomContrast(0.9, seed=1)(x))
    assert clipped.min() >= 0 and clipped.max() <= 255
    with pytest.raises(ValueError, match=r"factor must lie in \[0.0, 1.0\]"):
        layers.RandomContrast((-0.5, 0.5))


def test_random_brightness_shift_and_clip():
    x = images((6, 4, 4, 3), seed=2) * 0.5 + 60  # in [60, 188)
    out = np_(layers.RandomBrightness((-0.2, 0.2), seed=4)(x))
    deltas = (out - x).reshape(6, -1)
    np.testing.assert_allclose(deltas, deltas[:, :1].repeat(deltas.shape[1], 1), atol=1e-3)  # one shift per image
    assert (np.abs(deltas) <= 0.2 * 255 + 1e-3).all() and len(set(np.round(deltas[:, 0], 3))) > 1
    full = np_(layers.RandomBrightness((1.0, 1.0), value_range=(0, 1))(np.full((1, 2, 2, 1), 0.5, "float32")))
    np.testing.assert_allclose(full, 1.0)
    with pytest.raises(ValueError, match="value_range must be a pair"):
        layers.RandomBrightness(0.1, value_range=(1, 0))


@pytest.mark.parametrize("cls,kwargs", [
    (layers.RandomFlip, {}), (layers.RandomRotation, {"factor": 0.2}), (layers.RandomZoom, {"height_factor": 0.3}),
    (layers.RandomTranslation, {"height_factor": 0.2, "width_factor": 0.2}),
    (layers.RandomContrast, {"factor": 0.5}), (layers.RandomBrightness, {"factor": 0.3}),
    (layers.RandomCrop, {"height": 4, "width": 4}),
])
def test_augmentation_seeds_inference_and_config(cls, kwargs):
    x = images((4, 6, 6, 3))
    a, b = cls(seed=11, **kwargs), cls(seed=11, **kwargs)
    first = np_(a(x))
    np.testing.assert_array_equal(first, np_(b(x)))  # same seed, same draws on one backend
    assert any(not np.array_equal(first, np_(a(x))) for _ in range(4)), "successive calls draw anew"
    if cls is not layers.RandomCrop:
        np.testing.assert_array_equal(np_(a(x, training=False)), x)
    clone = cls.from_config(a.get_config())
    assert clone.get_config() == a.get_config()
    symbolic = cls(seed=1, **kwargs)(lamina.Input((6, 6, 3)))
    assert tuple(symbolic.shape) == (None,) + first.shape[1:]
    assert a.weights == [] and len(a.non_trainable_variables) == 1  # only the seed state


def test_augmentation_in_a_model_trains_and_is_identity_at_inference(tmp_path):
    x = images((8, 8, 8, 3))
    y = np.random.default_rng(1).normal(size=(8, 1)).astype("float32")
    inp = lamina.Input((8, 8, 3))
    h = layers.Rescaling(1 / 255.0)(inp)
    augment = [layers.RandomFlip(seed=1), layers.RandomRotation(0.1, seed=2), layers.RandomZoom(0.1, seed=3),
               layers.RandomTranslation(0.1, 0.1, seed=4),
               layers.RandomContrast(0.2, value_range=(0, 1), seed=5),
               layers.RandomBrightness(0.1, value_range=(0, 1), seed=6)]
    for layer in augment:
        h = layer(h)
    h = layers.CenterCrop(6, 6)(layers.Resizing(7, 7)(h))
    out = layers.Dense(1)(layers.Flatten()(h))
    model = lamina.Model(inp, out)
    model.compile(optimizer="sgd", loss="mse")
    seeds_before = [np_(layer.seed_generator.state).tolist() for layer in augment]
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert [np_(layer.seed_generator.state).tolist() for layer in augment] != seeds_before  # draws advanced
    # at inference the augmentation is the identity: the same as the model without it
    plain_in = lamina.Input((8, 8, 3))
    plain = layers.CenterCrop(6, 6)(layers.Resizing(7, 7)(layers.Rescaling(1 / 255.0)(plain_in)))
    dense = model.layers[-1]
    expected = np_(dense(layers.Flatten()(lamina.Model(plain_in, plain)(x))))
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-4)
    path = os.path.join(str(tmp_path), "aug.keras")
    model.save(path)
    loaded = lamina.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
