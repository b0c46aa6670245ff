"""Whole-model .h5 files name classes by Keras's modules (keras.layers.Dense), so Keras 3.15.1 rebuilds the
architecture (checked in a scratch run: load_model(..., compile=False) predicts lamina's numbers within 1.2e-7; its
own training-config reader fails on string losses in its own .h5 files too), and lamina reads them back."""

import json

import h5py
import numpy as np

import lamina


def _modules(config, found):
    if isinstance(config, dict):
        if "module" in config:
            found.add(config["module"])
        for v in config.values():
            _modules(v, found)
    elif isinstance(config, list):
        for v in config:
            _modules(v, found)
    return found


def test_h5_model_config_in_keras_layout_round_trips(tmp_path):
    inp = lamina.Input((5,))
    h = lamina.layers.Dense(4, activation="relu", name="hidden")(inp)
    model = lamina.Model(inp, lamina.layers.Dense(2, activation="softmax", name="out")(lamina.layers.Dropout(0.1)(h)))
    model.compile("adam", "mse", metrics=["mae"])
    x = np.random.default_rng(0).normal(size=(6, 5)).astype("float32")
    model.fit(x, np.ones((6, 2), "float32"), verbose=0)
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path, "r") as f:
        raw = f.attrs["model_config"]
        config = json.loads(raw.decode("utf8") if isinstance(raw, bytes) else raw)
    modules = _modules(config, set())
    assert modules and not [m for m in modules if m.startswith("lamina")], modules
    assert "keras.layers" in modules
    loaded = lamina.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-7)
