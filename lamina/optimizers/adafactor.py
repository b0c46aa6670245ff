"""Adafactor: Adam-like steps with second moments factored into row and column statistics."""

from lamina import ops
from lamina.optimizers._helpers import check_number, local_step
from lamina.optimizers.optimizer import Optimizer


def _rms(x):
    return ops.sqrt(ops.mean(ops.square(x)))


class Adafactor(Optimizer):
    """Adafactor (Shazeer and Stern, 2018): memory-light adaptive steps, as in T5.

    For a variable of rank >= 2 the second moment is kept as two factors: ``r``,
    the running mean of ``g**2 + epsilon_1`` over the last axis, and ``c``, over the
    second-to-last axis; the full estimate is ``v = (r / mean(r)) outer c``. Smaller
    variables keep a plain running mean ``v``. At step ``t`` the running means decay
    by ``beta_2_t = 1 - t ** beta_2_decay``, and

    ``u = g / sqrt(v)``; ``u /= max(1, rms(u) / clip_threshold)``;
    ``w -= max(epsilon_2, rms(w)) * min(learning_rate, 1 / sqrt(t)) * u``.

    As in Keras 3, the step is ``min(learning_rate, 1 / sqrt(t))`` whatever
    ``relative_step`` says (the argument is kept for compatibility).

    Args:
        learning_rate: the learning rate (default 0.001), a schedule or a callable.
        beta_2_decay: the exponent of the second-moment decay schedule, <= 0
            (default -0.8).
        epsilon_1: added to the squared gradients, >= 0 (default 1e-30).
        epsilon_2: the smallest weight scale a step is relative to, >= 0
            (default 1e-3).
        clip_threshold: the update is scaled down to this root mean square,
            > 0 (default 1.0). Independent of ``clipnorm`` and friends.
        relative_step: kept for Keras compatibility (default True).
        name: the optimizer's name (default ``"adafactor"``).
        **kwargs: the common optimizer arguments (see ``Optimizer``).

    Raises:
        ValueError: for an argument out of its range.

    Example:
    >>> import lamina
    >>> w = lamina.Variable([[1.0, 2.0], [3.0, 4.0]])
    >>> opt = lamina.optimizers.Adafactor(learning_rate=0.1)
    >>> opt.apply([lamina.ops.ones((2, 2))], [w])
    >>> [[round(x, 4) for x in row] for row in w.numpy().tolist()]
    [[0.7261, 1.7261], [2.7261, 3.7261]]
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        check_number("Adafactor", "beta_2_decay", beta_2_decay, lambda x: x <= 0, "a float <= 0")
        check_number("Adafactor", "epsilon_1", epsilon_1, lambda x: x >= 0, "a float >= 0")
        check_number("Adafactor", "epsilon_2", epsilon_2, lambda x: x >= 0, "a float >= 0")
        check_number("Adafactor", "clip_threshold", clip_threshold, lambda x: x > 0, "a float > 0")
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._r, self._c, self._v = [], [], []
        # Per variable: r, c (placeholder int32 scalars below rank 2), then the velocity: Keras's
        # order. They share the velocity's name so that a saved file lists them in that order.
        for var in var_list:
            ref = str(getattr(var, "path", None) or var.name).replace("/", "_")
            name = f"{ref}_velocity"
            shape = tuple(var.shape)
            if len(shape) < 2:
                self._r.append(self.add_variable((), initializer=0, dtype="int32", name=name))
                self._c.append(self.add_variable((), initializer=0, dtype="int32", name=name))
            else:
                self._r.append(self.add_variable(shape[:-1], dtype=var.dtype, name=name))
                self._c.append(self.add_variable(shape[:-2] + shape[-1:], dtype=var.dtype, name=name))
            velocity = self.add_variable(shape, dtype=var.dtype, name=name)
            velocity._reference = var  # a distribution lays it out as its variable
            self._v.append(velocity)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        g = ops.cast(gradient, dtype)
        t = local_step(self, dtype)
        i = self._get_variable_index(variable)
        step_size = ops.minimum(lr, 1.0 / ops.sqrt(t))
        scale = ops.maximum(ops.cast(self.epsilon_2, dtype), _rms(variable.value))
        g2 = ops.square(g) + self.epsilon_1
        beta_2_t = 1.0 - ops.power(t, self.beta_2_decay)
        v = self._v[i]
        if len(variable.shape) >= 2:
            r, c = self._r[i], self._c[i]
            new_r = beta_2_t * r.value + (1.0 - beta_2_t) * ops.mean(g2, axis=-1)
            new_c = beta_2_t * c.value + (1.0 - beta_2_t) * ops.mean(g2, axis=-2)
            r.assign(new_r)
            c.assign(new_c)
            row = ops.expand_dims(new_r / ops.mean(new_r, axis=-1, keepdims=True), -1)
            new_v = row * ops.expand_dims(new_c, -2)
        else:
            new_v = beta_2_t * v.value + (1.0 - beta_2_t) * g2
        v.assign(new_v)
        u = g / ops.sqrt(new_v)
        u = u / ops.maximum(ops.cast(1.0, dtype), _rms(u) / self.clip_threshold)
        variable.assign(variable.value - scale * step_size * u)

    def get_config(self):
        config_ = super().get_config()
        config_.update(beta_2_decay=self.beta_2_decay, epsilon_1=self.epsilon_1, epsilon_2=self.epsilon_2,
                       clip_threshold=self.clip_threshold, relative_step=self.relative_step)
        return config_
