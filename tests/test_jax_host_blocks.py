"""On the CPU, JAX's training and prediction take their batches on the host into 64-byte-aligned arrays, which
XLA reads in place; the numbers are those of a plain ``np.take`` of the same batches."""

import numpy as np
import pytest

import lamina

pytestmark = pytest.mark.skipif(lamina.config.backend() != "jax", reason="JAX's host-side batch gathering")


def _trainer():
    from lamina.backend.jax import trainer

    return trainer


@pytest.mark.parametrize("dtype", ["float32", "int32", "uint8", "float64", "bool"])
def test_take_aligned_equals_np_take_and_is_aligned(dtype):
    rng = np.random.RandomState(0)
    a = (rng.rand(101, 3, 5) * 100).astype(dtype)[:, :, 1:]   # a view: not contiguous, not aligned
    idx = rng.randint(0, 101, (4, 7))
    out = _trainer()._take_aligned(a, idx)
    np.testing.assert_array_equal(out, np.take(a, idx, axis=0))
    assert out.dtype == a.dtype and out.shape == (4, 7, 3, 4)
    assert out.ctypes.data % 64 == 0


def test_take_aligned_keeps_object_arrays():
    a = np.array(["a", "bb", "ccc"], dtype=object)
    np.testing.assert_array_equal(_trainer()._take_aligned(a, np.array([2, 0])), np.array(["ccc", "a"], object))


def _fit_and_predict(x, y):
    lamina.utils.set_random_seed(3)
    model = lamina.Sequential([lamina.Input((6,)), lamina.layers.Dense(8, activation="relu"),
                               lamina.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.25)
    return model.get_weights(), hist.history, model.predict(x, batch_size=16, verbose=0)


def test_training_on_aligned_blocks_equals_training_on_plain_copies(monkeypatch):
    import jax

    if jax.default_backend() != "cpu":
        pytest.skip("batches are gathered on the device there")
    rng = np.random.RandomState(1)
    x, y = rng.rand(40 * 16, 6).astype("float32"), rng.randint(0, 3, 40 * 16)
    trainer = _trainer()
    calls, aligned = [], trainer._take_aligned
    monkeypatch.setattr(trainer, "_take_aligned", lambda a, idx: calls.append(1) or aligned(a, idx))
    weights, history, pred = _fit_and_predict(x, y)
    assert calls   # the fit and the predict above took their batches so (on the CPU)
    monkeypatch.setattr(trainer, "_take_aligned", lambda a, idx: np.take(a, idx, axis=0))
    weights2, history2, pred2 = _fit_and_predict(x, y)
    for w, w2 in zip(weights, weights2):
        np.testing.assert_array_equal(w, w2)
    assert history == history2
    np.testing.assert_array_equal(pred, pred2)
