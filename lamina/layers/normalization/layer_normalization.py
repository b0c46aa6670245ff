"""Per-sample normalizations: LayerNormalization, GroupNormalization, RMSNormalization, UnitNormalization."""

from lamina import constraints, initializers, ops, regularizers
from lamina.layers.core.dense import check_positive_int
from lamina.layers.layer import Layer
from lamina.layers.normalization.batch_normalization import check_axes


class _AffineNorm(Layer):
    """Shared arguments of the normalizations that learn ``gamma`` (scale) and ``beta`` (center)."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon < 0:
            raise ValueError(f"{self._who()}: epsilon must be a non-negative float, but received epsilon={epsilon!r}.")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.epsilon, self.center, self.scale = float(epsilon), bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def _who(self):
        return f"Layer '{self.name}' ({type(self).__name__})"

    def _build_affine(self, input_shape, axes, scale=None, center=None):
        scale = self.scale if scale is None else scale
        center = self.center if center is None else center
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(f"{self._who()} needs known sizes on axis {self.axis}, but received input shape "
                             f"{tuple(input_shape)}.")
        self._bshape = tuple(input_shape[a] if a in axes else 1 for a in range(len(input_shape)))
        self.gamma = self.add_weight(name="gamma", shape=shape, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer, constraint=self.gamma_constraint) \
            if scale else None
        self.beta = self.add_weight(name="beta", shape=shape, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer, constraint=self.beta_constraint) \
            if center else None

    def _affine(self, x):
        if self.gamma is not None:
            x = x * ops.reshape(self.gamma.value, self._bshape)
        if self.beta is not None:
            x = x + ops.reshape(self.beta.value, self._bshape)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale, "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


class LayerNormalization(_AffineNorm):
    """Normalize each sample over ``axis`` to zero mean and unit variance, then scale (gamma) and shift (beta).

    Args:
        axis: int or list of ints to normalize over (default -1).
        epsilon: added to the variance (default 1e-3).
        center, scale: learn ``beta`` / ``gamma`` (default True).
        rms_scaling: deprecated, as in Keras: scale the inputs by ``gamma / sqrt(variance + epsilon)`` without
            centering (only ``gamma`` is created, whatever ``center``/``scale`` say). It divides by the
            variance's root, not the root mean square (Keras's own behaviour, kept so its files load and
            compute the same): ``RMSNormalization`` is the real thing.
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer, beta_constraint,
        gamma_constraint: for the weights.

    Example:
    >>> import lamina
    >>> out = lamina.layers.LayerNormalization(epsilon=0.0)(lamina.ops.convert_to_tensor([[1.0, 3.0]]))
    >>> lamina.ops.convert_to_numpy(out).tolist()
    [[-1.0, 1.0]]
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False, **kwargs):
        super().__init__(axis=axis, epsilon=epsilon, center=center, scale=scale, **kwargs)
        self.rms_scaling = bool(rms_scaling)
        if self.rms_scaling:
            import warnings

            warnings.warn(f"{self._who()}: rms_scaling=True is deprecated (as in Keras): it scales the inputs by "
                          "the variance's root, not the root mean square. Use lamina.layers.RMSNormalization for "
                          "RMS normalization.", DeprecationWarning, stacklevel=2)

    def build(self, input_shape):
        self._axes = check_axes(self._who(), self.axis, len(input_shape))
        if self.rms_scaling:  # gamma only, as Keras builds it
            self._build_affine(input_shape, self._axes, scale=True, center=False)
        else:
            self._build_affine(input_shape, self._axes)
        self.built = True

    def call(self, inputs):
        x = ops.cast(inputs, "float32") if ops.dtype(inputs) in ("float16", "bfloat16") else inputs
        if self.rms_scaling:  # Keras's formula: the variance, uncentered inputs
            _, var = ops.moments(x, self._axes, keepdims=True)
            out = x * ops.rsqrt(var + self.epsilon) * ops.reshape(self.gamma.value, self._bshape)
        else:
            mean, var = ops.moments(x, self._axes, keepdims=True)
            out = self._affine((x - mean) * ops.rsqrt(var + self.epsilon))
        return ops.cast(out, ops.dtype(inputs))

    def get_config(self):
        return {**super().get_config(), "rms_scaling": self.rms_scaling}


