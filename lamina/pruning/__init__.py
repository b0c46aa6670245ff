"""Magnitude pruning, in the manner of ``tfmot.sparsity.keras`` (issue #13).

``prune_low_magnitude(model, schedule)`` marks a model; ``fit(..., callbacks=[UpdatePruningStep()])``
prunes it on the schedule (``ConstantSparsity``, ``PolynomialDecay``); ``strip_pruning(model)`` gives
the plain, sparse model; ``get_sparsity(model)`` reports the fraction of zeros per layer.
"""

from lamina.pruning.pruning import (  # noqa: F401
    PruningCallback,
    UpdatePruningStep,
    get_sparsity,
    prune_low_magnitude,
    strip_pruning,
)
from lamina.pruning.schedules import ConstantSparsity, PolynomialDecay, PruningSchedule  # noqa: F401
