"""``lamina.legacy``: Keras 2-era forms kept for old code (``keras.legacy.saving``)."""

from lamina.legacy import saving  # noqa: F401
