"""lamina.applications: Keras's ImageNet architectures (VGG, ResNet, ResNetV2, MobileNet, MobileNetV2).

Parameter counts and layer names as Keras (reference/keras_api.md §6), Keras's weight files load (the tf.keras 2
layout of the published files, and Keras 3 ``.weights.h5`` when Keras is installed), ``weights="imagenet"``
downloads through ``get_file`` with a checksum (from a local HTTP server here), preprocessing modes, and
transfer learning with a frozen base.
"""

import hashlib
import http.server
import importlib.util
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import h5py
import numpy as np
import pytest

import lamina
from lamina import applications
from lamina.applications import _resnet, imagenet_utils, mobilenet_v2
from lamina.utils.file_utils import ChecksumError

ROOT = Path(__file__).resolve().parents[1]
PRETRAINED_EXAMPLE = ROOT.parent / "shared" / "examples" / "pretrained.py"

# Keras 3.15.1 with weights=None (keras_api.md §6): params, number of layers, pooled feature size.
EXPECTED = {
    "VGG16": (138_357_544, 23, 512),
    "VGG19": (143_667_240, 26, 512),
    "ResNet50": (25_636_712, 177, 2048),
    "ResNet101": (44_707_176, 347, 2048),
    "ResNet152": (60_419_944, 517, 2048),
    "ResNet50V2": (25_613_800, 192, 2048),
    "ResNet101V2": (44_675_560, 379, 2048),
    "ResNet152V2": (60_380_648, 566, 2048),
    "MobileNet": (4_253_864, 91, 1024),
    "MobileNetV2": (3_538_984, 156, 1280),
}


def _env():
    return dict(os.environ, LAMINA_BACKEND=lamina.config.backend(), OMP_NUM_THREADS="1",
                PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))


# ----------------------------------------------------------------------------------------------------------------
# Architectures


def test_pretrained_example_runs_unchanged(tmp_path):
    assert PRETRAINED_EXAMPLE.is_file(), f"missing {PRETRAINED_EXAMPLE}"
    proc = subprocess.run([sys.executable, str(PRETRAINED_EXAMPLE)], cwd=tmp_path, env=_env(), capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-3000:]}"
    assert "VGG16 params: 138357544" in proc.stdout
    assert "ResNet50 params: 25636712" in proc.stdout


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_constructor_param_counts_names_and_headless_shapes(name):
    params, n_layers, features = EXPECTED[name]
    ctor = getattr(applications, name)
    model = ctor(weights=None)
    assert model.count_params() == params
    assert len(model.layers) == n_layers
    assert model.output_shape == (None, 1000)
    assert model.layers[-1].name == "predictions"
    assert model.input_shape == (None, 224, 224, 3)
    headless = ctor(weights=None, include_top=False, pooling="avg", input_shape=(64, 64, 3))
    assert headless.output_shape == (None, features)
    assert "predictions" not in [l.name for l in headless.layers]
    maxed = ctor(weights=None, include_top=False, pooling="max")
    assert maxed.output_shape == (None, features)
    assert maxed.input_shape == (None, None, None, 3)
    assert ctor(weights=None, include_top=False, input_shape=(64, 64, 3)).output_shape[1:] == (2, 2, features)


def test_keras_layer_names_and_weight_layout():
    names = {
        applications.VGG16: ["block1_conv1", "block1_pool", "block5_conv3", "flatten", "fc1", "fc2", "predictions"],
        applications.ResNet50: ["conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool",
                                "conv2_block1_0_conv", "conv2_block1_1_conv", "conv2_block1_add",
                                "conv5_block3_out", "avg_pool", "predictions"],
        applications.ResNet50V2: ["conv2_block1_preact_bn", "conv2_block3_2_pad", "conv4_block6_out", "post_bn",
                                  "post_relu"],
        applications.MobileNet: ["conv1", "conv1_bn", "conv1_relu", "conv_pad_2", "conv_dw_1", "conv_pw_13_relu",
                                 "dropout", "conv_preds", "reshape_2", "predictions"],
        applications.MobileNetV2: ["Conv1", "bn_Conv1", "Conv1_relu", "expanded_conv_depthwise",
                                   "expanded_conv_project_BN", "block_1_pad", "block_2_add", "block_16_project",
                                   "Conv_1", "Conv_1_bn", "out_relu", "predictions"],
    }
    for ctor, expected in names.items():
        model = ctor(weights=None)
        have = [l.name for l in model.layers]
        assert set(expected) <= set(have), (model.name, sorted(set(expected) - set(have)))
    resnet = applications.ResNet50(weights=None)
    # Keras's order of layers (by depth): the main branch of a block comes before its shortcut convolution.
    have = [l.name for l in resnet.layers]
    assert have.index("conv2_block1_2_relu") < have.index("conv2_block1_0_conv") < have.index("conv2_block1_3_conv")
    bn = resnet.get_layer("conv1_bn")
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert bn.epsilon == pytest.approx(1.001e-5)
    v2 = applications.MobileNetV2(weights=None)
    assert v2.get_layer("bn_Conv1").momentum == pytest.approx(0.999)
    assert tuple(v2.get_layer("expanded_conv_depthwise").weights[0].shape) == (3, 3, 32, 1)
    assert v2.name == "mobilenetv2_1.00_224"
    assert applications.MobileNet(weights=None, alpha=0.5, input_shape=(128, 128, 3)).name == "mobilenet_0.50_128"


