"""ModelCheckpoint: save the model or its weights during training."""

import os
import warnings

import numpy as np

from lamina.callbacks import _monitor
from lamina.callbacks.callback import Callback
from lamina.distribution import _loop as distribution_loop
from lamina.utils import io_utils


class ModelCheckpoint(Callback):
    """Save the model (``model.save``) or its weights (``model.save_weights``) during training.

    ``filepath`` may hold ``str.format`` fields filled from ``epoch`` (1-based),
    ``batch`` (1-based, when saving by batches) and the logs, e.g.
    ``"ckpt/{epoch:02d}-{val_loss:.2f}.keras"``.

    Args:
        filepath: where to save; must end in ``.keras``, or in ``.weights.h5``
            with ``save_weights_only=True`` (as Keras 3).
        monitor: the quantity compared when ``save_best_only`` (default ``"val_loss"``).
        verbose: 1 prints a message at each save.
        save_best_only: only save when ``monitor`` improves on the best so far.
        save_weights_only: save only the weights (``.weights.h5``).
        mode: ``"auto"``, ``"min"`` or ``"max"``: the direction of improvement.
        save_freq: ``"epoch"``, or an int: save every that many batches.
        initial_value_threshold: the value to beat for the first save when
            ``save_best_only``.

    Example:
    >>> import os, tempfile, numpy as np, lamina
    >>> model = lamina.Sequential([lamina.Input((1,)), lamina.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> folder = tempfile.mkdtemp()
    >>> ckpt = lamina.callbacks.ModelCheckpoint(os.path.join(folder, "w{epoch:02d}.weights.h5"),
    ...                                         save_weights_only=True)
    >>> _ = model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=2, callbacks=[ckpt], verbose=0)
    >>> sorted(os.listdir(folder))
    ['w01.weights.h5', 'w02.weights.h5']
    """

    # Not chief-only: in a multi-process run it runs on every process, so that at each save every process
    # reaches the same point (``_save_model``), where sharded variables (ModelParallel on PyTorch) are
    # gathered by all of them; only rank 0 prints and writes.

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.initial_value_threshold = initial_value_threshold
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self.best = initial_value_threshold
        self.mode = _monitor.check_mode(mode, "ModelCheckpoint")
        self.monitor_op = None
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, (int, np.integer))
                                     or save_freq <= 0):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or "
                             "positive integer values (a number of batches).")
        if save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                                 "provided must end in `.weights.h5` (Keras weights format). Received: "
                                 f"filepath={self.filepath}")
        elif not self.filepath.endswith(".keras"):
            raise ValueError("The filepath provided must end in `.keras` (Keras model format). Received: "
                             f"filepath={self.filepath}. To save only the weights, pass "
                             "`save_weights_only=True` and a filepath ending in `.weights.h5`.")
        # Saving once per epoch needs no per-batch logs: the loop keeps its fast path.
        self._lazy_batch_logs = save_freq == "epoch"

    def get_state(self):
        return {"best": None if self.best is None else float(self.best),
                "batches_since_save": int(self._batches_seen_since_last_saving)}

    def set_state(self, state):
        self.best = state["best"]
        self._batches_seen_since_last_saving = int(state["batches_since_save"])

    def _set_monitor_op(self):
        # self.best stays None until a value is monitored (as Keras: the first one is an improvement, and the
        # message says "improved from None")
        mode = _monitor.resolve_mode(self.mode, self.monitor, self.model, "ModelCheckpoint")
        self.monitor_op = np.less if mode == "min" else np.greater

    def on_train_begin(self, logs=None):
        if self.save_best_only and self.monitor_op is None:
            self._set_monitor_op()

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch
            add_batches = batch + 1
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _write(self, filepath):
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def _save_model(self, epoch, batch, logs):
        logs = dict(logs or {})
        filepath = self._get_file_path(epoch, batch, logs)
        # Every process gathers the sharded variables here (before the save_best_only decision, which only
        # rank 0 makes: batch logs may differ between processes), then rank 0 alone reads and writes them.
        with distribution_loop.whole_weights(self.model):
            if distribution_loop.is_chief():
                self._save_to(filepath, epoch, logs)

    def _save_to(self, filepath, epoch, logs):
        dirname = os.path.dirname(filepath)
        if os.path.isdir(filepath):
            raise IOError("Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an "
                          f"existing directory: {filepath}")
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self._should_save(filepath, epoch, logs):
            self._write(filepath)
            if self.verbose > 0:
                io_utils.print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _should_save(self, filepath, epoch, logs):
        """Keras's ``_should_save_model``, with its messages."""
        if not self.save_best_only:
            if self.verbose > 0:
                io_utils.print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        current = logs.get(self.monitor)
        if current is None:  # as Keras: saved anyway
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=4)
            return True
        if np.ndim(current) > 0:
            warnings.warn("Can save best model only when `monitor` is a scalar value. Received: "
                          f"{current}. Falling back to `save_best_only=False`.", stacklevel=4)
            return True
        current = _monitor.to_float(current)
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self.best is None or self.monitor_op(current, self.best):
            if self.verbose > 0:
                io_utils.print_msg(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                                   f"{current:.5f}, saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            io_utils.print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _get_file_path(self, epoch, batch, logs):
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {e} is not '
                           f"in the logs (available: epoch, {'batch, ' if batch is not None else ''}"
                           f"{', '.join(logs)}).") from None
