"""``use_gate`` and ``sliding_window`` of MultiHeadAttention and GroupedQueryAttention (Keras 3.15).

The layers' outputs are checked against NumPy references of Keras 3.15.1's formulas (a sigmoid gate
computed from the query multiplies each head's attention output before the output projection; a
symmetric band mask ``|t - s| < sliding_window`` joins every other mask), on the fused path and on the
path that returns the attention scores. ``tests/fixtures_keras_attention`` holds a model Keras 3.15.1
saved with both features (make_fixtures.py there writes it) and Keras's predictions.
"""

import io
import os
import zipfile

import h5py
import numpy as np
import pytest

import lamina
from lamina import layers, ops

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures_keras_attention")
RNG = np.random.default_rng(7)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _data(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _rel(layer, w):
    """A weight's path below its layer ("query/kernel" of "mha/query/kernel", as Keras names it)."""
    prefix = layer.name + "/"
    return w.path[len(prefix):] if w.path.startswith(prefix) else w.path


def _randomize(layer):
    """Random weights (biases too, so a gate's bias matters); returns ``{path below the layer: array}``."""
    weights = {_rel(layer, w): RNG.normal(0, 0.5, w.shape).astype("float32") for w in layer.weights}
    layer.set_weights([weights[_rel(layer, w)] for w in layer.weights])
    return weights


def np_band(t, s, window):
    return np.abs(np.arange(t)[:, None] - np.arange(s)[None, :]) < window


def np_attention_layer(w, query, value, num_heads, mask, use_gate, bias=True):
    """Keras's MHA/GQA on 3D inputs: ``w`` maps ``"query/kernel"``... to arrays; ``mask`` (B, T, S) or None.

    Returns the output and the attention probabilities ``(B, N, T, S)``. (A query row that may attend to
    nothing is left out of the comparisons: Keras gives it zero probabilities on the path that returns
    scores and averages the values on the fused one.)
    """
    def proj(x, name):
        y = np.einsum("btm,mnh->btnh", x.astype(np.float64), w[f"{name}/kernel"])
        return y + w[f"{name}/bias"] if bias else y

    q, k, v = proj(query, "query"), proj(value, "key"), proj(value, "value")
    group = q.shape[2] // k.shape[2]
    k, v = np.repeat(k, group, axis=2), np.repeat(v, group, axis=2)
    logits = np.einsum("btnh,bsnh->bnts", q / np.sqrt(q.shape[-1]), k)
    keep = np.ones(logits.shape, bool) if mask is None else np.broadcast_to(mask[:, None], logits.shape)
    logits = np.where(keep, logits, -1e9)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs = probs / probs.sum(-1, keepdims=True)
    out = np.einsum("bnts,bsnh->btnh", probs, v)
    if use_gate:
        out = out * _sigmoid(proj(query, "gate"))
    out = np.einsum("btnh,nhm->btm", out, w["attention_output/kernel"])
    if bias:
        out = out + w["attention_output/bias"]
    assert num_heads == q.shape[2]
    return out, probs


def _make(kind, use_gate, sliding_window, **kwargs):
    if kind == "mha":
        return layers.MultiHeadAttention(num_heads=2, key_dim=3, use_gate=use_gate, sliding_window=sliding_window,
                                         **kwargs), 2
    return layers.GroupedQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2, use_gate=use_gate,
                                        sliding_window=sliding_window, **kwargs), 4


