"""Models with their own train_step / test_step / predict_step, written once with lamina.ops.value_and_grad, on both
backends; and the examples of docs/custom_training.md."""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina import layers, ops

ENGINE = lamina.backend.backend()
DOC = Path(__file__).resolve().parent.parent / "docs" / "custom_training.md"


def np_(x):
    return ops.convert_to_numpy(x)


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 4)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32"))


def _functional(seed=5):
    lamina.utils.set_random_seed(seed)
    inputs = lamina.Input((4,))
    return inputs, layers.Dense(1)(layers.BatchNormalization()(layers.Dense(8, activation="relu")(inputs)))


@pytest.mark.parametrize("block", range(2))
def test_docs_examples_run(block, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 2
    exec(compile(blocks[block], f"{DOC.name}[{block}]", "exec"), {"__name__": "__main__"})
    printed = capsys.readouterr().out.strip().splitlines()
    logs = eval(printed[0])  # the example prints its final logs  # noqa: S307
    assert logs and all(np.isfinite(v) for v in logs.values())
    if block == 1:
        assert {"loss", "kl_loss", "val_loss", "val_reconstruction_loss"} <= set(logs)


def test_super_train_step_equals_the_compiled_step():
    steps = []

    class Counting(lamina.Model):
        def train_step(self, data):
            steps.append(1)
            return super().train_step(data)

    x, y = _data()
    inputs, outputs = _functional()
    plain = lamina.Model(inputs, outputs)
    inputs, outputs = _functional()
    custom = Counting(inputs, outputs)
    for model in (plain, custom):
        model.compile(optimizer=lamina.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    h_plain = plain.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    h_custom = custom.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    assert isinstance(custom, Counting)
    # PyTorch runs the Python step per batch; JAX runs it when tracing it (then the compiled program per batch)
    assert len(steps) == 8 if ENGINE == "torch" else 1 <= len(steps) <= 3
    # same weights (incl. BatchNormalization statistics) and the same logs as the built-in step
    for a, b in zip(plain.weights, custom.weights):
        np.testing.assert_allclose(np_(b.value), np_(a.value), rtol=1e-5, atol=1e-5, err_msg=a.path)
    for key in ("loss", "mae"):
        np.testing.assert_allclose(h_custom.history[key], h_plain.history[key], rtol=1e-5)


def test_custom_test_step_and_predict_step():
    class Doubling(lamina.Model):
        def test_step(self, data):
            x, y, _ = lamina.utils.unpack_x_y_sample_weight(data)
            return {"error": ops.mean(ops.abs(self(x) - y)), "batch": ops.cast(ops.shape(x)[0], "float32")}

        def predict_step(self, data):
            x, _, _ = lamina.utils.unpack_x_y_sample_weight(data)
            return 2.0 * self(x)

    x, y = _data(40)
    inputs, outputs = _functional()
    model = Doubling(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    plain_out = np_(model(x))
    np.testing.assert_allclose(model.predict(x, batch_size=16, verbose=0), 2.0 * plain_out, rtol=1e-5, atol=1e-6)
    logs = model.evaluate(x, y, batch_size=16, return_dict=True, verbose=0)
    assert logs["batch"] == 8.0  # the last batch's logs, as Keras (40 = 16 + 16 + 8)
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0, validation_data=(x, y))
    assert "val_error" in history.history and "loss" in history.history


def test_value_and_grad_gradients_aux_and_state_updates():
    w = lamina.Variable(np.array([1.0, -2.0], "float32"))
    unused = lamina.Variable(np.array([3.0], "float32"))
    (value, aux), grads = ops.value_and_grad(lambda: (ops.sum(w * w * 3.0), w * 2.0), [w, unused], has_aux=True)()
    assert float(np_(value)) == pytest.approx(15.0)
    np.testing.assert_allclose(np_(aux), [2.0, -4.0])
    np.testing.assert_allclose(np_(grads[0]), [6.0, -12.0])
    np.testing.assert_allclose(np_(grads[1]), [0.0])  # a variable the value does not use: zero gradient
    bn = layers.BatchNormalization(momentum=0.5)
    x = ops.convert_to_tensor(np.arange(12, dtype="float32").reshape(6, 2))
    bn(x)
    _, grads = ops.value_and_grad(lambda: ops.sum(bn(x, training=True)), bn.trainable_variables)()
    np.testing.assert_allclose(np_(bn.moving_mean.value), [2.5, 3.0])  # 0.5 * 0 + 0.5 * batch mean [5, 6]
    with pytest.raises(TypeError, match="must be lamina Variables"):
        ops.value_and_grad(lambda: 1.0, [np.ones(2)])


def test_train_step_must_return_a_dict_of_scalars():
    class Bad(lamina.Model):
        def train_step(self, data):
            return [1.0]

    class NonScalar(lamina.Model):
        def train_step(self, data):
            return {"vector": ops.ones((3,))}

    x, y = _data(8)
    for cls, message in ((Bad, "must return a dict of logs"), (NonScalar, "logs must be scalars")):
        inputs, outputs = _functional()
        model = cls(inputs, outputs)
        model.compile(optimizer="sgd", loss="mse")
        with pytest.raises(TypeError, match=message):
            model.fit(x, y, verbose=0)


@pytest.mark.skipif(ENGINE != "jax", reason="JAX: a step that reads Python values cannot be compiled")
def test_jax_untraceable_step_falls_back_to_eager_with_a_warning():
    class Printing(lamina.Model):
        def train_step(self, data):
            logs = super().train_step(data)
            return {"loss": float(np_(logs["loss"]))}  # a Python float: not traceable

    x, y = _data(32)
    inputs, outputs = _functional()
    model = Printing(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert any("runs eagerly" in str(w.message) for w in caught)
    assert len(history.history["loss"]) == 2 and history.history["loss"][1] < history.history["loss"][0]


def test_evaluate_lists_a_custom_loss_tracker_once():
    # a custom test_step whose own tracker is named "loss": evaluate's list has one value per name, as Keras
    from lamina import ops

    class Tracked(lamina.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = lamina.layers.Dense(1)
            self.loss_tracker = lamina.metrics.Mean(name="loss")
            self.mae = lamina.metrics.MeanAbsoluteError(name="mae")

        def call(self, x):
            return self.dense(x)

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae]

        def test_step(self, data):
            x, y = data
            p = self(x, training=False)
            self.loss_tracker.update_state(ops.mean((p - y) ** 2))
            self.mae.update_state(y, p)
            return {m.name: m.result() for m in self.metrics}

    model = Tracked()
    model.compile(optimizer="sgd")
    x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert model.evaluate(x, y, verbose=0) == pytest.approx([logs["loss"], logs["mae"]])
    assert model.metrics_names == ["loss", "mae"]
