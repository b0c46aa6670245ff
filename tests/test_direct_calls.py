"""Direct calls (lamina/models/_direct_calls.py): a Sequential or functional model that ran with an input
signature before calls its layers' ``call`` directly; the results, losses, checks and training behaviour must be
those of the full ``layer(x)`` path."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from lamina.layers import layer as layer_module
from lamina.models import _direct_calls


def _np(x):
    return ops.convert_to_numpy(x)


@pytest.fixture
def spec_checks(monkeypatch):
    """Counts the input_spec checks that Layer.__call__ makes (the full path)."""
    count = [0]
    real = layer_module.check_input

    def counting(*args, **kwargs):
        count[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(layer_module, "check_input", counting)
    return count


def _sequential():
    return lamina.Sequential([lamina.Input((6,)), layers.Dense(8, activation="relu"), layers.BatchNormalization(),
                              layers.Dropout(0.5), layers.Dense(3, activation="softmax")])


def _functional():
    inp = lamina.Input((6,))
    h = layers.Dense(8, activation="relu")(inp)
    a = layers.Dense(4)(h)
    b = layers.Dense(4, activation="tanh")(h)
    out = layers.Dense(3, activation="softmax")(layers.Concatenate()([a, b]))
    return lamina.Model(inp, out)


@pytest.mark.parametrize("build", [_sequential, _functional], ids=["sequential", "functional"])
def test_second_call_skips_the_checks_and_gives_the_same_outputs(build, spec_checks):
    model = build()
    x = np.random.RandomState(0).normal(size=(5, 6)).astype("float32")
    first = _np(model(x, training=False))
    full_checks = spec_checks[0]
    assert full_checks > 0
    second = _np(model(x, training=False))
    assert spec_checks[0] == full_checks  # the recorded plan called the layers directly
    np.testing.assert_allclose(second, first, rtol=1e-6, atol=1e-7)
    # A new signature (another batch size) is checked the full way once, then runs directly.
    model(x[:2], training=False)
    assert spec_checks[0] > full_checks
    after = spec_checks[0]
    np.testing.assert_allclose(_np(model(x[:2], training=False)), first[:2], rtol=1e-5, atol=1e-6)
    assert spec_checks[0] == after


def test_wrong_input_is_still_reported_by_the_layer():
    model = lamina.Sequential([layers.Dense(4), layers.Dense(2)])  # built by its first call
    model(np.ones((2, 3), "float32"))
    model(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="dense"):
        model(np.ones((2, 5), "float32"))  # another signature: the Dense built for 3 features says so


def test_training_flag_reaches_dropout_and_batch_normalization():
    model = _sequential()
    x = np.random.RandomState(1).normal(size=(64, 6)).astype("float32")
    bn = model.layers[1]
    for _ in range(3):
        model(x, training=False)
    moving = _np(bn.moving_mean).copy()
    np.testing.assert_allclose(moving, 0.0)  # inference does not move the statistics
    inference = _np(model(x, training=False))
    np.testing.assert_allclose(_np(model(x, training=False)), inference)
    for _ in range(3):
        model(x, training=True)
    assert not np.allclose(_np(bn.moving_mean), moving)  # training (direct calls from the 2nd on) moves them
    drop = lamina.Sequential([lamina.Input((200,)), layers.Dropout(0.5)])
    ones = np.ones((4, 200), "float32")
    for _ in range(2):
        assert np.all(_np(drop(ones, training=False)) == 1.0)
        out = _np(drop(ones, training=True))
        assert set(np.unique(out).tolist()) == {0.0, 2.0}


def test_losses_of_one_call_only():
    class Penalty(layers.Layer):
        def call(self, x):
            self.add_loss(ops.sum(x) * 0.0 + 1.0)
            return x

    for model in (lamina.Sequential([lamina.Input((2,)), Penalty(), layers.Dense(1)]),):
        for _ in range(4):
            model(np.ones((3, 2), "float32"))
        assert len(model.losses) == 1 and float(_np(model.losses[0])) == 1.0


def test_setting_an_activity_regularizer_after_calls_takes_effect():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2, kernel_initializer="ones")])
    x = np.ones((2, 3), "float32")
    model(x)
    model(x)
    assert model.losses == []
    model.layers[0].activity_regularizer = lamina.regularizers.L1(0.5)
    model(x)
    # L1(0.5) of outputs [[3, 3], [3, 3]] = 6, per sample over a batch of 2 = 3.
    assert len(model.losses) == 1 and float(_np(model.losses[0])) == pytest.approx(3.0)


def test_masks_keep_the_full_path():
    model = lamina.Sequential([lamina.Input((5,), dtype="int32"), layers.Embedding(10, 4, mask_zero=True),
                               layers.LSTM(3)])
    x = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 0, 0]], "int32")
    first = _np(model(x))
    np.testing.assert_allclose(_np(model(x)), first, rtol=1e-6)
    assert all(plan is False for plan in model._plans.plans.values())
    # The masked steps are skipped: the output equals that of the unpadded sequence.
    np.testing.assert_allclose(_np(model(x[:1, :2]))[0], first[0], rtol=1e-5, atol=1e-6)


def test_layers_that_customize_their_call_keep_the_full_path():
    class Doubling(layers.Layer):
        def __call__(self, *args, **kwargs):
            return super().__call__(*args, **kwargs) * 2.0

        def call(self, x):
            return x

    inner = lamina.Sequential([layers.Dense(2, kernel_initializer="ones")])
    model = lamina.Sequential([lamina.Input((2,)), Doubling(), inner])
    x = np.ones((1, 2), "float32")
    for _ in range(3):
        np.testing.assert_allclose(_np(model(x)), [[4.0, 4.0]])
    assert not _direct_calls.direct_call(model.layers[0])  # overrides __call__
    assert not _direct_calls.direct_call(inner)  # a model converts and conforms its inputs itself


def test_mixed_precision_layers_keep_the_full_path():
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(3, dtype="mixed_float16"),
                               layers.Dense(2, dtype="float32")])
    x = np.ones((2, 4), "float32")
    for _ in range(3):
        out = model(x)
    assert ops.dtype(out) == "float32"
    assert not _direct_calls.direct_call(model.layers[0])


def test_calls_and_fit_do_not_drop_the_plans():
    """Nothing in a layer's call or a training step sets the attributes that drop plans (else every call would
    record again)."""
    model = lamina.Sequential([lamina.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"),
                               layers.BatchNormalization(), layers.MaxPooling2D(), layers.Dropout(0.2),
                               layers.Flatten(), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.RandomState(0).uniform(size=(32, 8, 8, 1)).astype("float32")
    y = np.arange(32) % 3
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.predict(x[:1], verbose=0)
    generation = layer_module.CALL_PLAN_GENERATION[0]
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x[:1], verbose=0)
    model(x[:4])
    assert layer_module.CALL_PLAN_GENERATION[0] == generation


def test_direct_calls_train_to_the_same_weights_as_full_calls(monkeypatch):
    def train(direct):
        if not direct:
            monkeypatch.setattr(_direct_calls, "available", lambda training: False)
        lamina.utils.set_random_seed(3)
        model = _functional()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        x = np.random.RandomState(0).normal(size=(64, 6)).astype("float32")
        y = np.arange(64) % 3
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        monkeypatch.undo()
        return [np.array(w) for w in model.get_weights()], history.history["loss"], model.predict(x, verbose=0)

    w_direct, loss_direct, pred_direct = train(True)
    w_full, loss_full, pred_full = train(False)
    np.testing.assert_allclose(loss_direct, loss_full, rtol=1e-6)
    for a, b in zip(w_direct, w_full):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pred_direct, pred_full, rtol=1e-5, atol=1e-6)


def test_predict_on_batch_of_any_size_matches_predict():
    model = _sequential()
    x = np.random.RandomState(2).normal(size=(100, 6)).astype("float32")
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict(x, batch_size=100, verbose=0),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError):
        model.predict_on_batch(np.ones((2, 7), "float32"))



def test_training_given_as_an_array_takes_the_full_path():
    model = _sequential()
    x = np.ones((4, 6), "float32")
    for flag in (np.array(True), np.array(False), ops.convert_to_tensor(True)):
        assert _np(model(x, training=flag)).shape == (4, 3)


def test_a_call_patched_on_the_class_or_restored_is_the_one_called():
    class Plus(layers.Layer):
        def call(self, x):
            return x + 1.0

    layer = Plus()
    model = lamina.Sequential([lamina.Input((2,)), layer])
    x = np.ones((1, 2), "float32")
    for _ in range(2):
        np.testing.assert_allclose(_np(model(x)), [[2.0, 2.0]])
    original = Plus.call
    Plus.call = lambda self, x: x + 100.0
    try:
        np.testing.assert_allclose(_np(model(x)), [[101.0, 101.0]])
    finally:
        Plus.call = original
    layer.call = lambda x: x - 5.0  # on the instance, then removed
    np.testing.assert_allclose(_np(model(x)), [[-4.0, -4.0]])
    del layer.call
    np.testing.assert_allclose(_np(model(x)), [[2.0, 2.0]])


def test_a_models_call_run_directly_keeps_the_training_context_of_nested_layers():
    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.drop = layers.Dropout(0.9, seed=1)

        def call(self, x, training=None):
            return self.drop(x)  # no training=: the value of the context this block's call sets

    model = lamina.Sequential([lamina.Input((400,)), Block()])
    x = np.ones((2, 400), "float32")
    for _ in range(3):
        zeros = float(np.mean(_np(model.call(x, training=True)) == 0.0))
        assert zeros > 0.7  # the Dropout is on, at every call


def test_a_layer_whose_output_shape_changes_still_gets_its_checks():
    class Select(layers.Layer):
        def __init__(self):
            super().__init__()
            self.k = 3

        def call(self, x):
            return x[:, :self.k]

        def compute_output_shape(self, shape):
            return (shape[0], self.k)

    select = Select()
    model = lamina.Sequential([lamina.Input((4,)), select, layers.Dense(2)])
    x = np.ones((2, 4), "float32")
    model(x)
    model(x)
    select.k = 1  # a plain attribute: the next layer sees another input shape
    with pytest.raises(ValueError, match="dense"):
        model(x)


def test_predict_of_a_masked_array_and_of_a_memmap(tmp_path):
    model = _sequential()
    data = np.random.RandomState(0).normal(size=(4, 6)).astype("float32")
    expected = model.predict(data, verbose=0)
    masked = np.ma.masked_array(data, mask=np.zeros_like(data, bool))
    np.testing.assert_allclose(model.predict(masked, verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(masked), expected, rtol=1e-6)
    mm = np.memmap(tmp_path / "x.dat", dtype="float32", mode="w+", shape=data.shape)
    mm[:] = data
    np.testing.assert_allclose(model.predict(mm, verbose=0), expected, rtol=1e-6)


def test_activity_regularizer_is_in_the_config_as_in_keras():
    layer = layers.Dense(3, activity_regularizer="l2")
    config = layer.get_config()
    assert "activity_regularizer" in config
    clone = layers.Dense.from_config(config)
    assert isinstance(clone.activity_regularizer, lamina.regularizers.L2)
    assert "activity_regularizer" not in layers.Dense(3).get_config()
