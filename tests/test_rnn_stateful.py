"""Stateful recurrent layers (states carried from batch to batch, reset_states) and unroll=True."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops

KINDS = {"simple": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}


def _np(x):
    return ops.convert_to_numpy(x)


def _data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _pair(cls, batch=4, features=3, **kwargs):
    """A stateless layer and a stateful copy with the same (perturbed) weights."""
    ref = cls(5, **kwargs)
    ref.build((batch, 6, features))
    rng = np.random.default_rng(1)
    ref.set_weights([w + 0.3 * rng.standard_normal(w.shape).astype("float32") for w in ref.get_weights()])
    st = cls(5, stateful=True, **kwargs)
    st.build((batch, 6, features))
    st.set_weights(ref.get_weights())
    return ref, st


@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
def test_stateful_continues_the_sequence_and_resets(kind):
    x = _data((4, 6, 3))
    ref, st = _pair(KINDS[kind], return_sequences=True, return_state=True)
    full = ref(x)
    first = st(x[:, :2])
    second = st(x[:, 2:])
    np.testing.assert_allclose(np.concatenate([_np(first[0]), _np(second[0])], axis=1), _np(full[0]),
                               atol=1e-5)
    for state_var, ref_state in zip(st.states, full[1:]):
        np.testing.assert_allclose(_np(state_var.value), _np(ref_state), atol=1e-5)
    # reset: the next call starts from zeros again
    st.reset_states()
    for v in st.states:
        assert not np.any(_np(v.value))
    np.testing.assert_allclose(_np(st(x)[0]), _np(full[0]), atol=1e-5)
    st.reset_state()
    np.testing.assert_allclose(_np(st(x[:, :2])[0]), _np(full[0])[:, :2], atol=1e-5)


def test_stateful_states_are_not_weights_and_go_backwards():
    x = _data((4, 6, 3))
    ref, st = _pair(layers.LSTM, go_backwards=True)
    assert len(st.weights) == 3 and len(st.get_weights()) == 3
    assert len(st.non_trainable_variables) == 2
    assert [tuple(v.shape) for v in st.states] == [(4, 5), (4, 5)]
    # backwards: the second call goes on from the state the first one ended with
    st(x)
    h_after = _np(st.states[0].value)
    ref_rs = layers.LSTM(5, go_backwards=True, return_state=True)
    ref_rs.build((4, 6, 3))
    ref_rs.set_weights(ref.get_weights())
    out, h, c = ref_rs(x)
    np.testing.assert_allclose(h_after, _np(h), atol=1e-5)
    out2 = st(x)
    ref2 = ref_rs(x, initial_state=[h, c])[0]
    np.testing.assert_allclose(_np(out2), _np(ref2), atol=1e-5)


def test_reset_states_with_values_and_errors():
    st = layers.GRU(2, stateful=True)
    st.build((3, 4, 2))
    st.reset_states([np.ones((3, 2), "float32")])
    np.testing.assert_allclose(_np(st.states[0].value), np.ones((3, 2)))
    with pytest.raises(ValueError, match="expects 1 state arrays"):
        st.reset_states([np.ones((3, 2)), np.ones((3, 2))])
    with pytest.raises(ValueError, match=r"has shape \(3, 2\)"):
        st.reset_states([np.ones((4, 2), "float32")])
    with pytest.raises(ValueError, match="stateful with batch size 3"):
        st(_data((5, 4, 2)))
    with pytest.raises(AttributeError, match="not stateful"):
        layers.GRU(2).reset_states()


def test_stateful_needs_a_known_batch_size():
    with pytest.raises(ValueError, match="needs a fixed batch size"):
        lamina.Sequential([lamina.Input((4, 2)), layers.LSTM(3, stateful=True)])
    # Keras 2 spelling of the batch shape
    model = lamina.Sequential([layers.LSTM(3, stateful=True, batch_input_shape=(2, 4, 2))])
    assert [tuple(v.shape) for v in model.layers[0].states] == [(2, 3), (2, 3)]


def test_stateful_generic_rnn_and_bidirectional():
    x = _data((2, 6, 3))
    cell = [layers.SimpleRNNCell(3), layers.LSTMCell(2)]
    st = layers.RNN(cell, stateful=True, return_sequences=True)
    st.build((2, 6, 3))
    ref = layers.RNN([layers.SimpleRNNCell(3), layers.LSTMCell(2)], return_sequences=True)
    ref.build((2, 6, 3))
    ref.set_weights(st.get_weights())
    parts = [_np(st(x[:, :4])), _np(st(x[:, 4:]))]
    np.testing.assert_allclose(np.concatenate(parts, 1), _np(ref(x)), atol=1e-5)
    assert len(st.states) == 3

    bi = layers.Bidirectional(layers.LSTM(2, stateful=True, return_sequences=True))
    bi.build((2, 6, 3))
    assert bi.stateful and len(bi.non_trainable_variables) == 4 and len(bi.weights) == 6
    y1 = _np(bi(x))
    y2 = _np(bi(x))
    assert not np.allclose(y1, y2)  # the second call starts from the first call's states
    bi.reset_states()
    np.testing.assert_allclose(_np(bi(x)), y1, atol=1e-5)
    with pytest.raises(AttributeError, match="not stateful"):
        layers.Bidirectional(layers.LSTM(2)).reset_states()
    with pytest.raises(ValueError, match="backward_layer.stateful must equal layer.stateful"):
        layers.Bidirectional(layers.LSTM(2, stateful=True), backward_layer=layers.LSTM(2, go_backwards=True))


@pytest.mark.parametrize("kind,spe", [("simple", 1), ("lstm", 5), ("gru", 2)])
def test_stateful_in_fit_carries_states_between_batches(kind, spe):
    """With a zero learning rate, the states after fit are those of running the batches in order."""
    batch, n_batches = 4, 5
    x = _data((batch * n_batches, 3, 2), seed=2)
    y = _data((batch * n_batches, 1), seed=3)

    model = lamina.Sequential([lamina.Input(batch_shape=(batch, 3, 2)), KINDS[kind](5, stateful=True),
                               layers.Dense(1)])
    # steps_per_execution: on JAX the states go through the several steps of one compiled call
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.0), loss="mse", steps_per_execution=spe)
    # A first fit builds the metrics with an eager call on the first batch, which (like any call of a
    # stateful layer) moves the states; the second fit, after reset_states, runs only the compiled steps.
    model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    model.reset_states()
    model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    rnn = model.layers[0]
    fitted = [_np(v.value) for v in rnn.states]
    # the same batches, one by one, eagerly
    model.reset_states()
    for v in rnn.states:
        assert not np.any(_np(v.value))
    for i in range(n_batches):
        model(x[i * batch:(i + 1) * batch])
    for a, b in zip(fitted, rnn.states):
        np.testing.assert_allclose(a, _np(b.value), atol=1e-5)
    assert np.any(fitted[0])


@pytest.mark.parametrize("kind", ["simple", "lstm"])
def test_stateful_model_trains(kind):
    batch = 4
    x = _data((16, 5, 2), seed=4)
    y = (x.sum(axis=(1, 2)) > 0).astype("float32")[:, None]
    model = lamina.Sequential([lamina.Input(batch_shape=(batch, 5, 2)), KINDS[kind](6, stateful=True),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    for _ in range(2):
        hist = model.fit(x, y, batch_size=batch, epochs=2, shuffle=False, verbose=0)
        model.reset_states()
    assert np.all(np.isfinite(hist.history["loss"]))
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    with pytest.raises(ValueError, match="stateful with batch size 4"):
        model.fit(x[:6], y[:6], batch_size=batch, epochs=1, shuffle=False, verbose=0)


# ---- unroll --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
@pytest.mark.parametrize("masked", [False, True])
def test_unroll_matches_loop(kind, masked):
    x = _data((3, 5, 4))
    mask = None
    if masked:
        mask = np.ones((3, 5), bool)
        mask[0, 3:] = False
        mask[2, 1] = False
    ref = KINDS[kind](3, return_sequences=True, return_state=True, go_backwards=True)
    ref.build((3, 5, 4))
    un = KINDS[kind](3, return_sequences=True, return_state=True, go_backwards=True, unroll=True)
    un.build((3, 5, 4))
    un.set_weights(ref.get_weights())
    for a, b in zip(un(x, mask=mask), ref(x, mask=mask)):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-5)
    assert un.get_config()["unroll"] is True


def test_unroll_gradients_and_compiled_fit():
    x = _data((8, 4, 3))
    y = _data((8, 2), seed=5)
    models = []
    for unroll in (False, True):
        lamina.utils.set_random_seed(7)
        m = lamina.Sequential([lamina.Input((4, 3)), layers.LSTM(2, unroll=unroll)])
        m.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.1), loss="mse")
        m.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        models.append(m)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_unroll_needs_known_timesteps():
    with pytest.raises(ValueError, match="unroll=True, which needs a known number of timesteps"):
        lamina.Sequential([lamina.Input((None, 3)), layers.GRU(2, unroll=True)])
    with pytest.raises(ValueError, match="unroll=True"):
        inp = lamina.Input((None, 3))
        layers.Bidirectional(layers.SimpleRNN(2, unroll=True))(inp)


def test_unroll_runs_the_step_loop_unrolled(monkeypatch):
    """unroll=True bypasses the fused kernel (PyTorch) and asks the engine loop to unroll (no lax.scan)."""
    from lamina.layers.rnn.rnn import engine_rnn

    mod = engine_rnn()
    original, seen = mod.rnn, []

    def spy(*args, **kwargs):
        seen.append(kwargs.get("unroll"))
        return original(*args, **kwargs)

    monkeypatch.setattr(mod, "rnn", spy)
    for cls in (layers.LSTM, layers.GRU, layers.SimpleRNN):
        cls(2, unroll=True)(_data((2, 3, 4)))
    assert seen == [True, True, True]
