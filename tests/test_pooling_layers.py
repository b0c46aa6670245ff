"""Pooling layers: the layer-test helper, NumPy references, masks, data formats, errors."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from layer_test_utils import run_layer_test
from np_conv_reference import np_adaptive_pool, np_pool

RNG = np.random.default_rng(0)


def _np(x):
    return ops.convert_to_numpy(x)


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape", [
    (layers.MaxPooling1D, {}, (2, 7, 3), (2, 3, 3)),
    (layers.MaxPooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 7, 3), (2, 4, 4, 3)),
    (layers.MaxPooling3D, {"data_format": "channels_first"}, (1, 2, 4, 4, 5), (1, 2, 2, 2, 2)),
    (layers.AveragePooling1D, {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 7, 3), (2, 7, 3)),
    (layers.AveragePooling2D, {"pool_size": (2, 3)}, (2, 6, 6, 3), (2, 3, 2, 3)),
    (layers.AveragePooling3D, {"padding": "same"}, (1, 3, 3, 3, 2), (1, 2, 2, 2, 2)),
    (layers.GlobalMaxPooling1D, {}, (2, 7, 3), (2, 3)),
    (layers.GlobalMaxPooling2D, {"keepdims": True}, (2, 5, 5, 3), (2, 1, 1, 3)),
    (layers.GlobalMaxPooling3D, {"data_format": "channels_first"}, (1, 2, 3, 3, 3), (1, 2)),
    (layers.GlobalAveragePooling1D, {"keepdims": True}, (2, 7, 3), (2, 1, 3)),
    (layers.GlobalAveragePooling2D, {}, (2, 5, 5, 3), (2, 3)),
    (layers.GlobalAveragePooling3D, {}, (1, 3, 3, 3, 2), (1, 2)),
    (layers.AdaptiveMaxPooling1D, {"output_size": 3}, (2, 7, 3), (2, 3, 3)),
    (layers.AdaptiveMaxPooling2D, {"output_size": (2, 3)}, (2, 7, 8, 3), (2, 2, 3, 3)),
    (layers.AdaptiveMaxPooling3D, {"output_size": 2}, (1, 3, 4, 5, 2), (1, 2, 2, 2, 2)),
    (layers.AdaptiveAveragePooling1D, {"output_size": 4}, (2, 7, 3), (2, 4, 3)),
    (layers.AdaptiveAveragePooling2D, {"output_size": 3, "data_format": "channels_first"}, (2, 3, 7, 8), (2, 3, 3, 3)),
    (layers.AdaptiveAveragePooling3D, {"output_size": (1, 2, 3)}, (1, 3, 4, 5, 2), (1, 1, 2, 3, 2)),
])
def test_layer_helper(cls, kwargs, in_shape, out_shape):
    run_layer_test(cls, kwargs, in_shape, out_shape, 0)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("padding,pool,strides", [("valid", 2, None), ("same", 3, 2), ("same", 2, 1), ("valid", 3, 1)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_pool2d_matches_numpy(kind, padding, pool, strides, data_format):
    x = RNG.standard_normal((2, 7, 6, 3) if data_format == "channels_last" else (2, 3, 7, 6)).astype("float32")
    cls = layers.MaxPooling2D if kind == "max" else layers.AveragePooling2D
    out = _np(cls(pool, strides, padding, data_format)(x))
    np.testing.assert_allclose(out, np_pool(x, pool, strides, padding, data_format, kind), rtol=1e-5, atol=1e-6)


def test_average_pool_same_does_not_count_padding():
    x = np.ones((1, 5, 5, 1), "float32")
    np.testing.assert_allclose(_np(layers.AveragePooling2D(3, 2, "same")(x)), np.ones((1, 3, 3, 1)))


def test_pool_1d_3d_match_numpy():
    x1 = RNG.standard_normal((2, 9, 3)).astype("float32")
    np.testing.assert_allclose(_np(layers.AveragePooling1D(4, 3, "same")(x1)), np_pool(x1, 4, 3, "same", kind="avg"),
                               rtol=1e-5, atol=1e-6)
    x3 = RNG.standard_normal((1, 5, 4, 3, 2)).astype("float32")
    np.testing.assert_allclose(_np(layers.MaxPooling3D(2, 1, "same")(x3)), np_pool(x3, 2, 1, "same"))


def test_global_pooling_values_and_mask():
    x = RNG.standard_normal((2, 4, 5, 3)).astype("float32")
    np.testing.assert_allclose(_np(layers.GlobalAveragePooling2D()(x)), x.mean((1, 2)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(layers.GlobalMaxPooling2D(data_format="channels_first")(x)), x.max((2, 3)))
    seq = RNG.standard_normal((2, 4, 3)).astype("float32")
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    got = _np(layers.GlobalAveragePooling1D()(seq, mask=mask))
    np.testing.assert_allclose(got[0], seq[0, :2].mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], seq[1].mean(0), rtol=1e-5, atol=1e-6)
    # as Keras 3: the max pools every step, mask or not (a fully padded row gave -1e30 before)
    got = _np(layers.GlobalMaxPooling1D()(seq, mask=mask))
    np.testing.assert_allclose(got, seq.max(1))
    inp = lamina.Input((4,))
    out = layers.GlobalMaxPooling1D()(layers.Embedding(5, 3, mask_zero=True)(inp))
    model = lamina.Model(inp, out)
    emb = model.layers[1].get_weights()[0]
    np.testing.assert_allclose(_np(model(np.array([[0, 0, 0, 0]]))), emb[[0]], rtol=1e-6)


def test_masked_global_average_pooling_after_embedding_like_masking():
    inp = lamina.Input((4, 2))
    out = layers.GlobalAveragePooling1D()(layers.Masking(0.0)(inp))
    model = lamina.Model(inp, out)
    x = np.array([[[1.0, 1.0], [3.0, 3.0], [0.0, 0.0], [0.0, 0.0]]], "float32")
    np.testing.assert_allclose(_np(model(x)), [[2.0, 2.0]])


def test_adaptive_pooling_matches_numpy():
    x = RNG.standard_normal((2, 7, 9, 3)).astype("float32")
    np.testing.assert_allclose(_np(layers.AdaptiveAveragePooling2D((3, 4))(x)), np_adaptive_pool(x, (3, 4)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(layers.AdaptiveMaxPooling2D(2)(x)), np_adaptive_pool(x, 2, kind="max"))


def test_aliases():
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D and layers.GlobalMaxPool3D is layers.GlobalMaxPooling3D


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="pool_size"):
        layers.MaxPooling2D(0)
    with pytest.raises(ValueError, match="padding"):
        layers.AveragePooling2D(padding="causal")
    with pytest.raises(ValueError, match="output_size"):
        layers.AdaptiveMaxPooling2D((1, 2, 3))
    layer = layers.MaxPooling2D()
    with pytest.raises(ValueError, match=layer.name):
        layer(np.ones((2, 4, 4), "float32"))
    with pytest.raises(ValueError, match="max_pool: inputs must have rank"):
        ops.max_pool(np.ones((4, 4), "float32"), 2)
