"""Layer.add_metric (the tf.keras 2 form) and rematerialization (lamina.RematScope, lamina.remat), both backends."""

import contextlib

import numpy as np
import pytest

import lamina
from lamina import layers, ops

ENGINE = lamina.backend.backend()


def np_(x):
    return ops.convert_to_numpy(x)


class MeanActivation(layers.Layer):
    def call(self, x):
        self.add_metric(ops.mean(x), name="mean_activation")
        self.add_metric(ops.cast(ops.shape(x)[0], "float32"), name="samples", aggregation="sum")
        return x


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def _metric_model():
    inputs = lamina.Input((5,))
    hidden = layers.Dense(4, name="hidden")(inputs)
    hidden = MeanActivation(name="watch")(hidden)
    model = lamina.Model(inputs, layers.Dense(1)(hidden))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model


# ---- add_metric --------------------------------------------------------------------------------------------------

def test_add_metric_values_in_fit_logs_and_history():
    x, y = _data()
    model = _metric_model()
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_data=(x[:32], y[:32]))
    assert {"mean_activation", "samples", "val_mean_activation", "val_samples"} <= set(history.history)
    assert history.history["samples"] == [64.0, 64.0]  # "sum" adds the per-batch values over the epoch
    assert history.history["val_samples"] == [32.0, 32.0]
    # evaluate's value is the mean of the watched activations, computed independently here
    hidden = lamina.Model(model.inputs, model.get_layer("watch").output)
    expected = float(np.mean(hidden.predict(x, verbose=0)))
    logs = model.evaluate(x, y, batch_size=16, return_dict=True, verbose=0)
    assert logs["mean_activation"] == pytest.approx(expected, abs=1e-5)
    assert logs["samples"] == 64.0


