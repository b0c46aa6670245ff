"""lamina.tuner: Keras Tuner's API on Optuna (samplers, Hyperband pruner, SQLite study storage)."""

import gc
import os
import subprocess
import sys
import textwrap
import weakref

import numpy as np
import pytest

import lamina
from lamina import tuner as kt

pytest.importorskip("optuna")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    w = np.array([[1.5], [-2.0], [0.5], [1.0]], "float32")
    y = x @ w + 0.01 * rng.normal(size=(n, 1)).astype("float32")
    return x[:48], y[:48], x[48:], y[48:]


def _linear(lr):
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=lr), loss="mse")
    return model


def build_lr_model(hp):
    return _linear(hp.Float("lr", 1e-4, 2e-1, sampling="log"))


def _fit_kwargs():
    x, y, xv, yv = _data()
    return dict(x=x, y=y, validation_data=(xv, yv), epochs=3, batch_size=4, verbose=0)


def _scores(tuner):
    done = [t for t in tuner.oracle.trials.values() if t.status in ("COMPLETED", "STOPPED")]
    return {t.trial_id: t for t in done}


def _assert_better_than_worst(tuner):
    trials = _scores(tuner)
    best = tuner.oracle.get_best_trials(1)[0]
    worst = max(trials.values(), key=lambda t: t.score)
    assert best.score < 0.5 * worst.score, (best, worst)
    assert best.hyperparameters["lr"] > worst.hyperparameters["lr"]


def test_random_search_finds_a_better_learning_rate(tmp_path):
    tuner = kt.RandomSearch(build_lr_model, objective="val_loss", max_trials=4, seed=5, directory=str(tmp_path),
                            project_name="rs")
    tuner.search(**_fit_kwargs())
    assert len(_scores(tuner)) == 4 and tuner.remaining_trials == 0
    _assert_better_than_worst(tuner)
    assert os.path.exists(os.path.join(str(tmp_path), "rs", "study.db"))


def test_resumed_search_with_a_seed_does_not_replay_samples(tmp_path):
    first = kt.RandomSearch(build_lr_model, objective="val_loss", max_trials=2, seed=7, directory=str(tmp_path),
                            project_name="seeded")
    first.search(**dict(_fit_kwargs(), epochs=1))
    again = kt.RandomSearch(build_lr_model, objective="val_loss", max_trials=4, seed=7, directory=str(tmp_path),
                            project_name="seeded")
    again.search(**dict(_fit_kwargs(), epochs=1))
    lrs = [t.hyperparameters["lr"] for t in again.oracle.trials.values()]
    assert len(lrs) == 4 and len(set(lrs)) == 4


def test_trial_models_are_released(tmp_path):
    refs = []

    def build(hp):
        model = build_lr_model(hp)
        refs.append(weakref.ref(model))
        return model

    tuner = kt.RandomSearch(build, objective="val_loss", max_trials=3, seed=0, directory=str(tmp_path),
                            project_name="mem")
    tuner.search(**dict(_fit_kwargs(), epochs=1))
    gc.collect()
    assert len(refs) == 4 and all(r() is None for r in refs)


def test_grid_search_covers_the_grid_exactly_once(tmp_path):
    def build(hp):
        hp.Boolean("flag")
        return _linear(hp.Choice("lr", [1e-4, 1e-3, 1e-1]))

    tuner = kt.GridSearch(build, objective="val_loss", directory=str(tmp_path), project_name="grid")
    assert tuner.max_trials == 6
    tuner.search(**_fit_kwargs())
    seen = sorted((t.hyperparameters["lr"], t.hyperparameters["flag"]) for t in _scores(tuner).values())
    assert seen == sorted((lr, f) for lr in (1e-4, 1e-3, 1e-1) for f in (False, True))
    _assert_better_than_worst(tuner)


def test_grid_search_needs_a_float_step(tmp_path):
    with pytest.raises(ValueError, match="Float hyperparameter 'lr'.*step"):
        kt.GridSearch(build_lr_model, objective="val_loss", directory=str(tmp_path), project_name="g")


