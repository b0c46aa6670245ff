"""lamina.applications, third batch: InceptionResNetV2, NASNetMobile/NASNetLarge, and the transfer-learning example
``examples/transfer_learning_fashion_mnist.py``.

Reference numbers are Keras 3.15.1's (``keras.applications``, JAX backend: Keras refuses NASNetMobile on torch):
parameter and layer counts from ``count_params()`` / ``len(model.layers)``, and the outputs in ``KERAS_OUTPUTS``
from Keras models whose weights were set by ``_set_deterministic_weights`` (layer by layer, so the same values
land in the same places in both libraries) on the inputs ``_inputs`` makes. Outside the suite every model was also
checked against Keras directly: layer names, classes and weight shapes identical; Keras-saved random weights
(``.weights.h5`` and tf.keras-2-layout ``.h5``) loaded into lamina give Keras's predictions (max difference 1.2e-6
on torch, 0 on JAX) for InceptionResNetV2 (75x75), NASNetMobile (32x32, 64x64) and NASNetLarge (48x48).
"""

import importlib.util
import os
import pathlib

import numpy as np
import pytest

import lamina
from lamina.applications import imagenet_utils, inception_resnet_v2, nasnet
from lamina.applications.inception_resnet_v2 import CustomScaleLayer, InceptionResNetV2
from lamina.applications.nasnet import NASNetLarge, NASNetMobile

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Keras 3.15.1 counts: (parameters, layers). Built here: the small-input variants; the others were checked against
# Keras outside the suite (slow to build here): InceptionResNetV2 55,873,736 (782 layers; no top, avg pooling:
# 54,336,736, 781 layers); NASNetMobile 5,326,716 (771; no top: 4,269,716, 769, output (None, 7, 7, 1056));
# NASNetLarge 88,949,818 (1041; no top at 331x331: 84,916,818, 1039, output (None, 11, 11, 4032); no top with no
# input shape: 84,887,922, 1012 -- with unknown sizes Keras's cells take the projection path, and so does lamina).
KERAS_COUNTS = {
    "InceptionResNetV2": (54_347_495, 782),  # input_shape=(75, 75, 3), classes=7
    "NASNetMobile": (4_277_115, 771),  # input_shape=(32, 32, 3), classes=7
}
KERAS_OUTPUTS = {  # classifier_activation=None; see the module docstring
    "NASNetMobile": [[-0.04338799, 0.1219179, 0.04049893, -0.04156935, -0.1035645, -0.08537094, -0.4571267],
                     [-0.04701912, 0.1218845, 0.0500199, -0.0273871, -0.111953, -0.1020097, -0.469159]],
    "InceptionResNetV2": [[-0.1967319, 0.3550303, -0.4109755, -0.08188453, 0.263705, -0.6730688, -0.582136],
                          [-0.2173323, 0.3552316, -0.429585, -0.09625901, 0.2859256, -0.6540282, -0.5593672]],
}
SIZES = {"NASNetMobile": 32, "InceptionResNetV2": 75}
CONSTRUCTORS = {"NASNetMobile": NASNetMobile, "InceptionResNetV2": InceptionResNetV2}


def np_(x):
    return lamina.ops.convert_to_numpy(x)


def _set_deterministic_weights(model, seed=123):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for v in layer.weights:
            shape, name = tuple(v.shape), v.name.split("/")[-1]
            if name == "moving_variance":
                value = rng.uniform(0.5, 1.5, shape)
            elif name == "gamma":
                value = rng.uniform(0.8, 1.2, shape)
            elif len(shape) < 2:
                value = rng.normal(0.0, 0.1, shape)
            else:
                fan_in = np.prod(shape[:2]) if name == "depthwise_kernel" else np.prod(shape[:-1])
                value = rng.standard_normal(shape) / np.sqrt(fan_in)
            v.assign(value.astype("float32"))


def _inputs(size):
    return np.random.default_rng(7).uniform(-1, 1, (2, size, size, 3)).astype("float32")


@pytest.fixture(scope="module")
def models():
    """The two small models, built once per backend (JAX compiles an initializer per weight shape), each in a fresh
    session so that the automatic layer names are Keras's."""
    built = {}
    for name, ctor in CONSTRUCTORS.items():
        lamina.utils.clear_session()
        built[name] = ctor(weights=None, input_shape=(SIZES[name],) * 2 + (3,), classes=7, classifier_activation=None)
    return built


