"""JaxLayer: a JAX model function as a layer (JAX backend; on PyTorch it refuses clearly)."""

import numpy as np
import pytest

import lamina

ON_JAX = lamina.backend.backend() == "jax"
jax_only = pytest.mark.skipif(not ON_JAX, reason="wraps a JAX function (the JAX backend)")
RNG = np.random.default_rng(0)
X = RNG.random((64, 4)).astype("float32")
Y = X.sum(1, keepdims=True)


def _init(rng, inputs):
    import jax

    k1, k2 = jax.random.split(rng)
    return {"hidden": {"w": jax.random.normal(k1, (inputs.shape[-1], 8)) * 0.3, "b": jax.numpy.zeros(8)},
            "out": [jax.random.normal(k2, (8, 1)) * 0.3]}


def _call(params, rng, inputs, training):
    import jax

    h = jax.nn.relu(inputs @ params["hidden"]["w"] + params["hidden"]["b"])
    if training:
        keep = jax.random.bernoulli(rng, 0.9, h.shape)
        h = jax.numpy.where(keep, h / 0.9, 0.0)
    return h @ params["out"][0]


def _bn_call(params, state, inputs, training):
    mean = inputs.mean(0) if training else state["mean"]
    new = {"mean": 0.9 * state["mean"] + 0.1 * inputs.mean(0)} if training else state
    return (inputs - mean) * params["scale"], new


@jax_only
def test_initialised_by_init_fn_trained_by_fit():
    inp = lamina.Input((4,))
    layer = lamina.layers.JaxLayer(_call, init_fn=_init, seed=1, name="jl")
    model = lamina.Model(inp, layer(inp))
    assert [(w.path, tuple(w.shape)) for w in model.weights] == [
        ("jl/params_hidden_w", (4, 8)), ("jl/params_hidden_b", (8,)), ("jl/params_out_0", (8, 1))]
    model.compile(lamina.optimizers.Adam(0.01), "mse")
    history = model.fit(X, Y, epochs=25, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    # inference: no rng, no dropout; the function of the trained values
    values = {"hidden": {"w": layer.params["hidden"]["w"].numpy(), "b": layer.params["hidden"]["b"].numpy()},
              "out": [layer.params["out"][0].numpy()]}
    expected = np.maximum(X @ values["hidden"]["w"] + values["hidden"]["b"], 0) @ values["out"][0]
    np.testing.assert_allclose(model.predict(X, verbose=0), expected, rtol=1e-5, atol=1e-5)


@jax_only
def test_state_is_updated_in_training_only():
    layer = lamina.layers.JaxLayer(_bn_call, params={"scale": np.ones(4, "float32")},
                                   state={"mean": np.zeros(4, "float32")})
    model = lamina.Sequential([lamina.Input((4,)), layer])
    model.compile("sgd", "mse")
    model.fit(X, X, epochs=1, batch_size=64, verbose=0)
    np.testing.assert_allclose(layer.state["mean"].numpy(), 0.1 * X.mean(0), rtol=1e-5)
    assert [w.trainable for w in layer.weights] == [True, False]
    before = layer.state["mean"].numpy()
    out = model.predict(X[:4], verbose=0)
    np.testing.assert_array_equal(layer.state["mean"].numpy(), before)
    np.testing.assert_allclose(out, (X[:4] - before) * layer.params["scale"].numpy(), rtol=1e-5, atol=1e-6)


@jax_only
def test_weights_and_config_round_trip(tmp_path):
    fn = lamina.saving.register_keras_serializable(package="test_jax_layer")(_bn_call)
    layer = lamina.layers.JaxLayer(fn, params={"scale": np.full(4, 2.0, "float32")},
                                   state={"mean": np.ones(4, "float32")}, name="bn")
    model = lamina.Sequential([lamina.Input((4,)), layer])
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(X[:3], verbose=0), model.predict(X[:3], verbose=0), rtol=1e-6)
    assert loaded.get_layer("bn").call_fn is fn


@jax_only
def test_bad_functions_fail_clearly():
    with pytest.raises(ValueError, match=r"call_fn must take arguments named among .*`inputs` included, but it "
                                         r"takes \['params', 'x'\]"):
        lamina.layers.JaxLayer(lambda params, x: x, params={})
    with pytest.raises(ValueError, match="give init_fn, or the initial params"):
        lamina.layers.JaxLayer(lambda params, inputs: inputs)
    bad = lamina.layers.JaxLayer(lambda params, state, inputs: (inputs, {"a": inputs, "b": inputs}),
                                 params={"s": np.ones(2, "float32")}, state={"a": np.zeros(2, "float32")})
    with pytest.raises(ValueError, match="call_fn returned a state of 2 leaves, but the state has 1"):
        bad(np.ones((1, 2), "float32"))


@pytest.mark.skipif(ON_JAX, reason="the refusal on the other backend")
def test_refused_clearly_on_torch():
    with pytest.raises(ValueError, match="needs the JAX backend.*but lamina runs on torch"):
        lamina.layers.JaxLayer(lambda params, inputs: inputs, params={})
