"""``BatchNormalization``: normalize with batch statistics in training, moving statistics in inference."""

from lamina import backend, constraints, initializers, ops, regularizers
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


def check_axes(who, axis, ndim):
    """Return ``axis`` (int or sequence) as a sorted tuple of non-negative axes of an ``ndim`` input."""
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int) or not -ndim <= a < ndim or (a % ndim) == 0:
            raise ValueError(f"{who}: axis {a!r} is out of range (or the batch axis) for inputs of rank {ndim}.")
        out.append(a % ndim)
    return tuple(sorted(set(out)))


def _check_renorm_clipping(who, clipping):
    """``renorm_clipping`` as Keras accepts it: None or a dict of ``rmin``/``rmax``/``dmax`` (``{}`` for None)."""
    clipping = {} if clipping is None else clipping
    if not isinstance(clipping, dict) or set(clipping) - {"rmax", "rmin", "dmax"}:
        raise ValueError(f"{who}: renorm_clipping must be a dict with optional keys 'rmax', 'rmin', 'dmax', "
                         f"but received renorm_clipping={clipping!r}.")
    rmax, rmin, dmax = clipping.get("rmax"), clipping.get("rmin"), clipping.get("dmax")
    if rmax is not None and rmin is not None and rmax < rmin:
        raise ValueError(f"{who}: renorm_clipping needs rmax >= rmin, but received rmax={rmax}, rmin={rmin}.")
    if dmax is not None and dmax < 0:
        raise ValueError(f"{who}: renorm_clipping needs dmax >= 0, but received dmax={dmax}.")
    return clipping


