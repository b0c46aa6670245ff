"""Parity with Keras 3.15.1 of the data utilities and of saved compile settings.

* ``image_dataset_from_directory`` decodes and resizes as Keras's TensorFlow pipeline (``tf.io.decode_image``,
  ``tf.image.resize`` / ``resize_with_pad`` / ``smart_resize``): the expected arrays in
  ``fixtures/data_parity/tf_reference.npz`` were computed with TensorFlow 2.21 and Keras 3.15.1 from the
  image files beside it;
* a compiled model's functions (registered, or passed in ``custom_objects``) are saved in Keras's function
  config and load back (also from files of the older form, a bare name);
* ``timeseries_dataset_from_array`` has ``take``/``map``/``cache``;
* ``to_categorical`` returns float64 for array-likes and a float32 tensor for tensors, as Keras.
"""

import json
import os
import shutil
import zipfile

import numpy as np
import pytest

import lamina
from lamina.utils import image_dataset_utils as idu

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "data_parity")


def _reference():
    raw = np.load(os.path.join(FIXTURES, "tf_reference.npz"))
    index = json.loads(str(raw["index"]))
    out = {}
    for key, (dtype, shape, offset) in index.items():
        store = raw["bytes"] if dtype == "uint8" else raw["floats"]
        size = int(np.prod(shape))
        out[key] = store[offset:offset + size].reshape(shape).astype(dtype)
    return out


REF = _reference()


# ---- 1. image decoding and resizing -----------------------------------------------------------------------


def _pattern():
    i, j, c = np.meshgrid(np.arange(7), np.arange(9), np.arange(1), indexing="ij")
    return ((i * 37 + j * 11 + c * 71) % 256).astype("uint8")


@pytest.mark.parametrize("key", sorted(k for k in REF if k.startswith("resize|")))
def test_resize_matches_tf_image_resize(key):
    _, method, size, antialias = key.split("|")
    height, width = (int(s) for s in size.split("x"))
    got = idu.resize_like_tf(_pattern(), (height, width), method, antialias=antialias == "1")
    expected = REF[key]
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got.astype("float64"), expected, rtol=0, atol=2e-3)


@pytest.mark.parametrize("key", sorted(k for k in REF if k.startswith("decode|")))
def test_decode_matches_tf_decode_image(key):
    pytest.importorskip("PIL")
    _, name, channels = key.split("|")
    with open(os.path.join(FIXTURES, name), "rb") as f:
        got = idu._decode(f.read(), {"1": "grayscale", "3": "rgb"}[channels], "test")
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, REF[key])


@pytest.fixture
def image_dir(tmp_path):
    for cls, files in [("a", ["a420.jpg", "c.png"]), ("b", ["b422.jpg"])]:
        os.makedirs(tmp_path / cls)
        for f in files:
            shutil.copy(os.path.join(FIXTURES, f), tmp_path / cls / f)
    return str(tmp_path)


@pytest.mark.parametrize("key", sorted(k for k in REF if k.startswith("dataset|")))
def test_image_dataset_matches_keras(image_dir, key):
    pytest.importorskip("PIL")
    _, interpolation, mode, color_mode, data_format = key.split("|")
    ds = lamina.utils.image_dataset_from_directory(
        image_dir, image_size=(3, 4), batch_size=8, shuffle=False, interpolation=interpolation,
        color_mode=color_mode, data_format=data_format, crop_to_aspect_ratio=mode == "crop",
        pad_to_aspect_ratio=mode == "pad", verbose=False)
    x, y = ds[0]
    expected = REF[key]
    assert x.shape == expected.shape and x.dtype == expected.dtype  # uint8 for "nearest", as Keras
    np.testing.assert_allclose(x.astype("float64"), expected, rtol=0, atol=2e-3)
    assert y.tolist() == [0, 0, 1]


