"""The Adam family: Adam (with AMSGrad), AdamW, Adamax and Nadam."""

from lamina import ops
from lamina.optimizers.optimizer import Optimizer


def _step(opt, dtype):
    return ops.cast(opt._update_count() + 1, dtype)


class Adam(Optimizer):
    """Adam: adaptive moment estimation.

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2``,
    ``w -= lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + epsilon)``.

    Args:
        learning_rate: the learning rate (default 0.001) or a schedule.
        beta_1: decay of the first moment (default 0.9).
        beta_2: decay of the second moment (default 0.999).
        epsilon: a small constant for stability (default 1e-7).
        amsgrad: use the maximum of past second moments (AMSGrad).
        name: the optimizer's name (default ``"adam"``).
        **kwargs: the common optimizer arguments (see ``Optimizer``).

    Example:
    >>> import lamina
    >>> w = lamina.Variable([1.0])
    >>> opt = lamina.optimizers.Adam(learning_rate=0.1)
    >>> opt.apply([lamina.ops.convert_to_tensor([2.0])], [w])
    >>> round(float(w.numpy()[0]), 4)
    0.9
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = [self.add_variable_from_reference(v, "momentum") for v in var_list]
        self._velocities = [self.add_variable_from_reference(v, "velocity") for v in var_list]
        self._velocity_hats = [self.add_variable_from_reference(v, "velocity_hat") for v in var_list] \
            if self.amsgrad else []

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        g = ops.cast(gradient, dtype)
        t = _step(self, dtype)
        b1_power = ops.power(ops.cast(self.beta_1, dtype), t)
        b2_power = ops.power(ops.cast(self.beta_2, dtype), t)
        i = self._get_variable_index(variable)
        m, v = self._momentums[i], self._velocities[i]
        alpha = lr * ops.sqrt(1.0 - b2_power) / (1.0 - b1_power)
        new_m = m.value + (g - m.value) * (1.0 - self.beta_1)
        new_v = v.value + (ops.square(g) - v.value) * (1.0 - self.beta_2)
        m.assign(new_m)
        v.assign(new_v)
        if self.amsgrad:
            v_hat = self._velocity_hats[i]
            new_v = ops.maximum(v_hat.value, new_v)
            v_hat.assign(new_v)
        variable.assign(variable.value - (new_m * alpha) / (ops.sqrt(new_v) + self.epsilon))

    def _fused_spec(self):
        if self.amsgrad or type(self).update_step is not Adam.update_step:
            return None
        return {"kind": "adam", "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "momentums": self._momentums, "velocities": self._velocities}

    def get_config(self):
        config_ = super().get_config()
        config_.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon, amsgrad=self.amsgrad)
        return config_


class AdamW(Adam):
    """Adam with decoupled weight decay (default ``weight_decay=0.004``).

    Before each Adam update, ``w -= w * weight_decay * learning_rate``.

    Args:
        learning_rate: the learning rate (default 0.001) or a schedule.
        weight_decay: the decoupled weight decay (default 0.004).
        beta_1, beta_2, epsilon, amsgrad: as in ``Adam``.
        name: the optimizer's name (default ``"adam_w"``, uniquified as Keras: ``"adam_w_1"``...).
        **kwargs: the common optimizer arguments (see ``Optimizer``).

    Example:
    >>> import lamina
    >>> w = lamina.Variable([1.0])
    >>> opt = lamina.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
    >>> opt.apply([lamina.ops.convert_to_tensor([2.0])], [w])
    >>> round(float(w.numpy()[0]), 4)
    0.85
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name=None, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, name=name, weight_decay=weight_decay, **kwargs)


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm.

    ``m = b1 m + (1 - b1) g``, ``u = max(b2 u, |g|)``, ``w -= lr m / ((1 - b1**t)(u + epsilon))``.

    Args:
        learning_rate: the learning rate (default 0.001) or a schedule.
        beta_1: decay of the first moment (default 0.9).
        beta_2: decay of the infinity norm (default 0.999).
        epsilon: a small constant for stability (default 1e-7).
        name: the optimizer's name (default ``"adamax"``).
        **kwargs: the common optimizer arguments (see ``Optimizer``).

    Example:
    >>> import lamina
    >>> w = lamina.Variable([1.0])
    >>> opt = lamina.optimizers.Adamax(learning_rate=0.1)
    >>> opt.apply([lamina.ops.convert_to_tensor([2.0])], [w])
    >>> round(float(w.numpy()[0]), 4)
    0.9
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
        self._m = [self.add_variable_from_reference(v, "momentum") for v in var_list]
        self._u = [self.add_variable_from_reference(v, "norm") for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        g = ops.cast(gradient, dtype)
        b1_power = ops.power(ops.cast(self.beta_1, dtype), _step(self, dtype))
        i = self._get_variable_index(variable)
        m, u = self._m[i], self._u[i]
        new_m = m.value + (g - m.value) * (1.0 - self.beta_1)
        new_u = ops.maximum(self.beta_2 * u.value, ops.abs(g))
        m.assign(new_m)
        u.assign(new_u)
        variable.assign(variable.value - (lr * new_m) / ((1.0 - b1_power) * (new_u + self.epsilon)))

    def get_config(self):
        config_ = super().get_config()
        config_.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config_


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum (Keras's momentum-schedule formulation).

    Args:
        learning_rate: the learning rate (default 0.001) or a schedule.
        beta_1: decay of the first moment (default 0.9).
        beta_2: decay of the second moment (default 0.999).
        epsilon: a small constant for stability (default 1e-7).
        name: the optimizer's name (default ``"nadam"``).
        **kwargs: the common optimizer arguments (see ``Optimizer``).

    Example:
    >>> import lamina
    >>> w = lamina.Variable([1.0])
    >>> opt = lamina.optimizers.Nadam(learning_rate=0.1)
    >>> opt.apply([lamina.ops.convert_to_tensor([2.0])], [w])
    >>> round(float(w.numpy()[0]), 4)
    0.8937
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
        dtype = var_list[0].dtype if var_list else None
        self._u_product = self.add_variable((), initializer=1.0, dtype=dtype, name="u_product")
        self._momentums = [self.add_variable_from_reference(v, "momentum") for v in var_list]
        self._velocities = [self.add_variable_from_reference(v, "velocity") for v in var_list]

    def _backend_update_step(self, grads, variables, learning_rate):
        dtype = self._u_product.dtype
        t = _step(self, dtype)
        u_t = self.beta_1 * (1.0 - 0.5 * ops.power(ops.cast(0.96, dtype), t))
        self._u_product.assign(self._u_product.value * u_t)
        super()._backend_update_step(grads, variables, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        g = ops.cast(gradient, dtype)
        t = _step(self, dtype)
        decay = ops.cast(0.96, dtype)
        u_t = self.beta_1 * (1.0 - 0.5 * ops.power(decay, t))
        u_t_1 = self.beta_1 * (1.0 - 0.5 * ops.power(decay, t + 1.0))
        u_product_t = ops.cast(self._u_product.value, dtype)
        u_product_t_1 = u_product_t * u_t_1
        b2_power = ops.power(ops.cast(self.beta_2, dtype), t)
        i = self._get_variable_index(variable)
        m, v = self._momentums[i], self._velocities[i]
        new_m = m.value + (g - m.value) * (1.0 - self.beta_1)
        new_v = v.value + (ops.square(g) - v.value) * (1.0 - self.beta_2)
        m.assign(new_m)
        v.assign(new_v)
        m_hat = u_t_1 * new_m / (1.0 - u_product_t_1) + (1.0 - u_t) * g / (1.0 - u_product_t)
        v_hat = new_v / (1.0 - b2_power)
        variable.assign(variable.value - (m_hat * lr) / (ops.sqrt(v_hat) + self.epsilon))

    def get_config(self):
        config_ = super().get_config()
        config_.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config_
