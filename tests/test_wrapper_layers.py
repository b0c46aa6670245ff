"""Wrapper, SpectralNormalization, ReversibleEmbedding, Pipeline and HashedCrossing (Keras 3 layers)."""

import json

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from lamina.saving import deserialize_object, serialize_object

from layer_test_utils import run_layer_test


def _np(x):
    return ops.convert_to_numpy(x)


def _save_load(model, tmp_path, x):
    expected = _np(model(x, training=False))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = lamina.models.load_model(path)
    np.testing.assert_allclose(_np(loaded(x, training=False)), expected, rtol=1e-6, atol=1e-6)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    return loaded


# ---- Wrapper ---------------------------------------------------------------------------------------------------

class _Doubled(layers.Wrapper):
    def call(self, x):
        return self.layer(x) * 2.0


def test_wrapper_builds_wraps_and_round_trips_config():
    layer = _Doubled(layers.Dense(3, kernel_initializer="ones", use_bias=False))
    out = layer(np.ones((2, 4), "float32"))
    np.testing.assert_allclose(_np(out), np.full((2, 3), 8.0))
    assert layer.layer.built and [w.shape for w in layer.weights] == [(4, 3)]
    config = json.loads(json.dumps(layer.get_config()))
    clone = _Doubled.from_config(config)
    assert isinstance(clone.layer, layers.Dense) and clone.layer.units == 3
    assert layer.compute_output_shape((None, 4)) == (None, 3)


def test_wrapper_rejects_a_non_layer():
    with pytest.raises(ValueError, match=r"_Doubled must wrap a lamina Layer instance.*received layer=3"):
        _Doubled(3)
    with pytest.raises(ValueError, match="'layer' entry"):
        _Doubled.from_config({"name": "w"})


# ---- SpectralNormalization -------------------------------------------------------------------------------------

def test_spectral_normalization_weights_and_shapes():
    layer = layers.SpectralNormalization(layers.Dense(3), power_iterations=2)
    out = layer(np.ones((4, 5), "float32"))
    assert ops.shape(out) == (4, 3)
    assert [w.shape for w in layer.weights] == [(5, 3), (1, 3), (3,)]
    assert [w.name for w in layer.weights] == ["kernel", "vector_u", "bias"]
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 1
    sym = layers.SpectralNormalization(layers.Conv2D(2, 3))(lamina.Input((8, 8, 1)))
    assert tuple(sym.shape) == (None, 6, 6, 2)


def test_spectral_normalization_matches_numpy_svd_in_training_only():
    rng = np.random.default_rng(0)
    layer = layers.SpectralNormalization(layers.Dense(4, use_bias=False), power_iterations=50)
    x = rng.standard_normal((3, 6)).astype("float32")
    layer.build((None, 6))
    kernel = rng.standard_normal((6, 4)).astype("float32")
    layer.layer.kernel.assign(kernel)
    # inference: the kernel is used as it is
    np.testing.assert_allclose(_np(layer(x, training=False)), x @ kernel, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_np(layer.layer.kernel), kernel)
    out = layer(x, training=True)
    sigma = np.linalg.svd(kernel, compute_uv=False)[0]
    np.testing.assert_allclose(_np(layer.layer.kernel), kernel / sigma, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(out), x @ (kernel / sigma), rtol=1e-4, atol=1e-4)
    # u converged to the top right-singular vector (up to sign)
    v_top = np.linalg.svd(kernel)[2][0]
    u = _np(layer.vector_u)[0]
    np.testing.assert_allclose(abs(float(u @ v_top)), 1.0, rtol=1e-4)