def test_image_dataset_interpolations_and_antialias(image_dir):
    pytest.importorskip("PIL")
    for interpolation in ("lanczos5", "gaussian", "MitchellCubic"):
        x, _ = lamina.utils.image_dataset_from_directory(image_dir, image_size=(3, 4), shuffle=False,
                                                         interpolation=interpolation, verbose=False)[0]
        assert x.shape == (3, 3, 4, 3) and x.dtype == np.float32
    plain = lamina.utils.image_dataset_from_directory(image_dir, image_size=(3, 4), shuffle=False, verbose=False)
    smooth = lamina.utils.image_dataset_from_directory(image_dir, image_size=(3, 4), shuffle=False, verbose=False,
                                                       antialias=True)
    assert np.abs(plain[0][0] - smooth[0][0]).max() > 1.0  # a wider filter when shrinking
    with pytest.raises(ValueError, match="`interpolation` must be one of"):
        lamina.utils.image_dataset_from_directory(image_dir, interpolation="hamming")


def test_resize_with_pad_and_crop_geometry():
    x = np.full((6, 2, 1), 200, np.uint8)
    padded = idu._resize_with_pad(x, 4, 4, "nearest", False)
    # 6x2 fits 4x4 as 4x1 (floor(2/1.5)); the pad offset is floor((4 - 1.33)/2) = 1, as tf.image.resize_with_pad
    assert padded.dtype == np.uint8 and padded[:, :, 0].tolist() == [[0, 200, 0, 0]] * 4
    cropped = idu._crop_to_aspect(np.arange(30).reshape(5, 6, 1), 2, 2)
    assert cropped[:, :, 0].tolist() == np.arange(30).reshape(5, 6)[0:5, 0:5].tolist()


def test_load_img_keep_aspect_ratio_resizes_the_box(tmp_path):
    """Keras's load_img resizes the crop box with Pillow's ``resize(box=...)`` (the filter reads the pixels
    around the box), not the cropped image. Expected: Keras 3.15.1."""
    pytest.importorskip("PIL")
    i, j = np.meshgrid(np.arange(6), np.arange(9), indexing="ij")
    arr = ((i * i * 41 + j * j * 29 + i * j * 7) % 256).astype("uint8")[..., None].repeat(3, -1)
    path = str(tmp_path / "small.png")
    lamina.utils.save_img(path, arr, scale=False)
    img = lamina.utils.load_img(path, color_mode="grayscale", target_size=(3, 3), interpolation="bilinear",
                                keep_aspect_ratio=True)
    assert lamina.utils.img_to_array(img)[..., 0].tolist() == [[90.0, 102.0, 108.0], [125.0, 154.0, 115.0],
                                                               [124.0, 158.0, 160.0]]


# ---- 2. saved compile settings ----------------------------------------------------------------------------


@lamina.saving.register_keras_serializable()
def parity_loss(y_true, y_pred):
    return lamina.ops.mean(lamina.ops.square(y_true - y_pred), axis=-1)


@lamina.saving.register_keras_serializable(package="pk", name="parity_m")
def parity_metric(y_true, y_pred):
    return lamina.ops.mean(lamina.ops.abs(y_true - y_pred), axis=-1)


def unregistered_fn(y_true, y_pred):
    return lamina.ops.mean(lamina.ops.abs(y_true - y_pred), axis=-1)


def _fn_config(name):  # what Keras 3.15.1 writes for a function
    return {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}


def _model():
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
    model.compile("adam", loss=parity_loss,
                  metrics=[parity_metric, "mae", unregistered_fn, lamina.metrics.mean_squared_error],
                  weighted_metrics=[parity_metric])
    return model


def _rewrite_compile_config(path, update):
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    cfg = json.loads(files["config.json"])
    cfg["compile_config"].update(update)
    files["config.json"] = json.dumps(cfg).encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)


def test_saved_functions_use_keras_function_config(tmp_path):
    path = str(tmp_path / "m.keras")
    _model().save(path)
    with zipfile.ZipFile(path) as z:
        cfg = json.loads(z.read("config.json"))["compile_config"]
    assert cfg["loss"] == _fn_config("Custom>parity_loss")
    assert cfg["metrics"] == [_fn_config("pk>parity_m"), "mae", _fn_config("unregistered_fn"),
                              _fn_config("mean_squared_error")]
    assert cfg["weighted_metrics"] == [_fn_config("pk>parity_m")]

    x = np.random.default_rng(0).random((8, 3)).astype("float32")
    y = np.zeros((8, 2), "float32")
    model = lamina.models.load_model(path, custom_objects={"unregistered_fn": unregistered_fn})
    assert model.loss is parity_loss
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(logs) >= {"loss", "mae", "parity_metric", "unregistered_fn", "mean_squared_error"}
    np.testing.assert_allclose(logs["loss"], logs["mean_squared_error"], rtol=1e-6)
    with pytest.raises(ValueError, match="unregistered_fn"):
        lamina.models.load_model(path)


