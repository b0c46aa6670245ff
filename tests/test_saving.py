"""Saving and loading: .keras round trips, resuming training, weights files, the Keras 2 .h5 format."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import lamina
from lamina import layers


def _mlp(dropout=False):
    stack = [lamina.Input((4,)), layers.Dense(8, activation="relu", name="hidden")]
    if dropout:
        stack.append(layers.Dropout(0.3))
    stack.append(layers.Dense(3, activation="softmax", name="out"))
    return lamina.Sequential(stack, name="mlp")


def _data(n=32):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, n)


def _predict(model, x):
    return model.predict(x, verbose=0)


def test_keras_round_trip_sequential(tmp_path):
    model = _mlp(dropout=True)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _data()
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    lamina.saving.save_model(model, path)
    loaded = lamina.models.load_model(path)
    assert type(loaded) is lamina.Sequential and [l.name for l in loaded.layers] == [l.name for l in model.layers]
    np.testing.assert_array_equal(_predict(model, x), _predict(loaded, x))
    assert loaded.compiled and type(loaded.optimizer).__name__ == "Adam"
    assert loaded.loss == "sparse_categorical_crossentropy"
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a.numpy()), np.asarray(b.numpy()))
    assert loaded.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss", "accuracy"}


def test_keras_round_trip_functional_and_no_compile(tmp_path):
    a, b = lamina.Input((3,), name="a"), lamina.Input((2,), name="b")
    shared = layers.Dense(4, name="shared")
    h = layers.Dense(4, name="hb")(b)
    out = layers.Dense(1, name="head")(lamina.ops.concatenate([shared(a), h], axis=-1))
    model = lamina.Model([a, b], out, name="two_in")
    xs = [np.ones((2, 3), "float32"), np.full((2, 2), 0.5, "float32")]
    lamina.saving.save_model(model, tmp_path / "f.keras")
    loaded = lamina.models.load_model(tmp_path / "f.keras", compile=False)
    assert not loaded.compiled
    np.testing.assert_allclose(_predict(model, xs), _predict(loaded, xs), rtol=1e-6)


@lamina.saving.register_serializable(package="test_saving")
class TwoDense(lamina.Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.first = layers.Dense(5, activation="tanh")
        self.heads = [layers.Dense(units, name="head_a"), layers.Dense(units, name="head_b")]

    def call(self, x):
        h = self.first(x)
        return self.heads[0](h) + self.heads[1](h)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_subclassed_model_round_trip_uses_attribute_paths(tmp_path):
    model = TwoDense(units=2)
    model.build((None, 4))
    x, _ = _data(4)
    lamina.saving.save_model(model, tmp_path / "s.keras")
    import h5py
    import zipfile

    with zipfile.ZipFile(tmp_path / "s.keras") as zf, h5py.File(zf.open("model.weights.h5"), "r") as f:
        assert f["first/vars/0"].shape == (4, 5)
        assert f["heads/dense_1/vars/0"].shape == (5, 2)
    loaded = lamina.models.load_model(tmp_path / "s.keras")
    assert isinstance(loaded, TwoDense) and loaded.units == 2
    np.testing.assert_allclose(_predict(model, x), _predict(loaded, x), rtol=1e-6)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_resume_training_after_load_is_exact(tmp_path, optimizer):
    x, y = _data(48)
    first = _mlp()
    initial = first.get_weights()
    first.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    first.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    lamina.saving.save_model(first, tmp_path / "ckpt.keras")
    resumed = lamina.models.load_model(tmp_path / "ckpt.keras")
    resumed.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)

    straight = _mlp()
    straight.set_weights(initial)
    straight.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    straight.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert int(resumed.optimizer.iterations.numpy()) == int(straight.optimizer.iterations.numpy()) == 9


def test_file_loads_on_the_other_backend(tmp_path, backend_name):
    other = "jax" if backend_name == "torch" else "torch"
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _data(16)
    model.fit(x, y, epochs=1, verbose=0)
    lamina.saving.save_model(model, tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", x)
    script = ("import numpy as np, lamina, sys; p = sys.argv[1]; m = lamina.models.load_model(p + '/m.keras');"
              "np.save(p + '/y.npy', m.predict(np.load(p + '/x.npy'), verbose=0));"
              "m.save(p + '/back.keras') if hasattr(m, 'save') else lamina.saving.save_model(m, p + '/back.keras')")
    env = dict(os.environ, LAMINA_BACKEND=other)
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, check=True, timeout=300)
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), _predict(model, x), rtol=1e-5, atol=1e-6)
    back = lamina.models.load_model(tmp_path / "back.keras")
    np.testing.assert_allclose(_predict(back, x), _predict(model, x), rtol=1e-6)


def test_save_and_load_weights_keras3_layout(tmp_path):
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(*_data(16), epochs=1, verbose=0)
    lamina.saving.save_weights(model, tmp_path / "w.weights.h5")
    fresh = _mlp()
    lamina.saving.load_weights(fresh, tmp_path / "w.weights.h5")
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)
    other = _mlp()
    lamina.saving.load_weights(other, tmp_path / "w.weights.h5")  # also from a .keras archive:
    lamina.saving.save_model(model, tmp_path / "m.keras")
    lamina.saving.load_weights(other, tmp_path / "m.keras")
    np.testing.assert_array_equal(other.get_weights()[0], model.get_weights()[0])


def test_load_weights_mismatch_and_skip_mismatch(tmp_path):
    model = _mlp()
    lamina.saving.save_weights(model, tmp_path / "w.weights.h5")
    wider = lamina.Sequential([lamina.Input((4,)), layers.Dense(9, name="hidden"), layers.Dense(3, name="out")])
    before = wider.get_weights()
    with pytest.raises(ValueError, match=r"w\.weights\.h5.*shape \(4, 8\).*hidden.*\(4, 9\)"):
        lamina.saving.load_weights(wider, tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(wider.get_weights()[0], before[0])  # nothing half-assigned
    with pytest.warns(UserWarning, match="Skipping the weights of layer") as record:
        lamina.saving.load_weights(wider, tmp_path / "w.weights.h5", skip_mismatch=True)
    assert sorted(str(r.message).split("'")[1] for r in record) == ["hidden", "out"]


def test_legacy_h5_round_trip_and_layout(tmp_path):
    import h5py

    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _data(16)
    model.fit(x, y, epochs=1, verbose=0)
    with pytest.warns(DeprecationWarning, match=r"\.keras"):
        lamina.models.save_model(model, tmp_path / "my_model.h5")
    with h5py.File(tmp_path / "my_model.h5", "r") as f:
        assert {"model_config", "keras_version", "backend", "training_config"} <= set(f.attrs)
        assert f["model_weights/hidden/hidden/kernel:0"].shape == (4, 8)
        assert [n.decode() for n in f["model_weights"].attrs["layer_names"]] == ["hidden", "out"]
        # fixed-length strings, as tf.keras wrote: HDF5's variable-length heap can hang on a damaged file
        assert f.attrs.get_id("model_config").dtype.kind == "S"
    loaded = lamina.models.load_model(tmp_path / "my_model.h5")
    np.testing.assert_array_equal(_predict(model, x), _predict(loaded, x))
    assert loaded.compiled
    np.testing.assert_array_equal(np.asarray(loaded.optimizer.iterations.numpy()), 1)


def test_legacy_weights_only_h5(tmp_path):
    model = _mlp()
    lamina.saving.save_weights(model, tmp_path / "w.h5")
    fresh = _mlp()
    lamina.saving.load_weights(fresh, tmp_path / "w.h5")
    np.testing.assert_array_equal(fresh.get_weights()[2], model.get_weights()[2])
    with pytest.raises(ValueError, match="holds only weights"):
        lamina.models.load_model(tmp_path / "w.h5")


def test_save_arguments_are_checked(tmp_path):
    model = _mlp()
    lamina.saving.save_model(model, tmp_path / "m.keras")
    with pytest.raises(ValueError, match="overwrite=False"):
        lamina.saving.save_model(model, tmp_path / "m.keras", overwrite=False)
    with pytest.raises(ValueError, match="unsupported file name 'm.txt'|'.keras'"):
        lamina.saving.save_model(model, "m.txt")
    with pytest.raises(ValueError, match="weights-only"):
        lamina.saving.save_model(model, tmp_path / "m.weights.h5")
    with pytest.raises(ValueError, match="must end in '.weights.h5'"):
        lamina.saving.save_weights(model, tmp_path / "w.bin")
    with pytest.raises(FileNotFoundError, match="nothing.keras"):
        lamina.models.load_model(tmp_path / "nothing.keras")
    with pytest.raises(ValueError, match="SavedModel"):
        lamina.models.load_model(tmp_path)


@pytest.mark.skipif(not hasattr(lamina.Model, "save"), reason="SavingMixin not yet a base of Model")
def test_model_methods(tmp_path):
    model = _mlp()
    model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "w.weights.h5")
    fresh = _mlp()
    fresh.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(fresh.get_weights()[0], model.get_weights()[0])
    assert model.get_compile_config()["loss"] == "mse"
    fresh.compile_from_config(model.get_compile_config())
    assert type(fresh.optimizer).__name__ == "SGD"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model.save(tmp_path / "m.h5")
    assert lamina.models.load_model(tmp_path / "m.h5").compiled


def test_weights_load_into_a_second_instance_whose_layers_have_other_names(tmp_path):
    def build():
        return lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(4), lamina.layers.Dense(2)])

    first = build()
    path = str(tmp_path / "w.weights.h5")
    first.save_weights(path)
    second = build()  # its layers are dense_2, dense_3: keys are by class, not by name
    assert [l.name for l in second.layers] != [l.name for l in first.layers]
    second.load_weights(path)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_convnext_block_file_loads_in_a_fresh_process(tmp_path, backend_name):
    # Keras saves ConvNeXt's LayerScale/StochasticDepth under their bare class names; a process that has not
    # built a ConvNeXt must still find them (they were registered only when lamina.applications._blocks loaded)
    from lamina.applications._blocks import LayerScale, StochasticDepth

    inp = lamina.Input((4, 4, 3))
    out = StochasticDepth(0.1)(LayerScale(0.5, 3)(layers.Conv2D(3, 1)(inp)))
    model = lamina.Model(inp, out)
    x = np.random.default_rng(0).random((2, 4, 4, 3)).astype("float32")
    lamina.saving.save_model(model, tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", x)
    script = ("import numpy as np, lamina, sys; p = sys.argv[1]; m = lamina.models.load_model(p + '/m.keras');"
              "np.save(p + '/y.npy', m.predict(np.load(p + '/x.npy'), verbose=0))")
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=dict(os.environ), check=True, timeout=300)
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), _predict(model, x), rtol=1e-5, atol=1e-6)
