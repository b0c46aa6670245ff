"""SwapEMAWeights (evaluation with the optimizer's moving averages) and History.plot, on the current backend."""

import sys

import numpy as np
import pytest

import lamina
from lamina import callbacks, layers


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3).astype("float32")


def _model(use_ema=True, seed=3):
    lamina.utils.set_random_seed(seed)
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(4, activation="tanh"), layers.Dense(1)])
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.05, use_ema=use_ema, ema_momentum=0.8),
                  loss="mse", metrics=["mae"])
    return model


def _weights(model):
    return [np.array(v.numpy()) for v in model.trainable_variables]


def _ema(model):
    opt = model.optimizer
    return [np.array(opt._model_variables_moving_average[opt._get_variable_index(v)].numpy())
            for v in model.trainable_variables]


def _assign(model, values):
    for v, val in zip(model.trainable_variables, values):
        v.assign(val)


def _close(a, b):
    return all(np.allclose(x, y, rtol=1e-6, atol=1e-7) for x, y in zip(a, b))


class Probe(callbacks.Callback):
    """Records the model's weights and the optimizer's averages at epoch ends and beginnings."""

    def __init__(self):
        super().__init__()
        self.end, self.begin, self.avg_end = [], [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.begin.append(_weights(self.model))

    def on_epoch_end(self, epoch, logs=None):
        self.end.append(_weights(self.model))
        self.avg_end.append(_ema(self.model))


def test_validation_runs_on_ema_weights_and_training_on_real_ones():
    x, y = _data()
    val = _data(24, seed=1)
    ref = _model()
    ref_probe = Probe()
    ref_hist = ref.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False, validation_data=val,
                       callbacks=[ref_probe])
    model = _model()
    probe = Probe()
    hist = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False, validation_data=val,
                     callbacks=[callbacks.SwapEMAWeights(), probe])
    # Training is untouched: same losses and the same real weights as without the callback.
    np.testing.assert_allclose(hist.history["loss"], ref_hist.history["loss"], rtol=1e-6)
    real, ema = probe.end[-1], probe.avg_end[-1]
    assert _close(real, ref_probe.end[-1]) and _close(ema, ref_probe.avg_end[-1])
    assert not _close(real, ema)
    # As Keras, fit ends with the moving averages in the model (finalize_variable_values), with or without it.
    assert _close(_weights(model), ema) and _close(_weights(ref), ema) and _close(_ema(model), ema)
    # The validation loss is the EMA weights' loss, not the real weights'.
    assert hist.history["val_loss"][-1] != pytest.approx(ref_hist.history["val_loss"][-1], rel=1e-4)
    assert model.evaluate(*val, verbose=0)[0] == pytest.approx(hist.history["val_loss"][-1], rel=1e-6)
    ema_pred = model.predict(val[0], verbose=0)
    _assign(model, real)
    assert model.evaluate(*val, verbose=0)[0] == pytest.approx(ref_hist.history["val_loss"][-1], rel=1e-6)
    # evaluate / predict with the callback: the EMA weights' numbers, the real weights back afterwards.
    assert model.evaluate(*val, verbose=0, callbacks=[callbacks.SwapEMAWeights()])[0] == \
        pytest.approx(hist.history["val_loss"][-1], rel=1e-6)
    assert _close(_weights(model), real) and _close(_ema(model), ema)
    np.testing.assert_allclose(model.predict(val[0], verbose=0, callbacks=[callbacks.SwapEMAWeights()]),
                               ema_pred, rtol=1e-6, atol=1e-7)
    assert _close(_weights(model), real)


def test_swap_on_epoch_shows_ema_weights_to_later_callbacks(tmp_path):
    x, y = _data()
    ref = _model()
    ref_probe = Probe()
    ref.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False, callbacks=[ref_probe])
    model = _model()
    probe = Probe()
    path = str(tmp_path / "ema.weights.h5")
    model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False, callbacks=[
        callbacks.SwapEMAWeights(swap_on_epoch=True), probe,
        callbacks.ModelCheckpoint(path, save_weights_only=True, monitor="loss")])
    for epoch in range(3):
        # At the epoch's end the later callbacks see the EMA weights (the real ones are parked)...
        assert _close(probe.end[epoch], ref_probe.avg_end[epoch])
        assert _close(probe.avg_end[epoch], ref_probe.end[epoch])
    for epoch in range(1, 3):
        # ... and the next epoch trains from the real weights.
        assert _close(probe.begin[epoch], ref_probe.begin[epoch])
    # Training was the same; after fit both models hold the moving averages (as Keras's fit leaves them).
    assert _close(_weights(model), _weights(ref)) and _close(_ema(model), _ema(ref))
    assert _close(_weights(model), ref_probe.avg_end[-1])
    # ModelCheckpoint saved the EMA weights.
    restored = _model(seed=11)
    restored.load_weights(path)
    assert _close(_weights(restored), _ema(ref))


def test_swap_needs_an_ema_optimizer():
    x, y = _data(16)
    model = _model(use_ema=False)
    with pytest.raises(ValueError, match=r"SwapEMAWeights needs .*use_ema=False.*use_ema=True"):
        model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[callbacks.SwapEMAWeights()])
    with pytest.raises(ValueError, match="use_ema=True"):
        model.evaluate(x, y, verbose=0, callbacks=[callbacks.SwapEMAWeights()])


# --- History.plot -------------------------------------------------------------------------------------

@pytest.fixture
def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    yield pyplot
    pyplot.close("all")


def _fitted_history(**fit_args):
    x, y = _data()
    return _model(use_ema=False).fit(x, y, batch_size=16, verbose=0, validation_data=_data(16, seed=1),
                                     **fit_args)


def test_history_plot_lines_equal_history(plt):
    hist = _fitted_history(epochs=3)
    fig = hist.plot()
    axes = fig.axes
    assert [a.get_title() for a in axes] == ["loss", "mae"]
    for a, name in zip(axes, ["loss", "mae"]):
        lines = {line.get_label(): line for line in a.get_lines()}
        assert sorted(lines) == ["train", "validation"]
        for label, key in (("train", name), ("validation", f"val_{name}")):
            assert list(lines[label].get_xdata()) == [1, 2, 3]
            np.testing.assert_allclose(lines[label].get_ydata(), hist.history[key])
        assert a.get_xlabel() == "epoch"


def test_history_plot_on_given_axes_and_sparse_validation(plt):
    hist = _fitted_history(epochs=4, validation_freq=2)
    fig, ax = plt.subplots()
    assert hist.plot("loss", ax=ax, marker="o") is fig
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["train"].get_xdata()) == [1, 2, 3, 4]
    assert list(lines["validation"].get_xdata()) == [2, 4]  # validated every 2 epochs
    np.testing.assert_allclose(lines["validation"].get_ydata(), hist.history["val_loss"])
    assert lines["train"].get_marker() == "o"
    with pytest.raises(ValueError, match=r"metrics must name some of \['loss', 'mae'\].*unknown: \['acc'\]"):
        hist.plot(["loss", "acc"])
    with pytest.raises(ValueError, match="received 1 axes for 2 metrics"):
        hist.plot(ax=ax)
    with pytest.raises(ValueError, match="history is empty"):
        callbacks.History().plot()


def test_history_plot_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    h = callbacks.History()
    h.on_epoch_end(0, {"loss": 1.0})
    with pytest.raises(ImportError, match="pip install matplotlib"):
        h.plot()
