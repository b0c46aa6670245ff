"""lamina.applications: ConvNeXt (Tiny..XLarge) and EfficientNetV2 (B0..B3, S, M, L).

Reference numbers are Keras 3.15.1's (KERAS_BACKEND=torch): ``keras.applications.<Name>(weights=None,
include_top=...)`` -> ``count_params()``, ``len(model.layers)``, ``output_shape`` and the layer classes. Outside
the suite (a script building every variant with Keras and lamina) all 24 (variant, include_top) pairs were
checked: parameter counts, layer names and classes and per-layer weight shapes identical; and Keras-saved random
weights (``save_weights("x.weights.h5")`` and the tf.keras 2 ``.h5`` layout) loaded into lamina give Keras's
predictions on both backends (64x64 inputs, outputs of size ~1-10: max abs difference <= 7e-6, except
EfficientNetV2L, the deepest, <= 3.2e-5).

The committed fixture ``applications_v2_keras_fixture.npz`` (about 0.6 MB) holds Keras-written weight files of
two small models built by Keras's own ``ConvNeXt``/``EfficientNetV2`` functions with reduced depth and width
(random weights), an input batch and Keras's outputs: it was made by ``_KERAS_SCRIPT`` below
(``python _KERAS_SCRIPT fixture.npz`` with keras 3.15.1, KERAS_BACKEND=torch).
"""

import collections
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina.applications import convnext, efficientnet_v2
from lamina.applications._blocks import LayerScale, StochasticDepth

FIXTURE = Path(__file__).parent / "applications_v2_keras_fixture.npz"

# name: (kwargs, params, number of layers, output shape), from Keras 3.15.1 (see the module docstring).
EXPECTED = {
    "ConvNeXtTiny": ({}, 28_589_128, 135, (None, 1000)),
    "ConvNeXtTiny/notop": ({"include_top": False}, 27_820_128, 133, (None, None, None, 768)),
    "EfficientNetV2B0": ({}, 7_200_312, 273, (None, 1000)),
    "EfficientNetV2B0/notop": ({"include_top": False}, 5_919_312, 270, (None, None, None, 1280)),
}
_BUILT = {}


def built(key):
    """The Keras-default model ``key`` of EXPECTED, built once per session (building is what costs, on JAX)."""
    if key not in _BUILT:
        name = key.split("/")[0]
        module = convnext if name.startswith("ConvNeXt") else efficientnet_v2
        _BUILT[key] = getattr(module, name)(weights=None, **EXPECTED[key][0])
    return _BUILT[key]


# Keras 3.15.1's counts of the other variants (params with top / without top; layers with top / without), checked
# against lamina outside the suite (too slow to build here):
# ConvNeXtSmall 50,223,688 / 49,454,688 (261 / 259 layers); ConvNeXtBase 88,591,464 / 87,566,464 (261 / 259);
# ConvNeXtLarge 197,767,336 / 196,230,336 (261 / 259); ConvNeXtXLarge 350,196,968 / 348,147,968 (261 / 259);
# EfficientNetV2B1 8,212,124 / 6,931,124 (337 / 334); B2 10,178,374 / 8,769,374 (352 / 349); B3 14,467,622 /
# 12,930,622 (412 / 409); S 21,612,360 / 20,331,360 (516 / 513); M 54,431,388 / 53,150,388 (743 / 740);
# L 119,027,848 / 117,746,848 (1031 / 1028). Without top, B2 ends with 1408 channels and B3 with 1536.
# Keras's layer classes, counted per model (with top).
KERAS_CLASSES = {
    "ConvNeXtTiny": {"Activation": 36, "Conv2D": 18, "Dense": 37, "GlobalAveragePooling2D": 1, "InputLayer": 1,
                     "LayerNormalization": 19, "LayerScale": 18, "Normalization": 1, "Sequential": 4},
    "EfficientNetV2B0": {"Activation": 39, "Add": 15, "BatchNormalization": 59, "Conv2D": 75, "Dense": 1,
                         "DepthwiseConv2D": 16, "Dropout": 16, "GlobalAveragePooling2D": 17, "InputLayer": 1,
                         "Multiply": 16, "Normalization": 1, "Rescaling": 1, "Reshape": 16},
}

