"""``OptimizerMap`` and ``MultiOptimizer``: different optimizers for different variables."""

import re
from collections.abc import MutableMapping

from lamina.optimizers.loss_scale_optimizer import LossScaleOptimizer
from lamina.optimizers.optimizer import Optimizer


def _serialize(obj):
    from lamina import optimizers

    return optimizers.serialize(obj)


def _deserialize(config, custom_objects=None):
    from lamina import optimizers

    return optimizers.deserialize(config, custom_objects)


class OptimizerMap(MutableMapping):
    """A mapping from variable paths (or regular expressions over them) to optimizers.

    Looking up a path returns the optimizer stored under exactly that key if there is
    one, else the one whose key ``re.fullmatch``-es the path (``"encoder/.*"`` covers
    every variable under ``encoder``), else ``default_optimizer``. Calling the map with a
    variable looks up its ``path``.

    Args:
        default_optimizer: the optimizer of every variable no key matches.
        optimizer_map: an optional dict of ``{key: optimizer}`` to start with.

    Raises:
        TypeError: when ``default_optimizer`` is not an optimizer or ``optimizer_map``
            not a dict.
        ValueError: on a duplicate or non-string key, a value that is not an
            optimizer (or is a ``LossScaleOptimizer`` / ``MultiOptimizer``), or a
            path that two patterns match.

    Example:
    >>> import lamina
    >>> from lamina import optimizers
    >>> m = optimizers.OptimizerMap(optimizers.RMSprop())
    >>> m["encoder/layer_0/dense"] = optimizers.Adam()
    >>> m["encoder/.*"] = optimizers.SGD()
    >>> [type(m[p]).__name__ for p in ("encoder/layer_0/dense", "encoder/layer_1/query", "decoder/dense")]
    ['Adam', 'SGD', 'RMSprop']
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(f"OptimizerMap: `default_optimizer` must be an Optimizer instance (e.g. "
                            f"lamina.optimizers.Adam()). Received: default_optimizer={default_optimizer!r}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"OptimizerMap: `optimizer_map` must be a dict of {{path or pattern: optimizer}}. "
                            f"Received: optimizer_map={optimizer_map!r}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    @property
    def default_optimizer(self):
        """The optimizer of the variables that no key matches."""
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(f"OptimizerMap: the variable '{key}' matches several keys ({matches}); "
                             "make the patterns exclusive, or add the exact path as a key.")
        return self._optimizer_map[matches[0]] if matches else self._default_optimizer

    def __setitem__(self, key, optimizer):
        if not isinstance(key, str):
            raise ValueError(f"OptimizerMap: a key must be a string (a variable path or a regular expression). "
                             f"Received: key={key!r}")
        if key in self._optimizer_map:
            raise ValueError(f"OptimizerMap: the key '{key}' is already mapped to {self._optimizer_map[key]!r}; "
                             "keys must be unique (delete it first to replace it).")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"OptimizerMap: the value for '{key}' must be an Optimizer instance. "
                             f"Received: {optimizer!r}")
        if isinstance(optimizer, (LossScaleOptimizer, MultiOptimizer)):
            raise ValueError(f"OptimizerMap: the value for '{key}' cannot be a {type(optimizer).__name__}; "
                             "map variables to plain optimizers.")
        try:
            re.compile(key)
        except re.error as e:
            raise ValueError(f"OptimizerMap: the key {key!r} is not a valid regular expression ({e}).") from None
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[variable.path]

    def get_config(self):
        return {"default_optimizer": _serialize(self._default_optimizer),
                "optimizer_map": {k: _serialize(v) for k, v in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config_, custom_objects=None):
        default = _deserialize(config_["default_optimizer"], custom_objects)
        mapping = {k: _deserialize(v, custom_objects) for k, v in (config_.get("optimizer_map") or {}).items()}
        return cls(default, mapping)


class MultiOptimizer(Optimizer):
    """Update each variable with the optimizer that ``optimizer_map`` gives it.

    ``optimizer_map`` is an ``OptimizerMap`` or a callable ``variable -> optimizer``.
    Each inner optimizer is built for its own variables and keeps its own learning
    rate, state and ``iterations``; ``optimizers`` lists them. ``learning_rate`` cannot
    be read or set on the ``MultiOptimizer`` itself (set it on the inner ones).

    Args:
        optimizer_map: an ``OptimizerMap`` or a callable taking a variable and
            returning its optimizer.
        loss_scale_factor: set on every inner optimizer (overriding theirs).
        name: the optimizer's name (default ``"multi_optimizer"``).

    Raises:
        TypeError: when ``optimizer_map`` is neither an ``OptimizerMap`` nor callable.
        ValueError: (at build) when a variable's optimizer is not a plain optimizer.

    Example:
    >>> import lamina
    >>> from lamina import optimizers
    >>> opt = optimizers.MultiOptimizer(optimizers.OptimizerMap(
    ...     optimizers.SGD(learning_rate=0.1), {"fast": optimizers.SGD(learning_rate=1.0)}))
    >>> a, b = lamina.Variable([1.0], name="slow"), lamina.Variable([1.0], name="fast")
    >>> opt.apply([lamina.ops.ones((1,)), lamina.ops.ones((1,))], [a, b])
    >>> [round(float(v.numpy()[0]), 4) for v in (a, b)]
    [0.9, 0.0]
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        if not isinstance(optimizer_map, OptimizerMap) and not callable(optimizer_map):
            hint = (" Wrap a dict as OptimizerMap(default_optimizer, {...})."
                    if isinstance(optimizer_map, dict) else "")
            raise TypeError("MultiOptimizer: `optimizer_map` must be an OptimizerMap or a callable taking a "
                            f"variable and returning its optimizer. Received: {optimizer_map!r}.{hint}")
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self._inner_optimizers = []
        self._inner_orders = {}
        candidates = list(optimizer_map.values()) if isinstance(optimizer_map, OptimizerMap) else []
        candidates.append(getattr(optimizer_map, "default_optimizer", None))
        for opt in candidates:
            if opt is not None:
                self._add_inner(opt)
        self._var_to_optimizer = {}

    def _add_inner(self, opt):
        if not any(o is opt for o in self._inner_optimizers):
            opt.loss_scale_factor = self.loss_scale_factor
            self._inner_optimizers.append(opt)

    def build(self, var_list):
        if self.built:
            return
        var_list = list(var_list)
        assigned = []
        for var in var_list:
            opt = self._optimizer_map(var)
            path = getattr(var, "path", var)
            if not isinstance(opt, Optimizer):
                raise ValueError(f"MultiOptimizer: the optimizer for variable '{path}' must be an Optimizer "
                                 f"instance. Received: {opt!r}")
            if isinstance(opt, (LossScaleOptimizer, MultiOptimizer)):
                raise ValueError(f"MultiOptimizer: the optimizer for variable '{path}' cannot be a "
                                 f"{type(opt).__name__}.")
            self._add_inner(opt)
            assigned.append(opt)
        for opt in self._inner_optimizers:
            own = [v for v, o in zip(var_list, assigned) if o is opt]
            if own:
                opt.build(own)
        self._var_to_optimizer = {id(v): o for v, o in zip(var_list, assigned)}
        super().build(var_list)

    @property
    def optimizers(self):
        """The inner optimizers."""
        return list(self._inner_optimizers)

    @property
    def variables(self):
        """This optimizer's ``iterations`` and learning-rate placeholder, then every inner optimizer's.

        Each inner optimizer's variables come in Keras's order (what a saved file lists).
        """
        from lamina.saving.keras_compat import optimizer_keras_order

        out = list(self._variables)
        for opt in self._inner_optimizers:
            inner = opt.variables
            cached = self._inner_orders.get(id(opt))
            if cached is None or cached[0] != len(inner):
                cached = self._inner_orders[id(opt)] = (len(inner), optimizer_keras_order(opt))
            out.extend(inner[j] for j in cached[1])
        return out

    @property
    def learning_rate(self):
        raise AttributeError("MultiOptimizer has no single learning rate: read it on the inner optimizers "
                             "(`optimizer.optimizers`).")

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError("MultiOptimizer has no single learning rate: set it on the inner optimizers "
                             "(`optimizer.optimizers`).")

    @property
    def loss_scale_factor(self):
        return getattr(self, "_loss_scale_factor", None)

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for opt in getattr(self, "_inner_optimizers", ()):
            opt.loss_scale_factor = value

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    f"{self.name}: when `trainable_variables` is not passed, the optimizer must already be "
                    "built; call `optimizer.build(variables)` first.")
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(f"{self.name}: received {len(grads)} gradients for {len(trainable_variables)} "
                             "variables; pass one gradient per variable.")
        unknown = [v for v in trainable_variables if id(v) not in self._var_to_optimizer]
        if unknown:
            raise ValueError(
                f"{self.name}: unknown variable '{getattr(unknown[0], 'path', unknown[0])}'. The optimizer was "
                "built for a different list of variables; call `optimizer.build(all_trainable_variables)` "
                "with every variable it will update, before training.")
        if all(g is None for g in grads):
            raise ValueError(f"{self.name}: no gradients provided for any variable (all gradients are None). "
                             "Check that the loss depends on the trainable variables.")
        for opt in self._inner_optimizers:
            pairs = [(g, v) for g, v in zip(grads, trainable_variables)
                     if self._var_to_optimizer[id(v)] is opt and g is not None]
            if pairs:
                opt.apply([g for g, _ in pairs], [v for _, v in pairs])
        self._iterations.assign_add(1)

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        from lamina.backend import StatelessScope

        mapping = list(zip(self._trainable_variables, trainable_variables))
        mapping += list(zip(self.variables, optimizer_variables))
        with StatelessScope(mapping) as scope:
            self.apply(grads, self._trainable_variables)
        return ([scope.get_current_value(v) for v in self._trainable_variables],
                [scope.get_current_value(v) for v in self.variables])

    def finalize_variable_values(self, var_list):
        for opt in self._inner_optimizers:
            own = [v for v in var_list if self._var_to_optimizer.get(id(v)) is opt]
            if own:
                opt.finalize_variable_values(own)

    def save_own_variables(self, store):
        for i, v in enumerate(self.variables):
            store[str(i)] = v.numpy()

    def load_own_variables(self, store):
        variables = self.variables
        if len(store.keys()) != len(variables):
            raise ValueError(f"{self.name}: the saved optimizer state has {len(store.keys())} variables, but "
                             f"this optimizer has {len(variables)}. Build it on the same model before loading.")
        for i, v in enumerate(variables):
            v.assign(store[str(i)])

    def get_config(self):
        if isinstance(self._optimizer_map, OptimizerMap):
            spec = _serialize(self._optimizer_map)
        else:  # a function is saved by its (registered) name, never its code
            from lamina.saving.serialization import serialize_function

            spec = serialize_function(self._optimizer_map)
        return {"optimizer_map": spec, "loss_scale_factor": self.loss_scale_factor, "name": self.name}

    @classmethod
    def from_config(cls, config_, custom_objects=None):
        from lamina.saving.serialization import resolve_function

        config_ = dict(config_)
        spec = config_.get("optimizer_map")
        if isinstance(spec, dict) and spec.get("class_name") in ("function", "__lambda__"):
            config_["optimizer_map"] = resolve_function(spec, custom_objects, who="MultiOptimizer's `optimizer_map`")
        elif isinstance(spec, dict):
            config_["optimizer_map"] = _deserialize(spec, custom_objects)
        return cls(**config_)
