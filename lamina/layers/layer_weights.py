"""The weights half of ``Layer``: its variables, dtype policy, added weights, losses and metrics."""

from lamina import backend, dtype_policies
from lamina.backend.common.keras_tensor import KerasTensor
from lamina.backend.common.name_scope import name_scope, scoped


class LayerWeights:
    """Mixin of ``Layer`` (``lamina.layers.layer``): what a layer holds and reports, as opposed to how it is
    built and called."""

    # ---- weights -------------------------------------------------------------

    @property
    def variables(self):
        """Every variable of this layer and its sub-layers (weights, seed states)."""
        return _dedupe(self.trainable_variables + self.non_trainable_variables)

    @property
    def trainable_variables(self):
        if not self.trainable:
            return []
        own = [v for v in self._own_state() if v.trainable]
        for layer in self._layers:
            own.extend(layer.trainable_variables)
        return _dedupe(own)

    @property
    def non_trainable_variables(self):
        own = [v for v in self._own_state() if not (self.trainable and v.trainable)]
        for layer in self._layers:
            own.extend(layer.non_trainable_variables)
        trainable_ids = {id(v) for v in self.trainable_variables}
        return [v for v in _dedupe(own) if id(v) not in trainable_ids and v.role != "metric"]

    @property
    def trainable_weights(self):
        return self.trainable_variables

    @property
    def non_trainable_weights(self):
        return [v for v in self.non_trainable_variables if v.role in ("trainable", "non_trainable")]

    @property
    def weights(self):
        """Every weight (seed states and metrics excluded), in Keras's order: this layer's own trainable
        then non-trainable weights, then each sub-layer's in the same way, depth first. ``get_weights`` and
        ``set_weights`` use it, so weight lists move between lamina and Keras models unchanged."""
        out, seen = [], set()

        def visit(layer):
            own = [v for v in layer._own_state() if v.role in ("trainable", "non_trainable")]
            for v in [v for v in own if v.role == "trainable"] + [v for v in own if v.role == "non_trainable"]:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
            for sub in layer._layers:
                visit(sub)

        visit(self)
        return out

    def get_weights(self):
        """Return the weights as a list of NumPy arrays."""
        return [backend.convert_to_numpy(v) for v in self.weights]

    def set_weights(self, weights):
        """Set the weights from a list of arrays, in the order of ``layer.weights``."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(
                f"Layer '{self.name}' expected {len(own)} weight arrays "
                f"({[v.path for v in own]}), but received {len(weights)}."
            )
        for v, w in zip(own, weights):
            shape = tuple(getattr(w, "shape", ()))
            if shape != tuple(v.shape):
                raise ValueError(
                    f"Layer '{self.name}': weight '{v.path}' has shape {tuple(v.shape)}, "
                    f"but the provided array has shape {shape}."
                )
            v.assign(w)

    def count_params(self):
        """Return the number of scalars in the layer's weights."""
        if not self.built:
            raise ValueError(
                f"Layer '{self.name}' is not built yet, so it has no weights to count. "
                "Call it on data or build it with `layer.build(input_shape)` first."
            )
        total = 0
        for v in self.weights:
            n = 1
            for d in v.shape:
                n *= d
            total += n
        return total

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self._layers:
            layer.trainable = value

    @property
    def dtype(self):
        """The dtype of the layer's weights (its policy's variable dtype)."""
        return self._dtype

    @property
    def compute_dtype(self):
        """The dtype the layer computes in (float16 under ``"mixed_float16"``)."""
        return (self.__dict__.get("_path_policy") or self._dtype_policy).compute_dtype

    @property
    def variable_dtype(self):
        return self._dtype

    @property
    def dtype_policy(self):
        """The layer's ``DTypePolicy``."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        policy = dtype_policies.get(value)
        mode = None if isinstance(policy, dtype_policies.DTypePolicyMap) else policy.quantization_mode
        if mode and self.built and callable(getattr(self, "quantize", None)) and \
                getattr(self, "quantization_mode", None) is None:
            # As Keras: giving a built float layer a quantized policy quantizes it.
            from lamina.quantizers import Int4QuantizationConfig

            block = getattr(policy, "block_size", None)
            self.quantize(mode, config=Int4QuantizationConfig(block_size=block) if block else None)
            return
        self._dtype_policy = policy
        self._dtype = policy.variable_dtype

    @property
    def activity_regularizer(self):
        """The regularizer applied to the layer's outputs (its value per sample is added to ``losses``), or None."""
        return self._activity_regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, value):
        from lamina import regularizers

        self._activity_regularizer = None if value is None else regularizers.get(value)

    def add_weight(self, *args, shape=None, initializer=None, dtype=None, trainable=True, autocast=True,
                   regularizer=None, constraint=None, aggregation="none", name=None, **kwargs):
        """Create a weight of this layer.

        Args:
            shape: the weight's shape.
            initializer: an initializer name, instance or callable (default
                ``glorot_uniform`` for floats, ``zeros`` otherwise).
            dtype: the dtype (default: the layer's).
            trainable: whether training updates it.
            regularizer: a regularizer name or instance (adds to ``layer.losses``).
            constraint: a constraint applied after each optimizer update.
            name: the weight's name (its path is ``layer_name/name``).
        """
        if args:
            # Keras 3 order: (shape, initializer, dtype, trainable); Keras 2: (name, shape, dtype, initializer).
            order = ("name", "shape", "dtype", "initializer") if isinstance(args[0], str) else \
                ("shape", "initializer", "dtype", "trainable")
            given = dict(zip(order, args))
            shape = given.get("shape", shape)
            initializer = given.get("initializer", initializer)
            dtype = given.get("dtype", dtype)
            trainable = given.get("trainable", trainable)
            name = given.get("name", name)
        if kwargs:
            raise TypeError(f"Layer '{self.name}': add_weight() got unexpected arguments {sorted(kwargs)}.")
        from lamina import constraints, initializers, regularizers

        dtype = backend.standardize_dtype(dtype or self._dtype)
        shape = () if shape is None else tuple(shape)
        for d in shape:
            if d is None or (isinstance(d, int) and d < 0):
                raise ValueError(
                    f"Layer '{self.name}': add_weight(name={name!r}) needs a fully known shape, "
                    f"but received shape={shape}."
                )
        if initializer is None:
            initializer = "glorot_uniform" if backend.is_float_dtype(dtype) else "zeros"
        init = initializers.get(initializer)
        var = backend.Variable(init, shape=shape, dtype=dtype, trainable=trainable,
                               name=name, autocast=autocast, aggregation=aggregation)
        if isinstance(self.name, str) and self.name and "/" not in self.name:
            with name_scope(self.name, caller=self):  # the layer's scope, where it was first opened (Keras's)
                var.path = scoped(var.name)
        else:
            var.path = scoped(self.name, var.name, dedupe_first=True)
        var.regularizer = regularizers.get(regularizer) if regularizer is not None else None
        var.constraint = constraints.get(constraint) if constraint is not None else None
        self._own_variables.append(var)
        return var

    add_variable = add_weight

    @property
    def losses(self):
        """Losses added in the last call (by this layer and every sub-layer, e.g. activity
        regularization), plus the weight regularization terms."""
        out = []
        for layer in self._flatten_layers():
            out.extend(layer._losses)
        for v in self.trainable_weights:
            if v.regularizer is not None:
                out.append(v.regularizer(v.value))
        return out

    def _flatten_layers(self):
        """This layer and all its sub-layers, depth first, each once."""
        seen, out, stack = set(), [], [self]
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            stack.extend(reversed(layer._layers))
        return out

    def add_loss(self, loss):
        """Add a loss tensor (e.g. an activity regularization term) to this call's losses."""
        self._losses.append(loss)

    def add_metric(self, value, name=None, aggregation=None):
        """Report ``value`` (a tensor computed in ``call``) as the metric ``name`` of the model's training.

        The Keras 2 (``tf.keras``) form, which Keras 3 removed: a model containing this layer shows ``name`` (and
        ``val_<name>``) in its ``fit``/``evaluate`` logs and ``History``, averaged over the epoch's batches
        (``aggregation="mean"``, the default; ``"sum"`` adds them). Works inside compiled steps on both backends.

        Args:
            value: a tensor; its mean over all elements is the batch's value.
            name: the metric's name in the logs (required).
            aggregation: ``None`` or ``"mean"`` (average over batches, weighted by batch size) or ``"sum"``.

        Example:
        >>> import lamina, numpy as np
        >>> class MeanActivation(lamina.layers.Layer):
        ...     def call(self, x):
        ...         self.add_metric(lamina.ops.mean(x), name="mean_activation")
        ...         return x
        >>> model = lamina.Sequential([lamina.Input((2,)), MeanActivation()])
        >>> model.compile(loss="mse")
        >>> round(model.evaluate(np.ones((4, 2)), np.ones((4, 2)), return_dict=True, verbose=0)["mean_activation"], 3)
        1.0
        """
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"{type(self).__name__}.add_metric: pass the metric's name, e.g. "
                f"`self.add_metric(ops.mean(x), name='mean_activation')`; received name={name!r}.")
        if aggregation not in (None, "mean", "sum"):
            raise ValueError(
                f"{type(self).__name__}.add_metric(name={name!r}): aggregation must be None, 'mean' or 'sum', "
                f"but received {aggregation!r}.")
        if not isinstance(value, KerasTensor) and not backend.is_tensor(value):
            try:
                value = backend.convert_to_tensor(value)
            except (TypeError, ValueError) as err:
                raise TypeError(
                    f"{type(self).__name__}.add_metric(name={name!r}): value must be a tensor or number, "
                    f"but received {type(value).__name__}.") from err
        aggregation = aggregation or "mean"
        known = self._metric_specs.get(name)
        if known is not None and known != aggregation:
            raise ValueError(
                f"{type(self).__name__}.add_metric(name={name!r}): this metric was added with "
                f"aggregation={known!r} before, and now with {aggregation!r}; use one aggregation per name.")
        self._metric_specs[name] = aggregation
        self._added_metrics.append((name, value, aggregation))


def _dedupe(items):
    seen, out = set(), []
    for v in items:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out
