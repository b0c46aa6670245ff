"""Small core layers: Activation, Identity, Flatten, Reshape, Dropout, Lambda, Masking."""

import math

from lamina import activations, backend, ops, tree
from lamina import random as lrandom
from lamina.layers.layer import Layer


class Activation(Layer):
    """Apply an activation function to the input.

    Args:
        activation: a name (``"relu"``) or a function.

    Example:
    >>> import lamina
    >>> lamina.ops.convert_to_numpy(lamina.layers.Activation("relu")(lamina.ops.convert_to_tensor([-1.0, 2.0]))).tolist()
    [0.0, 2.0]
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Identity(Layer):
    """Return the input unchanged (a placeholder layer).

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.Identity()(lamina.ops.ones((2, 3))))
    (2, 3)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


class Flatten(Layer):
    """Flatten each sample to one dimension: ``(batch, d1, d2, ...)`` -> ``(batch, d1*d2*...)``.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"`` (channels are
            moved last before flattening, so weights match a channels-last model).

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.Flatten()(lamina.ops.ones((2, 28, 28))))
    (2, 784)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        from lamina.config import standardize_data_format

        self.data_format = standardize_data_format(data_format)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.moveaxis(inputs, 1, -1)
        if inputs.ndim == 1:
            return ops.expand_dims(inputs, 1)
        return backend.numpy.reshape(inputs, (inputs.shape[0], -1))  # call sees engine tensors only

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if not rest:
            return (input_shape[0], 1)
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (one entry may be -1).

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.Reshape((3, 4))(lamina.ops.ones((2, 12))))
    (2, 3, 4)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        if sum(1 for d in target_shape if d == -1) > 1 or any(
                not isinstance(d, int) or (d <= 0 and d != -1) for d in target_shape):
            raise ValueError(
                f"Layer '{self.name}' (Reshape): target_shape must hold positive ints and at most one -1, "
                f"but received target_shape={target_shape}."
            )
        self.target_shape = target_shape

    def _resolve(self, input_shape):
        known = input_shape[1:]
        if any(d is None for d in known):
            return tuple(None if d == -1 else d for d in self.target_shape)
        total = math.prod(known)
        fixed = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if total % fixed:
                raise ValueError(self._mismatch(input_shape))
            return tuple(total // fixed if d == -1 else d for d in self.target_shape)
        if fixed != total:
            raise ValueError(self._mismatch(input_shape))
        return self.target_shape

    def _mismatch(self, input_shape):
        return (
            f"Layer '{self.name}' (Reshape) cannot reshape samples of shape {tuple(input_shape[1:])} "
            f"({math.prod(input_shape[1:])} values) to target_shape={self.target_shape}."
        )

    def call(self, inputs):
        shape = self._resolve(tuple(inputs.shape))
        return ops.reshape(inputs, (inputs.shape[0],) + tuple(-1 if d is None else d for d in shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(tuple(input_shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Dropout(Layer):
    """Randomly set a fraction ``rate`` of inputs to 0 in training, scaling the rest by ``1/(1-rate)``.

    Args:
        rate: float in [0, 1), the fraction to drop.
        noise_shape: shape of the binary mask, broadcast to the input (None entries follow the input).
        seed: int seed for reproducible masks.

    Call arguments:
        inputs: the input tensor.
        training: drop only when True (``fit`` sets it).

    Example:
    >>> import lamina
    >>> layer = lamina.layers.Dropout(0.5, seed=1)
    >>> lamina.ops.convert_to_numpy(layer(lamina.ops.ones((4,)), training=False)).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(
                f"Layer '{self.name}' (Dropout): rate must be a float in [0, 1], but received rate={rate!r}."
            )
        self.rate = float(rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None
        self.seed = seed
        self.seed_generator = lrandom.SeedGenerator(seed if seed is not None else _next_seed())
        self.supports_masking = True

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            if self.rate >= 1:
                return ops.zeros_like(inputs)
            return lrandom.dropout(inputs, self.rate, noise_shape=self.noise_shape, seed=self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "noise_shape": list(self.noise_shape) if self.noise_shape else None, "seed": self.seed}


def _next_seed():
    """An int seed drawn from the global generator, so set_random_seed makes layers repeatable."""
    gen = lrandom.global_seed_generator()
    state = backend.convert_to_numpy(gen.next())
    return int((int(state[0]) * 1000003 + int(state[1])) % (2**31 - 1))


class Lambda(Layer):
    """Wrap a Python function as a layer: ``Lambda(lambda x: x * 2)``.

    Args:
        function: the function of the inputs.
        output_shape: the output shape (or a function of the input shape), if it
            cannot be traced.
        arguments: extra keyword arguments passed to ``function``.

    Note: a Lambda's function is Python code and is never saved as such: its
    config holds the function's name. A function registered with
    ``lamina.saving.register_serializable`` loads by that name (also in safe
    mode); any other function is refused unless the user passes it.

    Example:
    >>> import lamina
    >>> lamina.ops.convert_to_numpy(lamina.layers.Lambda(lambda x: x * 2)(lamina.ops.ones((2,)))).tolist()
    [2.0, 2.0]
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Layer '{self.name}' (Lambda): function must be callable, but received {function!r}.")
        self.function = function
        self._output_shape = output_shape
        self.arguments = arguments or {}
        self._mask = mask
        self.supports_masking = mask is not None

    def call(self, inputs, mask=None, training=None):
        return self.function(inputs, **self.arguments)

    def compute_output_spec(self, *args, **kwargs):
        if self._output_shape is None:
            return super().compute_output_spec(*args, **kwargs)
        from lamina.layers.layer import _shapes_to_keras_tensors

        first = args[0]
        flat = [t for t in tree.flatten(first) if hasattr(t, "shape")]  # a list of inputs (Keras 2's VAE sampling)
        if callable(self._output_shape):
            shapes = tuple(first.shape) if hasattr(first, "shape") else [tuple(t.shape) for t in flat]
            shape = self._output_shape(shapes)
        else:
            shape = (flat[0].shape[0],) + tuple(self._output_shape)
        return _shapes_to_keras_tensors(shape, self.compute_dtype)

    def compute_mask(self, inputs, previous_mask=None):
        if callable(self._mask):
            return self._mask(inputs, previous_mask)
        return self._mask

    def get_config(self):
        from lamina.saving.serialization import serialize_function

        config = {**super().get_config(), "function": serialize_function(self.function),
                  "arguments": self.arguments}
        if self._output_shape is not None and not callable(self._output_shape):
            config["output_shape"] = list(self._output_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild from a config; the function is looked up by its registered name, never loaded as code."""
        from lamina.saving.serialization import resolve_function

        config = dict(config)
        config["function"] = resolve_function(config.get("function"), custom_objects,
                                              who=f"Lambda layer '{config.get('name')}'")
        return cls(**config)


class Masking(Layer):
    """Mask timesteps whose features all equal ``mask_value`` (for RNNs downstream).

    Example:
    >>> import lamina
    >>> layer = lamina.layers.Masking(mask_value=0.0)
    >>> x = lamina.ops.convert_to_tensor([[[1.0], [0.0]]])
    >>> lamina.ops.convert_to_numpy(layer.compute_mask(x)).tolist()
    [[True, False]]
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, previous_mask=None):
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = ops.any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return ops.multiply(inputs, ops.cast(keep, ops.dtype(inputs)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
