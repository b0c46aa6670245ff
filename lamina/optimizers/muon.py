"""Muon: momentum orthogonalized by Newton-Schulz iterations, with AdamW for the other variables."""

import re

from lamina import ops
from lamina.optimizers._helpers import check_number, local_step
from lamina.optimizers.optimizer import Optimizer


class Muon(Optimizer):
    """Muon (MomentUm Orthogonalized by Newton-schulz) for 2-D weights; AdamW for the rest.

    A 2-D variable (a ``Dense`` kernel, say) takes the Muon step: ``m = momentum * m + g``,
    the update direction ``momentum * m + g`` (Nesterov) or ``m`` is replaced by an
    approximately orthogonal matrix with ``ns_steps`` Newton-Schulz iterations
    (coefficients ``muon_a, muon_b, muon_c``), scaled by ``sqrt(max(rows, cols)) * rms_rate``
    (Moonlight; ``rms_rate=None``: unscaled), and ``w -= learning_rate * update``.

    The AdamW step (learning rate ``learning_rate * adam_lr_ratio``, decays
    ``adam_beta_1``, ``adam_beta_2``) is used for variables that are not 2-D, whose path
    contains ``"embedding"`` (when ``exclude_embeddings``), or whose path matches one of
    the regular expressions in ``exclude_layers`` (typically the output layer's name).

    Decoupled weight decay is ``weight_decay`` on Muon variables, ``adam_weight_decay``
    on AdamW ones.

    Args:
        learning_rate: the learning rate (default 0.001), a schedule or a callable.
        adam_beta_1: AdamW's first-moment decay (default 0.9).
        adam_beta_2: AdamW's second-moment decay (default 0.999).
        adam_weight_decay: the weight decay of AdamW variables (default 0.004; None: none).
        epsilon: AdamW's stability constant (default 1e-7).
        weight_decay: the weight decay of Muon variables (default 0.004; None: none).
        exclude_layers: regular expressions; variables whose path matches one use AdamW.
        exclude_embeddings: variables with ``"embedding"`` in their path use AdamW
            (default True).
        muon_a, muon_b, muon_c: the Newton-Schulz coefficients (defaults 3.4445,
            -4.7750, 2.0315).
        adam_lr_ratio: AdamW's learning rate over Muon's (default 1).
        momentum: Muon's momentum (default 0.95).
        ns_steps: the number of Newton-Schulz iterations, an int >= 0 (default 5).
        nesterov: use Nesterov momentum (default True).
        rms_rate: the Moonlight update scale (default 0.2; None: no scaling).
        name: the optimizer's name (default ``"muon"``).
        **kwargs: the common optimizer arguments (see ``Optimizer``).

    Raises:
        ValueError: for an argument of the wrong type or out of its range.

    Example:
    >>> import lamina
    >>> w = lamina.Variable([[1.0, 0.0], [0.0, 1.0]])
    >>> opt = lamina.optimizers.Muon(learning_rate=0.1, weight_decay=None)
    >>> opt.apply([lamina.ops.convert_to_tensor([[2.0, 0.0], [0.0, 2.0]])], [w])
    >>> [[round(x, 3) for x in row] for row in w.numpy().tolist()]
    [[0.969, 0.0], [0.0, 0.969]]
    """

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999, adam_weight_decay=0.004,
                 epsilon=1e-7, weight_decay=0.004, exclude_layers=None, exclude_embeddings=True,
                 muon_a=3.4445, muon_b=-4.7750, muon_c=2.0315, adam_lr_ratio=1, momentum=0.95, ns_steps=5,
                 nesterov=True, rms_rate=0.2, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs)
        for arg, value in (("adam_beta_1", adam_beta_1), ("adam_beta_2", adam_beta_2)):
            check_number("Muon", arg, value, lambda x: 0 <= x < 1, "a float in [0, 1)")
        check_number("Muon", "momentum", momentum, lambda x: 0 <= x <= 1, "a float in [0, 1]")
        check_number("Muon", "epsilon", epsilon, lambda x: x >= 0, "a float >= 0")
        check_number("Muon", "adam_lr_ratio", adam_lr_ratio, lambda x: x >= 0, "a float >= 0")
        for arg, value in (("muon_a", muon_a), ("muon_b", muon_b), ("muon_c", muon_c)):
            check_number("Muon", arg, value, lambda x: True, "a float")
        if adam_weight_decay is not None:
            check_number("Muon", "adam_weight_decay", adam_weight_decay, lambda x: x >= 0, "a float >= 0 or None")
        if rms_rate is not None:
            check_number("Muon", "rms_rate", rms_rate, lambda x: x > 0, "a float > 0 or None")
        if isinstance(ns_steps, bool) or not isinstance(ns_steps, int) or ns_steps < 0:
            raise ValueError(f"Muon: `ns_steps` must be an int >= 0. Received: ns_steps={ns_steps!r}")
        if isinstance(exclude_layers, str) or not all(isinstance(k, str) for k in exclude_layers or ()):
            raise ValueError("Muon: `exclude_layers` must be a list of strings (regular expressions matched "
                             f"against variable paths). Received: exclude_layers={exclude_layers!r}")
        for keyword in exclude_layers or ():
            try:
                re.compile(keyword)
            except re.error as e:
                raise ValueError(f"Muon: `exclude_layers` holds {keyword!r}, which is not a valid regular "
                                 f"expression ({e}).") from None
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.adam_weight_decay = adam_weight_decay
        self.epsilon = epsilon
        self.exclude_layers = list(exclude_layers or [])
        self.exclude_embeddings = exclude_embeddings
        self.muon_a = muon_a
        self.muon_b = muon_b
        self.muon_c = muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.rms_rate = rms_rate

    def _should_use_adamw(self, variable):
        """Whether ``variable`` takes the AdamW step (not 2-D, an embedding, or excluded)."""
        if len(variable.shape) != 2:
            return True
        path = str(getattr(variable, "path", None) or variable.name)
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.momentums, self.adam_velocities = [], []
        for v in var_list:  # momentum then (AdamW only) velocity, variable by variable, as Keras
            self.momentums.append(self.add_variable_from_reference(v, "momentum"))
            self.adam_velocities.append(
                self.add_variable_from_reference(v, "velocity") if self._should_use_adamw(v) else None)

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        m, v = self.momentums[i], self.adam_velocities[i]
        if v is None:
            self._muon_update_step(gradient, variable, learning_rate, m)
        else:
            self._adamw_update_step(gradient, variable, learning_rate * self.adam_lr_ratio, m, v)

    def _muon_update_step(self, gradient, variable, learning_rate, m):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        g = ops.cast(gradient, dtype)
        new_m = m.value + (g + m.value * (self.momentum - 1.0))
        m.assign(new_m)
        direction = g + self.momentum * new_m if self.nesterov else new_m
        update = lr * self.zeropower_via_newtonschulz5(direction, self.ns_steps)
        if self.rms_rate is not None:
            rows, cols = variable.shape
            update = update * (float(max(rows, cols)) ** 0.5 * self.rms_rate)
        variable.assign(variable.value - update)

    def _adamw_update_step(self, gradient, variable, learning_rate, m, v):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        g = ops.cast(gradient, dtype)
        t = local_step(self, dtype)
        b1_power = ops.power(ops.cast(self.adam_beta_1, dtype), t)
        b2_power = ops.power(ops.cast(self.adam_beta_2, dtype), t)
        alpha = lr * ops.sqrt(1.0 - b2_power) / (1.0 - b1_power)
        new_m = m.value + (g - m.value) * (1.0 - self.adam_beta_1)
        new_v = v.value + (ops.square(g) - v.value) * (1.0 - self.adam_beta_2)
        m.assign(new_m)
        v.assign(new_v)
        variable.assign(variable.value - (new_m * alpha) / (ops.sqrt(new_v) + self.epsilon))

    def zeropower_via_newtonschulz5(self, x, steps):
        """Approximately orthogonalize the last two axes of ``x`` (quintic Newton-Schulz iterations)."""
        shape = ops.shape(x)
        if len(shape) < 2:
            raise ValueError(f"Muon: the Newton-Schulz iteration needs a tensor of rank >= 2. "
                             f"Received: shape={tuple(shape)}")
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = shape[-2] > shape[-1]
        if tall:
            x = ops.swapaxes(x, -1, -2)
        x = x / (ops.norm(x, axis=(-2, -1), keepdims=True) + 1e-7)  # spectral norm <= 1
        for _ in range(steps):
            gram = ops.matmul(x, ops.swapaxes(x, -1, -2))
            poly = b * gram + c * ops.matmul(gram, gram)
            x = a * x + ops.matmul(poly, x)
        if tall:
            x = ops.swapaxes(x, -1, -2)
        return x

    def _apply_weight_decay(self, variables):
        lr = None
        for variable in variables:
            if not self._use_weight_decay(variable):
                continue
            decay = self.adam_weight_decay if self._should_use_adamw(variable) else self.weight_decay
            if decay is None:
                continue
            if lr is None:
                lr = self._current_learning_rate()
            wd_lr = ops.cast(lr, variable.dtype) * ops.cast(decay, variable.dtype)
            variable.assign(variable.value - variable.value * wd_lr)

    def get_config(self):
        config_ = super().get_config()
        config_.update(
            adam_beta_1=self.adam_beta_1, adam_beta_2=self.adam_beta_2, epsilon=self.epsilon,
            exclude_layers=list(self.exclude_layers), muon_a=self.muon_a, muon_b=self.muon_b,
            muon_c=self.muon_c, adam_lr_ratio=self.adam_lr_ratio, momentum=self.momentum,
            ns_steps=self.ns_steps, nesterov=self.nesterov, exclude_embeddings=self.exclude_embeddings,
            adam_weight_decay=self.adam_weight_decay, rms_rate=self.rms_rate)
        return config_