# The reduced models of the fixture: lamina's build functions take the same overrides as Keras's.
TINY_CONVNEXT = dict(depths=(1, 1, 2, 1), projection_dims=(8, 16, 24, 32))
TINY_V2_BLOCKS = ((1, 8, 8, 1, 0, 1, True), (2, 8, 16, 2, 0, 2, True), (2, 16, 16, 2, 0.25, 2, False))


def np_(x):
    return lamina.ops.convert_to_numpy(x)


def tiny_convnext(weights=None, **kwargs):
    args = dict(include_top=True, include_preprocessing=True, weights=weights, input_tensor=None,
                input_shape=(32, 32, 3), pooling=None, classes=3, classifier_activation=None, name="convnext_tiny")
    args.update(kwargs)
    return convnext.build_convnext("tiny", **args, **TINY_CONVNEXT)


def tiny_v2(weights=None):
    return efficientnet_v2.build_efficientnet_v2(
        "b0", include_top=True, weights=weights, input_tensor=None, input_shape=(32, 32, 3), pooling=None,
        classes=3, classifier_activation=None, include_preprocessing=True, name="efficientnetv2-b0",
        blocks_args=TINY_V2_BLOCKS)


def _randomize(model, seed):
    rng = np.random.default_rng(seed)
    for v in model.weights:
        if v.path.endswith("variance"):
            v.assign(rng.uniform(0.5, 1.5, tuple(v.shape)).astype("float32"))
        else:
            v.assign(rng.normal(0, 0.3, tuple(v.shape)).astype("float32"))


# ----------------------------------------------------------------------------------------------------------------
# Architecture


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_param_counts_layer_counts_and_outputs_match_keras(key):
    kwargs, params, n_layers, out_shape = EXPECTED[key]
    name = key.split("/")[0]
    model = built(key)
    assert model.count_params() == params
    assert len(model.layers) == n_layers
    assert model.output_shape == out_shape
    if name in KERAS_CLASSES and "include_top" not in kwargs:
        assert dict(collections.Counter(type(l).__name__ for l in model.layers)) == KERAS_CLASSES[name]


def test_keras_layer_names_and_settings():
    model = built("ConvNeXtTiny")
    names = [l.name for l in model.layers]
    assert names[1:11] == ["convnext_tiny_prestem_normalization", "convnext_tiny_stem",
                           "convnext_tiny_stage_0_block_0_depthwise_conv", "convnext_tiny_stage_0_block_0_layernorm",
                           "convnext_tiny_stage_0_block_0_pointwise_conv_1", "convnext_tiny_stage_0_block_0_gelu",
                           "convnext_tiny_stage_0_block_0_pointwise_conv_2",
                           "convnext_tiny_stage_0_block_0_layer_scale",
                           "convnext_tiny_stage_0_block_0_identity", "convnext_tiny_stage_0_block_1_depthwise_conv"]
    assert "convnext_tiny_downsampling_block_2" in names and "convnext_tiny_stage_2_block_8_layer_scale" in names
    assert names[-3:] == ["convnext_tiny_head_gap", "convnext_tiny_head_layernorm", "convnext_tiny_head_dense"]
    stem = model.get_layer("convnext_tiny_stem")
    assert [l.name for l in stem.layers] == ["convnext_tiny_stem_conv", "convnext_tiny_stem_layernorm"]
    assert [tuple(w.shape) for w in stem.weights] == [(4, 4, 3, 96), (96,), (96,), (96,)]
    dw = model.get_layer("convnext_tiny_stage_1_block_0_depthwise_conv")
    assert dw.groups == 192 and tuple(dw.kernel.shape) == (7, 7, 1, 192)
    scale = model.get_layer("convnext_tiny_stage_3_block_2_layer_scale")
    np.testing.assert_allclose(np_(scale.gamma.value), np.full(768, 1e-6, "float32"))
    assert model.get_layer("convnext_tiny_prestem_normalization").weights == []  # fixed statistics, as Keras

    v2 = built("EfficientNetV2B0/notop")
    names = [l.name for l in v2.layers]
    assert names[3:12] == ["stem_conv", "stem_bn", "stem_activation", "block1a_project_conv", "block1a_project_bn",
                           "block1a_project_activation", "block2a_expand_conv", "block2a_expand_bn",
                           "block2a_expand_activation"]
    assert {"block4a_dwconv2", "block4a_se_excite", "block6h_drop", "block6h_add", "top_activation"} <= set(names)
    assert "block1a_drop" not in names  # the first block's drop rate is 0: no Dropout, as Keras
    assert v2.get_layer("stem_bn").momentum == pytest.approx(0.9)
    assert v2.get_layer("block6h_drop").rate == pytest.approx(0.2 * 20 / 21)  # block 20 of 21, as Keras
    s_model = efficientnet_v2.build_efficientnet_v2("s", False, None, None, (32, 32, 3), None, 1000, None, True,
                                                    "efficientnetv2-s", blocks_args=TINY_V2_BLOCKS)
    assert [type(l).__name__ for l in s_model.layers[:3]] == ["InputLayer", "Rescaling", "Conv2D"]
    assert (s_model.layers[1].scale, s_model.layers[1].offset) == (1 / 128, -1)  # S/M/L, as Keras


