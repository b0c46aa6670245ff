"""``ConvLSTM1D/2D/3D``: an LSTM whose input and recurrent transformations are convolutions.

Keras weight layout: ``kernel`` ``kernel_size + (input_channels, 4 * filters)``, ``recurrent_kernel``
``kernel_size + (filters, 4 * filters)``, ``bias`` ``(4 * filters,)``; gates i, f, c, o along the channels.
The input convolution uses the layer's strides, padding and dilation; the recurrent one strides 1 and
``"same"`` padding, so the states keep the spatial shape of the input convolution's output.
"""

from lamina import activations, constraints, initializers, ops, regularizers
from lamina import random as lrandom
from lamina.backend.common import conv_utils as cu
from lamina.layers.core.dense import check_positive_int
from lamina.layers.layer import Layer
from lamina.layers.rnn.base_cell import _check_rate
from lamina.layers.rnn.rnn import RNN

_CELL_ARGS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
              "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
              "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
              "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
              "recurrent_dropout", "seed")


class ConvLSTMCell(Layer):
    """One step of a convolutional LSTM of spatial rank ``rank`` (the cell of ``ConvLSTM1D/2D/3D``).

    The states are ``[h, c]``, each ``(batch, *output_spatial, filters)`` (channels_last).
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        who = f"Layer '{self.name}' ({type(self).__name__})"
        self.rank = rank
        self.filters = check_positive_int(who, "filters", filters)
        self.kernel_size = cu.normalize_tuple(kernel_size, rank, "kernel_size", who)
        self.strides = cu.normalize_tuple(strides, rank, "strides", who)
        self.dilation_rate = cu.normalize_tuple(dilation_rate, rank, "dilation_rate", who)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{who}: strides > 1 cannot be combined with dilation_rate > 1, but received "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}.")
        self.padding = cu.standardize_padding(padding, who, ("valid", "same"))
        self.data_format = cu.standardize_data_format(data_format, who)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _check_rate(who, "dropout", dropout)
        self.recurrent_dropout = _check_rate(who, "recurrent_dropout", recurrent_dropout)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"{who} expected an int or None for `seed`, but received seed={seed!r}.")
        self.seed = seed
        self.seed_generator = None
        if self.dropout > 0 or self.recurrent_dropout > 0:
            from lamina.layers.core.simple import _next_seed

            self.seed_generator = lrandom.SeedGenerator(seed if seed is not None else _next_seed())
        self.spatial_dims = None

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    @property
    def state_size(self):
        return [self.filters, self.filters]

    @property
    def output_size(self):
        return self.filters

    def build(self, input_shape):
        who = f"Layer '{self.name}' ({type(self).__name__})"
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{who} expects step inputs of rank {self.rank + 2}, but received input shape "
                             f"{input_shape}.")
        spatial = cu.spatial_shape(input_shape, self.data_format)
        channels = input_shape[self._channel_axis]
        if channels is None or any(d is None for d in spatial):
            raise ValueError(f"{who} needs known spatial and channel dimensions ({self.data_format}), but "
                             f"received step input shape {input_shape}.")
        self.spatial_dims = tuple(spatial)
        self.input_dim = channels
        g = 4 * self.filters
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (channels, g),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=self.kernel_size + (self.filters, g),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(g,), initializer=self._bias_init(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, f = self.bias_initializer, self.filters

        def bias_initializer(shape, dtype=None):
            return ops.concatenate([init((f,), dtype=dtype), initializers.get("ones")((f,), dtype=dtype),
                                    init((2 * f,), dtype=dtype)])

        return bias_initializer

    def _state_spatial(self):
        return tuple(cu.conv_output_length(n, k, self.padding, s, d) for n, k, s, d in
                     zip(self.spatial_dims, self.kernel_size, self.strides, self.dilation_rate))

    def compute_output_shape(self, input_shape):
        """The shape of one step's output (and of each state) for step inputs of ``input_shape``."""
        spatial = tuple(cu.conv_output_length(n, k, self.padding, s, d) for n, k, s, d in
                        zip(cu.spatial_shape(tuple(input_shape), self.data_format), self.kernel_size,
                            self.strides, self.dilation_rate))
        if self.data_format == "channels_last":
            return (input_shape[0],) + spatial + (self.filters,)
        return (input_shape[0], self.filters) + spatial

    def get_initial_state(self, batch_size=None):
        spatial = self._state_spatial()
        shape = (batch_size,) + spatial + (self.filters,) if self.data_format == "channels_last" else \
            (batch_size, self.filters) + spatial
        return [ops.zeros(shape, dtype=self.compute_dtype) for _ in range(2)]

    # ---- the step ------------------------------------------------------------

    def _mask(self, rate, like, training):
        if not training or rate <= 0:
            return None
        if rate >= 1:
            return ops.zeros_like(like)
        return lrandom.dropout(ops.ones_like(like), rate, seed=self.seed_generator)

    def _input_conv(self, x):
        z = ops.conv(x, self.kernel.value, strides=self.strides, padding=self.padding,
                     data_format=self.data_format, dilation_rate=self.dilation_rate)
        if self.bias is not None:
            b = self.bias.value
            if self.data_format == "channels_first":
                b = ops.reshape(b, (-1,) + (1,) * self.rank)
            z = ops.add(z, b)
        return z

    def _sequence_step(self, sequences, training=None):
        """Hoist the input convolution over every timestep at once; returns ``(projected, step_fn)``."""
        dp = self._mask(self.dropout, sequences[:, 0], training)
        if dp is not None:
            sequences = ops.multiply(sequences, ops.expand_dims(dp, 1))
        shape = tuple(ops.shape(sequences))
        folded = self._input_conv(ops.reshape(sequences, (shape[0] * shape[1],) + shape[2:]))
        projected = ops.reshape(folded, shape[:2] + tuple(ops.shape(folded))[1:])
        h_like = self.get_initial_state(shape[0])[0]
        rec_mask = self._mask(self.recurrent_dropout, h_like, training)
        recurrent_kernel = self.recurrent_kernel.value
        axis = self._channel_axis

        def step(x_t, states):
            h, c = states
            hr = h if rec_mask is None else ops.multiply(h, rec_mask)
            z = ops.add(x_t, ops.conv(hr, recurrent_kernel, strides=1, padding="same",
                                      data_format=self.data_format))
            i, f, g, o = ops.split(z, 4, axis=axis)
            c = ops.add(ops.multiply(self.recurrent_activation(f), c),
                        ops.multiply(self.recurrent_activation(i), self.activation(g)))
            h = ops.multiply(self.recurrent_activation(o), self.activation(c))
            return h, [h, c]

        return projected, step

    def call(self, inputs, states, training=None):
        """One timestep: ``(h, [h, c])`` for step inputs ``(batch, *spatial, channels)``."""
        projected, step = self._sequence_step(ops.expand_dims(inputs, 1), training=training)
        return step(projected[:, 0], list(states))

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
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