def test_bayesian_optimization_finds_a_better_learning_rate(tmp_path):
    tuner = kt.BayesianOptimization(build_lr_model, objective="val_loss", max_trials=5, num_initial_points=2,
                                    seed=1, directory=str(tmp_path), project_name="bo")
    assert tuner.sampler_name in ("GPSampler", "TPESampler")
    tuner.search(**_fit_kwargs())
    assert len(_scores(tuner)) == 5
    _assert_better_than_worst(tuner)


def test_hyperband_prunes_and_finds_a_better_learning_rate(tmp_path):
    tuner = kt.Hyperband(build_lr_model, objective="val_loss", max_epochs=3, factor=3, seed=0,
                         directory=str(tmp_path), project_name="hb")
    assert tuner.max_trials == 5
    kwargs = _fit_kwargs()
    kwargs["epochs"] = 50  # replaced by max_epochs
    tuner.search(**kwargs)
    trials = _scores(tuner)
    assert len(trials) == 5
    assert all(len(t.frozen.intermediate_values) <= 3 for t in trials.values())
    assert any(t.status == "COMPLETED" for t in trials.values())
    _assert_better_than_worst(tuner)


def test_get_best_models_has_the_best_trials_weights(tmp_path):
    tuner = kt.RandomSearch(build_lr_model, objective="val_loss", max_trials=3, seed=0, directory=str(tmp_path),
                            project_name="best")
    kwargs = _fit_kwargs()
    tuner.search(**kwargs)
    best_trial = tuner.oracle.get_best_trials(1)[0]
    model = tuner.get_best_models(1)[0]
    xv, yv = kwargs["validation_data"]
    np.testing.assert_allclose(model.evaluate(xv, yv, verbose=0), best_trial.score, rtol=1e-5)
    hps = tuner.get_best_hyperparameters(2)
    assert len(hps) == 2 and hps[0].values == best_trial.hyperparameters.values
    assert os.path.exists(os.path.join(tuner.get_trial_dir(best_trial.trial_id), "checkpoint.weights.h5"))


def test_conditional_hyperparameters_are_sampled_only_when_active(tmp_path):
    def build(hp):
        kind = hp.Choice("kind", ["plain", "hidden"])
        with hp.conditional_scope("kind", ["hidden"]):
            units = hp.Int("units", 2, 8, step=2)
        if kind == "hidden":
            assert units in (2, 4, 6, 8)
        else:
            assert units is None
        layers = [lamina.Input((4,))] + ([lamina.layers.Dense(units)] if units else []) + [lamina.layers.Dense(1)]
        model = lamina.Sequential(layers)
        model.compile(optimizer="sgd", loss="mse")
        return model

    hp = kt.HyperParameters()
    build(hp)
    assert hp.values == {"kind": "plain"} and hp.get("units") is None and not hp.is_active("units")
    tuner = kt.RandomSearch(build, objective="val_loss", max_trials=6, seed=2, directory=str(tmp_path),
                            project_name="cond")
    tuner.search(**dict(_fit_kwargs(), epochs=1))
    kinds = set()
    for t in tuner.oracle.trials.values():
        assert t.status == "COMPLETED"
        kinds.add(t.frozen.params["kind"])
        assert ("units" in t.frozen.params) == (t.frozen.params["kind"] == "hidden"), t.frozen.params
    assert kinds == {"plain", "hidden"}


class TunedBatchSize(kt.HyperModel):
    def build(self, hp):
        return _linear(hp.Fixed("lr", 0.05))

    def fit(self, hp, model, *args, **kwargs):
        kwargs["batch_size"] = hp.Choice("batch_size", [8, 48])
        return model.fit(*args, **kwargs)


