"""The pieces the keras.io "customizing fit()" and "training loop from scratch" guides call: ``compute_metrics``
(both engines), and on PyTorch ``model.zero_grad()`` and ``model.parameters()`` (a torch optimizer on the model)."""

import numpy as np
import pytest

import lamina
from lamina import backend, layers, ops


def test_compute_metrics_updates_the_compiled_metrics_and_returns_results():
    model = lamina.Sequential([lamina.Input((2,)), layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae", "mse"])
    x = np.ones((4, 2), "float32")
    y = np.array([[1.0], [2.0], [3.0], [4.0]], "float32")
    logs = model.compute_metrics(x, y, model(x))
    assert float(logs["mae"]) == pytest.approx(2.5) and float(logs["mse"]) == pytest.approx(7.5)
    logs = model.compute_metrics(x, y, model(x), sample_weight=np.array([1.0, 0.0, 0.0, 0.0], "float32"))
    assert float(logs["mae"]) == pytest.approx(2.5)  # a running mean; `metrics=` ignore sample weights (Keras)


@pytest.mark.skipif(backend.backend() != "torch", reason="torch.nn.Module's methods, PyTorch backend only")
def test_a_torch_custom_train_step_and_a_torch_optimizer():
    import torch

    class CustomModel(lamina.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            weights = list(self.trainable_weights)
            with torch.no_grad():
                self.optimizer.apply([v.value.grad for v in weights], weights)
            return self.compute_metrics(x, y, y_pred, sample_weight=None)

    inp = lamina.Input((3,))
    model = CustomModel(inp, layers.Dense(1)(inp))
    model.compile(optimizer=lamina.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    y = x @ np.array([[1.0], [-1.0], [0.5]], "float32")
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0)
    assert history.history["mae"][-1] < history.history["mae"][0]

    seq = lamina.Sequential([lamina.Input((4,)), layers.Dense(2, use_bias=False)])
    params = list(seq.parameters())
    assert len(params) == 1 and params[0] is seq.layers[0].kernel.value
    before = seq.layers[0].kernel.numpy().copy()
    opt = torch.optim.SGD(seq.parameters(), lr=0.5)
    seq(torch.ones(3, 4)).pow(2).sum().backward()
    grad = params[0].grad.clone()
    opt.step()
    np.testing.assert_allclose(seq.layers[0].kernel.numpy(), before - 0.5 * grad.cpu().numpy(), rtol=1e-6)
    seq.zero_grad()
    assert params[0].grad is None


@pytest.mark.skipif(backend.backend() == "torch", reason="the other engines")
def test_torch_module_methods_say_where_they_work():
    model = lamina.Sequential([lamina.Input((2,)), layers.Dense(1)])
    with pytest.raises(AttributeError, match=r"zero_grad\(\) is torch.nn.Module's method.*value_and_grad"):
        model.zero_grad()
    with pytest.raises(AttributeError, match=r"parameters\(\) is torch.nn.Module's method"):
        model.parameters()
    assert ops.shape(model(np.ones((1, 2), "float32"))) == (1, 1)


def _metric_logs(model, metrics_variables, loss, y, y_pred):
    new, logs = [], {}
    for metric in model.metrics:
        mine = metrics_variables[len(new):len(new) + len(metric.variables)]
        mine = metric.stateless_update_state(mine, loss) if metric.name == "loss" else \
            metric.stateless_update_state(mine, y, y_pred)
        logs[metric.name] = metric.stateless_result(mine)
        new += mine
    return logs, new


class _StatelessSteps(lamina.Model):
    """The "customizing fit() with JAX" guide's model (its train_step needs jax; its test_step runs anywhere)."""

    def compute_loss_and_updates(self, trainable, non_trainable, x, y, training=False):
        y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x, training=training)
        return self.compute_loss(x, y, y_pred), (y_pred, non_trainable)

    def train_step(self, state, data):
        import jax

        trainable, non_trainable, optimizer_variables, metrics_variables = state
        x, y = data
        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
        (loss, (y_pred, non_trainable)), grads = grad_fn(trainable, non_trainable, x, y, training=True)
        trainable, optimizer_variables = self.optimizer.stateless_apply(optimizer_variables, grads, trainable)
        logs, metrics_variables = _metric_logs(self, metrics_variables, loss, y, y_pred)
        return logs, (trainable, non_trainable, optimizer_variables, metrics_variables)

    def test_step(self, state, data):
        trainable, non_trainable, metrics_variables = state
        x, y = data
        y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x, training=False)
        loss = self.compute_loss(x, y, y_pred)
        logs, metrics_variables = _metric_logs(self, metrics_variables, loss, y, y_pred)
        return logs, (trainable, non_trainable, metrics_variables)


def _stateless_model():
    inp = lamina.Input((3,))
    model = _StatelessSteps(inp, layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")(inp))
    model.compile(optimizer=lamina.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    return model


def test_a_stateless_test_step_state_in_state_out():
    model = _stateless_model()
    x = np.arange(12, dtype="float32").reshape(4, 3) / 10
    y = np.zeros((4, 1), "float32")
    pred = x.sum(1, keepdims=True)
    logs = model.evaluate(x, y, batch_size=2, return_dict=True, verbose=0)
    assert logs["loss"] == pytest.approx(float((pred ** 2).mean()), rel=1e-5)
    assert logs["mae"] == pytest.approx(float(np.abs(pred).mean()), rel=1e-5)


@pytest.mark.skipif(backend.backend() != "jax", reason="the guide's train_step uses jax.value_and_grad")
def test_the_jax_guide_train_step_trains_as_plain_sgd():
    model = _stateless_model()
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = x @ np.array([[0.5], [-1.0], [2.0]], "float32")
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    w, b = np.ones((3, 1), "float32"), np.zeros(1, "float32")
    for _ in range(2):  # full-batch SGD on the mean squared error, by hand
        err = x @ w + b - y
        w, b = w - 0.05 * 2 * x.T @ err / 8, b - 0.05 * 2 * err.mean(0)
    np.testing.assert_allclose(model.layers[1].kernel.numpy(), w, rtol=1e-5, atol=1e-6)
    assert int(model.optimizer.iterations.numpy()) == 2