def test_model_names_alpha_and_input_tensor():
    small = applications.MobileNetV2(weights=None, alpha=0.35, include_top=False, input_shape=(32, 32, 3))
    assert small.get_layer("Conv1").filters == 16 and small.output_shape == (None, 1, 1, 1280)
    wide = applications.MobileNetV2(weights=None, alpha=1.4, include_top=False, input_shape=(32, 32, 3))
    assert wide.output_shape[-1] == 1792
    assert applications.MobileNet(weights=None, alpha=0.25, include_top=False, input_shape=(32, 32, 3),
                                   depth_multiplier=2).get_layer("conv_dw_1").depth_multiplier == 2
    inp = lamina.Input((40, 40, 3))
    scaled = lamina.layers.Rescaling(1 / 255.0)(inp)
    model = applications.ResNet50(weights=None, include_top=False, input_tensor=scaled, pooling="avg")
    assert model.inputs == [inp]
    assert model.output_shape == (None, 2048)
    assert model.name == "resnet50"
    assert applications.VGG16(weights=None, name="my_vgg", include_top=False).name == "my_vgg"


@pytest.mark.parametrize("name", ["VGG16", "ResNet50", "ResNet50V2", "MobileNet", "MobileNetV2"])
def test_forward_small_input(name):
    model = getattr(applications, name)(weights=None, input_shape=(32, 32, 3), classes=7)
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    y = lamina.ops.convert_to_numpy(model(x, training=False))
    assert y.shape == (2, 7)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)  # softmax top


def test_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        applications.ResNet50(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="`weights` argument should be either"):
        applications.VGG16(weights=str(tmp_path / "missing.h5"))
    with pytest.raises(ValueError, match="Input size must be at least 32x32"):
        applications.ResNet50(weights=None, include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="input_shape` should be \\(224, 224, 3\\)"):
        applications.VGG16(weights="imagenet", input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="3 channels"):
        applications.ResNet50(weights="imagenet", include_top=False, input_shape=(64, 64, 1))
    with pytest.raises(ValueError, match="tuple of three integers"):
        applications.VGG16(weights=None, include_top=False, input_shape=(64, 64))
    with pytest.raises(ValueError, match="classifier_activation"):
        applications.ResNet50(weights="imagenet", classifier_activation="relu")
    with pytest.raises(ValueError, match="depth multiplier must be 1"):
        applications.MobileNet(weights="imagenet", depth_multiplier=2)
    with pytest.raises(ValueError, match="alpha can be one of"):
        applications.MobileNet(weights="imagenet", alpha=0.3)
    with pytest.raises(ValueError, match="alpha must be one of"):
        applications.MobileNetV2(weights="imagenet", alpha=0.2)
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'"):
        applications.MobileNetV2(weights=None, include_top=False, pooling="mean")
    with pytest.raises(TypeError, match="input_tensor must be a symbolic tensor"):
        applications.MobileNetV2(weights=None, include_top=False, input_tensor=np.zeros((1, 32, 32, 3)))
    # With weights=None, any activation and class count are allowed.
    model = applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=3, classifier_activation=None)
    assert model.output_shape == (None, 3)


# ----------------------------------------------------------------------------------------------------------------
# Preprocessing and decoding


