"""Adaptive-rate optimizers: RMSprop, Adagrad, Adadelta and Ftrl."""

from lamina import ops
from lamina.optimizers.optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square of recent gradients.

    ``v = rho v + (1 - rho) g**2``; ``w -= lr g / sqrt(v + epsilon)`` (``centered``
    subtracts the squared running mean gradient from ``v`` first; ``momentum``
    accumulates the increments).

    Args:
        learning_rate: the learning rate (default 0.001) or a schedule.
        rho: the discounting factor (default 0.9).
        momentum: the momentum (default 0.0).
        epsilon: a small constant for stability (default 1e-7).
        centered: normalize by the estimated variance instead of the second moment.
        name: the optimizer's name (default ``"rm_sprop"``, as Keras; uniquified: ``"rm_sprop_1"``...).
        **kwargs: the common optimizer arguments (see ``Optimizer``).

    Example:
    >>> import lamina
    >>> w = lamina.Variable([1.0])
    >>> opt = lamina.optimizers.RMSprop(learning_rate=0.1)
    >>> opt.apply([lamina.ops.convert_to_tensor([2.0])], [w])
    >>> round(float(w.numpy()[0]), 4)
    0.6838
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._velocities = [self.add_variable_from_reference(v, "velocity") for v in var_list]
        self._momentums = [self.add_variable_from_reference(v, "momentum") for v in var_list] \
            if self.momentum > 0 else []
        self._average_gradients = [self.add_variable_from_reference(v, "average_gradient") for v in var_list] \
            if self.centered else []

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        g = ops.cast(gradient, variable.dtype)
        i = self._get_variable_index(variable)
        vel = self._velocities[i]
        rho = self.rho
        new_vel = rho * vel.value + (1.0 - rho) * ops.square(g)
        vel.assign(new_vel)
        if self.centered:
            avg = self._average_gradients[i]
            new_avg = rho * avg.value + (1.0 - rho) * g
            avg.assign(new_avg)
            denominator = new_vel - ops.square(new_avg) + self.epsilon
        else:
            denominator = new_vel + self.epsilon
        increment = lr * g / ops.sqrt(denominator)
        if self.momentum > 0:
            mom = self._momentums[i]
            new_mom = self.momentum * mom.value + increment
            mom.assign(new_mom)
            variable.assign(variable.value - new_mom)
        else:
            variable.assign(variable.value - increment)

    def get_config(self):
        config_ = super().get_config()
        config_.update(rho=self.rho, momentum=self.momentum, epsilon=self.epsilon, centered=self.centered)
        return config_