class BatchNormalization(Layer):
    """Normalize the inputs per feature (``axis``) to zero mean and unit variance, then scale and shift.

    In training (``fit``, or ``training=True``) it uses the statistics of the current batch and updates
    ``moving_mean``/``moving_variance`` (non-trainable weights) as
    ``moving = moving * momentum + batch_stat * (1 - momentum)``; the update is an ``assign``, so it is
    carried through JAX's stateless compiled steps. In inference it uses the moving statistics. A frozen
    layer (``trainable=False``) always runs in inference mode, as in Keras (for fine-tuning).

    Args:
        axis: the feature axis (default -1; 1 for channels_first images), int or list of ints.
        momentum: the moving-average momentum (default 0.99).
        epsilon: added to the variance (default 1e-3).
        center: add the learned offset ``beta`` (default True).
        scale: multiply by the learned ``gamma`` (default True).
        beta_initializer, gamma_initializer, moving_mean_initializer, moving_variance_initializer:
            initializers (zeros, ones, zeros, ones).
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: for beta and gamma.
        synchronized: with PyTorch data-parallel processes (``torchrun``), compute the batch statistics over
            all processes' batches (an all-reduce per layer and step), as one process would on the global batch.
            On JAX the statistics are over the global batch in any case; with one process it has no effect.
        renorm: use Batch Renormalization (Ioffe 2017, as Keras 3): in training the normalized batch is
            corrected to ``x_hat * r + d`` with ``r = batch_std / renorm_std`` and
            ``d = (batch_mean - renorm_mean) / renorm_std`` (no gradient through ``r``, ``d``), where
            ``renorm_mean``/``renorm_stddev`` are moving averages with ``renorm_momentum``; it adds the
            non-trainable weights ``moving_stddev``, ``renorm_mean`` and ``renorm_stddev``, and
            ``moving_variance`` becomes ``moving_stddev ** 2 - epsilon``. Inference is unchanged.
        renorm_clipping: with ``renorm``, a dict with optional keys ``"rmin"``, ``"rmax"``, ``"dmax"``
            clipping ``r`` to ``[rmin, rmax]`` and ``d`` to ``[-dmax, dmax]`` (missing: no clipping).
        renorm_momentum: the momentum of ``renorm_mean``/``renorm_stddev`` (default 0.99).

    Call arguments:
        inputs: the input tensor.
        training: use batch statistics and update the moving ones.
        mask: optional boolean mask of shape ``inputs.shape[:-1]``: only unmasked positions count in the
            batch statistics.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.BatchNormalization()
    >>> x = lamina.ops.convert_to_tensor([[0.0], [4.0]])
    >>> [round(v, 4) for v in lamina.ops.convert_to_numpy(layer(x, training=True))[:, 0].tolist()]
    [-0.9999, 0.9999]
    >>> [round(v, 2) for v in lamina.ops.convert_to_numpy(layer.moving_mean).tolist()]
    [0.02]
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, renorm=False, renorm_clipping=None, renorm_momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        who = f"Layer '{self.name}' (BatchNormalization)"
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"{who}: momentum must be a float in [0, 1], but received momentum={momentum!r}.")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(f"{who}: epsilon must be a positive float, but received epsilon={epsilon!r}.")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale, self.synchronized = bool(center), bool(scale), bool(synchronized)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.renorm = bool(renorm)
        if self.renorm:
            renorm_clipping = _check_renorm_clipping(who, renorm_clipping)
        if isinstance(renorm_momentum, bool) or not isinstance(renorm_momentum, (int, float)) or \
                not 0 <= renorm_momentum <= 1:
            raise ValueError(f"{who}: renorm_momentum must be a float in [0, 1], but received "
                             f"renorm_momentum={renorm_momentum!r}.")
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = float(renorm_momentum)

    def build(self, input_shape):
        ndim = len(input_shape)
        self._axes = check_axes(f"Layer '{self.name}' (BatchNormalization)", self.axis, ndim)
        shape = tuple(input_shape[a] for a in self._axes)
        if any(d is None for d in shape):
            raise ValueError(f"Layer '{self.name}' (BatchNormalization) needs known sizes on axis {self.axis}, "
                             f"but received input shape {tuple(input_shape)}.")
        self._param_shape = shape
        self._reduction_axes = tuple(a for a in range(ndim) if a not in self._axes)
        self._bshape = tuple(input_shape[a] if a in self._axes else 1 for a in range(ndim))
        self.gamma = self.add_weight(name="gamma", shape=shape, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer, constraint=self.gamma_constraint) \
            if self.scale else None
        self.beta = self.add_weight(name="beta", shape=shape, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer, constraint=self.beta_constraint) \
            if self.center else None
        self.moving_mean = self.add_weight(name="moving_mean", shape=shape, initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=shape,
                                               initializer=self.moving_variance_initializer, trainable=False)
        if self.renorm:  # Keras's names and order; the stddevs start at sqrt(the variance initializer's values)
            var_init = self.moving_variance_initializer

            def stddev_init(shape, dtype=None):
                return ops.sqrt(var_init(shape, dtype=dtype))

            self.moving_stddev = self.add_weight(name="moving_stddev", shape=shape, initializer=stddev_init,
                                                 trainable=False)
            self.renorm_mean = self.add_weight(name="renorm_mean", shape=shape,
                                               initializer=self.moving_mean_initializer, trainable=False)
            self.renorm_stddev = self.add_weight(name="renorm_stddev", shape=shape, initializer=stddev_init,
                                                 trainable=False)
        self.input_spec = InputSpec(ndim=ndim, axes={a: input_shape[a] for a in self._axes})
        self.built = True

    def _b(self, v):
        return ops.reshape(v, self._bshape)

    def _moments(self, x, mask):
        if mask is None:
            mean, var = ops.moments(x, self._reduction_axes, keepdims=True)
        else:
            if len(mask.shape) != len(x.shape) - 1:
                raise ValueError(f"Layer '{self.name}' (BatchNormalization): the mask must have one dimension less "
                                 f"than the inputs, but received mask shape {tuple(mask.shape)} and inputs "
                                 f"shape {tuple(x.shape)}.")
            w = ops.expand_dims(ops.cast(mask, x.dtype), -1)
            count = ops.sum(ops.broadcast_to(w, x.shape), axis=self._reduction_axes, keepdims=True)
            mean = ops.divide_no_nan(ops.sum(x * w, axis=self._reduction_axes, keepdims=True), count)
            var = ops.divide_no_nan(ops.sum(ops.square(x - mean) * w, axis=self._reduction_axes, keepdims=True),
                                    count)
        return ops.reshape(mean, self._param_shape), ops.reshape(var, self._param_shape)

    def _synchronized_moments(self, x):
        """Statistics over every data-parallel process's batch (PyTorch processes); None where the batch is
        already global (one process, or JAX, whose sharded batch is one array)."""
        from lamina import distribution

        return distribution._engine().synchronized_moments(x, self._reduction_axes)

    def _update_moving(self, mean, var):
        m = self.momentum
        self.moving_mean.assign(self.moving_mean.value * m + ops.stop_gradient(mean) * (1.0 - m))
        self.moving_variance.assign(self.moving_variance.value * m + ops.stop_gradient(var) * (1.0 - m))

    def call(self, inputs, training=None, mask=None):
        x = inputs
        if ops.dtype(x) in ("float16", "bfloat16"):  # statistics in float32, as Keras
            x = ops.cast(x, "float32")
        synced = self._synchronized_moments(x) if self.synchronized and training and self.trainable and \
            mask is None else None
        if synced is not None:
            mean, var = ops.reshape(synced[0], self._param_shape), ops.reshape(synced[1], self._param_shape)
            if not self.renorm:
                self._update_moving(mean, var)
        elif training and self.trainable and mask is None and len(self._axes) == 1 and not self.renorm:
            fused = backend.nn.fused_batch_norm(x, None if self.gamma is None else self.gamma.value,
                                                None if self.beta is None else self.beta.value,
                                                self._axes[0], self.epsilon)
            if fused is not None:  # the engine's own kernel (PyTorch), same numbers as the formula below
                out, mean, var = fused
                self._update_moving(ops.reshape(mean, self._param_shape), ops.reshape(var, self._param_shape))
                return ops.cast(out, ops.dtype(inputs))
        if synced is None and training and self.trainable:
            mean, var = self._moments(x, mask)
            if not self.renorm:
                self._update_moving(mean, var)
        elif synced is None:
            mean, var = self.moving_mean.value, self.moving_variance.value
        gamma = None if self.gamma is None else self.gamma.value
        beta = None if self.beta is None else self.beta.value
        if self.renorm and training and self.trainable:
            gamma, beta = self._renorm(mean, var, gamma, beta)
        # x * inv + (beta - mean * inv): the per-feature terms are computed on the small vectors, so
        # the full-size tensor sees one multiply and one add (its gradient too).
        inv = ops.rsqrt(var + self.epsilon)
        if gamma is not None:
            inv = inv * gamma
        shift = -mean * inv
        if beta is not None:
            shift = shift + beta
        out = x * self._b(inv) + self._b(shift)
        return ops.cast(out, ops.dtype(inputs))

    def _renorm(self, mean, var, gamma, beta):
        """Batch Renormalization: return the corrected ``(gamma, beta)`` and update the renorm and moving
        statistics (``moving_variance`` from ``moving_stddev``)."""
        eps = self.epsilon
        stddev = ops.sqrt(var + eps)
        renorm_mean = self.renorm_mean.value
        renorm_stddev = ops.maximum(self.renorm_stddev.value, eps ** 0.5)  # no division by ~0 early on
        r = stddev / renorm_stddev
        d = (mean - renorm_mean) / renorm_stddev
        clip = self.renorm_clipping or {}
        if clip.get("rmin") is not None:
            r = ops.maximum(r, clip["rmin"])
        if clip.get("rmax") is not None:
            r = ops.minimum(r, clip["rmax"])
        if clip.get("dmax") is not None:
            d = ops.clip(d, -clip["dmax"], clip["dmax"])
        r, d = ops.stop_gradient(r), ops.stop_gradient(d)
        # (x_hat * r + d) * gamma + beta = x_hat * (r * gamma) + (d * gamma + beta)
        new_gamma = r if gamma is None else r * gamma
        new_beta = d if gamma is None else d * gamma
        if beta is not None:
            new_beta = new_beta + beta
        m, rm = self.momentum, self.renorm_momentum
        sm, ss = ops.stop_gradient(mean), ops.stop_gradient(stddev)
        self.renorm_mean.assign(self.renorm_mean.value * rm + sm * (1.0 - rm))
        self.renorm_stddev.assign(self.renorm_stddev.value * rm + ss * (1.0 - rm))
        self.moving_mean.assign(self.moving_mean.value * m + sm * (1.0 - m))
        moving_stddev = self.moving_stddev.value * m + ss * (1.0 - m)
        self.moving_stddev.assign(moving_stddev)
        self.moving_variance.assign(ops.relu(moving_stddev * moving_stddev - eps))
        return new_gamma, new_beta

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
            "renorm": self.renorm, "renorm_clipping": self.renorm_clipping, "renorm_momentum": self.renorm_momentum,
        }
