"""Keras 2's ImageDataGenerator (lamina.preprocessing.image): transforms against NumPy/SciPy references,
standardization, flow/flow_from_directory/flow_from_dataframe batches, and training on the iterators.
Run once per backend (LAMINA_BACKEND=torch and jax)."""

import os
import warnings

import numpy as np
import pytest
from scipy import ndimage

import lamina
from lamina.preprocessing import image as kimage
from lamina.preprocessing.image import ImageDataGenerator


def _images(n=6, h=5, w=5, c=3, seed=0):
    return np.random.RandomState(seed).uniform(0, 255, (n, h, w, c)).astype("float32")


# ---------------------------------------------------------------- standardize / fit
def test_rescale_and_samplewise_standardize():
    x = _images(1)[0]
    gen = ImageDataGenerator(rescale=1 / 255.0, samplewise_center=True, samplewise_std_normalization=True)
    out = gen.standardize(np.copy(x))
    ref = x * (1 / 255.0)
    ref = ref - ref.mean()
    ref = ref / (ref.std() + 1e-6)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    # rescale alone, and the preprocessing_function runs first
    gen = ImageDataGenerator(rescale=0.5, preprocessing_function=lambda a: a + 1.0)
    np.testing.assert_allclose(gen.standardize(np.copy(x)), (x + 1.0) * 0.5, rtol=1e-6)


def test_samplewise_std_turns_on_center_with_warning():
    with pytest.warns(UserWarning, match="samplewise_center"):
        gen = ImageDataGenerator(samplewise_std_normalization=True)
    assert gen.samplewise_center


def test_featurewise_stats_from_fit():
    x = _images(8, 4, 4, 3)
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True, rescale=0.1)
    gen.fit(x)
    xs = x * 0.1
    mean = xs.mean(axis=(0, 1, 2))
    std = (xs - mean).std(axis=(0, 1, 2))
    np.testing.assert_allclose(gen.mean.reshape(-1), mean, rtol=1e-5)
    np.testing.assert_allclose(gen.std.reshape(-1), std, rtol=1e-5)
    assert gen.mean.shape == (1, 1, 3)
    out = gen.standardize(np.copy(x[0]))
    np.testing.assert_allclose(out, (x[0] * 0.1 - mean) / (std + 1e-6), rtol=1e-4, atol=1e-5)
    # a flowed batch is standardized the same way
    batch = next(gen.flow(x, batch_size=8, shuffle=False))
    np.testing.assert_allclose(batch, (xs - mean) / (std + 1e-6), rtol=1e-4, atol=1e-4)


def test_featurewise_channels_first():
    x = _images(4, 4, 4, 3).transpose(0, 3, 1, 2)
    gen = ImageDataGenerator(featurewise_center=True, data_format="channels_first")
    gen.fit(x)
    assert gen.mean.shape == (3, 1, 1)
    np.testing.assert_allclose(gen.mean.reshape(-1), x.mean(axis=(0, 2, 3)), rtol=1e-5)


def test_zca_whitening_fit():
    x = _images(10, 3, 3, 1)
    with pytest.warns(UserWarning, match="featurewise_center"):
        gen = ImageDataGenerator(zca_whitening=True, zca_epsilon=1e-3)
    gen.fit(x)
    flat = (x - x.mean(axis=(0, 1, 2))).reshape(10, -1).astype("float64")
    u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
    ref = u @ np.diag(np.sqrt(10) / (s + 1e-3)) @ u.T
    np.testing.assert_allclose(gen.zca_whitening_matrix, ref, rtol=1e-3, atol=1e-4)


def test_standardize_warns_when_not_fit():
    gen = ImageDataGenerator(featurewise_center=True)
    with pytest.warns(UserWarning, match="fit"):
        gen.standardize(_images(1)[0])


# ---------------------------------------------------------------- random transforms
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_flips_with_fixed_seeds(seed):
    x = _images(1, 4, 5, 2)[0]
    np.random.seed(seed)
    flip_h, flip_v = np.random.random() < 0.5, np.random.random() < 0.5
    ref = x[:, ::-1] if flip_h else x
    ref = ref[::-1] if flip_v else ref
    out = ImageDataGenerator(horizontal_flip=True, vertical_flip=True).random_transform(x, seed=seed)
    np.testing.assert_array_equal(out, ref)
    params = ImageDataGenerator(horizontal_flip=True).get_random_transform(x.shape, seed=seed)
    assert bool(params["flip_horizontal"]) == flip_h and not params["flip_vertical"]


