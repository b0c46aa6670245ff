"""Magnitude pruning: ``lamina.pruning`` (issue #13)."""

import numpy as np
import pytest

import lamina
from lamina import layers as L
from lamina import pruning


def _model():
    tokens = L.Input((6,), dtype="int32")
    t = L.Embedding(20, 8)(tokens)
    t = L.Conv1D(8, 3, padding="same", activation="relu")(t)
    t = L.Flatten()(t)
    t = L.Dense(16, activation="relu")(t)
    return lamina.Model(tokens, L.Dense(1)(t))


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, size=(n, 6))
    return x, (x.sum(axis=1, keepdims=True) / 60.0).astype("float32")


class _Recorder(lamina.callbacks.Callback):
    """Records the zero pattern of every kernel after each batch hook and each epoch."""

    def __init__(self):
        super().__init__()
        self.batch_sparsity, self.epoch_zeros = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.batch_sparsity.append(pruning.get_sparsity(self.model))

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_zeros.append({w.path: w.numpy() == 0 for w in self.model.weights if w.path.endswith(
            ("kernel", "embeddings"))})


def test_schedules_follow_tfmot():
    constant = pruning.ConstantSparsity(0.6, begin_step=4, end_step=20, frequency=4)
    assert [constant(s) for s in (3, 4, 6, 8, 20, 24)] == [
        (False, 0.6), (True, 0.6), (False, 0.6), (True, 0.6), (True, 0.6), (False, 0.6)]
    poly = pruning.PolynomialDecay(0.2, 0.8, begin_step=10, end_step=30, power=3, frequency=10)
    assert poly(0) == (False, pytest.approx(0.2))
    assert poly(20) == (True, pytest.approx(0.8 - 0.6 * 0.5 ** 3))
    assert poly(30) == (True, pytest.approx(0.8)) and poly(40) == (False, pytest.approx(0.8))
    assert pruning.PolynomialDecay.from_config(poly.get_config()).get_config() == poly.get_config()
    with pytest.raises(ValueError, match=r"ConstantSparsity expected `target_sparsity` to be a number in \[0, 1\)"):
        pruning.ConstantSparsity(1.5)
    with pytest.raises(ValueError, match="PolynomialDecay expected end_step >=? begin_step"):
        pruning.PolynomialDecay(0.0, 0.5, begin_step=10, end_step=5)
    with pytest.raises(ValueError, match="expected `frequency` to be a positive int"):
        pruning.ConstantSparsity(0.5, frequency=0)


@pytest.mark.parametrize("steps_per_execution", [1, 3])
def test_constant_sparsity_reaches_target_and_holds_through_fit(steps_per_execution):
    model = pruning.prune_low_magnitude(_model(), pruning.ConstantSparsity(0.5, begin_step=0, frequency=1000))
    model.compile(optimizer="adam", loss="mse", steps_per_execution=steps_per_execution)
    recorder = _Recorder()
    x, y = _data()
    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[pruning.UpdatePruningStep(), recorder])
    sparsity = pruning.get_sparsity(model)
    assert set(sparsity) == {"embedding", "conv1d", "dense", "dense_1"}
    assert all(abs(s - 0.5) <= 0.02 for s in sparsity.values()), sparsity
    assert all(abs(s - 0.5) <= 0.02 for step in recorder.batch_sparsity for s in step.values())
    # The masks were computed once (step 0) and held: the same weights are zero at every epoch end.
    first, last = recorder.epoch_zeros[0], recorder.epoch_zeros[-1]
    assert all(np.array_equal(first[p], last[p]) for p in first)
    # Only kernels are masked, never biases.
    masked = sorted(v.path for v, _ in model._pruning_state.masks.values())
    assert masked == ["conv1d/kernel", "dense/kernel", "dense_1/kernel", "embedding/embeddings"]
    assert np.isfinite(model.evaluate(x, y, verbose=0))


