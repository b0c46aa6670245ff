"""Targets whose shape does not fit the model's output get a ValueError naming the loss (or metric) and both
shapes, from fit/evaluate and from the loss functions themselves, instead of an engine broadcasting error."""

import numpy as np
import pytest

import lamina


@pytest.mark.parametrize("loss, name", [("mse", "mean_squared_error"), ("mae", "mean_absolute_error"),
                                        ("huber", "huber"), ("binary_crossentropy", "binary_crossentropy"),
                                        ("poisson", "poisson"), ("hinge", "hinge"), ("log_cosh", "log_cosh")])
def test_fit_with_targets_of_the_wrong_width_names_the_loss_and_shapes(loss, name):
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2)])
    model.compile(optimizer="sgd", loss=loss)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=rf"{name}: y_true of shape \(8, 3\) and y_pred of shape \(8, 2\) "
                                         r"do not match"):
        model.fit(np.ones((8, 4), "float32"), np.ones((8, 3), "float32"), batch_size=8, verbose=0)
    for a, b in zip(before, model.get_weights()):  # nothing was trained on the bad batch
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=name):
        model.evaluate(np.ones((8, 4), "float32"), np.ones((8, 3), "float32"), verbose=0)


def test_metric_with_targets_of_the_wrong_width_is_named():
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(np.ones((8, 4), "float32"), np.ones((8, 3), "float32"), verbose=0)  # shapes that fit: trains
    with pytest.raises(ValueError, match=r"mean_absolute_error: y_true of shape \(2, 4\)"):
        lamina.metrics.mean_absolute_error(np.ones((2, 4)), np.ones((2, 3)))


def test_shapes_that_broadcast_or_differ_by_a_trailing_one_still_work():
    # (n,) targets against (n, 1) outputs, and (n, 1) against (n, k), are what Keras accepts.
    np.testing.assert_allclose(lamina.ops.convert_to_numpy(lamina.losses.mean_squared_error(
        np.array([1.0, 2.0]), np.array([[1.0], [0.0]]))), [0.0, 4.0])
    np.testing.assert_allclose(lamina.ops.convert_to_numpy(lamina.losses.mean_absolute_error(
        np.array([[1.0], [2.0]]), np.array([[1.0, 3.0], [0.0, 2.0]]))), [1.0, 1.0])
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(np.ones((8, 4), "float32"), np.ones((8,), "float32"), verbose=0)
    assert np.isfinite(history.history["loss"][0])