def test_loads_bare_function_names(tmp_path):
    """Files of older lamina versions (and Keras's h5 training_config) name functions by a bare string."""
    path = str(tmp_path / "m.keras")
    _model().save(path)
    _rewrite_compile_config(path, {"loss": "parity_loss", "metrics": ["parity_metric", "Custom>parity_loss"],
                                   "weighted_metrics": None})
    model = lamina.models.load_model(path)
    assert model.loss is parity_loss
    names = model.evaluate(np.zeros((2, 3), "float32"), np.zeros((2, 2), "float32"), verbose=0, return_dict=True)
    assert set(names) >= {"loss", "parity_metric", "parity_loss"}


def test_legacy_training_config_names_functions():
    from lamina.saving.compile_config import legacy_training_config

    cfg = legacy_training_config(_model())
    assert cfg["loss"] == "Custom>parity_loss"  # as Keras's model.save("m.h5")
    assert cfg["metrics"] == ["pk>parity_m", "mae", "unregistered_fn", "mean_squared_error"]


# ---- 3. timeseries dataset methods ------------------------------------------------------------------------


def test_timeseries_dataset_take_map_cache():
    data = np.arange(40, dtype="float32").reshape(20, 2)
    ds = lamina.utils.timeseries_dataset_from_array(data, np.arange(20), sequence_length=4, batch_size=5)
    batches = [b for b in ds.take(1)]
    assert len(batches) == 1
    x, y = batches[0]
    assert x.shape == (5, 4, 2) and y.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(x[1], data[1:5])
    assert len(ds.take(2)) == 2 and len(ds.take(100)) == len(ds) == 4
    doubled = ds.map(lambda x, y: (x * 2, y))
    np.testing.assert_array_equal(doubled[0][0], x * 2)
    assert ds.cache()[3][1].tolist() == [15, 16]
    with pytest.raises(IndexError, match="out of range"):
        ds[4]


# ---- 4. to_categorical dtypes -----------------------------------------------------------------------------


@pytest.mark.parametrize("labels", [np.array([0, 2, 1]), [0, 2, 1], (0, 2, 1), np.array([[0], [2], [1]]),
                                    np.array([0.0, 2.0, 1.0]), np.array([0, 2, 1], "int32")])
def test_to_categorical_float64_for_arrays(labels):
    out = lamina.utils.to_categorical(labels, 3)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    assert out.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert lamina.utils.to_categorical(labels).dtype == np.float64
    assert lamina.utils.to_categorical(1, 3).tolist() == [0.0, 1.0, 0.0]


def test_to_categorical_tensor_in_tensor_out():
    out = lamina.utils.to_categorical(lamina.ops.convert_to_tensor([[0], [2]]), 3)
    assert lamina.backend.is_tensor(out)
    assert lamina.backend.standardize_dtype(out.dtype) == "float32"
    assert lamina.ops.convert_to_numpy(out).tolist() == [[1, 0, 0], [0, 0, 1]]


def test_dataset_prefetch_cardinality_and_map_options_as_tutorials_call_them():
    # keras.io pipelines end in .prefetch(AUTOTUNE) and map with num_parallel_calls; cardinality().numpy()
    data = np.arange(40, dtype="float32").reshape(20, 2)
    ds = lamina.utils.timeseries_dataset_from_array(data, np.arange(20), sequence_length=4, batch_size=5)
    assert ds.prefetch(-1) is ds and ds.prefetch(buffer_size=2) is ds
    assert ds.cardinality() == 4 and ds.cardinality().numpy() == 4
    mapped = ds.map(lambda x, y: (x + 1, y), num_parallel_calls=-1, deterministic=True).prefetch(1)
    np.testing.assert_array_equal(mapped[0][0], ds[0][0] + 1)
    assert mapped.cardinality() == 4
