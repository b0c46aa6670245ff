"""predict on an array that fits in one batch skips the batching machinery (#9): same numbers as the general path."""

import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.training import data_adapters


def _two_outputs():
    inputs = lamina.Input((6,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    return lamina.Model(inputs, {"a": layers.Dense(2, name="a")(hidden), "b": layers.Dense(1, name="b")(hidden)})


@pytest.mark.parametrize("n", [1, 5, 32])
def test_small_predict_equals_the_general_path_and_skips_the_adapter(n, monkeypatch):
    model = _two_outputs()
    x = np.random.default_rng(0).standard_normal((n, 6)).astype("float32")
    general = model.predict(x, verbose=0, callbacks=[])  # callbacks given: the general path
    calls = []
    real = data_adapters.get_data_adapter
    monkeypatch.setattr(data_adapters, "get_data_adapter", lambda *a, **k: calls.append(1) or real(*a, **k))
    fast = model.predict(x, verbose=0)
    assert calls == []  # no data adapter: the fast path ran
    assert set(fast) == {"a", "b"} and fast["a"].shape == (n, 2) and isinstance(fast["b"], np.ndarray)
    for key in ("a", "b"):
        np.testing.assert_allclose(fast[key], general[key], rtol=1e-6, atol=1e-6)


def test_larger_inputs_and_other_kinds_take_the_general_path(monkeypatch):
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    calls = []
    real = data_adapters.get_data_adapter
    monkeypatch.setattr(data_adapters, "get_data_adapter", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = np.ones((40, 3), "float32")
    assert model.predict(x, verbose=0).shape == (40, 2)  # more than one batch
    assert model.predict(x[:4], verbose=0, batch_size=2).shape == (4, 2)  # more than the asked batch size
    assert model.predict(lamina.ops.ones((1, 3)), verbose=0).shape == (1, 2)  # an engine tensor, not an array
    assert len(calls) == 3
    with pytest.raises(ValueError):  # the general path's checks still apply to what it gets
        model.predict(np.ones((0, 3), "float32"), verbose=0)


def test_nested_python_lists_are_one_array():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    expected = model.predict(np.array([[1.0, 2.0, 3.0]], "float32"), verbose=0)
    np.testing.assert_allclose(model.predict([[1.0, 2.0, 3.0]], verbose=0), expected, rtol=1e-6)
