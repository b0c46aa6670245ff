"""Successive ``fit`` calls shuffle the data in different orders (as Keras: a loop of ``fit(epochs=1)`` calls is
not the same epoch repeated), and ``set_random_seed`` makes the whole sequence repeatable."""

import numpy as np

import lamina
from lamina.training import loop_utils


def _trained_after_two_fits(seed):
    lamina.utils.set_random_seed(seed)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = (x ** 2).sum(axis=1, keepdims=True).astype("float32")
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(4, activation="tanh"),
                               lamina.layers.Dense(1)])
    model.compile(optimizer=lamina.optimizers.SGD(0.05), loss="mse")
    start = model.get_weights()
    model.fit(x, y, batch_size=1, epochs=1, shuffle=True, verbose=0)
    first = model.get_weights()
    model.set_weights(start)
    model.fit(x, y, batch_size=1, epochs=1, shuffle=True, verbose=0)  # same start, the next call's order
    second = model.get_weights()
    return first, second


def test_two_fit_calls_from_the_same_weights_see_different_orders_and_a_seed_repeats_them():
    first, second = _trained_after_two_fits(4)
    assert any(not np.allclose(a, b) for a, b in zip(first, second))
    again_first, again_second = _trained_after_two_fits(4)
    for a, b in zip(first + second, again_first + again_second):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_host_seed_advances_and_follows_set_random_seed():
    lamina.utils.set_random_seed(21)
    seeds = [loop_utils.host_seed() for _ in range(4)]
    assert len(set(seeds)) == 4
    lamina.utils.set_random_seed(21)
    assert [loop_utils.host_seed() for _ in range(4)] == seeds
