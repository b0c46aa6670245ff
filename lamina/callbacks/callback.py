"""Callback base class, CallbackList, History and ProgbarLogger."""

from lamina.utils.progbar import Progbar
from lamina.utils import io_utils


class Callback:
    """Base class of callbacks: override the ``on_*`` hooks you need.

    ``self.model`` is the model being trained and ``self.params`` holds
    ``epochs``, ``steps`` and ``verbose``.

    Example:
    >>> import lamina
    >>> class CountEpochs(lamina.callbacks.Callback):
    ...     def __init__(self):
    ...         super().__init__(); self.n = 0
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.n += 1
    >>> CountEpochs().n
    0
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    # Keras 2 names
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass

    # ---- state kept in BackupAndRestore's backups ------------------------------------------------
    def get_state(self):
        """The state a resumed run needs (e.g. EarlyStopping's patience count), or None.

        A dict of JSON numbers/strings; a value may also be a list of NumPy arrays (saved as
        arrays). ``BackupAndRestore`` stores it with each backup and gives it back through
        ``set_state`` when a run resumes, so the resumed run makes the same decisions.
        """
        return None

    def set_state(self, state):
        """Restore what ``get_state`` returned (called when a run resumes from a backup)."""


def _keras_logs(logs):
    """What each callback receives, as Keras's ``CallbackList`` passes it (``pythonify_logs``): a new dict
    with the keys sorted (nested dicts flattened into it), shared by the callbacks of one hook, so a key a
    callback adds (``learning_rate``) is seen by those after it (``History``, the progress bar) but not by the
    loop. No logs (a begin hook, batch logs no callback asked for) is an empty dict, as Keras gives it."""
    if logs is None:
        return {}
    out = {}
    for key, value in sorted(logs.items()):
        if isinstance(value, dict):
            out.update(_keras_logs(value))
        else:
            out[key] = value
    return out


_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
                "on_predict_batch_begin", "on_predict_batch_end", "on_batch_begin", "on_batch_end")


class CallbackList:
    """Calls a list of callbacks in order; tells the loop which per-batch hooks are used.

    Example:
    >>> import lamina
    >>> cbs = lamina.callbacks.CallbackList([lamina.callbacks.History()])
    >>> cbs.needs_batch_logs("on_train_batch_end")
    False
    """

    def __init__(self, callbacks=None, model=None, **params):
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be lamina.callbacks.Callback instances, but received {cb!r:.100} "
                    f"of type {type(cb).__name__}."
                )
        self.callbacks = callbacks
        for cb in self.callbacks:
            if getattr(cb, "_runs_last", False):
                cb._peers = self.callbacks
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, cb):
        self.callbacks.append(cb)

    def set_model(self, model):
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        for cb in self.callbacks:
            cb.set_params(params)

    def needs_batch_logs(self, hook):
        """True when some callback overrides ``hook`` (so the loop must fetch per-batch logs)."""
        names = (hook,) + (("on_batch_end",) if hook == "on_train_batch_end" else ()) + \
            (("on_batch_begin",) if hook == "on_train_batch_begin" else ())
        for cb in self.callbacks:
            for name in names:
                overridden = name in vars(cb) or getattr(type(cb), name) is not getattr(Callback, name)
                if overridden and not getattr(cb, "_lazy_batch_logs", False):
                    return True
        return False

    def _call(self, hook, *args):
        logs = _keras_logs(args[-1])
        for cb in self.callbacks:
            if "batch" in hook:  # as Keras passes them: by keyword to the batch hooks, else by position
                getattr(cb, hook)(*args[:-1], logs=logs)
            else:
                getattr(cb, hook)(*args[:-1], logs)

    def _call_late_last(self, hook, *args):
        # A callback that backs up the others' state (BackupAndRestore) runs after them at the start
        # of training (it restores them after they reset themselves) and at the end of an epoch (it
        # saves what they did in it); every other hook keeps the list's order.
        logs = _keras_logs(args[-1])
        late = [c for c in self.callbacks if getattr(c, "_runs_last", False)]
        try:
            for cb in self.callbacks:
                if not getattr(cb, "_runs_last", False):
                    getattr(cb, hook)(*args[:-1], logs)
        except BaseException:
            if hook == "on_epoch_end":  # the epoch is done: its backup is written even when another callback
                for cb in late:         # raised (an interruption), so a resumed run starts after it, as Keras
                    getattr(cb, hook)(*args[:-1], logs)
            raise
        for cb in late:
            getattr(cb, hook)(*args[:-1], logs)

    def on_train_begin(self, logs=None):
        for cb in self.callbacks:  # a backup is read into the model before the callbacks see it
            if hasattr(cb, "_restore_model_first"):
                cb._restore_model_first()
        self._call_late_last("on_train_begin", logs)

    def on_train_end(self, logs=None): self._call("on_train_end", logs)
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs=None): self._call_late_last("on_epoch_end", epoch, logs)
    def on_test_begin(self, logs=None): self._call("on_test_begin", logs)
    def on_test_end(self, logs=None): self._call("on_test_end", logs)
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", logs)
    def on_predict_end(self, logs=None): self._call("on_predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        logs = _keras_logs(logs)
        for cb in self.callbacks:
            cb.on_train_batch_begin(batch, logs=logs)
            cb.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        logs = _keras_logs(logs)
        for cb in self.callbacks:
            cb.on_train_batch_end(batch, logs=logs)
            cb.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None): self._call("on_test_batch_begin", batch, logs)
    def on_test_batch_end(self, batch, logs=None): self._call("on_test_batch_end", batch, logs)
    def on_predict_batch_begin(self, batch, logs=None): self._call("on_predict_batch_begin", batch, logs)
    def on_predict_batch_end(self, batch, logs=None): self._call("on_predict_batch_end", batch, logs)


class History(Callback):
    """Records the logs of every epoch; ``fit`` returns it (``history.history["loss"]``).

    Example:
    >>> import lamina
    >>> h = lamina.callbacks.History(); h.on_train_begin(); h.on_epoch_end(0, {"loss": 0.5})
    >>> h.history
    {'loss': [0.5]}
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []
        self._key_epochs = {}  # the epochs each key was logged at (val_ keys may skip some)

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
            self._key_epochs.setdefault(k, []).append(epoch)
        if self.model is not None:
            self.model.history = self

    def plot(self, metrics=None, ax=None, figsize=None, **plot_kwargs):
        """Plot the history with matplotlib: one subplot per metric, training and ``val_`` curves together.

        Args:
            metrics: a name or list of names to plot (``"loss"``, ``"accuracy"``...; the
                ``val_`` curve of each is added when logged). Default: every logged metric.
            ax: a matplotlib ``Axes`` (one metric) or a sequence of them (one per metric) to
                draw on; default: a new figure with a row of subplots.
            figsize: the size of a new figure (default: 4.5 x 3.5 inches per subplot).
            **plot_kwargs: passed to every ``Axes.plot`` call (e.g. ``marker="o"``).

        The x axis is the epoch, counted from 1 as the progress bar does.

        Returns:
            The matplotlib ``Figure``.

        Raises:
            ImportError: when matplotlib is not installed.
            ValueError: for an empty history, an unknown metric or a wrong number of axes.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError(f"History.plot needs matplotlib ({e}). Install it with `pip install matplotlib`.") \
                from e
        if not self.history:
            raise ValueError("History.plot: the history is empty (no epoch has ended yet); train with `fit` first.")
        names = []
        for key in self.history:
            base = key[4:] if key.startswith("val_") else key
            if base not in names:
                names.append(base)
        if metrics is None:
            metrics = names
        elif isinstance(metrics, str):
            metrics = [metrics]
        unknown = [m for m in metrics if m not in names]
        if unknown or not metrics:
            raise ValueError(f"History.plot: metrics must name some of {names}, but received "
                             f"metrics={list(metrics)!r}" + (f" (unknown: {unknown})." if unknown else "."))
        if ax is None:
            w, h = figsize or (4.5 * len(metrics), 3.5)
            fig, axes = plt.subplots(1, len(metrics), figsize=(w, h), squeeze=False)
            axes = list(axes[0])
        else:
            if hasattr(ax, "flat"):  # a NumPy array of Axes, as plt.subplots returns
                axes = list(ax.flat)
            else:
                axes = list(ax) if isinstance(ax, (list, tuple)) else [ax]
            if len(axes) != len(metrics):
                raise ValueError(f"History.plot: received {len(axes)} axes for {len(metrics)} metrics "
                                 f"{list(metrics)}; pass one Axes per metric.")
            fig = axes[0].figure
        key_epochs = getattr(self, "_key_epochs", {})
        for a, name in zip(axes, metrics):
            for key, label in ((name, "train"), (f"val_{name}", "validation")):
                if key not in self.history:
                    continue
                values = self.history[key]
                epochs = key_epochs.get(key, self.epoch)
                if len(epochs) != len(values):
                    epochs = range(len(values))
                a.plot([e + 1 for e in epochs], values, label=label, **plot_kwargs)
            a.set_title(name)
            a.set_xlabel("epoch")
            a.set_ylabel(name)
            a.legend()
        if ax is None:
            fig.tight_layout()
        return fig


class ProgbarLogger(Callback):
    """Prints progress: a bar per epoch (verbose=1) or one line per epoch (verbose=2).

    The bar refreshes at most every ``interval`` seconds, and only then reads the
    metrics from the device, so it costs no synchronisation per step.
    """

    _lazy_batch_logs = True

    def __init__(self, interval=0.25):
        super().__init__()
        self.interval = interval
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._mode = "train"

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _start(self, target):
        self.progbar = Progbar(target=target, verbose=self.verbose, interval=self.interval)

    def on_epoch_begin(self, epoch, logs=None):
        self._mode = "train"
        if self.verbose and self.epochs > 1:
            io_utils.print_msg(f"Epoch {epoch + 1}/{self.epochs}")
        self._start(self.target)

    def on_train_batch_end(self, batch, logs=None):
        if self.progbar is not None:
            self.progbar.update(batch + 1, logs_fn=self._logs_fn)

    def on_epoch_end(self, epoch, logs=None):
        if self.progbar is not None and self.verbose:
            if self.verbose == 1 and self.model is not None:
                # Keras's live bar lists the training metrics (learnt from the batches' logs) before what
                # only the epoch's logs have (val_ metrics, then what callbacks added: learning_rate).
                self.progbar.register(getattr(self.model, "_epoch_train_keys", None) or ())
            self.progbar.update(self.progbar.seen, values=logs, finalize=True)

    def on_test_begin(self, logs=None):
        if self.model is not None and getattr(self.model, "_in_fit", False):
            return
        self._mode = "test"
        self._start(self.params.get("steps"))

    def on_test_batch_end(self, batch, logs=None):
        if self._mode == "test" and self.progbar is not None:
            self.progbar.update(batch + 1, logs_fn=self._logs_fn)

    def on_test_end(self, logs=None):
        if self._mode == "test" and self.progbar is not None and self.verbose:
            self.progbar.update(self.progbar.seen, values=logs, finalize=True)

    def on_predict_begin(self, logs=None):
        self._mode = "predict"
        self._start(self.params.get("steps"))

    def on_predict_batch_end(self, batch, logs=None):
        if self.progbar is not None:
            self.progbar.update(batch + 1)

    def on_predict_end(self, logs=None):
        if self.progbar is not None and self.verbose:
            self.progbar.update(self.progbar.seen, finalize=True)

    def _logs_fn(self):
        return self.model._current_logs() if self.model is not None else {}


class WeightReadPeer(Callback):
    """Stands, on ranks other than 0 of a multi-process run, for a rank-0 callback that reads the whole weights
    at some epochs' ends (``TensorBoard``'s histograms): it joins the gathering of sharded variables at those
    epochs (a collective every process must enter) and does nothing else."""

    def __init__(self, callback):
        super().__init__()
        self._callback = callback

    def on_epoch_end(self, epoch, logs=None):
        if self._callback.reads_weights_at(epoch):
            from lamina.distribution import _loop as distribution_loop

            with distribution_loop.whole_weights(self.model):
                pass
