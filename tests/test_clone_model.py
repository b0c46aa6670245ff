"""clone_model as Keras 3: clone_function / input_tensors / call_function for Functional models, shared layers kept
shared, nested models cloned with recursive=True, and a compiled model's clone compiled with the same settings."""

import numpy as np
import pytest

import lamina

L = lamina.layers


def _functional():
    inp = lamina.Input((6,), name="x")
    shared = L.Dense(4, name="shared")
    out = L.Add(name="add")([shared(inp), shared(inp)])
    return lamina.Model(inp, L.Dense(2, name="head")(out))


def test_clone_function_on_a_functional_model():
    model = _functional()

    def add_l2(layer):
        cfg = layer.get_config()
        if isinstance(layer, L.Dense):
            cfg["kernel_regularizer"] = "l2"
        return type(layer).from_config(cfg)

    clone = lamina.models.clone_model(model, clone_function=add_l2)
    assert [l.name for l in clone.layers] == [l.name for l in model.layers]
    assert all(a is not b for a, b in zip(clone.layers[1:], model.layers[1:]))
    assert clone.get_layer("head").kernel_regularizer is not None
    assert len(clone.get_layer("shared").weights) == 2   # still one shared layer, called twice
    x = np.ones((3, 6), "float32")
    assert lamina.ops.shape(clone(x)) == (3, 2)


def test_clone_function_returning_the_layer_shares_its_weights():
    model = _functional()
    clone = lamina.models.clone_model(model, clone_function=lambda layer: layer)
    x = np.random.RandomState(0).rand(3, 6).astype("float32")
    np.testing.assert_allclose(lamina.ops.convert_to_numpy(clone(x)), lamina.ops.convert_to_numpy(model(x)),
                               rtol=1e-6)


def test_input_tensors_and_call_function():
    model = _functional()
    new_input = lamina.Input((6,), name="new_in")
    calls = []

    def call(layer, *args, **kwargs):
        calls.append(layer.name)
        return layer(*args, **kwargs)

    clone = lamina.models.clone_model(model, input_tensors=new_input, call_function=call)
    assert clone.inputs[0] is new_input
    assert calls == ["shared", "shared", "add", "head"]
    with pytest.raises(ValueError, match="call_function"):
        lamina.models.clone_model(lamina.Sequential([lamina.Input((2,)), L.Dense(1)]), call_function=call)


def test_recursive_clones_nested_models_layer_by_layer():
    inner = lamina.Sequential([lamina.Input((6,)), L.Dense(3, name="inner_dense")], name="inner")
    inp = lamina.Input((6,))
    model = lamina.Model(inp, L.Dense(1)(inner(inp)))
    seen = []

    def fn(layer):
        seen.append(layer.name)
        return type(layer).from_config(layer.get_config())

    lamina.models.clone_model(model, clone_function=fn, recursive=True)
    assert "inner_dense" in seen and "inner" not in seen


def test_a_compiled_model_clones_compiled():
    model = lamina.Sequential([lamina.Input((3,)), L.Dense(1)])
    model.compile(optimizer=lamina.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    clone = lamina.models.clone_model(model)
    assert clone.compiled and clone.optimizer is not model.optimizer
    np.testing.assert_allclose(float(lamina.ops.convert_to_numpy(clone.optimizer.learning_rate)), 0.01)
    history = clone.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), epochs=1, verbose=0).history
    assert set(history) == {"loss", "mae"}
    functional = _functional()
    functional.compile(optimizer="sgd", loss="mse")
    assert lamina.models.clone_model(functional).compiled
