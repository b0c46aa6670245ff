"""Normalization layers: the layer-test helper, NumPy references, BatchNormalization's state handling."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from layer_test_utils import run_layer_test

RNG = np.random.default_rng(0)


def _np(x):
    return ops.convert_to_numpy(x)


@pytest.mark.parametrize("cls,kwargs,shape,n_train,n_non_train", [
    (layers.BatchNormalization, {}, (4, 3), 2, 2),
    (layers.BatchNormalization, {"axis": 1, "center": False, "momentum": 0.9}, (4, 3, 5, 5), 1, 2),
    (layers.LayerNormalization, {}, (2, 3, 4), 2, 0),
    (layers.LayerNormalization, {"axis": [1, 2], "rms_scaling": True}, (2, 3, 4), 1, 0),  # gamma only
    (layers.GroupNormalization, {"groups": 2}, (2, 5, 4), 2, 0),
    (layers.GroupNormalization, {"groups": 3, "axis": 1, "scale": False}, (2, 6, 4, 4), 1, 0),
    (layers.RMSNormalization, {}, (2, 3, 4), 1, 0),
    (layers.UnitNormalization, {"axis": [1, 2]}, (2, 3, 4), 0, 0),
])
def test_layer_helper(cls, kwargs, shape, n_train, n_non_train):
    run_layer_test(cls, kwargs, shape, shape, n_train, n_non_train, atol=1e-5)


def test_batch_norm_training_statistics_and_update_formula():
    x = RNG.standard_normal((16, 4, 4, 3)).astype("float32") * 2 + 1
    layer = layers.BatchNormalization(momentum=0.9, epsilon=1e-3, gamma_initializer="random_normal",
                                      beta_initializer="random_normal")
    out = _np(layer(x, training=True))
    gamma, beta, mm, mv = layer.get_weights()
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3) * gamma + beta, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(mm, 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mv, 0.9 + 0.1 * var, rtol=1e-5, atol=1e-6)
    # inference: the moving statistics
    inf = _np(layer(x, training=False))
    np.testing.assert_allclose(inf, (x - mm) / np.sqrt(mv + 1e-3) * gamma + beta, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.get_weights()[2], mm)  # inference leaves the statistics alone


def test_batch_norm_channels_first_equals_channels_last():
    x = RNG.standard_normal((8, 3, 4, 5)).astype("float32")
    first = _np(layers.BatchNormalization(axis=1)(x, training=True))
    last = _np(layers.BatchNormalization()(np.moveaxis(x, 1, -1), training=True))
    np.testing.assert_allclose(first, np.moveaxis(last, -1, 1), rtol=1e-5, atol=1e-5)


def test_batch_norm_masked_statistics():
    x = RNG.standard_normal((2, 5, 3)).astype("float32")
    mask = np.array([[True] * 5, [True, True, False, False, False]])
    layer = layers.BatchNormalization(momentum=0.0)
    layer(x, training=True, mask=mask)
    np.testing.assert_allclose(layer.get_weights()[2], x[mask].mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.get_weights()[3], x[mask].var(0), rtol=1e-5, atol=1e-6)


def test_frozen_batch_norm_runs_in_inference_mode():
    x = RNG.standard_normal((8, 3)).astype("float32") + 5
    layer = layers.BatchNormalization()
    layer.build(x.shape)
    layer.trainable = False
    out = _np(layer(x, training=True))
    np.testing.assert_allclose(out, x / np.sqrt(1 + 1e-3), rtol=1e-5)
    np.testing.assert_allclose(layer.get_weights()[2], np.zeros(3))
    assert len(layer.trainable_weights) == 0 and len(layer.non_trainable_weights) == 4


def test_batch_norm_fit_updates_moving_statistics_and_stateless_call():
    x = RNG.standard_normal((64, 3)).astype("float32") * 3 + 2
    inp = lamina.Input((3,))
    bn = layers.BatchNormalization(momentum=0.5)
    model = lamina.Model(inp, layers.Dense(1)(bn(inp)))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((64, 1), "float32"), epochs=2, batch_size=16, verbose=0)
    mm = bn.get_weights()[2]
    np.testing.assert_allclose(mm, x.mean(0), atol=1.0)  # moved from 0 towards the data mean (2)
    assert np.all(mm > 1.0)
    # stateless_call returns the updated statistics without touching the layer
    before = bn.get_weights()
    tv = [v.value for v in bn.trainable_variables]
    ntv = [v.value for v in bn.non_trainable_variables]
    _, new_ntv = bn.stateless_call(tv, ntv, x, training=True)
    np.testing.assert_allclose(_np(new_ntv[0]), 0.5 * before[2] + 0.5 * x.mean(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.get_weights()[2], before[2])


def test_layer_group_rms_unit_match_numpy():
    x = RNG.standard_normal((2, 4, 6)).astype("float32")
    ln = _np(layers.LayerNormalization(epsilon=1e-3)(x))
    np.testing.assert_allclose(ln, (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3),
                               rtol=1e-4, atol=1e-5)
    g = x.reshape(2, 4, 3, 2)
    want = ((g - g.mean((1, 3), keepdims=True)) / np.sqrt(g.var((1, 3), keepdims=True) + 1e-3)).reshape(x.shape)
    np.testing.assert_allclose(_np(layers.GroupNormalization(groups=3)(x)), want, rtol=1e-4, atol=1e-5)
    rms = _np(layers.RMSNormalization(epsilon=1e-6)(x))
    np.testing.assert_allclose(rms, x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6), rtol=1e-4, atol=1e-5)
    unit = _np(layers.UnitNormalization()(x))
    np.testing.assert_allclose(unit, x / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-5, atol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="momentum"):
        layers.BatchNormalization(momentum=2.0)
    with pytest.raises(ValueError, match="axis"):
        layers.BatchNormalization(axis=3)(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="multiple of groups=4"):
        layers.GroupNormalization(groups=4)(np.ones((2, 6), "float32"))
    with pytest.raises(ValueError, match="groups"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="epsilon"):
        layers.LayerNormalization(epsilon=-1.0)


# ---- training mode: the engine's fused kernel (PyTorch) and the formula give Keras's numbers ---------

@pytest.mark.parametrize("shape,axis", [((6, 5, 4, 3), -1), ((6, 3, 5, 4), 1), ((8, 3), -1), ((4, 5, 3), -1)])
def test_training_batch_norm_matches_numpy(shape, axis):
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=shape).astype("float32")
    layer = layers.BatchNormalization(axis=axis, momentum=0.9, epsilon=1e-3)
    layer.build(shape)
    c = shape[axis]
    gamma, beta = rng.normal(size=c).astype("float32"), rng.normal(size=c).astype("float32")
    layer.set_weights([gamma, beta, np.zeros(c, "float32"), np.ones(c, "float32")])
    out = ops.convert_to_numpy(layer(x, training=True))
    red = tuple(i for i in range(len(shape)) if i != axis % len(shape))
    bshape = [1] * len(shape)
    bshape[axis] = c
    mean, var = x.mean(axis=red), x.var(axis=red)
    expected = (x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-3) * gamma.reshape(bshape) + \
        beta.reshape(bshape)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ops.convert_to_numpy(layer.moving_mean), 0.1 * mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(layer.moving_variance), 0.9 + 0.1 * var, rtol=1e-4, atol=1e-5)


def test_fused_batch_norm_gradients_match_the_formula(backend_name, monkeypatch):
    if backend_name != "torch":
        pytest.skip("the fused batch-norm kernel is PyTorch's (JAX compiles the formula)")
    from lamina import backend

    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 4, 4, 3)).astype("float32")
    results = []
    for fused in (True, False):
        if not fused:
            monkeypatch.setattr(backend.nn, "fused_batch_norm", lambda *a, **k: None)
        layer = layers.BatchNormalization()
        layer.build(x.shape)
        layer.set_weights([rng.normal(size=3).astype("float32") if not results else results[0][2][0],
                           np.full(3, 0.5, "float32"), np.zeros(3, "float32"), np.ones(3, "float32")])
        xt = backend.convert_to_tensor(x).requires_grad_(True)
        out = layer(xt, training=True)
        (out * backend.convert_to_tensor(np.arange(out.numel(), dtype="float32").reshape(out.shape))).sum().backward()
        results.append((ops.convert_to_numpy(out.detach()), xt.grad.detach().cpu().numpy(),
                        [w.numpy() for w in layer.weights],
                        [w.value.grad.detach().cpu().numpy() for w in layer.trainable_weights]))
    (o1, gx1, w1, gw1), (o2, gx2, w2, gw2) = results
    np.testing.assert_allclose(o1, o2, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gx1, gx2, rtol=1e-4, atol=1e-4)
    for a, b in zip(w1 + gw1, w2 + gw2):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_layer_norm_rms_scaling_is_keras_deprecated_formula():
    # Keras 3: gamma only, and x * gamma / sqrt(var(x) + eps) (the variance, uncentered x), with a warning
    x = RNG.standard_normal((4, 5, 3)).astype("float32") * 2 + 1
    with pytest.warns(DeprecationWarning, match="rms_scaling=True is deprecated"):
        layer = layers.LayerNormalization(rms_scaling=True, gamma_initializer="random_normal")
    out = _np(layer(x))
    (gamma,) = layer.get_weights()
    np.testing.assert_allclose(out, x * gamma / np.sqrt(x.var(-1, keepdims=True) + 1e-3), rtol=1e-5, atol=1e-5)


def test_group_norm_minus_one_is_one_group_per_channel():
    x = RNG.standard_normal((3, 5, 4)).astype("float32")
    layer = layers.GroupNormalization(groups=-1)
    out = _np(layer(x))
    assert layer.groups == 4 and layer.get_config()["groups"] == 4  # resolved when built, as Keras
    expected = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-3)  # instance norm
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="groups"):
        layers.GroupNormalization(groups=-2)


@pytest.mark.parametrize("interpolation", ["bicubic", "lanczos3", "lanczos5"])
def test_upsampling2d_resize_interpolations(interpolation):
    x = RNG.random((2, 3, 4, 2)).astype("float32")
    out = _np(layers.UpSampling2D(2, interpolation=interpolation)(x))
    np.testing.assert_allclose(out, _np(ops.image.resize(x, (6, 8), interpolation=interpolation)), rtol=1e-6)
    assert out.shape == (2, 6, 8, 2)