@pytest.mark.parametrize("kind", ["mha", "gqa"])
@pytest.mark.parametrize("use_gate,sliding_window", [(True, None), (False, 2), (True, 2), (True, 3), (True, 1)])
@pytest.mark.parametrize("masks", ["none", "attention_mask", "causal", "both"])
def test_matches_numpy(kind, use_gate, sliding_window, masks):
    b, t, dim = 2, 6, 5
    query, value = _data(b, t, dim), _data(b, t, dim)
    layer, heads = _make(kind, use_gate, sliding_window)
    layer(query, value)
    w = _randomize(layer)
    mask = np.ones((b, t, t), bool)
    kwargs = {}
    if masks in ("attention_mask", "both"):
        attention_mask = (RNG.random((b, t, t)) > 0.4) | np.eye(t, dtype=bool)  # every query keeps a key
        kwargs["attention_mask"] = attention_mask
        mask &= attention_mask
    if masks in ("causal", "both"):
        kwargs["use_causal_mask"] = True
        mask &= np.tril(np.ones((t, t), bool))
    if sliding_window is not None:
        mask &= np_band(t, t, sliding_window)
    want, want_probs = np_attention_layer(w, query, value, heads, mask, use_gate)
    np.testing.assert_allclose(_np(layer(query, value, **kwargs)), want, rtol=1e-4, atol=1e-5)  # fused path
    out, scores = layer(query, value, return_attention_scores=True, **kwargs)
    np.testing.assert_allclose(_np(out), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(scores), want_probs, rtol=1e-4, atol=1e-6)
    if sliding_window is not None:  # keys outside the band get no weight
        assert np.all(_np(scores)[..., ~np_band(t, t, sliding_window)] == 0)


@pytest.mark.parametrize("kind", ["mha", "gqa"])
def test_gate_without_bias_and_cross_attention_window(kind):
    # T=5 queries over S=3 keys with a window of 2: query 4 may attend to nothing, so it is left out.
    query, value = _data(2, 5, 4), _data(2, 3, 4)
    layer, heads = _make(kind, True, 2, use_bias=False)
    out, _ = layer(query, value, return_attention_scores=True)
    assert [_rel(layer, w) for w in layer.weights] == ["query/kernel", "key/kernel", "gate/kernel",
                                                       "value/kernel", "attention_output/kernel"]
    w = _randomize(layer)
    band = np.broadcast_to(np_band(5, 3, 2), (2, 5, 3))
    want, want_probs = np_attention_layer(w, query, value, heads, band, True, bias=False)
    out, scores = layer(query, value, return_attention_scores=True)
    np.testing.assert_allclose(_np(out)[:, :4], want[:, :4], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(scores)[:, :, :4], want_probs[:, :, :4], rtol=1e-4, atol=1e-6)
    assert np.all(_np(scores)[:, :, :4][..., ~band[0, :4]] == 0)
    np.testing.assert_allclose(_np(layer(query, value))[:, :4], want[:, :4], rtol=1e-4, atol=1e-5)