def _scipy_reference(x, matrix3x3):
    """Keras 2.15's resampling, written out: centre the matrix on the image, exchange the two spatial axes
    (channels-last image), then resample every channel with scipy.ndimage.affine_transform."""
    h, w = x.shape[:2]
    oy, ox = h / 2 - 0.5, w / 2 - 0.5
    c = np.array([[1, 0, oy], [0, 1, ox], [0, 0, 1.0]])
    ci = np.array([[1, 0, -oy], [0, 1, -ox], [0, 0, 1.0]])
    m = c @ matrix3x3 @ ci
    m = m[[1, 0, 2]][:, [1, 0, 2]]
    return np.stack([ndimage.affine_transform(x[..., k], m[:2, :2], m[:2, 2], order=1, mode="nearest")
                     for k in range(x.shape[-1])], axis=-1)


@pytest.mark.parametrize("params", [
    {"theta": 30.0}, {"tx": 1.5, "ty": -2.0}, {"shear": 25.0}, {"zx": 0.8, "zy": 1.3},
    {"theta": -20.0, "tx": 1.0, "shear": 10.0, "zx": 1.1, "zy": 0.9},
])
def test_apply_transform_matches_scipy(params):
    x = _images(1, 6, 6, 3)[0]
    p = {"theta": 0.0, "tx": 0.0, "ty": 0.0, "shear": 0.0, "zx": 1.0, "zy": 1.0, **params}
    t, s = np.deg2rad(p["theta"]), np.deg2rad(p["shear"])
    rot = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    shift = np.array([[1, 0, p["tx"]], [0, 1, p["ty"]], [0, 0, 1]])
    shear = np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
    zoom = np.diag([p["zx"], p["zy"], 1.0])
    ref = _scipy_reference(x, rot @ shift @ shear @ zoom)
    out = ImageDataGenerator().apply_transform(x, params)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-3)


def test_integer_shift_and_quarter_turn_by_hand():
    x = np.arange(25, dtype="float32").reshape(5, 5, 1)
    gen = ImageDataGenerator(fill_mode="constant", cval=-1.0)
    # Keras 2.15: tx moves along the columns (out[i, j] = x[i, j + tx]), ty along the rows
    out = gen.apply_transform(x, {"tx": 2})
    ref = np.full_like(x, -1.0)
    ref[:, :3] = x[:, 2:]
    np.testing.assert_allclose(out, ref, atol=1e-4)
    out = gen.apply_transform(x, {"ty": -1})
    ref = np.full_like(x, -1.0)
    ref[1:] = x[:-1]
    np.testing.assert_allclose(out, ref, atol=1e-4)
    out = gen.apply_transform(x, {"theta": 90})
    np.testing.assert_allclose(out[..., 0], np.rot90(x[..., 0], k=1), atol=1e-4)


def test_channel_shift_and_brightness():
    x = _images(1, 4, 4, 3)[0]
    out = ImageDataGenerator().apply_transform(x, {"channel_shift_intensity": 30.0})
    np.testing.assert_allclose(out, np.clip(x + 30.0, x.min(), x.max()), rtol=1e-6)
    dark = ImageDataGenerator().apply_transform(np.full((4, 4, 3), 200.0, "float32"), {"brightness": 0.5})
    np.testing.assert_allclose(dark, 100.0, atol=1.0)
    np.random.seed(3)
    u = np.random.uniform(-5.0, 5.0)
    np.random.seed(3)
    np.testing.assert_allclose(kimage.random_channel_shift(x, 5.0, channel_axis=2),
                               np.clip(x + u, x.min(), x.max()), rtol=1e-6)


def test_shift_range_kinds():
    img_shape = (10, 20, 3)
    gen = ImageDataGenerator(height_shift_range=0.1, width_shift_range=[-3, 0, 3])
    for seed in range(10):
        p = gen.get_random_transform(img_shape, seed=seed)
        assert -1.0 <= p["tx"] <= 1.0  # a fraction of the height (10 rows)
        assert p["ty"] in (-3, 0, 3)
    gen = ImageDataGenerator(width_shift_range=2)  # whole pixels in (-2, 2)
    assert {ImageDataGenerator.get_random_transform(gen, img_shape, seed=s)["ty"] for s in range(30)} <= {-1, 0, 1}