def test_preprocess_input_modes():
    x = np.array([[[[10.0, 20.0, 30.0], [255.0, 0.0, 127.5]]]], dtype="float32")  # (1, 1, 2, 3) RGB
    original = x.copy()
    caffe = applications.vgg16.preprocess_input(x)
    np.testing.assert_allclose(caffe[0, 0, 0], [30 - 103.939, 20 - 116.779, 10 - 123.68], rtol=1e-6)
    np.testing.assert_array_equal(x, original)  # the input is not modified
    np.testing.assert_allclose(applications.resnet50.preprocess_input(x), caffe)
    tf_mode = applications.mobilenet_v2.preprocess_input(x)
    np.testing.assert_allclose(tf_mode[0, 0, 1], [1.0, -1.0, 0.0])
    np.testing.assert_allclose(applications.resnet_v2.preprocess_input(x), tf_mode)
    np.testing.assert_allclose(applications.mobilenet.preprocess_input(x), tf_mode)
    torch_mode = imagenet_utils.preprocess_input(x, mode="torch")
    expected = (np.array([10.0, 20.0, 30.0]) / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    np.testing.assert_allclose(torch_mode[0, 0, 0], expected, rtol=1e-5)
    # channels_first, integer input (cast to float), and tensors give the same numbers.
    cf = imagenet_utils.preprocess_input(np.transpose(x, (0, 3, 1, 2)), data_format="channels_first")
    np.testing.assert_allclose(np.transpose(cf, (0, 2, 3, 1)), caffe, rtol=1e-6)
    ints = imagenet_utils.preprocess_input(np.full((2, 2, 3), 255, dtype="uint8"), mode="tf")
    assert ints.dtype == np.float32 and np.all(ints == 1.0)
    for mode, ref in (("caffe", caffe), ("tf", tf_mode), ("torch", torch_mode)):
        t = imagenet_utils.preprocess_input(lamina.ops.convert_to_tensor(x), mode=mode)
        np.testing.assert_allclose(lamina.ops.convert_to_numpy(t), ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="mode must be one of"):
        imagenet_utils.preprocess_input(x, mode="keras")
    with pytest.raises(ValueError, match="data_format"):
        imagenet_utils.preprocess_input(x, data_format="NHWC")
    with pytest.raises(ValueError, match="3 color channels"):
        imagenet_utils.preprocess_input(np.zeros((1, 4, 4, 4)))


# ----------------------------------------------------------------------------------------------------------------
# A local HTTP server for the downloads.


class _Server:
    def __init__(self):
        self.files = {}
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch, tmp_path):
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))  # no ~/.keras cache is consulted
    monkeypatch.delenv("LAMINA_DATASETS_URL", raising=False)
    monkeypatch.delenv("LAMINA_DATASETS_DIR", raising=False)
    s = _Server()
    yield s
    s.close()


def test_decode_predictions_downloads_class_index_with_checksum(server, monkeypatch):
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    body = json.dumps(index).encode()
    server.files["/imagenet_class_index.json"] = body
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_PATH", server.url + "/imagenet_class_index.json")
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH", hashlib.md5(body).hexdigest())
    preds = np.zeros((2, 1000), "float32")
    preds[0, [5, 17, 999]] = [0.2, 0.7, 0.1]
    preds[1, 3] = 1.0
    out = applications.vgg16.decode_predictions(preds, top=3)
    assert out[0] == [("n00000017", "class_17", pytest.approx(0.7)), ("n00000005", "class_5", pytest.approx(0.2)),
                      ("n00000999", "class_999", pytest.approx(0.1))]
    assert out[1][0][:2] == ("n00000003", "class_3") and len(out[1]) == 3
    assert os.path.isfile(Path(os.environ["LAMINA_HOME"]) / "models" / "imagenet_class_index.json")
    assert len(applications.mobilenet.decode_predictions(lamina.ops.convert_to_tensor(preds))[0]) == 5
    assert server.requests == ["/imagenet_class_index.json"]  # loaded once
    with pytest.raises(ValueError, match=r"\(samples, 1000\)"):
        applications.resnet.decode_predictions(np.zeros((2, 10)))
    # A tampered class index is refused.
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH", "0" * 32)
    os.remove(Path(os.environ["LAMINA_HOME"]) / "models" / "imagenet_class_index.json")
    with pytest.raises(ChecksumError):
        applications.vgg16.decode_predictions(preds)


# ----------------------------------------------------------------------------------------------------------------
# Weight files


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for v in model.weights:
        shape = tuple(v.shape)
        if "moving_variance" in v.path:
            v.assign(rng.uniform(0.5, 1.5, shape).astype("float32"))
        else:
            v.assign((rng.normal(0, 0.2, shape)).astype("float32"))


