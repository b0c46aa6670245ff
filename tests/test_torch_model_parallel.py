"""ModelParallel on PyTorch: variables sharded as a LayoutMap says (FSDP on torch.distributed's DTensor), in two
real processes launched by torchrun (Gloo on 127.0.0.1), compared with one process taking the same steps."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lamina

pytestmark = pytest.mark.skipif(lamina.backend.backend() != "torch",
                                reason="sharded variables on torch.distributed's DTensor (the torch backend)")

from tests.test_distribution import _env, _free_port, _torchrun  # noqa: E402  (the launching helpers)

# One worker for both runs: without torchrun it is the one-process reference (no distribution set).
_WORKER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import lamina as keras
    from lamina import distribution

    out, opt = sys.argv[1], sys.argv[2]
    world, rank = distribution.process_count(), distribution.process_index()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6)).astype("float32")
    y = rng.integers(0, 4, size=(40,))
    if world > 1:
        if opt.startswith("adam"):  # a "model" axis for the weights, a "batch" axis (of size 1) for the data
            mesh = distribution.DeviceMesh((1, world), ["batch", "model"], distribution.list_devices())
            axis = "model"
        else:  # FSDP proper: one axis, the weights split over the processes that split the batch
            mesh = distribution.DeviceMesh((world,), ["batch"], distribution.list_devices())
            axis = "batch"
        layout_map = distribution.LayoutMap(mesh)
        # adam_two_axes: the hidden kernel split over both axes (DTensor's redistribute), not one (the buckets)
        layout_map["hidden/kernel"] = ("batch" if opt == "adam_two_axes" else None, axis)
        layout_map["head/kernel"] = (axis, None)
        distribution.set_distribution(distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch"))
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu", name="hidden"),
                              keras.layers.Dense(4, activation="softmax", name="head")], name="net")
    optimizer = (keras.optimizers.Adam(0.01) if opt.startswith("adam")
                 else keras.optimizers.RMSprop(0.01, clipnorm=0.5))  # the per-variable (not fused) update
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.evaluate(x, y, batch_size=8, verbose=0)  # the weights are placed before the optimizer's slots
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)

    def local_shape(v):
        t = v._storage()
        return list(t.to_local().shape if hasattr(t, "to_local") else t.shape)

    local = {v.path: local_shape(v) for v in model.weights + list(model.optimizer.variables)}
    result = {"local": local, "history": history.history, "before": before,
              "evaluate": model.evaluate(x, y, batch_size=8, verbose=0)}
    weights = model.get_weights()  # every process gathers the sharded variables
    result["shapes"] = [list(w.shape) for w in weights]
    predicted = model.predict(x[:5], verbose=0)
    called = keras.ops.convert_to_numpy(model(x[:5]))
    model.save(out + ".keras")  # every process gathers; the same complete file is written
    model.set_weights([w + 1.0 for w in weights])  # each process keeps its part of the new values
    result["set"] = all(np.array_equal(a, b + 1.0) for a, b in zip(model.get_weights(), weights))
    result["local_after_set"] = local_shape(model.get_layer("hidden").kernel)
    np.savez(out + f".{rank}.npz", *weights, predicted=predicted, called=called)
    if world > 1:  # what the exit handler does: the groups lamina holds are destroyed before finalization
        import os
        from lamina.backend.torch import distribution as engine_distribution

        def gloo_workers():
            return sum(open(f"/proc/self/task/{t}/comm").read().startswith("pt_gloo_runloop")
                       for t in os.listdir("/proc/self/task"))

        result["workers"] = [gloo_workers()]
        engine_distribution._shutdown()
        result["workers"].append(gloo_workers())
    with open(out + f".{rank}.json", "w") as f:
        json.dump(result, f)
""")


def _single(script, out, opt):
    env = _env()
    env.pop("LOCAL_WORLD_SIZE", None)
    done = subprocess.run([sys.executable, str(script), str(out), opt], env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]


def _read(prefix, rank):
    with open(f"{prefix}.{rank}.json") as f:
        result = json.load(f)
    with np.load(f"{prefix}.{rank}.npz") as z:
        weights = [z[f"arr_{i}"] for i in range(len(z.files) - 2)]
        return result, weights, z["predicted"], z["called"]


