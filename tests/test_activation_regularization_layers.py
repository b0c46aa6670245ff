"""Activation layers (ReLU, LeakyReLU, PReLU, ELU, Softmax) and regularization layers (noise, dropout family,
activity regularization)."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from layer_test_utils import run_layer_test

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5)).astype("float32") * 3


def _np(x):
    return ops.convert_to_numpy(x)


@pytest.mark.parametrize("cls,kwargs,ref", [
    (layers.ReLU, {}, lambda x: np.maximum(x, 0)),
    (layers.ReLU, {"max_value": 2.0, "negative_slope": 0.1, "threshold": 0.5},
     lambda x: np.where(x > 0.5, np.minimum(x, 2.0), 0.1 * (x - 0.5))),
    (layers.LeakyReLU, {"negative_slope": 0.2}, lambda x: np.where(x > 0, x, 0.2 * x)),
    (layers.ELU, {"alpha": 0.5}, lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    (layers.Softmax, {}, lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
])
def test_activation_layers(cls, kwargs, ref):
    run_layer_test(cls, kwargs, (4, 5), (4, 5), 0)
    np.testing.assert_allclose(_np(cls(**kwargs)(X)), ref(X.astype("float64")), rtol=1e-5, atol=1e-6)


def test_prelu():
    run_layer_test(layers.PReLU, {"alpha_initializer": "random_normal"}, (2, 3, 4), (2, 3, 4), 1)
    layer = layers.PReLU(alpha_initializer="random_normal", shared_axes=[1])
    x = RNG.standard_normal((2, 3, 4)).astype("float32")
    out = _np(layer(x))
    (alpha,) = layer.get_weights()
    assert alpha.shape == (1, 4)
    np.testing.assert_allclose(out, np.where(x >= 0, x, alpha * x), rtol=1e-6)
    with pytest.raises(ValueError, match="shared axis"):
        layers.PReLU(shared_axes=[3])(x)


def test_softmax_mask():
    mask = np.array([[True, False, True, False, True]] * 4)
    out = _np(layers.Softmax()(X, mask=mask))
    e = np.exp(X) * mask
    np.testing.assert_allclose(out, e / e.sum(-1, keepdims=True), rtol=1e-5, atol=1e-6)
    out = _np(layers.Softmax()(X, mask=np.zeros((4, 5), bool)))  # a fully masked row is all zeros
    np.testing.assert_array_equal(out, np.zeros((4, 5)))
    with pytest.raises(ValueError, match="broadcast"):
        layers.Softmax()(X, mask=np.ones((4, 3), bool))


def test_activation_bad_arguments():
    with pytest.raises(ValueError, match="negative_slope"):
        layers.ReLU(negative_slope=-1.0)
    with pytest.raises(ValueError, match="max_value"):
        layers.ReLU(max_value="big")
    assert layers.LeakyReLU(alpha=0.1).negative_slope == pytest.approx(0.1)  # Keras 2 name


@pytest.mark.parametrize("cls,kwargs,shape", [
    (layers.SpatialDropout1D, {"rate": 0.5, "seed": 1}, (2, 3, 4)),
    (layers.SpatialDropout2D, {"rate": 0.5, "seed": 1, "data_format": "channels_first"}, (2, 3, 4, 4)),
    (layers.SpatialDropout3D, {"rate": 0.5, "seed": 1}, (1, 2, 2, 2, 3)),
    (layers.GaussianDropout, {"rate": 0.3, "seed": 1}, (2, 3)),
    (layers.GaussianNoise, {"stddev": 0.5, "seed": 1}, (2, 3)),
    (layers.AlphaDropout, {"rate": 0.3, "seed": 1}, (2, 3)),
    (layers.ActivityRegularization, {"l1": 0.1, "l2": 0.01}, (2, 3)),
])
def test_regularization_layer_helper_and_inference_identity(cls, kwargs, shape):
    run_layer_test(cls, kwargs, shape, shape, 0)
    x = RNG.standard_normal(shape).astype("float32")
    np.testing.assert_array_equal(_np(cls(**kwargs)(x)), x)
    np.testing.assert_array_equal(_np(cls(**kwargs)(x, training=False)), x)


def test_spatial_dropout_drops_whole_channels():
    x = np.ones((8, 5, 5, 16), "float32")
    out = _np(layers.SpatialDropout2D(0.5, seed=3)(x, training=True))
    per_channel = out.reshape(8, 25, 16)
    assert np.all(per_channel.min(1) == per_channel.max(1))  # each map all kept or all dropped
    assert set(np.unique(out).tolist()) <= {0.0, 2.0} and 0.2 < (out == 0).mean() < 0.8
    out1 = _np(layers.SpatialDropout1D(0.5, seed=3)(np.ones((8, 6, 16), "float32"), training=True))
    assert np.all(out1.min(1) == out1.max(1))


def test_noise_statistics_and_seeding():
    x = np.ones((200, 50), "float32")
    g = _np(layers.GaussianNoise(0.5, seed=2)(x, training=True))
    assert abs(g.mean() - 1.0) < 0.02 and abs(g.std() - 0.5) < 0.02
    d = _np(layers.GaussianDropout(0.5, seed=2)(x, training=True))
    assert abs(d.mean() - 1.0) < 0.03 and abs(d.std() - 1.0) < 0.03
    z = RNG.standard_normal((400, 50)).astype("float32")
    a = _np(layers.AlphaDropout(0.2, seed=2)(z, training=True))
    assert abs(a.mean() - z.mean()) < 0.05 and abs(a.std() - z.std()) < 0.05  # keeps mean and variance
    lamina.utils.set_random_seed(7)
    r1 = _np(layers.GaussianNoise(1.0)(x, training=True))
    lamina.utils.set_random_seed(7)
    r2 = _np(layers.GaussianNoise(1.0)(x, training=True))
    np.testing.assert_array_equal(r1, r2)
    layer = layers.GaussianNoise(1.0, seed=4)
    assert not np.array_equal(_np(layer(x, training=True)), _np(layer(x, training=True)))


def test_activity_regularization_adds_loss():
    layer = layers.ActivityRegularization(l1=0.1, l2=0.5)
    x = np.array([[1.0, -2.0], [0.0, 1.0]], "float32")
    layer(x)
    (loss,) = layer.losses
    assert float(_np(loss)) == pytest.approx((0.1 * 4 + 0.5 * 6) / 2, rel=1e-5)


def test_regularization_bad_arguments():
    with pytest.raises(ValueError, match="rate"):
        layers.GaussianDropout(1.5)
    with pytest.raises(ValueError, match="stddev"):
        layers.GaussianNoise(-1.0)
    with pytest.raises(ValueError, match="rate"):
        layers.AlphaDropout(1.0)
    with pytest.raises(ValueError, match="data_format"):
        layers.SpatialDropout2D(0.5, data_format="NCHW")