def test_constructors_defaults_and_weight_files():
    for module, names in ((convnext, ("ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge",
                                      "ConvNeXtXLarge")),
                          (efficientnet_v2, ("EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2",
                                             "EfficientNetV2B3", "EfficientNetV2S", "EfficientNetV2M",
                                             "EfficientNetV2L"))):
        for name in names:
            ctor = getattr(module, name)
            assert ctor.__name__ == name and "Args:" in ctor.__doc__
            defaults = dict(zip(ctor.__code__.co_varnames, ctor.__defaults__))
            assert defaults["weights"] == "imagenet" and defaults["include_preprocessing"] is True
    assert convnext.ConvNeXtXLarge.__defaults__[-1] == "convnext_xlarge"
    assert efficientnet_v2.EfficientNetV2S.__defaults__[-1] == "efficientnetv2-s"
    assert convnext.ConvNeXtTiny.__code__.co_varnames[:2] == ("include_top", "include_preprocessing")
    assert efficientnet_v2.SCALING["b3"] == (1.2, 1.4, 300)
    assert convnext.WEIGHTS_HASHES["convnext_tiny"][1].startswith("d547c096")
    assert efficientnet_v2.WEIGHTS_HASHES["l"] == ("27e6d408b53c7ebc868fefa357689935",
                                                   "b0b66b5c863aef5b46e8608fe1711615")


def test_imagenet_weights_file_names_urls_and_hashes(monkeypatch):
    from lamina.utils import file_utils

    calls = []

    class Fetched(Exception):
        pass

    def fake_get_file(fname, origin, cache_subdir, file_hash):
        calls.append((fname, origin, cache_subdir, file_hash))
        raise Fetched

    monkeypatch.setattr(file_utils, "get_file", fake_get_file)
    with pytest.raises(Fetched):
        convnext.build_convnext("tiny", False, True, "imagenet", None, (32, 32, 3), None, 1000, "softmax",
                                "convnext_tiny")
    with pytest.raises(Fetched):
        efficientnet_v2.build_efficientnet_v2("s", False, "imagenet", None, (32, 32, 3), None, 1000, "softmax",
                                              True, "efficientnetv2-s", blocks_args=TINY_V2_BLOCKS)
    assert calls == [
        ("convnext_tiny_notop.h5", "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
         "convnext_tiny_notop.h5", "models", convnext.WEIGHTS_HASHES["convnext_tiny"][1]),
        ("efficientnetv2-s_notop.h5", "https://storage.googleapis.com/tensorflow/keras-applications/"
         "efficientnet_v2/efficientnetv2-s_notop.h5", "models", "af0682fb74e8c54910f2d4393339c070"),
    ]


