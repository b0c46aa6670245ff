"""The order of what the training loop reports, as Keras 3.15.1 gives it (checked against Keras on JAX and
PyTorch): ``evaluate()``'s list, ``metrics_names``, the keys of the logs, ``history.history`` and the progress
bar, and the messages of ModelCheckpoint. Code that unpacks ``evaluate()``'s list relies on this order."""

import re
import warnings

import numpy as np
import pytest

import lamina
from lamina import callbacks, layers

RNG = np.random.default_rng(0)
X = RNG.random((32, 5)).astype("float32")
YP = RNG.random((32, 1)).astype("float32")
YD = np.eye(4, dtype="float32")[RNG.integers(0, 4, 32)]


def _parts():
    inp = lamina.Input((5,), name="x")
    h = layers.Dense(8)(inp)
    return inp, layers.Dense(1, name="priority")(h), layers.Dense(4, name="department")(h)


def _evaluated(model, y):
    values = model.evaluate(X, y, verbose=0)
    logs = model.evaluate(X, y, verbose=0, return_dict=True)
    return values, logs


# ---- evaluate(): [loss, <per-output losses>, <metrics>] ------------------------------------------------------


@pytest.mark.parametrize("outputs_order", ["pd", "dp"])
@pytest.mark.parametrize("loss_order", ["pd", "dp"])
def test_dict_outputs_list_follows_the_loss_dict(outputs_order, loss_order):
    inp, pr, de = _parts()
    outs = {"p": ("priority", pr), "d": ("department", de)}
    model = lamina.Model(inp, dict(outs[k] for k in outputs_order))
    losses = {"priority": "mse", "department": "categorical_crossentropy"}
    model.compile("sgd", loss={k: losses[k] for k in (outs[c][0] for c in loss_order)},
                  metrics={"priority": ["mae"], "department": ["accuracy"]})
    values, logs = _evaluated(model, {"priority": YP, "department": YD})
    first, second = ("priority", "department") if loss_order == "pd" else ("department", "priority")
    # Keras: the loss, the per-output losses in the loss dict's order, then the metrics by sorted key
    expected = ["loss", f"{first}_loss", f"{second}_loss", "department_accuracy", "priority_mae"]
    assert values == [logs[k] for k in expected]
    assert list(logs) == sorted(expected)
    # lamina's metrics_names name evaluate()'s values in order (Keras 3's ["loss", "compile_metrics", ...] does
    # not: keras-team/keras#21487)
    assert model.metrics_names == expected
    assert dict(zip(model.metrics_names, values)) == logs
    assert logs["loss"] == pytest.approx(logs["priority_loss"] + logs["department_loss"], rel=1e-5)


def test_dict_outputs_not_sorted_by_name():
    inp, pr, de = _parts()
    model = lamina.Model(inp, {"zeta": pr, "alpha": de})
    model.compile("sgd", loss={"zeta": "mse", "alpha": "categorical_crossentropy"},
                  metrics={"zeta": ["mae"], "alpha": ["accuracy"]})
    values, logs = _evaluated(model, {"zeta": YP, "alpha": YD})
    assert values == [logs[k] for k in ["loss", "zeta_loss", "alpha_loss", "alpha_accuracy", "zeta_mae"]]
    assert model.metrics_names == ["loss", "zeta_loss", "alpha_loss", "alpha_accuracy", "zeta_mae"]


def test_one_loss_for_dict_outputs_goes_by_sorted_output_names():
    inp, pr, de = _parts()
    model = lamina.Model(inp, {"priority": pr, "department": de})
    model.compile("sgd", loss="mse")
    values, logs = _evaluated(model, {"priority": YP, "department": YD})
    assert values == [logs["loss"], logs["department_loss"], logs["priority_loss"]]
    assert model.metrics_names == ["loss", "department_loss", "priority_loss"]


