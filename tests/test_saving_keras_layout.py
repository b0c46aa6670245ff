"""Files lamina writes follow Keras 3's layout, so Keras 3 can load them (and lamina reads Keras's files).

tests/fixtures_keras_reads_lamina/ holds what Keras 3.15.1 wrote for the models of its keras_layout_models.py
(make_fixtures.py documents how): each ``config.json`` and the list of datasets in ``model.weights.h5``.
Here lamina saves the same models and its files are compared with Keras's: the fields Keras resolves
classes by (``module``, ``class_name``, ``registered_name``), the op nodes of Functional graphs, the node
indices, the configuration keys Keras's constructors accept, and the weight and optimizer-state paths and
shapes. A few Keras files are read back the other way.
"""

import io
import json
import os
import sys
import zipfile

import h5py
import numpy as np
import pytest

import lamina
from lamina import layers, ops

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures_keras_reads_lamina")
sys.path.insert(0, FIXTURES)
import keras_layout_models as models  # noqa: E402  (the builders shared with make_fixtures.py)

sys.path.remove(FIXTURES)

# Settings Keras writes and lamina leaves out: Keras's constructor default is what lamina does.
KERAS_ONLY = {"ragged": False, "optional": False, "quantization_config": None, "sliding_window": None,
              "use_gate": False, "steps_per_execution": 1}
# Keys Keras writes whatever their value that lamina has no use for (Keras accepts their absence).
KERAS_ONLY_ANY = {"shared_object_id", "build_input_shape", "compile_config"}
# Keys lamina writes that Keras's constructors accept although Keras does not write them.
LAMINA_EXTRA = {"flash_attention"}


def _save(tmp_path, build):
    lamina.utils.set_random_seed(0)
    model, x, y = build(lamina)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    path = tmp_path / f"{build.__name__}.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        return model, json.loads(zf.read("config.json")), zf.read("model.weights.h5")


def _fixture(name, kind):
    with open(os.path.join(FIXTURES, f"{name}.{kind}.json")) as f:
        return json.load(f)


def _identities(config, path="", out=None):
    """{path: (module, class_name, registered_name)} of every object config inside ``config``."""
    out = {} if out is None else out
    if isinstance(config, dict):
        if "class_name" in config and "module" in config and config["class_name"] != "DTypePolicy":
            out[path] = (config["module"], config["class_name"], config.get("registered_name"))
        for key, value in config.items():
            if key not in ("layers", "inbound_nodes", "dtype"):  # layers are paired through the graph
                _identities(value, f"{path}.{key}", out)
    elif isinstance(config, list):
        for i, value in enumerate(config):
            _identities(value, f"{path}[{i}]", out)
    return out


def _check_keys(keras_cfg, lamina_cfg, where):
    """Every key lamina writes is one Keras writes (or accepts); every key it leaves out is a neutral one."""
    for key in lamina_cfg:
        assert key in keras_cfg or key in LAMINA_EXTRA, f"{where}: lamina writes '{key}', which Keras does not"
    for key, value in keras_cfg.items():
        if key not in lamina_cfg and key not in KERAS_ONLY_ANY and key != "dtype":
            assert key in KERAS_ONLY and KERAS_ONLY[key] == value, \
                f"{where}: lamina leaves out '{key}' (Keras writes {value!r})"


def _compare_object(k, l, where):
    assert _identities(l) == _identities(k), f"{where}: module/class_name/registered_name differ"
    if str(k.get("module")).startswith("keras.src.ops."):  # an op node: its constructor arguments
        assert {a: b for a, b in l["config"].items() if a != "name"} == \
            {a: b for a, b in k["config"].items() if a != "name"}, f"{where}: op arguments differ"
        return
    inner_k, inner_l = k.get("config"), l.get("config")
    if isinstance(inner_k, dict) and "input_layers" in inner_k:
        _compare_graph(inner_k, inner_l, where)
    elif isinstance(inner_k, dict) and isinstance(inner_k.get("layers"), list):  # Sequential
        assert len(inner_l["layers"]) == len(inner_k["layers"])
        for i, (a, b) in enumerate(zip(inner_k["layers"], inner_l["layers"])):
            _compare_object(a, b, f"{where}.layers[{i}]")
    if isinstance(inner_k, dict):
        _check_keys({a: b for a, b in inner_k.items() if a != "layers"},
                    {a: b for a, b in inner_l.items() if a != "layers"}, where)


