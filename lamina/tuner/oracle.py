"""A read-only, Keras Tuner-shaped view of the Optuna study: ``tuner.oracle.trials``, ``get_best_trials``."""

import math

from lamina.tuner._deps import optuna
from lamina.tuner.hyperparameters import HyperParameters

_STATUS = {"COMPLETE": "COMPLETED", "PRUNED": "STOPPED", "FAIL": "FAILED", "RUNNING": "RUNNING",
           "WAITING": "IDLE"}


class Trial:
    """One trial: ``trial_id``, ``hyperparameters``, ``score``, ``status``, ``metrics``, ``best_step``."""

    def __init__(self, frozen, objectives):
        self.frozen = frozen
        self.trial_id = f"{frozen.number:04d}"
        self.number = frozen.number
        self.status = _STATUS.get(frozen.state.name, frozen.state.name)
        attrs = frozen.user_attrs
        self.hyperparameters = HyperParameters.from_values(attrs.get("hp_values", frozen.params))
        self.hyperparameters.values = dict(attrs.get("hp_values", frozen.params))
        self.metrics = dict(attrs.get("metrics", {}))
        self.best_step = attrs.get("best_step")
        self.objectives = objectives
        values = frozen.values
        if values is None and frozen.value is not None:
            values = [frozen.value]
        self.objective_values = list(values) if values is not None else None
        if self.objective_values is None:
            self.score = None
        elif len(objectives) == 1:
            self.score = self.objective_values[0]
        else:  # several objectives: Keras Tuner's scalar, the sum of the values signed to minimize
            self.score = sum(o.signed(v) for o, v in zip(objectives, self.objective_values))

    def sort_key(self):
        if self.score is None or math.isnan(self.score):
            return math.inf
        if len(self.objectives) == 1:
            return self.objectives[0].signed(self.score)
        return self.score

    def __repr__(self):
        return f"Trial(trial_id={self.trial_id!r}, status={self.status!r}, score={self.score}, " \
               f"hyperparameters={self.hyperparameters.values})"


class Oracle:
    """What Keras Tuner calls the oracle, here a view of the Optuna ``study``."""

    def __init__(self, tuner):
        self._tuner = tuner

    @property
    def study(self):
        return self._tuner.study

    @property
    def objective(self):
        objs = self._tuner.objectives
        return objs[0] if len(objs) == 1 else objs

    @property
    def max_trials(self):
        return self._tuner.max_trials

    @property
    def trials(self):
        """``{trial_id: Trial}`` for every trial in the study, in creation order."""
        objs = self._tuner.objectives
        return {t.trial_id: t for t in (Trial(f, objs) for f in self.study.get_trials(deepcopy=False))}

    def get_trial(self, trial_id):
        return self.trials[trial_id]

    def get_best_trials(self, num_trials=1):
        """The best finished trials: completed ones first by score, then stopped (pruned) ones."""
        trials = list(self.trials.values())
        done = sorted((t for t in trials if t.status == "COMPLETED" and t.score is not None), key=Trial.sort_key)
        stopped = sorted((t for t in trials if t.status == "STOPPED" and t.score is not None), key=Trial.sort_key)
        return (done + stopped)[:num_trials]

    @property
    def remaining_trials(self):
        states = optuna().trial.TrialState
        done = sum(t.state in (states.COMPLETE, states.PRUNED) for t in self.study.get_trials(deepcopy=False))
        return max(0, self.max_trials - done)
