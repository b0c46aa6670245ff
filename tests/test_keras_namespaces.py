"""The rest of Keras 3's public names: top-level classes, name_scope, device, Function, keras.config switches
(max epochs/steps, flash attention, unsafe deserialization, interactive logging, traceback filtering,
set_backend), keras.utils / keras.tree / keras.random additions, smart_resize. On the current backend."""

import logging
import os
import subprocess
import sys
import textwrap
import traceback

import numpy as np
import pytest

import lamina
from lamina import layers, ops

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Names of Keras 3.15.1's namespaces (keras/api/<ns>/__init__.py) that these tests cover.
KERAS_NAMES = {
    "": ["DTypePolicy", "FloatDTypePolicy", "Function", "Initializer", "Loss", "Metric", "Optimizer",
         "Regularizer", "device", "name_scope"],
    "config": ["disable_flash_attention", "disable_interactive_logging", "disable_traceback_filtering",
               "dtype_policy", "enable_flash_attention", "enable_interactive_logging", "enable_traceback_filtering",
               "enable_unsafe_deserialization", "is_flash_attention_enabled", "is_interactive_logging_enabled",
               "is_nnx_enabled", "is_traceback_filtering_enabled", "max_epochs", "max_steps_per_epoch",
               "set_backend", "set_dtype_policy", "set_max_epochs", "set_max_steps_per_epoch"],
    "backend": ["get_uid"],
    "callbacks": ["RemoteMonitor"],
    "layers": ["serialize", "deserialize"],
    "legacy.saving": ["deserialize_keras_object", "serialize_keras_object"],
    "optimizers.legacy": ["Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop", "SGD"],
    "utils.legacy": ["deserialize_keras_object", "serialize_keras_object"],
    "distribution": ["get_device_count"],
    "random": ["beta", "binomial", "gamma"],
    "preprocessing.image": ["smart_resize"],
    "tree": ["MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten_with_path",
             "map_shape_structure", "map_structure_up_to", "traverse"],
    "utils": ["Config", "CustomObjectScope", "custom_object_scope", "deserialize_keras_object", "disable_interactive_logging",
              "enable_interactive_logging", "get_custom_objects", "get_registered_name", "get_registered_object",
              "get_source_inputs", "is_interactive_logging_enabled", "is_keras_tensor", "register_keras_serializable",
              "serialize_keras_object", "standardize_dtype"],
}


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


@pytest.mark.parametrize("namespace", sorted(KERAS_NAMES))
def test_keras_names_exist(namespace):
    import importlib

    module = importlib.import_module("lamina" + ("." + namespace if namespace else ""))
    missing = [n for n in KERAS_NAMES[namespace] if not hasattr(module, n)]
    assert not missing, f"lamina.{namespace or ''} lacks {missing}"


def test_top_level_classes_are_the_namespaces_ones():
    assert lamina.Loss is lamina.losses.Loss and lamina.Metric is lamina.metrics.Metric
    assert lamina.Optimizer is lamina.optimizers.Optimizer
    assert lamina.Initializer is lamina.initializers.Initializer
    assert lamina.Regularizer is lamina.regularizers.Regularizer

    class Halved(lamina.Loss):  # a custom loss subclassing the top-level name, as Keras code does
        def call(self, y_true, y_pred):
            return ops.mean(ops.square(y_true - y_pred), axis=-1) / 2

    y, p = np.zeros((4, 2), "float32"), np.ones((4, 2), "float32")
    assert float(_np(Halved()(y, p))) == pytest.approx(0.5)


# ---- name_scope ---------------------------------------------------------------------------------------


def test_name_scope_prefixes_variable_and_layer_paths():
    with lamina.name_scope("outer"):
        v = lamina.Variable(1.0, name="scale")
        dense = layers.Dense(2, name="proj")
        dense.build((None, 3))
        with lamina.name_scope("inner"):
            w = lamina.Variable(2.0, name="w")
        with lamina.name_scope("proj"):  # another scope's name, not the layer's own: repeated (as Keras)
            again = layers.Dense(1, name="proj")
            again.build((None, 2))
        with lamina.name_scope("fresh", override_parent="root"):
            u = lamina.Variable(0.0, name="u")
    outside = layers.Dense(2, name="plain")
    outside.build((None, 3))
    assert v.path == "outer/scale"
    assert dense.kernel.path == "outer/proj/kernel" and dense.bias.path == "outer/proj/bias"
    assert w.path == "outer/inner/w"
    assert again.kernel.path == "outer/proj/proj/kernel"
    assert u.path == "root/fresh/u"
    assert outside.kernel.path == "plain/kernel"  # no scope: unchanged
    assert lamina.Variable(1.0, name="free").path == "free"