def test_hypermodel_fit_tunes_fit_arguments_and_summaries(tmp_path, capsys):
    with pytest.raises(kt.FatalValueError, match="'batch_size' was not declared"):
        kt.GridSearch(TunedBatchSize(), objective="val_loss", directory=str(tmp_path),
                      project_name="hm0").search(**_fit_kwargs())
    given = kt.HyperParameters()
    given.Choice("batch_size", [8, 48])  # fit's hyperparameters join the grid when declared up front
    tuner = kt.GridSearch(TunedBatchSize(), objective=kt.Objective("val_loss", "min"), directory=str(tmp_path),
                          project_name="hm", hyperparameters=given)
    tuner.search(**_fit_kwargs())
    values = sorted(t.hyperparameters["batch_size"] for t in tuner.oracle.trials.values())
    assert values == [8, 48]
    # Smaller batches make more SGD steps per epoch: a better loss after 3 epochs.
    assert tuner.get_best_hyperparameters()[0].values == {"lr": 0.05, "batch_size": 8}
    tuner.results_summary()
    tuner.search_space_summary()
    out = capsys.readouterr().out
    assert "Results summary" in out and "batch_size: 8" in out and "Search space summary" in out
    assert "lr (Fixed)" in out


def test_multi_objective_search(tmp_path):
    def build(hp):
        model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(1)])
        model.compile(optimizer=lamina.optimizers.SGD(hp.Choice("lr", [1e-4, 1e-1])), loss="mse", metrics=["mae"])
        return model

    tuner = kt.GridSearch(build, objective=["val_loss", kt.Objective("val_mae", "min")], directory=str(tmp_path),
                          project_name="multi")
    assert tuner.study.directions[1].name == "MINIMIZE"
    tuner.search(**_fit_kwargs())
    best = tuner.oracle.get_best_trials(2)
    assert best[0].hyperparameters["lr"] == 1e-1 and best[0].score < best[1].score


def test_hyperparameter_definitions_and_errors():
    hp = kt.HyperParameters()
    assert hp.Int("a", 1, 10, step=3, default=4) == 4
    assert hp.Float("b", 1e-3, 1.0, sampling="log") == 1e-3
    assert hp.Choice("c", ["x", "y"]) == "x" and hp.Boolean("d") is False and hp.Fixed("e", 7) == 7
    assert hp["a"] == 4 and hp.values == {"a": 4, "b": 1e-3, "c": "x", "d": False, "e": 7}
    assert hp.space[0].grid_values() == [1, 4, 7, 10]
    with pytest.raises(ValueError, match="'units'.*min_value \\(10\\) must be <= max_value \\(5\\)"):
        hp.Int("units", 10, 5)
    with pytest.raises(ValueError, match="'lr'.*log sampling needs min_value > 0"):
        hp.Float("lr", 0.0, 1.0, sampling="log")
    with pytest.raises(ValueError, match="'drop'.*sampling"):
        hp.Float("drop", 0.0, 1.0, sampling="reverse")
    with pytest.raises(ValueError, match="'opt'.*non-empty"):
        hp.Choice("opt", [])
    with pytest.raises(TypeError, match="'mix'"):
        hp.Choice("mix", [1, "a"])
    with pytest.raises(ValueError, match="parent 'nope'"):
        with hp.conditional_scope("nope", ["x"]):
            pass
    with pytest.raises(KeyError, match="'zzz'"):
        hp.get("zzz")


def test_objective_direction_inference_and_errors(tmp_path):
    assert kt.infer_direction("val_loss") == "min" and kt.infer_direction("val_accuracy") == "max"
    with pytest.raises(ValueError, match="cannot infer.*Objective\\('val_score_x', direction="):
        kt.RandomSearch(build_lr_model, objective="val_score_x", directory=str(tmp_path), project_name="e")
    with pytest.raises(ValueError, match="direction"):
        kt.Objective("val_loss", "down")
    tuner = kt.RandomSearch(build_lr_model, objective=kt.Objective("val_auc", "max"), max_trials=2,
                            directory=str(tmp_path), project_name="missing")
    with pytest.raises(kt.FatalValueError, match="'val_auc' is not among the metrics"):
        tuner.search(**dict(_fit_kwargs(), epochs=1))