def test_module_random_helpers_reproducible():
    x = _images(1, 6, 6, 1)[0].transpose(2, 0, 1)  # channels first, the helpers' default axes
    np.random.seed(7)
    a = kimage.random_rotation(x, 30)
    np.random.seed(7)
    theta = np.random.uniform(-30, 30)
    np.testing.assert_allclose(a, kimage.apply_affine_transform(x, theta=theta), rtol=1e-6)
    for fn, arg in ((kimage.random_shift, (0.2, 0.2)), (kimage.random_shear, (20,)),
                    (kimage.random_zoom, ((0.8, 1.2),))):
        np.random.seed(1)
        first = fn(x, *arg)
        np.random.seed(1)
        np.testing.assert_array_equal(first, fn(x, *arg))
        assert first.shape == x.shape


# ---------------------------------------------------------------- flow()
def test_flow_order_sizes_and_sample_weight():
    x = _images(10, 4, 4, 1)
    y = np.arange(10)
    sw = np.linspace(0.1, 1.0, 10)
    it = ImageDataGenerator().flow(x, y, batch_size=4, shuffle=False, sample_weight=sw)
    assert isinstance(it, lamina.utils.PyDataset) and isinstance(it, kimage.NumpyArrayIterator)
    assert len(it) == 3
    sizes = []
    for i in range(len(it)):
        bx, by, bw = it[i]
        sizes.append(len(bx))
        np.testing.assert_array_equal(by, y[4 * i:4 * i + 4])
        np.testing.assert_allclose(bw, sw[4 * i:4 * i + 4])
        np.testing.assert_allclose(bx, x[4 * i:4 * i + 4])
        assert bx.dtype == np.float32
    assert sizes == [4, 4, 2]
    assert next(ImageDataGenerator().flow(x, batch_size=3, shuffle=False)).shape == (3, 4, 4, 1)


def test_flow_shuffle_seed_and_epoch_end():
    x = _images(12, 3, 3, 1)
    y = np.arange(12)
    a = ImageDataGenerator().flow(x, y, batch_size=12, seed=4)
    b = ImageDataGenerator().flow(x, y, batch_size=12, seed=4)
    ya, yb = a[0][1], b[0][1]
    np.testing.assert_array_equal(ya, yb)
    assert sorted(ya.tolist()) == list(range(12)) and ya.tolist() != list(range(12))
    a.on_epoch_end()
    assert a[0][1].tolist() != ya.tolist()


def test_flow_next_wraps_around():
    x = _images(5, 3, 3, 1)
    it = ImageDataGenerator().flow(x, np.arange(5), batch_size=2, shuffle=False)
    assert iter(it) is it
    got = [next(it)[1].tolist() for _ in range(4)]
    assert got == [[0, 1], [2, 3], [4], [0, 1]]
    assert it.next()[1].tolist() == [2, 3]


def test_flow_validation_split_subsets():
    x = _images(10, 3, 3, 1)
    y = np.array([0, 1] * 5)
    sw = np.arange(10.0)
    gen = ImageDataGenerator(validation_split=0.3)
    val = gen.flow(x, y, batch_size=10, shuffle=False, sample_weight=sw, subset="validation")
    train = gen.flow(x, y, batch_size=10, shuffle=False, sample_weight=sw, subset="training")
    assert val.n == 3 and train.n == 7
    np.testing.assert_array_equal(val[0][1], y[:3])
    np.testing.assert_allclose(train[0][0], x[3:])
    np.testing.assert_allclose(train[0][2], sw[3:])
    with pytest.raises(ValueError, match="different classes"):
        gen.flow(x, np.array([0] * 3 + [1] * 7), subset="training")
    assert gen.flow(x, np.array([0] * 3 + [1] * 7), subset="training", ignore_class_split=True).n == 7


def test_flow_extra_inputs():
    x = _images(4, 3, 3, 1)
    meta = np.arange(8.0).reshape(4, 2)
    bx, by = ImageDataGenerator().flow((x, meta), np.arange(4), batch_size=4, shuffle=False)[0]
    assert isinstance(bx, list) and len(bx) == 2
    np.testing.assert_allclose(bx[1], meta)


