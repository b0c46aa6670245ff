"""Dynamic loss scaling for float16 training (Keras's ``LossScaleOptimizer``)."""

from lamina import ops
from lamina.optimizers.optimizer import Optimizer


class LossScaleOptimizer(Optimizer):
    """Wrap ``inner_optimizer`` with dynamic loss scaling.

    The training step multiplies the loss by ``dynamic_scale`` (``scale_loss``) so that
    small float16 gradients do not underflow; ``apply`` divides the gradients by it. When
    any gradient is NaN or infinite the step is skipped (weights, slots and the inner
    ``iterations`` keep their values) and the scale is halved; after
    ``dynamic_growth_steps`` finite steps in a row it is doubled. ``compile`` wraps the
    optimizer in one by itself under the ``"mixed_float16"`` policy.

    Args:
        inner_optimizer: the optimizer that updates the weights.
        initial_scale: the first loss scale (default ``2 ** 15``).
        dynamic_growth_steps: finite steps before the scale doubles (default 2000).

    Example:
    >>> import lamina
    >>> opt = lamina.optimizers.LossScaleOptimizer(lamina.optimizers.SGD(1.0), initial_scale=8.0)
    >>> w = lamina.Variable([1.0])
    >>> opt.build([w])
    >>> opt.apply([lamina.ops.convert_to_tensor([float("inf")])], [w])  # overflow: skipped
    >>> w.numpy().tolist(), float(opt.dynamic_scale.numpy())
    ([1.0], 4.0)
    >>> opt.apply([lamina.ops.convert_to_tensor([4.0])], [w])  # 4 / 4 = 1 after unscaling
    >>> w.numpy().tolist()
    [0.0]
    """

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000, name=None,
                 **kwargs):
        from lamina import optimizers

        inner = optimizers.get(inner_optimizer)
        if isinstance(inner, LossScaleOptimizer):
            raise ValueError("LossScaleOptimizer: the inner optimizer is already a LossScaleOptimizer.")
        if not float(initial_scale) > 0:
            raise ValueError(f"LossScaleOptimizer: initial_scale must be > 0, but received {initial_scale!r}.")
        if not isinstance(dynamic_growth_steps, int) or dynamic_growth_steps < 1:
            raise ValueError(f"LossScaleOptimizer: dynamic_growth_steps must be a positive int, but received "
                             f"{dynamic_growth_steps!r}.")
        kwargs.pop("learning_rate", None)
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        self.inner_optimizer = inner
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = dynamic_growth_steps
        self._variables = []  # the base class's iteration / learning-rate variables are the inner's
        self.step_counter = self.add_variable((), initializer=0, dtype="int64", name="step_counter")
        self.dynamic_scale = self.add_variable((), initializer=self.initial_scale, dtype="float32",
                                               name="dynamic_scale")

    # The learning rate and iteration count are the inner optimizer's.
    iterations = property(lambda self: self.inner_optimizer.iterations)

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    @property
    def variables(self):
        return list(self._variables) + self.inner_optimizer.variables

    def build(self, var_list):
        self.inner_optimizer.build(var_list)
        self._trainable_variables = list(var_list)
        self._var_index = {id(v): i for i, v in enumerate(self._trainable_variables)}
        self.built = True

    def scale_loss(self, loss):
        """The loss times the current scale (what the gradients are taken of)."""
        return loss * ops.cast(self.dynamic_scale.value, ops.dtype(loss))

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if trainable_variables is None:
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        scale = self.dynamic_scale.value
        unscaled = [None if g is None else ops.cast(g, "float32") / scale for g in grads]
        present = [g for g in unscaled if g is not None]
        finite = ops.all(ops.stack([ops.all(ops.isfinite(g)) for g in present])) if present else \
            ops.convert_to_tensor(True)
        # The inner update runs on gradients with the non-finite values zeroed, then every
        # value it touched is put back when the step overflowed. Branch-free, so it is the same
        # computation eagerly (PyTorch) and inside a compiled step (JAX).
        safe = [None if g is None else ops.where(finite, g, ops.zeros_like(g)) for g in unscaled]
        tracked = trainable_variables + self.inner_optimizer.variables
        before = [ops.copy(v.value) for v in tracked]  # copies: PyTorch updates in place
        self.inner_optimizer.apply([None if g is None else ops.cast(g, v.dtype) for g, v in
                                    zip(safe, trainable_variables)], trainable_variables)
        for v, old in zip(tracked, before):
            v.assign(ops.where(finite, v.value, old))
        counter = ops.where(finite, self.step_counter.value + 1, 0)
        grow = ops.greater_equal(counter, self.dynamic_growth_steps)
        new_scale = ops.where(finite, ops.where(grow, scale * 2.0, scale), scale / 2.0)
        self.dynamic_scale.assign(new_scale)
        self.step_counter.assign(ops.where(grow, 0, counter))

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        from lamina.backend import StatelessScope

        mapping = list(zip(self._trainable_variables, trainable_variables)) + list(
            zip(self.variables, optimizer_variables))
        with StatelessScope(mapping) as scope:
            self.apply(grads, self._trainable_variables)
        return ([scope.get_current_value(v) for v in self._trainable_variables],
                [scope.get_current_value(v) for v in self.variables])

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
        from lamina import optimizers

        return {"name": self.name, "inner_optimizer": optimizers.serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config_, custom_objects=None):
        from lamina import optimizers

        config_ = dict(config_)
        config_["inner_optimizer"] = optimizers.deserialize(config_["inner_optimizer"], custom_objects)
        return cls(**config_)
