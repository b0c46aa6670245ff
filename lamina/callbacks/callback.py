"""Callback base class, CallbackList, History and ProgbarLogger."""

from lamina.utils.progbar import Progbar


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
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be lamina.callbacks.Callback instances, but received {cb!r:.100} "
                    f"of type {type(cb).__name__}."
                )
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
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None): self._call("on_train_begin", logs)
    def on_train_end(self, logs=None): self._call("on_train_end", logs)
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, logs)
    def on_test_begin(self, logs=None): self._call("on_test_begin", logs)
    def on_test_end(self, logs=None): self._call("on_test_end", logs)
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", logs)
    def on_predict_end(self, logs=None): self._call("on_predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        for cb in self.callbacks:
            cb.on_train_batch_begin(batch, logs)
            cb.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        for cb in self.callbacks:
            cb.on_train_batch_end(batch, logs)
            cb.on_batch_end(batch, logs)

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

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


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
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)
        self._start(self.target)

    def on_train_batch_end(self, batch, logs=None):
        if self.progbar is not None:
            self.progbar.update(batch + 1, logs_fn=self._logs_fn)

    def on_epoch_end(self, epoch, logs=None):
        if self.progbar is not None and self.verbose:
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
