"""BackupAndRestore: exact resume after SIGKILL or an exception, NaN safety, deletion, fallback to the
previous backup. Runs on the current backend (LAMINA_BACKEND)."""

import json
import os
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pytest

import lamina
from lamina import callbacks, layers
from lamina.callbacks.backup_and_restore import LATEST, PREVIOUS

SCRIPT = textwrap.dedent('''
    import json, os, signal, sys
    import numpy as np
    import lamina
    from lamina import layers

    backup_dir, out_path = sys.argv[1], sys.argv[2]
    kill_at = int(os.environ.get("LAMINA_TEST_KILL_AT_BATCH", "-1"))

    lamina.utils.set_random_seed(1234)
    rs = np.random.RandomState(0)
    x = rs.randn(100, 8).astype("float32")
    y = (x[:, :4].sum(axis=1) > 0).astype("int32")
    model = lamina.Sequential([lamina.Input((8,)), layers.Dense(16, activation="relu"), layers.Dropout(0.5),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])


    class KillAt(lamina.callbacks.Callback):
        """SIGKILLs this process after its `kill_at`-th training batch (counted over all epochs)."""

        def __init__(self):
            super().__init__()
            self.seen = 0

        def on_train_batch_end(self, batch, logs=None):
            self.seen += 1
            if self.seen == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)


    backup = lamina.callbacks.BackupAndRestore(backup_dir, save_freq=2)
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=True, verbose=0, callbacks=[backup, KillAt()])
    np.savez(out_path, *model.get_weights())
    with open(out_path + ".json", "w") as f:
        json.dump({"epoch": history.epoch, "history": history.history}, f)
''')


def _run_script(tmp_path, backup_dir, out, kill_at=None):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS="1", LAMINA_BACKEND=lamina.config.backend())
    env.pop("LAMINA_TEST_KILL_AT_BATCH", None)
    if kill_at is not None:
        env["LAMINA_TEST_KILL_AT_BATCH"] = str(kill_at)
    return subprocess.run([sys.executable, str(script), str(backup_dir), str(out)], env=env,
                          capture_output=True, text=True, timeout=300)


def _load_run(out):
    weights = np.load(str(out))
    with open(str(out) + ".json") as f:
        return [weights[f"arr_{i}"] for i in range(len(weights.files))], json.load(f)


def test_resume_after_sigkill_mid_epoch_equals_uninterrupted_run(tmp_path):
    backup_dir = tmp_path / "backup"
    # 100 samples, batch 16: 7 batches per epoch. The 11th batch is the 4th of epoch 1 (0-based); the
    # last backup (every 2 batches) was after the 10th, so the killed batch is trained again.
    killed = _run_script(tmp_path, backup_dir, tmp_path / "killed.npz", kill_at=11)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert not (tmp_path / "killed.npz").exists()
    assert os.listdir(backup_dir) == [LATEST]
    with zipfile.ZipFile(backup_dir / LATEST) as zf:
        state = json.loads(zf.read("training_state.json"))
    assert (state["epoch"], state["step"]) == (1, 3)

    resumed = _run_script(tmp_path, backup_dir, tmp_path / "resumed.npz")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert not backup_dir.exists()  # deleted at the successful end (delete_checkpoint=True)
    full = _run_script(tmp_path, tmp_path / "backup_full", tmp_path / "full.npz")
    assert full.returncode == 0, full.stderr[-2000:]

    got, got_log = _load_run(tmp_path / "resumed.npz")
    want, want_log = _load_run(tmp_path / "full.npz")
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert got_log["epoch"] == [1, 2] and want_log["epoch"] == [0, 1, 2]
    # The resumed epoch's logs include the batches run before the kill (metric accumulators restored).
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(got_log["history"][key], want_log["history"][key][1:], rtol=1e-6)


# ---- in-process helpers --------------------------------------------------------------------------
# Every run builds a new model with the same seed (on JAX each new model compiles its steps, so the
# uninterrupted reference runs are computed once per session).