@pytest.mark.parametrize("opt", ["adam", "rmsprop_clipnorm", "adam_two_axes"])
def test_two_processes_hold_half_of_each_sharded_variable_and_train_like_one(tmp_path, opt):
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    _single(script, tmp_path / "one", opt)
    run = _torchrun(script, [tmp_path / "two", opt], 2)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    one, one_w, one_pred, one_called = _read(tmp_path / "one", 0)

    for rank in (0, 1):
        two, two_w, two_pred, two_called = _read(tmp_path / "two", rank)
        # (a) each process holds only its half of the sharded kernels and of their optimizer slots
        local = two["local"]
        assert local["net/hidden/kernel"] == [6, 8] and local["net/head/kernel"] == [8, 4]
        assert local["net/hidden/bias"] == [16] and local["net/head/bias"] == [4]  # not in the layout map: whole
        adam = opt.startswith("adam")
        assert local["adam/net_hidden_kernel_momentum" if adam else "rm_sprop/net_hidden_kernel_velocity"] == [6, 8]
        assert one["local"]["net/hidden/kernel"] == [6, 16]
        # (b) the gathered weights equal the one-process run's (same seed, same global batches)
        assert two["shapes"] == [[6, 16], [16], [16, 4], [4]]
        for a, b in zip(one_w, two_w):
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
        # (c) training logs and evaluate: over the whole data, counted once
        for key in ("loss", "accuracy"):
            np.testing.assert_allclose(two["history"][key], one["history"][key], rtol=1e-5)
        np.testing.assert_allclose(two["evaluate"], one["evaluate"], rtol=1e-5)
        np.testing.assert_allclose(two["before"], one["before"], rtol=1e-5)
        assert two["set"] and one["set"] and two["local_after_set"] == [6, 8]
        np.testing.assert_allclose(two_pred, one_pred, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(two_called, one_called, rtol=1e-5, atol=1e-6)
        # (e) at exit, the Gloo groups of the mesh's dimensions and of whole-value reads are destroyed while the
        # interpreter is alive (2 worker threads each); left to its teardown, a worker releasing a collective's
        # tensors could abort the process. The world group's workers may stay: DTensor's ops keep it referenced.
        before, after = two["workers"]
        assert before >= (6 if adam else 4) and after <= 2, two["workers"]
    # (d) the saved file holds the whole weights, loadable by a single process
    loaded = lamina.saving.load_model(str(tmp_path / "two.keras"))
    for a, b in zip(one_w, loaded.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    assert [list(w.shape) for w in loaded.get_weights()] == [[6, 16], [16], [16, 4], [4]]


_ERRORS = textwrap.dedent("""
    import json, sys
    import numpy as np
    import lamina as keras
    from lamina import distribution

    out = sys.argv[1]
    world, rank = distribution.process_count(), distribution.process_index()
    x, y = np.ones((8, 6), "float32"), np.zeros((8, 1), "float32")
    messages = {}

    def attempt(name, mesh, layout, units):
        layout_map = distribution.LayoutMap(mesh)
        layout_map["hidden/kernel"] = layout
        distribution.set_distribution(distribution.ModelParallel(layout_map=layout_map))
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(units, name="hidden"),
                                  keras.layers.Dense(1, name="head")])
        model.compile("sgd", "mse")
        try:
            model.fit(x, y, batch_size=4, epochs=1, verbose=0)
            messages[name] = None
        except ValueError as e:
            messages[name] = str(e)

    attempt("indivisible", distribution.DeviceMesh((world,), ["model"], distribution.list_devices()),
            (None, "model"), 5)
    attempt("mesh", distribution.DeviceMesh((2 * world,), ["model"], ["cpu:0"] * (2 * world)), (None, "model"), 8)
    attempt("twice", distribution.DeviceMesh((world,), ["model"], distribution.list_devices()), ("model", "model"), 8)
    with open(out + f".{rank}.json", "w") as f:
        json.dump(messages, f)
""")


def test_layouts_that_cannot_be_applied_give_clear_errors(tmp_path):
    script = tmp_path / "errors.py"
    script.write_text(_ERRORS)
    run = _torchrun(script, [tmp_path / "out"], 2)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    for rank in (0, 1):
        with open(tmp_path / f"out.{rank}.json") as f:
            messages = json.load(f)
        assert "'sequential/hidden/kernel'" in messages["indivisible"]
        assert "(None, 'model')" in messages["indivisible"] and "shape (6, 5)" in messages["indivisible"]
        assert "of size 2, which does not divide it" in messages["indivisible"]
        assert "each position of the device mesh is one process" in messages["mesh"]
        assert "(4 positions) and 2 processes run" in messages["mesh"]
        assert "splits several dimensions over the mesh axis 'model'" in messages["twice"]


_RANK0_ONLY = textwrap.dedent("""
    import numpy as np
    import lamina as keras
    from lamina import distribution

    mesh = distribution.DeviceMesh((2,), ["model"], distribution.list_devices())
    layout_map = distribution.LayoutMap(mesh)
    layout_map["hidden/kernel"] = (None, "model")
    distribution.set_distribution(distribution.ModelParallel(layout_map=layout_map))
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, name="hidden"), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 6), "float32"), np.zeros((8, 1), "float32"), batch_size=4, epochs=1, verbose=0)
    if distribution.is_chief():
        model.get_weights()  # rank 0 alone: the other process never joins the gather
""")


def test_reading_sharded_weights_on_one_process_only_fails_clearly(tmp_path):
    script = tmp_path / "rank0.py"
    script.write_text(_RANK0_ONLY)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=2",
           f"--master-port={_free_port()}",
           str(script)]
    run = subprocess.run(cmd, env=_env(LAMINA_DISTRIBUTED_TIMEOUT="5"), capture_output=True, text=True, timeout=240)
    assert run.returncode != 0
    assert "could not gather the whole value of 'sequential/hidden/kernel'" in run.stderr
    assert "every process must read a sharded variable at the same point" in run.stderr


# ---- ModelCheckpoint and BackupAndRestore with sharded variables ---------------------------------------------

# Every process enters the checkpointing callbacks' saves at the same point and gathers the sharded variables;
# rank 0 alone prints and writes. A recorder (on every process) keeps what get_weights() gives at each save.
def _sharded_mlp(mesh_shape, axis_names, split_axis):
    """The opening of a worker script: a 2-process ModelParallel with both kernels split over ``split_axis``,
    the Dense(16)-Dense(4) model compiled with Adam, data ``x``, ``y`` and this process's ``rank``."""
    return textwrap.dedent(f"""
        import json, os, sys
        import numpy as np
        import lamina as keras
        from lamina import distribution

        rank = distribution.process_index()
        mesh = distribution.DeviceMesh({mesh_shape!r}, {axis_names!r}, distribution.list_devices())
        layout_map = distribution.LayoutMap(mesh)
        layout_map["hidden/kernel"] = (None, {split_axis!r})
        layout_map["head/kernel"] = ({split_axis!r}, None)
        distribution.set_distribution(distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch"))
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(40, 6)).astype("float32"), rng.integers(0, 4, size=(40,))
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu", name="hidden"),
                                  keras.layers.Dense(4, activation="softmax", name="head")])
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    """)


_CHECKPOINT = _sharded_mlp((2,), ["batch"], "batch") + textwrap.dedent("""
    folder = sys.argv[1]
    seen = {}

    class Record(keras.callbacks.Callback):  # every process: get_weights() gathers at the same point
        def on_train_batch_end(self, batch, logs=None):
            seen[f"e{self.epoch}b{batch + 1}"] = model.get_weights()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1

        def on_epoch_end(self, epoch, logs=None):
            seen[f"e{epoch + 1}"] = model.get_weights()

    callbacks = [Record(),
                 keras.callbacks.ModelCheckpoint(os.path.join(folder, "m{epoch}.keras"), verbose=1),
                 keras.callbacks.ModelCheckpoint(os.path.join(folder, "w{epoch}-{batch}.weights.h5"),
                                                 save_weights_only=True, save_freq=3, verbose=1)]
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False, callbacks=callbacks)
    np.savez(os.path.join(folder, f"seen.{rank}.npz"), **{f"{k}_{i}": w for k, ws in seen.items()
                                                          for i, w in enumerate(ws)})
    from lamina.distribution import _loop
    with _loop.whole_weights(model):  # what the callbacks use: entered by every process at the same point
        before = model.get_weights()
        if rank == 0:
            alone = model.get_weights()  # one process alone reads the gathered values
            assert all(np.array_equal(a, b) for a, b in zip(alone, before))
        model.set_weights([w + 1.0 for w in before])  # a write drops them: the next read gathers again
        after = model.get_weights()
    assert all(np.array_equal(a, b + 1.0) for a, b in zip(after, before))
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), after))
    open(os.path.join(folder, f"done.{rank}"), "w").close()
""")


def _seen(folder, rank, key):
    with np.load(folder / f"seen.{rank}.npz") as z:
        return [z[f"{key}_{i}"] for i in range(4)]


def test_model_checkpoint_on_rank_0_saves_the_whole_sharded_weights(tmp_path):
    script = tmp_path / "ckpt.py"
    script.write_text(_CHECKPOINT)
    run = _torchrun(script, [tmp_path], 2)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    # 5 batches per epoch: per epoch 2 saves, and by batches after the 3rd, the 6th (epoch 2's 1st), the 9th
    assert (tmp_path / "done.0").exists() and (tmp_path / "done.1").exists()
    saved = sorted(p.name for p in tmp_path.iterdir() if p.name[0] in "mw")
    assert saved == ["m1.keras", "m2.keras", "w1-3.weights.h5", "w2-1.weights.h5", "w2-4.weights.h5"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # rank 0 alone printed (and wrote) each save
    assert run.stdout.count("finished saving model to") == 5, run.stdout[-2000:]
    for rank in (0, 1):  # every process saw the same whole weights
        for key in ("e1", "e2", "e1b3", "e2b1", "e2b4"):
            for a, b in zip(_seen(tmp_path, 0, key), _seen(tmp_path, rank, key)):
                np.testing.assert_array_equal(a, b)
    assert not np.allclose(_seen(tmp_path, 0, "e1")[0], _seen(tmp_path, 0, "e2")[0])  # the weights moved
    for epoch in (1, 2):  # the files load in one process with the weights of that point of training
        loaded = lamina.saving.load_model(str(tmp_path / f"m{epoch}.keras"))
        assert [list(w.shape) for w in loaded.get_weights()] == [[6, 16], [16], [16, 4], [4]]
        for a, b in zip(_seen(tmp_path, 0, f"e{epoch}"), loaded.get_weights()):
            np.testing.assert_array_equal(b, a)
    model = lamina.Sequential([lamina.Input((6,)), lamina.layers.Dense(16, activation="relu", name="hidden"),
                               lamina.layers.Dense(4, activation="softmax", name="head")])
    for name, key in (("w1-3", "e1b3"), ("w2-1", "e2b1"), ("w2-4", "e2b4")):
        model.load_weights(str(tmp_path / f"{name}.weights.h5"))
        for a, b in zip(_seen(tmp_path, 0, key), model.get_weights()):
            np.testing.assert_array_equal(b, a)


_BACKUP = _sharded_mlp((1, 2), ["batch", "model"], "model") + textwrap.dedent("""
    folder, crash_after, save_freq = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    save_freq = save_freq if save_freq == "epoch" else int(save_freq)

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == crash_after:
                raise SystemExit(3)

    backup = keras.callbacks.BackupAndRestore(os.path.join(folder, "backup"), save_freq=save_freq)
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=2, callbacks=[backup, Crash()])
    with open(os.path.join(folder, f"loss.{rank}.json"), "w") as f:
        json.dump(history.history["loss"], f)
    weights = model.get_weights()
    slots = [keras.ops.convert_to_numpy(v) for v in model.optimizer.variables]  # gathered, in every process
    np.savez(os.path.join(folder, f"end.{rank}.npz"), *(weights + slots))
""")


@pytest.mark.parametrize("save_freq", ["epoch", "3"])
def test_an_interrupted_sharded_run_resumes_from_its_backup(tmp_path, save_freq):
    script = tmp_path / "backup.py"
    script.write_text(_BACKUP)
    for d in ("whole", "cut"):
        (tmp_path / d).mkdir()
    whole = _torchrun(script, [tmp_path / "whole", 0, save_freq], 2)
    assert whole.returncode == 0, whole.stdout[-2000:] + whole.stderr[-4000:]
    # Both processes stop in epoch 2's on_epoch_end: with save_freq="epoch" that epoch is still backed up (as
    # Keras, whose backup callback is listed first here), so the run resumes with epoch 3; with save_freq=3 the
    # last backup is epoch 2's 4th batch (5 batches per epoch: after the 3rd, 6th and 9th batch).
    crashed = _torchrun(script, [tmp_path / "cut", 2, save_freq], 2)
    assert crashed.returncode != 0
    assert (tmp_path / "cut" / "backup" / "latest.backup.zip").is_file()
    resumed = _torchrun(script, [tmp_path / "cut", 0, save_freq], 2)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-4000:]
    assert "Epoch 1/3" not in resumed.stdout, resumed.stdout[-2000:]
    assert resumed.stdout.count("Epoch 2/3") == (0 if save_freq == "epoch" else 1), resumed.stdout[-2000:]
    assert resumed.stdout.count("Epoch 3/3") == 1, resumed.stdout[-2000:]
    with np.load(tmp_path / "whole" / "end.0.npz") as z:
        expected = [z[f"arr_{i}"] for i in range(len(z.files))]
    assert len(expected) > 4  # the weights, then the optimizer's variables (Adam's sharded moments)
    for rank in (0, 1):
        with np.load(tmp_path / "cut" / f"end.{rank}.npz") as z:
            got = [z[f"arr_{i}"] for i in range(len(z.files))]
        assert len(got) == len(expected)
        for a, b in zip(expected, got):
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
        # the resumed epochs' logs count every batch once (the backed-up metric accumulators are the sums
        # over both processes: rank 0 restores them, rank 1 starts from zero)
        whole_loss = json.loads((tmp_path / "whole" / f"loss.{rank}.json").read_text())
        resumed_loss = json.loads((tmp_path / "cut" / f"loss.{rank}.json").read_text())
        np.testing.assert_allclose(resumed_loss, whole_loss[2 if save_freq == "epoch" else 1:], rtol=1e-5)
    assert not (tmp_path / "cut" / "backup").exists()  # rank 0 removed it at the end


_TENSORBOARD_WORKER = textwrap.dedent("""
    import sys
    import numpy as np
    import lamina as keras
    from lamina import distribution

    out = sys.argv[1]
    world = distribution.process_count()
    mesh = distribution.DeviceMesh((world,), ["batch"], distribution.list_devices())
    layout_map = distribution.LayoutMap(mesh)
    layout_map["hidden/kernel"] = (None, "batch")
    distribution.set_distribution(distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch"))
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 6)).astype("float32"), rng.integers(0, 4, size=(32,))
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu", name="hidden"),
                              keras.layers.Dense(4, activation="softmax", name="head")], name="net")
    model.compile("adam", "sparse_categorical_crossentropy")
    # Weight histograms on rank 0 between two checkpoints: the collectives of both callbacks pair up.
    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[
        keras.callbacks.ModelCheckpoint(out + "/first.weights.h5", save_weights_only=True),
        keras.callbacks.TensorBoard(out + "/logs", histogram_freq=2),
        keras.callbacks.ModelCheckpoint(out + "/second.weights.h5", save_weights_only=True)])
    weights = {w.path: w.numpy() for w in model.weights}  # every process gathers
    if distribution.process_index() == 0:
        np.savez(out + "/final.npz", **{k.replace("/", "__"): v for k, v in weights.items()})
""")


def test_tensorboard_histograms_of_sharded_weights_are_whole(tmp_path):
    """TensorBoard(histogram_freq) under ModelParallel: the other ranks join the gathering of the sharded weights
    at the epochs rank 0 writes histograms, so rank 0 writes histograms of the whole weights."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    script = tmp_path / "worker.py"
    script.write_text(_TENSORBOARD_WORKER)
    done = _torchrun(script, [tmp_path], nproc=2)
    assert done.returncode == 0, done.stderr[-3000:]
    acc = EventAccumulator(str(tmp_path / "logs" / "train"), size_guidance={"tensors": 0})
    acc.Reload()
    with np.load(tmp_path / "final.npz") as z:
        final = {k.replace("__", "/"): z[k] for k in z.files}
    assert final["net/hidden/kernel"].shape == (6, 16)
    for path, value in final.items():
        events = acc.Tensors(f"{path}/histogram")
        assert [e.step for e in events] == [0, 2]
        buckets = tensor_util.make_ndarray(events[-1].tensor_proto)
        assert buckets[:, 2].sum() == value.size  # the whole variable, not this process's half
        np.testing.assert_allclose([buckets[0, 0], buckets[-1, 1]], [value.min(), value.max()], rtol=1e-6)
    assert (tmp_path / "first.weights.h5").exists() and (tmp_path / "second.weights.h5").exists()