def test_name_scope_rejects_bad_names():
    for bad in ("", "a/b", 3):
        with pytest.raises(ValueError, match="name_scope expected a non-empty name"):
            lamina.name_scope(bad)


def test_name_scope_is_left_on_error():
    with pytest.raises(RuntimeError):
        with lamina.name_scope("broken"):
            raise RuntimeError("inside")
    assert lamina.Variable(1.0, name="after").path == "after"


# ---- device -------------------------------------------------------------------------------------------


def test_device_places_new_tensors_and_rejects_unknown_devices():
    with lamina.device("cpu"):
        x = ops.ones((2,))
    np.testing.assert_array_equal(_np(x), [1.0, 1.0])
    with pytest.raises(ValueError, match=r"lamina.device: expected a device of this machine.*'tpu:7'"):
        with lamina.device("tpu:7"):
            pass


# ---- Function -----------------------------------------------------------------------------------------


def test_function_runs_the_graph_between_inputs_and_outputs():
    a, b = lamina.Input((3,)), lamina.Input((3,))
    dense = layers.Dense(2, kernel_initializer="ones")
    out = dense(ops.add(a, ops.square(b)))
    f = lamina.Function([a, b], out, name="f")
    xa, xb = np.arange(6, dtype="float32").reshape(2, 3), np.ones((2, 3), "float32")
    expected = (xa + xb ** 2).sum(-1, keepdims=True).repeat(2, -1)
    np.testing.assert_allclose(_np(f([xa, xb])), expected, rtol=1e-6)
    assert dense in f.operations and len(f.inputs) == 2 and f.outputs == [out]
    # on symbolic tensors it makes a new graph node (its output shape is computed)
    assert f([lamina.Input((3,)), lamina.Input((3,))]).shape == (None, 2)


def test_function_with_dict_inputs_and_nested_outputs():
    x = lamina.Input((2,), name="x")
    f = lamina.Function({"x": x}, {"double": ops.multiply(x, 2.0), "neg": [ops.negative(x)]})
    got = f({"x": np.array([[1.0, -2.0]], "float32")})
    np.testing.assert_array_equal(_np(got["double"]), [[2.0, -4.0]])
    np.testing.assert_array_equal(_np(got["neg"][0]), [[-1.0, 2.0]])
    with pytest.raises(ValueError, match=r"Function 'function' expects a dict with keys \['x'\]"):
        f({"y": np.ones((1, 2), "float32")})


def test_function_rejects_non_symbolic_tensors():
    with pytest.raises(ValueError, match="inputs must be symbolic tensors"):
        lamina.Function(np.ones((2,)), lamina.Input((2,)))


# ---- keras.config switches ------------------------------------------------------------------------------


def _small_model():
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.fixture
def restore_config():
    yield
    lamina.config.set_max_epochs(None)
    lamina.config.set_max_steps_per_epoch(None)
    lamina.config.enable_flash_attention()
    lamina.config.enable_interactive_logging()
    lamina.config.enable_traceback_filtering()
    lamina.config.set_dtype_policy("float32")
    lamina.config._SETTINGS.pop("safe_mode", None)


def test_max_epochs_and_max_steps_cap_fit_evaluate_predict(restore_config):
    model = _small_model()
    x, y = np.ones((100, 4), "float32"), np.ones((100, 1), "float32")
    lamina.config.set_max_epochs(2)
    lamina.config.set_max_steps_per_epoch(3)
    assert lamina.config.max_epochs() == 2 and lamina.config.max_steps_per_epoch() == 3
    seen = []
    counter = lamina.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    with pytest.warns(UserWarning, match="max_epochs"):
        history = model.fit(x, y, epochs=5, batch_size=10, verbose=0, callbacks=[counter])
    assert len(history.history["loss"]) == 2
    assert len(seen) == 2 * 3
    with pytest.warns(UserWarning, match="max_steps_per_epoch"):
        assert model.predict(x, batch_size=10, verbose=0).shape == (30, 1)
    lamina.config.set_max_epochs(None)
    lamina.config.set_max_steps_per_epoch(None)
    assert len(model.fit(x, y, epochs=3, batch_size=50, verbose=0).history["loss"]) == 3
    assert model.predict(x, batch_size=10, verbose=0).shape == (100, 1)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="set_max_epochs expected a positive integer or None"):
            lamina.config.set_max_epochs(bad)


