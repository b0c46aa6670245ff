"""Stochastic gradient descent with optional (Nesterov) momentum."""

from lamina import ops
from lamina.optimizers.optimizer import Optimizer


class SGD(Optimizer):
    """Gradient descent, with optional momentum and Nesterov momentum.

    Without momentum: ``w -= learning_rate * g``. With momentum:
    ``v = momentum * v - learning_rate * g`` then ``w += v`` (Nesterov:
    ``w += momentum * v - learning_rate * g``).

    Args:
        learning_rate: the learning rate (default 0.01) or a schedule.
        momentum: a float >= 0 (default 0.0).
        nesterov: use Nesterov momentum (default False).
        name: the optimizer's name (default ``"sgd"``, uniquified as Keras: ``"sgd_1"``...).
        **kwargs: the common optimizer arguments (see ``Optimizer``).

    Example:
    >>> import lamina
    >>> w = lamina.Variable([1.0])
    >>> opt = lamina.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.apply([lamina.ops.convert_to_tensor([1.0])], [w])
    >>> round(float(w.numpy()[0]), 4)
    0.71
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        if not isinstance(momentum, (int, float)) or momentum < 0 or momentum > 1:
            raise ValueError(f"SGD: `momentum` must be a float between [0, 1]. Received: momentum={momentum}")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.momentums = [self.add_variable_from_reference(v, "momentum") for v in var_list] \
            if self.momentum != 0 else []

    def _fused_spec(self):
        if type(self).update_step is not SGD.update_step:
            return None
        return {"kind": "sgd", "momentum": self.momentum, "nesterov": self.nesterov,
                "momentums": self.momentums if self.momentum else None}

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        g = ops.cast(gradient, variable.dtype)
        if self.momentum == 0:
            variable.assign(variable.value - g * lr)
            return
        m = self.momentums[self._get_variable_index(variable)]
        new_m = m.value * self.momentum - g * lr
        m.assign(new_m)
        if self.nesterov:
            variable.assign(variable.value + new_m * self.momentum - g * lr)
        else:
            variable.assign(variable.value + new_m)

    def get_config(self):
        config_ = super().get_config()
        config_.update(momentum=self.momentum, nesterov=self.nesterov)
        return config_
