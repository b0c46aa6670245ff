"""The ``Metric`` base class: state in ``role="metric"`` Variables, updated on device."""

from lamina import config, ops
from lamina.backend import StatelessScope, Variable
from lamina.losses.loss import _auto_name


def _initial_value(initializer, shape, dtype):
    shape = tuple(int(d) for d in shape)
    if initializer is None or initializer == "zeros":
        return ops.zeros(shape, dtype=dtype)
    if initializer == "ones":
        return ops.ones(shape, dtype=dtype)
    if isinstance(initializer, (int, float)):
        return ops.full(shape, initializer, dtype=dtype)
    if isinstance(initializer, str):
        from lamina import initializers

        initializer = initializers.get(initializer)
    if callable(initializer):
        return ops.cast(initializer(shape, dtype), dtype)
    return ops.cast(ops.broadcast_to(ops.convert_to_tensor(initializer), shape), dtype)


class Metric:
    """Base class of metrics: stateful accumulators of a quantity over batches.

    Subclasses create state in ``__init__`` (or on the first update) with
    ``add_variable``, implement ``update_state(...)`` with ``lamina.ops`` and
    ``variable.assign``, and ``result()``. Updates never read values on the host,
    so they run inside compiled steps.

    Args:
        dtype: the dtype of the state and the result (default ``floatx()``).
        name: the metric's name (default: from the class name).

    Example:
    >>> import lamina
    >>> from lamina import ops
    >>> class Count(lamina.metrics.Metric):
    ...     def __init__(self, name="count", dtype=None):
    ...         super().__init__(name=name, dtype=dtype)
    ...         self.n = self.add_variable(shape=(), name="n")
    ...     def update_state(self, values):
    ...         self.n.assign(self.n.value + ops.cast(ops.size(values), self.dtype))
    ...     def result(self):
    ...         return self.n.value
    >>> m = Count()
    >>> m.update_state([1, 2, 3]); float(m.result())
    3.0
    >>> m.reset_state(); float(m.result())
    0.0
    """

    _lamina_metric = True  # marks metrics for Layer.__setattr__ (a layer or model tracks its metric attributes)


    def __init__(self, dtype=None, name=None):  # Keras's order; pass both by keyword
        self.name = name or _auto_name(type(self).__name__)
        self._dtype_arg = dtype
        self._dtype = str(dtype) if dtype is not None else config.floatx()
        self._variables = []
        self._initial_values = []

    @property
    def dtype(self):
        """The dtype of the metric's state and result."""
        return self._dtype

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="sum", name=None):
        """Create a state Variable (``role="metric"``, not trainable) and track it.

        Args:
            shape: the variable's shape.
            initializer: ``"zeros"`` (default), ``"ones"``, a number, an
                initializer name, or a callable ``(shape, dtype) -> value``.
            dtype: the variable's dtype (default: the metric's dtype).
            aggregation: how replicas combine it (``"sum"``, ``"mean"``, ...).
            name: the variable's name.

        Returns:
            The new ``lamina.Variable``.
        """
        dtype = dtype or self.dtype
        value = _initial_value(initializer, shape, dtype)
        var = Variable(value, dtype=dtype, trainable=False, role="metric", name=name,
                       aggregation=aggregation)
        var.path = f"{self.name}/{name}" if name else var.name
        self._variables.append(var)
        self._initial_values.append((initializer, tuple(var.shape), dtype))
        return var

    def add_weight(self, shape=(), initializer="zeros", dtype=None, name=None, aggregation="sum"):
        """Keras's form of ``add_variable``: ``shape`` defaults to a scalar (the guide's
        ``self.true_positives = self.add_weight(name="ctp", initializer="zeros")``).

        Example:
        >>> import lamina
        >>> class Count(lamina.metrics.Metric):
        ...     def __init__(self, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.total = self.add_weight(name="total", initializer="zeros")
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         self.total.assign_add(1.0)
        ...     def result(self):
        ...         return self.total
        >>> tuple(Count().total.shape)
        ()
        """
        return self.add_variable(shape, initializer=initializer, dtype=dtype, aggregation=aggregation, name=name)

    @property
    def variables(self):
        """All state Variables of this metric (and of metrics it holds as attributes)."""
        out = list(self._variables)
        for attr in vars(self).values():
            if isinstance(attr, Metric) and attr is not self:
                out.extend(attr.variables)
        return out

    def reset_state(self):
        """Reset all state Variables to their initial values."""
        for var, (init, shape, dtype) in zip(self._variables, self._initial_values):
            var.assign(_initial_value(init, shape, dtype))
        for attr in vars(self).values():
            if isinstance(attr, Metric) and attr is not self:
                attr.reset_state()

    def update_state(self, *args, **kwargs):
        """Accumulate statistics for one batch (subclasses implement this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement `update_state`.")

    def result(self):
        """Return the metric's current value (subclasses implement this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement `result`.")

    def __call__(self, *args, **kwargs):
        """Update the state with one batch and return the current result."""
        self.update_state(*args, **kwargs)
        return self.result()

    # --- stateless forms, for pure (jit-compiled) steps -------------------------------
    def stateless_update_state(self, metric_variables, *args, **kwargs):
        """Return the new values of ``self.variables`` after an update, leaving them untouched.

        ``metric_variables`` are the current values, in ``self.variables`` order.
        """
        variables = self.variables
        with StatelessScope(list(zip(variables, metric_variables))) as scope:
            self.update_state(*args, **kwargs)
        return [scope.get_current_value(v) for v in variables]

    def stateless_result(self, metric_variables):
        """Return ``result()`` computed from the given state values."""
        with StatelessScope(list(zip(self.variables, metric_variables))):
            return self.result()

    def stateless_reset_state(self):
        """Return the initial values of ``self.variables`` (nothing is assigned)."""
        variables = self.variables
        with StatelessScope(list(zip(variables, [v.value for v in variables]))) as scope:
            self.reset_state()
        return [scope.get_current_value(v) for v in variables]

    def get_config(self):
        """Return the constructor arguments as a dict."""
        return {"name": self.name, "dtype": self._dtype_arg}

    @classmethod
    def from_config(cls, config_):
        """Create a metric from ``get_config()``'s dict."""
        return cls(**config_)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