@pytest.mark.parametrize("name", sorted(CONSTRUCTORS))
def test_counts_and_outputs_match_keras(models, name):
    model = models[name]
    params, n_layers = KERAS_COUNTS[name]
    assert model.count_params() == params
    assert len(model.layers) == n_layers
    assert model.output_shape == (None, 7)
    _set_deterministic_weights(model)
    got = np_(model(_inputs(SIZES[name]), training=False))
    np.testing.assert_allclose(got, KERAS_OUTPUTS[name], rtol=1e-4, atol=1e-5)


def test_keras_layer_names_and_structure(models):
    irv2, mobile = models["InceptionResNetV2"], models["NASNetMobile"]
    names = [l.name for l in irv2.layers]
    # Keras's order: the stem's auto-named layers first, then the named blocks.
    assert names[:4] == ["input_layer", "conv2d", "batch_normalization", "activation"]
    assert names[-8:] == ["block8_10_mixed", "block8_10_conv", "custom_scale_layer_39", "conv_7b", "conv_7b_bn",
                          "conv_7b_ac", "avg_pool", "predictions"]  # Keras 3.15.1's last eight names
    for expected in ("mixed_5b", "block35_1_mixed", "block35_1_conv", "block35_10_ac", "mixed_6a", "block17_20_ac",
                     "mixed_7a", "block8_9_ac", "block8_10_conv", "conv_7b", "conv_7b_bn", "conv_7b_ac", "avg_pool",
                     "predictions"):
        assert expected in names, expected
    assert "block8_10_ac" not in names  # the last block has no activation (Keras)
    scales = [l.scale for l in irv2.layers if isinstance(l, CustomScaleLayer)]
    assert scales == [0.17] * 10 + [0.1] * 20 + [0.2] * 9 + [1.0]
    assert irv2.get_layer("conv_7b_bn").scale is False and irv2.get_layer("block35_1_conv").use_bias
    mobile_names = [l.name for l in mobile.layers]
    assert mobile_names[:6] == ["input_layer", "stem_conv1", "stem_bn1", "activation", "reduction_conv_1_stem_1",
                                "reduction_bn_1_stem_1"]  # Keras 3.15.1's
    assert mobile_names[-5:] == ["normal_add_5_12", "normal_concat_12", "activation_187", "global_average_pooling2d",
                                 "predictions"]
    for expected in ("stem_conv1", "stem_bn1", "reduction_conv_1_stem_1", "separable_conv_1_pad_reduction_left1_stem_1",
                     "reduction_add_1_stem_1", "adjust_avg_pool_1_stem_2", "adjust_bn_stem_2", "normal_concat_0",
                     "adjust_relu_1_0", "adjust_conv_projection_reduce_4", "reduction_concat_reduce_4",
                     "separable_conv_1_normal_left5_12",
                     "normal_concat_12", "predictions"):
        assert expected in mobile_names, expected
    bn = mobile.get_layer("separable_conv_2_bn_normal_left1_0")
    assert bn.momentum == pytest.approx(0.9997) and bn.epsilon == pytest.approx(1e-3)
    assert [w.name for w in mobile.get_layer("separable_conv_1_normal_left1_0").weights] == \
        ["depthwise_kernel", "pointwise_kernel"]


def test_weights_files_round_trip(models, tmp_path):
    source = models["NASNetMobile"]
    _set_deterministic_weights(source, seed=5)
    for ext in (".weights.h5", ".h5"):
        path = tmp_path / f"nasnet{ext}"
        source.save_weights(path)
        target = NASNetMobile(weights=str(path), input_shape=(32, 32, 3), classes=7, classifier_activation=None)
        for a, b in zip(source.weights, target.weights):
            np.testing.assert_array_equal(np_(a.value), np_(b.value), err_msg=f"{ext}: {a.path}")


