"""ConvLSTM1D/2D/3D: the layer-test helper, numbers against a step-by-step NumPy reference (built on the
independent NumPy convolution of np_conv_reference), weight shapes, masks, states, dropout and errors."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from layer_test_utils import run_layer_test
from np_conv_reference import np_conv

CLASSES = {1: layers.ConvLSTM1D, 2: layers.ConvLSTM2D, 3: layers.ConvLSTM3D}


def _np(x):
    return ops.convert_to_numpy(x)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_conv_lstm(x, weights, filters, strides=1, padding="valid", data_format="channels_last",
                 dilation_rate=1, go_backwards=False, mask=None, initial=None):
    """Step-by-step reference; returns (outputs in iteration order, [h, c])."""
    k, rk = (np.asarray(w, "float64") for w in weights[:2])
    b = np.asarray(weights[2], "float64") if len(weights) > 2 else 0.0
    ch = -1 if data_format == "channels_last" else 1

    def bias(z):
        return z + (b if data_format == "channels_last" else np.reshape(b, (-1,) + (1,) * (z.ndim - 2)))

    steps = x.shape[1]
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    h = c = None
    if initial is not None:
        h, c = (np.asarray(s, "float64") for s in initial)
    outs, prev = [], None
    for t in order:
        zx = bias(np_conv(x[:, t], k, strides, padding, data_format, dilation_rate))
        if h is None:
            h = np.zeros_like(zx.take(range(filters), axis=ch))
            c = np.zeros_like(h)
        if prev is None:
            prev = np.zeros_like(h)
        z = zx + np_conv(h, rk, 1, "same", data_format)
        i, f, g, o = np.split(z, 4, axis=ch)
        c_new = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h_new = _sigmoid(o) * np.tanh(c_new)
        if mask is not None:
            m = mask[:, t].reshape((-1,) + (1,) * (h.ndim - 1))
            h_new, c_new = np.where(m, h_new, h), np.where(m, c_new, c)
            out = np.where(m, h_new, prev)
        else:
            out = h_new
        h, c, prev = h_new, c_new, out
        outs.append(out)
    return np.stack(outs, 1), [h, c]


def _perturbed(layer, input_shape):
    layer.build(input_shape)
    rng = np.random.default_rng(1)
    layer.set_weights([w + 0.2 * rng.standard_normal(w.shape).astype("float32") for w in layer.get_weights()])
    return layer


@pytest.mark.parametrize("rank,kwargs,input_shape", [
    (1, {"filters": 3, "kernel_size": 3}, (2, 4, 7, 2)),
    (1, {"filters": 2, "kernel_size": 2, "strides": 2, "padding": "same", "go_backwards": True}, (2, 3, 7, 3)),
    (2, {"filters": 2, "kernel_size": (3, 2), "padding": "same"}, (2, 3, 5, 4, 2)),
    (2, {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "data_format": "channels_first"}, (1, 3, 2, 6, 6)),
    (2, {"filters": 3, "kernel_size": 2, "strides": (2, 1), "use_bias": False, "unit_forget_bias": False},
     (2, 2, 5, 4, 1)),
    (3, {"filters": 2, "kernel_size": 2, "padding": "same"}, (1, 3, 3, 4, 3, 2)),
])
def test_matches_numpy_reference(rank, kwargs, input_shape):
    x = np.random.default_rng(0).standard_normal(input_shape).astype("float32")
    layer = _perturbed(CLASSES[rank](return_sequences=True, return_state=True, **kwargs), input_shape)
    out, h, c = layer(x)
    ref_kwargs = {k: kwargs[k] for k in ("strides", "padding", "data_format", "dilation_rate", "go_backwards")
                  if k in kwargs}
    ref_out, (ref_h, ref_c) = np_conv_lstm(x, layer.get_weights(), kwargs["filters"], **ref_kwargs)
    np.testing.assert_allclose(_np(out), ref_out, atol=2e-5)
    np.testing.assert_allclose(_np(h), ref_h, atol=2e-5)
    np.testing.assert_allclose(_np(c), ref_c, atol=2e-5)
    last = CLASSES[rank](**kwargs)
    last.build(input_shape)
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(last(x)), ref_out[:, -1], atol=2e-5)
    assert tuple(last.compute_output_shape(input_shape)) == ref_out[:, -1].shape


def test_weight_shapes_gate_order_and_unit_forget_bias():
    layer = layers.ConvLSTM2D(4, (3, 2), kernel_initializer="ones", recurrent_initializer="zeros")
    layer.build((None, 5, 6, 6, 3))
    assert [tuple(w.shape) for w in layer.weights] == [(3, 2, 3, 16), (3, 2, 4, 16), (16,)]
    assert [w.path.split("/")[-1] for w in layer.weights] == ["kernel", "recurrent_kernel", "bias"]
    np.testing.assert_array_equal(layer.get_weights()[2], np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    assert layer.filters == 4 and layer.kernel_size == (3, 2)
    layer3 = layers.ConvLSTM3D(2, 1, unit_forget_bias=False)
    layer3.build((None, 2, 3, 3, 3, 1))
    assert not np.any(layer3.get_weights()[2])


@pytest.mark.parametrize("cls,input_shape,out_seq", [
    (layers.ConvLSTM1D, (2, 3, 6, 2), (2, 3, 4, 3)),
    (layers.ConvLSTM2D, (2, 3, 5, 5, 2), (2, 3, 3, 3, 3)),
])
def test_layer_test_helper(cls, input_shape, out_seq):
    run_layer_test(cls, {"filters": 3, "kernel_size": 3, "return_sequences": True}, input_shape, out_seq, 3,
                   atol=1e-5)
    run_layer_test(cls, {"filters": 3, "kernel_size": 3, "dropout": 0.2, "recurrent_dropout": 0.3, "seed": 1},
                   input_shape, (out_seq[0],) + out_seq[2:], 3, atol=1e-5)


def test_mask_initial_state_and_stateful():
    x = np.random.default_rng(3).standard_normal((3, 4, 5, 2)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 1, 1]], bool)
    layer = _perturbed(layers.ConvLSTM1D(2, 3, padding="same", return_sequences=True, return_state=True),
                       (3, 4, 5, 2))
    init = [np.full((3, 5, 2), 0.3, "float32"), np.full((3, 5, 2), -0.2, "float32")]
    out, h, c = layer(x, initial_state=init, mask=mask)
    ref_out, (ref_h, ref_c) = np_conv_lstm(x, layer.get_weights(), 2, padding="same", mask=mask, initial=init)
    np.testing.assert_allclose(_np(out), ref_out, atol=2e-5)
    np.testing.assert_allclose(_np(h), ref_h, atol=2e-5)
    # stateful: two halves continue one another
    st = layers.ConvLSTM1D(2, 3, padding="same", return_sequences=True, stateful=True)
    st.build((3, 4, 5, 2))
    st.set_weights(layer.get_weights())
    halves = np.concatenate([_np(st(x[:, :2])), _np(st(x[:, 2:]))], axis=1)
    np.testing.assert_allclose(halves, np_conv_lstm(x, layer.get_weights(), 2, padding="same")[0], atol=2e-5)
    assert [tuple(v.shape) for v in st.states] == [(3, 5, 2), (3, 5, 2)]
    st.reset_states()
    assert not np.any(_np(st.states[1].value))


def test_dropout_only_in_training_and_seeded():
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 4, 2)).astype("float32")
    a = layers.ConvLSTM2D(2, 2, dropout=0.5, recurrent_dropout=0.5, seed=5)
    a.build(x.shape)
    plain = layers.ConvLSTM2D(2, 2)
    plain.build(x.shape)
    plain.set_weights(a.get_weights())
    np.testing.assert_allclose(_np(a(x)), _np(plain(x)), atol=1e-6)
    assert not np.allclose(_np(a(x, training=True)), _np(plain(x)))


def test_in_model_trains_and_round_trips(tmp_path):
    x = np.random.default_rng(5).standard_normal((8, 3, 6, 6, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3, 4)) > 0).astype("float32")[:, None]
    model = lamina.Sequential([lamina.Input((3, 6, 6, 1)), layers.ConvLSTM2D(2, 3, padding="same"),
                               layers.GlobalAveragePooling2D(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    hist = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = lamina.models.load_model(path)
    np.testing.assert_allclose(_np(loaded.predict(x, verbose=0)), _np(model.predict(x, verbose=0)), atol=1e-6)
    assert loaded.layers[0].get_config()["kernel_size"] == [3, 3]


def test_errors():
    with pytest.raises(ValueError, match=r"expects 5D inputs \(batch, timesteps, spatial..., channels\)"):
        layers.ConvLSTM2D(2, 3)(np.zeros((2, 3, 4, 4), "float32"))
    with pytest.raises(ValueError, match="strides > 1 cannot be combined with dilation_rate > 1"):
        layers.ConvLSTM1D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="filters"):
        layers.ConvLSTM1D(0, 3)
    with pytest.raises(ValueError, match="needs known spatial and channel dimensions"):
        lamina.Sequential([lamina.Input((3, None, 4, 2)), layers.ConvLSTM2D(2, 3)])
    with pytest.raises(ValueError, match="padding"):
        layers.ConvLSTM2D(2, 3, padding="causal")
    from lamina.layers.rnn.conv_lstm import ConvLSTMCell

    with pytest.raises(ValueError, match="expects step inputs of rank 3"):
        ConvLSTMCell(1, 2, 3).build((2, 4))