def test_mha_window_on_4d_inputs_runs_along_the_attention_axis():
    x = _data(2, 5, 3, 4)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(1,), use_gate=True, sliding_window=2)
    out, scores = layer(x, x, return_attention_scores=True)
    assert tuple(scores.shape) == (2, 3, 2, 5, 5) and tuple(out.shape) == (2, 5, 3, 4)
    w = _randomize(layer)
    out, scores = layer(x, x, return_attention_scores=True)
    # attention runs over axis 1 independently for each position of axis 2: that is 3D attention per slice
    for j in range(3):
        want, want_probs = np_attention_layer(w, x[:, :, j], x[:, :, j], 2, np.broadcast_to(np_band(5, 5, 2),
                                                                                            (2, 5, 5)), True)
        np.testing.assert_allclose(_np(out)[:, :, j], want, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(_np(scores)[:, j], want_probs, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(_np(layer(x, x)), _np(out), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="sliding_window needs attention over a single axis"):
        layers.MultiHeadAttention(num_heads=2, key_dim=3, sliding_window=2)(x, x)


def test_gate_and_window_with_query_and_value_masks():
    query, value = _data(2, 5, 4), _data(2, 5, 4)
    qm = np.array([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], bool)
    vm = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, use_gate=True, sliding_window=3)
    layer(query, value)
    w = _randomize(layer)
    mask = qm[:, :, None] & vm[:, None, :] & np_band(5, 5, 3)
    want, want_probs = np_attention_layer(w, query, value, 2, mask, True)
    live = mask.any(-1)  # (batch 0's last query is masked out: it may attend to nothing)
    for kwargs in ({}, {"return_attention_scores": True}):
        got = layer(query, value, query_mask=qm, value_mask=vm, **kwargs)
        out = got[0] if kwargs else got
        np.testing.assert_allclose(_np(out)[live], want[live], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(got[1]).transpose(0, 2, 1, 3)[live], want_probs.transpose(0, 2, 1, 3)[live],
                               rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["mha", "gqa"])
def test_config_round_trip(kind):
    layer, _ = _make(kind, True, 4)
    config = layer.get_config()
    assert config["use_gate"] is True and config["sliding_window"] == 4
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    assert (clone.use_gate, clone.sliding_window) == (True, 4)
    plain, _ = _make(kind, False, None)
    assert plain.get_config()["use_gate"] is False and plain.get_config()["sliding_window"] is None
    x = _data(2, 6, 5)
    layer(x, x)
    clone = type(layer).from_config(layer.get_config())
    clone(x, x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(clone(x, x)), _np(layer(x, x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_bad_sliding_window(bad):
    with pytest.raises(ValueError, match="sliding_window"):
        layers.MultiHeadAttention(num_heads=2, key_dim=3, sliding_window=bad)
    with pytest.raises(ValueError, match="sliding_window"):
        layers.GroupedQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1, sliding_window=bad)


def test_flash_attention_off_gives_the_same_numbers():
    x = _data(2, 6, 5)
    for kind in ("mha", "gqa"):
        layer, _ = _make(kind, True, 2)
        layer(x, x)
        off, _ = _make(kind, True, 2, flash_attention=False)
        off(x, x)
        off.set_weights(layer.get_weights())
        np.testing.assert_allclose(_np(off(x, x, use_causal_mask=True)), _np(layer(x, x, use_causal_mask=True)),
                                   rtol=1e-5, atol=1e-6)


def _h5_datasets(data):
    out = {}
    with h5py.File(io.BytesIO(data), "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj.shape) if isinstance(obj, h5py.Dataset) else None)
    return out


def test_keras_file_with_gate_and_window_loads_and_predicts_kerass_numbers(tmp_path):
    expected = np.load(os.path.join(FIXTURES, "expected.npz"))
    path = os.path.join(FIXTURES, "gate_window.keras")
    model = lamina.models.load_model(path)
    mha, gqa = model.layers[1], model.layers[2]
    assert (mha.use_gate, mha.sliding_window, gqa.use_gate, gqa.sliding_window) == (True, 2, True, 2)
    np.testing.assert_allclose(_np(model.predict(expected["x"], verbose=0)), expected["y"], rtol=1e-5, atol=1e-5)
    # lamina writes the gate where Keras does (``_gate_dense``: MHA's other projections are reached through
    # its public properties, GQA's through their attributes), so its file has Keras's datasets and shapes
    out = str(tmp_path / "again.keras")
    model.save(out)
    with zipfile.ZipFile(path) as zk, zipfile.ZipFile(out) as zl:
        keras_sets = _h5_datasets(zk.read("model.weights.h5"))
        assert _h5_datasets(zl.read("model.weights.h5")) == keras_sets
    assert "layers/multi_head_attention/_gate_dense/vars/1" in keras_sets
    assert "layers/grouped_query_attention/_gate_dense/vars/0" in keras_sets
    again = lamina.models.load_model(out)
    np.testing.assert_allclose(_np(again.predict(expected["x"], verbose=0)), expected["y"], rtol=1e-5, atol=1e-5)
    weights = str(tmp_path / "w.weights.h5")
    model.save_weights(weights)
    fresh = lamina.models.load_model(path)
    fresh.set_weights([np.zeros(w.shape, "float32") for w in fresh.weights])
    fresh.load_weights(weights)
    np.testing.assert_allclose(_np(fresh.predict(expected["x"], verbose=0)), expected["y"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["mha", "gqa"])
def test_fit_step_trains_the_gate(kind):
    lamina.utils.set_random_seed(3)
    x, y = _data(8, 6, 5), _data(8, 6, 5)
    inp = lamina.Input((6, 5))
    layer, _ = _make(kind, True, 2)
    model = lamina.Model(inp, layer(inp, inp, use_causal_mask=True))
    model.compile(optimizer=lamina.optimizers.SGD(0.1), loss="mse")
    gate = [w for w in layer.weights if _rel(layer, w).startswith("gate/")]
    assert [_rel(layer, w) for w in gate] == ["gate/kernel", "gate/bias"] and all(w.trainable for w in gate)
    before = [_np(w).copy() for w in gate]
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for old, w in zip(before, gate):
        assert np.all(np.isfinite(_np(w))) and not np.allclose(old, _np(w))
