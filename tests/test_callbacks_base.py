"""The callback base: Callback, CallbackList, History, ProgbarLogger, and how fit drives them."""

import numpy as np
import pytest

import lamina
from lamina import layers


def _model():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model


def _xy(n=20):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")


def test_callback_list_rejects_non_callbacks():
    with pytest.raises(TypeError, match="Callback instances.*function"):
        lamina.callbacks.CallbackList([lambda epoch, logs: None])
    model = _model()
    x, y = _xy()
    with pytest.raises(TypeError, match="Callback"):
        model.fit(x, y, verbose=0, callbacks=["early_stopping"])


def test_history_records_each_epoch():
    h = lamina.callbacks.History()
    h.on_train_begin()
    h.on_epoch_end(0, {"loss": 0.5, "mae": 0.4})
    h.on_epoch_end(1, {"loss": 0.25, "mae": 0.3})
    assert h.history == {"loss": [0.5, 0.25], "mae": [0.4, 0.3]}
    assert h.epoch == [0, 1]


def test_a_history_given_by_the_user_is_the_one_returned():
    model = _model()
    x, y = _xy()
    h = lamina.callbacks.History()
    assert model.fit(x, y, epochs=2, verbose=0, callbacks=[h]) is h
    assert len(h.history["loss"]) == 2


def test_keras2_batch_hooks_are_called_in_fit():
    model = _model()
    x, y = _xy(20)
    seen = []

    class Old(lamina.callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            seen.append(("end", batch, sorted(logs)))

    model.fit(x, y, epochs=1, batch_size=10, verbose=0, callbacks=[Old()])
    assert seen == [("begin", 0), ("end", 0, ["loss", "mae"]), ("begin", 1), ("end", 1, ["loss", "mae"])]


def test_evaluate_and_predict_hooks():
    model = _model()
    x, y = _xy(20)
    calls = []

    class Rec(lamina.callbacks.Callback):
        def on_test_begin(self, logs=None): calls.append("test_begin")
        def on_test_batch_end(self, batch, logs=None): calls.append(("test_batch", batch, sorted(logs)))
        def on_test_end(self, logs=None): calls.append(("test_end", sorted(logs)))
        def on_predict_begin(self, logs=None): calls.append("predict_begin")
        def on_predict_batch_end(self, batch, logs=None): calls.append(("predict_batch", batch))
        def on_predict_end(self, logs=None): calls.append("predict_end")

    model.evaluate(x, y, batch_size=10, verbose=0, callbacks=[Rec()])
    assert calls == ["test_begin", ("test_batch", 0, ["loss", "mae"]), ("test_batch", 1, ["loss", "mae"]),
                     ("test_end", ["loss", "mae"])]
    calls.clear()
    model.predict(x, batch_size=10, verbose=0, callbacks=[Rec()])
    assert calls == ["predict_begin", ("predict_batch", 0), ("predict_batch", 1), "predict_end"]


def test_stop_training_mid_epoch_from_a_batch_hook():
    model = _model()
    x, y = _xy(40)
    batches = []

    class Stop(lamina.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batches.append(batch)
            if batch == 1:
                self.model.stop_training = True

    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[Stop()])
    assert batches == [0, 1]
    assert history.epoch == [0]


def test_logs_are_read_from_the_device_only_when_asked(monkeypatch):
    # No host sync per step: without per-batch callbacks, fit reads the metrics once per epoch.
    model = _model()
    x, y = _xy(40)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)       # build and compile the steps first
    calls = []
    original = model._current_logs
    monkeypatch.setattr(model, "_current_logs", lambda **kw: calls.append(1) or original(**kw))
    model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    assert len(calls) == 3


def test_progbar_logger_verbose_2_line(capsys):
    bar = lamina.utils.Progbar(target=5, verbose=2)
    for i in range(1, 5):
        bar.update(i)
    assert capsys.readouterr().out == ""
    bar.update(5, values={"loss": 0.123456, "acc": 0.5}, finalize=True)
    out = capsys.readouterr().out
    assert out.startswith("5/5 - ") and out.endswith(" - loss: 0.1235 - acc: 0.5000\n")  # in the order given, as Keras


@pytest.mark.parametrize("verbose, expected", [
    (2, " - a: 0.0000e+00 - b: -2.0000e-01 - c: 5.0000e-04 - d: 0.0010"),  # verbose=2 compares the value
    (1, " - a: 0.0000e+00 - b: -0.2000 - c: 5.0000e-04 - d: 0.0010"),       # verbose=1 its size
])
def test_progbar_formats_values_as_keras(capsys, verbose, expected):
    bar = lamina.utils.Progbar(target=1, verbose=verbose)
    bar.update(1, values={"a": 0.0, "b": -0.2, "c": 5e-4, "d": 0.001001}, finalize=True)
    assert expected in capsys.readouterr().out