def test_argument_errors():
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        convnext.ConvNeXtTiny(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match='name "my_net" does not match weights variant "convnext_base"'):
        convnext.ConvNeXtBase(weights="imagenet", name="my_net")
    with pytest.raises(ValueError, match="Architecture configuration does not match convnext_tiny"):
        tiny_convnext(weights="imagenet", include_top=False)
    with pytest.raises(ValueError, match="input_shape` should be \\(384, 384, 3\\)"):
        efficientnet_v2.EfficientNetV2S(weights="imagenet", input_shape=(224, 224, 3))
    with pytest.raises(ValueError, match="Input size must be at least 32x32"):
        efficientnet_v2.EfficientNetV2B0(weights=None, include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="classifier_activation"):
        convnext.ConvNeXtTiny(weights="imagenet", classifier_activation="relu")
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'"):
        efficientnet_v2.EfficientNetV2B0(weights=None, include_top=False, pooling="sum")
    with pytest.raises(ValueError, match="blocks_args"):
        efficientnet_v2.build_efficientnet_v2("b0", False, None, None, None, None, 1000, None, True, "x",
                                              blocks_args=[(0, 8, 8, 1, 0, 1, True)])
    with pytest.raises(ValueError, match="4 stages"):
        convnext.build_convnext("tiny", False, True, None, None, None, None, 1000, None, "c", depths=(1, 1),
                                projection_dims=(8, 16))
    with pytest.raises(ValueError, match="drop_path_rate must be a float in \\[0, 1\\)"):
        StochasticDepth(1.5)
    with pytest.raises(ValueError, match="projection_dim=8, but received shape \\(None, 4\\)"):
        LayerScale(0.1, 8)(lamina.Input((4,)))
    lamina.config.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match="ConvNeXt does not support the `channels_first`"):
            convnext.ConvNeXtTiny(weights=None)
    finally:
        lamina.config.set_image_data_format("channels_last")


def test_pooling_input_tensor_and_preprocessing_options():
    inp = lamina.Input((40, 40, 3))
    cropped = lamina.layers.Cropping2D(4)(inp)
    model = tiny_convnext(include_top=False, input_tensor=cropped, pooling="max")
    assert model.inputs == [inp] and model.output_shape == (None, 32)
    assert [type(l).__name__ for l in model.layers[-2:]] == ["GlobalMaxPooling2D", "LayerNormalization"]
    plain = tiny_convnext(include_preprocessing=False)
    with_pre = tiny_convnext()
    assert len(plain.layers) == len(with_pre.layers) - 1
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    _randomize(with_pre, 1)
    plain.set_weights(with_pre.get_weights())
    normalized = (x - np.array([0.485, 0.456, 0.406]) * 255) / (np.array([0.229, 0.224, 0.225]) * 255)
    np.testing.assert_allclose(np_(plain(normalized.astype("float32"))), np_(with_pre(x)), rtol=1e-4, atol=1e-4)
    assert convnext.preprocess_input(x) is x and efficientnet_v2.preprocess_input(x) is x


# ----------------------------------------------------------------------------------------------------------------
# Layers, saving and Keras's weight files


def test_stochastic_depth_drops_whole_samples_in_training_only():
    layer = StochasticDepth(0.5, seed=3)
    x = np.ones((64, 2, 3), "float32")
    np.testing.assert_array_equal(np_(layer(x)), x)
    out = np_(layer(x, training=True))
    per_sample = out.reshape(64, -1)
    assert set(np.unique(per_sample).tolist()) == {0.0, 2.0}
    assert (per_sample.min(axis=1) == per_sample.max(axis=1)).all()  # one decision per sample
    assert 10 < (per_sample[:, 0] == 0).sum() < 54


def test_save_load_round_trip(tmp_path):
    x = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    for model in (tiny_convnext(drop_path_rate=0.1), tiny_v2()):
        _randomize(model, 4)
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        loaded = lamina.models.load_model(path)
        assert [(l.name, type(l).__name__) for l in loaded.layers] == \
            [(l.name, type(l).__name__) for l in model.layers]
        want = np_(model(x, training=False))
        assert np.abs(want).max() > 1e-2
        np.testing.assert_allclose(np_(loaded(x, training=False)), want, rtol=1e-5, atol=1e-5)
    kinds = {type(l).__name__ for l in loaded.layers} | {type(l).__name__ for l in lamina.models.load_model(
        tmp_path / "convnext_tiny.keras").layers}
    assert {"LayerScale", "StochasticDepth", "Sequential", "Normalization"} <= kinds


