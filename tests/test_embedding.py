"""Embedding: lookups, masks, config, validation, training."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from layer_test_utils import run_layer_test


def test_embedding_layer_test():
    run_layer_test(layers.Embedding, {"input_dim": 5, "output_dim": 3}, (2, 4), (2, 4, 3), 1,
                   input_dtype="int32")
    run_layer_test(layers.Embedding, {"input_dim": 5, "output_dim": 2, "mask_zero": True}, (2, 3, 4),
                   (2, 3, 4, 2), 1, input_dtype="int64")


def test_embedding_lookup_matches_numpy():
    layer = layers.Embedding(6, 4)
    idx = np.array([[0, 5, 2], [3, 3, 1]], dtype="int32")
    out = ops.convert_to_numpy(layer(idx))
    table = layer.get_weights()[0]
    np.testing.assert_allclose(out, table[idx])
    assert layer.weights[0].name == "embeddings"
    assert table.shape == (6, 4)
    # the default "uniform" initializer is in [-0.05, 0.05]
    assert np.abs(table).max() <= 0.05


def test_embedding_float_indices_are_cast():
    layer = layers.Embedding(6, 2)
    out = layer(np.array([[1.0, 2.0]], dtype="float32"))
    np.testing.assert_allclose(ops.convert_to_numpy(out), layer.get_weights()[0][[[1, 2]]])


def test_embedding_mask_zero():
    layer = layers.Embedding(10, 3, mask_zero=True)
    x = np.array([[1, 2, 0, 0], [0, 4, 5, 6]])
    mask = ops.convert_to_numpy(layer.compute_mask(ops.convert_to_tensor(x)))
    assert mask.tolist() == [[True, True, False, False], [False, True, True, True]]
    assert layers.Embedding(10, 3).compute_mask(ops.convert_to_tensor(x)) is None


def test_embedding_input_length_and_config():
    layer = layers.Embedding(10, 3, input_length=7, mask_zero=True)
    config = layer.get_config()
    assert config["input_length"] == 7 and config["mask_zero"] is True
    clone = layers.Embedding.from_config(config)
    assert clone.get_config() == config
    inp = lamina.Input((7,), dtype="int32")
    assert tuple(layer(inp).shape) == (None, 7, 3)


@pytest.mark.parametrize("kwargs", [{"input_dim": 0, "output_dim": 3}, {"input_dim": 3, "output_dim": -1},
                                    {"input_dim": 2.5, "output_dim": 3}])
def test_embedding_validation_names_argument(kwargs):
    with pytest.raises(ValueError, match="Embedding"):
        layers.Embedding(**kwargs)


def test_embedding_trains_in_sequential():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 8, size=(32, 5))
    y = (x.sum(axis=1, keepdims=True) > 17).astype("float32")
    model = lamina.Sequential([lamina.Input((5,), dtype="int32"), layers.Embedding(8, 4),
                               layers.Flatten(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = model.get_weights()[0].copy()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not np.allclose(before, model.get_weights()[0])
