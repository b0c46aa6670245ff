"""How many programs JAX compiles for training: one train step per batch shape, whatever the length of a fit or
of its last block of steps (a short fit before a long one must not leave a compile for the long one)."""

import numpy as np
import pytest

import lamina

pytestmark = pytest.mark.skipif(lamina.config.backend() != "jax", reason="JAX's compiled step functions")


def test_fits_of_any_length_share_one_compiled_train_step():
    rng = np.random.RandomState(0)
    x, y = rng.rand(50 * 32, 6).astype("float32"), rng.randint(0, 3, 50 * 32)
    model = lamina.Sequential([lamina.Input((6,)), lamina.layers.Dense(5, activation="relu"),
                               lamina.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x[:10 * 32], y[:10 * 32], batch_size=32, epochs=1, verbose=0)   # shorter than a block of 16
    fn = model._get_step("train")
    if not fn._pad_blocks:
        pytest.skip("steps run in one fused call per block here (an accelerator): each block length is a program")
    compiled = fn._fn1._cache_size() + fn._fn._cache_size()
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)   # blocks of 16, 16, 16 and 2
    assert fn._fn1._cache_size() + fn._fn._cache_size() == compiled == 1
    model.fit(x[:33], y[:33], batch_size=32, epochs=1, verbose=0)   # a 1-sample last batch: a new shape
    assert fn._fn1._cache_size() + fn._fn._cache_size() == 2
