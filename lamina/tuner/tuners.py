"""The four tuners: Keras Tuner's arguments, Optuna's samplers and pruner."""

import math
import warnings

from lamina.tuner._deps import optuna
from lamina.tuner.tuner import Tuner


class RandomSearch(Tuner):
    """Random search (Optuna's ``RandomSampler``).

    Example:
    >>> tuner = RandomSearch(build_model, objective="val_loss", max_trials=10, directory="runs",
    ...                      project_name="lr")                                     # doctest: +SKIP
    >>> tuner.search(x, y, epochs=5, validation_data=(xv, yv))                      # doctest: +SKIP
    >>> best = tuner.get_best_models(1)[0]                                          # doctest: +SKIP
    """

    def __init__(self, hypermodel=None, objective=None, max_trials=10, seed=None, **kwargs):
        super().__init__(hypermodel, objective, max_trials=max_trials, seed=seed, **kwargs)

    def _make_sampler(self):
        return optuna().samplers.RandomSampler(seed=self._sampler_seed)


class GridSearch(Tuner):
    """Every combination of the declared values, each once (Optuna's ``GridSampler``).

    The grid comes from builds with default values, and one more for each value of each Int, Choice and
    Boolean (a hyperparameter declared only for some values of another, as ``units_{i}`` for ``i`` in
    ``range(num_layers)``, joins the grid): Int, Choice, Boolean and Fixed enumerate their values; a Float
    needs a ``step``. ``max_trials`` defaults to (and is capped at) the grid's size. Hyperparameters that
    are inactive for some values (a conditional scope, a layer that is not built) are part of the grid all
    the same, so such a grid can repeat an effective configuration.
    """

    def __init__(self, hypermodel=None, objective=None, max_trials=None, seed=None, **kwargs):
        super().__init__(hypermodel, objective, max_trials=max_trials, seed=seed, **kwargs)

    # builds made to discover hyperparameters that only some values declare (at most this many)
    MAX_DISCOVERY_BUILDS = 64

    def _check_space(self, hp):
        space = {s.name: s for s in hp.space}
        self._discover(space)
        self._grid = {name: s.grid_values() for name, s in space.items() if s.kind != "fixed"}
        size = math.prod(len(v) for v in self._grid.values())
        self.max_trials = size if self.max_trials is None else min(self.max_trials, size)

    def _discover(self, space):
        """Add the hyperparameters that appear only for some values of the others (the tutorial's ``units_{i}``
        for ``i in range(num_layers)``, the branches of a ``conditional_scope``): a build for each value of each
        discrete hyperparameter, with the others at their defaults, until no new one appears."""
        from lamina.tuner.hyperparameters import HyperParameters
        from lamina.tuner.tuner import release_memory

        probed, builds, grew = set(), 0, True
        while grew and builds < self.MAX_DISCOVERY_BUILDS:
            grew = False
            for spec in list(space.values()):
                if spec.kind not in ("int", "choice", "boolean"):
                    continue
                for value in spec.grid_values():
                    key = (spec.name, repr(value))
                    if key in probed or builds >= self.MAX_DISCOVERY_BUILDS:
                        continue
                    probed.add(key)
                    probe = HyperParameters.from_values({spec.name: value})
                    builds += 1
                    try:
                        self._build(probe)
                    except Exception:  # noqa: BLE001 - a value the model cannot be built with: its trial fails
                        continue
                    finally:
                        release_memory()
                    for found in probe.space:
                        if found.name not in space:
                            space[found.name] = found
                            grew = True

    def _make_sampler(self):
        return optuna().samplers.GridSampler(self._grid, seed=self._sampler_seed)

    def _closed_space(self):
        return set(self._grid) | {s.name for s in self.hyperparameters.space} if hasattr(self, "_grid") else None


def _gp_sampler(seed, n_startup_trials):
    """Optuna's Gaussian-process sampler, or None when it (or what it needs: PyTorch, SciPy) is missing."""
    opt = optuna()
    cls = getattr(opt.samplers, "GPSampler", None)
    if cls is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", opt.exceptions.ExperimentalWarning)
            return cls(seed=seed, n_startup_trials=n_startup_trials, deterministic_objective=False)
    except ImportError:
        return None