@pytest.mark.parametrize("loss_as_dict", [False, True])
def test_list_outputs_go_by_output_order(loss_as_dict):
    inp, pr, de = _parts()
    model = lamina.Model(inp, [de, pr])
    loss = {"priority": "mse", "department": "categorical_crossentropy"} if loss_as_dict else \
        ["categorical_crossentropy", "mse"]
    model.compile("sgd", loss=loss, metrics=[["accuracy"], ["mae"]])
    values, logs = _evaluated(model, [YD, YP])
    assert values == [logs[k] for k in ["loss", "department_loss", "priority_loss", "department_accuracy",
                                        "priority_mae"]]


def test_weighted_losses_in_loss_dict_order():
    inp, pr, de = _parts()
    model = lamina.Model(inp, {"priority": pr, "department": de})
    model.compile("sgd", loss={"priority": "mse", "department": "mse"},
                  loss_weights={"department": 2.0, "priority": 0.5})
    values, logs = _evaluated(model, {"priority": YP, "department": YD})
    assert values == [logs["loss"], logs["priority_loss"], logs["department_loss"]]
    assert logs["loss"] == pytest.approx(0.5 * logs["priority_loss"] + 2.0 * logs["department_loss"], rel=1e-5)


def test_a_single_loss_among_outputs_reports_no_output_loss():
    inp, pr, de = _parts()
    model = lamina.Model(inp, {"priority": pr, "department": de})
    model.compile("sgd", loss={"priority": "mse", "department": None}, metrics={"department": ["mae"]})
    values, logs = _evaluated(model, {"priority": YP, "department": YD})
    assert list(logs) == ["department_mae", "loss"]
    assert values == [logs["loss"], logs["department_mae"]]
    assert model.metrics_names == ["loss", "department_mae"]


def test_single_output_metrics_in_compile_order():
    inp, _, de = _parts()
    model = lamina.Model(inp, de)
    model.compile("sgd", loss="categorical_crossentropy", metrics=["mae", "accuracy"])
    values, logs = _evaluated(model, YD)
    assert list(logs) == ["accuracy", "loss", "mae"]
    assert values == [logs["loss"], logs["mae"], logs["accuracy"]]
    assert model.metrics_names == ["loss", "mae", "accuracy"]
    model.compile("sgd", loss="categorical_crossentropy", metrics=["accuracy", "mae"])
    values, logs = _evaluated(model, YD)
    assert values == [logs["loss"], logs["accuracy"], logs["mae"]]
    assert model.train_on_batch(X, YD) == [pytest.approx(v) for v in
                                             [model.get_metrics_result()[k] for k in ["loss", "accuracy", "mae"]]]


def test_keras_quirk_a_weighted_metric_of_the_same_name():
    # Keras matches the values to the metrics' own names: "mse" twice, then the rest ("weighted_mse") sorted.
    inp, _, de = _parts()
    model = lamina.Model(inp, de)
    model.compile("sgd", loss="categorical_crossentropy", metrics=["mse"], weighted_metrics=["mse"])
    sw = RNG.random(32).astype("float32")
    values = model.evaluate(X, YD, sample_weight=sw, verbose=0)
    logs = model.evaluate(X, YD, sample_weight=sw, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "mse", "weighted_mse"]
    assert values == [logs["loss"], logs["mse"], logs["mse"], logs["weighted_mse"]]


def test_compiling_again_without_metrics_keeps_them():
    inp, _, de = _parts()
    model = lamina.Model(inp, de)
    model.compile("sgd", loss="mse", metrics=["mae"])
    model.compile(lamina.optimizers.Adam(0.01), loss="mse")  # as Keras: the metrics of the last compile stay
    history = model.fit(X, YD, epochs=1, verbose=0)
    assert list(history.history) == ["loss", "mae"]


# ---- the keys of the logs: sorted, and what callbacks add comes after -----------------------------------------


