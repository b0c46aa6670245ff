"""Pruning schedules: when to prune and to what sparsity (as ``tfmot.sparsity.keras``).

A schedule is called with the index of a training step (0 for the first step of the first
``fit``) and returns ``(should_prune, sparsity)``: whether the masks are recomputed after that
step, and the fraction of each pruned weight to set to zero.
"""

import abc
import numbers


def _check_fraction(who, name, value, upper_inclusive=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and 0.0 <= value and (
        value <= 1.0 if upper_inclusive else value < 1.0)
    if not ok:
        bound = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise ValueError(f"{who} expected `{name}` to be a number in {bound}, but received {name}={value!r}.")
    return float(value)


def _check_step(who, name, value, allow_minus_one=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (
            value < 0 and not (allow_minus_one and value == -1)):
        extra = " (or -1 for no end)" if allow_minus_one else ""
        raise ValueError(f"{who} expected `{name}` to be a non-negative int{extra}, but received {name}={value!r}.")
    return int(value)


class PruningSchedule(abc.ABC):
    """Base class: subclasses implement ``__call__(step) -> (should_prune, sparsity)``.

    Args:
        begin_step: first step at which masks are computed.
        end_step: last step at which masks may change (-1: no end). The masks keep being
            applied after it.
        frequency: masks are recomputed every ``frequency`` steps from ``begin_step``.
    """

    def __init__(self, begin_step=0, end_step=-1, frequency=100):
        who = type(self).__name__
        self.begin_step = _check_step(who, "begin_step", begin_step)
        self.end_step = _check_step(who, "end_step", end_step, allow_minus_one=True)
        if isinstance(frequency, bool) or not isinstance(frequency, numbers.Integral) or frequency < 1:
            raise ValueError(f"{who} expected `frequency` to be a positive int, but received "
                             f"frequency={frequency!r}.")
        self.frequency = int(frequency)
        if self.end_step != -1 and self.end_step < self.begin_step:
            raise ValueError(f"{who} expected end_step >= begin_step, but received begin_step={begin_step} "
                             f"and end_step={end_step}.")

    def _should_prune(self, step):
        in_range = step >= self.begin_step and (self.end_step == -1 or step <= self.end_step)
        return in_range and (step - self.begin_step) % self.frequency == 0

    @abc.abstractmethod
    def sparsity(self, step):
        """The target sparsity at ``step``."""

    def __call__(self, step):
        return self._should_prune(step), self.sparsity(step)

    def get_config(self):
        return {"begin_step": self.begin_step, "end_step": self.end_step, "frequency": self.frequency}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ConstantSparsity(PruningSchedule):
    """Prune to a constant ``target_sparsity`` every ``frequency`` steps from ``begin_step``.

    Args:
        target_sparsity: fraction of each pruned weight set to zero, in ``[0, 1)``.
        begin_step, end_step, frequency: see ``PruningSchedule``.

    Example:
    >>> from lamina.pruning import ConstantSparsity
    >>> schedule = ConstantSparsity(0.5, begin_step=10, frequency=5)
    >>> schedule(10), schedule(12), schedule(15)
    ((True, 0.5), (False, 0.5), (True, 0.5))
    """

    def __init__(self, target_sparsity, begin_step=0, end_step=-1, frequency=100):
        super().__init__(begin_step, end_step, frequency)
        self.target_sparsity = _check_fraction("ConstantSparsity", "target_sparsity", target_sparsity)

    def sparsity(self, step):
        return self.target_sparsity

    def get_config(self):
        return {"target_sparsity": self.target_sparsity, **super().get_config()}


class PolynomialDecay(PruningSchedule):
    """Raise the sparsity from ``initial_sparsity`` to ``final_sparsity`` along a polynomial.

    ``sparsity(step) = final + (initial - final) * (1 - p) ** power`` with
    ``p = clip((step - begin_step) / (end_step - begin_step), 0, 1)``: quick pruning first,
    slower near the end, as ``tfmot``'s PolynomialDecay.

    Args:
        initial_sparsity: sparsity at ``begin_step``, in ``[0, 1)``.
        final_sparsity: sparsity from ``end_step`` on, in ``[0, 1)``.
        begin_step: first pruning step.
        end_step: step at which ``final_sparsity`` is reached (required, > begin_step).
        power: exponent of the polynomial (default 3).
        frequency: masks are recomputed every ``frequency`` steps.

    Example:
    >>> from lamina.pruning import PolynomialDecay
    >>> schedule = PolynomialDecay(0.0, 0.8, begin_step=0, end_step=100, frequency=50)
    >>> [(p, round(s, 3)) for p, s in (schedule(0), schedule(50), schedule(100), schedule(150))]
    [(True, 0.0), (True, 0.7), (True, 0.8), (False, 0.8)]
    """

    def __init__(self, initial_sparsity, final_sparsity, begin_step, end_step, power=3, frequency=100):
        super().__init__(begin_step, end_step, frequency)
        who = "PolynomialDecay"
        self.initial_sparsity = _check_fraction(who, "initial_sparsity", initial_sparsity)
        self.final_sparsity = _check_fraction(who, "final_sparsity", final_sparsity)
        if self.end_step == -1 or self.end_step <= self.begin_step:
            raise ValueError(f"{who} expected end_step > begin_step, but received begin_step={begin_step} and "
                             f"end_step={end_step}.")
        if not isinstance(power, numbers.Real) or isinstance(power, bool) or power <= 0:
            raise ValueError(f"{who} expected `power` to be a positive number, but received power={power!r}.")
        self.power = power

    def sparsity(self, step):
        progress = min(max((step - self.begin_step) / (self.end_step - self.begin_step), 0.0), 1.0)
        return self.final_sparsity + (self.initial_sparsity - self.final_sparsity) * (1.0 - progress) ** self.power

    def get_config(self):
        return {"initial_sparsity": self.initial_sparsity, "final_sparsity": self.final_sparsity,
                "begin_step": self.begin_step, "end_step": self.end_step, "power": self.power,
                "frequency": self.frequency}
