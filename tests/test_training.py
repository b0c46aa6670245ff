"""The training loop as a Keras user sees it: compile/fit/evaluate/predict, logs, callbacks, errors.

Runs on whichever engine is active (``LAMINA_BACKEND=torch|jax``). Expected values
are computed with NumPy from ``predict`` outputs, following Keras 3's formulas.
"""

import warnings

import numpy as np
import pytest

import lamina
from lamina import layers

# ---- helpers -------------------------------------------------------------------------------------


def _data(n=96, d=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    return rng, x


def _regression(n=96, d=4, seed=0):
    rng, x = _data(n, d, seed)
    w = np.arange(1, d + 1, dtype="float32")[:, None] / d
    y = (x @ w + 0.5).astype("float32")
    return x, y


def _binary(n=96, d=4, seed=0):
    rng, x = _data(n, d, seed)
    y = (x[:, :1] + 0.3 * x[:, 1:2] > 0).astype("float32")
    return x, y


def _dense(units_in, units_out, activation=None, hidden=None, seed=1):
    lamina.utils.set_random_seed(seed)
    stack = [lamina.Input((units_in,))]
    if hidden:
        stack.append(layers.Dense(hidden, activation="relu"))
    stack.append(layers.Dense(units_out, activation=activation))
    return lamina.Sequential(stack)


def _weights(model):
    return [np.array(w) for w in model.get_weights()]


def _assert_weights_close(a, b, atol=1e-5):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, atol=atol, rtol=1e-5)


def _two_output_model(dict_outputs=False):
    lamina.utils.set_random_seed(3)
    inp = lamina.Input((4,))
    a = layers.Dense(1, name="a")(inp)
    b = layers.Dense(3, activation="softmax", name="b")(inp)
    outputs = {"a": a, "b": b} if dict_outputs else [a, b]
    return lamina.Model(inp, outputs)


def _bce(y, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=-1)


def _scce(y, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -np.log(p[np.arange(len(y)), y.astype(int).reshape(-1)])


# ---- fit / evaluate / predict: what they return ----------------------------------------------------------


def test_fit_returns_history_with_per_epoch_logs_and_loss_decreases():
    x, y = _regression()
    model = _dense(4, 1)
    model.compile(optimizer=lamina.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert isinstance(history, lamina.callbacks.History)
    assert model.history is history
    assert set(history.history) == {"loss", "mae"}
    assert all(len(v) == 5 for v in history.history.values())
    assert history.epoch == [0, 1, 2, 3, 4]
    losses = history.history["loss"]
    assert all(isinstance(v, float) for v in losses)
    assert losses[-1] < 0.5 * losses[0]
    assert all(b < a for a, b in zip(losses, losses[1:]))


def test_evaluate_returns_scalar_list_or_dict_like_keras():
    x, y = _regression()
    model = _dense(4, 1)
    model.compile(optimizer="sgd", loss="mse")
    loss = model.evaluate(x, y, verbose=0)
    assert isinstance(loss, float)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": pytest.approx(loss)}

    model.compile(optimizer="sgd", loss="mse", metrics=["mae", "mse"])
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, list) and len(result) == 3
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "mae", "mse"]          # Keras logs a string metric under that string
    pred = model.predict(x, verbose=0)
    np.testing.assert_allclose(result, [np.mean((pred - y) ** 2), np.mean(np.abs(pred - y)),
                                        np.mean((pred - y) ** 2)], rtol=1e-5)
    np.testing.assert_allclose(list(logs.values()), result, rtol=1e-6)


def test_metric_given_as_function_or_instance_is_logged_under_its_name():
    x, y = _regression()
    model = _dense(4, 1)
    model.compile(optimizer="sgd", loss="mse",
                  metrics=[lamina.metrics.mean_absolute_error, lamina.metrics.RootMeanSquaredError()])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "mean_absolute_error", "root_mean_squared_error"]
    pred = model.predict(x, verbose=0)
    assert logs["mean_absolute_error"] == pytest.approx(np.mean(np.abs(pred - y)), rel=1e-5)
    assert logs["root_mean_squared_error"] == pytest.approx(np.sqrt(np.mean((pred - y) ** 2)), rel=1e-5)


def test_predict_returns_numpy_of_the_right_shape_with_a_short_last_batch():
    x, _ = _regression(n=37)
    model = _dense(4, 3, hidden=5)
    out = model.predict(x, batch_size=8, verbose=0)
    assert isinstance(out, np.ndarray) and out.shape == (37, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, lamina.ops.convert_to_numpy(model(x)), atol=1e-5)
    np.testing.assert_allclose(model.predict(x, batch_size=37, verbose=0), out, atol=1e-6)