def test_add_metric_in_a_subclassed_model_and_train_on_batch():
    class Regressor(lamina.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            out = self.dense(x)
            self.add_metric(ops.mean(ops.abs(out)), name="output_size")
            return out

    x, y = _data(32)
    model = Regressor()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    logs = model.evaluate(x, y, batch_size=32, return_dict=True, verbose=0)
    assert logs["output_size"] == pytest.approx(float(np.mean(np.abs(model.predict(x, verbose=0)))), abs=1e-5)
    step_logs = model.train_on_batch(x, y, return_dict=True)
    assert "output_size" in step_logs and np.isfinite(step_logs["output_size"])


def test_add_metric_bad_arguments_are_named():
    layer = layers.Layer(name="plain")
    with pytest.raises(ValueError, match="pass the metric's name"):
        layer.add_metric(ops.ones(()))
    with pytest.raises(ValueError, match="aggregation must be None, 'mean' or 'sum'"):
        layer.add_metric(ops.ones(()), name="m", aggregation="max")
    with pytest.raises(TypeError, match="value must be a tensor or number"):
        layer.add_metric(object(), name="m")


def test_add_metric_name_clash_with_the_loss_is_refused():
    class Clash(layers.Layer):
        def call(self, x):
            self.add_metric(ops.mean(x), name="loss")
            return x

    inputs = lamina.Input((5,))
    model = lamina.Model(inputs, layers.Dense(1)(Clash()(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data(8)
    with pytest.raises(ValueError, match="already has a metric named 'loss'"):
        model.fit(x, y, verbose=0)


# ---- rematerialization -------------------------------------------------------------------------------------------

def _remat_model(mode, **scope_kwargs):
    lamina.utils.set_random_seed(7)
    scope = lamina.RematScope(mode=mode, **scope_kwargs) if mode else contextlib.nullcontext()
    with scope:
        inputs = lamina.Input((5,))
        hidden = layers.Dense(32, activation="relu", name="wide")(inputs)
        hidden = layers.BatchNormalization(name="bn")(hidden)
        hidden = layers.Dropout(0.3, seed=3, name="drop")(hidden)
        hidden = layers.Dense(4, name="narrow")(hidden)
    model = lamina.Model(inputs, layers.Dense(1, name="out")(hidden))
    model.compile(optimizer=lamina.optimizers.SGD(0.05), loss="mse")
    return model


@pytest.mark.parametrize("mode", ["full", "activations", "larger_than", "list_of_layers"])
def test_remat_trains_exactly_as_without(mode):
    kwargs = {"layer_names": ["bn", "drop"]} if mode == "list_of_layers" else {}
    x, y = _data()
    plain, remat = _remat_model(None), _remat_model(mode, **kwargs)
    plain.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    remat.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    # same weights, moving statistics (updated once per step, not again in the recomputation) and dropout seeds
    for a, b in zip(plain.weights, remat.weights):
        np.testing.assert_allclose(np_(b.value), np_(a.value), rtol=1e-5, atol=1e-5, err_msg=a.path)


def test_remat_modes_choose_layers():
    full = _remat_model("full")
    assert [full.get_layer(n)._remat_mode for n in ("wide", "bn", "drop", "narrow")] == ["full"] * 4
    assert full.get_layer("out")._remat_mode is None  # made outside the scope
    acts = _remat_model("activations")
    assert acts.get_layer("wide")._remat_mode == "activations" and acts.get_layer("bn")._remat_mode is None
    named = _remat_model("list_of_layers", layer_names=["bn"])
    assert named.get_layer("bn")._remat_mode == "list_of_layers" and named.get_layer("wide")._remat_mode is None
    large = _remat_model("larger_than", output_size_threshold=16)
    from lamina.layers import remat as remat_mod

    assert remat_mod.applies(large.get_layer("wide")) and not remat_mod.applies(large.get_layer("narrow"))


def test_remat_function_and_layer_give_the_same_gradients():
    layer = layers.Dense(3, activation="tanh")
    x = ops.convert_to_tensor(np.random.default_rng(1).standard_normal((4, 2)).astype("float32"))
    layer(x)
    plain = np_(layer(x))
    np.testing.assert_allclose(np_(lamina.remat(layer)(x)), plain, rtol=1e-6)
    assert layer._remat_mode is None  # lamina.remat(layer) does not change the layer itself
    square_sum = lamina.remat(lambda t: ops.sum(t * t))
    assert float(np_(square_sum(ops.ones((3,))))) == 3.0
    # gradients through a rematerialized layer: a training step equals the plain one
    x_np, y_np = _data(16)
    models = []
    for use_remat in (False, True):
        lamina.utils.set_random_seed(3)
        inner = layers.Dense(6, activation="relu")
        inputs = lamina.Input((5,))
        out = (lamina.remat(inner) if use_remat else inner)(inputs)
        model = lamina.Model(inputs, layers.Dense(1)(out))
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x_np, y_np, batch_size=8, epochs=1, verbose=0, shuffle=False)
        models.append(model)
    for a, b in zip(*[m.get_weights() for m in models]):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)


def test_remat_scope_bad_arguments():
    with pytest.raises(ValueError, match="mode must be one of"):
        lamina.RematScope(mode="everything")
    with pytest.raises(ValueError, match="needs layer_names"):
        lamina.RematScope(mode="list_of_layers")
    with pytest.raises(ValueError, match="output_size_threshold"):
        lamina.RematScope(mode="larger_than", output_size_threshold=-1)
    with pytest.raises(TypeError, match="expected a layer or a function"):
        lamina.remat(3)


@pytest.mark.skipif(ENGINE != "torch", reason="PyTorch: the recomputation runs the layer's Python call again")
def test_torch_recomputes_the_layer_in_the_backward_pass():
    calls = []

    class Counting(layers.Dense):
        def call(self, inputs):
            calls.append(1)
            return super().call(inputs)

    x, y = _data(8)
    for mode, expected in ((None, 1), ("full", 2)):
        scope = lamina.RematScope(mode=mode) if mode else contextlib.nullcontext()
        with scope:
            inputs = lamina.Input((5,))
            hidden = Counting(4)(inputs)
        model = lamina.Model(inputs, hidden)
        model.compile(optimizer="sgd", loss="mse")
        model.train_on_batch(x, np.zeros((8, 4), "float32"))  # builds; then count one step
        calls.clear()
        model.train_on_batch(x, np.zeros((8, 4), "float32"))
        assert len(calls) == expected, mode


@pytest.mark.skipif(ENGINE != "jax", reason="JAX: the step's program holds a checkpoint (remat) primitive")
def test_jax_step_program_holds_a_checkpoint():
    import jax

    def jaxpr_text(mode):
        scope = lamina.RematScope(mode=mode) if mode else contextlib.nullcontext()
        with scope:
            inputs = lamina.Input((5,))
            layer = layers.Dense(4)
            out = layer(inputs)
        lamina.Model(inputs, out)
        tv = [v.value for v in layer.trainable_variables]

        def loss(values):
            out, _ = layer.stateless_call(values, [], ops.ones((2, 5)))
            return ops.sum(out)

        return str(jax.make_jaxpr(jax.grad(loss))(tv))

    assert "checkpoint" in jaxpr_text("full") or "remat" in jaxpr_text("full")
    assert "checkpoint" not in jaxpr_text(None) and "remat" not in jaxpr_text(None)
