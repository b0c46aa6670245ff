"""``Bidirectional``: run a recurrent layer forwards and backwards and merge the two outputs."""

from lamina import ops
from lamina.layers.core.wrapper import Wrapper
from lamina.layers.layer import Layer, _shapes_to_keras_tensors

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _removeprefix(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


class Bidirectional(Wrapper):
    """Bidirectional wrapper for recurrent layers.

    Args:
        layer: a recurrent layer (``LSTM``, ``GRU``, ``SimpleRNN`` or ``RNN``);
            a copy runs forwards and a copy with ``go_backwards`` flipped runs backwards.
        merge_mode: how the two outputs combine: ``"concat"`` (default), ``"sum"``,
            ``"mul"``, ``"ave"``, or None (a list ``[forward, backward]``).
        backward_layer: optional layer for the backward direction (its
            ``go_backwards`` must be the opposite of ``layer``'s).

    Call arguments:
        sequences: ``(batch, timesteps, features)``.
        initial_state: the forward layer's states followed by the backward layer's.
        mask, training: as ``RNN``.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.Bidirectional(lamina.layers.LSTM(4, return_sequences=True))
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 3, 5))))
    (2, 3, 8)
    >>> layer.name.startswith("bidirectional"), layer.forward_layer.name.startswith("forward_lstm")
    (True, True)
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        Layer.__init__(self, **kwargs)  # a Wrapper (as Keras's) with its own checks and sublayers
        who = f"Layer '{self.name}' (Bidirectional)"
        if not isinstance(layer, Layer) or not hasattr(layer, "go_backwards") or not hasattr(layer, "cell"):
            raise ValueError(f"{who} expects a recurrent layer (e.g. LSTM), but received layer={layer!r}.")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"{who}: merge_mode must be one of {list(_MERGE_MODES)}, "
                             f"but received merge_mode={merge_mode!r}.")
        # Keras's names: "forward_lstm" / "backward_lstm" (a prefix already there is not repeated, so a
        # config written by get_config - whose "layer" is the forward layer - names them the same again)
        config = layer.get_config()
        config["name"] = "forward_" + _removeprefix(layer.name, "forward_")
        self.forward_layer = type(layer).from_config(config)
        if backward_layer is None:
            config = layer.get_config()
            config["name"] = "backward_" + _removeprefix(layer.name, "backward_")
            config["go_backwards"] = not layer.go_backwards
            self.backward_layer = type(layer).from_config(config)
        else:
            if backward_layer.go_backwards == layer.go_backwards:
                raise ValueError(f"{who}: backward_layer.go_backwards must be the opposite of "
                                 f"layer.go_backwards, but both are {layer.go_backwards}.")
            self.backward_layer = backward_layer
        for sub in (self.forward_layer, self.backward_layer):
            sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = self.forward_layer.return_sequences
        self.return_state = self.forward_layer.return_state
        self.stateful = self.forward_layer.stateful
        if self.backward_layer.stateful != self.stateful:
            raise ValueError(f"{who}: backward_layer.stateful must equal layer.stateful ({self.stateful}), "
                             f"but received {self.backward_layer.stateful}.")
        self.supports_masking = True
        self._initial_weights = weights

    def build(self, sequences_shape, initial_state_shape=None):
        self.forward_layer.build(sequences_shape)
        self.backward_layer.build(sequences_shape)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _merge_shape(self, f, b):
        if self.merge_mode == "concat":
            return tuple(f[:-1]) + (f[-1] + b[-1],)
        return tuple(f)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        f = self.forward_layer.compute_output_shape(sequences_shape)
        b = self.backward_layer.compute_output_shape(sequences_shape)
        if self.return_state:
            f, f_states = f[0], f[1:]
            b, b_states = b[0], b[1:]
        out = [tuple(f), tuple(b)] if self.merge_mode is None else self._merge_shape(f, b)
        if self.return_state:
            out = (out if self.merge_mode is None else [out]) + list(f_states) + list(b_states)
        return out

    def compute_output_spec(self, sequences, initial_state=None, mask=None, training=None):
        return _shapes_to_keras_tensors(self.compute_output_shape(tuple(sequences.shape)), self.compute_dtype)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        f_init = b_init = None
        if initial_state is not None:
            initial_state = list(initial_state)
            half = len(initial_state) // 2
            f_init, b_init = initial_state[:half], initial_state[half:]
        y = self.forward_layer(sequences, initial_state=f_init, mask=mask, training=training)
        y_rev = self.backward_layer(sequences, initial_state=b_init, mask=mask, training=training)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = ops.flip(y_rev, axis=1)
        if self.merge_mode == "concat":
            out = ops.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            out = ops.add(y, y_rev)
        elif self.merge_mode == "ave":
            out = ops.multiply(ops.add(y, y_rev), 0.5)
        elif self.merge_mode == "mul":
            out = ops.multiply(y, y_rev)
        else:
            out = [y, y_rev]
        if self.return_state:
            return (out if self.merge_mode is None else [out]) + states
        return out

    def reset_state(self):
        """Set the states of both directions back to zeros (stateful layers only)."""
        self.reset_states()

    def reset_states(self):
        """Set the states of both directions back to zeros (stateful layers only)."""
        if not self.stateful:
            raise AttributeError(f"Layer '{self.name}' (Bidirectional) is not stateful: reset_states() needs "
                                 "a wrapped layer with stateful=True.")
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def compute_mask(self, inputs, previous_mask=None):
        if isinstance(previous_mask, (list, tuple)):
            previous_mask = previous_mask[0]
        return previous_mask if self.return_sequences else None

    def get_config(self):
        from lamina.saving.serialization import serialize_object

        config = {**Layer.get_config(self), "merge_mode": self.merge_mode}
        config["layer"] = serialize_object(self.forward_layer)  # as Keras: the forward layer, named forward_...
        config["backward_layer"] = serialize_object(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from lamina.saving.serialization import deserialize_object

        config = dict(config)
        layer = deserialize_object(config.pop("layer"), custom_objects=custom_objects)
        backward = config.pop("backward_layer", None)
        if isinstance(backward, dict):
            backward = deserialize_object(backward, custom_objects=custom_objects)
        return cls(layer, backward_layer=backward, **config)
