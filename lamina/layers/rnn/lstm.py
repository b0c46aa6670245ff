"""``LSTM`` and ``LSTMCell`` (Keras weight layout: kernel ``(input_dim, 4 * units)``, gates i, f, c, o)."""

from lamina import initializers, ops
from lamina.layers.rnn._layer_helpers import CellOwningRNN
from lamina.layers.rnn.base_cell import BaseRNNCell, check_implementation
from lamina.layers.rnn.rnn import engine_rnn


class LSTMCell(BaseRNNCell):
    """One step of a Long Short-Term Memory layer (Hochreiter 1997).

    ``z = x @ kernel + h @ recurrent_kernel + bias`` split into gates i, f, c, o;
    ``c' = f * c + i * activation(c_gate)``, ``h' = o * activation(c')`` with
    i, f, o through ``recurrent_activation``. The states are ``[h, c]``.

    Args:
        units: positive int, the size of the output and the states.
        activation: default ``"tanh"``.
        recurrent_activation: default ``"sigmoid"``.
        unit_forget_bias: add 1 to the forget gate's bias at initialization
            (and use zeros for the rest of the bias).
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint,
        dropout, recurrent_dropout, seed: as ``SimpleRNNCell``.
        implementation: 1 or 2, Keras's choice of kernel layout; accepted for compatibility and
            not saved (as Keras 3). lamina's math is the same for both.

    Example:
    >>> import lamina
    >>> cell = lamina.layers.LSTMCell(3)
    >>> out, (h, c) = cell(lamina.ops.ones((2, 4)), [lamina.ops.zeros((2, 3)), lamina.ops.zeros((2, 3))])
    >>> lamina.ops.shape(out), lamina.ops.shape(c)
    ((2, 3), (2, 3))
    """

    _gates = 4

    def __init__(self, units, unit_forget_bias=True, implementation=2, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.implementation = check_implementation(self, implementation)

    @property
    def state_size(self):
        return [self.units, self.units]

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, units = self.bias_initializer, self.units

        def bias_initializer(shape, dtype=None):
            return ops.concatenate([init((units,), dtype=dtype), initializers.get("ones")((units,), dtype=dtype),
                                    init((2 * units,), dtype=dtype)])

        return bias_initializer

    def _step(self, x_t, states, w, rec_mask):
        h, c = states
        u = self.units
        hr = h if rec_mask is None else ops.multiply(h, rec_mask)
        z = ops.add(x_t, ops.matmul(hr, w["recurrent_kernel"]))
        i = self.recurrent_activation(z[:, :u])
        f = self.recurrent_activation(z[:, u:2 * u])
        c = ops.add(ops.multiply(f, c), ops.multiply(i, self.activation(z[:, 2 * u:3 * u])))
        o = self.recurrent_activation(z[:, 3 * u:])
        h = ops.multiply(o, self.activation(c))
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class LSTM(CellOwningRNN):
    """Long Short-Term Memory layer (Hochreiter 1997).

    On PyTorch, when the math is that of torch's fused kernel (``tanh`` /
    ``sigmoid`` activations, no recurrent dropout in training, no mask or a
    right-padded one), the layer runs ``torch._VF.lstm`` (cuDNN on GPU) with the
    same weights; otherwise a step-by-step loop. On JAX it is a ``lax.scan``
    with the input projection hoisted out of the loop.

    Args:
        units: positive int, the size of the output.
        activation, recurrent_activation, use_bias, unit_forget_bias, the
        initializers, regularizers and constraints, dropout, recurrent_dropout,
        seed, implementation: as ``LSTMCell``; activity_regularizer as ``Layer``.
        return_sequences, return_state, go_backwards, stateful, unroll: as ``RNN``.

    Call arguments:
        sequences: ``(batch, timesteps, features)``.
        initial_state: ``[h, c]``.
        mask, training: as ``RNN``.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.LSTM(4, return_state=True)
    >>> out, h, c = layer(lamina.ops.ones((2, 3, 5)))
    >>> lamina.ops.shape(out), lamina.ops.shape(c)
    ((2, 4), (2, 4))
    >>> [w.shape for w in layer.weights]
    [(5, 16), (4, 16), (16,)]
    """

    cell_class = LSTMCell
    _fused_kind = "lstm"
    _positional = ("activation", "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                   "bias_initializer", "unit_forget_bias",
                   "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
                   "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout")

    def _fused_call(self, sequences, initial_state, mask, training):
        cell = self.cell
        if not self._can_fuse(training):
            return None
        sequences = self._drop_inputs(sequences, training)
        res = engine_rnn().fused_lstm(sequences, initial_state, cell.kernel.value, cell.recurrent_kernel.value,
                                      None if cell.bias is None else cell.bias.value, mask=mask,
                                      go_backwards=self.go_backwards,
                                      zero_output_for_mask=self.zero_output_for_mask)
        return res if res is not None else self._loop_without_dropout(sequences, initial_state, mask)
