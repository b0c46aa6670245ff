"""Mixed precision: dtype policies, autocast of weights, LossScaleOptimizer, training and saving."""

import numpy as np
import pytest

import lamina
from lamina import layers, mixed_precision


@pytest.fixture(autouse=True)
def _reset_policy():
    yield
    mixed_precision.set_global_policy(None)


def _data(n=512, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = (x[:, :4].sum(axis=1) > 0).astype("int64") + 2 * (x[:, 4:].sum(axis=1) > 0).astype("int64")
    return x, y


def _model():
    return lamina.Sequential([lamina.Input((8,)), layers.Dense(32, activation="relu"), layers.Dense(4),
                              layers.Activation("softmax", dtype="float32")])


def test_policies_name_their_compute_and_variable_dtypes():
    for name, compute, variable in [("float32", "float32", "float32"), ("mixed_float16", "float16", "float32"),
                                    ("mixed_bfloat16", "bfloat16", "float32"), ("bfloat16", "bfloat16", "bfloat16")]:
        p = lamina.dtype_policies.DTypePolicy(name)
        assert (p.name, p.compute_dtype, p.variable_dtype) == (name, compute, variable)
    assert mixed_precision.global_policy().name == "float32"
    assert mixed_precision.Policy is lamina.dtype_policies.DTypePolicy
    with pytest.raises(ValueError, match="unknown policy 'mixed_float8'"):
        mixed_precision.set_global_policy("mixed_float8")


def test_a_mixed_layer_computes_in_half_precision_on_float32_weights():
    mixed_precision.set_global_policy("mixed_float16")
    dense = layers.Dense(3)
    out = dense(np.ones((2, 5), "float32"))
    assert lamina.backend.standardize_dtype(out.dtype) == "float16"
    assert dense.kernel.dtype == "float32" and dense.dtype == "float32"
    assert dense.compute_dtype == "float16"
    expected = np.ones((2, 5), "float16") @ dense.kernel.numpy().astype("float16")
    np.testing.assert_allclose(lamina.ops.convert_to_numpy(out).astype("float32"), expected.astype("float32"),
                               rtol=1e-2, atol=1e-2)
    # Outside the layer's call the weight reads as what it is.
    assert lamina.backend.standardize_dtype(dense.kernel.value.dtype) == "float32"


def test_a_float32_layer_inside_a_mixed_model_keeps_float32():
    mixed_precision.set_global_policy("mixed_bfloat16")
    model = _model()
    out = model(np.ones((2, 8), "float32"))
    assert lamina.backend.standardize_dtype(out.dtype) == "float32"
    assert model.layers[0].compute_dtype == "bfloat16" and model.layers[-1].compute_dtype == "float32"
    assert model.layers[0].output.dtype == "bfloat16"


def test_the_policy_is_part_of_the_config_and_keras_dicts_are_read():
    layer = layers.Dense(2, dtype="mixed_float16")
    config = layer.get_config()
    assert config["dtype"] == "mixed_float16"
    assert layers.Dense.from_config(config).compute_dtype == "float16"
    keras_style = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_bfloat16"},
                   "registered_name": None}
    assert layers.Dense(2, dtype=keras_style).compute_dtype == "bfloat16"
    assert layers.Dense(2, dtype="float32").get_config()["dtype"] == "float32"


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_training_reaches_the_float32_accuracy_band(policy):
    x, y = _data()
    results = {}
    for name in ("float32", policy):
        mixed_precision.set_global_policy(name)
        lamina.utils.set_random_seed(4)
        model = _model()
        model.compile(lamina.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, batch_size=32, epochs=6, verbose=0)
        assert all(v.dtype == "float32" for v in model.trainable_variables)
        results[name] = model.evaluate(x, y, verbose=0)[1]
        wrapped = isinstance(model.optimizer, lamina.optimizers.LossScaleOptimizer)
        assert wrapped == (name == "mixed_float16")  # as Keras: float16 gets loss scaling
    assert results["float32"] > 0.85
    assert abs(results[policy] - results["float32"]) < 0.05, results


def test_loss_scaling_recovers_from_overflow_without_nan_weights():
    mixed_precision.set_global_policy("mixed_float16")
    x, y = _data(256)
    lamina.utils.set_random_seed(2)
    model = _model()
    opt = lamina.optimizers.LossScaleOptimizer(lamina.optimizers.SGD(0.1), initial_scale=2.0 ** 40,
                                               dynamic_growth_steps=3)
    model.compile(opt, "sparse_categorical_crossentropy")
    first = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, batch_size=32, epochs=4, verbose=0)
    scale = float(opt.dynamic_scale.numpy())
    assert scale < 2.0 ** 40  # halved on the overflowing steps
    steps_taken = int(opt.iterations.numpy())
    assert 0 < steps_taken < 32  # the overflowing steps were skipped
    for v in model.weights:
        assert np.isfinite(v.numpy()).all(), v.path
    assert history.history["loss"][-1] < first


def test_loss_scale_optimizer_skips_and_grows_eagerly():
    opt = lamina.optimizers.LossScaleOptimizer(lamina.optimizers.SGD(0.5), initial_scale=4.0,
                                               dynamic_growth_steps=2)
    w = lamina.Variable([1.0, 2.0])
    opt.build([w])
    opt.apply([lamina.ops.convert_to_tensor([np.nan, 1.0])], [w])
    assert w.numpy().tolist() == [1.0, 2.0] and float(opt.dynamic_scale.numpy()) == 2.0
    assert int(opt.iterations.numpy()) == 0
    opt.apply([lamina.ops.convert_to_tensor([2.0, 2.0])], [w])  # unscaled: [1, 1]
    np.testing.assert_allclose(w.numpy(), [0.5, 1.5])
    opt.apply([lamina.ops.convert_to_tensor([2.0, 2.0])], [w])  # two finite steps: the scale doubles
    assert float(opt.dynamic_scale.numpy()) == 4.0 and int(opt.iterations.numpy()) == 2
    with pytest.raises(ValueError, match="initial_scale must be > 0"):
        lamina.optimizers.LossScaleOptimizer("sgd", initial_scale=0)


def test_a_mixed_model_with_loss_scaling_saves_and_resumes(tmp_path):
    mixed_precision.set_global_policy("mixed_float16")
    x, y = _data(128)
    model = _model()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    path = tmp_path / "mixed.keras"
    model.save(path)
    mixed_precision.set_global_policy("float32")  # the file carries the layers' policies
    loaded = lamina.models.load_model(path)
    assert loaded.layers[0].compute_dtype == "float16" and loaded.layers[-1].compute_dtype == "float32"
    assert isinstance(loaded.optimizer, lamina.optimizers.LossScaleOptimizer)
    np.testing.assert_allclose(float(loaded.optimizer.dynamic_scale.numpy()),
                               float(model.optimizer.dynamic_scale.numpy()))
    np.testing.assert_allclose(loaded.predict(x[:8], verbose=0), model.predict(x[:8], verbose=0), rtol=1e-3,
                               atol=1e-3)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    loaded.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


def test_loss_scale_factor_scales_the_loss_as_well_as_the_gradients():
    x, y = _data(64)
    weights = []
    for factor in (None, 1024.0):
        lamina.utils.set_random_seed(9)
        model = _model()
        model.compile(lamina.optimizers.SGD(0.1, loss_scale_factor=factor), "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=64, epochs=1, verbose=0)
        weights.append([v.numpy() for v in model.weights])
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