def _write_published_layout(model, path):
    """Write ``model``'s weights as Keras's published ImageNet files are laid out (tf.keras 2 ``save_weights``)."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [l.name.encode() for l in model.layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for layer in model.layers:
            g = f.create_group(layer.name)
            names = [f"{layer.name}/{v.name}:0" for v in layer.weights]
            g.attrs["weight_names"] = [n.encode() for n in names]
            for n, v in zip(names, layer.weights):
                g.create_dataset(n, data=lamina.ops.convert_to_numpy(v.value))


def _small_mobilenet_v2(weights=None, **kw):
    return applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), weights=weights, classes=10, **kw)


def test_published_h5_layout_loads_by_path(tmp_path):
    source = _small_mobilenet_v2()
    _randomize(source)
    path = tmp_path / "mobilenet_v2_small.h5"
    _write_published_layout(source, path)
    loaded = _small_mobilenet_v2(weights=str(path))
    x = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    want = lamina.ops.convert_to_numpy(source(x, training=False))
    got = lamina.ops.convert_to_numpy(loaded(x, training=False))
    np.testing.assert_array_equal(got, want)
    fresh = lamina.ops.convert_to_numpy(_small_mobilenet_v2()(x, training=False))
    assert not np.allclose(fresh, want)
    # A headless model reads the base's weights from a "no_top"-style file (by layer name).
    base = applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), weights=None, include_top=False)
    _write_published_layout(base, tmp_path / "no_top.h5")
    head_less = applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), weights=str(tmp_path / "no_top.h5"),
                                         include_top=False)
    for a, b in zip(base.weights, head_less.weights):
        np.testing.assert_array_equal(lamina.ops.convert_to_numpy(a.value), lamina.ops.convert_to_numpy(b.value))
    # A file for another architecture is refused with a message naming the file.
    with pytest.raises(ValueError, match="no_top.h5"):
        applications.MobileNet(alpha=0.25, input_shape=(32, 32, 3), weights=str(tmp_path / "no_top.h5"),
                               include_top=False)


def test_imagenet_weights_download_and_checksum(server, monkeypatch, tmp_path):
    source = applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), weights=None, include_top=False)
    _randomize(source, seed=3)
    path = tmp_path / "served.h5"
    _write_published_layout(source, path)
    body = path.read_bytes()
    fname = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
    server.files["/mnv2/" + fname] = body
    monkeypatch.setattr(mobilenet_v2, "BASE_WEIGHT_PATH", server.url + "/mnv2/")
    monkeypatch.setattr(mobilenet_v2, "WEIGHTS_HASHES", {fname: hashlib.sha256(body).hexdigest()})
    model = applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), weights="imagenet", include_top=False)
    cached = Path(os.environ["LAMINA_HOME"]) / "models" / fname
    assert cached.is_file()
    for a, b in zip(source.weights, model.weights):
        np.testing.assert_array_equal(lamina.ops.convert_to_numpy(a.value), lamina.ops.convert_to_numpy(b.value))
    assert server.requests == ["/mnv2/" + fname]
    applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), weights="imagenet", include_top=False)
    assert len(server.requests) == 1  # served from the cache the second time
    # A wrong file under the published name: the checksum check refuses it and nothing is cached.
    cached.unlink()
    server.files["/mnv2/" + fname] = body[:-10] + b"0123456789"
    with pytest.raises(ChecksumError, match="different"):
        applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), weights="imagenet", include_top=False)
    assert not cached.exists()
    # ResNet50's published hash is enforced: a file that is not Keras's is refused.
    server.files["/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"] = body
    monkeypatch.setattr(_resnet, "BASE_WEIGHTS_PATH", server.url + "/resnet/")
    with pytest.raises(ChecksumError):
        applications.ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert _resnet.WEIGHTS_HASHES["resnet50"][1] == "4d473c1dd8becc155b73f8504c6f6626"


_KERAS_SCRIPT = r"""
import json, sys
import numpy as np
import keras

out = sys.argv[1]
rng = np.random.default_rng(0)
models = {
    "mobilenet_v2": lambda: keras.applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), weights=None,
                                                          classes=10, classifier_activation=None),
    "resnet50": lambda: keras.applications.ResNet50(input_shape=(32, 32, 3), weights=None, classes=10,
                                                     classifier_activation=None),
}
names = {}
for key, build in models.items():
    m = build()
    for v in m.weights:
        if "moving_variance" in v.path:
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
        else:
            v.assign(rng.normal(0, 0.2, v.shape).astype("float32"))
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    m.save_weights(f"{out}/{key}.weights.h5")
    np.save(f"{out}/{key}_x.npy", x)
    np.save(f"{out}/{key}_y.npy", keras.ops.convert_to_numpy(m(x, training=False)))
    names[key] = [[l.name, type(l).__name__] for l in m.layers]