class ConvLSTM(RNN):
    """Base of ``ConvLSTM1D/2D/3D``: runs a ``ConvLSTMCell`` of spatial rank ``rank`` over the time axis."""

    rank = None

    def __init__(self, filters, kernel_size, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, **kwargs):
        cell_kwargs = {k: kwargs.pop(k) for k in _CELL_ARGS if k in kwargs}
        cell = ConvLSTMCell(self.rank, filters, kernel_size, dtype=kwargs.get("dtype"),
                            trainable=kwargs.get("trainable", True), name="conv_lstm_cell", **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, **kwargs)

    def __getattr__(self, name):
        # Keras exposes the cell's arguments on the layer (layer.filters, layer.kernel_size ...)
        cell = self.__dict__.get("cell")
        if cell is not None and not name.startswith("_") and hasattr(cell, name):
            return getattr(cell, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _check_input_shape(self, input_shape):
        if len(input_shape) != self.rank + 3:
            layout = "spatial..., channels" if self.cell.data_format == "channels_last" else "channels, spatial..."
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects {self.rank + 3}D inputs (batch, timesteps, "
                f"{layout}), but received input shape {tuple(input_shape)}."
            )

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        if isinstance(sequences_shape, list) and sequences_shape and isinstance(sequences_shape[0], (list, tuple)):
            sequences_shape = sequences_shape[0]
        sequences_shape = tuple(sequences_shape)
        self._check_input_shape(sequences_shape)
        self._check_unroll(sequences_shape[1])
        step = self.cell.compute_output_shape((sequences_shape[0],) + sequences_shape[2:])
        out = (step[0], sequences_shape[1]) + step[1:] if self.return_sequences else step
        return [out, step, step] if self.return_state else out

    def get_config(self):
        cell_config = self.cell.get_config()
        for k in ("name", "trainable", "dtype"):
            cell_config.pop(k, None)
        # activity_regularizer always present, as Keras 3 (None when unset)
        return {**super().get_config(), **cell_config,
                "activity_regularizer": regularizers.serialize(self._activity_regularizer)}


def _doc(rank, spatial):
    return f"""{rank}D convolutional LSTM.

    Like ``LSTM``, with the matrix products replaced by {rank}D convolutions:
    ``z = conv(x, kernel) + conv(h, recurrent_kernel) + bias``, split along the
    channels into the gates i, f, c, o; ``c' = f * c + i * tanh(c_gate)``,
    ``h' = o * tanh(c')`` (i, f, o through ``recurrent_activation``).

    Args:
        filters: positive int, the number of output channels (and of each state).
        kernel_size: int or tuple of {rank} ints.
        strides, padding (``"valid"`` or ``"same"``), data_format, dilation_rate:
            of the input convolution (the recurrent one has strides 1 and ``"same"`` padding).
        activation: default ``"tanh"``. recurrent_activation: default ``"sigmoid"``.
        use_bias, kernel_initializer, recurrent_initializer (default ``"orthogonal"``),
        bias_initializer, unit_forget_bias (default True: forget-gate bias starts at 1),
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint: as ``LSTM``.
        dropout, recurrent_dropout, seed: dropout of the inputs / of ``h`` in training
            (one mask for all timesteps and gates).
        return_sequences, return_state, go_backwards, stateful: as ``RNN``.

    Call arguments:
        sequences: ``(batch, timesteps, {spatial}, channels)`` (channels_last) or
            ``(batch, timesteps, channels, {spatial})`` (channels_first).
        initial_state: ``[h, c]``. mask: boolean ``(batch, timesteps)``. training.

    Weights: ``kernel`` ``kernel_size + (channels, 4 * filters)``, ``recurrent_kernel``
    ``kernel_size + (filters, 4 * filters)``, ``bias`` ``(4 * filters,)``.
    """


class ConvLSTM1D(ConvLSTM):
    rank = 1
    __doc__ = _doc(1, "steps") + """
    Example:
    >>> import lamina
    >>> layer = lamina.layers.ConvLSTM1D(4, 3, padding="same", return_sequences=True)
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 5, 8, 3))))
    (2, 5, 8, 4)
    """


class ConvLSTM2D(ConvLSTM):
    rank = 2
    __doc__ = _doc(2, "rows, cols") + """
    Example:
    >>> import lamina
    >>> layer = lamina.layers.ConvLSTM2D(4, 3)
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 5, 8, 8, 3))))
    (2, 6, 6, 4)
    >>> [w.shape for w in layer.weights]
    [(3, 3, 3, 16), (3, 3, 4, 16), (16,)]
    """


class ConvLSTM3D(ConvLSTM):
    rank = 3
    __doc__ = _doc(3, "dim1, dim2, dim3") + """
    Example:
    >>> import lamina
    >>> layer = lamina.layers.ConvLSTM3D(2, 3, padding="same")
    >>> lamina.ops.shape(layer(lamina.ops.ones((1, 3, 4, 4, 4, 1))))
    (1, 4, 4, 4, 2)
    """
