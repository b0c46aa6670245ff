"""Keras 2-era training forms that tutorials still use: ``fit_generator``/``evaluate_generator``/
``predict_generator`` and the ``workers``/``use_multiprocessing``/``max_queue_size`` arguments of ``fit``,
``evaluate`` and ``predict``. Keras 3 removed them (an error); lamina runs them, with a DeprecationWarning naming
the current form."""

import warnings


def apply_worker_args(x, who, workers=None, use_multiprocessing=None, max_queue_size=None):
    """Keras 2's reading arguments, given to ``fit``/``evaluate``/``predict``: set on ``x`` when it is a
    ``PyDataset`` (where Keras 3 takes them), otherwise without effect; a DeprecationWarning says which."""
    given = {k: v for k, v in (("workers", workers), ("use_multiprocessing", use_multiprocessing),
                               ("max_queue_size", max_queue_size)) if v is not None}
    if not given:
        return
    from lamina.utils.py_dataset import PyDataset

    names = ", ".join(f"{k}={v!r}" for k, v in given.items())
    if isinstance(x, PyDataset):
        warnings.warn(f"{who}({names}): Keras 2's reading arguments now belong to the PyDataset "
                      f"(PyDataset.__init__(workers=..., use_multiprocessing=..., max_queue_size=...)); lamina set "
                      f"them on the {type(x).__name__} given.", DeprecationWarning, stacklevel=4)
        for key, value in given.items():
            if key != "use_multiprocessing" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{who}: {key} must be a positive int, but received {key}={value!r}.")
            setattr(x, key, value)
    else:
        warnings.warn(f"{who}({names}): Keras 2's reading arguments apply to a PyDataset (lamina.utils.PyDataset, "
                      f"keras.utils.Sequence); the {type(x).__name__} given is read without them.",
                      DeprecationWarning, stacklevel=4)


class Keras2Methods:
    """``fit_generator`` and friends, for Keras 2 code: each is the current method with a DeprecationWarning."""

    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, validation_freq=1, class_weight=None,
                      max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True, initial_epoch=0):
        """Keras 2's ``fit_generator``: ``fit(generator, ...)`` (which takes generators and PyDatasets)."""
        warnings.warn("Model.fit_generator is the Keras 2-era name; use Model.fit, which takes generators and "
                      "PyDatasets.", DeprecationWarning, stacklevel=2)
        _set_reading(generator, workers, use_multiprocessing, max_queue_size)
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                        callbacks=callbacks, validation_data=validation_data, validation_steps=validation_steps,
                        validation_freq=validation_freq, class_weight=class_weight, shuffle=shuffle,
                        initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                           use_multiprocessing=False, verbose=0):
        """Keras 2's ``evaluate_generator``: ``evaluate(generator, ...)``."""
        warnings.warn("Model.evaluate_generator is the Keras 2-era name; use Model.evaluate.", DeprecationWarning,
                      stacklevel=2)
        _set_reading(generator, workers, use_multiprocessing, max_queue_size)
        return self.evaluate(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    def predict_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                          use_multiprocessing=False, verbose=0):
        """Keras 2's ``predict_generator``: ``predict(generator, ...)``."""
        warnings.warn("Model.predict_generator is the Keras 2-era name; use Model.predict.", DeprecationWarning,
                      stacklevel=2)
        _set_reading(generator, workers, use_multiprocessing, max_queue_size)
        return self.predict(generator, steps=steps, callbacks=callbacks, verbose=verbose)


def _set_reading(source, workers, use_multiprocessing, max_queue_size):
    """The reading arguments of the ``*_generator`` methods, set on a PyDataset (a generator ignores them)."""
    from lamina.utils.py_dataset import PyDataset

    if isinstance(source, PyDataset):
        source.workers, source.use_multiprocessing, source.max_queue_size = workers, use_multiprocessing, \
            max_queue_size
