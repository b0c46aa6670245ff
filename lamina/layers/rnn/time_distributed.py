"""``TimeDistributed``: apply one layer to every timestep of a sequence."""

from lamina import ops, tree
from lamina.layers.core.wrapper import Wrapper
from lamina.layers.layer import Layer


class TimeDistributed(Wrapper):
    """Apply ``layer`` independently to every temporal slice of the input.

    The input is ``(batch, time, ...)``; ``layer`` sees ``(batch, ...)`` slices and shares its
    weights across time. The slices run as one call on ``(batch * time, ...)`` (one kernel
    launch, not a Python loop); a mask ``(batch, time, ...)`` is passed on, reshaped the same way,
    to a layer whose ``call`` takes ``mask``, and the output keeps the input's mask.

    Args:
        layer: a ``Layer`` instance.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.TimeDistributed(lamina.layers.Dense(8))
    >>> lamina.ops.shape(layer(lamina.ops.ones((32, 10, 16))))
    (32, 10, 8)
    >>> [w.shape for w in layer.weights]
    [(16, 8), (8,)]
    """

    def __init__(self, layer, **kwargs):
        Layer.__init__(self, **kwargs)  # a Wrapper (as Keras's) with its own checks and sublayers
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer '{self.name}' (TimeDistributed) must wrap a lamina Layer instance, but "
                             f"received layer={layer!r}.")
        self.layer = layer
        self.supports_masking = True

    def _child_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 3:
            raise ValueError(f"Layer '{self.name}' (TimeDistributed) expects inputs of rank >= 3 (batch, time, "
                             f"...), but received shape {input_shape}.")
        return (input_shape[0],) + input_shape[2:]

    def build(self, input_shape):
        child = self._child_shape(input_shape)
        if not self.layer.built:
            self.layer.build(child)
            self.layer.built = True
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        if _is_shape(child):
            return tuple(input_shape[:2]) + tuple(child[1:])
        return type(child)(tuple(input_shape[:2]) + tuple(s[1:]) for s in child)

    def call(self, inputs, training=None, mask=None):
        shape = tuple(ops.shape(inputs))
        self._child_shape(shape)
        batch, steps = shape[0], shape[1]
        kwargs = {}
        if mask is not None:
            mask_shape = tuple(ops.shape(mask))
            if mask_shape[:2] != (batch, steps):
                raise ValueError(f"Layer '{self.name}' (TimeDistributed) expected a mask starting with (batch, "
                                 f"time) = {(batch, steps)}, but received mask shape {mask_shape}.")
            if self.layer._has_mask_arg:
                kwargs["mask"] = ops.reshape(mask, (-1,) + mask_shape[2:])
        if training is not None and self.layer._has_training_arg:
            kwargs["training"] = training
        outputs = self.layer(ops.reshape(inputs, (-1,) + shape[2:]), **kwargs)
        return tree.map_structure(lambda y: ops.reshape(y, (batch, steps) + tuple(ops.shape(y))[1:]), outputs)

    def get_config(self):
        from lamina.saving.serialization import serialize_object

        return {**super().get_config(), "layer": serialize_object(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from lamina.saving.serialization import deserialize_object

        config = dict(config)
        layer = deserialize_object(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)


def _is_shape(s):
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)
