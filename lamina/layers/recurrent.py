"""``lamina.layers.recurrent``: Keras 2's ``keras.layers.recurrent`` import path, for tutorial code
(see lamina/_keras2_paths.py)."""

from lamina._keras2_paths import forwarding as _forwarding

__getattr__, __all__ = _forwarding(__name__, "lamina.layers", [
    "RNN", "SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells"
])
