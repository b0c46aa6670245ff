"""Schedule-Free AdamW (Defazio et al., 2024): no learning-rate schedule needed."""

from lamina import ops
from lamina.optimizers._helpers import check_number, local_step
from lamina.optimizers.optimizer import Optimizer


class ScheduleFreeAdamW(Optimizer):
    """Schedule-Free AdamW: Adam steps on one sequence, a running average of it on another.

    Each variable ``y`` (what the model computes with) lies between a sequence ``z``
    (the ``momentum`` slot, which starts at the variable's value and takes the Adam-style
    steps) and ``x``, the uniform average of the ``z``'s: ``y = (1 - beta_1) z + beta_1 x``.
    At step ``t`` (with ``lr`` ramped up linearly over ``warmup_steps``)::

        v = beta_2 v + (1 - beta_2) g**2
        z -= lr * g / (sqrt(v / (1 - beta_2**t)) + epsilon)
        x = (1 - 1/t) x + z / t        (x recovered from y and the previous z)
        y = (1 - beta_1) z + beta_1 x

    Args:
        learning_rate: the learning rate (default 0.0025), a schedule or a callable.
        beta_1: the interpolation between ``z`` and ``x``, in (0, 1] (default 0.9).
        beta_2: the decay of the second moment, in [0, 1) (default 0.999).
        epsilon: a small constant for stability, >= 0 (default 1e-8).
        warmup_steps: steps over which the learning rate grows linearly from 0,
            an int >= 0 (default 0: none).
        name: the optimizer's name (default ``"schedule_free_adam_w"``).
        **kwargs: the common optimizer arguments (see ``Optimizer``).

    Raises:
        ValueError: for an argument out of its range.

    Example:
    >>> import lamina
    >>> w = lamina.Variable([1.0, -1.0])
    >>> opt = lamina.optimizers.ScheduleFreeAdamW(learning_rate=0.1)
    >>> opt.apply([lamina.ops.convert_to_tensor([2.0, -3.0])], [w])
    >>> [round(x, 4) for x in w.numpy().tolist()]
    [0.9, -0.9]
    """

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8, warmup_steps=0,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        check_number("ScheduleFreeAdamW", "beta_1", beta_1, lambda x: 0 < x <= 1, "a float in (0, 1]")
        check_number("ScheduleFreeAdamW", "beta_2", beta_2, lambda x: 0 <= x < 1, "a float in [0, 1)")
        check_number("ScheduleFreeAdamW", "epsilon", epsilon, lambda x: x >= 0, "a float >= 0")
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(f"ScheduleFreeAdamW: `warmup_steps` must be an int >= 0. "
                             f"Received: warmup_steps={warmup_steps!r}")
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        # z starts at the variable's value: read on the host, so building inside a trace is fine.
        self._momentums = [
            self.add_variable_from_reference(
                v, "momentum", initializer=lambda shape, dtype, v=v: ops.cast(ops.convert_to_tensor(v.numpy()),
                                                                                dtype))
            for v in var_list]
        self._velocities = [self.add_variable_from_reference(v, "velocity") for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        g = ops.cast(gradient, dtype)
        t = local_step(self, dtype)
        if self.warmup_steps > 0:
            lr = lr * ops.minimum(t / float(self.warmup_steps), 1.0)
        i = self._get_variable_index(variable)
        z, v = self._momentums[i], self._velocities[i]
        b1, b2 = self.beta_1, self.beta_2
        # x_old from the values before this step (on PyTorch `.value` is the storage, updated in place)
        x_old = (variable.value - (1.0 - b1) * z.value) / b1
        new_v = v.value + (ops.square(g) - v.value) * (1.0 - b2)
        v.assign(new_v)
        denom = ops.sqrt(new_v / (1.0 - ops.power(ops.cast(b2, dtype), t))) + self.epsilon
        new_z = z.value - lr * g / denom
        z.assign(new_z)
        weight = 1.0 / t
        x_new = (1.0 - weight) * x_old + weight * new_z
        variable.assign((1.0 - b1) * new_z + b1 * x_new)

    def get_config(self):
        config_ = super().get_config()
        config_.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                       warmup_steps=self.warmup_steps)
        return config_
