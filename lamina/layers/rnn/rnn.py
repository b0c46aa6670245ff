"""``RNN``: runs a recurrent cell over the time axis (the base of SimpleRNN, LSTM and GRU)."""

import importlib
import inspect

from lamina import backend, ops, tree
from lamina.layers.layer import Layer


_ENGINE_RNN = {}


def engine_rnn():
    """The engine's ``rnn`` module (``lamina.backend.<engine>.rnn``), imported once (an import at every call
    would also break torch.compile's graph at every recurrent layer)."""
    name = backend.backend()
    module = _ENGINE_RNN.get(name)
    if module is None:
        module = _ENGINE_RNN[name] = importlib.import_module(f"lamina.backend.{name}.rnn")
    return module


def _as_list(x):
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _state_sizes(cell):
    return _as_list(cell.state_size)


def _group_states(cell, states):
    """The flat ``states`` grouped as Keras returns them: per cell of a ``StackedRNNCells`` (a cell's one
    state alone, several in a list: ``[[h1, c1], h2]``), else as they are."""
    if not isinstance(cell, StackedRNNCells):
        return list(states)
    grouped, i = [], 0
    for c in cell.cells:
        n = len(_state_sizes(c))
        grouped.append(states[i] if n == 1 else list(states[i:i + n]))
        i += n
    return grouped


def _takes_training(cell):
    """Whether ``cell.call`` has a ``training`` argument (as Keras, a cell whose ``call(inputs, states)`` has
    none is called without it)."""
    flag = getattr(cell, "_has_training_arg", None)
    if flag is None:
        try:
            flag = "training" in inspect.signature(cell.call).parameters
        except (TypeError, ValueError):
            flag = False
    return bool(flag)


def call_cell(cell, inputs, states, training=None):
    """One timestep of ``cell``: ``cell.call(inputs, states)``, with ``training`` when its call takes it."""
    if _takes_training(cell):
        return cell.call(inputs, states, training=training)
    return cell.call(inputs, states)


