"""Convolution layers: the layer-test helper, NumPy references, data formats, errors, a small CNN."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from layer_test_utils import run_layer_test
from np_conv_reference import np_conv, np_conv_transpose, np_depthwise_conv, np_separable_conv

RNG = np.random.default_rng(0)


def _np(x):
    return ops.convert_to_numpy(x)


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape", [
    (layers.Conv1D, {"filters": 4, "kernel_size": 3}, (2, 8, 3), (2, 6, 4)),
    (layers.Conv1D, {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (2, 8, 3), (2, 8, 4)),
    (layers.Conv2D, {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 7, 7, 3), (2, 4, 4, 4)),
    (layers.Conv2D, {"filters": 4, "kernel_size": (2, 3), "groups": 2, "data_format": "channels_first"},
     (2, 4, 6, 6), (2, 4, 5, 4)),
    (layers.Conv3D, {"filters": 2, "kernel_size": 2, "use_bias": False}, (1, 3, 4, 5, 2), (1, 2, 3, 4, 2)),
    (layers.Conv1DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2}, (2, 5, 2), (2, 11, 3)),
    (layers.Conv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
     (2, 4, 4, 2), (2, 8, 8, 3)),
    (layers.Conv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2, "output_padding": 1,
                              "data_format": "channels_first"}, (2, 2, 4, 4), (2, 3, 10, 10)),
    (layers.Conv3DTranspose, {"filters": 2, "kernel_size": 2, "strides": 2}, (1, 2, 2, 3, 2), (1, 4, 4, 6, 2)),
    (layers.DepthwiseConv1D, {"kernel_size": 3, "depth_multiplier": 2}, (2, 6, 3), (2, 4, 6)),
    (layers.DepthwiseConv2D, {"kernel_size": 3, "padding": "same"}, (2, 5, 5, 3), (2, 5, 5, 3)),
    (layers.SeparableConv1D, {"filters": 4, "kernel_size": 3}, (2, 6, 3), (2, 4, 4)),
    (layers.SeparableConv2D, {"filters": 4, "kernel_size": 3, "depth_multiplier": 2}, (2, 5, 5, 3), (2, 3, 3, 4)),
])
def test_layer_helper(cls, kwargs, in_shape, out_shape):
    n_weights = 3 if cls.__name__.startswith("Separable") else 2
    if kwargs.get("use_bias") is False:
        n_weights -= 1
    run_layer_test(cls, kwargs, in_shape, out_shape, n_weights, atol=1e-5)


def test_keras_weight_names_and_shapes():
    z = {"kernel_initializer": "zeros"}  # names and shapes only: skip the random draws
    cases = [(layers.Conv2D(8, 3, groups=2, **z), (1, 6, 6, 4), [("kernel", (3, 3, 2, 8)), ("bias", (8,))]),
             (layers.Conv2DTranspose(8, 3, **z), (1, 6, 6, 4), [("kernel", (3, 3, 8, 4)), ("bias", (8,))]),
             (layers.DepthwiseConv2D(3, depth_multiplier=2, depthwise_initializer="zeros"), (1, 6, 6, 4),
              [("kernel", (3, 3, 4, 2)), ("bias", (8,))]),
             (layers.SeparableConv2D(5, 3, depthwise_initializer="zeros", pointwise_initializer="zeros"), (1, 6, 6, 4),
              [("depthwise_kernel", (3, 3, 4, 1)), ("pointwise_kernel", (1, 1, 4, 5)), ("bias", (5,))])]
    for layer, shape, want in cases:
        layer.build(shape)
        assert [(w.name, w.shape) for w in layer.weights] == want


@pytest.mark.parametrize("padding,strides,dilation", [("valid", 1, 1), ("same", 2, 1), ("same", 1, 2), ("valid", 3, 1)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv2d_matches_numpy(padding, strides, dilation, data_format):
    shape = (2, 7, 6, 4) if data_format == "channels_last" else (2, 4, 7, 6)
    x = RNG.standard_normal(shape).astype("float32")
    layer = layers.Conv2D(6, 3, strides=strides, padding=padding, dilation_rate=dilation, groups=2,
                          data_format=data_format, bias_initializer="random_normal")
    out = _np(layer(x))
    k, b = layer.get_weights()
    bias = b if data_format == "channels_last" else b[:, None, None]
    want = np_conv(x, k, strides, padding, data_format, dilation) + bias
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-4)


def test_conv1d_causal_sees_only_the_past():
    layer = layers.Conv1D(1, 3, padding="causal", kernel_initializer="ones", use_bias=False)
    x = np.zeros((1, 6, 1), "float32")
    x[0, 3, 0] = 1.0
    np.testing.assert_array_equal(_np(layer(x))[0, :, 0], [0, 0, 0, 1, 1, 1])


def test_transpose_depthwise_separable_match_numpy():
    x = RNG.standard_normal((2, 5, 4, 3)).astype("float32")
    t = layers.Conv2DTranspose(2, 3, strides=2, padding="same", use_bias=False)
    np.testing.assert_allclose(_np(t(x)), np_conv_transpose(x, t.get_weights()[0], 2, "same"), rtol=1e-4, atol=1e-4)
    d = layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False, strides=2)
    np.testing.assert_allclose(_np(d(x)), np_depthwise_conv(x, d.get_weights()[0], 2), rtol=1e-4, atol=1e-4)
    s = layers.SeparableConv2D(4, 2, padding="same", use_bias=False)
    out = _np(s(x))
    dk, pk = s.get_weights()
    np.testing.assert_allclose(out, np_separable_conv(x, dk, pk, padding="same"), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("cls,kwargs", [(layers.Conv2D, {"filters": 3, "kernel_size": 3, "strides": 2}),
                                        (layers.Conv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2}),
                                        (layers.SeparableConv2D, {"filters": 3, "kernel_size": 2})])
def test_channels_first_equals_channels_last(cls, kwargs):
    x = RNG.standard_normal((2, 6, 5, 4)).astype("float32")
    last = cls(padding="same", **kwargs)
    first = cls(padding="same", data_format="channels_first", **kwargs)
    out_last = _np(last(x))
    first(np.moveaxis(x, -1, 1))
    first.set_weights(last.get_weights())
    np.testing.assert_allclose(_np(first(np.moveaxis(x, -1, 1))), np.moveaxis(out_last, -1, 1), rtol=1e-4, atol=1e-5)


def test_aliases():
    assert layers.Convolution2D is layers.Conv2D and layers.Deconvolution2D is layers.Conv2DTranspose
    assert layers.SeparableConvolution2D is layers.SeparableConv2D


def test_bad_arguments_and_inputs_are_named():
    with pytest.raises(ValueError, match="filters"):
        layers.Conv2D(0, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv2D(4, (3, 3, 3))
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(4, 3, padding="causal")
    with pytest.raises(ValueError, match="data_format"):
        layers.Conv2D(4, 3, data_format="NHWC")
    with pytest.raises(ValueError, match="divisible by `groups`"):
        layers.Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.Conv2D(4, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="output_padding"):
        layers.Conv2DTranspose(4, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="rank 4"):
        layers.Conv2D(4, 3)(np.ones((2, 5, 3), "float32"))
    with pytest.raises(ValueError, match="divisible by groups"):
        layers.Conv2D(4, 3, groups=2)(np.ones((1, 5, 5, 3), "float32"))
    layer = layers.Conv2D(4, 3)
    layer(np.ones((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match=layer.name):
        layer(np.ones((1, 5, 5, 2), "float32"))
    with pytest.raises(ValueError, match="conv: the number of input channels"):
        ops.conv(np.ones((1, 5, 5, 3), "float32"), np.ones((3, 3, 2, 4), "float32"))


def test_small_cnn_trains_and_loss_decreases():
    lamina.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((192, 12, 12, 1)).astype("float32")
    y = (x[:, :6].mean(axis=(1, 2, 3)) > x[:, 6:].mean(axis=(1, 2, 3))).astype("int32")
    model = lamina.Sequential([
        lamina.Input((12, 12, 1)),
        layers.Conv2D(8, 3, activation="relu", padding="same"), layers.MaxPooling2D(),
        layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    assert np.isfinite(history.history["loss"]).all()