def test_predict_multi_output_and_dict_output_models():
    x, _ = _regression(n=10)
    model = _two_output_model()
    out = model.predict(x, batch_size=4, verbose=0)
    assert isinstance(out, list) and len(out) == 2
    assert [o.shape for o in out] == [(10, 1), (10, 3)]
    assert all(isinstance(o, np.ndarray) for o in out)

    model = _two_output_model(dict_outputs=True)
    out = model.predict(x, batch_size=4, verbose=0)
    assert isinstance(out, dict) and set(out) == {"a", "b"}
    assert out["a"].shape == (10, 1) and out["b"].shape == (10, 3)
    np.testing.assert_allclose(out["b"].sum(axis=-1), 1.0, atol=1e-5)


def test_train_test_predict_on_batch():
    x, y = _regression(n=16)
    model = _dense(4, 1)
    model.compile(optimizer=lamina.optimizers.SGD(0.01), loss="mse")
    before = model.test_on_batch(x, y)
    assert isinstance(before, float)
    pred = model.predict_on_batch(x)
    assert isinstance(pred, np.ndarray) and pred.shape == (16, 1)
    assert before == pytest.approx(np.mean((pred - y) ** 2), rel=1e-5)
    train_loss = model.train_on_batch(x, y)
    assert train_loss == pytest.approx(before, rel=1e-5)   # the loss before the update, as Keras
    assert model.test_on_batch(x, y) < before

    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    result = model.train_on_batch(x, y)
    assert isinstance(result, list) and len(result) == 2
    logs = model.test_on_batch(x, y, return_dict=True)
    assert list(logs) == ["loss", "mae"]
    pred = model.predict_on_batch(x)
    np.testing.assert_allclose(pred, model.predict(x, verbose=0), atol=1e-6)
    assert logs["mae"] == pytest.approx(np.mean(np.abs(pred - y)), rel=1e-5)


# ---- accuracy resolution and losses ------------------------------------------------------------


@pytest.mark.parametrize("name", ["accuracy", "acc"])
def test_accuracy_binary(name):
    x, y = _binary()
    model = _dense(4, 1, activation="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=[name])
    logs = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)
    assert list(logs) == sorted(["loss", name])  # Keras sorts the logs' keys
    assert logs[name] == pytest.approx(np.mean((p > 0.5).astype("float32") == y), abs=1e-6)
    assert logs["loss"] == pytest.approx(_bce(y, p).mean(), rel=1e-4)


@pytest.mark.parametrize("sparse", [False, True])
def test_accuracy_categorical_and_sparse(sparse):
    rng, x = _data(n=90)
    labels = rng.integers(0, 3, size=(90,))
    y = labels if sparse else np.eye(3, dtype="float32")[labels]
    model = _dense(4, 3, activation="softmax", hidden=8)
    loss = "sparse_categorical_crossentropy" if sparse else "categorical_crossentropy"
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    logs = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)
    assert logs["accuracy"] == pytest.approx(np.mean(np.argmax(p, -1) == labels), abs=1e-6)
    assert logs["loss"] == pytest.approx(_scce(labels, p).mean(), rel=1e-4)


def test_sparse_labels_with_shape_n_by_1():
    rng, x = _data(n=40)
    labels = rng.integers(0, 3, size=(40, 1))
    model = _dense(4, 3, activation="softmax")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    logs = model.evaluate(x, labels, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)
    assert logs["accuracy"] == pytest.approx(np.mean(np.argmax(p, -1) == labels[:, 0]), abs=1e-6)


def _reg_cls_model():
    # outputs in the order (reg, cls): not the sorted order of their names
    lamina.utils.set_random_seed(4)
    inp = lamina.Input((4,))
    reg = layers.Dense(1, name="reg")(inp)
    cls = layers.Dense(3, activation="softmax", name="cls")(inp)
    model = lamina.Model(inp, [reg, cls])
    model.compile(optimizer="sgd", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  metrics={"cls": ["accuracy"]}, weighted_metrics={"reg": ["mae"]})
    return model


def test_dict_targets_of_a_list_output_model_are_matched_by_output_name():
    rng, x = _data(n=40)
    yr = rng.normal(size=(40, 1)).astype("float32")
    yc = rng.integers(0, 3, size=(40,))
    sw_r, sw_c = rng.random(40).astype("float32"), rng.random(40).astype("float32")
    by_list = _reg_cls_model().evaluate(x, [yr, yc], sample_weight=[sw_r, sw_c], verbose=0, return_dict=True)
    by_name = _reg_cls_model().evaluate(x, {"cls": yc, "reg": yr}, sample_weight={"cls": sw_c, "reg": sw_r},
                                        verbose=0, return_dict=True)
    assert by_name == pytest.approx(by_list, rel=1e-6)
    # and it trains on the same targets: the same weights after a fit either way
    a, b = _reg_cls_model(), _reg_cls_model()
    a.fit(x, [yr, yc], batch_size=8, epochs=2, shuffle=False, verbose=0)
    b.fit(x, {"cls": yc, "reg": yr}, batch_size=8, epochs=2, shuffle=False, verbose=0)
    _assert_weights_close(_weights(a), _weights(b), atol=1e-6)