def _histories(struct):
    if isinstance(struct, list) and len(struct) == 3 and isinstance(struct[0], str):
        return [struct]
    items = struct.values() if isinstance(struct, dict) else struct
    return [h for item in items for h in _histories(item)]


def _compare_graph(k, l, where):
    """Pair the layers of two Functional configs through the graph (names may differ) and compare them."""
    k_entries = {e["name"]: e for e in k["layers"]}
    l_entries = {e["name"]: e for e in l["layers"]}
    pairs = {}

    def pair(kh, lh, at):
        assert kh[1:] == lh[1:], f"{at}: node/tensor index {lh[1:]}, Keras writes {kh[1:]}"
        if kh[0] in pairs:
            assert pairs[kh[0]] == lh[0], f"{at}: '{lh[0]}' stands where Keras has '{kh[0]}'"
            return
        pairs[kh[0]] = lh[0]
        ke, le = k_entries[kh[0]], l_entries[lh[0]]
        _compare_object(ke, le, f"{where}/{kh[0]}")
        assert len(le["inbound_nodes"]) == len(ke["inbound_nodes"]), f"{where}/{kh[0]}: node count"
        for kn, ln in zip(ke["inbound_nodes"], le["inbound_nodes"]):
            compare_args(kn["args"], ln["args"], f"{where}/{kh[0]} args")
            for key, value in kn["kwargs"].items():  # Keras passes mask=None / training=False explicitly
                if key not in ln["kwargs"]:
                    assert value in (None, False), f"{where}/{kh[0]}: call argument '{key}' left out"
            for key, value in ln["kwargs"].items():
                assert key in kn["kwargs"], f"{where}/{kh[0]}: lamina passes '{key}', Keras does not"
                compare_args(kn["kwargs"][key], value, f"{where}/{kh[0]} kwargs.{key}")

    def compare_args(a, b, at):
        if isinstance(a, dict) and a.get("class_name") == "__keras_tensor__":
            assert isinstance(b, dict) and b.get("class_name") == "__keras_tensor__", f"{at}: not a tensor"
            assert (b["config"]["shape"], b["config"]["dtype"]) == (a["config"]["shape"], a["config"]["dtype"])
            pair(a["config"]["keras_history"], b["config"]["keras_history"], at)
        elif isinstance(a, list):
            assert isinstance(b, list) and len(b) == len(a), f"{at}: {b!r:.80} vs Keras {a!r:.80}"
            for x, y in zip(a, b):
                compare_args(x, y, at)
        else:
            assert b == a, f"{at}: {b!r:.80} vs Keras {a!r:.80}"

    for key in ("output_layers", "input_layers"):
        kh, lh = _histories(k[key]), _histories(l[key])
        assert len(lh) == len(kh), f"{where}: {key} count"
        for a, b in zip(kh, lh):
            pair(a, b, f"{where}.{key}")
    assert len(pairs) == len(k_entries) == len(l_entries), f"{where}: layers not reached through the graph"


@pytest.mark.parametrize("build", models.BUILDERS, ids=lambda b: b.__name__)
def test_config_json_follows_keras(tmp_path, build):
    _, config, _ = _save(tmp_path, build)
    expected = _fixture(build.__name__, "config")
    if build is models.mixed_precision:  # Keras records the optimizer given to compile; lamina the one used
        assert config["compile_config"]["optimizer"]["class_name"] == "LossScaleOptimizer"
        assert config["compile_config"]["optimizer"]["config"]["inner_optimizer"]["class_name"] == "Adam"
        config["compile_config"].pop("optimizer")
        expected["compile_config"].pop("optimizer")
    _compare_object(expected, config, build.__name__)
    _check_keys(expected["compile_config"], config["compile_config"], "compile_config")


