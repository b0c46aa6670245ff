"""TerminateOnNaN: stop training at the first NaN or infinite loss."""

import math

from lamina.callbacks.callback import Callback
from lamina.utils import io_utils


class TerminateOnNaN(Callback):
    """Stop training when a batch gives a NaN or infinite loss.

    The loss is read after every training batch (or every block of batches
    with ``steps_per_execution``), and once more at the end of the epoch.

    Example:
    >>> import numpy as np, lamina
    >>> model = lamina.Sequential([lamina.Input((1,)), lamina.layers.Dense(1)])
    >>> model.compile(optimizer=lamina.optimizers.SGD(learning_rate=1e30), loss="mse")  # diverges
    >>> h = model.fit(np.full((8, 1), 1e3), np.ones((8, 1)), batch_size=2, epochs=5, verbose=0,
    ...               callbacks=[lamina.callbacks.TerminateOnNaN()])
    Batch 1: Invalid loss, terminating training
    >>> len(h.history["loss"])
    1
    """

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None:
            loss = float(loss)
            if math.isnan(loss) or math.isinf(loss):
                io_utils.print_msg(f"Batch {batch}: Invalid loss, terminating training")
                self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not self.model.stop_training and not math.isfinite(float(loss)):
            io_utils.print_msg(f"Epoch {epoch}: Invalid loss, terminating training")
            self.model.stop_training = True