def test_dict_targets_with_unknown_output_names_are_refused_before_training():
    rng, x = _data(n=16)
    model = _reg_cls_model()
    with pytest.raises(ValueError, match=r"y is a dict with keys \['klass', 'reg'\].*named \['reg', 'cls'\]"):
        model.fit(x, {"reg": np.zeros((16, 1), "float32"), "klass": np.zeros(16, "int64")}, verbose=0)


@pytest.mark.parametrize("form", ["list", "dict"])
def test_multi_output_losses_and_loss_weights(form):
    rng, x = _data(n=40)
    ya = rng.normal(size=(40, 1)).astype("float32")
    yb = rng.integers(0, 3, size=(40,))
    model = _two_output_model(dict_outputs=(form == "dict"))
    if form == "list":
        model.compile(optimizer="adam", loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[1.0, 0.5],
                      metrics=[["mae"], ["accuracy"]])
        y = [ya, yb]
    else:
        model.compile(optimizer="adam", loss={"a": "mse", "b": "sparse_categorical_crossentropy"},
                      loss_weights={"a": 1.0, "b": 0.5}, metrics={"a": ["mae"], "b": ["accuracy"]})
        y = {"a": ya, "b": yb}
    logs = model.evaluate(x, y, batch_size=40, verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0)
    pa, pb = (pred if form == "list" else (pred["a"], pred["b"]))
    a_loss, b_loss = np.mean((pa - ya) ** 2), _scce(yb, pb).mean()
    # Keras 3: total loss, one "<output>_loss" per output (unweighted), metrics prefixed by the output name.
    assert set(logs) == {"loss", "a_loss", "b_loss", "a_mae", "b_accuracy"}
    assert logs["a_loss"] == pytest.approx(a_loss, rel=1e-4)
    assert logs["b_loss"] == pytest.approx(b_loss, rel=1e-4)
    assert logs["loss"] == pytest.approx(a_loss + 0.5 * b_loss, rel=1e-4)
    assert logs["a_mae"] == pytest.approx(np.mean(np.abs(pa - ya)), rel=1e-4)
    assert logs["b_accuracy"] == pytest.approx(np.mean(np.argmax(pb, -1) == yb), abs=1e-6)
    # evaluate's list: loss, the per-output losses, then the metrics (Keras's order).
    values = model.evaluate(x, y, batch_size=40, verbose=0)
    np.testing.assert_allclose(values, [logs[k] for k in ("loss", "a_loss", "b_loss", "a_mae", "b_accuracy")],
                               rtol=1e-5)
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert set(history.history) == {"loss", "a_loss", "b_loss", "a_mae", "b_accuracy"}


