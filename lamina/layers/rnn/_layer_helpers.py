"""Shared plumbing of SimpleRNN, LSTM and GRU (the RNN layers that own one Keras cell)."""

from lamina import activations, ops, regularizers
from lamina.layers.rnn.base_cell import split_kwargs
from lamina.layers.rnn.rnn import RNN, engine_rnn
from lamina.utils.naming import to_snake_case


class CellOwningRNN(RNN):
    """An RNN that builds its own cell of ``cell_class`` from flat Keras arguments."""

    cell_class = None
    _fused_kind = None  # "lstm" / "gru": the engine kernel ``_fused_call`` may run (backend rnn.has_fused_kernels)
    _positional = ()  # Keras's order of the arguments after ``units`` (LSTM(4, "relu") as in Keras)

    def __init__(self, units, *args, **kwargs):
        if len(args) > len(self._positional):
            raise TypeError(f"{type(self).__name__}() takes at most {len(self._positional) + 1} positional "
                            f"arguments (units, {', '.join(self._positional)}), but {len(args) + 1} were given.")
        for name, value in zip(self._positional, args):
            if name in kwargs:
                raise TypeError(f"{type(self).__name__}() got multiple values for argument '{name}'.")
            kwargs[name] = value
        use_cudnn = kwargs.pop("use_cudnn", "auto")  # Keras 3's switch; lamina's engine kernels follow it
        cell_kwargs, rnn_kwargs, rest = split_kwargs(dict(kwargs))
        # Keras's fixed cell names ("lstm_cell"): the weights' paths are under the layer's ("lstm/lstm_cell/kernel")
        cell = self.cell_class(units, dtype=rest.get("dtype"), trainable=rest.get("trainable", True),
                               name=to_snake_case(self.cell_class.__name__), **cell_kwargs)
        super().__init__(cell, **rnn_kwargs, **rest)
        # torch: run the engine's fused kernel when the math is the same (use_cudnn=False: never)
        self.use_fused_kernel = use_cudnn is not False

    def __getattr__(self, name):
        # Keras exposes the cell's arguments on the layer (layer.units, layer.dropout ...)
        cell = self.__dict__.get("cell")
        if cell is not None and not name.startswith("_") and hasattr(cell, name):
            return getattr(cell, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _default_math(self):
        return (self.cell.activation is activations.get("tanh")
                and self.cell.recurrent_activation is activations.get("sigmoid"))

    def _can_fuse(self, training):
        """Whether the engine has a fused kernel and this configuration has its math."""
        return (self.use_fused_kernel and not self.unroll and engine_rnn().has_fused_kernels(self._fused_kind)
                and self._default_math()
                and not (training and self.cell.recurrent_dropout > 0))

    def _drop_inputs(self, sequences, training):
        cell = self.cell
        dp = cell._mask(cell.dropout, sequences[:, 0], training)
        return sequences if dp is None else ops.multiply(sequences, ops.expand_dims(dp, 1))

    def _loop_without_dropout(self, sequences, initial_state, mask):
        """The general loop on inputs whose dropout is already applied (the fused kernel declined them)."""
        projected, step = self.cell._sequence_step(sequences, training=False)
        last, outputs, states = engine_rnn().rnn(
            step, projected, initial_state, mask=mask, go_backwards=self.go_backwards,
            return_sequences=True, zero_output_for_mask=self.zero_output_for_mask)
        return outputs, last, states

    def get_config(self):
        cell_config = self.cell.get_config()
        for k in ("name", "trainable", "dtype"):
            cell_config.pop(k, None)
        # activity_regularizer always present, as Keras 3 (None when unset)
        return {**super().get_config(), **cell_config,
                "activity_regularizer": regularizers.serialize(self._activity_regularizer)}
