"""The built-in callbacks: EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler,
CSVLogger, TerminateOnNaN and LambdaCallback, driven by a real fit on the current backend."""

import csv
import os
import warnings

import numpy as np
import pytest

import lamina
from lamina import callbacks, layers


def _model(lr=0.1, **dense):
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(1, **dense)])
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=lr), loss="mse", metrics=["mae"])
    return model


def _xy(n=16):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")


class Script(callbacks.Callback):
    """Writes scripted values of `key` into the epoch logs (it runs before the callback under test)."""

    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values, self.key = values, key
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def _w(model):
    return float(np.asarray(model.get_weights()[0]).ravel()[0])


# ---- EarlyStopping ---------------------------------------------------------------------------

def test_early_stopping_stops_after_patience_and_restores_best_weights():
    model = _model()
    x, y = _xy()
    script = Script([1.0, 0.5, 0.6, 0.7, 0.4, 0.3, 0.2, 0.1])
    stop = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    h = model.fit(x, y, epochs=8, batch_size=4, verbose=0, callbacks=[script, stop])
    assert len(h.history["loss"]) == 4 and stop.stopped_epoch == 3 and stop.best_epoch == 1
    assert stop.best == 0.5
    for got, want in zip(model.get_weights(), script.weights[1]):
        np.testing.assert_allclose(got, want)
    assert not np.allclose(script.weights[1][0], script.weights[3][0])  # training did move the weights
    # The restored weights are the ones the model predicts with.
    np.testing.assert_allclose(model.predict(x, verbose=0), x @ script.weights[1][0] + script.weights[1][1],
                               rtol=1e-5, atol=1e-5)


def test_early_stopping_min_delta_baseline_and_start_from_epoch():
    x, y = _xy()
    # min_delta: an improvement of 0.05 < 0.1 does not count.
    stop = callbacks.EarlyStopping(patience=1, min_delta=0.1)
    _model().fit(x, y, epochs=6, verbose=0, callbacks=[Script([1.0, 0.95, 0.9, 0.5, 0.5, 0.5]), stop])
    assert stop.stopped_epoch == 1
    # baseline: improving epochs that never beat the baseline still count against patience.
    stop = callbacks.EarlyStopping(patience=2, baseline=0.1)
    _model().fit(x, y, epochs=6, verbose=0, callbacks=[Script([1.0, 0.5, 0.6, 0.7, 0.4, 0.3]), stop])
    assert stop.stopped_epoch == 2
    # start_from_epoch: the first epochs are not watched.
    stop = callbacks.EarlyStopping(patience=1, start_from_epoch=3)
    h = _model().fit(x, y, epochs=8, verbose=0, callbacks=[Script([1.0] * 8), stop])
    assert stop.stopped_epoch == 4 and len(h.history["loss"]) == 5
    # mode="max" (and auto for accuracy-like names)
    stop = callbacks.EarlyStopping(monitor="val_accuracy", patience=1)
    _model().fit(x, y, epochs=6, verbose=0, callbacks=[Script([0.5, 0.6, 0.55, 0.7, 0.8, 0.9], "val_accuracy"),
                                                         stop])
    assert stop.stopped_epoch == 2


def test_early_stopping_on_real_training_loss_and_verbose(capsys):
    x, y = _xy()
    stop = callbacks.EarlyStopping(monitor="loss", patience=2, verbose=1)
    h = _model(lr=0.0).fit(x, y, epochs=10, verbose=0, shuffle=False, callbacks=[stop])  # lr 0: the loss never improves
    assert len(h.history["loss"]) == 3
    assert "Epoch 3: early stopping" in capsys.readouterr().out


def test_early_stopping_argument_errors_and_warnings():
    with pytest.warns(UserWarning, match="mode 'minimum' is unknown"):
        stop = callbacks.EarlyStopping(mode="minimum")
    assert stop.mode == "auto"
    with pytest.raises(ValueError, match="patience"):
        callbacks.EarlyStopping(patience=-1)
    x, y = _xy()
    with pytest.raises(ValueError, match="mode='max'"):
        _model().fit(x, y, epochs=1, verbose=0,
                     callbacks=[Script([1.0], "val_widget"), callbacks.EarlyStopping(monitor="val_widget")])
    with pytest.warns(UserWarning, match="`val_loss` which is not available. Available metrics are: loss,mae"):
        h = _model().fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.EarlyStopping()])
    assert len(h.history["loss"]) == 2


