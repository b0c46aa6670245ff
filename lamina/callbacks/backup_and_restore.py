"""BackupAndRestore: back up training regularly; after an interruption, resume exactly where it was."""

import glob
import math
import os
import warnings

import numpy as np

from lamina import backend
from lamina.callbacks.callback import Callback
from lamina.distribution import _loop as distribution_loop
from lamina.saving import backup_archive

LATEST = "latest.backup.zip"
PREVIOUS = "previous.backup.zip"


class BackupAndRestore(Callback):
    """Back up the training state to ``backup_dir``; a later ``fit`` resumes from the backup.

    A backup holds the model's weights, the optimizer's variables (iterations, slots,
    learning rate), every seed-generator state (the model's and lamina's global one), the
    metric accumulators, the epoch and the batch within it, and the state of the random
    generator that shuffles the data. When ``fit`` starts and a backup exists, all of it is
    restored: training continues at the saved batch with the same batch order, and ends with
    the same weights as an uninterrupted run with the same seed (``lamina.utils.set_random_seed``),
    even when the process was killed in the middle of an epoch.

    Resuming inside an epoch is exact for NumPy/tensor data. For iterable sources (generators,
    ``PyDataset``, DataLoader) the first batches of the resumed epoch are read again and dropped,
    which is exact only when the source yields the same batches in the same order on the rerun;
    with ``save_freq="epoch"`` resuming is at epoch boundaries, exact for every source.

    In a multi-process run it runs in every process: each save is made at the same point everywhere
    (sharded variables are gathered there), rank 0 alone writes it (with the metric accumulators summed
    over the processes), and every process restores from it.

    Backups are written atomically (to a temporary file in ``backup_dir``, then renamed), so a
    crash while saving never destroys the previous backup. A backup is never written from
    non-finite weights or after a NaN loss (a warning says it was skipped), and when training
    ends by a NaN loss (``TerminateOnNaN``) or an exception the last good backup is kept.

    Args:
        backup_dir: the folder for the backups (created when needed). Use one folder per run.
        save_freq: ``"epoch"`` (back up at the end of each epoch) or an int N (back up every N
            batches; per-batch hooks make JAX run one step per compiled call).
        double_checkpoint: also keep the backup before the latest one, and restore it when the
            latest cannot be read (e.g. it was damaged).
        delete_checkpoint: delete the backups when training ends successfully.

    Files: ``backup_dir/latest.backup.zip`` (and ``previous.backup.zip``), zip archives holding
    ``model.weights.h5`` (readable by ``model.load_weights``), ``resume_state.h5`` and
    ``training_state.json``; see ``lamina.saving.backup_archive``.

    Example:
    >>> import os, tempfile, numpy as np, lamina
    >>> model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> folder = os.path.join(tempfile.mkdtemp(), "backup")
    >>> cb = lamina.callbacks.BackupAndRestore(folder, delete_checkpoint=False)
    >>> _ = model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=2, verbose=0, callbacks=[cb])
    >>> sorted(os.listdir(folder))
    ['latest.backup.zip']
    >>> h = model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=3, verbose=0, callbacks=[cb])
    >>> h.epoch  # epochs 0 and 1 were done: the run resumes with the third
    [2]
    """

    _runs_last = True  # see CallbackList: after the others in on_train_begin and on_epoch_end

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir):
            raise ValueError(f"BackupAndRestore: backup_dir must be a non-empty folder path, but received "
                             f"backup_dir={backup_dir!r}.")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq <= 0):
            raise ValueError(f"BackupAndRestore: unrecognized save_freq={save_freq!r}. Expected 'epoch' or a "
                             "positive int (a number of batches).")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        # Backing up once per epoch needs no per-batch logs: the loop keeps its fast path.
        self._lazy_batch_logs = save_freq == "epoch"
        self._epoch = 0
        self._batches_since_save = 0
        self._step = 0  # batches done in the current epoch
        self._resume_step = 0
        self._nan_seen = False

    @property
    def latest_path(self):
        return os.path.join(self.backup_dir, LATEST)

    @property
    def previous_path(self):
        return os.path.join(self.backup_dir, PREVIOUS)

    # ---- restore ---------------------------------------------------------------

    def _restore_model_first(self):
        """Read the backup into the model (weights, optimizer, seeds) before the other callbacks' on_train_begin
        runs (CallbackList calls this first), so they see the restored model, as in Keras; their own state
        is restored after them (``on_train_begin``)."""
        self._epoch = 0
        self._batches_since_save = 0
        self._step = self._resume_step = 0
        self._nan_seen = False
        if distribution_loop.is_chief():
            self._remove_partial_saves()
        self._restored_state = self._restore()

    def on_train_begin(self, logs=None):
        if "_restored_state" not in self.__dict__:  # called on its own (not through a CallbackList)
            self._restore_model_first()
        state = self.__dict__.pop("_restored_state")
        if state is None:
            return
        position = getattr(self.model, "_train_loop", None)
        if position is None:
            warnings.warn("BackupAndRestore: the weights were restored, but this training loop cannot be "
                          "repositioned (it is not lamina's fit); training restarts at its first epoch.",
                          stacklevel=2)
            return
        self._epoch, self._resume_step = state["epoch"], state["step"]
        metrics = state["metric_values"]
        if state.get("metrics_summed") and not distribution_loop.is_chief():
            metrics = [np.zeros_like(m) for m in metrics]  # rank 0 holds the sums over every process
        position.resume_at(state["epoch"], state["step"], state.get("host_rng"), metrics,
                           pass_offset=state.get("pass_offset", 0))  # absent from older backups: 0
        self._restore_peers(state.get("callbacks", []))

    # ---- the other callbacks' state ----------------------------------------------------------------

    def _stateful_peers(self):
        """``(class name, occurrence, callback)`` of the other callbacks that keep a state."""
        seen, out = {}, []
        for cb in getattr(self, "_peers", ()):
            if cb is self or type(cb).get_state is Callback.get_state:
                continue
            name = type(cb).__name__
            out.append((name, seen.get(name, 0), cb))
            seen[name] = seen.get(name, 0) + 1
        return out

    def _peer_states(self):
        states = []
        for name, index, cb in self._stateful_peers():
            state = cb.get_state()
            if state is not None:
                states.append({"class": name, "index": index, "state": state})
        return states

    def _restore_peers(self, saved):
        by_key = {(e["class"], e["index"]): e["state"] for e in saved}
        for name, index, cb in self._stateful_peers():
            state = by_key.get((name, index))
            if state is None:
                continue  # a callback added since the backup starts fresh
            try:
                cb.set_state(state)
            except (KeyError, TypeError, ValueError) as e:
                warnings.warn(f"BackupAndRestore: could not restore the state of {name} from the backup "
                              f"({type(e).__name__}: {e}); it starts fresh.", stacklevel=3)

    def _candidates(self):
        paths = [self.latest_path] + ([self.previous_path] if self.double_checkpoint else [])
        return [p for p in paths if os.path.isfile(p)]

    def _restore(self):
        candidates = self._candidates()
        if not candidates:
            return None
        first_error = None
        for path in candidates:
            try:
                return backup_archive.read_backup(self.model, path)
            except (ValueError, OSError) as e:
                if first_error is None:
                    first_error = (path, e)
                if path != candidates[-1]:
                    warnings.warn(f"BackupAndRestore: the backup '{path}' cannot be read ({e}); restoring the "
                                  f"previous backup '{candidates[-1]}' instead.", stacklevel=3)
        path, e = first_error
        hint = "" if self.double_checkpoint else \
            " (double_checkpoint=True keeps a previous backup to fall back to)"
        raise ValueError(f"BackupAndRestore: cannot resume from the backup '{path}': {e} Delete the file (or "
                         f"the folder '{self.backup_dir}') to train from scratch{hint}.") from e

    def _remove_partial_saves(self):
        """Remove temporary files left by a process killed while saving (never a finished backup)."""
        if not os.path.isdir(self.backup_dir):
            return
        for name in (LATEST, PREVIOUS):
            for tmp in glob.glob(os.path.join(glob.escape(self.backup_dir), f".{name}.*.tmp")):
                try:
                    os.remove(tmp)
                except OSError:
                    pass

    # ---- back up ---------------------------------------------------------------

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._step, self._resume_step = self._resume_step, 0  # a resumed epoch starts at its saved step

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        if logs is not None and not _finite_loss(logs):
            self._nan_seen = True
        # ``batch`` is the last batch of the block just run (several with an explicit steps_per_execution).
        self._batches_since_save += batch + 1 - self._step if batch >= self._step else batch + 1
        self._step = batch + 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            position = getattr(self.model, "_train_loop", None)
            where = position.backup_state() if position is not None else {"host_rng": None}
            self._save({"epoch": self._epoch, "step": batch + 1, **where}, logs)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and not _finite_loss(logs):
            self._nan_seen = True
        if self.save_freq == "epoch":
            position = getattr(self.model, "_train_loop", None)
            where = position.backup_state(epoch_end=True) if position is not None else {"host_rng": None}
            self._save({"epoch": epoch + 1, "step": 0, **where}, logs)

    def _save(self, training_state, logs):
        # Every process gets here at the same point (the save_freq counters are the same on all) and gathers
        # the sharded variables (ModelParallel on PyTorch); every process restores from the backup, but only
        # rank 0 reads the weights and writes it.
        # The metric accumulators are backed up summed over the processes (each holds its own share of the
        # batches): on resume rank 0 restores the sums and the others start from zero.
        with distribution_loop.whole_weights(self.model), distribution_loop.summed_metrics(self.model) as summed:
            if distribution_loop.is_chief():
                self._write_backup(dict(training_state, metrics_summed=True) if summed else training_state)

    def _write_backup(self, training_state):
        if self._nan_seen or not self._weights_finite():
            self._nan_seen = True
            warnings.warn(f"BackupAndRestore: not backing up at epoch {training_state['epoch']}, step "
                          f"{training_state['step']}: the loss or the weights are NaN or infinite. The last "
                          f"good backup in '{self.backup_dir}' is kept.", stacklevel=4)
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        keep_previous = None
        if self.double_checkpoint:
            def keep_previous():
                if os.path.isfile(self.latest_path):
                    os.replace(self.latest_path, self.previous_path)
        backup_archive.write_backup(self.model, self.latest_path, training_state, before_replace=keep_previous,
                                    callback_states=self._peer_states())

    def _weights_finite(self):
        for v in self.model.weights:
            value = np.asarray(backend.convert_to_numpy(v.value))
            if value.dtype.kind not in "biu" and not np.isfinite(value.astype(np.float64)).all():
                return False
        return True

    # ---- end -------------------------------------------------------------------

    def on_train_end(self, logs=None):
        if logs and not _finite_loss(logs):
            self._nan_seen = True
        if not self.delete_checkpoint:
            return
        with distribution_loop.whole_weights(self.model):  # every process: rank 0 checks the weights
            if self._nan_seen or not distribution_loop.is_chief() or not self._weights_finite():
                return
        for path in (self.latest_path, self.previous_path):
            if os.path.isfile(path):
                os.remove(path)
        try:
            os.rmdir(self.backup_dir)  # only when empty: other files in the folder are the user's
        except OSError:
            pass


def _finite_loss(logs):
    loss = logs.get("loss")
    if loss is None:
        return True
    try:
        return math.isfinite(float(loss))
    except (TypeError, ValueError):
        return True
