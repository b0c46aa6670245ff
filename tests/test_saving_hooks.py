"""Keras 3's saving hooks: ``save_own_variables``/``load_own_variables`` and ``save_assets``/``load_assets``."""

import os
import zipfile

import numpy as np
import pytest

import lamina
from lamina import layers


class _ScaleBase(layers.Layer):
    """Scales by a weight and keeps a lookup table (not a variable)."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.table = np.zeros((units,), "float32")
        self.labels = np.array([""] * units)

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform", name="w")

    def call(self, x):
        return lamina.ops.matmul(x, self.w) + lamina.ops.convert_to_tensor(self.table)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _save_table(self, store):
    layers.Layer.save_own_variables(self, store)
    store["table"] = self.table
    store["labels"] = self.labels


def _load_table(self, store):
    layers.Layer.load_own_variables(self, store)
    self.table = np.asarray(store["table"], "float32")
    self.labels = np.asarray(store["labels"])


# One class name ("Scaler", so one path in the file: layers/scaler), with and without the hooks.
TableScale = type("Scaler", (_ScaleBase,), {"save_own_variables": _save_table, "load_own_variables": _load_table})
PlainScale = type("Scaler", (_ScaleBase,), {})


class FlatKernel(layers.Dense):
    """Stores its kernel flattened under its own key name (a renamed, reshaped weight)."""

    def save_own_variables(self, store):
        store["kernel_flat"] = lamina.ops.convert_to_numpy(self.kernel).reshape(-1)
        store["bias"] = self.bias

    def load_own_variables(self, store):
        self.kernel.assign(np.asarray(store["kernel_flat"]).reshape(tuple(self.kernel.shape)))
        self.bias.assign(store["bias"])


class Vocab(layers.Layer):
    """Maps ids to themselves; keeps a vocabulary it saves as a text file asset."""

    calls = []

    def __init__(self, tokens=None, **kwargs):
        super().__init__(**kwargs)
        self.tokens = list(tokens or [])

    def call(self, x):
        return x * float(len(self.tokens))

    def save_assets(self, dir_path):
        Vocab.calls.append(("save", self.name))
        with open(os.path.join(dir_path, "vocabulary.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(self.tokens))

    def load_assets(self, dir_path):
        Vocab.calls.append(("load", self.name))
        with open(os.path.join(dir_path, "vocabulary.txt"), encoding="utf-8") as f:
            self.tokens = f.read().split("\n")


CUSTOM = {"Scaler": TableScale, "FlatKernel": FlatKernel, "Vocab": Vocab}


def _x(n=4, d=2):
    return np.random.default_rng(0).normal(size=(n, d)).astype("float32")


def _table_model(cls=TableScale):
    layer = cls(3, name="table_scale")
    model = lamina.Sequential([lamina.Input((2,)), layer])
    layer.table = np.array([1.0, -2.0, 0.5], "float32")
    layer.labels = np.array(["zéro", "one", "two"])
    return model, layer


def test_extra_arrays_round_trip_through_keras_file(tmp_path):
    model, layer = _table_model()
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = lamina.saving.load_model(path, custom_objects=CUSTOM)
    got = loaded.layers[-1]
    np.testing.assert_array_equal(got.table, layer.table)
    assert got.labels.tolist() == ["zéro", "one", "two"]
    np.testing.assert_allclose(loaded.predict(_x(), verbose=0), model.predict(_x(), verbose=0), rtol=1e-6)
    import h5py

    with zipfile.ZipFile(path) as zf, zf.open("model.weights.h5") as raw:
        with h5py.File(raw, "r") as f:
            assert sorted(f["layers/scaler/vars"]) == ["0", "labels", "table"]


def test_extra_arrays_in_weights_files_and_shards(tmp_path):
    model, layer = _table_model()
    for name, kwargs in (("w.weights.h5", {}), ("w.weights.json", {"max_shard_size": 1e-7})):
        fresh, _ = _table_model()
        model.save_weights(tmp_path / name, **kwargs)
        fresh.load_weights(tmp_path / name)
        np.testing.assert_array_equal(fresh.layers[-1].table, layer.table)
        np.testing.assert_array_equal(fresh.layers[-1].w.numpy(), layer.w.numpy())


def test_renamed_and_reshaped_weight(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), FlatKernel(4, name="flat")])
    model.save(tmp_path / "f.keras")
    loaded = lamina.saving.load_model(tmp_path / "f.keras", custom_objects=CUSTOM)
    np.testing.assert_array_equal(loaded.layers[-1].kernel.numpy(), model.layers[-1].kernel.numpy())
    with zipfile.ZipFile(tmp_path / "f.keras") as zf:
        assert "model.weights.h5" in zf.namelist()


def test_assets_vocabulary_round_trip(tmp_path):
    Vocab.calls.clear()
    model = lamina.Sequential([lamina.Input((2,)), Vocab(["the", "cat", "sät"], name="vocab")])
    path = tmp_path / "v.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        assert zf.read("assets/layers/vocab/vocabulary.txt").decode("utf-8") == "the\ncat\nsät"
    loaded = lamina.saving.load_model(path, custom_objects=CUSTOM)
    assert loaded.layers[-1].tokens == ["the", "cat", "sät"]
    assert ("load", loaded.layers[-1].name) in Vocab.calls
    np.testing.assert_allclose(loaded.predict(_x(), verbose=0), 3 * _x())


class Holder(lamina.Model):
    """A subclassed model holding a sub-model and a layer in attributes."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = lamina.Sequential([lamina.Input((2,)), TableScale(2, name="inner_table")], name="inner")
        self.vocab = Vocab(["x", "y"], name="held_vocab")

    def call(self, x):
        return self.vocab(self.inner(x))