def test_sample_weight_and_class_weight_follow_the_keras_formula():
    x, y = _binary(n=48)
    w = np.linspace(0.0, 2.0, 48).astype("float32")
    model = _dense(4, 1, activation="sigmoid")
    model.compile(optimizer=lamina.optimizers.SGD(0.0), loss="binary_crossentropy")
    p = model.predict(x, verbose=0)
    per_sample = _bce(y, p)
    # sum_over_batch_size: sum(w * loss) / number of samples, whatever the batching.
    expected = np.sum(w * per_sample) / 48
    assert model.evaluate(x, y, sample_weight=w, batch_size=16, verbose=0) == pytest.approx(expected, rel=1e-4)
    history = model.fit(x, y, sample_weight=w, batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-4)
    unweighted = model.fit(x, y, batch_size=16, epochs=1, verbose=0).history["loss"][0]
    assert unweighted == pytest.approx(per_sample.mean(), rel=1e-4)

    class_weight = {0: 0.25, 1: 3.0}
    cw = np.where(y[:, 0] > 0.5, 3.0, 0.25)
    history = model.fit(x, y, class_weight=class_weight, batch_size=16, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(np.sum(cw * per_sample) / 48, rel=1e-4)
    # class_weight and sample_weight multiply.
    history = model.fit(x, y, class_weight=class_weight, sample_weight=w, batch_size=16, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(np.sum(cw * w * per_sample) / 48, rel=1e-4)


def test_class_weight_with_one_hot_labels():
    rng, x = _data(n=30)
    labels = rng.integers(0, 3, size=(30,))
    y = np.eye(3, dtype="float32")[labels]
    model = _dense(4, 3, activation="softmax")
    model.compile(optimizer=lamina.optimizers.SGD(0.0), loss="categorical_crossentropy")
    p = model.predict(x, verbose=0)
    cw = {0: 1.0, 1: 2.0, 2: 0.5}
    loss = model.fit(x, y, class_weight=cw, epochs=1, batch_size=10, verbose=0).history["loss"][0]
    weights = np.array([cw[c] for c in labels])
    assert loss == pytest.approx(np.sum(weights * _scce(labels, p)) / 30, rel=1e-4)


def test_weighted_metrics_under_sample_weights():
    x, y = _regression(n=40)
    w = np.linspace(0.5, 3.0, 40).astype("float32")
    model = _dense(4, 1)
    model.compile(optimizer=lamina.optimizers.SGD(0.0), loss="mse", metrics=["mae"], weighted_metrics=["mae"])
    logs = model.fit(x, y, sample_weight=w, epochs=1, batch_size=16, verbose=0).history
    p = model.predict(x, verbose=0)
    err = np.abs(p - y)[:, 0]
    # Keras 3: the weighted twin of a metric of the same name gets the "weighted_" prefix.
    assert set(logs) == {"loss", "mae", "weighted_mae"}
    assert logs["mae"][0] == pytest.approx(err.mean(), rel=1e-5)
    assert logs["weighted_mae"][0] == pytest.approx(np.sum(w * err) / np.sum(w), rel=1e-5)
    # Alone, a weighted metric keeps its own name (as in Keras 3).
    model.compile(optimizer=lamina.optimizers.SGD(0.0), loss="mse", weighted_metrics=["mae"])
    logs = model.evaluate(x, y, sample_weight=w, batch_size=16, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "mae"}
    assert logs["mae"] == pytest.approx(np.sum(w * err) / np.sum(w), rel=1e-5)


# ---- validation, epochs, steps, shuffling ------------------------------------------------------


def test_validation_data_gives_val_keys_equal_to_evaluate():
    x, y = _binary(n=80)
    xv, yv = _binary(n=30, seed=5)
    model = _dense(4, 1, activation="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=16, validation_data=(xv, yv), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    logs = model.evaluate(xv, yv, verbose=0, return_dict=True)
    assert history.history["val_loss"][-1] == pytest.approx(logs["loss"], rel=1e-5)
    assert history.history["val_accuracy"][-1] == pytest.approx(logs["accuracy"], abs=1e-6)


def test_validation_data_with_sample_weights():
    x, y = _regression(n=40)
    xv, yv = _regression(n=20, seed=2)
    wv = np.linspace(0, 1, 20).astype("float32")
    model = _dense(4, 1)
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, epochs=1, validation_data=(xv, yv, wv), verbose=0)
    expected = model.evaluate(xv, yv, sample_weight=wv, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(expected, rel=1e-5)


def test_validation_split_uses_the_last_samples():
    x, y = _regression(n=50)
    model = _dense(4, 1)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=2, batch_size=8, validation_split=0.2, verbose=0)
    logs = model.evaluate(x[40:], y[40:], verbose=0, return_dict=True)
    assert history.history["val_loss"][-1] == pytest.approx(logs["loss"], rel=1e-5)
    assert history.history["val_mae"][-1] == pytest.approx(logs["mae"], rel=1e-5)


def test_validation_split_trains_on_the_first_samples_only():
    x, y = _regression(n=50)
    model = _dense(4, 1)
    model.compile(optimizer="sgd", loss="mse")
    seen = []

    class Count(lamina.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)

    model.fit(x, y, epochs=1, batch_size=10, validation_split=0.2, verbose=0, callbacks=[Count()])
    assert len(seen) == 4


def test_validation_freq():
    x, y = _regression(n=32)
    xv, yv = _regression(n=8, seed=3)
    model = _dense(4, 1)
    model.compile(optimizer="sgd", loss="mse")
    epochs_with_val = []

    class Watch(lamina.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if "val_loss" in logs:
                epochs_with_val.append(epoch)

    history = model.fit(x, y, epochs=4, validation_data=(xv, yv), validation_freq=2, verbose=0,
                        callbacks=[Watch()])
    assert epochs_with_val == [1, 3]
    assert len(history.history["val_loss"]) == 2 and len(history.history["loss"]) == 4
    epochs_with_val.clear()
    model.fit(x, y, epochs=4, validation_data=(xv, yv), validation_freq=[1, 4], verbose=0, callbacks=[Watch()])
    assert epochs_with_val == [0, 3]


def test_initial_epoch():
    x, y = _regression(n=32)
    model = _dense(4, 1)
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, epochs=3, initial_epoch=1, verbose=0)
    assert history.epoch == [1, 2]
    assert len(history.history["loss"]) == 2


def test_steps_per_epoch_limits_the_batches():
    x, y = _regression(n=64)
    model = _dense(4, 1)
    model.compile(optimizer="sgd", loss="mse")
    counts = []

    class Count(lamina.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            counts.append(0)

        def on_train_batch_end(self, batch, logs=None):
            counts[-1] += 1

    model.fit(x, y, epochs=2, batch_size=8, steps_per_epoch=3, verbose=0, callbacks=[Count()])
    assert counts == [3, 3]


def test_shuffle_false_is_order_deterministic_whatever_the_seed():
    x, y = _regression(n=40)
    model = _dense(4, 1, hidden=6)
    start = _weights(model)
    results = []
    for seed in (1, 2):
        model.set_weights(start)
        model.compile(optimizer=lamina.optimizers.SGD(0.05), loss="mse")
        lamina.utils.set_random_seed(seed)
        model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        results.append(_weights(model))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_set_random_seed_makes_fit_with_dropout_repeatable():
    x, y = _regression(n=48)

    def run():
        lamina.utils.set_random_seed(42)
        model = lamina.Sequential([lamina.Input((4,)), layers.Dense(16, activation="relu"), layers.Dropout(0.5),
                                   layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        return _weights(model), history.history["loss"]

    (w1, l1), (w2, l2) = run(), run()
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    assert l1 == l2


# ---- the fast path equals the plain path ---------------------------------------------------------


def test_steps_per_execution_and_run_eagerly_give_the_same_weights():
    # 37 batches of 8 (not a multiple of 16) and a short last batch of 3.
    rng, x = _data(n=36 * 8 + 3)
    y = rng.integers(0, 3, size=(len(x),))
    model = _dense(4, 3, activation="softmax", hidden=8)
    start = _weights(model)
    results = {}
    for key, kwargs in {"spe1": {"steps_per_execution": 1}, "spe16": {"steps_per_execution": 16},
                        "auto": {"steps_per_execution": "auto"}, "eager": {"run_eagerly": True}}.items():
        model.set_weights(start)
        model.compile(optimizer=lamina.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], **kwargs)
        lamina.utils.set_random_seed(7)
        history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
        results[key] = (_weights(model), history.history, logs)
    ref_w, ref_h, ref_logs = results["spe1"]
    for key in ("spe16", "auto", "eager"):
        w, h, logs = results[key]
        _assert_weights_close(w, ref_w)
        assert h["loss"][0] == pytest.approx(ref_h["loss"][0], rel=1e-5)
        assert h["accuracy"][0] == pytest.approx(ref_h["accuracy"][0], abs=1e-6)
        assert logs["loss"] == pytest.approx(ref_logs["loss"], rel=1e-5)
    assert int(np.asarray(model.optimizer.iterations)) == 37


def test_steps_fused_in_one_compiled_call_give_the_same_weights(monkeypatch):
    # On the CPU the JAX trainer runs one step per compiled call; on accelerators it fuses
    # steps_per_execution steps with lax.scan. Force the fused path here and compare.
    from lamina.backend import engine

    if not hasattr(engine.trainer, "FUSE_STEPS_ON_CPU"):
        pytest.skip("fusing steps into one compiled call is a JAX trainer feature")
    rng, x = _data(n=20 * 8 + 3)
    y = rng.integers(0, 3, size=(len(x),))
    model = _dense(4, 3, activation="softmax", hidden=8)
    start = _weights(model)
    results = []
    # one step per call; full blocks fused for a step without convolutions (the CPU's default); all fused
    for fuse, without_convolutions in ((False, False), (False, True), (True, True)):
        monkeypatch.setattr(engine.trainer, "FUSE_STEPS_ON_CPU", fuse)
        monkeypatch.setattr(engine.trainer, "FUSE_STEPS_WITHOUT_CONVOLUTIONS", without_convolutions)
        model.set_weights(start)
        model.compile(optimizer=lamina.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], steps_per_execution=4)
        lamina.utils.set_random_seed(7)
        history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        results.append((_weights(model), history.history["loss"][0]))
    for other in results[1:]:
        _assert_weights_close(other[0], results[0][0])
        assert other[1] == pytest.approx(results[0][1], rel=1e-5)


def test_cpu_fuses_steps_only_without_convolutions():
    # XLA:CPU runs convolutions about 11x slower inside a loop body: their steps stay one per compiled call,
    # while a Dense model's blocks of steps run in one call (a loop over the block's real steps).
    from lamina.backend import engine

    if not hasattr(engine.trainer, "FUSE_STEPS_WITHOUT_CONVOLUTIONS") or lamina.backend.backend() != "jax":
        pytest.skip("a JAX trainer feature")
    import jax

    if jax.default_backend() != "cpu":
        pytest.skip("every step is fused on an accelerator")
    rng = np.random.default_rng(0)
    dense = _dense(4, 3, activation="softmax", hidden=8)
    conv = lamina.Sequential([lamina.Input((6, 6, 1)), lamina.layers.Conv2D(2, 3), lamina.layers.Flatten(),
                              lamina.layers.Dense(3, activation="softmax")])
    for model, x, fused in ((dense, rng.normal(size=(64, 4)), True), (conv, rng.normal(size=(64, 6, 6, 1)), False)):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", steps_per_execution=4)
        model.fit(x.astype("float32"), rng.integers(0, 3, 64), batch_size=8, epochs=1, verbose=0)
        assert model._step_functions["train"]._fuse_blocks is fused


def test_steps_per_execution_is_validated():
    model = _dense(4, 1)
    with pytest.raises(ValueError, match="steps_per_execution"):
        model.compile(optimizer="sgd", loss="mse", steps_per_execution=-2)


# ---- Keras 2-era forms -----------------------------------------------------------------------------


def test_adam_lr_keyword_warns_and_works():
    with pytest.warns(DeprecationWarning, match="learning_rate"):
        opt = lamina.optimizers.Adam(lr=0.01)
    assert float(np.asarray(opt.learning_rate)) == pytest.approx(0.01)
    x, y = _regression(n=16)
    model = _dense(4, 1)
    model.compile(optimizer=opt, loss="mse")
    model.fit(x, y, epochs=1, verbose=0)


def test_k_set_value_on_optimizer_lr_changes_the_next_fit():
    from lamina import backend as K

    rng, x = _data(n=16)
    y = rng.normal(size=(16, 1)).astype("float32")
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(1, use_bias=False)])
    opt = lamina.optimizers.SGD(learning_rate=0.1)
    model.compile(optimizer=opt, loss="mse")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)      # builds everything (and compiles the steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        K.set_value(opt.lr, 0.001)
        assert float(K.get_value(opt.lr)) == pytest.approx(0.001)
        assert float(K.get_value(opt.learning_rate)) == pytest.approx(0.001)
    w0 = _weights(model)[0]
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    grad = 2.0 / 16 * x.T @ (x @ w0 - y)
    np.testing.assert_allclose(_weights(model)[0], w0 - 0.001 * grad, rtol=1e-4, atol=1e-7)
    opt.learning_rate = 0.5
    w1 = _weights(model)[0]
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    grad = 2.0 / 16 * x.T @ (x @ w1 - y)
    np.testing.assert_allclose(_weights(model)[0], w1 - 0.5 * grad, rtol=1e-4, atol=1e-6)


