"""``lamina.callbacks``: hooks into fit/evaluate/predict."""

from lamina.callbacks.callback import Callback, CallbackList, History, ProgbarLogger  # noqa: F401