class Adagrad(Optimizer):
    """Adagrad: per-parameter learning rates scaled by the accumulated squared gradients.

    ``a += g**2``; ``w -= lr g / sqrt(a + epsilon)``.

    Args:
        learning_rate: the learning rate (default 0.001) or a schedule.
        initial_accumulator_value: the starting value of the accumulators (default 0.1).
        epsilon: a small constant for stability (default 1e-7).
        name: the optimizer's name (default ``"adagrad"``).
        **kwargs: the common optimizer arguments (see ``Optimizer``).

    Example:
    >>> import lamina
    >>> w = lamina.Variable([1.0])
    >>> opt = lamina.optimizers.Adagrad(learning_rate=0.1, initial_accumulator_value=0.0)
    >>> opt.apply([lamina.ops.convert_to_tensor([2.0])], [w])
    >>> round(float(w.numpy()[0]), 4)
    0.9
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, name=None,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators = [
            self.add_variable_from_reference(v, "accumulator", initializer=float(self.initial_accumulator_value))
            for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        g = ops.cast(gradient, variable.dtype)
        acc = self._accumulators[self._get_variable_index(variable)]
        new_acc = acc.value + ops.square(g)
        acc.assign(new_acc)
        variable.assign(variable.value - lr * g / ops.sqrt(new_acc + self.epsilon))

    def get_config(self):
        config_ = super().get_config()
        config_.update(initial_accumulator_value=self.initial_accumulator_value, epsilon=self.epsilon)
        return config_


class Adadelta(Optimizer):
    """Adadelta: step sizes from running averages of squared gradients and squared updates.

    Args:
        learning_rate: the learning rate (default 0.001) or a schedule.
        rho: the decay rate (default 0.95).
        epsilon: a small constant for stability (default 1e-7).
        name: the optimizer's name (default ``"adadelta"``).
        **kwargs: the common optimizer arguments (see ``Optimizer``).

    Example:
    >>> import lamina
    >>> w = lamina.Variable([1.0])
    >>> opt = lamina.optimizers.Adadelta(learning_rate=1.0)
    >>> opt.apply([lamina.ops.convert_to_tensor([2.0])], [w])
    >>> round(float(w.numpy()[0]), 4)
    0.9986
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads = [self.add_variable_from_reference(v, "accumulated_grad") for v in var_list]
        self._accumulated_delta_vars = [
            self.add_variable_from_reference(v, "accumulated_delta_var") for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        g = ops.cast(gradient, variable.dtype)
        i = self._get_variable_index(variable)
        acc_g, acc_d = self._accumulated_grads[i], self._accumulated_delta_vars[i]
        rho, eps = self.rho, self.epsilon
        new_acc_g = rho * acc_g.value + (1.0 - rho) * ops.square(g)
        acc_g.assign(new_acc_g)
        delta = -ops.sqrt(acc_d.value + eps) * g / ops.sqrt(new_acc_g + eps)
        acc_d.assign(rho * acc_d.value + (1.0 - rho) * ops.square(delta))
        variable.assign(variable.value + lr * delta)

    def get_config(self):
        config_ = super().get_config()
        config_.update(rho=self.rho, epsilon=self.epsilon)
        return config_


class Ftrl(Optimizer):
    """FTRL-Proximal ("Follow The Regularized Leader"), suited to sparse, wide models.

    Args:
        learning_rate: the learning rate (default 0.001) or a schedule.
        learning_rate_power: <= 0 (default -0.5); how the rate falls during training.
        initial_accumulator_value: >= 0 (default 0.1).
        l1_regularization_strength: >= 0 (default 0.0).
        l2_regularization_strength: >= 0 (default 0.0).
        l2_shrinkage_regularization_strength: >= 0 (default 0.0); a magnitude penalty.
        beta: >= 0 (default 0.0).
        name: the optimizer's name (default ``"ftrl"``).
        **kwargs: the common optimizer arguments (see ``Optimizer``).

    Example:
    >>> import lamina
    >>> w = lamina.Variable([1.0])
    >>> opt = lamina.optimizers.Ftrl(learning_rate=0.1)
    >>> opt.apply([lamina.ops.convert_to_tensor([2.0])], [w])
    >>> round(float(w.numpy()[0]), 4)
    0.7451
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        checks = (("initial_accumulator_value", initial_accumulator_value, "greater than or equal to 0.0"),
                  ("learning_rate_power", -learning_rate_power, "less than or equal to 0.0"),
                  ("l1_regularization_strength", l1_regularization_strength, "greater than or equal to 0.0"),
                  ("l2_regularization_strength", l2_regularization_strength, "greater than or equal to 0.0"),
                  ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength,
                   "greater than or equal to 0.0"))
        for arg, value, what in checks:
            if value < 0.0:
                original = -value if arg == "learning_rate_power" else value
                raise ValueError(f"Ftrl: `{arg}` needs to be {what}. Received: {arg}={original}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators = [
            self.add_variable_from_reference(v, "accumulator", initializer=float(self.initial_accumulator_value))
            for v in var_list]
        self._linears = [self.add_variable_from_reference(v, "linear") for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        g = ops.cast(gradient, variable.dtype)
        i = self._get_variable_index(variable)
        accum, linear = self._accumulators[i], self._linears[i]
        power = -self.learning_rate_power
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        w = variable.value
        grad_to_use = g + 2.0 * self.l2_shrinkage_regularization_strength * w
        new_accum = accum.value + ops.square(g)
        new_linear = linear.value + grad_to_use - (
            ops.power(new_accum, power) - ops.power(accum.value, power)) / lr * w
        linear.assign(new_linear)
        quadratic = ops.power(new_accum, power) / lr + 2.0 * l2
        l1 = self.l1_regularization_strength
        clipped = ops.clip(new_linear, -l1, l1)
        variable.assign((clipped - new_linear) / quadratic)
        accum.assign(new_accum)

    def get_config(self):
        config_ = super().get_config()
        config_.update(
            learning_rate_power=self.learning_rate_power,
            initial_accumulator_value=self.initial_accumulator_value,
            l1_regularization_strength=self.l1_regularization_strength,
            l2_regularization_strength=self.l2_regularization_strength,
            l2_shrinkage_regularization_strength=self.l2_shrinkage_regularization_strength,
            beta=self.beta)
        return config_