def test_k_dot_and_epsilon():
    from lamina import backend as K

    a = np.arange(6, dtype="float32").reshape(2, 3)
    b = np.arange(12, dtype="float32").reshape(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        np.testing.assert_allclose(K.get_value(K.dot(a, b)), a @ b)
    assert K.epsilon() == 1e-7


# ---- clear errors -------------------------------------------------------------------------------


def test_fit_before_compile():
    x, y = _regression(n=8)
    model = _dense(4, 1)
    for call in (lambda: model.fit(x, y, verbose=0), lambda: model.evaluate(x, y, verbose=0),
                 lambda: model.train_on_batch(x, y)):
        with pytest.raises(RuntimeError, match="compile"):
            call()


def test_sparse_labels_out_of_range():
    x, _ = _regression(n=8)
    model = _dense(4, 3, activation="softmax")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"\[0, 2\].*range from 0 to 3"):
        model.fit(x, np.array([0, 1, 2, 3, 0, 1, 2, 0]), verbose=0)
    with pytest.raises(ValueError, match="range from -1 to 2"):
        model.evaluate(x, np.array([0, 1, 2, -1, 0, 1, 2, 0]), verbose=0)


def test_sparse_labels_checked_against_the_right_output():
    rng, x = _data(n=12)
    model = _two_output_model()
    model.compile(optimizer="adam", loss=["mse", "sparse_categorical_crossentropy"])
    ya = rng.normal(size=(12, 1)).astype("float32")
    model.fit(x, [ya, rng.integers(0, 3, size=(12,))], verbose=0)   # 3 classes: fine
    with pytest.raises(ValueError, match="3 classes"):
        model.fit(x, [ya, np.full((12,), 5)], verbose=0)