def test_hooks_reach_layers_inside_sub_models(tmp_path):
    inner = lamina.Sequential([lamina.Input((2,)), TableScale(3, name="deep"), Vocab(["a", "b"], name="deep_vocab")],
                              name="inner")
    inp = lamina.Input((2,))
    outer = lamina.Model(inp, layers.Dense(1, name="head")(inner(inp)))
    inner.layers[0].table = np.array([3.0, 4.0, 5.0], "float32")
    path = tmp_path / "nested.keras"
    outer.save(path)
    with zipfile.ZipFile(path) as zf:
        assets = [n for n in zf.namelist() if n.startswith("assets/")]
    assert assets == ["assets/layers/sequential/layers/vocab/vocabulary.txt"]
    loaded = lamina.saving.load_model(path, custom_objects=CUSTOM)
    sub = loaded.get_layer("inner")
    np.testing.assert_array_equal(sub.get_layer("deep").table, [3.0, 4.0, 5.0])
    assert sub.get_layer("deep_vocab").tokens == ["a", "b"]
    np.testing.assert_allclose(loaded.predict(_x(), verbose=0), outer.predict(_x(), verbose=0), rtol=1e-6)


def test_hooks_in_subclassed_model_attributes(tmp_path):
    model = Holder()
    model(_x())
    model.inner.layers[0].table = np.array([7.0, 8.0], "float32")
    model.save_weights(tmp_path / "h.weights.h5")
    fresh = Holder()
    fresh(_x())
    fresh.load_weights(tmp_path / "h.weights.h5")
    np.testing.assert_array_equal(fresh.inner.layers[0].table, [7.0, 8.0])
    Vocab.calls.clear()
    lamina.saving.save_model(model, tmp_path / "h.keras")
    assert ("save", "held_vocab") in Vocab.calls
    with zipfile.ZipFile(tmp_path / "h.keras") as zf:
        # As Keras 3: the attribute `vocab` sorts after the model's `layers` (every layer it tracks: `inner`,
        # then `vocab`), so the layer is first reached, and filed, as layers/<class name>.
        assert "assets/layers/vocab/vocabulary.txt" in zf.namelist()


def test_missing_key_names_layer_key_and_keys_present(tmp_path):
    model, _ = _table_model(PlainScale)
    path = tmp_path / "plain.keras"
    model.save(path)
    with pytest.raises(ValueError, match=r"plain\.keras.*layer 'table_scale'.*'table'.*\['0'\]"):
        lamina.saving.load_model(path, custom_objects={"Scaler": TableScale})
    with pytest.raises(KeyError):  # also a KeyError, as a dict would raise
        lamina.saving.load_model(path, custom_objects={"Scaler": TableScale})


def test_file_with_extra_keys_loads_into_layer_without_hooks(tmp_path):
    model, layer = _table_model(TableScale)
    model.save(tmp_path / "t.keras")
    loaded = lamina.saving.load_model(tmp_path / "t.keras", custom_objects={"Scaler": PlainScale})
    np.testing.assert_array_equal(loaded.layers[-1].w.numpy(), layer.w.numpy())
    assert not loaded.layers[-1].table.any()  # the default hook reads only the weights


def test_default_hooks_match_weights_and_plain_dicts():
    dense = layers.Dense(2)
    dense.build((None, 3))
    store = {}
    dense.save_own_variables(store)
    assert list(store) == ["0", "1"]
    other = layers.Dense(2)
    other.build((None, 3))
    other.load_own_variables({k: np.asarray(v.numpy()) + 1 for k, v in store.items()})
    np.testing.assert_allclose(other.kernel.numpy(), dense.kernel.numpy() + 1)
    with pytest.raises(ValueError, match=r"Layer '.*dense.*' expected 2 saved weight arrays.*\['0'\]"):
        other.load_own_variables({"0": store["0"]})
    with pytest.raises(ValueError, match=r"saved weight '1' has shape \(3,\).*shape \(2,\)"):
        other.load_own_variables({"0": np.zeros((3, 2)), "1": np.zeros(3)})
    from lamina.saving.layer_store import SaveStore

    saved = SaveStore(dense)
    saved["tensor"] = lamina.ops.ones((2,)) * 2.0  # a tensor of either engine becomes a NumPy array
    saved["variable"] = dense.bias
    assert isinstance(saved["tensor"], np.ndarray) and saved["tensor"].tolist() == [2.0, 2.0]
    np.testing.assert_array_equal(saved["variable"], dense.bias.numpy())


