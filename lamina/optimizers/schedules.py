"""Learning-rate schedules (``keras.optimizers.schedules``): functions of the step, on device."""

import math

from lamina import ops
from lamina.losses import _registry


def _f(x):
    return ops.cast(ops.convert_to_tensor(x), "float32")


class LearningRateSchedule:
    """Base class of learning-rate schedules: ``schedule(step) -> learning rate``.

    Subclasses implement ``__call__(step)`` with ``lamina.ops`` (the step may be
    a traced tensor) and ``get_config``.

    Example:
    >>> import lamina
    >>> class Halving(lamina.optimizers.schedules.LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 0.1 * 0.5 ** lamina.ops.cast(step, "float32")
    ...     def get_config(self):
    ...         return {}
    >>> round(float(Halving()(2)), 4)
    0.025
    """

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must implement `__call__(step)`.")

    def get_config(self):
        """Return the constructor arguments as a dict."""
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must implement `get_config()`.")

    @classmethod
    def from_config(cls, config):
        """Create a schedule from ``get_config()``'s dict."""
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (integer division if ``staircase``).

    Args:
        initial_learning_rate: the learning rate at step 0.
        decay_steps: the number of steps per decay (> 0).
        decay_rate: the decay factor.
        staircase: decay in discrete intervals.
        name: the schedule's name.

    Example:
    >>> import lamina
    >>> s = lamina.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> round(float(s(20)), 4)
    0.025
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        if decay_steps <= 0:
            raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = _f(step) / float(self.decay_steps)
        if self.staircase:
            p = ops.floor(p)
        return float(self.initial_learning_rate) * ops.power(_f(self.decay_rate), p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` for steps in ``(boundaries[i-1], boundaries[i]]``.

    Args:
        boundaries: increasing step boundaries.
        values: ``len(boundaries) + 1`` learning rates.
        name: the schedule's name.

    Example:
    >>> import lamina
    >>> s = lamina.optimizers.schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    >>> [round(float(s(t)), 2) for t in (0, 10, 11, 21)]
    [1.0, 1.0, 0.5, 0.1]
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step):
        x = _f(step)
        result = ops.cast(x <= self.boundaries[0], "float32") * float(self.values[0])
        result = result + ops.cast(x > self.boundaries[-1], "float32") * float(self.values[-1])
        for low, high, v in zip(self.boundaries[:-1], self.boundaries[1:], self.values[1:-1]):
            inside = ops.logical_and(x > low, x <= high)
            result = result + ops.cast(inside, "float32") * float(v)
        return result

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps``.

    ``(initial - end) * (1 - step / decay_steps) ** power + end``; with ``cycle``
    the decay restarts with a longer period after each ``decay_steps``.

    Example:
    >>> import lamina
    >>> s = lamina.optimizers.schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)
    >>> [round(float(s(t)), 3) for t in (0, 5, 10, 20)]
    [0.1, 0.05, 0.0, 0.0]
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        if decay_steps <= 0:
            raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        step = _f(step)
        decay_steps = _f(self.decay_steps)
        if self.cycle:
            mult = ops.where(step == 0.0, 1.0, ops.ceil(step / decay_steps))
            decay_steps = decay_steps * mult
        else:
            step = ops.minimum(step, decay_steps)
        frac = step / decay_steps
        start, end = float(self.initial_learning_rate), float(self.end_learning_rate)
        return (start - end) * ops.power(1.0 - frac, _f(self.power)) + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power,
                "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (floored ratio if ``staircase``).

    Example:
    >>> import lamina
    >>> s = lamina.optimizers.schedules.InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)
    >>> round(float(s(2)), 4)
    0.05
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        if decay_steps <= 0:
            raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = _f(step) / float(self.decay_steps)
        if self.staircase:
            p = ops.floor(p)
        return float(self.initial_learning_rate) / (1.0 + float(self.decay_rate) * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay, with an optional linear warmup.

    Without warmup: ``lr * ((1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha)``
    (step capped at ``decay_steps``). With ``warmup_target``, the rate first
    rises linearly from ``initial_learning_rate`` to ``warmup_target`` over
    ``warmup_steps``, then decays from ``warmup_target`` over ``decay_steps``.

    Args:
        initial_learning_rate: the starting learning rate.
        decay_steps: the number of decay steps.
        alpha: the final rate as a fraction of the decayed-from rate.
        name: the schedule's name.
        warmup_target: the rate reached after warmup (None: no warmup).
        warmup_steps: the number of warmup steps.

    Example:
    >>> import lamina
    >>> s = lamina.optimizers.schedules.CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=10)
    >>> [round(float(s(t)), 3) for t in (0, 5, 10, 15, 20)]
    [0.0, 0.05, 0.1, 0.05, 0.0]
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        if decay_steps <= 0:
            raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step, decay_from):
        frac = step / float(self.decay_steps)
        cosine = 0.5 * (1.0 + ops.cos(math.pi * frac))
        return decay_from * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = _f(step)
        initial = float(self.initial_learning_rate)
        if self.warmup_target is None:
            return self._decay(ops.minimum(step, float(self.decay_steps)), initial)
        target, warm = float(self.warmup_target), float(self.warmup_steps)
        step = ops.minimum(step, float(self.decay_steps) + warm)
        warmup = (target - initial) * (step / max(warm, 1.0)) + initial
        decayed = self._decay(step - warm, target)
        return ops.where(step < warm, warmup, decayed)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR).

    Each period decays like ``CosineDecay``; period ``i`` lasts
    ``first_decay_steps * t_mul ** i`` steps and starts at
    ``initial_learning_rate * m_mul ** i``.

    Args:
        initial_learning_rate: the starting learning rate.
        first_decay_steps: the length of the first period.
        t_mul: the period length factor.
        m_mul: the restart learning-rate factor.
        alpha: the minimum rate as a fraction of the initial rate.
        name: the schedule's name.

    Example:
    >>> import lamina
    >>> s = lamina.optimizers.schedules.CosineDecayRestarts(0.1, 10, t_mul=1.0, m_mul=0.5)
    >>> [round(float(s(t)), 3) for t in (0, 5, 10, 15)]
    [0.1, 0.05, 0.05, 0.025]
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        if first_decay_steps <= 0:
            raise ValueError(
                f"Argument `first_decay_steps` must be > 0. Received: first_decay_steps={first_decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        frac = _f(step) / float(self.first_decay_steps)
        t_mul, m_mul = float(self._t_mul), float(self._m_mul)
        if t_mul == 1.0:
            i_restart = ops.floor(frac)
            frac = frac - i_restart
        else:
            i_restart = ops.floor(ops.log(1.0 - frac * (1.0 - t_mul)) / math.log(t_mul))
            sum_r = (1.0 - ops.power(t_mul, i_restart)) / (1.0 - t_mul)
            frac = (frac - sum_r) / ops.power(t_mul, i_restart)
        m_fac = ops.power(m_mul, i_restart)
        cosine = 0.5 * m_fac * (1.0 + ops.cos(math.pi * frac))
        return float(self.initial_learning_rate) * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_TABLE = {c.__name__: c for c in (LearningRateSchedule, ExponentialDecay, PiecewiseConstantDecay,
                                  PolynomialDecay, InverseTimeDecay, CosineDecay, CosineDecayRestarts)}


def serialize(learning_rate_schedule):
    """Return the config dict of a schedule.

    Example:
    >>> import lamina
    >>> lamina.optimizers.schedules.serialize(
    ...     lamina.optimizers.schedules.InverseTimeDecay(0.1, 1, 0.5))["class_name"]
    'InverseTimeDecay'
    """
    return _registry.serialize(learning_rate_schedule, "lamina.optimizers.schedules")


def deserialize(config, custom_objects=None):
    """Create a schedule from ``serialize``'s output.

    Example:
    >>> import lamina
    >>> s = lamina.optimizers.schedules.deserialize(
    ...     {"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1,
    ...      "decay_steps": 10, "decay_rate": 0.5}})
    >>> round(float(s(10)), 3)
    0.05
    """
    return _registry.deserialize(config, _TABLE, "learning rate schedule", custom_objects)
