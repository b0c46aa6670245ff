"""lamina.applications, more families: DenseNet121/169/201, MobileNetV3Small/Large, EfficientNetB0-B7, Xception,
InceptionV3.

Reference numbers (parameter and layer counts) are Keras 3.15.1's: each was read from
``keras.applications.<Name>(weights=None, ...).count_params()`` / ``len(model.layers)``, which document Keras's
published architectures (and so the layout of its published ImageNet weight files). Outside the tests, every
family was also checked against Keras 3 directly: layer names/types identical, and Keras-saved random weights
(``.weights.h5`` and tf.keras-2 ``.h5``) loaded into lamina give the same predictions (within 4e-6).
"""

import hashlib
import http.server
import os
import threading
from pathlib import Path

import h5py
import numpy as np
import pytest

import lamina
from lamina import applications
from lamina.applications import densenet, efficientnet, inception_v3, mobilenet_v3, xception
from lamina.utils.file_utils import ChecksumError

# name: (kwargs, params, number of layers, output shape) from Keras 3.15.1 (see the module docstring). The variants
# built here share most weight shapes (JAX compiles its random initializers once per shape, so each new shape costs).
EXPECTED = {
    "DenseNet121": ({}, 8_062_504, 429, (None, 1000)),
    "DenseNet121/notop": ({"include_top": False, "pooling": "avg"}, 7_037_504, 428, (None, 1024)),
    "MobileNetV3Small": ({}, 2_554_968, 164, (None, 1000)),
    "MobileNetV3Small/notop": ({"include_top": False}, 939_120, 157, (None, None, None, 576)),
    "EfficientNetB0": ({}, 5_330_571, 240, (None, 1000)),
    "EfficientNetB0/notop": ({"include_top": False}, 4_049_571, 237, (None, None, None, 1280)),
    "Xception": ({}, 22_910_480, 134, (None, 1000)),
}
# Keras 3.15.1's counts of the other variants, checked against Keras outside the suite (too slow to build here):
# DenseNet169 14,307,880; DenseNet201 20,242,984 (no top 18,321,984); MobileNetV3Large 5,507,432 (no top, avg
# pooling: 2,996,352, 188 layers);
# MobileNetV3Small(minimalistic, alpha=0.75) 1,742,192; MobileNetV3Large(minimalistic, alpha=1.25) 5,788,928;
# EfficientNetB1 7,856,239; B2 9,177,569; B3 12,320,535; B4 19,466,823; B5 30,562,527; B6 43,265,143; B7 66,658,687
# (no top 64,097,687); Xception without top 20,861,480; InceptionV3 23,851,784 (313 layers; no top, avg pooling:
# 21,802,784, 312 layers). MobileNetV3Large and InceptionV3 are built (and their counts checked) by their modules'
# doctests.


def np_(x):
    return lamina.ops.convert_to_numpy(x)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_param_counts_layer_counts_and_outputs_match_keras(key):
    kwargs, params, n_layers, out_shape = EXPECTED[key]
    model = getattr(applications, key.split("/")[0])(weights=None, **kwargs)
    assert model.count_params() == params
    assert len(model.layers) == n_layers
    assert model.output_shape == out_shape


def test_all_constructors_exported_with_keras_defaults():
    for name in ("DenseNet169", "EfficientNetB2", "EfficientNetB4", "EfficientNetB5", "EfficientNetB6",
                 "EfficientNetB7"):
        ctor = getattr(applications, name)
        assert ctor.__name__ == name and "Args:" in ctor.__doc__
        assert ctor.__defaults__[1] == "imagenet"  # weights="imagenet" by default, as Keras
    assert efficientnet.SCALING["b7"][:3] == (2.0, 3.1, 600)
    assert densenet.BLOCKS[169] == (6, 12, 32, 32)