class BayesianOptimization(Tuner):
    """Bayesian optimization with a Gaussian process: Optuna's ``GPSampler`` (Optuna >= 3.6, with PyTorch and
    SciPy installed; log expected improvement), falling back to Optuna's ``TPESampler`` otherwise.
    ``tuner.sampler_name`` says which one runs.

    Args:
        num_initial_points: random trials before the model-based ones (default 3 per tuned hyperparameter).
        alpha, beta: Keras Tuner's GP noise and UCB factor. Optuna's GP learns its noise and uses expected
            improvement, so values other than the defaults only draw a warning.
    """

    def __init__(self, hypermodel=None, objective=None, max_trials=10, num_initial_points=None, alpha=1e-4,
                 beta=2.6, seed=None, **kwargs):
        if num_initial_points is not None and (not isinstance(num_initial_points, int) or num_initial_points < 0):
            raise ValueError(f"BayesianOptimization: `num_initial_points` must be an int >= 0, but received "
                             f"{num_initial_points!r}.")
        if (alpha, beta) != (1e-4, 2.6):
            warnings.warn("BayesianOptimization: alpha and beta have no effect; Optuna's GP sampler fits its "
                          "noise level and uses expected improvement.", stacklevel=2)
        self.num_initial_points = num_initial_points
        super().__init__(hypermodel, objective, max_trials=max_trials, seed=seed, **kwargs)

    def _make_sampler(self):
        n = self.num_initial_points
        if n is None:
            n = 3 * max(1, sum(s.kind != "fixed" for s in self.hyperparameters.space))
        sampler = _gp_sampler(self._sampler_seed, n)
        self.sampler_name = "GPSampler"
        if sampler is None:
            sampler = optuna().samplers.TPESampler(seed=self._sampler_seed, n_startup_trials=n)
            self.sampler_name = "TPESampler"
        return sampler


class Hyperband(Tuner):
    """Hyperband: Optuna's ``HyperbandPruner`` stops weak trials at rungs of ``max_epochs / factor**k`` epochs.

    Every trial's fit runs for up to ``max_epochs`` epochs (the ``epochs`` fit argument is replaced) and
    reports the objective after each epoch; trials are sampled with Optuna's ``TPESampler``. ``max_trials``
    defaults to Keras Tuner's budget: the configurations of ``hyperband_iterations`` Hyperband iterations.
    A stopped trial keeps its best epoch's score and weights, and ranks after the completed trials.
    """

    def __init__(self, hypermodel=None, objective=None, max_epochs=100, factor=3, hyperband_iterations=1,
                 seed=None, max_trials=None, **kwargs):
        for name, v, low in (("max_epochs", max_epochs, 1), ("factor", factor, 2),
                             ("hyperband_iterations", hyperband_iterations, 1)):
            if not isinstance(v, int) or v < low:
                raise ValueError(f"Hyperband: `{name}` must be an int >= {low}, but received {v!r}.")
        self.max_epochs, self.factor, self.hyperband_iterations = max_epochs, factor, hyperband_iterations
        if max_trials is None:
            s_max = int(math.floor(math.log(max_epochs) / math.log(factor) + 1e-9))
            max_trials = hyperband_iterations * sum(
                int(math.ceil((s_max + 1) / (s + 1) * factor ** s)) for s in range(s_max + 1))
        super().__init__(hypermodel, objective, max_trials=max_trials, seed=seed, **kwargs)
        if len(self.objectives) > 1:
            raise ValueError("Hyperband prunes on one objective, but several were given; use RandomSearch or "
                             "BayesianOptimization for a multi-objective search.")
        self._fit_epochs = max_epochs

    def _make_sampler(self):
        return optuna().samplers.TPESampler(seed=self._sampler_seed)

    def _make_pruner(self):
        return optuna().pruners.HyperbandPruner(min_resource=1, max_resource=self.max_epochs,
                                                reduction_factor=self.factor)

    def _make_pruner_active(self):
        return True