def _check_against_keras(data, tmp_path):
    x = data["x"]
    for key, build in (("convnext", tiny_convnext), ("v2", tiny_v2)):
        want = data[f"{key}_out"]
        assert np.abs(want).max() > 1e-2
        for ext in ("weights.h5", "h5"):
            path = tmp_path / f"{key}.{ext}"
            path.write_bytes(data[f"{key}_{ext.replace('.', '_')}"].tobytes())
            model = build(weights=str(path))
            assert model.count_params() == int(data[f"{key}_params"]), key
            np.testing.assert_allclose(np_(model(x, training=False)), want, rtol=1e-4, atol=1e-4,
                                       err_msg=f"{key} {ext}")


def test_keras_written_weight_files_load_with_keras_outputs(tmp_path):
    """The committed fixture: Keras 3.15.1's own files (Keras 3 and tf.keras 2 layouts) of the reduced models."""
    with np.load(FIXTURE) as data:
        _check_against_keras(dict(data), tmp_path)


_KERAS_SCRIPT = r"""
import os, sys, tempfile
import h5py, numpy as np
import keras
from keras.src.applications.convnext import ConvNeXt
from keras.src.applications.efficientnet_v2 import EfficientNetV2
from keras.src.legacy.saving import legacy_h5_format

seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
rng = np.random.default_rng(seed)
blocks = [dict(num_repeat=r, input_filters=i, output_filters=o, expand_ratio=e, se_ratio=s, strides=st,
               conv_type=1 if fused else 0, kernel_size=3)
          for r, i, o, e, s, st, fused in ((1, 8, 8, 1, 0, 1, True), (2, 8, 16, 2, 0, 2, True),
                                           (2, 16, 16, 2, 0.25, 2, False))]
models = {
    "convnext": ConvNeXt(depths=[1, 1, 2, 1], projection_dims=[8, 16, 24, 32], weights=None, input_shape=(32, 32, 3),
                         classes=3, classifier_activation=None, name="convnext_tiny"),
    "v2": EfficientNetV2(1.0, 1.0, 224, blocks_args=blocks, name="efficientnetv2-b0", weights=None,
                         input_shape=(32, 32, 3), classes=3, classifier_activation=None),
}
out = {"x": rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")}
tmp = tempfile.mkdtemp()
for key, m in models.items():
    for v in m.weights:
        if v.path.endswith("variance"):
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
        else:
            v.assign(rng.normal(0, 0.3, v.shape).astype("float32"))
    out[f"{key}_out"] = keras.ops.convert_to_numpy(m(out["x"], training=False))
    out[f"{key}_params"] = np.array(m.count_params())
    m.save_weights(f"{tmp}/{key}.weights.h5")
    with h5py.File(f"{tmp}/{key}.h5", "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, m)
    for ext in ("weights.h5", "h5"):
        with open(f"{tmp}/{key}.{ext}", "rb") as f:
            out[f"{key}_{ext.replace('.', '_')}"] = np.frombuffer(f.read(), np.uint8)
np.savez_compressed(sys.argv[1], **out)
"""


def test_fresh_keras_files_load_with_keras_outputs(tmp_path):
    """The same check on files Keras writes now (new random weights), where ``keras`` is installed."""
    if importlib.util.find_spec("keras") is None:
        pytest.skip("the `keras` package is not installed (a test-only extra, not in CI); the committed fixture "
                    "covers the same check")
    engine = next((e for e in ("torch", "jax") if importlib.util.find_spec(e) is not None), None)
    script = tmp_path / "make.py"
    script.write_text(_KERAS_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "f.npz"), "7"], capture_output=True,
                          text=True, timeout=600, env=dict(os.environ, KERAS_BACKEND=engine, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(tmp_path / "f.npz") as data:
        _check_against_keras(dict(data), tmp_path)