@pytest.mark.parametrize("build", models.BUILDERS, ids=lambda b: b.__name__)
def test_weights_follow_keras(tmp_path, build):
    _, _, weights = _save(tmp_path, build)
    found = []
    with h5py.File(io.BytesIO(weights), "r") as f:
        f.visititems(lambda name, obj: found.append([name, list(obj.shape), str(obj.dtype)])
                     if isinstance(obj, h5py.Dataset) else None)
    expected = _fixture(build.__name__, "weights")
    assert [p[:2] for p in sorted(found)] == [p[:2] for p in expected]  # paths, shapes (optimizer order)
    for got, want in zip(sorted(found), expected):
        if got[2] != want[2]:  # iteration counters: int64 here, int32 on Keras's JAX backend
            assert {got[2], want[2]} == {"int64", "int32"} and got[1] == [], (got, want)


def test_keras_layout_op_nodes_read_back(tmp_path):
    model, _, _ = models.graph_ops(lamina)
    x = np.random.default_rng(0).standard_normal((3, 6)).astype("float32")
    model.save(tmp_path / "ops.keras")
    loaded = lamina.models.load_model(tmp_path / "ops.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
    loaded.save(tmp_path / "again.keras")  # the normalized graph writes the same file
    with zipfile.ZipFile(tmp_path / "ops.keras") as a, zipfile.ZipFile(tmp_path / "again.keras") as b:
        first, second = json.loads(a.read("config.json")), json.loads(b.read("config.json"))
    assert [e["class_name"] for e in second["config"]["layers"]] == [e["class_name"] for e in first["config"]["layers"]]
    assert [e["config"] for e in second["config"]["layers"] if e["module"].startswith("keras.src.ops")] == \
        [e["config"] for e in first["config"]["layers"] if e["module"].startswith("keras.src.ops")]


def test_op_without_keras_class_keeps_lamina_layout(tmp_path):
    inputs = lamina.Input((3,))
    model = lamina.Model(inputs, ops.mish(inputs) + 1.0)  # Keras 3 has no mish op
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        entries = json.loads(zf.read("config.json"))["config"]["layers"]
    assert [(e["class_name"], e["module"]) for e in entries[1:]] == [("__operation__", "lamina.ops"),
                                                                    ("Add", "keras.src.ops.numpy")]
    x = np.linspace(-2, 2, 6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(lamina.models.load_model(tmp_path / "m.keras").predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)


def test_ops_defined_as_lambdas_save_by_their_public_name(tmp_path):
    inputs = lamina.Input((3,))
    model = lamina.Model(inputs, [ops.floor(inputs), ops.ceil(inputs), ops.trunc(inputs)])
    model.save(tmp_path / "f.keras")
    with zipfile.ZipFile(tmp_path / "f.keras") as zf:
        entries = json.loads(zf.read("config.json"))["config"]["layers"]
    assert [e["class_name"] for e in entries[1:]] == ["Floor", "Ceil", "Trunc"]
    x = np.array([[1.5, -1.5, 0.2]], "float32")
    got = lamina.models.load_model(tmp_path / "f.keras").predict(x, verbose=0)
    np.testing.assert_array_equal(np.stack(got), [[[1.0, -2.0, 0.0]], [[2.0, -1.0, 1.0]], [[1.0, -1.0, 0.0]]])


def test_tensor_constructor_argument_keeps_lamina_layout(tmp_path):
    y, x = lamina.Input((4,), name="y"), lamina.Input((4,), name="x")
    model = lamina.Model([y, x], ops.trapezoid(y, x=x))  # Keras keeps `x` in the op's config: no tensor there
    model.save(tmp_path / "t.keras")
    with zipfile.ZipFile(tmp_path / "t.keras") as zf:
        entries = json.loads(zf.read("config.json"))["config"]["layers"]
    assert entries[-1]["class_name"] == "__operation__"
    data = [np.ones((2, 4), "float32"), np.arange(8, dtype="float32").reshape(2, 4)]
    np.testing.assert_allclose(lamina.models.load_model(tmp_path / "t.keras").predict(data, verbose=0), [3.0, 3.0])


def test_keras_file_with_loss_scale_optimizer_loads(tmp_path):
    data = np.load(os.path.join(FIXTURES, "keras_outputs.npz"))
    model = lamina.models.load_model(os.path.join(FIXTURES, "mixed_precision.keras"))
    np.testing.assert_allclose(model.predict(data["mixed_precision_x"], verbose=0), data["mixed_precision_y0"],
                               rtol=2e-3, atol=2e-3)  # float16 computations
    inner = getattr(model.optimizer, "inner_optimizer", model.optimizer)
    with zipfile.ZipFile(os.path.join(FIXTURES, "mixed_precision.keras")) as zf, \
            h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as f:
        saved_iterations = int(f["optimizer/inner_optimizer/vars/0"][()])
    assert saved_iterations > 0 and int(inner.iterations.numpy()) == saved_iterations
    assert any(float(np.abs(v.numpy()).sum()) > 0 for v in inner.variables[2:])  # the Adam slots


def test_loss_scale_optimizer_state_written_as_keras_and_read_back(tmp_path):
    model, x, y = models.mixed_precision(lamina)
    model.fit(x, y, epochs=3, batch_size=2, verbose=0)
    scale = float(model.optimizer.dynamic_scale.numpy())
    model.save(tmp_path / "lso.keras")
    with zipfile.ZipFile(tmp_path / "lso.keras") as zf, h5py.File(io.BytesIO(zf.read("model.weights.h5"))) as f:
        own, inner = f["optimizer/vars"], f["optimizer/inner_optimizer/vars"]
        assert len(own) == 4 + len(inner) and float(own["3"][()]) == scale
        assert int(inner["0"][()]) == int(model.optimizer.iterations.numpy())
    loaded = lamina.models.load_model(tmp_path / "lso.keras")
    assert type(loaded.optimizer).__name__ == "LossScaleOptimizer"
    assert float(loaded.optimizer.dynamic_scale.numpy()) == scale
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_keras_nested_model_called_twice_loads():
    data = np.load(os.path.join(FIXTURES, "keras_outputs.npz"))
    model = lamina.models.load_model(os.path.join(FIXTURES, "nested_called_twice.keras"))
    got = model.predict(data["nested_called_twice_x"], verbose=0)
    for i, out in enumerate(got):
        np.testing.assert_allclose(out, data[f"nested_called_twice_y{i}"], rtol=1e-5, atol=1e-6)


def test_nested_model_called_twice_round_trip(tmp_path):
    model, x, _ = models.nested_called_twice(lamina)
    model.save(tmp_path / "n.keras")
    loaded = lamina.models.load_model(tmp_path / "n.keras")
    for a, b in zip(loaded.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_older_lamina_output_indices_of_nested_models_still_load(tmp_path):
    model, x, _ = models.nested_called_twice(lamina)
    model.save(tmp_path / "n.keras")
    config = json.loads(zipfile.ZipFile(tmp_path / "n.keras").read("config.json"))
    assert config["config"]["output_layers"] == [["inner", 2, 0], ["inner", 3, 0]]  # Keras's count
    config["config"]["output_layers"] = [["inner", 1, 0], ["inner", 2, 0]]  # as lamina wrote them before
    with zipfile.ZipFile(tmp_path / "n.keras") as zin, zipfile.ZipFile(tmp_path / "old.keras", "w") as zout:
        metadata = json.loads(zin.read("metadata.json"))
        assert metadata.pop("node_indices") == "keras"  # (earlier lamina files have no such mark)
        for name in zin.namelist():
            data = {"config.json": json.dumps(config), "metadata.json": json.dumps(metadata)}.get(name)
            zout.writestr(name, data if data is not None else zin.read(name))
    rebuilt = lamina.models.load_model(tmp_path / "old.keras")
    for a, b in zip(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_keras_subclassed_model_weights_load():
    data = np.load(os.path.join(FIXTURES, "keras_outputs.npz"))
    model, x, _ = models.subclassed_attributes(lamina)
    model(x)
    model.load_weights(os.path.join(FIXTURES, "subclassed_attributes.weights.h5"))
    np.testing.assert_allclose(model.predict(data["subclassed_attributes_x"], verbose=0),
                               data["subclassed_attributes_y0"], rtol=1e-5, atol=1e-6)


def test_older_lamina_weight_paths_still_load(tmp_path):
    model, x, _ = models.subclassed_attributes(lamina)
    model(x)
    model.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5", "a") as f:  # back to the attribute names lamina used before
        assert sorted(f["layers"]) == ["dense_3", "dense_4"]
        f.move("layers/dense_3", "mlp")
        f.move("layers/dense_4", "zout")
        del f["layers"]
    fresh, _, _ = models.subclassed_attributes(lamina)
    fresh(x)
    fresh.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_allclose(fresh.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_attention_build_config_in_both_layouts():
    layer = layers.MultiHeadAttention(2, 3)
    layer(np.ones((1, 4, 5), "float32"), np.ones((1, 6, 5), "float32"))
    build = layer.get_build_config()
    assert build == {"shapes_dict": {"query_shape": [1, 4, 5], "value_shape": [1, 6, 5], "key_shape": [1, 6, 5]}}
    for config in (build, build["shapes_dict"]):  # Keras's layout, and the one lamina wrote before
        fresh = layers.MultiHeadAttention(2, 3)
        fresh.build_from_config(config)
        assert [tuple(w.shape) for w in fresh.weights] == [tuple(w.shape) for w in layer.weights]


def test_layer_configs_leave_out_what_keras_refuses():
    assert "data_format" not in layers.Cropping1D(1).get_config()
    assert "activity_regularizer" not in layers.ActivityRegularization(l2=0.1).get_config()
    reloaded = layers.ActivityRegularization.from_config(layers.ActivityRegularization(l1=0.5).get_config())
    assert reloaded.l1 == 0.5
    from lamina.saving.keras_layout import keras_layout

    for layer, name in ((layers.SpatialDropout1D(0.2), "SpatialDropout1D"),
                        (layers.Discretization(bin_boundaries=[0.0]), "Discretization"),
                        (layers.GroupQueryAttention(2, 2, 1), "GroupQueryAttention")):
        config = keras_layout(lamina.saving.serialize_object(layer))
        assert config["class_name"] == name and config["module"] == "keras.layers"
        assert ("trainable" in config["config"]) == (name == "GroupQueryAttention")


def test_compile_settings_keras_cannot_read_are_left_out(tmp_path):
    model = lamina.Sequential([lamina.Input((2,)), layers.Dense(1)])
    model.compile(optimizer=lamina.optimizers.SGD(lamina.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)),
                  loss="mse")
    model.save(tmp_path / "c.keras")
    compile_config = json.loads(zipfile.ZipFile(tmp_path / "c.keras").read("config.json"))["compile_config"]
    assert "steps_per_execution" not in compile_config  # "auto" (lamina's default) is not a number Keras takes
    schedule = compile_config["optimizer"]["config"]["learning_rate"]
    assert (schedule["module"], schedule["class_name"]) == ("keras.optimizers.schedules", "ExponentialDecay")
    assert lamina.models.load_model(tmp_path / "c.keras").steps_per_execution == model.steps_per_execution
