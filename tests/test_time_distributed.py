"""TimeDistributed against per-timestep calls and NumPy, on the current backend."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from layer_test_utils import run_layer_test

RNG = np.random.default_rng(0)


def _data(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _np(x):
    return ops.convert_to_numpy(x)


class _TimeDistributedFresh(layers.TimeDistributed):
    """TimeDistributed that builds a fresh inner layer per instance (so run_layer_test's copies are independent)."""

    def __init__(self, layer=None, inner=None, **kwargs):
        super().__init__(layer if layer is not None else lamina.saving.deserialize_object(inner), **kwargs)
        self.inner = inner

    def get_config(self):
        return {**super().get_config(), "inner": self.inner}


def test_contract_with_dense():
    inner = {"class_name": "Dense", "config": {"units": 3, "activation": "tanh"}}
    layer = run_layer_test(_TimeDistributedFresh, {"inner": inner}, (2, 4, 5), (2, 4, 3), 2)
    kernel, bias = layer.get_weights()
    x = _data(2, 4, 5)
    np.testing.assert_allclose(_np(layer(x)), np.tanh(x @ kernel + bias), rtol=1e-5, atol=1e-5)
    assert [w.shape for w in layer.weights] == [(5, 3), (3,)]


def test_contract_with_conv2d_matches_per_step_calls():
    inner = {"class_name": "Conv2D", "config": {"filters": 4, "kernel_size": 3, "padding": "same"}}
    layer = run_layer_test(_TimeDistributedFresh, {"inner": inner}, (2, 3, 6, 6, 2), (2, 3, 6, 6, 4), 2,
                           atol=1e-5)
    x = _data(2, 3, 6, 6, 2)
    per_step = np.stack([_np(layer.layer(x[:, t])) for t in range(3)], axis=1)
    np.testing.assert_allclose(_np(layer(x)), per_step, rtol=1e-5, atol=1e-5)


def test_config_round_trip_and_symbolic_unknown_time():
    layer = layers.TimeDistributed(layers.Dense(3, name="inner"), name="td")
    config = layer.get_config()
    assert config["layer"]["class_name"] == "Dense" and config["layer"]["config"]["units"] == 3
    clone = layers.TimeDistributed.from_config(config)
    assert clone.get_config() == config and clone.layer is not layer.layer
    inp = lamina.Input(batch_shape=(None, None, 5))
    out = layers.TimeDistributed(layers.Dense(3))(inp)
    assert tuple(out.shape) == (None, None, 3)
    model = lamina.Model(inp, out)
    for steps in (2, 7):
        assert tuple(ops.shape(model(_data(4, steps, 5)))) == (4, steps, 3)
    restored = lamina.Model.from_config(model.get_config())
    restored.set_weights(model.get_weights())
    x = _data(3, 4, 5)
    np.testing.assert_allclose(_np(restored(x)), _np(model(x)), rtol=1e-6, atol=1e-6)


def test_mask_is_passed_to_the_inner_layer_and_kept():
    x = _data(3, 2, 5, 4)
    mask = np.array([[[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]],
                     [[1, 0, 0, 0, 0], [1, 1, 0, 0, 0]],
                     [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]], bool)
    layer = layers.TimeDistributed(layers.LSTM(3))
    got = _np(layer(x, mask=mask))
    per_step = np.stack([_np(layer.layer(x[:, t], mask=mask[:, t])) for t in range(2)], axis=1)
    unmasked = _np(layer(x))
    np.testing.assert_allclose(got, per_step, rtol=1e-5, atol=1e-5)
    assert not np.allclose(got, unmasked, atol=1e-4)
    assert _np(layer.compute_mask(x, mask)).tolist() == mask.tolist()


def test_mask_from_embedding_in_a_functional_model():
    tokens = np.array([[[1, 2, 0], [3, 0, 0]], [[4, 5, 6], [7, 8, 0]]], "int32")
    inp = lamina.Input(batch_shape=(None, 2, 3), dtype="int32")
    emb = layers.Embedding(10, 4, mask_zero=True)
    td = layers.TimeDistributed(layers.GRU(2))
    model = lamina.Model(inp, td(emb(inp)))
    e = _np(emb(tokens))
    want = np.stack([_np(td.layer(e[:, t], mask=tokens[:, t] != 0)) for t in range(2)], axis=1)
    np.testing.assert_allclose(_np(model(tokens)), want, rtol=1e-5, atol=1e-5)


def test_training_flag_reaches_the_inner_layer_and_gradients_flow():
    x = np.ones((2, 3, 8), "float32")
    layer = layers.TimeDistributed(layers.Dropout(0.5, seed=1))
    np.testing.assert_array_equal(_np(layer(x, training=False)), x)
    assert (_np(layer(x, training=True)) == 0).any()
    inp = lamina.Input(batch_shape=(None, 3, 8))
    model = lamina.Model(inp, layers.TimeDistributed(layers.Dense(1))(inp))
    model.compile(optimizer="sgd", loss="mse")
    y = x.sum(-1, keepdims=True)
    losses = model.fit(x, y, epochs=5, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


def test_bad_input_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"'td' \(TimeDistributed\) must wrap a lamina Layer.*'dense'"):
        layers.TimeDistributed("dense", name="td")
    with pytest.raises(ValueError, match=r"'td2' \(TimeDistributed\) expects inputs of rank >= 3.*\(4, 5\)"):
        layers.TimeDistributed(layers.Dense(2), name="td2")(_data(4, 5))
    layer = layers.TimeDistributed(layers.LSTM(2), name="td3")
    with pytest.raises(ValueError, match=r"'td3'.*mask starting with \(batch, time\) = \(2, 3\).*\(2, 4, 5\)"):
        layer(_data(2, 3, 5, 4), mask=np.ones((2, 4, 5), bool))