def test_spectral_normalization_one_power_iteration_matches_numpy():
    rng = np.random.default_rng(1)
    layer = layers.SpectralNormalization(layers.Conv1D(2, 3, use_bias=False))
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    layer.build((None, 5, 3))
    kernel = _np(layer.layer.kernel)
    u = _np(layer.vector_u)
    w = kernel.reshape(-1, 2)
    v = u @ w.T
    v = v / np.linalg.norm(v)
    u2 = v @ w
    u2 = u2 / np.linalg.norm(u2)
    sigma = float((v @ w @ u2.T)[0, 0])
    layer(x, training=True)
    np.testing.assert_allclose(_np(layer.vector_u), u2, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(_np(layer.layer.kernel), kernel / sigma, rtol=1e-4, atol=1e-6)


def test_spectral_normalization_keeps_an_all_zero_kernel():
    layer = layers.SpectralNormalization(layers.Dense(2, kernel_initializer="zeros"))
    layer(np.ones((1, 3), "float32"), training=True)
    assert np.all(_np(layer.layer.kernel) == 0) and np.all(np.isfinite(_np(layer.vector_u)))


def test_spectral_normalization_wraps_embeddings_and_trains(tmp_path):
    rng = np.random.default_rng(2)
    inp = lamina.Input((4,))
    out = layers.SpectralNormalization(layers.Dense(3), name="sn")(inp)
    model = lamina.Model(inp, layers.Dense(1)(out))
    model.compile(optimizer="sgd", loss="mse")
    x = rng.standard_normal((16, 4)).astype("float32")
    y = rng.standard_normal((16, 1)).astype("float32")
    before = model.get_weights()
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    after = model.get_weights()
    assert not np.allclose(before[0], after[0]) and not np.allclose(before[1], after[1])
    loaded = _save_load(model, tmp_path, x)
    sn = loaded.get_layer("sn")
    assert sn.power_iterations == 1 and isinstance(sn.layer, layers.Dense)
    emb = layers.SpectralNormalization(layers.Embedding(5, 3))
    assert ops.shape(emb(np.array([[1, 2]]), training=True)) == (1, 2, 3)
    assert emb.vector_u.shape == (1, 3)


def test_spectral_normalization_gradients_flow():
    layer = layers.SpectralNormalization(layers.Dense(2))
    x = np.ones((2, 3), "float32")
    layer.build((None, 3))
    tv = [v.value for v in layer.trainable_variables]
    ntv = [v.value for v in layer.non_trainable_variables]
    grads = _grads(lambda t: ops.sum(layer.stateless_call(t, ntv, x, training=True)[0] ** 2), tv)
    assert all(np.any(_np(g) != 0) for g in grads)


def _grads(fn, values):
    """Gradients of ``fn(values)`` with the active engine (tests may import engines)."""
    if lamina.backend.backend() == "jax":
        import jax

        return jax.grad(fn)(values)
    import torch

    values = [v.detach().clone().requires_grad_(True) for v in values]
    fn(values).backward()
    return [v.grad for v in values]


def test_spectral_normalization_config_and_errors():
    layer = layers.SpectralNormalization(layers.Dense(2), power_iterations=3, name="sn")
    config = json.loads(json.dumps(layer.get_config()))
    assert config["power_iterations"] == 3 and config["layer"]["class_name"] == "Dense"
    clone = layers.SpectralNormalization.from_config(config)
    assert clone.get_config() == layer.get_config()
    again = deserialize_object(json.loads(json.dumps(serialize_object(layer))))
    assert type(again) is layers.SpectralNormalization
    with pytest.raises(ValueError, match=r"'sn2' \(SpectralNormalization\).*positive integer.*power_iterations=0"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0, name="sn2")
    with pytest.raises(ValueError, match=r"must wrap a lamina Layer.*received layer='dense'"):
        layers.SpectralNormalization("dense")
    with pytest.raises(ValueError, match=r"`kernel` or `embeddings`.*Dropout"):
        layers.SpectralNormalization(layers.Dropout(0.1))(np.ones((1, 2), "float32"))
    built = layers.SpectralNormalization(layers.Dense(2))
    built(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError):
        built(np.ones((1, 4), "float32"))


# ---- ReversibleEmbedding ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("tie", [True, False])
def test_reversible_embedding_layer_test(tie):
    run_layer_test(layers.ReversibleEmbedding, {"input_dim": 7, "output_dim": 3, "tie_weights": tie}, (2, 4),
                   expected_output_shape=(2, 4, 3), expected_num_trainable_weights=1 if tie else 2,
                   input_dtype="int32")


@pytest.mark.parametrize("tie", [True, False])
def test_reversible_embedding_matches_numpy(tie):
    rng = np.random.default_rng(0)
    layer = layers.ReversibleEmbedding(6, 3, tie_weights=tie, logit_soft_cap=2.0)
    ids = np.array([[0, 5, 2]])
    emb = _np(layer(ids))
    table = _np(layer.embeddings)
    np.testing.assert_allclose(emb, table[ids])
    hidden = rng.standard_normal((2, 4, 3)).astype("float32")
    kernel = table.T if tie else _np(layer.reverse_embeddings)
    if not tie:
        assert [w.name for w in layer.weights] == ["embeddings", "reverse_embeddings"]
        assert layer.reverse_embeddings.shape == (3, 6)
    expected = np.tanh(hidden @ kernel / 2.0) * 2.0
    np.testing.assert_allclose(_np(layer(hidden, reverse=True)), expected, rtol=1e-5, atol=1e-6)
    sym = layer(lamina.Input((4, 3)), reverse=True)
    assert tuple(sym.shape) == (None, 4, 6)


def test_reversible_embedding_reverse_dtype_mask_and_gradients():
    layer = layers.ReversibleEmbedding(5, 2, mask_zero=True, reverse_dtype="float16")
    ids = np.array([[1, 0, 3]])
    hidden = layer(ids)
    np.testing.assert_array_equal(_np(layer.compute_mask(ops.convert_to_tensor(ids))), [[True, False, True]])
    logits = layer(hidden, reverse=True)
    assert ops.dtype(logits) == "float16" and ops.shape(logits) == (1, 3, 5)
    assert layer.compute_mask(hidden) is None
    table = layer.embeddings.value
    grads = _grads(lambda t: ops.sum(layer.stateless_call(t, [], ops.ones((2, 2)), reverse=True)[0]), [table])
    np.testing.assert_allclose(_np(grads[0]), np.full((5, 2), 2.0))


def test_reversible_embedding_in_a_language_model_trains_and_saves(tmp_path):
    rng = np.random.default_rng(3)
    inp = lamina.Input((4,), dtype="int32")
    emb = layers.ReversibleEmbedding(8, 3, tie_weights=False, name="emb")
    logits = emb(layers.Dense(3)(emb(inp)), reverse=True)
    model = lamina.Model(inp, logits)
    model.compile(optimizer="adam", loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = rng.integers(0, 8, (16, 4)).astype("int32")
    before = model.get_weights()
    model.fit(x, x, epochs=1, batch_size=8, verbose=0)
    assert all(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    loaded = _save_load(model, tmp_path, x)
    config = loaded.get_layer("emb").get_config()
    assert config["tie_weights"] is False and config["reverse_dtype"] is None and config["logit_soft_cap"] is None


def test_reversible_embedding_errors():
    with pytest.raises(ValueError, match=r"\(ReversibleEmbedding\).*positive integer.*input_dim=0"):
        layers.ReversibleEmbedding(0, 3)
    with pytest.raises(ValueError, match=r"bool for `tie_weights`.*tie_weights='yes'"):
        layers.ReversibleEmbedding(4, 3, tie_weights="yes")
    with pytest.raises(ValueError, match=r"positive number or None for `logit_soft_cap`.*-1"):
        layers.ReversibleEmbedding(4, 3, logit_soft_cap=-1)
    layer = layers.ReversibleEmbedding(4, 3, name="rev")
    layer(np.array([[1]]))
    with pytest.raises(ValueError, match=r"'rev'.*reverse=True.*output_dim=3.*\(2, 5\)"):
        layer(np.ones((2, 5), "float32"), reverse=True)
    with pytest.raises(ValueError, match=r"'rev' \(ReversibleEmbedding\).quantize expected mode.*'int3'"):
        layer.quantize("int3")  # int8 and int4 work: tests/test_quantize_more.py


# ---- Pipeline --------------------------------------------------------------------------------------------------

def test_pipeline_applies_layers_in_order_and_round_trips(tmp_path):
    pipeline = layers.Pipeline([layers.Rescaling(2.0), layers.Dense(3, name="d"), layers.Dropout(0.5, seed=1)],
                               name="pipe")
    assert [type(layer).__name__ for layer in pipeline.layers] == ["Rescaling", "Dense", "Dropout"]
    x = np.random.default_rng(0).standard_normal((4, 5)).astype("float32")
    out = pipeline(x, training=False)
    d = pipeline.layers[1]
    np.testing.assert_allclose(_np(out), (2 * x) @ _np(d.kernel) + _np(d.bias), rtol=1e-5, atol=1e-5)
    train_out = _np(pipeline(x))  # training defaults to True, as Keras: the dropout is active
    assert np.any(train_out == 0)
    config = json.loads(json.dumps(pipeline.get_config()))
    assert set(config) == {"layers", "name"} and len(config["layers"]) == 3
    clone = layers.Pipeline.from_config(config)
    assert [type(layer) for layer in clone.layers] == [type(layer) for layer in pipeline.layers]
    inp = lamina.Input((5,))
    model = lamina.Model(inp, layers.Pipeline([layers.Dense(2), layers.Activation("tanh")])(inp))
    assert tuple(model.output.shape) == (None, 2)
    model.compile(optimizer="sgd", loss="mse")
    before = model.get_weights()
    model.fit(x, np.ones((4, 2), "float32"), verbose=0)
    assert not np.allclose(before[0], model.get_weights()[0])
    _save_load(model, tmp_path, x)


def test_pipeline_passes_masks_on():
    pipeline = layers.Pipeline([layers.Embedding(5, 2, mask_zero=True), layers.Identity()])
    ids = ops.convert_to_tensor(np.array([[1, 0, 2]]))
    np.testing.assert_array_equal(_np(pipeline.compute_mask(ids)), [[True, False, True]])
    model = lamina.Sequential([lamina.Input((3,), dtype="int32"), pipeline, layers.LSTM(2)])
    masked = _np(model(np.array([[1, 2, 0]])))
    unmasked = _np(model(np.array([[1, 2]])[:, :2]))
    np.testing.assert_allclose(masked, unmasked, rtol=1e-5, atol=1e-6)


def test_pipeline_errors():
    with pytest.raises(ValueError, match=r"'p' \(Pipeline\) expected a list of layers.*received layers="):
        layers.Pipeline(layers.Dense(2), name="p")
    with pytest.raises(ValueError, match=r"layers\[1\] is 'relu' of type str"):
        layers.Pipeline([layers.Dense(2), "relu"])
    with pytest.raises(ValueError, match="'layers' entry is a list"):
        layers.Pipeline.from_config({"name": "p", "layers": None})


# ---- HashedCrossing --------------------------------------------------------------------------------------------

FEAT1 = np.array(["A", "B", "A", "B", "A"])
FEAT2 = np.array([101, 101, 101, 102, 102])


def test_hashed_crossing_matches_keras_bins():
    # Keras 3.15.1's documented outputs (TensorFlow's tf.sparse.cross_hashed, FarmHash Fingerprint64)
    layer = layers.HashedCrossing(num_bins=5)
    out = layer((FEAT1, FEAT2))
    assert ops.dtype(out) == "int64"
    np.testing.assert_array_equal(_np(out), [1, 4, 1, 1, 3])
    one_hot = layers.HashedCrossing(num_bins=5, output_mode="one_hot")((FEAT1, FEAT2))
    np.testing.assert_array_equal(_np(one_hot), np.eye(5, dtype="float32")[[1, 4, 1, 1, 3]])
    assert ops.dtype(one_hot) == "float32"


def test_hashed_crossing_shapes_and_reference():
    from lamina.layers.preprocessing import _farmhash

    layer = layers.HashedCrossing(num_bins=7)
    a, b = np.array([[3], [4]]), np.array([["x"], ["yz"]])
    out = _np(layer([a, b]))
    assert out.shape == (2, 1)
    expected = [_farmhash.cross_hash((int(i), s), 7) for i, s in zip(a[:, 0], b[:, 0])]
    np.testing.assert_array_equal(out[:, 0], expected)
    assert int(_np(layer([np.array(3), np.array("x")]))) == expected[0]
    assert ops.shape(layers.HashedCrossing(4, output_mode="one_hot")([np.array(3), np.array(5)])) == (4,)
    # order matters and every feature counts
    three = _np(layers.HashedCrossing(1000)([a, b, a]))
    assert three.shape == (2, 1)
    # FarmHash Fingerprint64 reference values (farmhash's published self-check)
    assert [_farmhash.fingerprint64(s) % 100 for s in (b"1", b"2", b"3")] == [49, 59, 21]
    long = bytes(range(200))
    assert _farmhash.fingerprint64(long) == _farmhash.fingerprint64(bytes(long))
    assert len({_farmhash.fingerprint64(long[:n]) for n in (17, 33, 65, 129, 200)}) == 5


def test_hashed_crossing_in_a_model_and_saved(tmp_path):
    inputs = [lamina.Input((1,), dtype="int32"), lamina.Input((1,), dtype="int32")]
    out = layers.HashedCrossing(num_bins=6, output_mode="one_hot")(inputs)
    assert tuple(out.shape) == (None, 6)
    model = lamina.Model(inputs, out)
    x = [np.array([[1], [2], [3]], "int32"), np.array([[7], [8], [9]], "int32")]
    got = _np(model(x))
    direct = _np(layers.HashedCrossing(num_bins=6, output_mode="one_hot")(x))
    np.testing.assert_array_equal(got, direct)
    model.save(tmp_path / "h.keras")
    loaded = lamina.models.load_model(tmp_path / "h.keras")
    np.testing.assert_array_equal(_np(loaded(x)), got)
    config = layers.HashedCrossing(3, name="hc").get_config()
    assert config == {"num_bins": 3, "output_mode": "int", "sparse": False, "name": "hc", "dtype": "int64"}
    assert layers.HashedCrossing.from_config(config).get_config() == config


def test_hashed_crossing_errors():
    with pytest.raises(ValueError, match="at least two features, but received 1"):
        layers.HashedCrossing(3)([FEAT1])
    with pytest.raises(ValueError, match="list or tuple.*ndarray"):
        layers.HashedCrossing(3)(FEAT1)
    with pytest.raises(ValueError, match=r"same shape.*\(5,\).*\(2,\)"):
        layers.HashedCrossing(3)([FEAT1, FEAT2[:2]])
    with pytest.raises(ValueError, match=r"shape \(\), \(batch_size,\) or \(batch_size, 1\).*\(2, 2\)"):
        layers.HashedCrossing(3)([np.ones((2, 2), "int32"), np.ones((2, 2), "int32")])
    with pytest.raises(ValueError, match="integer or string.*float"):
        layers.HashedCrossing(3)([np.ones(2, "float32"), np.ones(2, "int32")])
    with pytest.raises(ValueError, match="integer or string.*symbolic.*float32"):
        layers.HashedCrossing(3)([lamina.Input((1,)), lamina.Input((1,), dtype="int32")])
    with pytest.raises(ValueError, match="output_mode"):
        layers.HashedCrossing(3, output_mode="multi_hot")
    with pytest.raises(ValueError, match="num_bins"):
        layers.HashedCrossing(0)
    with pytest.raises(ValueError, match="sparse"):
        layers.HashedCrossing(3, output_mode="one_hot", sparse=True)


def test_time_distributed_and_bidirectional_are_wrappers_as_in_keras():
    td = layers.TimeDistributed(layers.Dense(2))
    bi = layers.Bidirectional(layers.LSTM(3))
    assert isinstance(td, layers.Wrapper) and isinstance(bi, layers.Wrapper)
    out = bi(np.ones((2, 4, 5), "float32"))
    assert tuple(out.shape) == (2, 6)
    assert td(np.ones((2, 4, 5), "float32")).shape[-1] == 2
