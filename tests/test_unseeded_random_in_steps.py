"""Layers that draw random numbers with ``seed=None`` (Keras 2-era code: ``K.random_normal(shape)``) get new
numbers at every call of predict/evaluate/fit, as when run eagerly, and ``set_random_seed`` makes them repeatable.
(On JAX the draw happens inside a compiled step, whose trace must carry the global seed generator's state.)"""

import numpy as np
import pytest

import lamina


class _Noise(lamina.layers.Layer):
    def call(self, x):
        return x + lamina.random.normal(lamina.ops.shape(x))


def _noise_model():
    return lamina.Sequential([lamina.Input((3,)), _Noise()])


def _draws(seed):
    lamina.utils.set_random_seed(seed)
    model = _noise_model()
    x = np.zeros((4, 3), "float32")
    out = [model.predict(x, verbose=0) for _ in range(3)]
    out.append(lamina.ops.convert_to_numpy(lamina.random.normal((4, 3))))
    out.append(model.predict(x, batch_size=2, verbose=0))
    return out


def test_predict_draws_new_noise_each_call_and_reseeding_repeats_it():
    first, again = _draws(11), _draws(11)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    flat = [a.ravel() for a in first]
    for i in range(len(flat)):
        for j in range(i + 1, len(flat)):
            assert not np.allclose(flat[i], flat[j]), (i, j)
    # The two batches of the last predict got different noise too.
    assert not np.allclose(first[-1][:2], first[-1][2:])


def test_evaluate_and_fit_draw_new_noise_each_step():
    lamina.utils.set_random_seed(5)
    model = _noise_model()
    model.compile(optimizer=lamina.optimizers.SGD(0.0), loss="mse")
    x = np.zeros((8, 3), "float32")
    losses = [model.evaluate(x, x, batch_size=8, verbose=0) for _ in range(3)]
    assert len(set(np.round(losses, 7))) == 3, losses
    # The model has no trainable weights: fit says so, and still runs (metrics, non-trainable state).
    with pytest.warns(UserWarning, match="has no trainable weights"):
        history = model.fit(x, x, batch_size=8, epochs=3, verbose=0, shuffle=False)
    fit_losses = history.history["loss"]
    assert len(set(np.round(fit_losses, 7))) == 3, fit_losses
    # Unit-variance noise: the mean squared error over many draws is near 1.
    many = [model.evaluate(x, x, batch_size=8, verbose=0) for _ in range(40)]
    assert 0.7 < float(np.mean(many)) < 1.3
