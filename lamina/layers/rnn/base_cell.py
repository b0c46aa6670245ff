"""The common part of SimpleRNNCell, LSTMCell and GRUCell: arguments, weights, dropout masks."""

import numbers

from lamina import activations, constraints, initializers, ops, regularizers
from lamina import random as lrandom
from lamina.layers.core.dense import check_positive_int
from lamina.layers.layer import Layer


def _check_rate(who, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{who} expected a float in [0, 1] for `{name}`, but received {name}={value!r}.")
    return float(value)


class BaseRNNCell(Layer):
    """Arguments shared by the Keras cells; subclasses define ``_gates`` and the step."""

    _gates = 1
    _has_recurrent_activation = True

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        who = f"Layer '{self.name}' ({type(self).__name__})"
        self.units = check_positive_int(who, "units", units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, _check_rate(who, "dropout", dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, _check_rate(who, "recurrent_dropout", recurrent_dropout)))
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"{who} expected an int or None for `seed`, but received seed={seed!r}.")
        self.seed = seed
        self.seed_generator = None
        if self.dropout > 0 or self.recurrent_dropout > 0:
            from lamina.layers.core.simple import _next_seed

            self.seed_generator = lrandom.SeedGenerator(seed if seed is not None else _next_seed())

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) needs a known last input dimension, "
                             f"but received input shape {tuple(input_shape)}.")
        g = self._gates * self.units
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, g), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(self.units, g),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=self._bias_shape(), initializer=self._bias_init(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def _input_bias(self):
        return None if self.bias is None else self.bias.value

    # ---- dropout -------------------------------------------------------------

    def _mask(self, rate, like, training):
        if not training or rate <= 0:
            return None
        if rate >= 1:
            return ops.zeros_like(like)
        return lrandom.dropout(ops.ones_like(like), rate, seed=self.seed_generator)

    # ---- the step ------------------------------------------------------------

    def _sequence_step(self, sequences, training=None):
        """Hoist the input projection: returns ``(x @ kernel + bias for every timestep, step_fn)``."""
        dp = self._mask(self.dropout, sequences[:, 0], training)
        if dp is not None:
            sequences = ops.multiply(sequences, ops.expand_dims(dp, 1))
        projected = ops.matmul(sequences, self.kernel.value)
        b = self._input_bias()
        if b is not None:
            projected = ops.add(projected, b)
        rec_like = ops.zeros((ops.shape(sequences)[0], self.units), dtype=self.compute_dtype)
        rec_mask = self._mask(self.recurrent_dropout, rec_like, training)
        weights = self._step_weights()

        def step(x_t, states):
            return self._step(x_t, list(states), weights, rec_mask)

        return projected, step

    def _timestep(self, input_like, training=None):
        """A step on unprojected inputs ``(batch, features)`` shaped like ``input_like``, for a cell run one
        timestep at a time after other cells (``StackedRNNCells``): its dropout masks are drawn here, once per
        sequence and outside the time loop, as ``_sequence_step`` draws them."""
        dp = self._mask(self.dropout, input_like, training)
        rec_like = ops.zeros((ops.shape(input_like)[0], self.units), dtype=self.compute_dtype)
        rec_mask = self._mask(self.recurrent_dropout, rec_like, training)
        weights = self._step_weights()
        kernel, b = self.kernel.value, self._input_bias()

        def step(x_t, states):
            if dp is not None:
                x_t = ops.multiply(x_t, dp)
            projected = ops.matmul(x_t, kernel)
            if b is not None:
                projected = ops.add(projected, b)
            return self._step(projected, list(states), weights, rec_mask)

        return step

    def _step_weights(self):
        return {"recurrent_kernel": self.recurrent_kernel.value,
                "bias": None if self.bias is None else self.bias.value}

    def call(self, inputs, states, training=None):
        """One timestep: ``(output, new_states)`` for ``inputs`` ``(batch, features)``."""
        single = not isinstance(states, (list, tuple))
        states = [states] if single else list(states)
        projected, step = self._sequence_step(ops.expand_dims(inputs, 1), training=training)
        out, new = step(projected[:, 0], states)
        return out, (new[0] if single and len(new) == 1 else new)

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [ops.zeros((batch_size, s), dtype=self.compute_dtype) for s in sizes]

    def get_config(self):
        config = {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        if self._has_recurrent_activation:
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        return config


CELL_ARGS = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
             "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
             "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
             "recurrent_dropout", "seed", "unit_forget_bias", "reset_after", "implementation")
RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask")


def check_implementation(cell, implementation):
    """Keras's ``implementation`` (1: per-gate products, 2: one fused product) of LSTM/GRU cells: accepted
    and kept as ``cell.implementation`` (1 with recurrent dropout, as Keras), not in the config; the math is
    the same either way (lamina chooses its kernels itself)."""
    if isinstance(implementation, bool) or implementation not in (0, 1, 2):
        raise ValueError(f"Layer '{cell.name}' ({type(cell).__name__}) expected `implementation` 1 or 2, "
                         f"but received implementation={implementation!r}.")
    return 1 if cell.recurrent_dropout else int(implementation)


def split_kwargs(kwargs):
    """Split a recurrent layer's keyword arguments into (cell args, RNN args, the rest)."""
    cell = {k: kwargs.pop(k) for k in CELL_ARGS if k in kwargs}
    rnn = {k: kwargs.pop(k) for k in RNN_ARGS if k in kwargs}
    return cell, rnn, kwargs
