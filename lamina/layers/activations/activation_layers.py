"""Activation layers with arguments: ReLU, LeakyReLU, PReLU, ELU, Softmax (with mask)."""

from lamina import activations, constraints, initializers, ops, regularizers
from lamina.layers.layer import Layer


def _check_float(layer, name, value, minimum=None):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (minimum is not None and value < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}): {name} must be a float{bound}, but received "
                         f"{name}={value!r}.")
    return float(value)


class _Elementwise(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


class ReLU(_Elementwise):
    """Rectified linear unit: ``x`` above ``threshold`` (capped at ``max_value``), else
    ``negative_slope * (x - threshold)``.

    Args:
        max_value: float >= 0 or None (no cap).
        negative_slope: float >= 0 (default 0).
        threshold: float (default 0).

    Example:
    >>> import lamina
    >>> x = lamina.ops.convert_to_tensor([-2.0, 1.0, 8.0])
    >>> lamina.ops.convert_to_numpy(lamina.layers.ReLU(max_value=6.0, negative_slope=0.5)(x)).tolist()
    [-1.0, 1.0, 6.0]
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _check_float(self, "max_value", max_value, 0.0)
        self.negative_slope = _check_float(self, "negative_slope", negative_slope, 0.0)
        self.threshold = _check_float(self, "threshold", threshold)

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope, max_value=self.max_value,
                                threshold=self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(_Elementwise):
    """Leaky ReLU: ``x`` if ``x > 0`` else ``negative_slope * x``.

    Args:
        negative_slope: float >= 0 (default 0.3). ``alpha`` is accepted as its Keras 2 name.

    Example:
    >>> import lamina
    >>> lamina.ops.convert_to_numpy(lamina.layers.LeakyReLU(0.5)(lamina.ops.convert_to_tensor([-1.0, 2.0]))).tolist()
    [-0.5, 2.0]
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = _check_float(self, "negative_slope", negative_slope, 0.0)

    def call(self, inputs):
        return ops.leaky_relu(inputs, negative_slope=self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(_Elementwise):
    """Parametric ReLU: ``x`` if ``x >= 0`` else ``alpha * x`` with a learned ``alpha`` per input position.

    Args:
        alpha_initializer: initializer of ``alpha`` (default zeros).
        alpha_regularizer, alpha_constraint: for ``alpha``.
        shared_axes: axes (1-based, batch excluded) along which ``alpha`` is shared, e.g. ``[1, 2]`` for
            one ``alpha`` per channel of images.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.PReLU(shared_axes=[1, 2])
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 4, 4, 3))))
    (2, 4, 4, 3)
    >>> [w.shape for w in layer.weights]
    [(1, 1, 3)]
    """

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            self.shared_axes = [shared_axes] if isinstance(shared_axes, int) else list(shared_axes)

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for a in self.shared_axes or []:
            if not 1 <= a < len(input_shape):
                raise ValueError(f"Layer '{self.name}' (PReLU): shared axis {a} is out of range for inputs of shape "
                                 f"{tuple(input_shape)} (axes are 1-based, the batch axis excluded).")
            shape[a - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"Layer '{self.name}' (PReLU) needs known non-batch dimensions (or shared_axes over the "
                             f"unknown ones), but received input shape {tuple(input_shape)}.")
        self.alpha = self.add_weight(name="alpha", shape=tuple(shape), initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        self.built = True

    def call(self, inputs):
        return ops.where(inputs >= 0, inputs, self.alpha.value * inputs)

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint), "shared_axes": self.shared_axes}


class ELU(_Elementwise):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.

    Args:
        alpha: float (default 1.0).

    Example:
    >>> import lamina
    >>> [round(v, 4) for v in lamina.ops.convert_to_numpy(lamina.layers.ELU()(lamina.ops.convert_to_tensor([-1.0, 2.0]))).tolist()]
    [-0.6321, 2.0]
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _check_float(self, "alpha", alpha)

    def call(self, inputs):
        return ops.elu(inputs, alpha=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(_Elementwise):
    """Softmax over ``axis``; positions where ``mask`` is False get probability 0.

    Args:
        axis: int or list of ints (default -1).

    Call arguments:
        inputs: the logits.
        mask: boolean (or 0/1) tensor broadcastable to ``inputs``: True keeps a position.

    Example:
    >>> import lamina
    >>> x = lamina.ops.convert_to_tensor([[1.0, 1.0, 5.0]])
    >>> mask = lamina.ops.convert_to_tensor([[True, True, False]])
    >>> lamina.ops.convert_to_numpy(lamina.layers.Softmax()(x, mask=mask)).tolist()
    [[0.5, 0.5, 0.0]]
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)

    def call(self, inputs, mask=None):
        if mask is not None:
            if len(mask.shape) > len(inputs.shape) or any(
                    m not in (1, i) for m, i in zip(tuple(mask.shape)[::-1], tuple(inputs.shape)[::-1])
                    if m is not None and i is not None):
                raise ValueError(f"Layer '{self.name}' (Softmax): the mask must broadcast to the inputs, but received "
                                 f"mask shape {tuple(mask.shape)} and inputs shape {tuple(inputs.shape)}.")
            if ops.dtype(mask) != "bool":
                mask = ops.greater(mask, 0.5)
            low = -3e4 if ops.dtype(inputs) in ("float16", "bfloat16") else -1e9
            inputs = ops.where(mask, inputs, low)
        out = ops.softmax(inputs, axis=self.axis)
        if mask is not None:
            out = ops.where(mask, out, 0.0)
        return out

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
