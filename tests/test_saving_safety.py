"""Hostile, damaged and foreign files are refused with a clear error; saving never destroys a good file."""

import io
import json
import os
import subprocess
import sys
import zipfile

import h5py
import numpy as np
import pytest
from saving_fixtures import keras3_config, reference_weights, write_keras3_file

import lamina
from lamina import layers
from lamina.saving import keras_archive


def double(x):
    return x * 2


def _lambda_model():
    inp = lamina.Input((3,))
    return lamina.Model(inp, layers.Dense(2, name="d")(layers.Lambda(double, name="lam")(inp)))


def _saved(tmp_path, name="good.keras"):
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2, name="d")])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), verbose=0)
    path = tmp_path / name
    lamina.saving.save_model(model, path)
    return model, path


def _rewrite(src, dst, replace=None, drop=(), add=()):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info.filename)
            if replace and info.filename in replace:
                data = replace[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in add:
            zout.writestr(name, data)


def test_lambda_layer_refused_in_safe_mode_and_needs_registration(tmp_path):
    model = _lambda_model()
    lamina.saving.save_model(model, tmp_path / "lam.keras")
    with pytest.raises(ValueError, match=r"lam\.keras.*Lambda layer \('lam'\).*safe_mode=False"):
        lamina.models.load_model(tmp_path / "lam.keras")
    with pytest.raises(ValueError, match="not a registered object"):
        lamina.models.load_model(tmp_path / "lam.keras", safe_mode=False)
    loaded = lamina.models.load_model(tmp_path / "lam.keras", safe_mode=False, custom_objects={"double": double})
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_lambda_in_legacy_h5_refused(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        lamina.saving.save_model(_lambda_model(), tmp_path / "lam.h5")
    with pytest.raises(ValueError, match=r"lam\.h5.*Lambda layer"):
        lamina.models.load_model(tmp_path / "lam.h5")


def test_serialized_bytecode_refused_even_without_safe_mode(tmp_path):
    config = keras3_config()
    config["config"]["layers"][2]["config"]["activation"] = {
        "class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAA", "defaults": None, "closure": None}}
    write_keras3_file(tmp_path / "evil.keras", *reference_weights(), config=config)
    for safe in (True, False):
        with pytest.raises(ValueError, match=r"evil\.keras.*bytecode.*never runs"):
            lamina.models.load_model(tmp_path / "evil.keras", safe_mode=safe)


@pytest.mark.parametrize("entry", [
    {"module": "os", "class_name": "system", "config": {"command": "touch pwned"}, "registered_name": None},
    {"module": "keras.config", "class_name": "enable_unsafe_deserialization", "config": {}},
    {"module": "builtins", "class_name": "eval", "config": {"source": "1"}, "registered_name": "eval"},
])
def test_config_cannot_name_modules_or_functions(tmp_path, entry):
    config = keras3_config()
    config["config"]["layers"].insert(1, entry)
    write_keras3_file(tmp_path / "evil.keras", *reference_weights(), config=config)
    with pytest.raises(ValueError, match=rf"evil\.keras.*Could not find class '{entry['class_name']}'"):
        lamina.models.load_model(tmp_path / "evil.keras")
    assert not os.path.exists("pwned")


def test_unknown_custom_class_names_the_fix(tmp_path):
    config = keras3_config()
    config["config"]["layers"][3] = {"module": "mypkg", "class_name": "MyDropout", "registered_name": "my>MyDropout",
                                     "config": {"name": "dropout", "rate": 0.2}}
    write_keras3_file(tmp_path / "c.keras", *reference_weights(), config=config)
    with pytest.raises(ValueError, match="my>MyDropout.*register_serializable.*custom_objects"):
        lamina.models.load_model(tmp_path / "c.keras")
    model = lamina.models.load_model(tmp_path / "c.keras", custom_objects={"my>MyDropout": layers.Dropout})
    assert model.layers[2].name == "dropout"


def test_member_names_are_never_paths(tmp_path):
    _, good = _saved(tmp_path)
    evil = tmp_path / "sub" / "evil.keras"
    evil.parent.mkdir()
    _rewrite(good, evil, add=[("../../escaped.txt", b"x"), ("/tmp/abs_escaped.txt", b"x"),
                              ("assets/../../../escaped2.txt", b"x")])
    lamina.models.load_model(evil)
    assert not list(tmp_path.rglob("escaped*")) and not os.path.exists("/tmp/abs_escaped.txt")


def test_huge_declared_shape_refused_before_reading(tmp_path):
    _, good = _saved(tmp_path)

    def huge(data):
        buf = io.BytesIO(data)
        with h5py.File(buf, "r+") as f:
            del f["layers/dense/vars/0"]
            f["layers/dense/vars"].create_dataset("0", shape=(1 << 20, 1 << 20), dtype="f4")  # 4 TiB, unallocated
        return buf.getvalue()

    _rewrite(good, tmp_path / "huge.keras", replace={"model.weights.h5": huge})
    with pytest.raises(ValueError, match=r"huge\.keras.*'layers/dense/vars/0' has shape \(1048576, 1048576\).*\(3, 2\)"):
        lamina.models.load_model(tmp_path / "huge.keras")


def test_unallocated_dataset_refused(tmp_path):
    _, good = _saved(tmp_path)

    def empty(data):
        buf = io.BytesIO(data)
        with h5py.File(buf, "r+") as f:
            del f["layers/dense/vars/0"]
            f["layers/dense/vars"].create_dataset("0", shape=(3, 2), dtype="f4")
        return buf.getvalue()

    _rewrite(good, tmp_path / "e.keras", replace={"model.weights.h5": empty})
    with pytest.raises(ValueError, match="declares 24 bytes but stores 0"):
        lamina.models.load_model(tmp_path / "e.keras")


def test_zip_bomb_refused(tmp_path):
    _, good = _saved(tmp_path)
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = zin.read(name)
            zout.writestr(name, data + b" " * (16 << 20) if name == "config.json" else data)
    with pytest.raises(ValueError, match=r"bomb\.keras.*'config.json' expands"):
        lamina.models.load_model(bomb)


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[: len(b) // 2], "not a zip archive|corrupt or truncated"),
    (lambda b: b"GARBAGE!" * 100, "neither a '.keras' zip archive nor an HDF5 file"),
    (lambda b: b"", "neither"),
])
def test_truncated_or_foreign_files(tmp_path, damage, message):
    _, good = _saved(tmp_path)
    bad = tmp_path / "bad.keras"
    bad.write_bytes(damage(good.read_bytes()))
    with pytest.raises(ValueError, match=rf"bad\.keras.*({message})"):
        lamina.models.load_model(bad)


