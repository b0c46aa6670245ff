"""Lion (sign-momentum) and Lamb (layer-wise trust ratio) optimizers."""

from lamina import ops
from lamina.optimizers.optimizer import Optimizer


class Lion(Optimizer):
    """Lion: update by the sign of an interpolated momentum.

    ``w -= lr * sign(b1 m + (1 - b1) g)``; then ``m = b2 m + (1 - b2) g``.

    Args:
        learning_rate: the learning rate (default 0.001) or a schedule.
        beta_1: the interpolation factor for the update (in (0, 1], default 0.9).
        beta_2: the momentum decay (default 0.99).
        name: the optimizer's name (default ``"lion"``).
        **kwargs: the common optimizer arguments (see ``Optimizer``).

    Example:
    >>> import lamina
    >>> w = lamina.Variable([1.0, -1.0])
    >>> opt = lamina.optimizers.Lion(learning_rate=0.1)
    >>> opt.apply([lamina.ops.convert_to_tensor([2.0, -3.0])], [w])
    >>> [round(x, 4) for x in w.numpy().tolist()]
    [0.9, -0.9]
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates to "
                f"SignSGD. Received: beta_1={beta_1}.")
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = [self.add_variable_from_reference(v, "momentum") for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        g = ops.cast(gradient, variable.dtype)
        m = self._momentums[self._get_variable_index(variable)]
        variable.assign(variable.value - lr * ops.sign(m.value * self.beta_1 + g * (1.0 - self.beta_1)))
        m.assign(m.value * self.beta_2 + g * (1.0 - self.beta_2))

    def get_config(self):
        config_ = super().get_config()
        config_.update(beta_1=self.beta_1, beta_2=self.beta_2)
        return config_


class Lamb(Optimizer):
    """Lamb: Adam's update scaled per variable by the trust ratio ``||w|| / ||update||``.

    Args:
        learning_rate: the learning rate (default 0.001) or a schedule.
        beta_1: decay of the first moment (default 0.9).
        beta_2: decay of the second moment (default 0.999).
        epsilon: a small constant for stability (default 1e-7).
        name: the optimizer's name (default ``"lamb"``).
        **kwargs: the common optimizer arguments (see ``Optimizer``).

    Example:
    >>> import lamina
    >>> w = lamina.Variable([3.0, 4.0])
    >>> opt = lamina.optimizers.Lamb(learning_rate=0.1)
    >>> opt.apply([lamina.ops.convert_to_tensor([1.0, 1.0])], [w])
    >>> [round(x, 3) for x in w.numpy().tolist()]
    [2.646, 3.646]
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = [self.add_variable_from_reference(v, "momentum") for v in var_list]
        self._velocities = [self.add_variable_from_reference(v, "velocity") for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        g = ops.cast(gradient, dtype)
        t = ops.cast(self._update_count() + 1, dtype)
        b1_power = ops.power(ops.cast(self.beta_1, dtype), t)
        b2_power = ops.power(ops.cast(self.beta_2, dtype), t)
        i = self._get_variable_index(variable)
        m, v = self._momentums[i], self._velocities[i]
        new_m = m.value + (g - m.value) * (1.0 - self.beta_1)
        new_v = v.value + (ops.square(g) - v.value) * (1.0 - self.beta_2)
        m.assign(new_m)
        v.assign(new_v)
        update = (new_m / (1.0 - b1_power)) / (ops.sqrt(new_v / (1.0 - b2_power)) + self.epsilon)
        w_norm = ops.sqrt(ops.sum(ops.square(variable.value)))
        g_norm = ops.sqrt(ops.sum(ops.square(update)))
        safe_g = ops.where(g_norm > 0, g_norm, ops.ones_like(g_norm))
        ratio = ops.where(ops.logical_and(w_norm > 0, g_norm > 0), w_norm / safe_g, ops.ones_like(w_norm))
        variable.assign(variable.value - lr * ratio * update)

    def get_config(self):
        config_ = super().get_config()
        config_.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config_
