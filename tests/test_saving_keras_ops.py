"""Keras 3 ``.keras`` files whose Functional graph holds op nodes (``x + y``, ``ops.concatenate``...).

The fixtures in tests/fixtures_keras_ops/ were written by Keras 3.15.1
(``make_fixtures.py`` there); ``expected.npz`` holds the inputs and Keras's
predictions. These tests need no Keras; the last one regenerates the files with
Keras when it is installed.
"""

import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import lamina
from lamina.saving.keras_op_nodes import adapt_op_entry

FIXTURES = pathlib.Path(__file__).parent / "fixtures_keras_ops"


def _inputs(data, name):
    return [data["x"], data["y"]] if name == "graph_ops" else data["image"]


def _check_predictions(folder, name):
    data = np.load(folder / "expected.npz")
    model = lamina.models.load_model(folder / f"{name}.keras")  # safe_mode=True, the default
    np.testing.assert_allclose(model.predict(_inputs(data, name), verbose=0), data[name], rtol=1e-5, atol=1e-6)
    return model, data


def _rewrite_config(src, dst, edit):
    """Copy the archive ``src`` to ``dst`` with ``edit(config)`` applied to its config.json."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            payload = zin.read(item)
            if item == "config.json":
                config = json.loads(payload)
                edit(config)
                payload = json.dumps(config).encode()
            zout.writestr(item, payload)


def _op_entry(config, class_name):
    return next(entry for entry in config["config"]["layers"] if entry["class_name"] == class_name)


@pytest.mark.parametrize("name", ["graph_ops", "residual_ops"])
def test_keras3_op_graph_loads_with_keras_predictions(name):
    model, _ = _check_predictions(FIXTURES, name)
    # Op nodes are graph operations, not layers: only Keras's layers carry weights.
    expected_layers = {"graph_ops": ["x", "d1", "y", "fl", "d2"],
                       "residual_ops": ["image", "dw", "ln", "pw1", "gelu", "pw2", "head"]}[name]
    assert [layer.name for layer in model.layers] == expected_layers


def test_loaded_op_graph_trains_and_resaves(tmp_path):
    model, data = _check_predictions(FIXTURES, "residual_ops")
    assert type(model.optimizer).__name__ == "Adam" and int(model.optimizer.iterations.numpy()) == 1
    model.fit(data["image"], np.eye(2, dtype="float32")[[0, 1, 0]], epochs=1, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 2
    model.save(tmp_path / "again.keras")
    again = lamina.models.load_model(tmp_path / "again.keras")
    np.testing.assert_allclose(again.predict(data["image"], verbose=0), model.predict(data["image"], verbose=0),
                               rtol=1e-6, atol=1e-7)
    assert not np.allclose(again.predict(data["image"], verbose=0), data["residual_ops"], atol=1e-7)


@pytest.mark.parametrize("class_name", ["System", "ConvertToNumpy", "Operation", "ValueAndGrad", "__import__",
                                        "os.system"])
def test_op_names_resolve_only_to_lamina_ops(tmp_path, class_name):
    def edit(config):
        _op_entry(config, "Concatenate")["class_name"] = class_name

    _rewrite_config(FIXTURES / "graph_ops.keras", tmp_path / "bad.keras", edit)
    with pytest.raises(ValueError, match=r"bad\.keras.*Op node 'concatenate'.*lamina does not have"):
        lamina.models.load_model(tmp_path / "bad.keras")


def test_op_arguments_lamina_lacks_are_named(tmp_path):
    def edit(config):
        _op_entry(config, "Concatenate")["config"]["bogus_option"] = 3

    _rewrite_config(FIXTURES / "graph_ops.keras", tmp_path / "bad.keras", edit)
    with pytest.raises(ValueError, match=r"bad\.keras.*'concatenate'.*ops\.concatenate.*bogus_option"):
        lamina.models.load_model(tmp_path / "bad.keras")


def test_keras_slices_and_op_arguments_are_mapped():
    tensor = {"class_name": "__keras_tensor__", "config": {"keras_history": ["mean", 0, 0]}}
    whole = {"class_name": "__slice__", "config": {"start": None, "stop": None, "step": None}}
    part = {"class_name": "__slice__", "config": {"start": 1, "stop": 3, "step": None}}
    entry = {"module": "keras.src.ops.numpy", "class_name": "GetItem", "config": {"name": "get_item"},
             "name": "get_item", "inbound_nodes": [{"args": [tensor, [whole, part]], "kwargs": {}}]}
    out = adapt_op_entry(entry)
    assert out["config"] == {"function": "get_item", "name": "get_item"}
    assert out["inbound_nodes"][0]["args"][1] == [{"class_name": "__slice__", "config": [None, None, None]},
                                                  {"class_name": "__slice__", "config": [1, 3, None]}]
    clip = adapt_op_entry({"module": "keras.src.ops.numpy", "class_name": "Clip", "name": "clip",
                           "config": {"name": "clip", "x_min": -2.0, "x_max": 2.0},
                           "inbound_nodes": [{"args": [tensor], "kwargs": {}}]})
    assert clip["inbound_nodes"] == [{"args": [tensor], "kwargs": {"x_min": -2.0, "x_max": 2.0}}]
    bad_slice = dict(entry, inbound_nodes=[{"args": [tensor, {"class_name": "__slice__",
                                                                "config": {"start": "os", "stop": 1}}]}])
    with pytest.raises(ValueError, match="Op node 'get_item' has a slice"):
        adapt_op_entry(bad_slice)


def test_files_regenerated_with_keras_load_identically(tmp_path):
    if importlib.util.find_spec("keras") is None:
        pytest.skip("regenerating the fixtures needs Keras 3 (not installed)")
    env = dict(os.environ, KERAS_BACKEND="torch", OMP_NUM_THREADS="1")
    script = FIXTURES / "make_fixtures.py"
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("graph_ops", "residual_ops"):
        _check_predictions(tmp_path, name)
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_multi_axis_slices_survive_a_save_and_load(tmp_path):
    # the slice tuple goes through JSON as a list; loading gives the same multi-axis index back
    import lamina

    inputs = lamina.Input((4, 6))
    model = lamina.Model(inputs, inputs[:, 1:3, ::2])
    model.save(tmp_path / "slices.keras")
    loaded = lamina.models.load_model(tmp_path / "slices.keras")
    x = np.random.default_rng(0).random((2, 4, 6)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), x[:, 1:3, ::2])
    # a list of positions keeps NumPy's meaning (those rows), on both engines
    assert lamina.ops.convert_to_numpy(lamina.ops.get_item(lamina.ops.arange(5), [0, 2])).tolist() == [0, 2]
