"""``Wrapper``: the base class of layers that hold another layer (``self.layer``) and extend it."""

from lamina.layers.layer import Layer


class Wrapper(Layer):
    """Abstract base class of layer wrappers: a layer that holds another layer as ``self.layer``.

    A wrapper augments the wrapped layer (``SpectralNormalization`` rescales its kernel, for example).
    It builds the wrapped layer on its first call, and its config holds the wrapped layer's serialized
    config under ``"layer"``, as Keras's. Subclass it and implement ``call``; it is not meant to be used
    as a layer by itself.

    Args:
        layer: the ``Layer`` instance to wrap.
        **kwargs: the base ``Layer`` arguments (``name``, ``trainable``, ``dtype``...).

    Example:
    >>> import lamina
    >>> class Doubled(lamina.layers.Wrapper):
    ...     def call(self, x):
    ...         return self.layer(x) * 2.0
    >>> layer = Doubled(lamina.layers.Dense(2, kernel_initializer="ones"))
    >>> lamina.ops.convert_to_numpy(layer(lamina.ops.ones((1, 3)))).tolist()
    [[6.0, 6.0]]
    >>> layer.get_config()["layer"]["class_name"]
    'Dense'
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"{type(self).__name__} must wrap a lamina Layer instance (e.g. "
                             f"lamina.layers.Dense(4)), but received layer={layer!r} of type "
                             f"{type(layer).__name__}.")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        self.built = True

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        from lamina.saving.serialization import serialize_object

        return {**super().get_config(), "layer": serialize_object(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from lamina.saving.serialization import deserialize_object

        config = dict(config)
        if "layer" not in config:
            raise ValueError(f"{cls.__name__}.from_config expected a config with a 'layer' entry (the wrapped "
                             f"layer), but received the keys {sorted(config)}.")
        layer = deserialize_object(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)