class FailingFit(kt.HyperModel):
    def build(self, hp):
        return _linear(hp.Float("lr", 1e-3, 1e-1))

    def fit(self, hp, model, *args, **kwargs):
        raise kt.FailedTrialError("this configuration cannot be trained")


def test_failed_trials_stop_the_search_after_the_limit(tmp_path):
    tuner = kt.RandomSearch(FailingFit(), objective="val_loss", max_trials=3, directory=str(tmp_path),
                            project_name="f", max_consecutive_failed_trials=2, max_retries_per_trial=1)
    with pytest.raises(RuntimeError, match="consecutive failures exceeded the limit of 2"):
        tuner.search(**_fit_kwargs())
    trials = tuner.study.get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "FAIL"]
    assert trials[1].params == trials[0].params  # the retry reused the failed trial's values


def test_missing_optuna_names_the_extra(monkeypatch):
    from lamina.tuner import _deps

    monkeypatch.setattr(_deps, "_optuna", None)
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match=r"pip install lamina\[tuner\]"):
        _deps.optuna()


_SCRIPT = textwrap.dedent("""
    import os, signal, sys, time
    sys.path.insert(0, {root!r})
    import lamina
    from lamina import tuner as kt
    import numpy as np

    directory, name, max_trials, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)

    class Killer(lamina.callbacks.Callback):
        def __init__(self, number):
            super().__init__()
            self.number = number

        def on_epoch_end(self, epoch, logs=None):
            marker = os.path.join(directory, "killed")
            if mode == "kill" and self.number == 2 and epoch == 1 and not os.path.exists(marker):
                open(marker, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)
            if mode == "slow":
                time.sleep(0.4)

    class Model(kt.HyperModel):
        def build(self, hp):
            model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(1)])
            model.compile(optimizer=lamina.optimizers.SGD(hp.Float("lr", 1e-3, 1e-1, sampling="log")), loss="mse")
            return model

        def fit(self, hp, model, *args, **kwargs):
            number = tuner.study.get_trials(deepcopy=False)[-1].number
            kwargs["callbacks"] = kwargs["callbacks"] + [Killer(number)]
            print("running trial", number, flush=True)
            return model.fit(*args, **kwargs)

    tuner = kt.RandomSearch(Model(), objective="loss", max_trials=max_trials, directory=directory,
                            project_name=name, overwrite=False, heartbeat_interval=1, grace_period=3)
    tuner.search(x, y, epochs=3, batch_size=16, verbose=0)
    print("finished", flush=True)
""")


def _script(tmp_path):
    path = tmp_path / "search.py"
    path.write_text(_SCRIPT.format(root=ROOT))
    return str(path)


def _env():
    return dict(os.environ, OMP_NUM_THREADS="1", LAMINA_BACKEND=lamina.config.backend())


def _study_states(directory, name):
    import optuna

    study = optuna.load_study(study_name=name, storage=f"sqlite:///{directory}/{name}/study.db")
    return study, [t.state.name for t in study.get_trials()]


def test_resume_after_sigkill_finishes_exactly_max_trials(tmp_path):
    script, d = _script(tmp_path), str(tmp_path)
    first = subprocess.run([sys.executable, script, d, "resume", "5", "kill"], env=_env(), capture_output=True,
                           text=True, timeout=300)
    assert first.returncode == -9, first.stderr
    study, states = _study_states(d, "resume")
    assert states == ["COMPLETE", "COMPLETE", "RUNNING"]
    second = subprocess.run([sys.executable, script, d, "resume", "5", "kill"], env=_env(), capture_output=True,
                            text=True, timeout=300)
    assert second.returncode == 0 and "finished" in second.stdout, second.stderr
    study, states = _study_states(d, "resume")
    assert states.count("COMPLETE") == 5 and states.count("FAIL") == 1 and "RUNNING" not in states
    trials = study.get_trials()
    killed = trials[2]
    retried = [t for t in trials if t.state.name == "COMPLETE" and t.params == killed.params]
    assert len(retried) == 1  # the interrupted trial ran again, once, with its hyperparameters