def test_custom_scale_layer_saves_and_loads_in_safe_mode(tmp_path):
    inp = lamina.Input((5, 5, 8))
    out = inception_resnet_v2.inception_resnet_block(inp, 0.17, "block35", 1)
    out = inception_resnet_v2.inception_resnet_block(out, 1.0, "block8", 2, activation=None)
    model = lamina.Model(inp, out)
    assert [type(l).__name__ for l in model.layers].count("CustomScaleLayer") == 2
    _set_deterministic_weights(model, seed=2)
    x = np.random.default_rng(3).normal(size=(2, 5, 5, 8)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(np_(loaded(x)), np_(model(x)), rtol=1e-5, atol=1e-6)
    layer = [l for l in loaded.layers if isinstance(l, CustomScaleLayer)][0]
    assert layer.scale == pytest.approx(0.17) and layer.get_config()["scale"] == pytest.approx(0.17)
    # Keras writes this (unregistered there) class under its bare name: such configs load too.
    config = lamina.saving.serialize_object(layer)
    config["registered_name"] = "CustomScaleLayer"
    assert isinstance(lamina.saving.deserialize_object(config), CustomScaleLayer)


def test_custom_scale_layer_values_and_errors():
    a, b = np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")
    np.testing.assert_allclose(np_(CustomScaleLayer(0.25)([a, b])), np.full((2, 3), 1.5))
    with pytest.raises(ValueError, match=r"CustomScaleLayer\) must be called on a list of two tensors"):
        CustomScaleLayer(0.1)(a)
    with pytest.raises(ValueError, match="same shape"):
        CustomScaleLayer(0.1)([lamina.Input((4,)), lamina.Input((5,))])
    with pytest.raises(TypeError, match="scale must be a number"):
        CustomScaleLayer("0.1")
    with pytest.raises(ValueError, match="block_type must be"):
        inception_resnet_v2.inception_resnet_block(lamina.Input((5, 5, 8)), 0.1, "block9", 1)


def test_argument_errors():
    with pytest.raises(ValueError, match="Input size must be at least 75x75"):
        InceptionResNetV2(weights=None, include_top=False, input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        InceptionResNetV2(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="classifier_activation"):
        NASNetMobile(weights="imagenet", classifier_activation="relu")
    with pytest.raises(ValueError, match="input_shape` should be \\(331, 331, 3\\)"):
        NASNetLarge(weights="imagenet", input_shape=(224, 224, 3))
    with pytest.raises(ValueError, match="must be static"):
        NASNetLarge(weights="imagenet", include_top=False, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="Input size must be at least 32x32"):
        NASNetMobile(weights=None, include_top=False, input_shape=(24, 24, 3))
    with pytest.raises(ValueError, match="multiple of 24"):
        nasnet.NASNet(input_shape=(32, 32, 3), penultimate_filters=1000, weights=None, include_top=False)
    with pytest.raises(ValueError, match="default_size"):
        nasnet.NASNet(input_shape=(32, 32, 3), weights="imagenet", include_top=False, default_size=128)
    with pytest.raises(ValueError, match="pooling must be None"):
        NASNetMobile(weights=None, include_top=False, pooling="sum")
    lamina.config.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match="NASNet does not support the `channels_first`"):
            NASNetMobile(weights=None)
    finally:
        lamina.config.set_image_data_format("channels_last")


def test_imagenet_weights_files_and_hashes(models, monkeypatch, tmp_path):
    """weights="imagenet" asks get_file for Keras's published file, URL and md5, then loads what it returns."""
    source = models["NASNetMobile"]
    _set_deterministic_weights(source, seed=9)
    headless = NASNetMobile(weights=None, include_top=False, input_shape=(32, 32, 3))
    for mine, theirs in zip([l for l in headless.layers if l.weights], [l for l in source.layers if l.weights]):
        mine.set_weights(theirs.get_weights())
    headless.save_weights(tmp_path / "no_top.weights.h5")
    calls = []

    def fake_get_file(fname, origin, cache_subdir=None, file_hash=None, **kwargs):
        calls.append((fname, origin, cache_subdir, file_hash))
        return str(tmp_path / "no_top.weights.h5")

    monkeypatch.setattr("lamina.utils.file_utils.get_file", fake_get_file)
    model = NASNetMobile(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert calls == [("nasnet_mobile_no_top.h5",
                      "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/NASNet-mobile-no-top.h5",
                      "models", "1ed92395b5b598bdda52abe5c0dbfd63")]
    for a, b in zip(headless.weights, model.weights):
        np.testing.assert_array_equal(np_(a.value), np_(b.value), err_msg=a.path)
    assert nasnet.WEIGHTS[224][True] == ("nasnet_mobile.h5", nasnet.NASNET_MOBILE_WEIGHT_PATH,
                                         "020fb642bf7360b370c678b08e0adf61")
    assert nasnet.WEIGHTS[331][True][2] == "11577c9a518f0070763c2b964a382f17"
    assert nasnet.WEIGHTS[331][False][:2] == ("nasnet_large_no_top.h5", nasnet.BASE_WEIGHTS_PATH +
                                              "NASNet-large-no-top.h5")
    assert nasnet.WEIGHTS[331][False][2] == "d81d89dc07e6e56530c4e77faddd61b5"
    assert inception_resnet_v2.WEIGHTS_HASHES == ("e693bd0210a403b3192acc6073ad2e96",
                                                  "d19885ff4a710c122648d3b5c3b684e4")
    assert inception_resnet_v2.BASE_WEIGHT_URL.endswith("/keras-applications/inception_resnet_v2/")


def test_defaults_pooling_and_preprocessing():
    for ctor in (InceptionResNetV2, NASNetMobile, NASNetLarge):
        defaults = dict(zip(ctor.__code__.co_varnames, ctor.__defaults__))
        assert defaults["weights"] == "imagenet" and defaults["classes"] == 1000 and "Args:" in ctor.__doc__
    assert NASNetMobile.__code__.co_varnames[0] == "input_shape"  # Keras's argument order
    inp = lamina.Input((40, 40, 3))
    model = NASNetMobile(weights=None, include_top=False, pooling="max", input_tensor=inp, name="m")
    assert model.inputs == [inp] and model.name == "m" and model.output_shape == (None, 1056)
    x = np.array([[[[0.0, 127.5, 255.0]]]], dtype="float32")
    for module in (inception_resnet_v2, nasnet):
        np.testing.assert_allclose(module.preprocess_input(x), [[[[-1.0, 0.0, 1.0]]]])
        assert module.decode_predictions.__doc__ and module.preprocess_input.__doc__
    assert imagenet_utils.correct_pad(lamina.Input((15, 15, 4)), (5, 5)) == ((2, 2), (2, 2))


# ----------------------------------------------------------------------------------------------------------------
# The transfer-learning example


def _example():
    spec = importlib.util.spec_from_file_location("transfer_learning_fashion_mnist",
                                                  ROOT / "examples" / "transfer_learning_fashion_mnist.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def datasets_dir(monkeypatch):
    mirror = ROOT.parent / "shared" / "data"
    if not os.environ.get("LAMINA_DATASETS_DIR") and (mirror / "fashion_mnist").is_dir():
        monkeypatch.setenv("LAMINA_DATASETS_DIR", str(mirror))


def test_example_prepares_fashion_mnist_images():
    example = _example()
    x = np.zeros((2, 28, 28), "uint8")
    x[:, 5, 7] = 255
    out = example.prepare_images(x)
    assert out.shape == (2, 32, 32, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 7, 9], 1.0)  # shifted by the 2-pixel padding, in all three channels
    assert out.min() == -1.0 and (out == 1.0).sum() == 6
    with pytest.raises(SystemExit):
        example.parse_args(["--samples", "0"])


def test_example_transfer_learning_then_fine_tuning(datasets_dir, capsys):
    example = _example()
    result = example.main(["--samples", "512", "--test-samples", "256", "--epochs", "3", "--fine-tune-epochs", "1",
                           "--batch-size", "64", "--verbose", "0"])
    printed = capsys.readouterr().out
    assert "Test accuracy after training the head" in printed and "Test accuracy after fine-tuning" in printed
    head = result["head_history"]
    assert head["loss"][-1] < head["loss"][0]
    assert result["head_accuracy"] > result["chance"] + 0.1  # chance is 0.1
    snaps = result["base_variables"]
    base = result["base"]
    trainable = {v.path for v in base.trainable_variables}
    moving = [p for p in snaps["start"] if "moving_" in p]
    assert len(trainable) == 156 and len(moving) == 104  # MobileNetV2: 52 kernels, 52 BN layers (gamma, beta)
    # Phase 1: the frozen base does not change at all, BatchNormalization statistics included.
    for path, value in snaps["start"].items():
        np.testing.assert_array_equal(snaps["after_head"][path], value, err_msg=path)
    # Phase 2: the base's weights are trained, but its BN layers (called with training=False) keep their statistics.
    changed = [p for p in trainable if not np.array_equal(snaps["after_fine_tune"][p], snaps["after_head"][p])]
    assert len(changed) > 0.9 * len(trainable)
    for path in moving:
        np.testing.assert_array_equal(snaps["after_fine_tune"][path], snaps["after_head"][path], err_msg=path)
    assert np.isfinite(result["fine_tune_history"]["loss"]).all()
    assert result["fine_tune_accuracy"] > result["chance"]


def test_explicit_training_false_in_a_graph_wins_over_fit():
    """The example relies on ``base(inputs, training=False)`` keeping BN in inference mode during ``fit`` (the Keras transfer-learning guide; Keras 3.15.1 lets fit's flag through)."""
    inp = lamina.Input((4,))
    inner = lamina.Sequential([lamina.Input((4,)), lamina.layers.BatchNormalization(momentum=0.5)])
    model = lamina.Model(inp, lamina.layers.Dense(1)(inner(inp, training=False)))
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).normal(5.0, 3.0, (32, 4)).astype("float32")
    model.fit(x, np.zeros((32, 1), "float32"), epochs=1, verbose=0)
    np.testing.assert_array_equal(np_(inner.layers[0].moving_mean.value), np.zeros(4))
    np.testing.assert_array_equal(np_(inner.layers[0].moving_variance.value), np.ones(4))
