"""Errors that steer a search, as in Keras Tuner (``keras_tuner.errors``)."""


class FailedTrialError(Exception):
    """Raise inside ``build``/``fit`` to mark the current trial failed; the search goes on."""


class FatalError(Exception):
    """Raise inside ``build``/``fit`` to stop the whole search at once."""


class FatalValueError(FatalError, ValueError):
    """A fatal ``ValueError``: stops the search."""


class FatalTypeError(FatalError, TypeError):
    """A fatal ``TypeError``: stops the search."""


class FatalRuntimeError(FatalError, RuntimeError):
    """A fatal ``RuntimeError``: stops the search."""