def _data(n=96):
    rs = np.random.RandomState(0)
    x = rs.randn(n, 6).astype("float32")
    return x, (x[:, :3].sum(axis=1) > 0).astype("int32")


def _model(seed=7, lr=0.01, steps_per_execution="auto"):
    lamina.utils.set_random_seed(seed)
    model = lamina.Sequential([lamina.Input((6,)), layers.Dense(12, activation="relu"), layers.Dropout(0.3),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], steps_per_execution=steps_per_execution)
    return model


def _fit(model, cbs, epochs=3, batch_size=16):
    x, y = _data()
    return model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0, callbacks=cbs)


_REFERENCE = {}


def _reference(kind="arrays"):
    """(weights, history) of an uninterrupted 3-epoch run without callbacks."""
    if kind not in _REFERENCE:
        if kind == "pydataset":
            model = _model()
            h = model.fit(Batches(*_data()), epochs=3, verbose=0)
        else:
            model = _model(steps_per_execution=3 if kind == "steps_per_execution=3" else "auto")
            h = _fit(model, [])
        _REFERENCE[kind] = (model.get_weights(), h.history)
    return _REFERENCE[kind]


def _assert_same_weights(model, weights):
    got = model.get_weights()
    assert len(got) == len(weights)
    for g, w in zip(got, weights):
        np.testing.assert_array_equal(g, w)


