"""Functional-model forms from the Keras guides and tf.keras 2 tutorials: a symbolic add_loss (the VAE form),
layer names that must be unique, and Metric.add_weight's scalar default."""

import numpy as np
import pytest

import lamina
from lamina import ops


def _model():
    inp = lamina.Input((3,))
    h = lamina.layers.Dense(2, kernel_initializer="ones", name="h")(inp)
    return lamina.Model(inp, h), h


def test_symbolic_add_loss_is_computed_on_every_call_and_trained():
    model, h = _model()
    model.add_loss(ops.mean(h) * 100.0)
    model.compile(optimizer=lamina.optimizers.SGD(0.001), loss="mse")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    # h = 3 everywhere: mse 9, the added loss 300
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), 309.0, rtol=1e-5)
    model(x)
    assert len(model.losses) == 1
    np.testing.assert_allclose(ops.convert_to_numpy(model.losses[0]), 300.0, rtol=1e-5)
    first = model.fit(x, y, epochs=3, verbose=0).history["loss"]
    assert first[-1] < first[0]


def test_symbolic_add_loss_of_a_list_and_from_a_second_input():
    a, b = lamina.Input((2,)), lamina.Input((2,))
    out = lamina.layers.Add()([a, b])
    model = lamina.Model([a, b], out)
    model.add_loss([ops.sum(a), ops.sum(b) * 2.0])
    model([np.ones((1, 2), "float32"), np.ones((1, 2), "float32")])
    values = sorted(float(ops.convert_to_numpy(v)) for v in model.losses)
    assert values == [2.0, 4.0]


def test_symbolic_add_loss_not_from_the_inputs_is_refused():
    model, _ = _model()
    other = lamina.Input((3,))
    with pytest.raises(ValueError, match="not computed from the model's inputs"):
        model.add_loss(ops.mean(other))


def test_a_layer_name_used_twice_in_a_functional_model_is_refused():
    a = lamina.Input((2,))
    h = lamina.layers.Dense(3, name="z")(a)
    o = lamina.layers.Dense(3, name="z")(h)
    with pytest.raises(ValueError, match="'z' is used 2 times"):
        lamina.Model(a, o)


def test_metric_add_weight_defaults_to_a_scalar():
    class Count(lamina.metrics.Metric):
        def __init__(self, name="count", **kwargs):
            super().__init__(name=name, **kwargs)
            self.total = self.add_weight(name="total", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.total.assign_add(ops.cast(ops.shape(y_true)[0], "float32"))

        def result(self):
            return self.total

    metric = Count()
    assert tuple(metric.total.shape) == ()
    metric.update_state(np.zeros((5, 1)), np.zeros((5, 1)))
    assert float(ops.convert_to_numpy(metric.result())) == 5.0
