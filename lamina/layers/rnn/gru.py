"""``GRU`` and ``GRUCell`` (Keras weight layout: kernel ``(input_dim, 3 * units)``, gates z, r, h)."""

from lamina import ops
from lamina.layers.rnn._layer_helpers import CellOwningRNN
from lamina.layers.rnn.base_cell import BaseRNNCell, check_implementation
from lamina.layers.rnn.rnn import engine_rnn


class GRUCell(BaseRNNCell):
    """One step of a Gated Recurrent Unit (Cho et al. 2014).

    Gates z (update), r (reset) through ``recurrent_activation``; candidate
    ``hh = activation(x_h + r * (h @ U_h + b_h))`` when ``reset_after`` (the
    cuDNN-compatible variant, Keras's default) or ``activation(x_h + (r * h) @ U_h)``
    otherwise; ``h' = z * h + (1 - z) * hh``.

    Args:
        units: positive int, the size of the output and the state.
        reset_after: apply the reset gate after the recurrent matmul (default
            True); the bias is then ``(2, 3 * units)`` (input and recurrent
            biases), else ``(3 * units,)``.
        activation, recurrent_activation, use_bias, the initializers,
        regularizers and constraints, dropout, recurrent_dropout, seed, implementation: as ``LSTMCell``.

    Example:
    >>> import lamina
    >>> cell = lamina.layers.GRUCell(3)
    >>> out, state = cell(lamina.ops.ones((2, 4)), [lamina.ops.zeros((2, 3))])
    >>> lamina.ops.shape(out)
    (2, 3)
    >>> [w.shape for w in cell.weights]
    [(4, 9), (3, 9), (2, 9)]
    """

    _gates = 3

    def __init__(self, units, reset_after=True, implementation=2, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)
        self.implementation = check_implementation(self, implementation)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self):
        if self.bias is None:
            return None
        return self.bias.value[0] if self.reset_after else self.bias.value

    def _step(self, x_t, states, w, rec_mask):
        h = states[0]
        u = self.units
        hr = h if rec_mask is None else ops.multiply(h, rec_mask)
        rk = w["recurrent_kernel"]
        if self.reset_after:
            rec = ops.matmul(hr, rk)
            if w["bias"] is not None:
                rec = ops.add(rec, w["bias"][1])
            z = self.recurrent_activation(ops.add(x_t[:, :u], rec[:, :u]))
            r = self.recurrent_activation(ops.add(x_t[:, u:2 * u], rec[:, u:2 * u]))
            hh = self.activation(ops.add(x_t[:, 2 * u:], ops.multiply(r, rec[:, 2 * u:])))
        else:
            rec = ops.matmul(hr, rk[:, :2 * u])
            z = self.recurrent_activation(ops.add(x_t[:, :u], rec[:, :u]))
            r = self.recurrent_activation(ops.add(x_t[:, u:2 * u], rec[:, u:]))
            hh = self.activation(ops.add(x_t[:, 2 * u:], ops.matmul(ops.multiply(r, hr), rk[:, 2 * u:])))
        h = ops.add(ops.multiply(z, h), ops.multiply(ops.subtract(1.0, z), hh))
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


class GRU(CellOwningRNN):
    """Gated Recurrent Unit layer (Cho et al. 2014), Keras's ``reset_after=True`` variant by default.

    On PyTorch, with ``reset_after=True``, ``tanh`` / ``sigmoid`` activations,
    no recurrent dropout in training and no mask or a right-padded one, the layer
    runs torch's fused GRU kernel with the same weights (gates rearranged from
    Keras's z, r, h to torch's r, z, n); otherwise a step-by-step loop.

    Args:
        units: positive int, the size of the output.
        reset_after, activation, recurrent_activation, use_bias, the
        initializers, regularizers and constraints, dropout, recurrent_dropout,
        seed, implementation: as ``GRUCell``; activity_regularizer as ``Layer``.
        return_sequences, return_state, go_backwards, stateful, unroll: as ``RNN``.

    Call arguments:
        sequences: ``(batch, timesteps, features)``.
        initial_state, mask, training: as ``RNN``.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.GRU(4, return_sequences=True)
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 3, 5))))
    (2, 3, 4)
    >>> [w.shape for w in layer.weights]
    [(5, 12), (4, 12), (2, 12)]
    """

    cell_class = GRUCell
    _fused_kind = "gru"
    _positional = ("activation", "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                   "bias_initializer",
                   "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
                   "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout")

    def _fused_call(self, sequences, initial_state, mask, training):
        cell = self.cell
        if not cell.reset_after or not self._can_fuse(training):
            return None
        sequences = self._drop_inputs(sequences, training)
        res = engine_rnn().fused_gru(sequences, initial_state[0], cell.kernel.value, cell.recurrent_kernel.value,
                                     None if cell.bias is None else cell.bias.value, mask=mask,
                                     go_backwards=self.go_backwards,
                                     zero_output_for_mask=self.zero_output_for_mask)
        return res if res is not None else self._loop_without_dropout(sequences, initial_state, mask)