def test_clear_errors():
    with pytest.raises(ValueError, match="rank-4"):
        ImageDataGenerator().flow(np.zeros((4, 3, 3)))
    with pytest.raises(ValueError, match="rank-4"):
        ImageDataGenerator().fit(np.zeros((4, 3, 3)))
    with pytest.raises(ValueError, match="brightness_range"):
        ImageDataGenerator(brightness_range=0.5)
    with pytest.raises(ValueError, match="zoom_range"):
        ImageDataGenerator(zoom_range=(0.5, 1.0, 2.0))
    with pytest.raises(ValueError, match="data_format"):
        ImageDataGenerator(data_format="nchw")
    with pytest.raises(ValueError, match="validation_split"):
        ImageDataGenerator(validation_split=1.5)
    with pytest.raises(ValueError, match="fill_mode"):
        ImageDataGenerator(fill_mode="edge")
    with pytest.raises(ValueError, match="same length"):
        ImageDataGenerator().flow(np.zeros((4, 3, 3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="subset"):
        ImageDataGenerator().flow(np.zeros((4, 3, 3, 1)), subset="test")
    with pytest.warns(UserWarning, match="1, 3 or 4 channels"):
        ImageDataGenerator().flow(np.zeros((4, 3, 3, 5)))
    with pytest.raises(ValueError, match="dtype"):
        ImageDataGenerator(dtype="floaty")
    with pytest.raises(IndexError, match="batch 5"):
        ImageDataGenerator().flow(np.zeros((4, 3, 3, 1)), batch_size=2)[5]


def test_model_fit_on_flow_reduces_loss():
    rng = np.random.RandomState(0)
    x = rng.uniform(0, 1, (64, 4, 4, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype("float32")
    model = lamina.Sequential([lamina.Input((4, 4, 1)), lamina.layers.Flatten(), lamina.layers.Dense(1)])
    model.compile(optimizer=lamina.optimizers.SGD(0.1), loss="mse")
    gen = ImageDataGenerator(horizontal_flip=True, vertical_flip=True)
    it = gen.flow(x, y, batch_size=16, seed=1)
    before = model.evaluate(x, y, verbose=0)
    history = model.fit(it, epochs=5, verbose=0, validation_data=gen.flow(x, y, batch_size=32, shuffle=False))
    assert len(history.history["loss"]) == 5 and len(history.history["val_loss"]) == 5
    assert model.evaluate(x, y, verbose=0) < before
    assert history.history["loss"][-1] < history.history["loss"][0]
    preds = model.predict(gen.flow(x, batch_size=16, shuffle=False), verbose=0)
    assert preds.shape == (64, 1)


# ---------------------------------------------------------------- flow_from_directory / flow_from_dataframe
COLORS = {"cat": [(255, 0, 0), (250, 10, 0), (240, 0, 20)], "dog": [(0, 0, 255), (0, 30, 200)]}


@pytest.fixture
def image_dir(tmp_path):
    from PIL import Image

    root = tmp_path / "data"
    for cls, colors in COLORS.items():
        (root / cls).mkdir(parents=True)
        for i, color in enumerate(colors):
            Image.new("RGB", (6, 8), color).save(root / cls / f"img{i}.png")
    (root / "cat" / "notes.txt").write_text("not an image")
    return root


def test_flow_from_directory_classes_and_modes(image_dir, capsys):
    gen = ImageDataGenerator(rescale=1 / 255.0)
    it = gen.flow_from_directory(str(image_dir), target_size=(4, 3), batch_size=5, shuffle=False)
    assert "Found 5 images belonging to 2 classes." in capsys.readouterr().out
    assert isinstance(it, kimage.DirectoryIterator) and isinstance(it, lamina.utils.PyDataset)
    assert it.class_indices == {"cat": 0, "dog": 1}
    assert it.classes.tolist() == [0, 0, 0, 1, 1]
    assert it.filenames[0] == os.path.join("cat", "img0.png")
    bx, by = it[0]
    assert bx.shape == (5, 4, 3, 3) and bx.dtype == np.float32
    np.testing.assert_array_equal(by, np.eye(2, dtype="float32")[[0, 0, 0, 1, 1]])
    flat = [c for cls in ("cat", "dog") for c in COLORS[cls]]
    np.testing.assert_allclose(bx[:, 0, 0, :], np.array(flat) / 255.0, rtol=1e-6)
    for mode, check in (("binary", lambda y: y.tolist() == [0, 0, 0, 1, 1] and y.dtype == np.float32),
                        ("sparse", lambda y: y.tolist() == [0, 0, 0, 1, 1])):
        _, y = gen.flow_from_directory(str(image_dir), target_size=(4, 3), class_mode=mode, shuffle=False)[0]
        assert check(y), mode
    bx, by = gen.flow_from_directory(str(image_dir), target_size=(4, 3), class_mode="input", shuffle=False)[0]
    np.testing.assert_array_equal(bx, by)
    only_x = gen.flow_from_directory(str(image_dir), target_size=(4, 3), class_mode=None, shuffle=False)[0]
    assert isinstance(only_x, np.ndarray) and only_x.shape == (5, 4, 3, 3)
    with pytest.raises(ValueError, match="class_mode"):
        gen.flow_from_directory(str(image_dir), class_mode="onehot")


def test_flow_from_directory_color_target_subset(image_dir):
    gen = ImageDataGenerator(validation_split=0.5)
    gray = gen.flow_from_directory(str(image_dir), target_size=(2, 2), color_mode="grayscale", shuffle=False)[0][0]
    assert gray.shape == (5, 2, 2, 1)
    r, g, b = COLORS["cat"][0]
    assert abs(gray[0, 0, 0, 0] - (r * 299 + g * 587 + b * 114) / 1000) <= 1
    rgba = gen.flow_from_directory(str(image_dir), target_size=(3, 3), color_mode="rgba", shuffle=False)[0][0]
    assert rgba.shape == (5, 3, 3, 4) and np.all(rgba[..., 3] == 255)
    val = gen.flow_from_directory(str(image_dir), target_size=(2, 2), subset="validation", shuffle=False)
    train = gen.flow_from_directory(str(image_dir), target_size=(2, 2), subset="training", shuffle=False)
    # per class: the first half (rounded down) of its files is the validation subset
    assert val.filenames == [os.path.join("cat", "img0.png"), os.path.join("dog", "img0.png")]
    assert train.samples == 3 and val.samples == 2
    sub = gen.flow_from_directory(str(image_dir), target_size=(2, 2), classes=["dog"], shuffle=False)
    assert sub.samples == 2 and sub.class_indices == {"dog": 0}
    cf = ImageDataGenerator(data_format="channels_first").flow_from_directory(str(image_dir), target_size=(4, 3))
    assert cf[0][0].shape == (5, 3, 4, 3)


def test_fit_and_predict_on_directory(image_dir):
    gen = ImageDataGenerator(rescale=1 / 255.0, horizontal_flip=True)
    it = gen.flow_from_directory(str(image_dir), target_size=(4, 4), class_mode="binary", batch_size=2, seed=0)
    model = lamina.Sequential([lamina.Input((4, 4, 3)), lamina.layers.Flatten(),
                               lamina.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=lamina.optimizers.SGD(0.5), loss="binary_crossentropy")
    hist = model.fit(it, epochs=4, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    pred_it = gen.flow_from_directory(str(image_dir), target_size=(4, 4), class_mode=None, shuffle=False)
    assert model.predict(pred_it, verbose=0).shape == (5, 1)


def test_flow_from_dataframe(image_dir):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({
        "filename": ["cat/img0.png", "dog/img1.png", "cat/img2.png", "missing.png"],
        "class": ["cat", "dog", "cat", "dog"],
        "score": [0.5, 1.5, 2.5, 3.5],
        "w": [1.0, 2.0, 3.0, 4.0],
    })
    gen = ImageDataGenerator()
    with pytest.warns(UserWarning, match="1 invalid"):
        it = gen.flow_from_dataframe(df, directory=str(image_dir), target_size=(2, 2), weight_col="w",
                                     shuffle=False)
    assert isinstance(it, kimage.DataFrameIterator)
    assert it.class_indices == {"cat": 0, "dog": 1} and it.classes == [0, 1, 0]
    bx, by, bw = it[0]
    assert bx.shape == (3, 2, 2, 3)
    np.testing.assert_array_equal(by, np.eye(2)[[0, 1, 0]])
    np.testing.assert_allclose(bw, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(bx[1, 0, 0], COLORS["dog"][1])
    with pytest.warns(UserWarning):
        raw = gen.flow_from_dataframe(df, str(image_dir), y_col="score", class_mode="raw", target_size=(2, 2),
                                      shuffle=False)
    np.testing.assert_allclose(raw[0][1], [0.5, 1.5, 2.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sparse = gen.flow_from_dataframe(df, str(image_dir), class_mode="sparse", target_size=(2, 2),
                                         classes=["dog", "cat"], shuffle=False)
    assert sparse[0][1].tolist() == [1.0, 0.0, 1.0]
    # any object with the DataFrame interface used here: len(df) and df[column]
    it = gen.flow_from_dataframe({"filename": ["dog/img0.png"], "class": ["dog"]}, str(image_dir),
                                 target_size=(2, 2), class_mode=None)
    assert it[0].shape == (1, 2, 2, 3)
    with pytest.raises(ValueError, match="class_mode"):
        gen.flow_from_dataframe(df, str(image_dir), class_mode="labels")