@pytest.mark.parametrize("kind", ["bad_json", "no_weights", "bad_h5", "not_a_model"])
def test_broken_members(tmp_path, kind):
    _, good = _saved(tmp_path)
    bad = tmp_path / "b.keras"
    if kind == "bad_json":
        _rewrite(good, bad, replace={"config.json": lambda d: d[:-5]})
        match = "config.json is not valid JSON"
    elif kind == "no_weights":
        _rewrite(good, bad, drop={"model.weights.h5"})
        match = "has no 'model.weights.h5'"
    elif kind == "bad_h5":
        _rewrite(good, bad, replace={"model.weights.h5": lambda d: b"\x00" * 64})
        match = "not a readable HDF5 file"
    else:
        _rewrite(good, bad, replace={"config.json": lambda d: json.dumps([1, 2]).encode()})
        match = "not an object config"
    with pytest.raises(ValueError, match=rf"b\.keras.*{match}"):
        lamina.models.load_model(bad)


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    model, path = _saved(tmp_path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(keras_archive.shutil, "copyfileobj", boom)
    with pytest.raises(OSError, match="disk full"):
        lamina.saving.save_model(model, path)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["good.keras"]
    lamina.models.load_model(path)


def test_killed_save_keeps_previous_file(tmp_path):
    _, path = _saved(tmp_path)
    before = path.read_bytes()
    marker = tmp_path / "started"
    script = (
        "import sys, time, lamina, shutil\n"
        "from lamina.saving import keras_archive\n"
        "def slow(src, dst, n=0):\n"
        "    dst.write(src.read(100)); open(sys.argv[2], 'w').close(); time.sleep(60)\n"
        "keras_archive.shutil = type('S', (), {'copyfileobj': staticmethod(slow)})\n"
        "m = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(5)])\n"
        "lamina.saving.save_model(m, sys.argv[1])\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(path), str(marker)])
    try:
        for _ in range(600):
            if marker.exists() or proc.poll() is not None:
                break
            import time

            time.sleep(0.1)
        assert marker.exists(), "the child never reached the middle of save"
    finally:
        proc.kill()
        proc.wait()
    assert path.read_bytes() == before
    assert lamina.models.load_model(path).layers[0].units == 2


def test_fuzzed_files_load_or_raise_value_error(tmp_path):
    _, good = _saved(tmp_path)
    data = bytearray(good.read_bytes())
    rng = np.random.default_rng(0)
    outcomes = {"ok": 0, "error": 0}
    for i in range(40):
        mutated = bytearray(data)
        for pos in rng.integers(0, len(data), size=int(rng.integers(1, 8))):
            mutated[pos] = int(rng.integers(0, 256))
        path = tmp_path / f"fuzz{i}.keras"
        path.write_bytes(bytes(mutated))
        try:
            lamina.models.load_model(path)
            outcomes["ok"] += 1
        except ValueError:
            outcomes["error"] += 1
    assert outcomes["error"] > 0
