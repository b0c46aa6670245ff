"""LearningRateScheduler: set the learning rate at the start of every epoch."""

import inspect
import numbers

from lamina.callbacks.callback import Callback
from lamina.callbacks.reduce_lr_on_plateau import _current_lr
from lamina.utils import io_utils


def _takes_lr(schedule):
    try:
        params = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):
        return None  # unknown: try (epoch, lr), then (epoch), as Keras
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return True
    return len(positional) >= 2


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate at the beginning of every epoch.

    Args:
        schedule: a function ``schedule(epoch, lr) -> new_lr`` or
            ``schedule(epoch) -> new_lr`` (``epoch`` counts from 0, ``lr`` is
            the current rate, the result a number).
        verbose: 1 prints the rate set at each epoch.

    The rate in use is added to the epoch logs as ``"learning_rate"``.

    Example:
    >>> import numpy as np, lamina
    >>> model = lamina.Sequential([lamina.Input((1,)), lamina.layers.Dense(1)])
    >>> model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.1), loss="mse")
    >>> halve = lamina.callbacks.LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr / 2)
    >>> h = model.fit(np.zeros((4, 1)), np.zeros((4, 1)), epochs=3, callbacks=[halve], verbose=0)
    >>> [round(v, 4) for v in h.history["learning_rate"]]
    [0.1, 0.05, 0.025]
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: `schedule` must be a function of (epoch) or (epoch, lr), "
                            f"but received {schedule!r} of type {type(schedule).__name__}.")
        self.schedule = schedule
        self.verbose = verbose
        self._with_lr = _takes_lr(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute (compile the model first).')
        if self._with_lr is None:
            try:
                learning_rate = self.schedule(epoch, _current_lr(self.model))
            except TypeError:  # the Keras 1-argument form
                learning_rate = self.schedule(epoch)
        elif self._with_lr:
            learning_rate = self.schedule(epoch, _current_lr(self.model))
        else:
            learning_rate = self.schedule(epoch)
        if hasattr(learning_rate, "shape") and getattr(learning_rate, "ndim", 0) == 0:
            learning_rate = learning_rate.item() if hasattr(learning_rate, "item") else learning_rate
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {learning_rate!r}")
        learning_rate = float(learning_rate)
        self.model.optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            io_utils.print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _current_lr(self.model)