class _Record(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = {}

    def on_train_batch_end(self, batch, logs=None):
        self.seen.setdefault("batch", list(logs))

    def on_epoch_end(self, epoch, logs=None):
        self.seen.setdefault("epoch", list(logs))

    def on_test_end(self, logs=None):
        self.seen.setdefault("test", list(logs))

    def on_train_end(self, logs=None):
        self.seen["train_end"] = list(logs)


def _single(metrics=("mae", "accuracy")):
    inp, _, de = _parts()
    model = lamina.Model(inp, de)
    model.compile("sgd", loss="categorical_crossentropy", metrics=list(metrics))
    return model


@pytest.mark.parametrize("lr_callback", ["plateau", "scheduler"])
def test_history_keys_sorted_then_learning_rate(lr_callback):
    cb = callbacks.ReduceLROnPlateau(monitor="loss", patience=1) if lr_callback == "plateau" else \
        callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.9)
    model = _single()
    record = _Record()
    history = model.fit(X, YD, epochs=2, verbose=0, validation_split=0.25, callbacks=[cb, record])
    assert list(history.history) == ["accuracy", "loss", "mae", "val_accuracy", "val_loss", "val_mae",
                                     "learning_rate"]
    assert record.seen["batch"] == ["accuracy", "loss", "mae"]
    assert record.seen["test"] == ["accuracy", "loss", "mae"]
    assert record.seen["epoch"] == list(history.history)
    # the callbacks share one dict per hook: the loop's own logs (given to on_train_end) have no learning_rate
    assert record.seen["train_end"] == ["accuracy", "loss", "mae", "val_accuracy", "val_loss", "val_mae"]
    # validation in the 2nd epoch only: its keys come after learning_rate
    history = _single().fit(X, YD, epochs=2, verbose=0, validation_split=0.25, validation_freq=2, callbacks=[cb])
    assert list(history.history) == ["accuracy", "loss", "mae", "learning_rate", "val_accuracy", "val_loss",
                                     "val_mae"]


def test_multi_output_history_and_batch_logs_sorted():
    inp, pr, de = _parts()
    model = lamina.Model(inp, {"zeta": pr, "alpha": de})
    model.compile("sgd", loss={"zeta": "mse", "alpha": "categorical_crossentropy"},
                  metrics={"zeta": ["mae"], "alpha": ["accuracy"]})
    history = model.fit(X, {"zeta": YP, "alpha": YD}, epochs=1, verbose=0, validation_split=0.25)
    train = ["alpha_accuracy", "alpha_loss", "loss", "zeta_loss", "zeta_mae"]
    assert list(history.history) == sorted(train + [f"val_{k}" for k in train])
    assert list(model.train_on_batch(X, {"zeta": YP, "alpha": YD}, return_dict=True)) == train
    assert list(model.test_on_batch(X, {"zeta": YP, "alpha": YD}, return_dict=True)) == train


def test_custom_step_logs_sorted():
    class Custom(lamina.Model):
        def train_step(self, data):
            return {"zz": 1.0, "aa": 2.0, "mm": 3.0}

        def test_step(self, data):
            return {"zz": 1.0, "aa": 2.0, "mm": 3.0}

    inp, _, de = _parts()
    model = Custom(inp, de)
    model.compile("sgd", loss="mse")
    history = model.fit(X, YD, epochs=1, verbose=0, validation_split=0.25)
    assert list(history.history) == ["aa", "mm", "val_aa", "val_mm", "val_zz", "zz"]
    assert model.evaluate(X, YD, verbose=0) == [2.0, 3.0, 1.0]
    assert list(model.evaluate(X, YD, verbose=0, return_dict=True)) == ["aa", "mm", "zz"]


# ---- the progress bar ---------------------------------------------------------------------------------------


def _metric_names(line):
    return re.findall(r" - ([a-z_]+): ", line)


@pytest.mark.parametrize("verbose", [1, 2])
def test_progress_bar_order(verbose, capsys):
    # verbose=2 prints the epoch's logs in their order (sorted, then learning_rate); the verbose=1 bar has
    # learnt the training metrics from the batches first, so a training key sorting after "val_" comes first
    model = _single([lamina.metrics.MeanAbsoluteError(name="zz")])
    model.fit(X, YD, epochs=1, verbose=verbose, validation_split=0.25,
              callbacks=[callbacks.ReduceLROnPlateau(monitor="loss")])
    line = [ln for ln in capsys.readouterr().out.replace("\r", "\n").splitlines() if "val_loss" in ln][-1]
    if verbose == 2:
        assert _metric_names(line) == ["loss", "val_loss", "val_zz", "zz", "learning_rate"]
    else:
        assert _metric_names(line) == ["loss", "zz", "val_loss", "val_zz", "learning_rate"]


