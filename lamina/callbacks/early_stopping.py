"""EarlyStopping: stop training when a monitored quantity has stopped improving."""

import numpy as np

from lamina.callbacks import _monitor
from lamina.callbacks.callback import Callback
from lamina.utils import io_utils


class EarlyStopping(Callback):
    """Stop training when a monitored metric has stopped improving.

    At the end of every epoch the callback reads ``logs[monitor]``. When it has
    not improved by more than ``min_delta`` for ``patience`` epochs, it sets
    ``model.stop_training = True``.

    Args:
        monitor: the quantity to watch (default ``"val_loss"``).
        min_delta: the smallest change that counts as an improvement.
        patience: epochs without improvement after which training stops.
        verbose: 1 prints a message when the callback stops training.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (inferred from the name of
            ``monitor``; an error when it cannot be inferred).
        baseline: training stops if the model does not improve on it within
            ``patience`` epochs.
        restore_best_weights: restore the weights of the best epoch at the
            end of training (also when training was not stopped early).
        start_from_epoch: epochs to wait before watching for improvement.

    Example:
    >>> import numpy as np, lamina
    >>> model = lamina.Sequential([lamina.Input((1,)), lamina.layers.Dense(1)])
    >>> model.compile(optimizer=lamina.optimizers.SGD(0.0), loss="mse")
    >>> stop = lamina.callbacks.EarlyStopping(monitor="loss", patience=2)
    >>> history = model.fit(np.ones((8, 1)), np.ones((8, 1)), epochs=10, callbacks=[stop], verbose=0)
    >>> len(history.history["loss"]), stop.stopped_epoch
    (3, 2)
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if not isinstance(monitor, str):
            raise TypeError(f"EarlyStopping: `monitor` must be the name of a metric (a str), "
                            f"but received {monitor!r}.")
        if patience < 0:
            raise ValueError(f"EarlyStopping: `patience` must be >= 0, but received {patience}.")
        if start_from_epoch < 0:
            raise ValueError(f"EarlyStopping: `start_from_epoch` must be >= 0, but received {start_from_epoch}.")
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.wait = 0
        self.stopped_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best_weights = None
        self.start_from_epoch = start_from_epoch
        self.mode = _monitor.check_mode(mode, "EarlyStopping")
        self.monitor_op = None
        self.best = None
        self.best_epoch = 0

    def get_state(self):
        state = {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best_epoch": self.best_epoch,
                 "best": None if self.best is None else float(self.best)}
        if self.best_weights is not None:
            state["best_weights"] = [np.asarray(w) for w in self.best_weights]
        return state

    def set_state(self, state):
        self.wait, self.stopped_epoch = int(state["wait"]), int(state["stopped_epoch"])
        self.best_epoch = int(state["best_epoch"])
        self.best = state["best"]
        weights = state.get("best_weights")
        if weights is not None:
            shapes = [tuple(np.shape(w)) for w in self.model.get_weights()]
            if [tuple(np.shape(w)) for w in weights] != shapes:
                raise ValueError("EarlyStopping: the best weights in the backup do not fit this model.")
        self.best_weights = weights

    def _set_monitor_op(self):
        mode = _monitor.resolve_mode(self.mode, self.monitor, self.model, "EarlyStopping")
        self.monitor_op = np.less if mode == "min" else np.greater
        self._delta = -self.min_delta if mode == "min" else self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # The weights of the first watched epoch, so something is restored even without improvement.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            io_utils.print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                io_utils.print_msg(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        value = _monitor.monitor_value(logs, self.monitor, "Early stopping")
        return None if value is None else _monitor.to_float(value)

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self._delta, reference_value))
