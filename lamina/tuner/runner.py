"""Running one trial's fit: the per-epoch tracking callback, best-epoch weights and the trial's score."""

import math
import numbers
import os
import time

from lamina.callbacks import Callback
from lamina.tuner.errors import FailedTrialError, FatalValueError
from lamina.tuner.objective import DEFAULT_OBJECTIVE_NAME


def _as_float(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def objective_values(objectives, logs):
    """The objectives' values in one epoch's ``logs``; a fatal error names a metric fit did not report."""
    out = []
    for o in objectives:
        name = o.name
        if name == DEFAULT_OBJECTIVE_NAME:
            name = "val_loss" if "val_loss" in logs else "loss"
        if name not in logs:
            raise FatalValueError(
                f"Objective '{o.name}' is not among the metrics fit reported: {sorted(logs)}. Compile the model "
                "with that metric (and pass validation data for a 'val_' metric), or choose another objective.")
        out.append(float(logs[name]))
    return out


def scalar(objectives, values):
    """One number to minimize for a list of objective values (Keras Tuner's multi-objective sum)."""
    return sum(o.signed(v) for o, v in zip(objectives, values))


class TrialTracker(Callback):
    """Follows the objective epoch by epoch: saves the best epoch's weights and reports to a pruner."""

    def __init__(self, objectives, weights_path, optuna_trial=None):
        super().__init__()
        self.objectives = objectives
        self.weights_path = weights_path
        self.optuna_trial = optuna_trial
        self.best = None  # (scalar, values, logs, epoch)
        self.pruned = False

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: f for k, f in ((k, _as_float(v)) for k, v in (logs or {}).items()) if f is not None}
        try:
            values = objective_values(self.objectives, logs)
        except FatalValueError:
            # Not in this fit's epoch logs: a HyperModel.fit may compute it itself and return it (a dict or a
            # number, the tutorial's HyperRegressor); what fit returns is checked in score_result.
            return
        s = scalar(self.objectives, values)
        if not math.isnan(s) and (self.best is None or s < self.best[0]):
            self.best = (s, values, logs, epoch)
            self.model.save_weights(self.weights_path)
        if self.optuna_trial is not None:
            self.optuna_trial.report(values[0], epoch)
            if self.optuna_trial.should_prune():
                self.pruned = True
                self.model.stop_training = True


def score_result(objectives, result, tracker, model):
    """``(values, metrics, best_step)`` for what ``HyperModel.fit`` returned.

    A History (or None) is scored at its best epoch, whose weights the tracker saved; a dict of metrics or a
    number is taken as the trial's final result and the model's final weights are saved.
    """
    if isinstance(result, numbers.Real) and not isinstance(result, bool):
        if len(objectives) > 1:
            raise FatalValueError("fit returned a single number, but the objective lists several metrics; "
                                  "return a dict of metrics instead.")
        model.save_weights(tracker.weights_path)
        return [float(result)], {objectives[0].name: float(result)}, None
    if isinstance(result, dict):
        logs = {k: f for k, f in ((k, _as_float(v)) for k, v in result.items()) if f is not None}
        values = objective_values(objectives, logs)
        model.save_weights(tracker.weights_path)
        return values, logs, None
    if tracker.best is not None:
        _, values, logs, epoch = tracker.best
        return values, logs, epoch
    history = getattr(result, "history", None)
    if isinstance(history, dict) and history:
        epochs = len(next(iter(history.values())))
        best = None
        for e in range(epochs):
            logs = {k: float(v[e]) for k, v in history.items() if e < len(v)}
            values = objective_values(objectives, logs)
            s = scalar(objectives, values)
            if not math.isnan(s) and (best is None or s < best[0]):
                best = (s, values, logs, e)
        if best is not None:
            model.save_weights(tracker.weights_path)
            return best[1], best[2], best[3]
    raise FailedTrialError(f"The trial produced no usable objective value (fit returned {result!r}, and no epoch "
                           "reported a finite objective).")


def trial_callbacks(callbacks, log_subdir):
    """Per-trial copies of the user's callbacks (Keras Tuner deep-copies them for every trial).

    Each copy starts without a model, so the user's callbacks never hold a trial's model. A
    ``TensorBoard`` copy writes to ``<its log_dir>/<log_subdir>``. Returns ``(copies, log_dirs)``:
    the TensorBoard folders of this trial. A callback that cannot be copied is used as it is.
    """
    import copy

    from lamina.callbacks import TensorBoard

    out, log_dirs = [], []
    for cb in callbacks or []:
        memo = {} if getattr(cb, "model", None) is None else {id(cb.model): None}
        try:
            new = copy.deepcopy(cb, memo)
        except Exception:  # noqa: BLE001 - e.g. a callback holding a lock or an open file
            if isinstance(cb, TensorBoard):
                raise
            new = cb
        if isinstance(cb, TensorBoard):
            new.log_dir = os.path.join(cb.log_dir, log_subdir)
            new._writers = {}
            log_dirs.append(new.log_dir)
        out.append(new)
    return out, log_dirs


def write_hparams(log_dir, trial_id, values):
    """Record a trial's hyperparameters in ``log_dir``: TensorBoard's HParams summary and a text table."""
    from tensorboard.plugins.hparams import summary_v2 as hparams_summary
    from tensorboard.plugins.text import summary_v2 as text_summary

    from lamina.callbacks.tensorboard import _tensorboard

    tb = _tensorboard()
    hparams = {}
    for name, v in values.items():
        if v is None:
            continue  # an inactive conditional hyperparameter
        hparams[name] = v if isinstance(v, (bool, int, float, str)) else str(v)
    table = "| hyperparameter | value |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in hparams.items())
    writer = tb.EventFileWriter(log_dir)
    try:
        now = time.time()
        writer.add_event(tb.Event(wall_time=now, step=0,
                                  summary=hparams_summary.hparams_pb(hparams, trial_id=trial_id)))
        writer.add_event(tb.Event(wall_time=now, step=0,
                                  summary=text_summary.text_pb("hyperparameters", table)))
    finally:
        writer.close()


def jsonable(d):
    """``d`` with lists for tuples and Python numbers for NumPy scalars (for JSON and Optuna attributes)."""
    out = {}
    for k, v in d.items():
        if isinstance(v, (list, tuple)):
            v = list(v)
        elif hasattr(v, "item"):
            v = v.item()
        out[k] = v
    return out