def test_progbar_in_the_order_reported(capsys):
    bar = lamina.utils.Progbar(target=2, verbose=2)
    bar.update(1, values=[("zz", 1.0), ("aa", 2.0)])
    bar.update(2, values=[("aa", 2.0), ("mm", 3.0), ("zz", 1.0)], finalize=True)
    assert _metric_names(capsys.readouterr().out) == ["zz", "aa", "mm"]


# ---- ModelCheckpoint's messages -----------------------------------------------------------------------------


def _regression():
    model = lamina.Sequential([lamina.Input((5,)), layers.Dense(1)])
    model.compile(lamina.optimizers.SGD(0.01), "mse", metrics=["mae"])
    return model


def test_checkpoint_messages(tmp_path, capsys):
    best = str(tmp_path / "best.weights.h5")
    every = str(tmp_path / "e{epoch}.keras")
    _regression().fit(X, YP, epochs=2, verbose=0, validation_split=0.25, callbacks=[
        callbacks.ModelCheckpoint(best, save_best_only=True, save_weights_only=True, verbose=1),
        callbacks.ModelCheckpoint(every, verbose=1)])
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln]
    assert re.fullmatch(r"Epoch 1: val_loss improved from None to \d+\.\d{5}, saving model to " + re.escape(best),
                        lines[0])
    assert lines[1] == f"Epoch 1: finished saving model to {best}"
    assert lines[2:4] == [f"Epoch 1: saving model to {tmp_path / 'e1.keras'}",
                          f"Epoch 1: finished saving model to {tmp_path / 'e1.keras'}"]
    assert re.fullmatch(r"Epoch 2: val_loss (improved from \d+\.\d{5} to \d+\.\d{5}, saving model to "
                        + re.escape(best) + r"|did not improve from \d+\.\d{5})", lines[4])


def test_checkpoint_threshold_and_missing_monitor(tmp_path, capsys):
    path = str(tmp_path / "c.keras")
    _regression().fit(X, YP, epochs=1, verbose=0, validation_split=0.25, callbacks=[
        callbacks.ModelCheckpoint(path, save_best_only=True, verbose=1, initial_value_threshold=1e-9)])
    assert capsys.readouterr().out.strip() == "Epoch 1: val_loss did not improve from 0.00000"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _regression().fit(X, YP, epochs=1, verbose=0, callbacks=[
            callbacks.ModelCheckpoint(path, save_best_only=True, verbose=1)])
    assert "Can save best model only with val_loss available." in [str(w.message) for w in caught]
    assert capsys.readouterr().out.strip() == f"Epoch 1: finished saving model to {path}"  # saved anyway


def test_predict_returns_dict_outputs_with_sorted_keys_on_both_engines():
    inp = lamina.Input((3,))
    model = lamina.Model(inp, {"c": lamina.layers.Dense(1)(inp), "a": lamina.layers.Dense(2)(inp),
                               "b": lamina.layers.Dense(3)(inp)})
    x = np.ones((40, 3), "float32")
    for out in (model.predict(x[:4], verbose=0), model.predict(x, batch_size=16, verbose=0),
                model.predict_on_batch(x[:4])):
        assert list(out) == ["a", "b", "c"]  # as Keras's predict (calling the model keeps the model's order)
        assert [out[k].shape[1] for k in out] == [2, 3, 1]
    assert list(model(x[:2])) == ["c", "a", "b"]


def test_single_output_model_takes_one_element_loss_and_metric_lists():
    # Keras accepts loss=["mse"], loss_weights=[w] and metrics=[["mae"]] for a model with one output.
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(1, kernel_initializer="zeros")])
    model.compile("sgd", loss=["mse"], metrics=[["mae"]], loss_weights=[2.0])
    logs = model.evaluate(np.ones((4, 3), "float32"), np.ones((4, 1), "float32"), verbose=0, return_dict=True)
    assert logs == {"loss": pytest.approx(2.0), "mae": pytest.approx(1.0)}  # Keras 3.15.1's values