class GroupNormalization(_AffineNorm):
    """Normalize each sample over groups of channels: the channels on ``axis`` are split into ``groups``
    groups and each group is normalized over its channels and all other non-batch axes.
    ``groups=1`` is layer normalization over all features; ``groups=channels`` is instance normalization.

    Args:
        groups: positive int dividing the number of channels (default 32), or -1 for one group per channel.
        axis: the channel axis (default -1).
        epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: as ``LayerNormalization``.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.GroupNormalization(groups=2)
    >>> lamina.ops.shape(layer(lamina.ops.ones((2, 5, 4))))
    (2, 5, 4)
    >>> [w.shape for w in layer.weights]
    [(4,), (4,)]
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, **kwargs):
        super().__init__(axis=axis, epsilon=epsilon, **kwargs)
        # -1: one group per channel (instance normalization), resolved when the channels are known (as Keras)
        self.groups = -1 if groups == -1 and not isinstance(groups, bool) else check_positive_int(
            self._who(), "groups", groups)
        if not isinstance(self.axis, int):
            raise ValueError(f"{self._who()}: axis must be a single int, but received axis={self.axis!r}.")

    def build(self, input_shape):
        (axis,) = check_axes(self._who(), self.axis, len(input_shape))
        c = input_shape[axis]
        if self.groups == -1 and c is not None:
            self.groups = c
        if c is None or c % self.groups:
            raise ValueError(f"{self._who()}: the number of channels ({c}, axis {self.axis}) must be a multiple of "
                             f"groups={self.groups}; received input shape {tuple(input_shape)}.")
        self._axis = axis
        self._build_affine(input_shape, (axis,))
        self.built = True

    def call(self, inputs):
        x = ops.cast(inputs, "float32") if ops.dtype(inputs) in ("float16", "bfloat16") else inputs
        shape = tuple(x.shape)
        a = self._axis
        grouped = ops.reshape(x, shape[:a] + (self.groups, shape[a] // self.groups) + shape[a + 1:])
        axes = tuple(i for i in range(1, len(shape) + 1) if i != a)
        mean, var = ops.moments(grouped, axes, keepdims=True)
        out = ops.reshape((grouped - mean) * ops.rsqrt(var + self.epsilon), shape)
        return ops.cast(self._affine(out), ops.dtype(inputs))

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


class RMSNormalization(Layer):
    """Divide each sample by its root mean square over ``axis``, then multiply by a learned ``scale``.

    Args:
        axis: int or list of ints (default -1).
        epsilon: added to the mean square (default 1e-6).

    Example:
    >>> import lamina
    >>> out = lamina.layers.RMSNormalization(epsilon=0.0)(lamina.ops.convert_to_tensor([[3.0, 4.0]]))
    >>> [round(v, 4) for v in lamina.ops.convert_to_numpy(out)[0].tolist()]
    [0.8485, 1.1314]
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon < 0:
            raise ValueError(f"Layer '{self.name}' (RMSNormalization): epsilon must be a non-negative float, but "
                             f"received epsilon={epsilon!r}.")
        self.epsilon = float(epsilon)
        self.supports_masking = True

    def build(self, input_shape):
        self._axes = check_axes(f"Layer '{self.name}' (RMSNormalization)", self.axis, len(input_shape))
        self._bshape = tuple(input_shape[a] if a in self._axes else 1 for a in range(len(input_shape)))
        self.scale = self.add_weight(name="scale", shape=tuple(input_shape[a] for a in self._axes),
                                     initializer="ones")
        self.built = True

    def call(self, inputs):
        return ops.rms_normalization(inputs, ops.reshape(self.scale.value, self._bshape), axis=self._axes,
                                     epsilon=self.epsilon)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


class UnitNormalization(Layer):
    """Scale each sample to unit L2 norm over ``axis``: ``x / sqrt(max(sum(x**2), 1e-12))``.

    Args:
        axis: int or list of ints (default -1).

    Example:
    >>> import lamina
    >>> out = lamina.layers.UnitNormalization()(lamina.ops.convert_to_tensor([[3.0, 4.0]]))
    >>> [round(v, 4) for v in lamina.ops.convert_to_numpy(out)[0].tolist()]
    [0.6, 0.8]
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.supports_masking = True

    def call(self, inputs):
        axes = check_axes(f"Layer '{self.name}' (UnitNormalization)", self.axis, len(inputs.shape))
        square_sum = ops.sum(ops.square(inputs), axis=axes, keepdims=True)
        return inputs * ops.rsqrt(ops.maximum(square_sum, 1e-12))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
