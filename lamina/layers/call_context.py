"""The ``training`` flag propagated from an outer call to the layers it calls."""

import threading

_STATE = threading.local()


def current_training():
    """The ``training`` value of the innermost layer call in progress, or None."""
    stack = getattr(_STATE, "stack", None)
    return stack[-1] if stack else None


class TrainingContext:
    """While active, layers called without ``training=`` use this value."""

    def __init__(self, training):
        self.training = training

    def __enter__(self):
        if not hasattr(_STATE, "stack"):
            _STATE.stack = []
        _STATE.stack.append(self.training)

    def __exit__(self, *exc):
        _STATE.stack.pop()
        return False


def in_layer_call():
    """Whether a layer's ``call`` is running (in this thread)."""
    return bool(getattr(_STATE, "stack", None))