json.dump(names, open(f"{out}/names.json", "w"))
"""


def _keras_env():
    if importlib.util.find_spec("keras") is None:
        pytest.skip("the `keras` package is not installed (it is a benchmark/test-only extra, not in CI): the "
                    "cross-check against Keras 3's own MobileNetV2/ResNet50 weight files needs it")
    engine = next((e for e in ("jax", "torch") if importlib.util.find_spec(e) is not None), None)
    return dict(os.environ, KERAS_BACKEND=engine, OMP_NUM_THREADS="1")


def test_keras3_weights_files_load_with_same_outputs(tmp_path):
    env = _keras_env()
    script = tmp_path / "make.py"
    script.write_text(_KERAS_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    keras_names = json.loads((tmp_path / "names.json").read_text())
    builders = {
        "mobilenet_v2": lambda w: applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), weights=w,
                                                           classes=10, classifier_activation=None),
        "resnet50": lambda w: applications.ResNet50(input_shape=(32, 32, 3), weights=w, classes=10,
                                                     classifier_activation=None),
    }
    for key, build in builders.items():
        model = build(str(tmp_path / f"{key}.weights.h5"))
        mine = [[l.name, type(l).__name__] for l in model.layers]
        auto = ("input_layer", "global_average_pooling2d")
        strip = [[n if not n.startswith(auto) else n.rsplit("_", 1)[0] if n[-1].isdigit() else n, c]
                 for n, c in mine]
        theirs = [[n if not n.startswith(auto) else n.rsplit("_", 1)[0] if n[-1].isdigit() else n, c]
                  for n, c in keras_names[key]]
        assert strip == theirs, key
        x = np.load(tmp_path / f"{key}_x.npy")
        want = np.load(tmp_path / f"{key}_y.npy")
        got = lamina.ops.convert_to_numpy(model(x, training=False))
        assert np.abs(want).max() > 1e-2
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4, err_msg=key)


# ----------------------------------------------------------------------------------------------------------------
# Transfer learning as the tutorials do it


def test_transfer_learning_frozen_base_then_fine_tune():
    base = applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), weights=None, include_top=False)
    _randomize(base, seed=5)  # stands in for pretrained weights (a fresh MobileNetV2's features are ~1e-11)
    base.trainable = False
    inputs = lamina.Input((32, 32, 3))
    x = base(inputs, training=False)
    x = lamina.layers.GlobalAveragePooling2D()(x)
    x = lamina.layers.Dropout(0.2)(x)
    outputs = lamina.layers.Dense(4, activation="softmax")(x)
    model = lamina.Model(inputs, outputs)
    assert len(model.trainable_weights) == 2  # the head only
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    data = rng.uniform(-1, 1, (16, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, 4, 16)
    before = [lamina.ops.convert_to_numpy(v.value).copy() for v in base.weights]
    head_before = lamina.ops.convert_to_numpy(model.layers[-1].kernel.value).copy()
    history = model.fit(data, labels, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    for v, b in zip(base.weights, before):  # frozen: kernels AND BatchNormalization statistics unchanged
        np.testing.assert_array_equal(lamina.ops.convert_to_numpy(v.value), b, err_msg=v.path)
    assert not np.allclose(lamina.ops.convert_to_numpy(model.layers[-1].kernel.value), head_before)
    # Fine-tune: unfreeze, recompile with a low learning rate, train the whole model a step. The graph
    # recorded base(..., training=False), and that wins over fit's training=True (as the Keras transfer-learning
    # guide and tf.keras 2 do; Keras 3.15.1 itself lets fit's flag through): the base's BatchNormalization
    # layers stay in inference mode, so their statistics do not move while its kernels train.
    base.trainable = True
    model.compile(optimizer=lamina.optimizers.Adam(1e-5), loss="sparse_categorical_crossentropy")
    assert len(model.trainable_weights) == len(base.trainable_weights) + 2 > 2
    kernel = base.get_layer("Conv_1").kernel  # the last convolution (random weights: the first gets ~1e-17)
    kernel_before = lamina.ops.convert_to_numpy(kernel.value).copy()
    stats_before = [lamina.ops.convert_to_numpy(v.value).copy() for v in base.non_trainable_weights]
    history = model.fit(data, labels, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    change = np.abs(lamina.ops.convert_to_numpy(kernel.value) - kernel_before).max()
    assert 0 < change < 1e-3  # moved, by about the small learning rate
    for v, b in zip(base.non_trainable_weights, stats_before):
        np.testing.assert_array_equal(lamina.ops.convert_to_numpy(v.value), b, err_msg=v.path)
