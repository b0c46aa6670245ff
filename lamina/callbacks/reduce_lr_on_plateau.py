"""ReduceLROnPlateau: lower the learning rate when a metric has stopped improving."""

import warnings

import numpy as np

from lamina.callbacks import _monitor
from lamina.callbacks.callback import Callback
from lamina.utils import io_utils


def _current_lr(model):
    return float(np.asarray(_lr_numpy(model.optimizer.learning_rate)))


def _lr_numpy(lr):
    from lamina import backend

    return backend.convert_to_numpy(lr.value if hasattr(lr, "value") else lr)


class ReduceLROnPlateau(Callback):
    """Reduce the learning rate when a metric has stopped improving.

    When ``monitor`` has not improved for ``patience`` epochs, the optimizer's
    learning rate is multiplied by ``factor`` (never below ``min_lr``). The
    rate in use is added to the epoch logs as ``"learning_rate"``.

    Args:
        monitor: the quantity to watch (default ``"val_loss"``).
        factor: the factor by which the rate is reduced (must be < 1).
        patience: epochs without improvement before the rate is reduced.
        verbose: 1 prints a message at each reduction.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        min_delta: the smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction before watching again.
        min_lr: the lower bound of the learning rate.
        **kwargs: the Keras 2 name ``epsilon`` (use ``min_delta``).

    Example:
    >>> import numpy as np, lamina
    >>> model = lamina.Sequential([lamina.Input((1,)), lamina.layers.Dense(1)])
    >>> model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.5), loss="mse")
    >>> reduce = lamina.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
    >>> h = model.fit(np.zeros((4, 1)), np.zeros((4, 1)), epochs=3, callbacks=[reduce], verbose=0)
    >>> [round(v, 4) for v in h.history["learning_rate"]]
    [0.5, 0.5, 0.25]
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
            warnings.warn("ReduceLROnPlateau: the argument `epsilon` is deprecated (Keras 2); use `min_delta` "
                          "instead.", DeprecationWarning, stacklevel=2)
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected keyword argument(s) {sorted(kwargs)}. Accepted: "
                            "monitor, factor, patience, verbose, mode, min_delta, cooldown, min_lr.")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        if factor <= 0:
            raise ValueError(f"ReduceLROnPlateau: `factor` must be > 0, but received factor={factor}")
        self.monitor = monitor
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0
        self.best = 0
        self.mode = _monitor.check_mode(mode, "Learning rate reduction")
        self.monitor_op = None
        self._reset()

    def get_state(self):
        return {"wait": self.wait, "cooldown_counter": self.cooldown_counter, "best": float(self.best)}

    def set_state(self, state):
        self.wait, self.cooldown_counter = int(state["wait"]), int(state["cooldown_counter"])
        self.best = float(state["best"])

    def _reset(self):
        mode = self.mode
        if mode == "auto":
            # Keras's rule ("acc" in the name means maximise), widened to the usual "higher is better" names.
            mode = _monitor.infer_direction(self.monitor, self.model) or "min"
        if mode == "min":
            self.monitor_op = lambda a, b: np.less(a, b - self.min_delta)
            self.best = np.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + self.min_delta)
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _current_lr(self.model)
        current = _monitor.monitor_value(logs, self.monitor, "Learning rate reduction is", end=".")
        if current is None:
            return
        current = _monitor.to_float(current)
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = _current_lr(self.model)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        io_utils.print_msg(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0
