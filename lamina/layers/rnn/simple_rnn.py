"""``SimpleRNN`` and ``SimpleRNNCell``: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``."""

import warnings

from lamina import ops
from lamina.layers.rnn._layer_helpers import CellOwningRNN
from lamina.layers.rnn.base_cell import BaseRNNCell


class SimpleRNNCell(BaseRNNCell):
    """One step of a fully connected RNN: ``h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)``.

    Args:
        units: positive int, the size of the output and the state.
        activation: default ``"tanh"``.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint: as Keras.
        dropout: fraction of the inputs to drop in training.
        recurrent_dropout: fraction of the recurrent state to drop in training.
        seed: int seed of the dropout masks.

    Example:
    >>> import lamina
    >>> cell = lamina.layers.SimpleRNNCell(3)
    >>> out, state = cell(lamina.ops.ones((2, 4)), [lamina.ops.zeros((2, 3))])
    >>> lamina.ops.shape(out)
    (2, 3)
    """

    _gates = 1
    _has_recurrent_activation = False

    def __init__(self, units, activation="tanh", **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, **kwargs)

    def _step(self, x_t, states, w, rec_mask):
        h = states[0]
        hr = h if rec_mask is None else ops.multiply(h, rec_mask)
        out = self.activation(ops.add(x_t, ops.matmul(hr, w["recurrent_kernel"])))
        return out, [out]


class SimpleRNN(CellOwningRNN):
    """Fully connected RNN whose output is fed back as the next input state.

    Args:
        units: positive int, the size of the output.
        activation: default ``"tanh"``.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint,
        dropout, recurrent_dropout, seed: as ``SimpleRNNCell``.
        return_sequences, return_state, go_backwards, stateful, unroll: as ``RNN``.

    Call arguments:
        sequences: ``(batch, timesteps, features)``.
        initial_state, mask, training: as ``RNN``.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.SimpleRNN(4, return_sequences=True)
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 3, 5))))
    (2, 3, 4)
    >>> [w.shape for w in layer.weights]
    [(5, 4), (4, 4), (4,)]
    """

    cell_class = SimpleRNNCell
    _positional = ("activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
                   "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
                   "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout")

    def __init__(self, units, *args, **kwargs):
        if "implementation" in kwargs:  # Keras 2 accepted it on SimpleRNN (and ignored it); Keras 3 refuses it
            kwargs.pop("implementation")
            warnings.warn("SimpleRNN: the `implementation` argument (Keras 2) has no effect and is ignored; "
                          "remove it.", DeprecationWarning, stacklevel=2)
        super().__init__(units, *args, **kwargs)