def test_keras_layer_names():
    expected = {
        "DenseNet121": ["conv1_conv", "conv1_bn", "conv1_relu", "pool1", "conv2_block1_0_bn", "conv2_block1_1_conv",
                        "conv2_block1_concat", "pool2_conv", "pool2_pool", "conv5_block16_2_conv", "bn", "relu",
                        "avg_pool", "predictions"],
        "MobileNetV3Small": ["rescaling", "conv", "conv_bn", "expanded_conv_depthwise_pad",
                             "expanded_conv_squeeze_excite_avg_pool", "expanded_conv_squeeze_excite_mul",
                             "expanded_conv_1_expand", "expanded_conv_10_add", "conv_1", "conv_1_bn", "conv_2",
                             "logits", "predictions"],
        "EfficientNetB0": ["rescaling", "normalization", "stem_conv_pad", "stem_conv", "stem_bn", "stem_activation",
                           "block1a_dwconv", "block1a_se_squeeze", "block1a_se_excite", "block2b_drop", "block2b_add",
                           "block7a_project_bn", "top_conv", "top_bn", "avg_pool", "top_dropout", "predictions"],
        "Xception": ["block1_conv1", "block1_conv1_bn", "block1_conv2_act", "block2_sepconv1", "block2_sepconv2_act",
                     "block2_pool", "block5_sepconv3_bn", "block13_pool", "block14_sepconv2_act", "avg_pool",
                     "predictions"],
    }
    models = {name: getattr(applications, name)(weights=None) for name in expected}
    for name, model in models.items():
        # Auto-named layers get a counter suffix when several models are built in one session (as in Keras).
        have = {n.rsplit("_", 1)[0] if n.startswith(("rescaling_", "normalization_")) else n
                for n in (l.name for l in model.layers)}
        assert set(expected[name]) <= have, (name, sorted(set(expected[name]) - have))
    b0 = models["EfficientNetB0"]
    norm = [l for l in b0.layers if type(l).__name__ == "Normalization"][0]
    assert [w.name for w in norm.weights] == ["mean", "variance", "count"]  # Keras 3's layout
    assert b0.get_layer("block2b_drop").noise_shape == (None, 1, 1, 1)
    assert b0.get_layer("stem_bn").epsilon == pytest.approx(1e-3)
    separable = models["Xception"].get_layer("block2_sepconv1")
    assert [w.name for w in separable.weights] == ["depthwise_kernel", "pointwise_kernel"]
    dn = models["DenseNet121"]
    assert dn.get_layer("conv1_bn").epsilon == pytest.approx(1.001e-5)
    assert dn.get_layer("pool2_conv").filters == 128  # half of 64 + 6 * 32 channels


def test_model_names_pooling_and_input_tensor():
    assert applications.DenseNet121(weights=None, include_top=False, input_shape=(32, 32, 3)).name == "densenet121"
    model = applications.EfficientNetB0(weights=None, include_top=False, pooling="max", input_shape=(32, 32, 3),
                                        name="b0")
    assert model.name == "b0" and model.output_shape == (None, 1280)
    assert type(model.layers[-1]).__name__ == "GlobalMaxPooling2D"
    assert applications.EfficientNetB0(weights=None, include_top=False, input_shape=(33, 47, 3)).output_shape == \
        (None, 2, 2, 1280)
    inp = lamina.Input((48, 48, 3))
    cropped = lamina.layers.Cropping2D(8)(inp)
    model = applications.MobileNetV3Small(weights=None, include_top=False, input_tensor=cropped, pooling="avg")
    assert model.inputs == [inp]
    assert model.output_shape == (None, 576)


def test_argument_errors():
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        applications.DenseNet121(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="Input size must be at least 32x32"):
        applications.DenseNet121(weights=None, include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="Input size must be at least 32x32"):
        applications.MobileNetV3Small(weights=None, input_shape=(24, 40, 3))
    with pytest.raises(ValueError, match="alpha can be one of"):
        applications.MobileNetV3Small(weights="imagenet", alpha=0.5)
    with pytest.raises(ValueError, match="alpha can be one of"):
        applications.MobileNetV3Large(weights="imagenet", minimalistic=True, alpha=0.75)
    with pytest.raises(ValueError, match="do not match"):
        applications.MobileNetV3Small(weights=None, input_shape=(64, 64, 3), input_tensor=lamina.Input((32, 32, 3)))
    with pytest.raises(ValueError, match="input_shape` should be \\(240, 240, 3\\)"):
        applications.EfficientNetB1(weights="imagenet", input_shape=(224, 224, 3))
    with pytest.raises(ValueError, match="classifier_activation"):
        applications.EfficientNetB0(weights="imagenet", classifier_activation="relu")
    with pytest.raises(ValueError, match="Input size must be at least 71x71"):
        applications.Xception(weights=None, include_top=False, input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="input_shape` should be \\(299, 299, 3\\)"):
        applications.InceptionV3(weights="imagenet", input_shape=(224, 224, 3))
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'"):
        applications.DenseNet121(weights=None, include_top=False, pooling="sum")
    lamina.config.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match="DenseNet does not support the `channels_first`"):
            applications.DenseNet121(weights=None)
    finally:
        lamina.config.set_image_data_format("channels_last")