# ---- ModelCheckpoint -------------------------------------------------------------------------

def test_checkpoint_formatted_names_and_loadable_files(tmp_path):
    model = _model()
    x, y = _xy()
    path = tmp_path / "ckpt" / "m{epoch:02d}-{val_loss:.2f}.keras"
    h = model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
                  callbacks=[callbacks.ModelCheckpoint(path)])
    names = sorted(os.listdir(tmp_path / "ckpt"))
    assert names == [f"m{e + 1:02d}-{h.history['val_loss'][e]:.2f}.keras" for e in range(2)]
    loaded = lamina.models.load_model(tmp_path / "ckpt" / names[-1])
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_checkpoint_save_best_only_saves_improvements(tmp_path):
    model = _model()
    x, y = _xy()
    script = Script([1.0, 2.0, 0.5, 0.7])
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "best{epoch:02d}.weights.h5"), save_best_only=True,
                                     save_weights_only=True)
    model.fit(x, y, epochs=4, verbose=0, callbacks=[script, ckpt])
    assert sorted(os.listdir(tmp_path)) == ["best01.weights.h5", "best03.weights.h5"]
    assert ckpt.best == 0.5
    model.load_weights(tmp_path / "best03.weights.h5")  # the weights at the end of epoch 3, not the last
    for got, want in zip(model.get_weights(), script.weights[2]):
        np.testing.assert_allclose(got, want)
    # A fixed name holds the best model; initial_value_threshold must be beaten first.
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "sub" / "best.keras"), save_best_only=True,
                                     initial_value_threshold=0.1)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[Script([1.0, 0.5]), ckpt])
    assert not (tmp_path / "sub" / "best.keras").exists()


def test_checkpoint_save_freq_in_batches(tmp_path):
    x, y = _xy(16)
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.weights.h5"), save_weights_only=True,
                                     save_freq=2)
    _model().fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[ckpt])
    assert sorted(os.listdir(tmp_path)) == ["e1-b2.weights.h5", "e1-b4.weights.h5", "e2-b2.weights.h5",
                                            "e2-b4.weights.h5"]


def test_checkpoint_argument_errors(tmp_path):
    with pytest.raises(ValueError, match=r"must end in `\.keras`"):
        callbacks.ModelCheckpoint(str(tmp_path / "m.h5"))
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_weights_only=True)
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_freq="batch")
    with pytest.warns(UserWarning, match="unknown"):
        callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), mode="best")
    x, y = _xy()
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        _model().fit(x, y, epochs=1, verbose=0,
                     callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "{val_acc}.keras"))])
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        _model().fit(x, y, epochs=1, verbose=0,
                     callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "b.keras"), save_best_only=True)])
    assert (tmp_path / "b.keras").exists()  # as Keras: without the monitored value, it saves anyway


# ---- learning-rate callbacks: the rate set is the rate used -----------------------------------

def _one_weight_model(lr):
    # pred = w * 1, target 0: loss = w^2, gradient 2w, one SGD step per epoch: w <- w - lr * 2w.
    model = lamina.Sequential([lamina.Input((1,)), layers.Dense(1, use_bias=False, kernel_initializer="ones")])
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=lr), loss="mse")
    return model


class RecordW(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.w = []
        self.lr = []

    def on_epoch_begin(self, epoch, logs=None):
        self.lr.append(float(np.asarray(lamina.backend.convert_to_numpy(self.model.optimizer.learning_rate))))

    def on_epoch_end(self, epoch, logs=None):
        self.w.append(_w(self.model))


def _check_sgd_used(rec, w0=1.0):
    prev = w0
    for lr, w in zip(rec.lr, rec.w):
        np.testing.assert_allclose(w, prev - lr * 2 * prev, rtol=1e-5)
        prev = w


def test_learning_rate_scheduler_rate_is_used_by_sgd():
    model = _one_weight_model(0.1)
    rec = RecordW()
    sched = callbacks.LearningRateScheduler(lambda epoch: [0.1, 0.01, 0.25, 0.0][epoch])
    h = model.fit(np.ones((1, 1)), np.zeros((1, 1)), epochs=4, verbose=0, callbacks=[sched, rec])
    assert rec.lr == pytest.approx([0.1, 0.01, 0.25, 0.0])
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.01, 0.25, 0.0])
    _check_sgd_used(rec)
    assert rec.w[3] == rec.w[2]


