"""``Pipeline``: apply a list of layers (typically preprocessing or augmentation layers) one after another."""

import json

from lamina.layers.layer import Layer


class Pipeline(Layer):
    """Apply a sequence of layers to an input, as one plain layer.

    Useful for preprocessing and data-augmentation pipelines. Unlike a ``Sequential`` model it is not a
    ``Model``: just a layer that calls ``layers[0]``, then ``layers[1]`` on the result, and so on. A
    ``training`` argument (default True, as Keras) is passed to every layer whose ``call`` takes one, and
    the mask each layer produces is passed to the next layer that takes a ``mask``.

    Args:
        layers: a list of ``Layer`` instances.
        name: the layer's name.

    Example:
    >>> import numpy as np, lamina
    >>> pipeline = lamina.layers.Pipeline([lamina.layers.Rescaling(2.0), lamina.layers.Rescaling(1.0, offset=1.0)])
    >>> lamina.ops.convert_to_numpy(pipeline(np.array([[1.0, 2.0]], "float32"))).tolist()
    [[3.0, 5.0]]
    """

    def __init__(self, layers, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(layers, (list, tuple)):
            raise ValueError(f"Layer '{self.name}' (Pipeline) expected a list of layers, but received "
                             f"layers={layers!r}.")
        bad = [(i, layer) for i, layer in enumerate(layers) if not isinstance(layer, Layer)]
        if bad:
            i, layer = bad[0]
            raise ValueError(f"Layer '{self.name}' (Pipeline) expected a list of lamina Layer instances, but "
                             f"layers[{i}] is {layer!r} of type {type(layer).__name__}.")
        self._pipeline_layers = list(layers)
        self.supports_masking = True

    @property
    def layers(self):
        """The pipeline's layers, in the order they run."""
        return self._pipeline_layers

    def call(self, inputs, training=True, mask=None):
        outputs = inputs
        for layer in self._pipeline_layers:
            kwargs = {}
            if mask is not None and layer._has_mask_arg:
                kwargs["mask"] = mask
            if training is not None and layer._has_training_arg:
                kwargs["training"] = training
            outputs = layer(inputs, **kwargs)
            mask = layer.compute_mask(inputs, mask)
            inputs = outputs
        return outputs

    def compute_mask(self, inputs, previous_mask=None):
        if all(type(layer).compute_mask is Layer.compute_mask for layer in self._pipeline_layers):
            # No layer makes a mask of its own: the mask passes through when every layer supports masking.
            return previous_mask if all(layer.supports_masking for layer in self._pipeline_layers) else None
        mask = previous_mask
        for layer in self._pipeline_layers:  # replay the chain to find the mask the last layer makes
            outputs = layer(inputs, training=False) if layer._has_training_arg else layer(inputs)
            mask = layer.compute_mask(inputs, mask)
            inputs = outputs
        return mask

    def get_config(self):
        from lamina.saving.serialization import serialize_object

        # Through JSON so that shapes in the layers' build configs are lists, as after a save and load.
        layers = json.loads(json.dumps([serialize_object(layer) for layer in self._pipeline_layers]))
        return {"layers": layers, "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from lamina.saving.serialization import deserialize_object

        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(f"Pipeline.from_config expected a config whose 'layers' entry is a list of "
                             f"serialized layers, but received layers={layers!r}.")
        config = {**config, "layers": [deserialize_object(c, custom_objects=custom_objects) for c in layers]}
        return cls(**config)