class RaiseAt(callbacks.Callback):
    """Raises after the given batch of the given epoch."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise RuntimeError("interrupted")


class Batches(lamina.utils.PyDataset):
    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x) // 16

    def __getitem__(self, i):
        return self.x[i * 16:(i + 1) * 16], self.y[i * 16:(i + 1) * 16]


def test_uninterrupted_run_with_the_callback_equals_one_without(tmp_path):
    backed = _model()
    _fit(backed, [callbacks.BackupAndRestore(tmp_path / "b")])
    _assert_same_weights(backed, _reference()[0])
    # batch_size 4: 24 batches per epoch, so without per-batch hooks JAX runs 16 steps per compiled call;
    # backing up every 2 batches makes it run one step per call, with the same result.
    plain = _model()
    _fit(plain, [], batch_size=4)
    backed = _model()
    _fit(backed, [callbacks.BackupAndRestore(tmp_path / "b", save_freq=2)], batch_size=4)
    _assert_same_weights(backed, plain.get_weights())
    assert not (tmp_path / "b").exists()


def test_epoch_backups_resume_after_an_exception_in_epoch_2(tmp_path):
    model = _model()
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(model, [callbacks.BackupAndRestore(tmp_path / "b"), RaiseAt(epoch=2, batch=3)])
    with zipfile.ZipFile(tmp_path / "b" / LATEST) as zf:
        assert json.loads(zf.read("training_state.json"))["epoch"] == 2  # epochs 0 and 1 were backed up
    resumed = _model()
    h = _fit(resumed, [callbacks.BackupAndRestore(tmp_path / "b")])
    assert h.epoch == [2]
    weights, history = _reference()
    _assert_same_weights(resumed, weights)
    np.testing.assert_allclose(h.history["loss"], history["loss"][2:], rtol=1e-6)
    # The optimizer state came back too (Adam's iterations count all 3 epochs).
    assert int(resumed.optimizer.iterations.numpy()) == 18


def test_mid_epoch_resume_restores_optimizer_learning_rate_and_seeds(tmp_path):
    model = _model()
    with pytest.raises(RuntimeError):
        _fit(model, [callbacks.BackupAndRestore(tmp_path / "b", save_freq=4), RaiseAt(epoch=1, batch=4)])
    with zipfile.ZipFile(tmp_path / "b" / LATEST) as zf:
        state = json.loads(zf.read("training_state.json"))
    assert (state["epoch"], state["step"]) == (1, 2)  # backups after global batches 4 and 8
    resumed = _model(seed=99, lr=0.5)  # other initial weights, dropout seeds, shuffling and learning rate
    h = _fit(resumed, [callbacks.BackupAndRestore(tmp_path / "b", save_freq=4)])
    assert h.epoch == [1, 2]
    assert float(resumed.optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    weights, history = _reference()
    _assert_same_weights(resumed, weights)
    np.testing.assert_allclose(h.history["accuracy"], history["accuracy"][1:], rtol=1e-6)


@pytest.mark.parametrize("stop_after", [2, 5])
def test_mid_epoch_resume_with_several_steps_per_execution(tmp_path, stop_after):
    # steps_per_execution=3: JAX runs 3 steps per call and the callbacks see every third batch; backups
    # fall at the ends of those blocks, so the resumed run groups its steps as the uninterrupted one.
    with pytest.raises(RuntimeError):
        _fit(_model(steps_per_execution=3), [callbacks.BackupAndRestore(tmp_path / "b", save_freq=2),
                                             RaiseAt(epoch=1, batch=stop_after)])
    with zipfile.ZipFile(tmp_path / "b" / LATEST) as zf:
        state = json.loads(zf.read("training_state.json"))
    # JAX backs up after batch 3 or 6 of epoch 1 (block ends), PyTorch (one step per call) after 2 or 6.
    # At step 6 the last batch of the epoch was done, its on_epoch_end (validation, callbacks) was not.
    assert state["epoch"] == 1 and stop_after - 1 <= state["step"] <= stop_after + 1
    resumed = _model(steps_per_execution=3)
    h = _fit(resumed, [callbacks.BackupAndRestore(tmp_path / "b", save_freq=2)])
    weights, history = _reference("steps_per_execution=3")
    assert h.epoch == [1, 2]
    _assert_same_weights(resumed, weights)
    np.testing.assert_allclose(h.history["loss"], history["loss"][1:], rtol=1e-6)


class PoisonAt(callbacks.Callback):
    """Writes NaN into the first kernel before the given global batch; records the weights after each batch
    and epoch before that."""

    def __init__(self, global_batch):
        super().__init__()
        self.at, self.seen = global_batch, 0
        self.after_batch, self.after_epoch = [], []

    def on_train_batch_begin(self, batch, logs=None):
        if self.seen == self.at:
            kernel = self.model.layers[0].kernel
            kernel.assign(np.full(tuple(kernel.shape), np.nan, dtype="float32"))

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        self.after_batch.append(self.model.get_weights())

    def on_epoch_end(self, epoch, logs=None):
        self.after_epoch.append(self.model.get_weights())


@pytest.mark.parametrize("save_freq", ["epoch", 1])
def test_nan_stop_keeps_the_last_finite_backup(tmp_path, save_freq):
    model = _model()
    poison = PoisonAt(global_batch=10)  # the 5th batch of epoch 1
    backup = callbacks.BackupAndRestore(tmp_path / "b", save_freq=save_freq)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = _fit(model, [poison, backup, callbacks.TerminateOnNaN()])
    assert len(h.epoch) == 2 and np.isnan(h.history["loss"][-1])  # stopped in epoch 1
    assert any("not backing up" in str(w.message) for w in caught)
    assert os.path.isfile(tmp_path / "b" / LATEST)  # not deleted at the end of the NaN run
    expected = poison.after_epoch[0] if save_freq == "epoch" else poison.after_batch[9]
    check = _model(seed=5)
    check.load_weights(str(tmp_path / "b" / LATEST))  # a backup's weights are a lamina weights file
    for g, w in zip(check.get_weights(), expected):
        assert np.isfinite(g).all()
        np.testing.assert_array_equal(g, w)


def test_backup_is_deleted_at_the_end_or_kept_with_delete_checkpoint_false(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("user file")
    _fit(_model(), [callbacks.BackupAndRestore(tmp_path / "mine", save_freq=2)], epochs=1)
    assert os.listdir(tmp_path / "mine") == ["notes.txt"]  # only the backups are removed
    model = _model()
    _fit(model, [callbacks.BackupAndRestore(tmp_path / "kept", delete_checkpoint=False)], epochs=2)
    assert os.listdir(tmp_path / "kept") == [LATEST]
    # Training again with the same folder resumes after the 2 finished epochs.
    again = _model()
    h = _fit(again, [callbacks.BackupAndRestore(tmp_path / "kept", delete_checkpoint=False)], epochs=3)
    assert h.epoch == [2]


def _corrupt(path):
    data = bytearray(open(path, "rb").read())
    mid = len(data) // 2
    data[mid:mid + 64] = b"\xff" * 64
    open(path, "wb").write(bytes(data))


def test_corrupt_latest_backup_falls_back_to_the_previous_one(tmp_path):
    folder = tmp_path / "b"
    cb = dict(double_checkpoint=True, delete_checkpoint=False)
    _fit(_model(), [callbacks.BackupAndRestore(folder, **cb)], epochs=2)
    assert sorted(os.listdir(folder)) == [LATEST, PREVIOUS]
    _corrupt(folder / LATEST)
    resumed = _model()
    with pytest.warns(UserWarning, match="previous backup"):
        h = _fit(resumed, [callbacks.BackupAndRestore(folder, **cb)], epochs=3)
    assert h.epoch == [1, 2]  # the previous backup was taken at the end of epoch 0
    _assert_same_weights(resumed, _reference()[0])


def test_corrupt_backup_without_double_checkpoint_raises_naming_the_file(tmp_path):
    folder = tmp_path / "b"
    _fit(_model(), [callbacks.BackupAndRestore(folder, delete_checkpoint=False)], epochs=1)
    good = (folder / LATEST).read_bytes()
    # A temporary file left by a process killed while saving is ignored, and removed.
    leftover = folder / f".{LATEST}.abc123.tmp"
    leftover.write_bytes(b"half a zip")
    h = _fit(_model(), [callbacks.BackupAndRestore(folder, delete_checkpoint=False)], epochs=1)
    assert h.epoch == [] and not leftover.exists()  # (epoch 0 was done: nothing is left to train)
    assert (folder / LATEST).read_bytes() == good
    _corrupt(folder / LATEST)
    with pytest.raises(ValueError, match=f"cannot resume from the backup '.*{LATEST}'.*double_checkpoint"):
        _fit(_model(), [callbacks.BackupAndRestore(folder)], epochs=2)
    # A truncated file (e.g. a foreign or half-copied one) too.
    open(folder / LATEST, "wb").write(b"PK\x03\x04")
    with pytest.raises(ValueError, match=LATEST):
        _fit(_model(), [callbacks.BackupAndRestore(folder)], epochs=2)


def test_resume_inside_an_epoch_of_a_pydataset(tmp_path):
    # The resumed epoch reads its first batches again and drops them: exact for a source that yields the
    # same batches in the same order again.
    save_freq, interrupt = 2, (1, 4)
    x, y = _data()
    model = _model()
    with pytest.raises(RuntimeError):
        model.fit(Batches(x, y), epochs=3, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(tmp_path / "b", save_freq=save_freq), RaiseAt(*interrupt)])
    resumed = _model()
    h = resumed.fit(Batches(x, y), epochs=3, verbose=0,
                    callbacks=[callbacks.BackupAndRestore(tmp_path / "b", save_freq=save_freq)])
    assert h.epoch == list(range(interrupt[0], 3))
    weights, history = _reference("pydataset")
    _assert_same_weights(resumed, weights)
    np.testing.assert_allclose(h.history["loss"], history["loss"][interrupt[0]:], rtol=1e-6)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="backup_dir"):
        callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore("b", save_freq=0)
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore("b", save_freq="batch")


def test_tampered_training_state_gives_a_clear_error_naming_the_file(tmp_path):
    from lamina.saving import backup_archive

    model = _model()
    path = tmp_path / "x.backup.zip"
    rng = np.random.default_rng(3)
    backup_archive.write_backup(model, path, {"epoch": 1, "step": 2, "host_rng": rng.bit_generator.state})
    assert backup_archive.read_backup(model, path)["host_rng"] == rng.bit_generator.state
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    good = json.loads(members["training_state.json"])
    for key, bad in (("epoch", -1), ("step", "3"), ("global_seed", [1]), ("format", "other"),
                     ("host_rng", {"bit_generator": "MT19937", "state": {}}),
                     ("host_rng", dict(good["host_rng"], state={"state": "x", "inc": 1}))):
        members["training_state.json"] = json.dumps(dict(good, **{key: bad})).encode()
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        with pytest.raises(ValueError, match=f"Cannot load '.*x.backup.zip'.*{key}"):
            backup_archive.read_backup(model, path)


# ---- the other callbacks' state is part of the backup -------------------------------------------

class _Scores(callbacks.Callback):
    """Puts a fixed per-epoch score in the logs (before EarlyStopping reads them)."""

    SCORES = [5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 3.8, 3.9]

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.SCORES[epoch]


class _CrashAfter(callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("simulated crash")


def _early_stopping_run(backup_dir, crash_after=None):
    lamina.utils.set_random_seed(3)
    rs = np.random.RandomState(1)
    x, y = rs.randn(64, 4).astype("float32"), rs.randn(64, 1).astype("float32")
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    stop = callbacks.EarlyStopping(monitor="score", mode="min", patience=2, restore_best_weights=True)
    plateau = callbacks.ReduceLROnPlateau(monitor="score", mode="min", patience=1, factor=0.5)
    cbs = [callbacks.BackupAndRestore(str(backup_dir)), _Scores(), stop, plateau]  # the backup is listed first
    if crash_after is not None:
        cbs.append(_CrashAfter(crash_after))
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0, callbacks=cbs)
    return model, stop, history


def test_early_stopping_and_plateau_state_survive_a_restart(tmp_path):
    whole, whole_stop, whole_history = _early_stopping_run(tmp_path / "a")
    assert whole_stop.stopped_epoch == 4 and whole_stop.best_epoch == 2
    with pytest.raises(RuntimeError, match="simulated crash"):
        # Crashes in epoch 3's end after the other callbacks ran: the epoch is done and backed up (as Keras),
        # with EarlyStopping's best (epoch 2) score and weights and ReduceLROnPlateau's counters.
        _early_stopping_run(tmp_path / "b", crash_after=3)
    resumed, stop, history = _early_stopping_run(tmp_path / "b")
    assert history.epoch == [4]  # resumed at epoch 4 and stopped there, as the whole run did
    assert stop.stopped_epoch == 4 and stop.best_epoch == 2
    for a, b in zip(whole.get_weights(), resumed.get_weights()):  # the best (epoch 2) weights restored
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(float(resumed.optimizer.learning_rate.numpy()),
                               float(whole.optimizer.learning_rate.numpy()))
    assert whole_history.history["learning_rate"][-1] == history.history["learning_rate"][-1]


def test_other_callbacks_see_the_restored_model_and_an_interrupted_epoch_end_keeps_its_backup(tmp_path):
    # As Keras: the epoch whose on_epoch_end another callback interrupted was backed up (a resumed run starts
    # after it), and the callbacks' on_train_begin sees the restored weights and optimizer.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = x[:, :1] * 2

    def build():
        m = lamina.Sequential([lamina.Input((5,)), lamina.layers.Dense(1)])
        m.compile(optimizer="adam", loss="mse")
        return m

    class Boom(lamina.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("interrupt")

    seen = []

    class Peek(lamina.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(int(lamina.ops.convert_to_numpy(self.model.optimizer.iterations)))

    folder = str(tmp_path / "bk")
    with pytest.raises(RuntimeError, match="interrupt"):
        build().fit(x, y, epochs=4, batch_size=16, verbose=0,
                    callbacks=[lamina.callbacks.BackupAndRestore(folder), Boom()])
    history = build().fit(x, y, epochs=4, batch_size=16, verbose=0,
                          callbacks=[lamina.callbacks.BackupAndRestore(folder), Peek()])
    assert history.epoch == [2, 3]
    assert seen == [8]   # two epochs of 4 steps, restored before Peek ran