def test_missing_targets():
    x, _ = _regression(n=8)
    model = _dense(4, 1)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="no loss to minimize"):
        model.fit(x, verbose=0)


def test_x_and_y_with_different_numbers_of_samples():
    x, y = _regression(n=10)
    model = _dense(4, 1)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="same number of samples.*x has 10.*y has 9"):
        model.fit(x, y[:9], verbose=0)
    with pytest.raises(ValueError, match="sample_weight has 3"):
        model.fit(x, y, sample_weight=np.ones(3), verbose=0)


def test_nan_in_x():
    x, y = _regression(n=10)
    x[3, 1] = np.nan
    model = _dense(4, 1)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="NaN"):
        model.fit(x, y, verbose=0)


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinity_in_x_is_reported_with_its_count(bad):
    x, y = _regression(n=10)
    x[2, 0] = bad
    x[7, 3] = np.nan
    model = _dense(4, 1)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"contains 2 NaN or infinite"):
        model.fit(x, y, verbose=0)


def test_huge_finite_inputs_are_not_mistaken_for_infinity():
    # the one-pass check (a sum of squares) overflows here; the element-wise check must decide
    x, y = _regression(n=10)
    x[4, 2] = 3e38
    model = _dense(4, 1)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)  # no ValueError: every value is finite