def test_max_epochs_from_the_environment():
    code = textwrap.dedent("""
        import numpy as np, warnings, lamina
        warnings.simplefilter("ignore")
        m = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)]); m.compile("sgd", "mse")
        h = m.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=9, batch_size=2, verbose=0)
        print(len(h.history["loss"]), lamina.config.max_steps_per_epoch())
    """)
    env = dict(os.environ, LAMINA_MAX_EPOCHS="2", KERAS_MAX_STEPS_PER_EPOCH="3")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "3"]
    env = dict(os.environ, LAMINA_MAX_EPOCHS="many")
    out = subprocess.run([sys.executable, "-c", "import lamina"], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode != 0 and "LAMINA_MAX_EPOCHS must be a positive integer, but it is 'many'" in out.stderr


def test_set_dtype_policy_through_config(restore_config):
    lamina.config.set_dtype_policy("mixed_float16")
    assert lamina.config.dtype_policy().name == "mixed_float16"
    dense = layers.Dense(2)
    assert dense.compute_dtype == "float16" and dense.variable_dtype == "float32"
    lamina.config.set_dtype_policy("float32")
    assert layers.Dense(2).compute_dtype == "float32"


def test_flash_attention_switch_reaches_new_attention_layers(restore_config):
    assert lamina.config.is_flash_attention_enabled() is None
    lamina.config.disable_flash_attention()
    assert lamina.config.is_flash_attention_enabled() is False
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    gqa = layers.GroupQueryAttention(head_dim=4, num_query_heads=2, num_key_value_heads=1)
    assert mha._flash_attention is False and gqa._flash_attention is False
    assert mha.get_config()["flash_attention"] is False
    assert layers.MultiHeadAttention(num_heads=2, key_dim=4, flash_attention=None)._flash_attention is False
    lamina.config.enable_flash_attention()
    assert layers.MultiHeadAttention(num_heads=2, key_dim=4)._flash_attention is None
    # the layer still computes: disabling only rules out the flash kernel
    q = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    lamina.config.disable_flash_attention()
    off = layers.MultiHeadAttention(num_heads=2, key_dim=4, seed=1)
    assert _np(off(q, q)).shape == (2, 5, 8)


def _double(x):
    return x * 2


def test_enable_unsafe_deserialization_lifts_safe_mode(tmp_path, restore_config):
    inp = lamina.Input((3,))
    model = lamina.Model(inp, layers.Dense(2, name="d")(layers.Lambda(_double, name="lam")(inp)))
    lamina.saving.save_model(model, tmp_path / "lam.keras")
    with pytest.raises(ValueError, match="safe_mode=False"):
        lamina.models.load_model(tmp_path / "lam.keras", custom_objects={"_double": _double})
    lamina.config.enable_unsafe_deserialization()
    loaded = lamina.models.load_model(tmp_path / "lam.keras", custom_objects={"_double": _double})
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_disabled_interactive_logging_goes_to_the_logger(capsys, caplog, restore_config):
    model = _small_model()
    x, y = np.ones((8, 4), "float32"), np.ones((8, 1), "float32")
    lamina.config.disable_interactive_logging()
    assert not lamina.config.is_interactive_logging_enabled() and not lamina.utils.is_interactive_logging_enabled()
    with caplog.at_level(logging.INFO, logger="lamina"):
        model.fit(x, y, epochs=2, batch_size=4, verbose=2)
    assert capsys.readouterr().out == ""
    messages = [r.getMessage() for r in caplog.records if r.name == "lamina"]
    assert "Epoch 1/2" in messages and "Epoch 2/2" in messages
    assert any(m.startswith("2/2 - ") and "loss:" in m for m in messages)
    lamina.config.enable_interactive_logging()
    caplog.clear()
    model.fit(x, y, epochs=2, batch_size=4, verbose=2)
    assert "Epoch 2/2" in capsys.readouterr().out
    assert not [r for r in caplog.records if r.name == "lamina"]


def _frames(exc):
    return [f.filename for f in traceback.extract_tb(exc.__traceback__)]


def test_traceback_filtering_leaves_lamina_frames_out(restore_config):
    model = _small_model()
    lamina_dir = os.path.join(ROOT, "lamina") + os.sep
    with pytest.raises(ValueError, match="same number of samples") as info:
        model.fit(np.ones((10, 4)), np.ones((9, 1)), verbose=0)
    inner = [f for f in _frames(info.value) if f.startswith(lamina_dir)]
    assert inner == [os.path.join(lamina_dir, "utils", "traceback_utils.py")]
    assert _frames(info.value)[0] == __file__
    lamina.config.disable_traceback_filtering()
    assert not lamina.config.is_traceback_filtering_enabled()
    with pytest.raises(ValueError, match="same number of samples") as info:
        model.fit(np.ones((10, 4)), np.ones((9, 1)), verbose=0)
    assert len([f for f in _frames(info.value) if f.startswith(lamina_dir)]) >= 3


def test_traceback_filtering_keeps_the_cause_and_type():
    class Boom(lamina.layers.Layer):
        def call(self, x):
            try:
                {}["missing"]
            except KeyError as e:
                raise ValueError("Boom: the lookup failed") from e

    with pytest.raises(ValueError, match="Boom: the lookup failed") as info:
        Boom()(np.ones((1, 2), "float32"))
    assert isinstance(info.value.__cause__, KeyError)
    files = _frames(info.value)
    assert files[0] == __file__ and files[-1] == __file__  # the user's call, then the user's layer code


def test_set_backend_switches_the_engine_in_a_running_program():
    code = textwrap.dedent("""
        import numpy as np
        import lamina as keras
        first = keras.config.backend()
        other = "jax" if first == "torch" else "torch"
        keras.config.set_backend(other)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=1, verbose=0)
        import lamina.backend
        print(first, keras.config.backend(), type(model.layers[0].kernel.value).__module__.split(".")[0])
        try:
            keras.config.set_backend("tensorflow")
        except ValueError as e:
            print("refused:", e)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, LAMINA_BACKEND=lamina.config.backend()))
    assert out.returncode == 0, out.stderr
    first, now, engine = out.stdout.splitlines()[0].split()
    assert first == lamina.config.backend() and now != first
    assert engine in ("torch", "jax", "jaxlib") and engine.startswith(now)
    assert "refused: set_backend expected one of ['torch', 'jax'], but received 'tensorflow'." in out.stdout


def test_is_nnx_enabled_is_false():
    assert lamina.config.is_nnx_enabled() is False


# ---- utils, backend, distribution ----------------------------------------------------------------------


def test_utils_names_are_lamina_saving_ones():
    assert lamina.utils.register_keras_serializable is lamina.saving.register_keras_serializable
    assert lamina.utils.custom_object_scope is lamina.saving.custom_object_scope
    assert lamina.utils.serialize_keras_object is lamina.saving.serialize_keras_object
    assert lamina.utils.is_keras_tensor(lamina.Input((2,))) and not lamina.utils.is_keras_tensor(np.ones(2))
    assert lamina.utils.standardize_dtype("float") == "float32"


def test_get_source_inputs_follows_the_graph():
    a, b, unused = lamina.Input((2,)), lamina.Input((2,)), lamina.Input((2,))
    c = layers.Dense(2)(layers.Add()([a, layers.Dense(2)(b)]))
    sources = lamina.utils.get_source_inputs(c)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert lamina.utils.get_source_inputs(unused) == [unused]
    with pytest.raises(ValueError, match="get_source_inputs expected a symbolic tensor"):
        lamina.utils.get_source_inputs(np.ones(2))


def test_get_uid_and_get_device_count():
    first = lamina.backend.get_uid("namespaces_test")
    assert lamina.backend.get_uid("namespaces_test") == first + 1
    assert lamina.distribution.get_device_count("cpu") == len(lamina.distribution.list_devices("cpu")) >= 1


# ---- random.gamma / beta / binomial --------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.5, 3.0])
def test_gamma_moments_and_seeds(alpha):
    x = _np(lamina.random.gamma((20000,), alpha, seed=3))
    assert x.dtype == np.float32 and x.min() > 0
    assert x.mean() == pytest.approx(alpha, rel=0.05) and x.var() == pytest.approx(alpha, rel=0.1)
    np.testing.assert_array_equal(x, _np(lamina.random.gamma((20000,), alpha, seed=3)))
    assert not np.array_equal(x, _np(lamina.random.gamma((20000,), alpha, seed=4)))


def test_beta_and_binomial_moments():
    a, b = 2.0, 6.0
    x = _np(lamina.random.beta((20000,), a, b, seed=1))
    assert 0 <= x.min() and x.max() <= 1
    assert x.mean() == pytest.approx(a / (a + b), rel=0.03)
    assert x.var() == pytest.approx(a * b / ((a + b) ** 2 * (a + b + 1)), rel=0.1)
    n, p = 10, 0.3
    k = _np(lamina.random.binomial((20000,), n, p, seed=1))
    assert k.dtype == np.float32 and set(np.unique(k)) <= set(range(n + 1))
    assert k.mean() == pytest.approx(n * p, rel=0.03) and k.var() == pytest.approx(n * p * (1 - p), rel=0.1)
    per_row = _np(lamina.random.binomial((2, 5000), np.array([[1.0], [20.0]], "float32"), 0.5, seed=2))
    assert per_row[0].max() <= 1 and per_row[1].mean() == pytest.approx(10, rel=0.05)
    assert _np(lamina.random.gamma((4,), 2.0, dtype="float64", seed=0)).dtype == np.float64


def test_random_distributions_reject_bad_parameters():
    with pytest.raises(ValueError, match=r"lamina.random.gamma: alpha must be > 0, but received -1.0"):
        lamina.random.gamma((2,), -1.0)
    with pytest.raises(ValueError, match=r"lamina.random.beta: beta must be > 0"):
        lamina.random.beta((2,), 1.0, 0.0)


# ---- tree -----------------------------------------------------------------------------------------------


def test_tree_paths_and_structure_checks():
    from lamina import tree

    assert tree.flatten_with_path({"b": [1, (2,)], "a": 3}) == [(("a",), 3), (("b", 0), 1), (("b", 1, 0), 2)]
    tree.assert_same_structure({"a": [1, 2]}, {"a": [3, 4]})
    for a, b in ([[1], (1,)], [[1, 2], [1]], [{"a": 1}, {"b": 1}], [[1], [[1]]]):
        with pytest.raises(ValueError, match="don't have the same nested structure"):
            tree.assert_same_structure(a, b)
    tree.assert_same_paths([0, (1, 2)], (5, [6, 7]))
    with pytest.raises(ValueError, match="don't have the same paths"):
        tree.assert_same_paths([0, 1], [0, 1, 2])


def test_tree_mapping_variants():
    from lamina import tree

    assert tree.map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 3]]) == ["[1, 1]", ["2", "3"]]
    assert tree.map_structure_up_to({"a": None}, lambda x, y: x + y, {"a": 1}, {"a": 2}) == {"a": 3}
    with pytest.raises(ValueError, match="shallower than shallow_structure"):
        tree.map_structure_up_to([None, [None]], len, [[1], 2])
    assert tree.map_shape_structure(lambda s: tuple(s)[::-1], [(1, 2), {"x": (3, None)}]) == \
        [(2, 1), {"x": (None, 3)}]
    seen = []
    assert tree.traverse(seen.append, {"a": [1, 2]}) == {"a": [1, 2]}
    assert seen == [{"a": [1, 2]}, [1, 2], 1, 2]
    assert tree.traverse(lambda x: tree.MAP_TO_NONE if x == [1, 2] else None, {"a": [1, 2], "b": 3}) == \
        {"a": None, "b": 3}
    assert tree.traverse(lambda x: sum(x) if isinstance(x, list) else None, [[1, 2], [3]], top_down=False) == 6


# ---- smart_resize ---------------------------------------------------------------------------------------


def test_smart_resize_crops_to_the_aspect_ratio_then_resizes():
    rng = np.random.default_rng(0)
    image = rng.random((40, 60, 3)).astype("float32")
    out = _np(lamina.preprocessing.image.smart_resize(image, (20, 20)))
    # the centred 40x40 window (columns 10..49) halved: bilinear with half-pixel centres averages 2x2 blocks
    window = image[:, 10:50]
    expected = window.reshape(20, 2, 20, 2, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    batch = np.stack([image, image[::-1]])
    both = _np(lamina.preprocessing.image.smart_resize(batch, (20, 20)))
    np.testing.assert_allclose(both[0], expected, rtol=1e-5, atol=1e-6)
    first = _np(lamina.preprocessing.image.smart_resize(batch.transpose(0, 3, 1, 2), (20, 20),
                                                        data_format="channels_first"))
    np.testing.assert_allclose(first.transpose(0, 2, 3, 1), both, rtol=1e-5, atol=1e-6)
    ints = _np(lamina.preprocessing.image.smart_resize((image * 255).astype("uint8"), (10, 10)))
    assert ints.dtype == np.float32 and ints.shape == (10, 10, 3)


def test_smart_resize_rejects_bad_arguments():
    with pytest.raises(ValueError, match="smart_resize: `size` must be a tuple of two positive ints"):
        lamina.preprocessing.image.smart_resize(np.ones((4, 4, 1)), (0, 2))
    with pytest.raises(ValueError, match="smart_resize expected an image of rank 3"):
        lamina.preprocessing.image.smart_resize(np.ones((4, 4)), (2, 2))
    with pytest.raises(ValueError, match="smart_resize expected interpolation to be one of"):
        lamina.preprocessing.image.smart_resize(np.ones((4, 4, 1)), (2, 2), interpolation="cubic-ish")


# ---- utils.Config, legacy (de)serialization, optimizers.legacy, layers.serialize --------------------------


def test_config_container():
    config = lamina.utils.Config(learning_rate=0.1, momentum=0.9)
    config.use_ema = True
    config["seed"] = 3
    assert config.seed == 3 and config["use_ema"] is True and "momentum" in config and len(config) == 4
    assert list(config) == ["learning_rate", "momentum", "seed", "use_ema"]
    assert config.as_dict() == {"learning_rate": 0.1, "momentum": 0.9, "use_ema": True, "seed": 3}
    assert config.to_json() == '{"learning_rate": 0.1, "momentum": 0.9, "use_ema": true, "seed": 3}'
    with pytest.raises(AttributeError, match="Config has no value named 'learning_rat'. Did you mean 'learning_rate'"):
        config.learning_rat
    config.freeze()
    assert config.frozen
    for mutate in (lambda: setattr(config, "seed", 4), lambda: config.__setitem__("x", 1),
                   lambda: config.pop("seed"), lambda: config.update(a=1)):
        with pytest.raises(ValueError, match="Config is frozen"):
            mutate()
    config.unfreeze()
    config.seed = 4
    assert config.get("seed") == 4 and config.get("missing", 7) == 7


def test_legacy_serialization_round_trip():
    from lamina.legacy import saving as legacy

    dense = layers.Dense(3, activation="relu", name="d")
    config = legacy.serialize_keras_object(dense)
    assert set(config) == {"class_name", "config"} and config["class_name"] == "Dense"
    again = legacy.deserialize_keras_object(config)
    assert isinstance(again, layers.Dense) and again.units == 3 and again.name == "d"
    assert legacy.serialize_keras_object(lamina.activations.relu) == "relu"
    assert legacy.deserialize_keras_object("Dense") is layers.Dense
    assert lamina.utils.legacy.deserialize_keras_object("double", custom_objects={"double": _double}) is _double
    with pytest.raises(ValueError, match="Unknown layer: 'Dnse'"):
        legacy.deserialize_keras_object("Dnse", printable_module_name="layer")


def test_optimizers_legacy_names_run_the_current_optimizers():
    with pytest.warns(DeprecationWarning, match="lamina.optimizers.legacy.Adam is the Keras 2-era name"):
        legacy = lamina.optimizers.legacy.Adam(learning_rate=0.01)
    current = lamina.optimizers.Adam(learning_rate=0.01)
    assert isinstance(legacy, lamina.optimizers.Adam)
    w1, w2 = lamina.Variable([1.0, 2.0]), lamina.Variable([1.0, 2.0])
    for _ in range(3):
        legacy.apply([ops.convert_to_tensor([0.5, -1.0])], [w1])
        current.apply([ops.convert_to_tensor([0.5, -1.0])], [w2])
    np.testing.assert_array_equal(_np(w1.value), _np(w2.value))
    assert lamina.optimizers.serialize(legacy)["class_name"] == "Adam"
    with pytest.warns(DeprecationWarning):
        assert isinstance(lamina.optimizers.legacy.SGD(0.1), lamina.optimizers.SGD)


def test_layers_serialize_and_deserialize():
    config = layers.serialize(layers.Conv2D(4, 3, padding="same", name="c"))
    assert config["class_name"] == "Conv2D"
    again = layers.deserialize(config)
    assert isinstance(again, layers.Conv2D) and again.filters == 4 and again.padding == "same"
