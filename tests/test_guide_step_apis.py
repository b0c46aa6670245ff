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
    np.testing.assert_allclose(seq.layers[0].kernel.numpy(), before - 0.5 * grad.numpy(), rtol=1e-6)
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
