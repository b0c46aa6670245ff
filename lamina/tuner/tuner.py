"""``Tuner``: the search loop shared by every tuner, on an Optuna study kept in ``directory/project_name``."""

import json
import math
import os
import shutil
import time
import warnings

from lamina.tuner import display, runner
from lamina.tuner._deps import optuna
from lamina.tuner.errors import FailedTrialError, FatalError
from lamina.tuner.hypermodel import as_hypermodel
from lamina.tuner.hyperparameters import HyperParameters
from lamina.tuner.objective import to_objectives
from lamina.tuner.oracle import Oracle
from lamina.tuner.storage import HostLock, make_storage, open_study

WEIGHTS_FILE = "checkpoint.weights.h5"


def release_memory():
    """Drop a finished trial's model and compiled functions before the next trial.

    Collects the trial's objects (model, optimizer, compiled steps), then asks the engine to drop
    the compiled executables it caches process-wide, which would otherwise outlive the model.
    """
    from lamina import utils

    utils.clear_session(free_memory=True)  # name counters, a collection, the engine's compiled-function caches


class Tuner:
    """Base class of the tuners: searches ``hypermodel``'s space with an Optuna sampler (and pruner).

    Args:
        hypermodel: a ``HyperModel`` or a function ``build_model(hp)`` returning a compiled model.
        objective: a metric name (direction inferred: ``"val_loss"`` -> min, ``"val_accuracy"`` -> max), an
            ``Objective``, or a list of them (several objectives: an Optuna multi-objective study; the best
            trials are ranked by the sum of the values signed to minimize, as in Keras Tuner).
        max_trials: how many trials the search completes, counted over every process sharing the study.
        seed: seed of the sampler.
        hyperparameters: a ``HyperParameters`` whose declarations override (or, with ``Fixed``, pin) ``build``'s.
        tune_new_entries: whether hyperparameters not in ``hyperparameters`` are tuned (else use defaults).
        allow_new_entries: whether ``build`` may declare hyperparameters not in ``hyperparameters``.
        max_retries_per_trial: how many times a failed trial is retried with the same values.
        max_consecutive_failed_trials: the search stops with an error after this many failures in a row.
        executions_per_trial: fits per trial (fresh model each); the objective is averaged.
        directory, project_name: the study and trial folders live in ``directory/project_name``.
        overwrite: start over (delete the project folder) instead of resuming the stored study.
        storage: optional database URL (``postgresql://...``) or Optuna storage, for several machines.
        heartbeat_interval, grace_period: seconds; a RUNNING trial whose process has sent no heartbeat for
            ``grace_period`` seconds is failed and re-queued with the same hyperparameters.
        optimizer, loss, metrics: when given, every built model is (re)compiled with them.
    """

    sampler_name = None

    def __init__(self, hypermodel=None, objective=None, max_trials=10, seed=None, hyperparameters=None,
                 tune_new_entries=True, allow_new_entries=True, max_retries_per_trial=0,
                 max_consecutive_failed_trials=3, executions_per_trial=1, directory=None, project_name=None,
                 overwrite=False, storage=None, heartbeat_interval=5, grace_period=None, optimizer=None,
                 loss=None, metrics=None, tuner_id=None, logger=None, max_model_size=None,
                 distribution_strategy=None):
        if hypermodel is None:
            raise ValueError("A tuner needs a hypermodel: a HyperModel or a function build_model(hp).")
        if distribution_strategy is not None:
            raise ValueError("distribution_strategy (a tf.distribute object) is not supported by lamina.tuner; "
                             "use lamina.distribution, or run several search processes on one study.")
        self.hypermodel = as_hypermodel(hypermodel)
        self.objectives = to_objectives(objective)
        for name, v in (("max_consecutive_failed_trials", max_consecutive_failed_trials),
                        ("executions_per_trial", executions_per_trial)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{type(self).__name__}: `{name}` must be a positive int, but received {v!r}.")
        if max_trials is not None and (not isinstance(max_trials, int) or max_trials < 1):
            raise ValueError(f"{type(self).__name__}: `max_trials` must be a positive int, but received "
                             f"{max_trials!r}.")
        self.max_trials = max_trials
        self.seed = seed
        self.max_retries_per_trial = max_retries_per_trial
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        self.executions_per_trial = executions_per_trial
        self.directory = directory or "."
        self.project_name = project_name or "untitled_project"
        self.tuner_id = tuner_id or f"tuner-{os.getpid()}"
        self.logger = logger
        self.max_model_size = max_model_size
        self._compile = {k: v for k, v in (("optimizer", optimizer), ("loss", loss), ("metrics", metrics))
                         if v is not None}
        self._given_hp = hyperparameters
        self._tune_new, self._allow_new = tune_new_entries, allow_new_entries
        self._fit_epochs = None  # Hyperband sets the epochs of every fit

        self.project_dir = os.path.join(self.directory, self.project_name)
        if overwrite and os.path.exists(self.project_dir) and storage is None:
            shutil.rmtree(self.project_dir)
        os.makedirs(self.project_dir, exist_ok=True)
        self._lock = HostLock(os.path.join(self.project_dir, "tuner.lock"))
        # Discover the search space from one build with default values.
        self.hyperparameters = self._new_hp()
        self._build(self.hyperparameters)
        release_memory()
        self._check_space(self.hyperparameters)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna().exceptions.ExperimentalWarning)
            with self._lock.held():
                self._storage = make_storage(self.project_dir, storage, heartbeat_interval, grace_period,
                                             max_retry=max(1, max_retries_per_trial))
                if overwrite and storage is not None:
                    try:
                        optuna().delete_study(study_name=self.project_name, storage=self._storage)
                    except KeyError:
                        pass
                self.study = open_study(self._storage, self.project_name, self.objectives,
                                        optuna().samplers.RandomSampler(), self._make_pruner())
                # Each opening of the study (a resumed search, a second process) draws from its own random
                # stream, so that it does not replay the samples of the first; the first opening uses `seed`.
                openings = self.study.user_attrs.get("lamina_openings", 0)
                self.study.set_user_attr("lamina_openings", openings + 1)
                self._sampler_seed = None if seed is None else (seed + 1_000_003 * openings) % 2**32
                self.study.sampler = self._make_sampler()
        self.oracle = Oracle(self)

    # ---- what subclasses choose ------------------------------------------------------------------

    def _make_sampler(self):
        raise TypeError(f"{type(self).__name__} must choose an Optuna sampler (_make_sampler).")

    def _make_pruner(self):
        return None

    def _check_space(self, hp):
        """Validate the discovered space for this tuner (GridSearch needs finite values)."""

    # ---- building --------------------------------------------------------------------------------

    def _new_hp(self, trial=None):
        hp = HyperParameters._for_trial(trial) if trial is not None else HyperParameters()
        if self._given_hp is not None:
            for spec in self._given_hp.space:
                hp._space[spec.name] = spec
                if spec.kind == "fixed":
                    hp._preset[spec.name] = spec.config["value"]
            hp._known, hp._tune_new, hp._allow_new = set(hp._space), self._tune_new, self._allow_new
        hp._closed = self._closed_space()
        return hp

    def _closed_space(self):
        return None

    def _build(self, hp):
        model = self.hypermodel.build(hp)
        if model is None or not hasattr(model, "fit"):
            raise FatalError(f"build(hp) must return a compiled model, but returned {model!r}.")
        if self._compile:
            overrides = dict(self._compile)
            opt = overrides.get("optimizer")
            if opt is not None and not isinstance(opt, str):
                # a fresh optimizer for every model, as Keras Tuner: one instance holds one model's variables
                # (reusing it failed every trial after the first)
                overrides["optimizer"] = type(opt).from_config(opt.get_config())
            model.compile(**overrides)
        if self.max_model_size is not None and getattr(model, "built", False):
            size = model.count_params()
            if size > self.max_model_size:
                raise FailedTrialError(f"The model has {size} parameters, over max_model_size="
                                       f"{self.max_model_size}.")
        return model

    # ---- the search ------------------------------------------------------------------------------

    def get_trial_dir(self, trial_id):
        return os.path.join(self.project_dir, f"trial_{trial_id}")

    def _counts(self):
        states = optuna().trial.TrialState
        trials = self.study.get_trials(deepcopy=False)
        done = sum(t.state in (states.COMPLETE, states.PRUNED) for t in trials)
        running = sum(t.state == states.RUNNING for t in trials)
        return done, running

    def search(self, *fit_args, **fit_kwargs):
        """Run trials until the study holds ``max_trials`` finished trials; arguments go to ``model.fit``.

        ``verbose`` (default 1, also passed to ``fit``): when >= 1, before each trial a table of its
        hyperparameters beside the best trial's, and after it its duration, objective value, the best value
        so far and the total time; 0 prints nothing. ``callbacks`` are deep-copied for every trial (as in
        Keras Tuner), so they never keep a trial's model; a ``TensorBoard`` copy writes to
        ``<log_dir>/<trial_id>`` (``.../execution<k>`` with several executions per trial) and records the
        trial's hyperparameters there (TensorBoard's HParams and a text table). Each trial's model and
        compiled functions are released before the next, so memory does not grow with the trials.
        """
        verbose = fit_kwargs.get("verbose", 1)
        self._verbose, self._search_start = verbose, time.time()
        opt = optuna()
        consecutive_failures, last_error = 0, None
        self.on_search_begin()
        while True:
            self._lock.acquire()
            started = wait = released = False
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", opt.exceptions.ExperimentalWarning)
                    opt.storages.fail_stale_trials(self.study)
                done, running = self._counts()
                if done >= self.max_trials:
                    break
                if done + running >= self.max_trials:
                    wait = True  # the remaining trials run in other processes: wait for them (or their death)
                else:
                    wait, started, t0 = False, True, time.time()
                    self.study.optimize(lambda t: self._run_trial(t, fit_args, fit_kwargs), n_trials=1,
                                        catch=())
                    released = True  # _run_trial released each fit's model
                    consecutive_failures, last_error = 0, None  # (an error's traceback holds its trial's model)
                    self._report(verbose, t0)
            except opt.TrialPruned:
                consecutive_failures = 0
            except FatalError:
                raise
            except Exception as e:  # noqa: BLE001 - a failed trial; the search goes on
                if not started:
                    raise
                consecutive_failures, last_error = consecutive_failures + 1, e
                if verbose:
                    print(f"Trial {getattr(self, '_last_trial_number', -1) + 1} failed: {type(e).__name__}: {e}")
                self._maybe_retry()
                if consecutive_failures >= self.max_consecutive_failed_trials:
                    raise RuntimeError(f"Number of consecutive failures exceeded the limit of "
                                       f"{self.max_consecutive_failed_trials}. The last one: "
                                       f"{type(last_error).__name__}: {last_error}") from last_error
            finally:
                self._lock.release()
                if started and not released:  # a trial that raised: release what it left
                    release_memory()
            if wait:
                time.sleep(0.5)
        self.on_search_end()

    def _my_last_trial(self):
        return self.study.get_trials(deepcopy=False)[self._last_trial_number]

    def _maybe_retry(self):
        last = self._my_last_trial()
        retries = last.user_attrs.get("retries", 0)
        if last.state.name == "FAIL" and retries < self.max_retries_per_trial:
            self.study.enqueue_trial(last.params, user_attrs={"retries": retries + 1})

    def _run_trial(self, trial, fit_args, fit_kwargs):
        self._lock.release()  # the trial exists (RUNNING): other processes may count it and start theirs
        self._last_trial_number = trial.number
        opt = optuna()
        trial_id = f"{trial.number:04d}"
        trial_dir = self.get_trial_dir(trial_id)
        os.makedirs(trial_dir, exist_ok=True)
        self.on_trial_begin(trial)
        hp = self._new_hp(trial)
        results, pruned = [], False
        for execution in range(self.executions_per_trial):
            model = self._build(hp)
            if execution == 0:
                trial.set_user_attr("hp_values", runner.jsonable(hp.values))
                if getattr(self, "_verbose", 0):
                    best = self.oracle.get_best_trials(1)
                    display.print_trial_start(trial.number + 1, hp.values,
                                              best[0].hyperparameters.values if best else None)
            path = os.path.join(trial_dir, f"execution{execution}.weights.h5")
            tracker = runner.TrialTracker(self.objectives, path, trial if self._make_pruner_active() and
                                          execution == 0 else None)
            kwargs = dict(fit_kwargs)
            log_subdir = trial_id if self.executions_per_trial == 1 else os.path.join(trial_id,
                                                                                     f"execution{execution}")
            callbacks, log_dirs = runner.trial_callbacks(kwargs.get("callbacks"), log_subdir)
            kwargs["callbacks"] = callbacks + [tracker]
            if self._fit_epochs is not None:
                kwargs["epochs"] = self._fit_epochs
            result = self.hypermodel.fit(hp, model, *fit_args, **kwargs)
            trial.set_user_attr("hp_values", runner.jsonable(hp.values))  # with the hyperparameters fit declared
            for log_dir in log_dirs:
                runner.write_hparams(log_dir, trial_id, runner.jsonable(hp.values))
            for cb in callbacks:
                if getattr(cb, "model", None) is model:  # a callback used as it is (not copyable)
                    cb.model = None
            values, metrics, best_step = runner.score_result(self.objectives, result, tracker, model)
            pruned = pruned or tracker.pruned
            results.append((values, metrics, best_step, path))
            if getattr(model, "built", False) and hasattr(model, "get_build_config"):
                trial.set_user_attr("build_config", runner.jsonable(model.get_build_config()))
            del model, result, tracker, callbacks, kwargs
            release_memory()
            if pruned:
                break
        n = len(results)
        values = [sum(r[0][i] for r in results) / n for i in range(len(self.objectives))]
        keys = set.intersection(*(set(r[1]) for r in results))
        metrics = {k: sum(r[1][k] for r in results) / n for k in sorted(keys)}
        best = min(results, key=lambda r: runner.scalar(self.objectives, r[0]))
        os.replace(best[3], os.path.join(trial_dir, WEIGHTS_FILE))
        for r in results:
            if os.path.exists(r[3]):
                os.remove(r[3])
        trial.set_user_attr("metrics", metrics)
        trial.set_user_attr("best_step", best[2])
        with open(os.path.join(trial_dir, "trial.json"), "w") as f:
            json.dump({"trial_id": trial_id, "hyperparameters": runner.jsonable(hp.values), "metrics": metrics,
                       "score": values if len(values) > 1 else values[0], "best_step": best[2],
                       "status": "STOPPED" if pruned else "COMPLETED"}, f, indent=1)
        self.on_trial_end(trial)
        if any(math.isnan(v) for v in values):
            raise FailedTrialError("the objective is NaN")
        if pruned:
            raise opt.TrialPruned(f"stopped at a Hyperband rung (best {self.objectives[0].name}: {values[0]:.6g})")
        return values[0] if len(values) == 1 else values

    def _make_pruner_active(self):
        return False

    def _report(self, verbose, t0):
        if not verbose:
            return
        last = self._my_last_trial()
        best = self.oracle.get_best_trials(1)
        display.print_trial_end(last.number + 1, "STOPPED" if last.state.name == "PRUNED" else "COMPLETED",
                                time.time() - t0, self.objectives, last.values, best[0].score if best else None,
                                time.time() - self._search_start)

    # ---- hooks (override in a subclass) ----------------------------------------------------------

    def on_search_begin(self):
        pass

    def on_search_end(self):
        pass

    def on_trial_begin(self, trial):
        pass

    def on_trial_end(self, trial):
        pass

    # ---- results ---------------------------------------------------------------------------------

    @property
    def trials(self):
        """``{trial_id: Trial}``, as ``tuner.oracle.trials``."""
        return self.oracle.trials

    @property
    def remaining_trials(self):
        return self.oracle.remaining_trials

    def get_best_hyperparameters(self, num_trials=1):
        """The ``HyperParameters`` of the best ``num_trials`` trials, best first."""
        return [t.hyperparameters for t in self.oracle.get_best_trials(num_trials)]

    def load_model(self, trial):
        """Rebuild ``trial``'s model and load its best-epoch weights."""
        hp = self._new_hp()
        hp._preset = dict(trial.hyperparameters.values)
        model = self._build(hp)
        build_config = trial.frozen.user_attrs.get("build_config")
        if not getattr(model, "built", True) and build_config and hasattr(model, "build_from_config"):
            model.build_from_config(build_config)
        model.load_weights(os.path.join(self.get_trial_dir(trial.trial_id), WEIGHTS_FILE))
        return model

    def get_best_models(self, num_models=1):
        """The best ``num_models`` models, best first, with each trial's best-epoch weights."""
        return [self.load_model(t) for t in self.oracle.get_best_trials(num_models)]

    def plot_history(self, path=None, ax=None, figsize=None):
        """Plot the search: each finished trial's score and the best score so far, by trial number.

        Needs matplotlib (imported only here). Trials stopped early by Hyperband are drawn with
        crosses; the best-so-far line follows the completed trials. With several objectives the
        score is Keras Tuner's sum of the values signed to minimize.

        Args:
            path: when given, the figure is also written to this file (format from its extension, e.g. PNG).
            ax: a matplotlib ``Axes`` to draw on (default: a new figure).
            figsize: the size of a new figure in inches (default ``(6, 4)``).

        Returns:
            The matplotlib ``Figure``.

        Raises:
            ImportError: when matplotlib is not installed.
            ValueError: when no trial has finished with a score.
        """
        return display.plot_history(self, path=path, ax=ax, figsize=figsize)

    def search_space_summary(self, extended=False):
        """Print the search space."""
        display.search_space_summary(self.hyperparameters.space)

    def results_summary(self, num_trials=10):
        """Print the best ``num_trials`` trials: their hyperparameters and score."""
        display.results_summary(self, num_trials)

