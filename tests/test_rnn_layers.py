"""Recurrent layers: the layer-test helper, numbers against a NumPy reference of the Keras equations,
masks, states, dropout, the torch fused path against the general loop, and training."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from layer_test_utils import run_layer_test


# ---- NumPy reference of the Keras equations ------------------------------------------------------

def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _np_step(kind, x, states, weights, reset_after=True):
    k, rk = weights[0], weights[1]
    b = weights[2] if len(weights) > 2 else None
    if kind == "simple":
        h = np.tanh(x @ k + states[0] @ rk + (0 if b is None else b))
        return h, [h]
    if kind == "lstm":
        h, c = states
        u = h.shape[-1]
        z = x @ k + h @ rk + (0 if b is None else b)
        i, f, g, o = (z[:, j * u:(j + 1) * u] for j in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        return h, [h, c]
    h = states[0]
    u = h.shape[-1]
    if reset_after:
        xb, rb = (0, 0) if b is None else (b[0], b[1])
        xz = x @ k + xb
        rz = h @ rk + rb
        z = _sigmoid(xz[:, :u] + rz[:, :u])
        r = _sigmoid(xz[:, u:2 * u] + rz[:, u:2 * u])
        hh = np.tanh(xz[:, 2 * u:] + r * rz[:, 2 * u:])
    else:
        xz = x @ k + (0 if b is None else b)
        z = _sigmoid(xz[:, :u] + h @ rk[:, :u])
        r = _sigmoid(xz[:, u:2 * u] + h @ rk[:, u:2 * u])
        hh = np.tanh(xz[:, 2 * u:] + (r * h) @ rk[:, 2 * u:])
    h = z * h + (1 - z) * hh
    return h, [h]


def np_rnn(kind, x, weights, units, mask=None, go_backwards=False, initial=None, reset_after=True,
           zero_output=False):
    """Step-by-step reference: returns (outputs in iteration order, final states)."""
    batch, steps = x.shape[:2]
    n_states = 2 if kind == "lstm" else 1
    states = [np.zeros((batch, units), "float64") for _ in range(n_states)] if initial is None else \
        [np.asarray(s, "float64") for s in initial]
    prev = np.zeros((batch, units))
    outs = []
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    w = [np.asarray(a, "float64") for a in weights]
    for t in order:
        out, new = _np_step(kind, x[:, t].astype("float64"), states, w, reset_after)
        if mask is not None:
            m = mask[:, t][:, None]
            new = [np.where(m, n, s) for n, s in zip(new, states)]
            emitted = np.where(m, out, 0.0 if zero_output else prev)
            out = np.where(m, out, prev)
        else:
            emitted = out
        states, prev = new, out
        outs.append(emitted)
    return np.stack(outs, 1), states


KINDS = {"simple": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}


def _data(shape=(3, 5, 4), seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _make(kind, units=3, **kwargs):
    layer = KINDS[kind](units, **kwargs)
    # non-trivial biases so bias handling is checked
    layer.build((None, 5, 4))
    weights = layer.get_weights()
    rng = np.random.default_rng(1)
    layer.set_weights([w + 0.3 * rng.standard_normal(w.shape).astype("float32") for w in weights])
    return layer


# ---- layer-test helper ---------------------------------------------------------------------------

@pytest.mark.parametrize("cls,kwargs,n_weights", [
    (layers.SimpleRNN, {"units": 3}, 3),
    (layers.LSTM, {"units": 3, "return_sequences": True}, 3),
    (layers.GRU, {"units": 3}, 3),
    (layers.GRU, {"units": 3, "reset_after": False, "use_bias": False}, 2),
    (layers.LSTM, {"units": 2, "go_backwards": True, "dropout": 0.2, "recurrent_dropout": 0.2, "seed": 3}, 3),
])
def test_layer_test_helper(cls, kwargs, n_weights):
    seq = kwargs.get("return_sequences", False)
    units = kwargs["units"]
    run_layer_test(cls, kwargs, (2, 4, 3), (2, 4, units) if seq else (2, units), n_weights, atol=1e-5)


def test_cells_and_generic_rnn_layer_test():
    run_layer_test(layers.RNN, {"cell": layers.LSTMCell(2), "return_sequences": True}, (2, 3, 4), (2, 3, 2), 3)
    run_layer_test(layers.RNN, {"cell": [layers.SimpleRNNCell(3), layers.GRUCell(2)]}, (2, 3, 4), (2, 2), 6)


# ---- numbers against the NumPy reference ---------------------------------------------------------

@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_matches_numpy_reference(kind, go_backwards):
    x = _data()
    layer = _make(kind, return_sequences=True, return_state=True, go_backwards=go_backwards)
    res = layer(x)
    ref_out, ref_states = np_rnn(kind, x, layer.get_weights(), 3, go_backwards=go_backwards)
    np.testing.assert_allclose(ops.convert_to_numpy(res[0]), ref_out, rtol=1e-4, atol=1e-5)
    for got, want in zip(res[1:], ref_states):
        np.testing.assert_allclose(ops.convert_to_numpy(got), want, rtol=1e-4, atol=1e-5)


def test_gru_reset_before_matches_numpy():
    x = _data()
    layer = _make("gru", return_sequences=True, reset_after=False)
    assert [w.shape for w in layer.weights] == [(4, 9), (3, 9), (9,)]
    ref, _ = np_rnn("gru", x, layer.get_weights(), 3, reset_after=False)
    np.testing.assert_allclose(ops.convert_to_numpy(layer(x)), ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
def test_masks_keep_previous_state_and_output(kind):
    x = _data()
    # right-padded, left-padded and holes
    mask = np.array([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 0, 1, 0, 1]], bool)
    for go_backwards in (False, True):
        layer = _make(kind, return_sequences=True, return_state=True, go_backwards=go_backwards)
        res = layer(x, mask=mask)
        ref_out, ref_states = np_rnn(kind, x, layer.get_weights(), 3, mask=mask, go_backwards=go_backwards)
        np.testing.assert_allclose(ops.convert_to_numpy(res[0]), ref_out, rtol=1e-4, atol=1e-5)
        for got, want in zip(res[1:], ref_states):
            np.testing.assert_allclose(ops.convert_to_numpy(got), want, rtol=1e-4, atol=1e-5)


def test_initial_state_and_return_state_shapes():
    x = _data()
    layer = _make("lstm", return_state=True)
    h0 = np.full((3, 3), 0.5, "float32")
    c0 = np.full((3, 3), -0.2, "float32")
    out, h, c = layer(x, initial_state=[h0, c0])
    assert ops.shape(out) == (3, 3) and ops.shape(h) == (3, 3) and ops.shape(c) == (3, 3)
    _, ref = np_rnn("lstm", x, layer.get_weights(), 3, initial=[h0, c0])
    np.testing.assert_allclose(ops.convert_to_numpy(h), ref[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(c), ref[1], rtol=1e-4, atol=1e-5)
    gru = layers.GRU(2, return_sequences=True, return_state=True)
    seq, state = gru(x)
    assert ops.shape(seq) == (3, 5, 2) and ops.shape(state) == (3, 2)
    inp = lamina.Input((5, 4))
    sym = layers.LSTM(6, return_state=True, return_sequences=True)(inp)
    assert [tuple(t.shape) for t in sym] == [(None, 5, 6), (None, 6), (None, 6)]


def test_weights_layout_and_unit_forget_bias():
    layer = layers.LSTM(3)
    layer.build((None, 2, 4))
    assert [w.shape for w in layer.weights] == [(4, 12), (3, 12), (12,)]
    assert [w.name for w in layer.weights] == ["kernel", "recurrent_kernel", "bias"]
    bias = layer.get_weights()[2]
    np.testing.assert_array_equal(bias, [0] * 3 + [1] * 3 + [0] * 6)
    layer = layers.LSTM(3, unit_forget_bias=False)
    layer.build((None, 2, 4))
    np.testing.assert_array_equal(layer.get_weights()[2], np.zeros(12))


def test_dropout_is_seeded_and_only_in_training():
    x = _data()
    a = layers.LSTM(3, dropout=0.5, recurrent_dropout=0.5, seed=7)
    b = layers.LSTM(3, dropout=0.5, recurrent_dropout=0.5, seed=7)
    a.build((None, 5, 4))
    b.build((None, 5, 4))
    b.set_weights(a.get_weights())
    np.testing.assert_allclose(ops.convert_to_numpy(a(x, training=True)),
                               ops.convert_to_numpy(b(x, training=True)), rtol=1e-6)
    assert not np.allclose(ops.convert_to_numpy(a(x, training=True)), ops.convert_to_numpy(a(x)))
    np.testing.assert_allclose(ops.convert_to_numpy(a(x)), ops.convert_to_numpy(b(x)), rtol=1e-6)


def test_config_round_trip_and_validation():
    layer = layers.GRU(4, reset_after=False, return_sequences=True, dropout=0.1, seed=2)
    config = layer.get_config()
    assert config["units"] == 4 and config["reset_after"] is False and config["return_sequences"] is True
    assert layers.GRU.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="units"):
        layers.LSTM(0)
    with pytest.raises(ValueError, match="dropout"):
        layers.SimpleRNN(2, dropout=1.5)
    with pytest.raises(ValueError, match="3D"):
        layers.LSTM(2)(np.zeros((2, 3), "float32"))


def test_cell_single_step():
    cell = layers.LSTMCell(3)
    x = _data((2, 4))
    h0, c0 = np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32")
    out, (h, c) = cell(x, [h0, c0])
    ref, states = _np_step("lstm", x.astype("float64"), [h0, c0], cell.get_weights())
    np.testing.assert_allclose(ops.convert_to_numpy(out), ref, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(c), states[1], rtol=1e-4, atol=1e-6)


def test_custom_cell_in_rnn():
    class MinimalCell(layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.built = True

        def call(self, inputs, states):
            out = ops.add(ops.matmul(inputs, self.kernel.value), states[0])
            return out, [out]

    layer = layers.RNN(MinimalCell(2), return_sequences=True)
    x = _data((2, 3, 4))
    out = ops.convert_to_numpy(layer(x))
    k = layer.get_weights()[0]
    np.testing.assert_allclose(out, np.cumsum(x @ k, axis=1), rtol=1e-4, atol=1e-5)


# ---- the torch fused path gives the general path's numbers ---------------------------------------

_MASKS = {"none": None,
          "right": np.array([[1] * 6, [1] * 3 + [0] * 3, [1] + [0] * 5, [0] * 6], bool),
          "left": np.array([[1] * 6, [0] * 3 + [1] * 3, [0] * 5 + [1], [0] * 6], bool)}  # padding="pre"


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("masked", list(_MASKS))
@pytest.mark.parametrize("go_backwards", [False, True])
def test_fused_path_matches_general_path(kind, masked, go_backwards):
    x = _data((4, 6, 4))
    mask = _MASKS[masked]
    fused = _make(kind, return_sequences=True, return_state=True, go_backwards=go_backwards)
    loop = _make(kind, return_sequences=True, return_state=True, go_backwards=go_backwards)
    loop.set_weights(fused.get_weights())
    loop.use_fused_kernel = False
    for zero_output in (False, True):
        fused.zero_output_for_mask = loop.zero_output_for_mask = zero_output
        for a, b in zip(fused(x, mask=mask), loop(x, mask=mask)):
            np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), rtol=1e-5, atol=1e-5)
    no_bias = _make(kind, return_sequences=True, use_bias=False, go_backwards=go_backwards)
    no_bias_loop = _make(kind, return_sequences=True, use_bias=False, go_backwards=go_backwards)
    no_bias_loop.set_weights(no_bias.get_weights())
    no_bias_loop.use_fused_kernel = False
    np.testing.assert_allclose(ops.convert_to_numpy(no_bias(x, mask=mask)),
                               ops.convert_to_numpy(no_bias_loop(x, mask=mask)), rtol=1e-5, atol=1e-5)
    fused.zero_output_for_mask = False
    ref_out, ref_states = np_rnn(kind, x, fused.get_weights(), 3, mask=mask, go_backwards=go_backwards)
    np.testing.assert_allclose(ops.convert_to_numpy(fused(x, mask=mask)[0]), ref_out, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_fused_path_gradients_match_general_path(kind, go_backwards, backend_name):
    if backend_name != "torch":
        pytest.skip("the fused kernel is PyTorch's")
    import torch

    x = _data((4, 5, 4))
    mask = np.array([[1] * 5, [1, 1, 0, 0, 0], [1, 1, 1, 1, 0], [1] * 5], bool)
    if go_backwards:  # left-padded (pad_sequences' default) on the reversed runs
        mask = mask[:, ::-1].copy()
    grads = []
    for fused in (True, False):
        layer = _make(kind, return_sequences=True, go_backwards=go_backwards)
        if grads:
            layer.set_weights(first.get_weights())
        else:
            first = layer
        layer.use_fused_kernel = fused
        out = layer(x, mask=mask)
        out.sum().backward()
        grads.append([w.value.grad.detach().cpu().numpy() for w in layer.weights])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert torch  # the engine import above is allowed in tests


def test_fused_path_is_used_on_torch(backend_name, monkeypatch):
    if backend_name != "torch":
        pytest.skip("the fused kernel is PyTorch's")
    from lamina.backend.torch import rnn as trnn

    calls = []
    monkeypatch.setattr(trnn, "rnn", lambda *a, **k: calls.append(1) or (_ for _ in ()).throw(AssertionError))
    right_padded = np.array([[1, 1, 1, 0, 0], [1] * 5, [0] * 5], bool)
    layers.LSTM(3)(_data())
    layers.GRU(3)(_data(), mask=right_padded)
    layers.Bidirectional(layers.LSTM(3, return_sequences=True))(_data(), mask=right_padded)
    left_padded = right_padded[:, ::-1].copy()
    layers.LSTM(3, return_sequences=True)(_data(), mask=left_padded)
    layers.Bidirectional(layers.GRU(3))(_data(), mask=left_padded)
    assert not calls


# ---- in models ---------------------------------------------------------------------------------------

def test_embedding_mask_zero_lstm_trains():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, size=(64, 8))
    lengths = rng.integers(2, 9, size=64)
    for i, n in enumerate(lengths):
        x[i, n:] = 0
    y = (x[:, 0] > 10).astype("float32")[:, None]
    model = lamina.Sequential([lamina.Input((8,), dtype="int32"), layers.Embedding(20, 8, mask_zero=True),
                               layers.LSTM(8), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    before = before[0] if isinstance(before, list) else before
    after = after[0] if isinstance(after, list) else after
    assert after < before


def test_mask_is_used_in_functional_model():
    x = np.array([[3, 4, 0, 0], [5, 0, 0, 0]])
    inp = lamina.Input((4,), dtype="int32")
    emb = layers.Embedding(10, 3, mask_zero=True)
    out = layers.GRU(2, return_sequences=True)(emb(inp))
    model = lamina.Model(inp, out)
    res = ops.convert_to_numpy(model(x))
    # masked timesteps repeat the last valid output
    np.testing.assert_allclose(res[0, 2], res[0, 1], rtol=1e-6)
    np.testing.assert_allclose(res[1, 3], res[1, 0], rtol=1e-6)


# ---- Bidirectional -----------------------------------------------------------------------------------

def test_bidirectional_layer_test():
    run_layer_test(layers.Bidirectional, {"layer": layers.LSTM(3, return_sequences=True)}, (2, 4, 5), (2, 4, 6), 6)
    run_layer_test(layers.Bidirectional, {"layer": layers.GRU(2), "merge_mode": "sum"}, (2, 4, 5), (2, 2), 6)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_matches_numpy(merge_mode):
    x = _data()
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], bool)
    layer = layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode=merge_mode)
    out = layer(x, mask=mask)
    w = layer.get_weights()
    fwd, _ = np_rnn("gru", x, w[:3], 3, mask=mask, zero_output=True)
    bwd, _ = np_rnn("gru", x, w[3:], 3, mask=mask, go_backwards=True, zero_output=True)
    bwd = bwd[:, ::-1]
    want = {"concat": np.concatenate([fwd, bwd], -1), "sum": fwd + bwd, "mul": fwd * bwd,
            "ave": (fwd + bwd) / 2, None: [fwd, bwd]}[merge_mode]
    got = [ops.convert_to_numpy(o) for o in out] if merge_mode is None else ops.convert_to_numpy(out)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_bidirectional_return_state_and_config():
    layer = layers.Bidirectional(layers.LSTM(3, return_state=True))
    out = layer(_data())
    assert len(out) == 5 and ops.shape(out[0]) == (3, 6) and all(ops.shape(s) == (3, 3) for s in out[1:])
    inp = lamina.Input((5, 4))
    sym = layers.Bidirectional(layers.LSTM(3, return_state=True))(inp)
    assert [tuple(t.shape) for t in sym] == [(None, 6)] + [(None, 3)] * 4
    config = layer.get_config()
    assert layers.Bidirectional.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="merge_mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="recurrent layer"):
        layers.Bidirectional(layers.Dense(2))


def test_bidirectional_in_model_trains_and_saves(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, size=(16, 6))
    x[:8, 4:] = 0
    y = rng.standard_normal((16, 1)).astype("float32")
    model = lamina.Sequential([lamina.Input((6,), dtype="int32"), layers.Embedding(10, 4, mask_zero=True),
                               layers.Bidirectional(layers.LSTM(3)), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = str(tmp_path / "bi.keras")
    model.save(path)
    loaded = lamina.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_encoder_decoder_with_symbolic_initial_state():
    enc_in, dec_in = lamina.Input((None, 5)), lamina.Input((None, 6))
    _, h, c = layers.LSTM(4, return_state=True)(enc_in)
    out = layers.LSTM(4, return_sequences=True)(dec_in, initial_state=[h, c])
    model = lamina.Model([enc_in, dec_in], layers.Dense(6, activation="softmax")(out))
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x1, x2 = rng.random((8, 4, 5)).astype("float32"), rng.random((8, 3, 6)).astype("float32")
    y = np.eye(6, dtype="float32")[rng.integers(0, 6, (8, 3))]
    model.fit([x1, x2], y, epochs=1, batch_size=4, verbose=0)
    assert model.predict([x1, x2], verbose=0).shape == (8, 3, 6)


def test_stacked_cells_return_and_take_states_per_cell():
    # as Keras: RNN([LSTMCell, GRUCell, SimpleRNNCell], return_state=True) -> [out, [h, c], h_gru, h_rnn]
    x = np.random.default_rng(0).random((2, 5, 3)).astype("float32")
    rnn = layers.RNN([layers.LSTMCell(4), layers.GRUCell(3), layers.SimpleRNNCell(2)], return_state=True)
    out, (h1, c1), h2, h3 = rnn(x)
    assert [tuple(ops.shape(t)) for t in (out, h1, c1, h2, h3)] == [(2, 2), (2, 4), (2, 4), (2, 3), (2, 2)]
    nested = rnn(x, initial_state=[[h1, c1], h2, h3])
    flat = rnn(x, initial_state=[h1, c1, h2, h3])
    np.testing.assert_allclose(ops.convert_to_numpy(nested[0]), ops.convert_to_numpy(flat[0]), rtol=1e-6)
    inp = lamina.Input((5, 3))
    sym = layers.RNN([layers.LSTMCell(4), layers.GRUCell(3)], return_state=True)(inp)
    assert [sym[0].shape, [t.shape for t in sym[1]], sym[2].shape] == [(None, 3), [(None, 4), (None, 4)], (None, 3)]