def test_preprocess_input():
    x = np.array([[[[10.0, 20.0, 30.0]]]], dtype="float32")
    expected = (x / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    np.testing.assert_allclose(densenet.preprocess_input(x), expected, rtol=1e-5)
    np.testing.assert_allclose(xception.preprocess_input(x), x / 127.5 - 1, rtol=1e-6)
    np.testing.assert_allclose(inception_v3.preprocess_input(x), x / 127.5 - 1, rtol=1e-6)
    assert mobilenet_v3.preprocess_input(x) is x  # the models scale their inputs themselves (Keras 3)
    assert efficientnet.preprocess_input(x) is x


# ----------------------------------------------------------------------------------------------------------------
# Forward passes and weights


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for v in model.weights:
        if v.path.endswith("count"):
            continue
        if v.path.endswith("variance"):
            v.assign(rng.uniform(0.5, 1.5, tuple(v.shape)).astype("float32"))
        else:
            v.assign(rng.normal(0, 0.2, tuple(v.shape)).astype("float32"))


def test_mobilenet_v3_preprocessing_inside_the_model():
    kwargs = dict(weights=None, input_shape=(32, 32, 3), classes=6)
    with_pre = applications.MobileNetV3Small(**kwargs)
    without = applications.MobileNetV3Small(include_preprocessing=False, **kwargs)
    assert type(with_pre.layers[1]).__name__ == "Rescaling"
    assert len(with_pre.layers) == len(without.layers) + 1
    _randomize(with_pre, seed=1)
    without.set_weights(with_pre.get_weights())
    x = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    got = np_(with_pre(x, training=False))
    np.testing.assert_allclose(got, np_(without(x / 127.5 - 1.0, training=False)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)
    assert got.shape == (2, 6) and got.std() > 1e-3


def test_save_load_round_trips(tmp_path):
    """A whole MobileNetV3 (its hard-sigmoid is a graph of ops) and DenseNet/EfficientNet weights round-trip."""
    model = applications.MobileNetV3Small(weights=None, input_shape=(32, 32, 3), classes=6)
    _randomize(model, seed=3)
    x = np.random.default_rng(4).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    np.testing.assert_allclose(np_(loaded(x, training=False)), np_(model(x, training=False)), rtol=1e-5, atol=1e-6)
    for ctor in (applications.DenseNet121, applications.EfficientNetB0):
        source = ctor(weights=None, include_top=False, input_shape=(32, 32, 3))
        _randomize(source, seed=5)
        for ext in (".weights.h5", ".h5"):
            path = tmp_path / f"{source.name}{ext}"
            source.save_weights(path)
            target = ctor(weights=str(path), include_top=False, input_shape=(32, 32, 3))
            for a, b in zip(source.weights, target.weights):
                np.testing.assert_array_equal(np_(a.value), np_(b.value), err_msg=f"{path.name}: {a.path}")


def test_efficientnet_forward_and_headless_weights(tmp_path):
    full = applications.EfficientNetB0(weights=None, input_shape=(32, 32, 3), classes=5, classifier_activation=None)
    _randomize(full, seed=6)
    path = tmp_path / "b0.weights.h5"
    full.save_weights(path)
    x = np.random.default_rng(7).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    # A headless model holding the same weights gives the features the top was applied to.
    base = applications.EfficientNetB0(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3))
    pairs = list(zip([l for l in base.layers if l.weights], [l for l in full.layers if l.weights]))
    assert len(pairs) == len([l for l in full.layers if l.weights]) - 1
    for mine, theirs in pairs:
        mine.set_weights(theirs.get_weights())
    feats = np_(base(x, training=False))
    dense = full.get_layer("predictions")
    want = feats @ np_(dense.kernel.value) + np_(dense.bias.value)
    got = np_(full(x, training=False))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    assert np.abs(got).max() > 1e-2


# ----------------------------------------------------------------------------------------------------------------
# weights="imagenet": Keras's file names and checksums, served from a local HTTP server.


def _write_published_layout(model, path):
    """Write ``model``'s weights as Keras's published files are laid out (tf.keras 2 ``save_weights``)."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [l.name.encode() for l in model.layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.4.0"
        for layer in model.layers:
            g = f.create_group(layer.name)
            names = [f"{layer.name}/{v.name}:0" for v in layer.weights]
            g.attrs["weight_names"] = [n.encode() for n in names]
            for n, v in zip(names, layer.weights):
                g.create_dataset(n, data=np_(v.value))


class _Server:
    """A local HTTP server of ``files`` (path -> bytes) that records the paths requested."""

    def __init__(self):
        self.files, self.requests = {}, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path)
                self.send_response(404 if body is None else 200)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

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


def test_imagenet_weights_names_hashes_and_download(server, monkeypatch, tmp_path):
    # EfficientNet: the file is named after the model; weights="imagenet" adds Keras's std-correcting Rescaling.
    source = applications.EfficientNetB0(weights=None, include_top=False, input_shape=(32, 32, 3))
    _randomize(source, seed=8)
    _write_published_layout(source, tmp_path / "b0.h5")
    body = (tmp_path / "b0.h5").read_bytes()
    server.files["/k/efficientnetb0_notop.h5"] = body
    monkeypatch.setattr(efficientnet, "BASE_WEIGHTS_PATH", server.url + "/k/")
    monkeypatch.setitem(efficientnet.WEIGHTS_HASHES, "b0", ("0" * 32, hashlib.md5(body).hexdigest()))
    model = applications.EfficientNetB0(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert server.requests == ["/k/efficientnetb0_notop.h5"]
    assert (Path(os.environ["LAMINA_HOME"]) / "models" / "efficientnetb0_notop.h5").is_file()
    rescalings = [l for l in model.layers if type(l).__name__ == "Rescaling"]
    assert len(rescalings) == 2
    np.testing.assert_allclose(rescalings[1].scale, [1 / np.sqrt(s) for s in (0.229, 0.224, 0.225)])
    for a, b in zip(source.weights, model.weights):
        np.testing.assert_array_equal(np_(a.value), np_(b.value), err_msg=a.path)
    # DenseNet and MobileNetV3: Keras's file names; its published md5 is enforced (a foreign file is refused).
    server.files["/d/densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5"] = body
    monkeypatch.setattr(densenet, "BASE_WEIGHTS_PATH", server.url + "/d/")
    with pytest.raises(ChecksumError):
        applications.DenseNet121(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert densenet.WEIGHTS_HASHES["densenet121"][1] == "30ee3e1110167f948a6b9946edeeb738"
    server.files["/m/weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"] = body
    monkeypatch.setattr(mobilenet_v3, "BASE_WEIGHT_PATH", server.url + "/m/")
    with pytest.warns(UserWarning, match="224"), pytest.raises(ChecksumError):
        applications.MobileNetV3Small(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert server.requests[-1] == "/m/weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"
    assert mobilenet_v3.WEIGHTS_HASHES["small_224_1.0_float"][1] == "d3e8ec802a04aa4fc771ee12a9a9b836"
    fname = "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
    server.files[f"/x/{fname}"] = body
    monkeypatch.setattr(xception, "BASE_WEIGHTS_PATH", f"{server.url}/x/")
    with pytest.raises(ChecksumError):
        applications.Xception(weights="imagenet", include_top=False, input_shape=(71, 71, 3))
    assert server.requests[-1] == f"/x/{fname}"
    assert xception.WEIGHTS_HASHES[1] == "b0042744bf5b25fce3cb969f33bebb97"
    assert inception_v3.WEIGHTS_HASHES[0] == "9a0d58056eeedaa3f26cb7ebd46da564"