def test_empty_data():
    model = _dense(4, 1)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="empty"):
        model.fit(np.zeros((0, 4), "float32"), np.zeros((0, 1), "float32"), verbose=0)
    with pytest.raises(ValueError, match="empty"):
        model.predict(np.zeros((0, 4), "float32"), verbose=0)


@pytest.mark.parametrize("kind,kwargs,suggestion", [
    ("loss", {"loss": "mean_sqared_error"}, "mean_squared_error"),
    ("metric", {"loss": "mse", "metrics": ["mea"]}, "mae"),
    ("optimizer", {"optimizer": "adma", "loss": "mse"}, "adam"),
])
def test_unknown_names_suggest_close_matches(kind, kwargs, suggestion):
    x, y = _regression(n=8)
    model = _dense(4, 1)
    with pytest.raises(ValueError, match=rf"(?s){kind}.*Did you mean.*{suggestion}"):
        model.compile(**kwargs)
        model.fit(x, y, verbose=0)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5])
def test_bad_batch_size(batch_size):
    x, y = _regression(n=8)
    model = _dense(4, 1)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        model.fit(x, y, batch_size=batch_size, verbose=0)


@pytest.mark.parametrize("bad", [np.zeros((4, 4)), (1, 2, 3, 4)])
def test_wrong_validation_data_structure(bad):
    x, y = _regression(n=8)
    model = _dense(4, 1)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"validation_data must be a tuple \(x_val, y_val\)"):
        model.fit(x, y, validation_data=bad, verbose=0)


def test_validation_data_without_targets_for_a_model_that_needs_them():
    # (x_val,) is accepted (as Keras: models with their own test_step need no targets); a compiled loss
    # without targets is a clear error, not a crash
    x, y = _regression(n=8)
    model = _dense(4, 1)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="targets `y`"):
        model.fit(x, y, validation_data=(x,), verbose=0)


def test_wrong_input_last_dimension_names_the_layer_and_shapes():
    model = lamina.Sequential([lamina.Input((100,)), layers.Dense(8, name="dense_in"), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"dense_in.*100.*\(8, 784\)"):
        model.fit(np.zeros((8, 784), "float32"), np.zeros((8, 1), "float32"), verbose=0)
    with pytest.raises(ValueError, match=r"dense_in.*100.*\(16, 784\)"):
        model.fit(np.zeros((50, 784), "float32"), np.zeros((50, 1), "float32"), batch_size=16, verbose=0)
    with pytest.raises(ValueError, match=r"dense_in.*100.*\(8, 784\)"):
        model.predict(np.zeros((8, 784), "float32"), verbose=0)


def test_wrong_input_rank_too_low_names_the_model_and_shapes():
    model = lamina.Sequential([lamina.Input((4, 5)), layers.Dense(2, name="dense_in")], name="seq")
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"seq.*\(None, 4, 5\).*\(8, 20\)"):
        model.fit(np.zeros((8, 20), "float32"), np.zeros((8, 4, 2), "float32"), verbose=0)


def test_wrong_input_rank_too_high_is_an_error():
    model = lamina.Sequential([lamina.Input((100,)), layers.Dense(8, name="dense_in"), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"\(None, 100\).*\(8, 10, 100\)"):
        model.predict(np.zeros((8, 10, 100), "float32"), verbose=0)


def test_rank_1_input_for_a_model_with_one_feature():
    x, y = _regression(n=16, d=1)
    model = _dense(1, 1)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x[:, 0], y, epochs=1, verbose=0)
    assert model.predict(x[:, 0], verbose=0).shape == (16, 1)


def test_bad_epochs_and_verbose():
    x, y = _regression(n=8)
    model = _dense(4, 1)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="epochs"):
        model.fit(x, y, epochs=-1, verbose=0)
    with pytest.raises(ValueError, match="verbose"):
        model.fit(x, y, verbose=5)


# ---- callbacks and printing ---------------------------------------------------------------------


class _Recorder(lamina.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None): self.calls.append(("train_begin",))
    def on_train_end(self, logs=None): self.calls.append(("train_end",))
    def on_epoch_begin(self, epoch, logs=None): self.calls.append(("epoch_begin", epoch))
    def on_epoch_end(self, epoch, logs=None): self.calls.append(("epoch_end", epoch, sorted(logs)))
    def on_train_batch_begin(self, batch, logs=None): self.calls.append(("batch_begin", batch))
    def on_train_batch_end(self, batch, logs=None): self.calls.append(("batch_end", batch, sorted(logs)))
    def on_test_begin(self, logs=None): self.calls.append(("test_begin",))
    def on_test_end(self, logs=None): self.calls.append(("test_end",))


def test_callback_hooks_order_and_counts():
    x, y = _regression(n=20)
    model = _dense(4, 1)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    rec = _Recorder()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[rec], validation_data=(x[:4], y[:4]))
    per_epoch = lambda e: [("epoch_begin", e)] + [
        c for b in range(3) for c in (("batch_begin", b), ("batch_end", b, ["loss", "mae"]))
    ] + [("test_begin",), ("test_end",), ("epoch_end", e, ["loss", "mae", "val_loss", "val_mae"])]
    assert rec.calls == [("train_begin",)] + per_epoch(0) + per_epoch(1) + [("train_end",)]
    assert rec.model is model
    assert rec.params["epochs"] == 2 and rec.params["steps"] == 3