class RNN(Layer):
    """Base class for recurrent layers: runs ``cell`` over the timesteps of the inputs.

    Args:
        cell: a cell: a layer with ``state_size`` (int or list of ints) and
            ``call(inputs, states) -> (output, new_states)`` for one timestep
            (e.g. ``LSTMCell``), or a list of cells (stacked).
        return_sequences: return the output of every timestep (``(batch, timesteps, units)``)
            instead of the last one.
        return_state: also return the final states: ``[output, *states]``.
        go_backwards: process the sequence backwards (and return the reversed outputs).
        stateful: keep the final states of each batch as the initial states of the
            next call (sample ``i`` of a batch continues sample ``i`` of the previous
            one). Needs a fixed batch size (e.g. ``Input(batch_shape=...)``); the
            states live in non-trainable Variables of the layer (as in Keras, not
            among its weights nor in saved weights) and ``reset_state()`` sets them
            back to zeros.
        unroll: run the time loop as a Python loop over the timesteps (on JAX no
            ``lax.scan``; on PyTorch no fused kernel): same numbers, longer
            compilation, sometimes faster for very short sequences. Needs a
            known number of timesteps.
        zero_output_for_mask: output zeros at masked timesteps instead of the previous output.

    Call arguments:
        sequences: ``(batch, timesteps, features)``.
        initial_state: a tensor or list of tensors, the initial states (default zeros).
        mask: boolean ``(batch, timesteps)``; a timestep whose mask is False keeps
            the previous states and repeats the previous output.
        training: whether dropout applies.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.RNN(lamina.layers.SimpleRNNCell(4), return_sequences=True)
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 3, 5))))
    (2, 3, 4)
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "state_size") or not callable(getattr(cell, "call", None)):
            raise ValueError(
                f"Layer '{self.name}' (RNN): `cell` must have a `state_size` attribute and a "
                f"`call(inputs, states)` method, but received cell={cell!r}."
            )
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.states = None
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True

    # ---- shapes --------------------------------------------------------------

    def _check_input_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects 3D inputs (batch, timesteps, features), "
                f"but received input shape {tuple(input_shape)}."
            )

    def build(self, sequences_shape, initial_state_shape=None):
        sequences_shape = tuple(sequences_shape)
        self._check_input_shape(sequences_shape)
        if not self.cell.built:
            self.cell.build((sequences_shape[0],) + sequences_shape[2:])
            self.cell.built = True
        if self.stateful and self.states is None:
            self._create_state_variables(sequences_shape)
        self.built = True

    # ---- stateful ------------------------------------------------------------

    def _create_state_variables(self, sequences_shape):
        batch = sequences_shape[0]
        if batch is None:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) has stateful=True, which needs a fixed batch "
                f"size, but received input shape {tuple(sequences_shape)} whose batch size is unknown. Hint: "
                "give the model `Input(batch_shape=(batch_size, timesteps, features))` (or `batch_input_shape=` "
                "/ `batch_size=` on the first layer)."
            )
        # Role "seed" (there is no "state" role yet): non-trainable state threaded through compiled
        # steps like the other non-trainable variables, but (as in Keras) not among the layer's
        # weights nor in saved weight files.
        states = []
        for i, z in enumerate(self.get_initial_state(batch)):
            v = backend.Variable(z, dtype=self.variable_dtype, trainable=False, role="seed",
                                 name=f"rnn_state_{i}" if i else "rnn_state")
            v.path = f"{self.name}/{v.name}"
            self._own_variables.append(v)
            states.append(v)
        self.states = states

    def _check_stateful_batch(self, batch_size):
        expected = self.states[0].shape[0]
        if batch_size != expected:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) is stateful with batch size {expected} (its states "
                f"have shape {tuple(self.states[0].shape)}), but received a batch of {batch_size} samples. "
                "Hint: every batch of a stateful RNN must have the same size; pick a number of samples "
                "divisible by the batch size (and shuffle=False), or call the model on batches of "
                f"{expected}."
            )

    def reset_state(self):
        """Set the states of a stateful layer back to zeros."""
        self.reset_states()

    def reset_states(self, states=None):
        """Set the states of a stateful layer to zeros, or to ``states`` (arrays, one per state)."""
        if not self.stateful:
            raise AttributeError(f"Layer '{self.name}' ({type(self).__name__}) is not stateful: "
                                 "reset_states() needs stateful=True.")
        if self.states is None:
            return
        if states is None:
            for v in self.states:
                v.assign(ops.zeros(v.shape, dtype=v.dtype))
            return
        states = _as_list(states)
        if len(states) != len(self.states):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects {len(self.states)} state "
                             f"arrays in reset_states(states=...), but received {len(states)}.")
        for v, value in zip(self.states, states):
            if tuple(ops.shape(value)) != tuple(v.shape):
                raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): state '{v.name}' has shape "
                                 f"{tuple(v.shape)}, but reset_states received shape {tuple(ops.shape(value))}.")
            v.assign(value)

    def _output_size(self):
        size = getattr(self.cell, "output_size", None)
        return size if size is not None else _state_sizes(self.cell)[0]

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        if isinstance(sequences_shape, list) and sequences_shape and not isinstance(sequences_shape[0], int) \
                and sequences_shape[0] is not None:
            sequences_shape = sequences_shape[0]
        batch, timesteps = sequences_shape[0], sequences_shape[1]
        self._check_unroll(timesteps)
        out = (batch, timesteps, self._output_size()) if self.return_sequences else (batch, self._output_size())
        if self.return_state:
            return [out] + _group_states(self.cell, [(batch, s) for s in _state_sizes(self.cell)])
        return out

    def _check_unroll(self, timesteps):
        if self.unroll and timesteps is None:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) has unroll=True, which needs a known number of "
                "timesteps, but the time dimension is undefined. Hint: give the model "
                "`Input(shape=(timesteps, features))` with a fixed number of timesteps, or use unroll=False."
            )

    def compute_output_spec(self, sequences, initial_state=None, mask=None, training=None):
        from lamina.layers.layer import _shapes_to_keras_tensors

        shapes = self.compute_output_shape(tuple(sequences.shape))
        return _shapes_to_keras_tensors(shapes, self.compute_dtype)

    def compute_mask(self, inputs, previous_mask=None):
        if isinstance(previous_mask, (list, tuple)):
            previous_mask = previous_mask[0]
        return previous_mask if self.return_sequences else None

    # ---- call ----------------------------------------------------------------

    def get_initial_state(self, batch_size):
        """Zero states for a batch of ``batch_size`` (a list, one per state)."""
        init = getattr(self.cell, "get_initial_state", None)
        if init is not None:
            return _as_list(init(batch_size))
        return [ops.zeros((batch_size, s), dtype=self.compute_dtype) for s in _state_sizes(self.cell)]

    def _fused_call(self, sequences, initial_state, mask, training):
        """Subclasses return ``(outputs, last_output, states)`` from an engine kernel, or None."""
        return None

    def call(self, sequences, initial_state=None, mask=None, training=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        batch_size = ops.shape(sequences)[0]
        self._check_unroll(ops.shape(sequences)[1])
        if self.stateful:
            self._check_stateful_batch(batch_size)
        if initial_state is None and self.stateful:
            # a copy: the Variables are updated in place after the call, and autograd may still need these
            initial_state = [ops.cast(ops.copy(v.value), self.compute_dtype) for v in self.states]
        elif initial_state is None:
            initial_state = self.get_initial_state(batch_size)
        else:  # (nested per cell of a StackedRNNCells, as Keras takes them, or flat)
            initial_state = tree.flatten(initial_state) if isinstance(initial_state, (list, tuple)) \
                else _as_list(initial_state)
            if len(initial_state) != len(_state_sizes(self.cell)):
                raise ValueError(
                    f"Layer '{self.name}' ({type(self).__name__}) expects {len(_state_sizes(self.cell))} "
                    f"initial state tensors, but received {len(initial_state)}."
                )
        if mask is not None:
            mask = ops.cast(mask, "bool")
        result = self._fused_call(sequences, initial_state, mask, training)
        if result is not None:
            outputs, last, states = result
        else:
            prepare = getattr(self.cell, "_sequence_step", None)
            if prepare is not None:
                projected, step = prepare(sequences, training=training)
            else:
                projected = sequences
                cell = self.cell

                def step(x_t, states):
                    out, new = call_cell(cell, x_t, list(states), training)
                    return out, _as_list(new)
            last, outputs, states = engine_rnn().rnn(
                step, projected, initial_state, mask=mask, go_backwards=self.go_backwards,
                return_sequences=self.return_sequences, zero_output_for_mask=self.zero_output_for_mask,
                unroll=self.unroll)
        if self.stateful:
            for v, new in zip(self.states, states):
                v.assign(ops.stop_gradient(ops.cast(new, v.dtype)))
        output = outputs if self.return_sequences else last
        if self.return_state:
            return [output] + _group_states(self.cell, list(states))
        return output

    def get_config(self):
        config = {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }
        if type(self) is RNN:
            from lamina.saving.serialization import serialize_object

            config["cell"] = serialize_object(self.cell)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if cls is RNN:
            from lamina.saving.serialization import deserialize_object

            config["cell"] = deserialize_object(config["cell"], custom_objects=custom_objects) \
                if isinstance(config["cell"], dict) else config["cell"]
        return cls(**config)


class StackedRNNCells(Layer):
    """Wrap a list of cells so they run as one cell (each feeds the next).

    Example:
    >>> import lamina
    >>> cells = [lamina.layers.SimpleRNNCell(3), lamina.layers.SimpleRNNCell(2)]
    >>> layer = lamina.layers.RNN(lamina.layers.StackedRNNCells(cells))
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 4, 5))))
    (2, 2)
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        self.cells = list(cells)

    @property
    def state_size(self):
        return [s for c in self.cells for s in _state_sizes(c)]

    @property
    def output_size(self):
        last = self.cells[-1]
        return getattr(last, "output_size", None) or _state_sizes(last)[0]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for cell in self.cells:
            if not cell.built:
                cell.build(shape)
                cell.built = True
            size = getattr(cell, "output_size", None) or _state_sizes(cell)[0]
            shape = shape[:-1] + (size,)
        self.built = True

    def _sequence_step(self, sequences, training=None):
        """``(sequences, step)`` for ``RNN``'s time loop. The cells' dropout masks are drawn here, once per
        sequence, before the loop (drawn inside it, on JAX, the seed's update would escape the scan)."""
        batch, like = ops.shape(sequences)[0], sequences[:, 0]
        steps, sizes = [], []
        for cell in self.cells:
            make = getattr(cell, "_timestep", None)
            if make is not None:
                steps.append(make(like, training))
            else:
                steps.append(lambda x_t, states, cell=cell: call_cell(cell, x_t, states, training))
            sizes.append(len(_state_sizes(cell)))
            out = getattr(cell, "output_size", None) or _state_sizes(cell)[0]
            like = ops.zeros((batch, out), dtype=sequences.dtype)

        def step(x_t, states):
            new_states, i = [], 0
            for cell_step, n in zip(steps, sizes):
                x_t, cell_new = cell_step(x_t, list(states[i:i + n]))
                i += n
                new_states += _as_list(cell_new)
            return x_t, new_states

        return sequences, step

    def call(self, inputs, states, training=None):
        new_states, i = [], 0
        for cell in self.cells:
            n = len(_state_sizes(cell))
            cell_states = list(states[i:i + n])
            i += n
            inputs, cell_new = call_cell(cell, inputs, cell_states, training)
            new_states += _as_list(cell_new)
        return inputs, new_states

    def get_config(self):
        from lamina.saving.serialization import serialize_object

        return {**super().get_config(), "cells": [serialize_object(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from lamina.saving.serialization import deserialize_object

        config = dict(config)
        config["cells"] = [deserialize_object(c, custom_objects=custom_objects) for c in config["cells"]]
        return cls(**config)

