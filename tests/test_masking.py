"""Keras masks (the masking and padding guide): a mask made by ``Embedding(mask_zero=True)`` or ``Masking``
rides on the tensors (``x._keras_mask``), reaches the ``mask=`` argument of later layers (eagerly, while a
functional model is built, and when it runs), and leaves the padded steps out of the loss and the metrics of
``fit``/``evaluate``."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops

X = np.array([[3, 4, 0, 0], [1, 2, 3, 0]])


def _masked_model():
    i = lamina.Input((None,), dtype="int32")
    m = lamina.Model(i, layers.Dense(1)(layers.Embedding(20, 3, mask_zero=True)(i)))
    m.compile("sgd", "mse", metrics=["mae"])
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=w.shape).astype("float32") for w in m.get_weights()]
    m.set_weights(weights)
    return m, weights


def test_evaluate_leaves_padded_steps_out_of_the_loss_and_metrics():
    model, (emb, kernel, bias) = _masked_model()
    y = np.ones((2, 4, 1), "float32")
    pred = (emb[X] @ kernel + bias)[..., 0]
    keep = X != 0
    loss, mae = model.evaluate(X, y, verbose=0)
    assert loss == pytest.approx(((pred - 1) ** 2)[keep].mean(), rel=1e-5)
    assert mae == pytest.approx(np.abs(pred - 1)[keep].mean(), rel=1e-5)
    assert loss != pytest.approx(((pred - 1) ** 2).mean(), rel=1e-3)  # the padded steps would change it


def test_fit_trains_on_unmasked_steps_only():
    model, _ = _masked_model()
    y = np.ones((2, 4, 1), "float32")
    y_padded = y.copy()
    y_padded[X == 0] = 1e3  # targets under the mask: they must not matter
    model.fit(X, y_padded, epochs=3, verbose=0, shuffle=False)
    after = model.get_weights()
    twin, _ = _masked_model()
    twin.fit(X, y, epochs=3, verbose=0, shuffle=False)
    for a, b in zip(after, twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_eager_outputs_carry_their_masks():
    emb = layers.Embedding(10, 2, mask_zero=True)
    out = emb(X)
    assert ops.convert_to_numpy(out._keras_mask).tolist() == (X != 0).tolist()
    masked = layers.Masking(0.0)(np.array([[[0.0], [1.0], [0.0]]], "float32"))
    assert ops.convert_to_numpy(masked._keras_mask).tolist() == [[False, True, False]]
    dense = layers.Dense(3)(out)  # a layer that supports masking passes it on
    assert ops.convert_to_numpy(dense._keras_mask).tolist() == (X != 0).tolist()


def test_a_custom_layer_receives_the_mask_as_in_the_guide():
    seen = []

    class TemporalSoftmax(layers.Layer):
        def call(self, inputs, mask=None):
            assert mask is not None  # the guide's check, true while the model is built and when it runs
            seen.append(mask)
            weights = ops.cast(mask, "float32")[..., None]
            e = ops.exp(inputs) * weights
            return e / ops.sum(e, axis=1, keepdims=True)

    inp = lamina.Input((None,), dtype="int32")
    x = layers.Dense(1)(layers.Embedding(10, 4, mask_zero=True)(inp))
    model = lamina.Model(inp, TemporalSoftmax()(x))
    out = ops.convert_to_numpy(model(np.array([[1, 2, 0]])))
    assert out[0, 2, 0] == 0.0 and out[0, :2, 0].sum() == pytest.approx(1.0, rel=1e-5)
    assert ops.convert_to_numpy(seen[-1]).tolist() == [[True, True, False]]
    eager = TemporalSoftmax()(layers.Dense(1)(layers.Embedding(10, 4, mask_zero=True)(np.array([[5, 0]]))))
    assert ops.convert_to_numpy(eager)[0, 1, 0] == 0.0


def test_an_lstm_called_eagerly_skips_masked_steps():
    emb = layers.Embedding(10, 3, mask_zero=True)
    lstm = layers.LSTM(2)
    padded = lstm(emb(np.array([[4, 5, 0, 0]])))
    short = lstm(emb(np.array([[4, 5]])))
    np.testing.assert_allclose(ops.convert_to_numpy(padded), ops.convert_to_numpy(short), rtol=1e-5, atol=1e-6)