def test_batch_logs_are_running_means():
    x, y = _regression(n=24)
    model = _dense(4, 1)
    model.compile(optimizer=lamina.optimizers.SGD(0.0), loss="mse")
    batch_losses = []

    class Grab(lamina.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batch_losses.append(logs["loss"])

    history = model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0, callbacks=[Grab()])
    err = ((model.predict(x, verbose=0) - y) ** 2)[:, 0]
    np.testing.assert_allclose(batch_losses, [err[:8].mean(), err[:16].mean(), err.mean()], rtol=1e-5)
    assert history.history["loss"][0] == pytest.approx(err.mean(), rel=1e-5)


def test_stop_training_from_a_callback():
    x, y = _regression(n=32)
    model = _dense(4, 1)
    model.compile(optimizer="sgd", loss="mse")

    class StopAtEpoch1(lamina.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[StopAtEpoch1()])
    assert history.epoch == [0, 1]
    assert len(history.history["loss"]) == 2


def test_verbose_2_prints_one_line_per_epoch(capsys):
    x, y = _regression(n=20)
    model = _dense(4, 1)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=2, validation_data=(x[:4], y[:4]))
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    pattern = r"^3/3 - \d+s - \d+(us|ms|s)/step - loss: \d+\.\d{4}.* - mae: .* - val_loss: .* - val_mae: "
    for line in (lines[1], lines[3]):
        assert __import__("re").match(pattern, line), line


def test_verbose_0_prints_nothing(capsys):
    x, y = _regression(n=20)
    model = _dense(4, 1)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    out = capsys.readouterr()
    assert out.out == ""


def test_evaluate_and_predict_verbose_print_a_line(capsys):
    x, y = _regression(n=20)
    model = _dense(4, 1)
    model.compile(optimizer="sgd", loss="mse")
    model.evaluate(x, y, batch_size=8, verbose=2)
    model.predict(x, batch_size=8, verbose=2)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert len(lines) == 2
    assert lines[0].startswith("3/3 - ") and "loss: " in lines[0]
    assert lines[1].startswith("3/3 - ")


# ---- a tutorial run -------------------------------------------------------------------------------


def test_dense_classifier_tutorial():
    rng = np.random.default_rng(0)
    x_train = rng.random((200, 100)).astype("float32")
    y_train = lamina.utils.to_categorical(rng.integers(10, size=(200, 1)), num_classes=10) \
        if hasattr(lamina.utils, "to_categorical") else np.eye(10, dtype="float32")[rng.integers(10, size=200)]
    x_test = rng.random((50, 100)).astype("float32")
    y_test = np.eye(10, dtype="float32")[rng.integers(10, size=50)]

    model = lamina.Sequential()
    model.add(layers.Dense(64, activation="relu", input_dim=100))
    model.add(layers.Dense(32))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=2, batch_size=32, verbose=0)
    assert len(history.history["loss"]) == 2
    score = model.evaluate(x_test, y_test, batch_size=32, verbose=0)
    assert isinstance(score, list) and len(score) == 2
    assert score[0] > 0 and 0.0 <= score[1] <= 1.0
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert loss == pytest.approx(score[0], rel=1e-6) and accuracy == pytest.approx(score[1])
    p = model.predict(x_test, verbose=0)
    assert accuracy == pytest.approx(np.mean(np.argmax(p, -1) == np.argmax(y_test, -1)), abs=1e-6)


@pytest.mark.parametrize("loss, units, activation, labels", [
    ("binary_crossentropy", 1, "sigmoid", "binary"),
    ("sparse_categorical_crossentropy", 3, "softmax", "sparse"),
    ("categorical_crossentropy", 3, "softmax", "onehot"),
    ("bce_logits", 1, None, "binary"),
])
def test_crossentropy_metric_alias_follows_the_loss(loss, units, activation, labels):
    # Keras 2's metrics=["crossentropy"]: the crossentropy that goes with the loss, so it equals the loss here
    rng = np.random.default_rng(3)
    x = rng.random((32, 4)).astype("float32")
    y = {"binary": rng.integers(0, 2, (32, 1)), "sparse": rng.integers(0, 3, 32),
         "onehot": np.eye(3, dtype="float32")[rng.integers(0, 3, 32)]}[labels]
    if loss == "bce_logits":
        loss = lamina.losses.BinaryCrossentropy(from_logits=True)
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(units, activation=activation)])
    model.compile(optimizer="sgd", loss=loss, metrics=["crossentropy"])
    logs = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    assert logs["crossentropy"] == pytest.approx(logs["loss"], rel=1e-5)
