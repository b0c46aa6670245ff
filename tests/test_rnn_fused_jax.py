"""JAX's fused LSTM (one scan with a hand-written backward pass, backend/jax/rnn.py): same outputs, final
states and gradients as the step-by-step path, for every argument that reaches it."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops

pytestmark = pytest.mark.skipif(lamina.config.backend() != "jax", reason="JAX's own LSTM kernel")


def _grads(layer, x, h0, c0, fused, return_sequences):
    import jax
    import jax.numpy as jnp

    from lamina.backend.common.scopes import StatelessScope

    layer.use_fused_kernel = fused
    tv = layer.trainable_variables

    def loss(weights, x, h0, c0):
        with StatelessScope(list(zip(tv, weights))):
            out, h, c = layer(x, initial_state=[h0, c0])
        w = jnp.arange(1, out.size + 1, dtype=out.dtype).reshape(out.shape) / out.size  # no symmetric cotangent
        return jnp.sum(out * w) + jnp.sum(h * 0.5) + jnp.sum(c * c)

    return jax.value_and_grad(loss, argnums=(0, 1, 2, 3))([v.value for v in tv], x, h0, c0)


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_values_and_gradients_match_the_step_by_step_path(return_sequences, go_backwards, use_bias):
    rng = np.random.RandomState(0)
    x = rng.randn(3, 7, 5).astype("float32")
    h0, c0 = rng.randn(3, 4).astype("float32"), rng.randn(3, 4).astype("float32")
    layer = layers.LSTM(4, return_sequences=return_sequences, return_state=True, go_backwards=go_backwards,
                        use_bias=use_bias)
    layer(x)
    (v1, g1) = _grads(layer, x, h0, c0, True, return_sequences)
    (v2, g2) = _grads(layer, x, h0, c0, False, return_sequences)
    np.testing.assert_allclose(float(v1), float(v2), rtol=1e-5)
    import jax

    for a, b in zip(jax.tree_util.tree_leaves(g1), jax.tree_util.tree_leaves(g2)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-4, atol=2e-5)


def test_the_fused_path_runs_with_and_without_masks(monkeypatch):
    from lamina.backend.jax import rnn as jrnn

    calls = []
    real = jrnn.rnn
    monkeypatch.setattr(jrnn, "rnn", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = np.random.RandomState(1).rand(2, 5, 3).astype("float32")
    layers.LSTM(3)(x)
    layers.Bidirectional(layers.LSTM(3, return_sequences=True))(x)
    layers.LSTM(3)(x, mask=np.array([[1, 0, 1, 0, 0], [1] * 5], bool))
    assert not calls
    layers.LSTM(3, activation="relu")(x)  # other math: the general scan
    assert calls


_MASKS = {"right": [[1] * 7, [1] * 4 + [0] * 3, [1] + [0] * 6],
          "left": [[1] * 7, [0] * 3 + [1] * 4, [0] * 7],           # a row with no step at all
          "holes": [[1, 0, 1, 1, 0, 1, 0], [0, 0, 1, 0, 1, 1, 1], [1] * 7]}


@pytest.mark.parametrize("masked", list(_MASKS))
@pytest.mark.parametrize("zero_output", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_masked_values_and_gradients_match_the_step_by_step_path(masked, zero_output, go_backwards):
    import jax
    import jax.numpy as jnp

    from lamina.backend.common.scopes import StatelessScope

    rng = np.random.RandomState(4)
    x = rng.randn(3, 7, 5).astype("float32")
    h0, c0 = rng.randn(3, 4).astype("float32"), rng.randn(3, 4).astype("float32")  # non-zero: shows which is emitted
    mask = np.array(_MASKS[masked], bool)
    layer = layers.LSTM(4, return_sequences=True, return_state=True, go_backwards=go_backwards)
    layer(x)
    layer.zero_output_for_mask = zero_output
    tv = layer.trainable_variables

    def run(fused):
        layer.use_fused_kernel = fused

        def loss(weights, x, h0, c0):
            with StatelessScope(list(zip(tv, weights))):
                out, h, c = layer(x, initial_state=[h0, c0], mask=mask)
            w = jnp.arange(1, out.size + 1, dtype=out.dtype).reshape(out.shape) / out.size
            return jnp.sum(out * w) + jnp.sum(h * 0.5) + jnp.sum(c * c), (out, h, c)

        return jax.value_and_grad(loss, argnums=(0, 1, 2, 3), has_aux=True)([v.value for v in tv], x, h0, c0)

    (v1, outs1), g1 = run(True)
    (v2, outs2), g2 = run(False)
    for a, b in zip(outs1, outs2):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    for a, b in zip(jax.tree_util.tree_leaves(g1), jax.tree_util.tree_leaves(g2)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-4, atol=2e-5)


def test_imdb_shaped_model_trains_the_same_on_both_paths():
    rng = np.random.RandomState(2)
    x, y = rng.randint(1, 50, (64, 12)), rng.randint(0, 2, (64, 1)).astype("float32")
    weights = []
    for fused in (True, False):
        lamina.utils.set_random_seed(4)
        model = lamina.Sequential([lamina.Input((12,), dtype="int32"), layers.Embedding(50, 8),
                                   layers.LSTM(6), layers.Dense(1, activation="sigmoid")])
        model.layers[1].use_fused_kernel = fused
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert ops.convert_to_numpy(model.predict(x[:2], verbose=0)).shape == (2, 1)


def _gru_grads(layer, x, h0, fused):
    import jax
    import jax.numpy as jnp

    from lamina.backend.common.scopes import StatelessScope

    layer.use_fused_kernel = fused
    tv = layer.trainable_variables

    def loss(weights, x, h0):
        with StatelessScope(list(zip(tv, weights))):
            out, h = layer(x, initial_state=[h0])
        w = jnp.arange(1, out.size + 1, dtype=out.dtype).reshape(out.shape) / out.size
        return jnp.sum(out * w) + jnp.sum(h * h)

    return jax.value_and_grad(loss, argnums=(0, 1, 2))([v.value for v in tv], x, h0)


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_gru_values_and_gradients_match_the_step_by_step_path(return_sequences, go_backwards, use_bias):
    import jax

    rng = np.random.RandomState(3)
    x = rng.randn(3, 7, 5).astype("float32")
    h0 = rng.randn(3, 4).astype("float32")
    layer = layers.GRU(4, return_sequences=return_sequences, return_state=True, go_backwards=go_backwards,
                       use_bias=use_bias)
    layer(x)
    if use_bias:  # non-zero recurrent biases, so the reset gate's product with them is checked too
        layer.cell.bias.assign(rng.randn(2, 12).astype("float32") * 0.3)
    v1, g1 = _gru_grads(layer, x, h0, True)
    v2, g2 = _gru_grads(layer, x, h0, False)
    np.testing.assert_allclose(float(v1), float(v2), rtol=1e-5)
    for a, b in zip(jax.tree_util.tree_leaves(g1), jax.tree_util.tree_leaves(g2)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-4, atol=2e-5)


def test_gru_reset_before_keeps_the_general_scan(monkeypatch):
    from lamina.backend.jax import rnn as jrnn

    calls = []
    real = jrnn.rnn
    monkeypatch.setattr(jrnn, "rnn", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = np.random.RandomState(1).rand(2, 5, 3).astype("float32")
    layers.GRU(3)(x)
    assert not calls
    layers.GRU(3, reset_after=False)(x)
    assert calls
