"""Core layers, each through the layer-test helper plus its own behaviour."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from layer_test_utils import run_layer_test


def test_dense():
    # a positive bias keeps the relu units alive, so the training check sees gradients whatever the random kernel
    run_layer_test(layers.Dense, {"units": 3, "activation": "relu", "bias_initializer": "ones"}, (2, 4), (2, 3), 2)
    run_layer_test(layers.Dense, {"units": 3, "use_bias": False}, (2, 5, 4), (2, 5, 3), 1)


def test_dense_matches_numpy():
    layer = layers.Dense(3, activation="tanh")
    x = np.random.default_rng(0).standard_normal((4, 2)).astype("float32")
    out = ops.convert_to_numpy(layer(x))
    k, b = layer.get_weights()
    np.testing.assert_allclose(out, np.tanh(x @ k + b), rtol=1e-5, atol=1e-6)


def test_activation():
    run_layer_test(layers.Activation, {"activation": "sigmoid"}, (2, 3), (2, 3), 0)


def test_flatten_and_reshape():
    run_layer_test(layers.Flatten, {}, (2, 3, 4), (2, 12), 0)
    run_layer_test(layers.Reshape, {"target_shape": (6, 2)}, (2, 3, 4), (2, 6, 2), 0)
    run_layer_test(layers.Reshape, {"target_shape": (-1, 3)}, (2, 3, 4), (2, 4, 3), 0)
    with pytest.raises(ValueError, match="cannot reshape"):
        layers.Reshape((5,))(np.ones((2, 3, 4), "float32"))


def test_flatten_channels_first_moves_channels_last():
    x = np.arange(2 * 3 * 2, dtype="float32").reshape(1, 3, 2, 2)
    out = ops.convert_to_numpy(layers.Flatten(data_format="channels_first")(x))
    np.testing.assert_allclose(out, np.moveaxis(x, 1, -1).reshape(1, -1))


def test_identity():
    run_layer_test(layers.Identity, {}, (2, 3), (2, 3), 0)


def test_dropout_training_and_inference():
    layer = layers.Dropout(0.5, seed=3)
    x = np.ones((200, 10), "float32")
    np.testing.assert_allclose(ops.convert_to_numpy(layer(x)), x)
    out = ops.convert_to_numpy(layer(x, training=True))
    assert set(np.unique(out).tolist()) <= {0.0, 2.0}
    assert 0.4 < (out == 0).mean() < 0.6
    out2 = ops.convert_to_numpy(layer(x, training=True))
    assert not np.array_equal(out, out2), "successive dropout masks must differ"
    run_layer_test(layers.Dropout, {"rate": 0.3, "seed": 1}, (2, 3), (2, 3), 0)


def test_dropout_is_repeatable_with_set_random_seed():
    x = np.ones((50, 4), "float32")
    lamina.utils.set_random_seed(5)
    a = ops.convert_to_numpy(layers.Dropout(0.5)(x, training=True))
    lamina.utils.set_random_seed(5)
    b = ops.convert_to_numpy(layers.Dropout(0.5)(x, training=True))
    np.testing.assert_array_equal(a, b)


def test_lambda():
    layer = layers.Lambda(lambda x: x * 2.0 + 1.0)
    np.testing.assert_allclose(ops.convert_to_numpy(layer(np.ones((2, 2), "float32"))), 3 * np.ones((2, 2)))
    inp = lamina.Input((3,))
    assert layers.Lambda(lambda x: ops.concatenate([x, x], axis=-1))(inp).shape == (None, 6)
    with pytest.raises(ValueError, match="callable"):
        layers.Lambda(3)


def test_masking_layer_mask_and_output():
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]], "float32")
    layer = layers.Masking(0.0)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer.compute_mask(x)), [[True, False, True]])
    np.testing.assert_allclose(ops.convert_to_numpy(layer(x)), x)


def test_input_layer_and_input():
    x = lamina.Input(shape=(28, 28), batch_size=8, dtype="int32", name="img")
    assert x.shape == (8, 28, 28) and x.dtype == "int32" and x.name == "img"
    with pytest.raises(ValueError, match="needs `shape`"):
        lamina.Input()
