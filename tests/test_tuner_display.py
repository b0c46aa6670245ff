"""lamina.tuner's progress display (search verbose=1), plot of the search, and per-trial TensorBoard logs."""

import glob
import os
import sys

import numpy as np
import pytest

import lamina
from lamina import tuner as kt

pytest.importorskip("optuna")


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, x @ np.array([[1.0], [-2.0], [0.5]], "float32")


def build(hp):
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=lamina.optimizers.SGD(hp.Float("lr", 1e-3, 2e-1, sampling="log")), loss="mse")
    return model


def _search(tmp_path, name, trials=3, epochs=1, **kwargs):
    tuner = kt.RandomSearch(build, objective="val_loss", max_trials=trials, seed=3, directory=str(tmp_path),
                            project_name=name)
    x, y = _data()
    tuner.search(x, y, validation_data=_data(8, seed=1), epochs=epochs, batch_size=8, **kwargs)
    return tuner


def test_verbose_search_shows_each_trial_and_the_best_so_far(tmp_path, capsys):
    tuner = _search(tmp_path, "shown", trials=2, verbose=1)
    out = capsys.readouterr().out
    first, second = (tuner.oracle.trials[i] for i in ("0000", "0001"))
    best = tuner.oracle.get_best_trials(1)[0]
    for number, trial in ((1, first), (2, second)):
        assert f"Search: Running Trial #{number}" in out
        assert f"Trial {number} Complete [00h 00m " in out
        assert f"val_loss: {trial.score:.6g}" in out
    # Before trial 2: its learning rate beside trial 1's, the best so far; before trial 1 no best yet.
    start1 = out.index("Search: Running Trial #1")
    start2 = out.index("Search: Running Trial #2")
    assert "Value" in out[start1:] and "|Best Value So Far |Hyperparameter" in out
    row2 = [line for line in out[start2:].splitlines() if line.endswith("|lr")][0]
    assert [c.strip() for c in row2.split("|")] == [f"{second.hyperparameters['lr']:.6g}",
                                                   f"{first.hyperparameters['lr']:.6g}", "lr"]
    row1 = [line for line in out[start1:start2].splitlines() if line.endswith("|lr")][0]
    assert [c.strip() for c in row1.split("|")] == [f"{first.hyperparameters['lr']:.6g}", "?", "lr"]
    after1 = out[out.index("Trial 1 Complete"):start2]
    assert f"Best val_loss So Far: {first.score:.6g}" in after1
    assert out.rstrip().splitlines()[-2] == f"Best val_loss So Far: {best.score:.6g}"
    assert out.rstrip().splitlines()[-1].startswith("Total elapsed time: 00h 00m ")


def test_verbose_0_prints_nothing(tmp_path, capsys):
    _search(tmp_path, "quiet", trials=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_format_duration():
    from lamina.tuner.display import format_duration

    assert format_duration(3723.4) == "01h 02m 03s" and format_duration(0) == "00h 00m 00s"


def test_plot_history_draws_the_scores_and_the_best_so_far(tmp_path):
    pytest.importorskip("matplotlib")
    tuner = _search(tmp_path, "plot", trials=4, verbose=0)
    path = tmp_path / "history.png"
    fig = tuner.plot_history(path=str(path))
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    trials = sorted(tuner.oracle.trials.values(), key=lambda t: t.number)
    scores = [t.score for t in trials]
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    np.testing.assert_allclose(lines["trial"].get_ydata(), scores)
    np.testing.assert_allclose(lines["best so far"].get_ydata(), np.minimum.accumulate(scores))
    assert list(lines["trial"].get_xdata()) == [1, 2, 3, 4]


def test_plot_history_errors(tmp_path, monkeypatch):
    tuner = kt.RandomSearch(build, objective="val_loss", max_trials=2, directory=str(tmp_path), project_name="e")
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="plot_history: the search has no finished trial"):
        tuner.plot_history()
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="plot_history needs matplotlib.*pip install matplotlib"):
        tuner.plot_history()


def _events(run_dir):
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    out = []
    for path in sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))):
        out += [e for e in EventFileLoader(path).Load() if e.HasField("summary")]
    return out


def _scalars(run_dir, tag):
    from tensorboard.util import tensor_util

    return [(e.step, float(tensor_util.make_ndarray(v.tensor)))
            for e in _events(run_dir) for v in e.summary.value if v.tag == tag]


def test_tensorboard_logs_each_trial_in_its_own_folder(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.plugins.hparams import plugin_data_pb2
    from tensorboard.util import tensor_util

    log_dir = str(tmp_path / "logs")
    tb = lamina.callbacks.TensorBoard(log_dir=log_dir)
    tuner = _search(tmp_path, "tb", trials=2, epochs=2, verbose=0, callbacks=[tb])
    assert tb.log_dir == log_dir and tb.model is None  # the user's callback is left as it was
    assert sorted(os.listdir(log_dir)) == ["0000", "0001"]
    for trial_id, trial in tuner.oracle.trials.items():
        trial_dir = os.path.join(log_dir, trial_id)
        assert {"train", "validation"} <= set(os.listdir(trial_dir))
        assert [s for s, _ in _scalars(os.path.join(trial_dir, "train"), "epoch_loss")] == [0, 1]
        val = _scalars(os.path.join(trial_dir, "validation"), "epoch_loss")
        assert [s for s, _ in val] == [0, 1]
        np.testing.assert_allclose(min(v for _, v in val), trial.score, rtol=1e-5)  # the best epoch's val_loss
        lrs = _scalars(os.path.join(trial_dir, "train"), "epoch_learning_rate")
        np.testing.assert_allclose([v for _, v in lrs], trial.hyperparameters["lr"], rtol=1e-5)
        # The trial's hyperparameters: an HParams session and a text table.
        values = [v for e in _events(trial_dir) for v in e.summary.value]
        start = [v for v in values if v.tag == "_hparams_/session_start_info"]
        data = plugin_data_pb2.HParamsPluginData.FromString(start[0].metadata.plugin_data.content)
        assert data.session_start_info.group_name == trial_id
        assert data.session_start_info.hparams["lr"].number_value == pytest.approx(trial.hyperparameters["lr"])
        text = [v for v in values if v.tag == "hyperparameters"]
        table = tensor_util.make_ndarray(text[0].tensor).item().decode()
        assert f"| lr | {trial.hyperparameters['lr']} |" in table


def test_callbacks_are_copied_per_trial(tmp_path):
    seen = []

    class Recorder(lamina.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs = 0

        def on_train_begin(self, logs=None):
            seen.append(self)

        def on_epoch_end(self, epoch, logs=None):
            self.epochs += 1

    user = Recorder()
    _search(tmp_path, "copies", trials=2, epochs=2, verbose=0, callbacks=[user])
    assert len(seen) == 2 and seen[0] is not seen[1] and user not in seen
    assert [c.epochs for c in seen] == [2, 2] and user.epochs == 0 and user.model is None