def test_polynomial_decay_grows_sparsity_and_strip_keeps_predictions(tmp_path):
    schedule = pruning.PolynomialDecay(0.1, 0.8, begin_step=0, end_step=16, frequency=4)
    model = pruning.prune_low_magnitude(_model(), schedule, layers=["dense", "conv1d"])
    model.compile(optimizer="adam", loss="mse")
    recorder = _Recorder()
    x, y = _data()
    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[pruning.UpdatePruningStep(), recorder])
    dense = [s["dense"] for s in recorder.batch_sparsity]
    assert dense[0] == pytest.approx(0.1, abs=0.01) and dense == sorted(dense)
    sparsity = pruning.get_sparsity(model)
    assert sparsity["dense"] == pytest.approx(0.8, abs=0.01) and sparsity["conv1d"] == pytest.approx(0.8, abs=0.02)
    assert sparsity["embedding"] == 0.0 and sparsity["dense_1"] == 0.0  # not chosen
    before = model.predict(x, verbose=0)
    stripped = pruning.strip_pruning(model)
    assert getattr(stripped, "_pruning_state", None) is None
    np.testing.assert_allclose(stripped.predict(x, verbose=0), before, rtol=1e-6, atol=1e-6)
    stripped.save(tmp_path / "sparse.keras")
    loaded = lamina.models.load_model(tmp_path / "sparse.keras")
    assert pruning.get_sparsity(loaded) == sparsity
    np.testing.assert_allclose(loaded.predict(x, verbose=0), before, rtol=1e-6, atol=1e-6)


def test_pruning_a_second_fit_continues_the_step_count():
    schedule = pruning.PolynomialDecay(0.0, 0.6, begin_step=0, end_step=16, frequency=8)
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data(64)
    callback = pruning.PruningCallback(schedule)  # marks the model itself
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[callback])
    first = pruning.get_sparsity(model)["dense"]
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[callback])
    assert first < pruning.get_sparsity(model)["dense"] == pytest.approx(0.6, abs=0.01)


def test_pruning_errors_are_clear():
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data(16)
    with pytest.raises(ValueError, match="not marked for pruning.*prune_low_magnitude"):
        model.fit(x, y, verbose=0, callbacks=[pruning.UpdatePruningStep()])
    with pytest.raises(TypeError, match="expected `pruning_schedule` to be a PruningSchedule"):
        pruning.prune_low_magnitude(model, 0.5)
    with pytest.raises(ValueError, match="'nope' is not a layer of model"):
        pruning.prune_low_magnitude(model, layers=["nope"])
    with pytest.raises(ValueError, match="layer 'flatten' \\(Flatten\\) has no float kernel"):
        pruning.prune_low_magnitude(model, layers=["flatten"])
    with pytest.raises(TypeError, match="expected a lamina Model"):
        pruning.prune_low_magnitude(L.Dense(2))


class _RaiseAt(lamina.callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise RuntimeError("interrupted")


def test_pruning_step_and_masks_survive_a_backup_and_restore(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6)).astype("float32")
    y = x @ rng.standard_normal((6, 1)).astype("float32")

    def run(callbacks):
        lamina.utils.set_random_seed(11)
        model = lamina.Sequential([lamina.Input((6,)), lamina.layers.Dense(16, name="hidden"),
                                   lamina.layers.Dense(1, name="out")])
        schedule = pruning.PolynomialDecay(0.0, 0.8, begin_step=2, end_step=20, frequency=3)
        model = pruning.prune_low_magnitude(model, schedule)
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0,
                  callbacks=[pruning.UpdatePruningStep()] + callbacks)
        return model

    # the reference backs up at the same frequency: on JAX that sets how many steps one compiled call runs,
    # and so when the masks are applied
    reference = run([lamina.callbacks.BackupAndRestore(tmp_path / "reference", save_freq=2)])
    backup = tmp_path / "backup"
    with pytest.raises(RuntimeError, match="interrupted"):
        run([lamina.callbacks.BackupAndRestore(backup, save_freq=2), _RaiseAt(epoch=1, batch=4)])
    resumed = run([lamina.callbacks.BackupAndRestore(backup, save_freq=2)])
    # the schedule's step and the masks came back: same sparsity and the same weights as one run
    assert pruning.get_sparsity(resumed) == pruning.get_sparsity(reference)
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