def test_learning_rate_scheduler_two_argument_form_verbose_and_errors(capsys):
    model = _one_weight_model(0.2)
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5, verbose=1)
    model.fit(np.ones((1, 1)), np.zeros((1, 1)), epochs=2, verbose=0, callbacks=[sched])
    assert float(np.asarray(lamina.backend.convert_to_numpy(model.optimizer.learning_rate))) == pytest.approx(0.05)
    assert "Epoch 2: LearningRateScheduler setting learning rate to 0.05" in capsys.readouterr().out
    with pytest.raises(TypeError, match="schedule"):
        callbacks.LearningRateScheduler(0.1)
    with pytest.raises(ValueError, match="should be a float"):
        model.fit(np.ones((1, 1)), np.zeros((1, 1)), epochs=1, verbose=0,
                  callbacks=[callbacks.LearningRateScheduler(lambda e: "fast")])


def test_reduce_lr_on_plateau_lowers_the_rate_the_optimizer_uses():
    model = _one_weight_model(0.1)
    rec = RecordW()
    reduce = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, min_lr=0.03)
    h = model.fit(np.ones((1, 1)), np.zeros((1, 1)), epochs=5, verbose=0,
                  callbacks=[Script([1.0] * 5), reduce, rec])
    assert rec.lr == pytest.approx([0.1, 0.1, 0.05, 0.03, 0.03])
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.03, 0.03])
    _check_sgd_used(rec)


def test_reduce_lr_on_plateau_cooldown_improvement_and_arguments():
    x, y = _xy()
    model = _model(0.1)
    reduce = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2)
    model.fit(x, y, epochs=6, verbose=0, callbacks=[Script([1.0] * 6), reduce])
    # Keras's counting: reductions at epochs 1, 3 and 5 (the cooldown ends in the epoch that counts it down)
    assert float(np.asarray(lamina.backend.convert_to_numpy(model.optimizer.learning_rate))) == pytest.approx(0.0125)
    model = _model(0.1)
    reduce = callbacks.ReduceLROnPlateau(factor=0.5, patience=1)
    model.fit(x, y, epochs=4, verbose=0, callbacks=[Script([1.0, 0.9, 0.8, 0.7]), reduce])
    assert float(np.asarray(lamina.backend.convert_to_numpy(model.optimizer.learning_rate))) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=2)
    with pytest.warns(DeprecationWarning, match="epsilon"):
        r = callbacks.ReduceLROnPlateau(epsilon=0.5)
    assert r.min_delta == 0.5
    with pytest.raises(TypeError, match="unexpected keyword"):
        callbacks.ReduceLROnPlateau(pateince=3)
    with pytest.warns(UserWarning, match="Learning rate reduction is conditioned on metric `val_loss`"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ReduceLROnPlateau()])


# ---- CSVLogger -------------------------------------------------------------------------------

