"""Recurrent layers: SimpleRNN, LSTM, GRU, their cells, the generic RNN, and Bidirectional."""

from lamina.layers.rnn.bidirectional import Bidirectional  # noqa: F401

from lamina.layers.rnn.gru import GRU, GRUCell  # noqa: F401
from lamina.layers.rnn.lstm import LSTM, LSTMCell  # noqa: F401
from lamina.layers.rnn.rnn import RNN, StackedRNNCells  # noqa: F401
from lamina.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell  # noqa: F401