def test_bad_key_and_value_are_clear_errors(tmp_path):
    class BadKey(_ScaleBase):
        def save_own_variables(self, store):
            store["a/b"] = 1.0

    class BadValue(_ScaleBase):
        def save_own_variables(self, store):
            store["x"] = {"not": "an array"}

    for cls, error, match in ((BadKey, ValueError, "key 'a/b'"), (BadValue, TypeError, "a dict under key 'x'")):
        model = lamina.Sequential([lamina.Input((2,)), cls(2, name="bad")])
        with pytest.raises(error, match=f"Layer 'bad'.*{match}"):
            model.save(tmp_path / "bad.keras")
        assert not (tmp_path / "bad.keras").exists()


def test_skip_mismatch_warns_for_failing_custom_hook(tmp_path):
    model, _ = _table_model(PlainScale)
    model.save_weights(tmp_path / "p.weights.h5")
    other, _ = _table_model(TableScale)
    with pytest.warns(UserWarning, match="Skipping the weights of layer 'table_scale'"):
        other.load_weights(tmp_path / "p.weights.h5", skip_mismatch=True)


class Escaper(Vocab):
    def save_assets(self, dir_path):
        with open(os.path.join(dir_path, "..", "escape.txt"), "w") as f:
            f.write("x")


class Linker(Vocab):
    def save_assets(self, dir_path):
        os.symlink("/etc/hostname", os.path.join(dir_path, "link.txt"))


@pytest.mark.parametrize("cls, match", [(Escaper, "outside the folder"), (Linker, "link")])
def test_assets_must_stay_in_their_folder(tmp_path, cls, match):
    good = tmp_path / "m.keras"
    lamina.Sequential([lamina.Input((2,)), Vocab(["a"])]).save(good)
    before = good.read_bytes()
    with pytest.raises(ValueError, match=f"Layer 'bad'.*{match}"):
        lamina.Sequential([lamina.Input((2,)), cls(["a"], name="bad")]).save(good)
    assert good.read_bytes() == before


@pytest.mark.parametrize("member", ["assets/layers/vocab/../../../escaped.txt", "assets/layers/vocab/.hidden",
                                    "assets/layers/vocab//abs.txt", "assets/layers/vocab/a\\..\\b.txt"])
def test_hostile_asset_names_are_refused(tmp_path, member):
    path = tmp_path / "v.keras"
    lamina.Sequential([lamina.Input((2,)), Vocab(["a"], name="vocab")]).save(path)
    evil = tmp_path / "evil.keras"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(evil, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr(member, b"owned")
    with pytest.raises(ValueError, match=r"evil\.keras.*unsafe name"):
        lamina.saving.load_model(evil, custom_objects=CUSTOM)
    assert not list(tmp_path.rglob("escaped*"))


class _NoAssetHooks(layers.Identity):
    """Takes Vocab's constructor arguments but keeps the default (do-nothing) asset hooks."""

    def __init__(self, tokens=None, **kwargs):
        super().__init__(**kwargs)
        self.tokens = tokens


def test_assets_of_layers_with_default_hooks_are_ignored(tmp_path):
    path = tmp_path / "v.keras"
    lamina.Sequential([lamina.Input((2,)), Vocab(["a", "b"], name="vocab")]).save(path)
    model = lamina.saving.load_model(path, custom_objects={"Vocab": _NoAssetHooks})
    assert isinstance(model.layers[-1], _NoAssetHooks)
    assert model.layers[-1].tokens == ["a", "b"]  # from the automatic config, the asset file is left unread


def test_docs_example_runs(capsys):
    import re
    from pathlib import Path

    doc = Path(__file__).resolve().parent.parent / "docs" / "saving.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)
    assert len(blocks) == 1
    exec(compile(blocks[0], doc.name, "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out.splitlines() == ["['cat', 'dog', 'emu'] [0.5, 1.5, 2.5]", "[[0.5, 2.5]]"]


def test_clashing_asset_members_are_refused(tmp_path):
    path = tmp_path / "v.keras"
    lamina.Sequential([lamina.Input((2,)), Vocab(["a"], name="vocab")]).save(path)
    clash = tmp_path / "clash.keras"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(clash, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("assets/layers/vocab/vocabulary.txt/inner.txt", b"x")
    with pytest.raises(ValueError, match=r"clash\.keras.*'assets/layers/vocab/vocabulary\.txt/inner\.txt'.*clashes"):
        lamina.saving.load_model(clash, custom_objects=CUSTOM)