def test_two_processes_share_one_study(tmp_path):
    script, d = _script(tmp_path), str(tmp_path)
    procs = [subprocess.Popen([sys.executable, script, d, "shared", "6", "slow"], env=_env(), text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and "finished" in out, err
    study, states = _study_states(d, "shared")
    assert states == ["COMPLETE"] * 6
    ran = [out.count("running trial") for out, _ in outs]
    assert sum(ran) == 6 and min(ran) >= 1, ran


# ---- Keras Tuner tutorial forms found by a user trial (stop 29) ----------------------------------------

def test_a_hypermodel_fit_returning_a_dict_of_its_own_metrics_is_scored(tmp_path):
    class Regressor(kt.HyperModel):
        def build(self, hp):
            return _linear(hp.Float("lr", 1e-3, 1e-1, sampling="log"))

        def fit(self, hp, model, x, y, validation_data, **kwargs):
            model.fit(x, y, **kwargs)   # the epoch logs hold 'loss' only
            xv, yv = validation_data
            err = float(np.mean(np.abs(model.predict(xv, verbose=0) - yv)))
            return {"neg_mae": -err, "other": err}

    tuner = kt.RandomSearch(Regressor(), objective=kt.Objective("neg_mae", "max"), max_trials=2, seed=1,
                            directory=str(tmp_path), project_name="dict")
    x, y, xv, yv = _data()
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=8, verbose=0)
    trials = _scores(tuner)
    assert len(trials) == 2 and all(t.score is not None for t in trials.values())


def test_a_tuner_level_optimizer_is_fresh_for_every_trial(tmp_path):
    tuner = kt.RandomSearch(build_lr_model, objective="val_loss", max_trials=3, seed=2, directory=str(tmp_path),
                            project_name="opt", optimizer=lamina.optimizers.Adam(1e-2), loss="mse")
    tuner.search(**_fit_kwargs())
    assert len(_scores(tuner)) == 3


def test_directions_of_keras_metric_names_and_sampling_names():
    from lamina.tuner.objective import infer_direction

    for name in ("val_binary_crossentropy", "val_categorical_crossentropy", "sparse_categorical_crossentropy",
                 "val_squared_hinge", "categorical_hinge"):
        assert infer_direction(name) == "min", name
    assert infer_direction("val_cosine_similarity") == "max"
    hp = kt.HyperParameters()
    assert hp.Float("lr", 1e-4, 1e-2, sampling="LOG") == 1e-4
    assert hp.Float("momentum", 0.5, 0.999, sampling="reverse_log") == 0.5
    with pytest.raises(ValueError, match="sampling"):
        hp.Float("bad", 0.1, 1.0, sampling="cubic")


def test_grid_search_over_a_space_that_grows_with_the_number_of_layers(tmp_path):
    def build(hp):
        model = lamina.Sequential([lamina.Input((4,))])
        for i in range(hp.Int("num_layers", 1, 2)):
            model.add(lamina.layers.Dense(hp.Choice(f"units_{i}", [2, 3]), activation="relu"))
        model.add(lamina.layers.Dense(1))
        model.compile(optimizer="sgd", loss="mse")
        return model

    tuner = kt.GridSearch(build, objective="val_loss", directory=str(tmp_path), project_name="grow")
    tuner.search(**{**_fit_kwargs(), "epochs": 1})
    seen = {tuple(sorted(t.hyperparameters.values.items())) for t in tuner.oracle.trials.values()
            if t.status == "COMPLETED"}
    # every effective configuration, units_1 included (it is declared only when num_layers is 2)
    assert {(("num_layers", 2), ("units_0", a), ("units_1", b)) for a in (2, 3) for b in (2, 3)} <= seen
    assert {(("num_layers", 1), ("units_0", a)) for a in (2, 3)} <= seen