def test_csv_logger_contents_append_and_separator(tmp_path):
    model = _model()
    x, y = _xy()
    path = tmp_path / "logs" / "run.csv"
    h = model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y), callbacks=[callbacks.CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    for key in ("loss", "mae", "val_loss", "val_mae"):
        np.testing.assert_allclose([float(r[key]) for r in rows], h.history[key], rtol=1e-6)
    model.fit(x, y, epochs=3, initial_epoch=2, verbose=0, validation_data=(x, y),
              callbacks=[callbacks.CSVLogger(path, append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[0] == "epoch,loss,mae,val_loss,val_mae" and lines[3].startswith("2,")
    semi = tmp_path / "semi.csv"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(semi, separator=";")])
    header, row = semi.read_text().splitlines()
    assert header == "epoch;loss;mae;val_loss;val_mae" and row.endswith(";NA;NA")


# ---- TerminateOnNaN --------------------------------------------------------------------------

def test_terminate_on_nan_stops_at_the_first_bad_batch(capsys):
    model = lamina.Sequential([lamina.Input((1,)), layers.Dense(1)])
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=1e30), loss="mse")
    seen = []
    h = model.fit(np.full((8, 1), 1e3), np.ones((8, 1)), batch_size=2, epochs=5, verbose=0, shuffle=False,
                  callbacks=[callbacks.TerminateOnNaN(),
                             callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))])
    assert model.stop_training and len(h.history["loss"]) == 1 and seen == [0, 1]
    assert not np.isfinite(h.history["loss"][0])
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_lets_finite_training_run():
    x, y = _xy()
    h = _model().fit(x, y, epochs=3, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert len(h.history["loss"]) == 3


# ---- LambdaCallback --------------------------------------------------------------------------

def test_lambda_callback_hooks_fire():
    x, y = _xy(16)
    calls = {}

    def rec(name):  # Keras passes the batch hooks' logs by keyword, the others' by position
        return lambda *args, **kwargs: calls.setdefault(name, []).append(args + tuple(kwargs.values()))

    hooks = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
             "on_train_batch_end", "on_batch_end", "on_test_begin", "on_test_end", "on_test_batch_end",
             "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end"]
    cb = callbacks.LambdaCallback(**{h: rec(h) for h in hooks})
    model = _model()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, validation_data=(x, y), callbacks=[cb])
    model.evaluate(x, y, batch_size=8, verbose=0, callbacks=[cb])
    model.predict(x, batch_size=8, verbose=0, callbacks=[cb])
    assert len(calls["on_train_begin"]) == 1 and len(calls["on_train_end"]) == 1
    assert [a[0] for a in calls["on_epoch_end"]] == [0, 1]
    assert "val_loss" in calls["on_epoch_end"][-1][1]
    assert [a[0] for a in calls["on_train_batch_end"]] == [0, 1, 2, 3] * 2  # every batch, as Keras
    assert all("loss" in a[1] for a in calls["on_train_batch_end"])  # with logs
    assert len(calls["on_batch_end"]) == 8 and len(calls["on_train_batch_begin"]) == 8
    assert len(calls["on_test_begin"]) == 3 and len(calls["on_test_end"]) == 3  # 2 validations + evaluate
    assert len(calls["on_predict_begin"]) == 1 and len(calls["on_predict_batch_end"]) == 2


def test_lambda_callback_rejects_bad_arguments():
    with pytest.raises(TypeError, match="unexpected keyword.*on_epoch_ends"):
        callbacks.LambdaCallback(on_epoch_ends=print)
    with pytest.raises(TypeError, match="`on_epoch_end` must be a function"):
        callbacks.LambdaCallback(on_epoch_end="print")


def test_public_names():
    for name in ["EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger",
                 "TerminateOnNaN", "LambdaCallback"]:
        cls = getattr(lamina.callbacks, name)
        assert issubclass(cls, callbacks.Callback) and cls.__doc__ and ">>>" in cls.__doc__


def test_hooks_get_logs_as_keras_passes_them():
    # begin hooks get {} (not None), batch hooks get logs by keyword, on_predict_batch_end the batch's outputs
    x, y = _xy(16)
    seen = []

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(("train_begin", logs))

        def on_epoch_begin(self, epoch, logs=None):
            seen.append(("epoch_begin", logs.get("loss", "none")))

        def on_train_batch_begin(self, batch, **kwargs):
            seen.append(("train_batch_begin", sorted(kwargs)))

        def on_predict_batch_end(self, batch, logs=None):
            seen.append(("predict_batch_end", tuple(lamina.ops.shape(logs["outputs"]))))

    model = _model()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[Recorder()])
    out = model.predict(x, batch_size=8, verbose=0, callbacks=[Recorder()])
    assert seen[:2] == [("train_begin", {}), ("epoch_begin", "none")]
    assert seen[2:4] == [("train_batch_begin", ["logs"])] * 2
    assert seen[4:] == [("predict_batch_end", (8,) + out.shape[1:])] * 2
