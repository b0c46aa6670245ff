"""Recurrent layers: SimpleRNN, LSTM, GRU, their cells, the generic RNN, Bidirectional, ConvLSTM1D/2D/3D."""

from lamina.layers.rnn.bidirectional import Bidirectional  # noqa: F401
from lamina.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D  # noqa: F401

from lamina.layers.rnn.gru import GRU, GRUCell  # noqa: F401
from lamina.layers.rnn.lstm import LSTM, LSTMCell  # noqa: F401
from lamina.layers.rnn.rnn import RNN, StackedRNNCells  # noqa: F401
from lamina.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell  # noqa: F401
