"""``lamina.preprocessing``: Keras's legacy ``keras.preprocessing`` helpers (``sequence.pad_sequences``)."""

from lamina.preprocessing import sequence  # noqa: F401
