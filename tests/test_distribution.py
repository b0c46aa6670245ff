"""lamina.distribution: the Keras API on both engines, data parallel over torch.distributed
(real processes launched by torchrun, Gloo on 127.0.0.1) and over jax.sharding (two host devices)."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import lamina
from lamina import distribution

ENGINE = lamina.backend.backend()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- the API (both backends) --------------------------------------------------------------------


def test_one_process_by_default():
    assert distribution.process_index() == 0
    assert distribution.process_count() == 1
    assert distribution.is_chief()
    assert distribution.distribution() is None
    devices = distribution.list_devices()
    assert devices and all(":" in d for d in devices)
    assert distribution.list_devices("cpu") or distribution.list_devices("gpu")


def test_list_devices_rejects_an_unknown_type():
    with pytest.raises(ValueError, match="device_type must be"):
        distribution.list_devices("abacus")


def test_device_mesh_checks_its_arguments():
    dev = distribution.list_devices()[:1]
    mesh = distribution.DeviceMesh((1,), ["batch"], dev)
    assert mesh.shape == (1,) and mesh.axis_names == ["batch"] and mesh.devices.shape == (1,)
    with pytest.raises(ValueError, match="same length"):
        distribution.DeviceMesh((1,), ["batch", "model"], dev)
    with pytest.raises(ValueError, match="needs 4 devices, but received 1"):
        distribution.DeviceMesh((2, 2), ["batch", "model"], dev)
    with pytest.raises(ValueError, match="distinct"):
        distribution.DeviceMesh((1, 1), ["a", "a"], dev)


def test_layout_map_looks_up_by_exact_key_then_regex():
    mesh = distribution.DeviceMesh((1, 1), ["batch", "model"], distribution.list_devices()[:1])
    lm = distribution.LayoutMap(mesh)
    lm["dense/kernel"] = (None, "model")
    lm[r"conv.*/kernel"] = distribution.TensorLayout((None, None, None, "model"))
    assert lm["dense/kernel"].axes == (None, "model")
    assert lm["conv2d_3/kernel"].axes == (None, None, None, "model")
    assert lm["conv2d_3/kernel"].device_mesh is mesh
    assert lm["dense/bias"] is None
    assert len(lm) == 2 and set(lm) == {"dense/kernel", r"conv.*/kernel"}
    lm["kernel"] = (None, None)
    with pytest.raises(ValueError, match="matches several keys"):
        lm["conv2d/kernel"]
    with pytest.raises(ValueError, match="already has a layout"):
        lm["dense/kernel"] = (None, None)
    with pytest.raises(ValueError, match="must be a TensorLayout"):
        lm["x"] = "model"
    with pytest.raises(ValueError, match="not axes of the mesh"):
        lm["y"] = ("nope",)


def test_distributions_check_their_arguments():
    dev = distribution.list_devices()[:1]
    dp = distribution.DataParallel(devices=dev)
    assert dp.batch_dim_name == "batch" and dp.device_mesh.shape == (1,)
    with pytest.raises(ValueError, match="one-dimensional"):
        distribution.DataParallel(device_mesh=distribution.DeviceMesh((1, 1), ["a", "b"], dev))
    with pytest.raises(ValueError, match="must be a LayoutMap"):
        distribution.ModelParallel(layout_map={"dense/kernel": (None, "model")})
    mesh = distribution.DeviceMesh((1, 1), ["batch", "model"], dev)
    with pytest.raises(ValueError, match="batch_dim_name 'data' is not an axis"):
        distribution.ModelParallel(layout_map=distribution.LayoutMap(mesh), batch_dim_name="data")
    with pytest.raises(ValueError, match="expected a DataParallel"):
        distribution.set_distribution("data_parallel")


def test_scope_sets_and_restores_the_distribution():
    dp = distribution.DataParallel(devices=distribution.list_devices()[:1])
    with dp.scope() as d:
        assert distribution.distribution() is d is dp
    assert distribution.distribution() is None


def test_model_parallel_layouts_follow_the_map_and_slots_follow_their_variable():
    mesh = distribution.DeviceMesh((1, 1), ["batch", "model"], distribution.list_devices()[:1])
    lm = distribution.LayoutMap(mesh)
    lm["dense/kernel"] = (None, "model")
    lm["dense/bias"] = ("model", "model")
    mp = distribution.ModelParallel(layout_map=lm)
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(4, name="dense")])
    model.compile("adam", "mse")
    model.optimizer.build(model.trainable_variables)
    kernel, bias = model.trainable_variables
    assert mp.get_variable_layout(kernel).axes == (None, "model")
    slot = next(v for v in model.optimizer.variables if "dense_kernel" in v.path)
    assert mp.get_variable_layout(slot).axes == (None, "model")
    with pytest.raises(ValueError, match="has 2 axes, but the variable has shape"):
        mp.get_variable_layout(bias)


def test_one_device_data_parallel_trains_like_no_distribution():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 5)).astype("float32"), rng.normal(size=(64, 1)).astype("float32")

    def run():
        lamina.utils.set_random_seed(3)
        m = lamina.Sequential([lamina.Input((5,)), lamina.layers.Dense(4, activation="relu"),
                               lamina.layers.Dense(1)])
        m.compile("adam", "mse")
        m.fit(x, y, batch_size=16, epochs=2, verbose=0)
        return [lamina.ops.convert_to_numpy(v.value) for v in m.trainable_variables]

    plain = run()
    with distribution.DataParallel(devices=distribution.list_devices()[:1]).scope():
        dp = run()
    for a, b in zip(plain, dp):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


# ---- PyTorch: processes launched by torchrun ------------------------------------------------------

torch_only = pytest.mark.skipif(ENGINE != "torch", reason="torch.distributed processes (the torch backend)")
jax_only = pytest.mark.skipif(ENGINE != "jax", reason="jax.sharding over host devices (the jax backend)")

_MNIST_WORKER = textwrap.dedent("""
    import json, os, sys
    import numpy as np
    import lamina as keras
    out, epochs, crash_after = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    (x, y), _ = keras.datasets.mnist.load_data()
    x, y = x[:1536].astype("float32") / 255.0, y[:1536]
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == crash_after:
                raise SystemExit(3)

    backup = os.path.join(os.path.dirname(out), "backup")
    log = os.path.join(os.path.dirname(out), "log.csv")
    history = model.fit(x, y, batch_size=64, epochs=epochs, verbose=2, validation_split=0.25,
                        callbacks=[keras.callbacks.BackupAndRestore(backup), keras.callbacks.CSVLogger(log, append=True),
                                   Crash()])
    result = {"history": history.history, "evaluate": model.evaluate(x, y, verbose=0),
              "rank": keras.distribution.process_index(), "world": keras.distribution.process_count()}
    np.savez(out + f".{result['rank']}.npz", *[keras.ops.convert_to_numpy(v.value) for v in model.weights])
    with open(out + f".{result['rank']}.json", "w") as f:
        json.dump(result, f)
""")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra):
    env = dict(os.environ, OMP_NUM_THREADS="1", LAMINA_BACKEND=ENGINE, PYTHONPATH=ROOT, **extra)
    if ENGINE == "jax":  # the processes share this machine's CPU (two JAX processes cannot share one GPU)
        env.setdefault("JAX_PLATFORMS", "cpu")
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    env.update(extra)
    return env


def _torchrun(script, args, nproc):
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc}",
           f"--master-port={_free_port()}", str(script)] + [str(a) for a in args]
    return subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=240)


def _load(prefix, rank=0):
    with open(f"{prefix}.{rank}.json") as f:
        result = json.load(f)
    with np.load(f"{prefix}.{rank}.npz") as z:
        weights = [z[k] for k in sorted(z.files, key=lambda k: int(k.split("_")[1]))]
    return result, weights


@torch_only
def test_two_processes_take_the_steps_of_one_with_the_same_global_batch(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(_MNIST_WORKER)
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = subprocess.run([sys.executable, str(script), str(tmp_path / "one" / "w"), "2", "0"], env=_env(),
                         capture_output=True, text=True, timeout=240)
    assert one.returncode == 0, one.stderr[-3000:]
    two = _torchrun(script, [tmp_path / "two" / "w", 2, 0], nproc=2)
    assert two.returncode == 0, two.stderr[-3000:]
    single, w1 = _load(tmp_path / "one" / "w")
    for rank in (0, 1):
        multi, w2 = _load(tmp_path / "two" / "w", rank)
        assert multi["world"] == 2 and multi["rank"] == rank
        for a, b in zip(w1, w2):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        for key, values in single["history"].items():  # logs cover all processes' batches
            np.testing.assert_allclose(multi["history"][key], values, rtol=1e-5, err_msg=key)
        np.testing.assert_allclose(multi["evaluate"], single["evaluate"], rtol=1e-5)
    # Only rank 0 prints the progress lines and writes the CSV log.
    assert two.stdout.count("Epoch 2/2") == 1
    rows = (tmp_path / "two" / "log.csv").read_text().strip().splitlines()
    assert len(rows) == 3 and rows[0].startswith("epoch")


@torch_only
def test_an_interrupted_two_process_run_resumes_from_its_backup(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(_MNIST_WORKER)
    for d in ("whole", "cut"):
        (tmp_path / d).mkdir()
    whole = _torchrun(script, [tmp_path / "whole" / "w", 3, 0], nproc=2)
    assert whole.returncode == 0, whole.stderr[-3000:]
    crashed = _torchrun(script, [tmp_path / "cut" / "w", 3, 2], nproc=2)  # both stop after epoch 2
    assert crashed.returncode != 0
    assert (tmp_path / "cut" / "backup").is_dir()
    resumed = _torchrun(script, [tmp_path / "cut" / "w", 3, 0], nproc=2)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert resumed.stdout.count("Epoch 3/3") == 1 and "Epoch 1/3" not in resumed.stdout
    _, expected = _load(tmp_path / "whole" / "w")
    for rank in (0, 1):
        _, got = _load(tmp_path / "cut" / "w", rank)
        for a, b in zip(expected, got):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not (tmp_path / "cut" / "backup").exists()  # rank 0 removed it at the end


_LONG_WORKER = textwrap.dedent("""
    import os, pathlib, sys
    import numpy as np
    import lamina as keras
    marker = pathlib.Path(sys.argv[1])
    x = np.random.default_rng(0).normal(size=(512, 8)).astype("float32")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    touch = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda e, l: marker.with_suffix("." + os.environ["RANK"]).touch())
    model.fit(x, x[:, :1], batch_size=8, epochs=100000, verbose=0, callbacks=[touch])
""")


@torch_only
def test_when_a_worker_is_killed_the_other_stops_with_a_clear_error(tmp_path):
    script = tmp_path / "long.py"
    script.write_text(_LONG_WORKER)
    common = dict(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()), WORLD_SIZE="2")
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path / "alive")], env=_env(RANK=str(r), **common),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in (0, 1)]
    try:
        deadline = time.time() + 120
        while not (tmp_path / "alive.1").exists():
            assert time.time() < deadline and procs[0].poll() is None, "the workers never started training"
            time.sleep(0.2)
        procs[1].send_signal(signal.SIGKILL)
        killed_at = time.time()
        _, err = procs[0].communicate(timeout=60)
        assert time.time() - killed_at < 60
        assert procs[0].returncode not in (0, None)
        assert "lamina.distribution: process 0 of 2 could not" in err
        assert "another process probably stopped" in err
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()


# ---- JAX: two host devices ----------------------------------------------------------------------

_JAX_WORKER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import lamina as keras
    from lamina import distribution
    mode = sys.argv[1]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 12)).astype("float32")
    y = rng.integers(0, 4, 256)
    if mode == "dp":
        distribution.set_distribution(distribution.DataParallel())
    elif mode == "mp":
        mesh = distribution.DeviceMesh((1, 2), ["batch", "model"])
        layout_map = distribution.LayoutMap(mesh)
        layout_map["dense/kernel"] = (None, "model")
        layout_map["dense/bias"] = ("model",)
        layout_map["dense_1/kernel"] = ("model", None)
        distribution.set_distribution(distribution.ModelParallel(layout_map=layout_map))
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(4, activation="softmax")],
                             name="net")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    train_fn = model._get_step("train")
    block = train_fn._batches(train_fn.place(type("D", (), {"x": x, "y": y, "sample_weight": None})()),
                              [np.arange(32)])[0]
    block = getattr(block, "batches", block)  # one device on the CPU: a block padded to a full call
    out = {"devices": distribution.list_devices(), "history": history.history,
           "evaluate": model.evaluate(x, y, verbose=0),
           "predict": model.predict(x[:5], verbose=0).tolist(),
           "specs": {v.path: str(getattr(v.value.sharding, "spec", None)) for v in model.weights},
           "slot_spec": str(getattr(next(v for v in model.optimizer.variables if "dense_kernel" in v.path)
                                    .value.sharding, "spec", None)),
           # (one device on the CPU: a block run whole is handed over as NumPy arrays, with no sharding)
           "batch_spec": str(getattr(getattr(block[0], "sharding", None), "spec", None)),
           "weights": [keras.ops.convert_to_numpy(v.value).tolist() for v in model.weights]}
    print(json.dumps(out))
""")


@jax_only
def test_jax_data_and_model_parallel_match_one_device_and_shard_as_asked(tmp_path):
    script = tmp_path / "jax_worker.py"
    script.write_text(_JAX_WORKER)
    # Two *host* devices, also on a machine with a GPU (where JAX would otherwise pick the one GPU).
    env = _env(XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    results = {}
    for mode in ("none", "dp", "mp"):
        run = subprocess.run([sys.executable, str(script), mode], env=env, capture_output=True, text=True,
                             timeout=240)
        assert run.returncode == 0, run.stderr[-3000:]
        results[mode] = json.loads(run.stdout.strip().splitlines()[-1])
    assert results["none"]["devices"] == ["cpu:0", "cpu:1"]
    base = results["none"]
    for mode in ("dp", "mp"):
        got = results[mode]
        for a, b in zip(base["weights"], got["weights"]):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5, err_msg=mode)
        np.testing.assert_allclose(got["history"]["loss"], base["history"]["loss"], rtol=1e-5)
        np.testing.assert_allclose(got["evaluate"], base["evaluate"], rtol=1e-5)
        np.testing.assert_allclose(got["predict"], base["predict"], rtol=1e-4, atol=1e-6)
        assert got["batch_spec"] == "P(None, 'batch', None)"  # (steps, batch, features)
    dp, mp = results["dp"]["specs"], results["mp"]["specs"]
    assert set(dp.values()) <= {"P()", "P(None,)", "P(None, None)"}
    # (paths under the model's name, as Keras's; the LayoutMap's "dense/kernel" keys match them by search)
    assert mp["net/dense/kernel"] == "P(None, 'model')"
    assert mp["net/dense/bias"] == "P('model',)"
    assert mp["net/dense_1/kernel"] == "P('model', None)"
    assert mp["net/dense_1/bias"] == "P(None,)"
    assert results["mp"]["slot_spec"] == "P(None, 'model')"  # Adam's slots follow their kernel


_JAX_PROCESS_WORKER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import lamina as keras
    from lamina import distribution
    mode, rank, port = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    procs = 2 if mode.startswith("two") else 1
    if procs == 2:
        distribution.initialize("127.0.0.1:" + port, 2, rank)
        distribution.set_distribution(distribution.DataParallel())
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 12)).astype("float32")
    y = rng.integers(0, 4, 256)
    keras.utils.set_random_seed(5 + rank)  # each process initialises differently: rank 0's weights win
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(4, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    if mode.endswith("iter"):
        share = 32 // procs

        def batches():  # each process reads only its own part of every global batch of 32
            while True:
                for i in range(8):
                    lo = i * 32 + rank * share
                    yield x[lo:lo + share], y[lo:lo + share]

        history = model.fit(batches(), steps_per_epoch=8, epochs=2, verbose=0)
    else:
        history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    print(json.dumps({"devices": distribution.list_devices(), "history": history.history,
                      "evaluate": model.evaluate(x, y, verbose=0), "predict": model.predict(x[:4], verbose=0).tolist(),
                      "weights": [v.numpy().tolist() for v in model.weights]}))
""")


@jax_only
@pytest.mark.parametrize("source", ["arrays", "iter"])
def test_two_jax_processes_train_like_one(tmp_path, source):
    script = tmp_path / "jax_processes.py"
    script.write_text(_JAX_PROCESS_WORKER)
    port = str(_free_port())
    env = _env()
    one = subprocess.run([sys.executable, str(script), f"one_{source}", "0", port], env=env, capture_output=True,
                         text=True, timeout=240)
    assert one.returncode == 0, one.stderr[-3000:]
    procs = [subprocess.Popen([sys.executable, str(script), f"two_{source}", str(r), port], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in (0, 1)]
    outs = [p.communicate(timeout=240) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    base = json.loads(one.stdout.strip().splitlines()[-1])
    for out, _ in outs:
        got = json.loads(out.strip().splitlines()[-1])
        assert len(got["devices"]) == 2  # one CPU device per process, one mesh over both
        for a, b in zip(base["weights"], got["weights"]):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got["history"]["loss"], base["history"]["loss"], rtol=1e-5)
        np.testing.assert_allclose(got["evaluate"], base["evaluate"], rtol=1e-5)
        np.testing.assert_allclose(got["predict"], base["predict"], rtol=1e-5, atol=1e-6)


_SYNC_BN_WORKER = textwrap.dedent("""
    import sys
    import numpy as np
    import lamina as keras
    out, synchronized = sys.argv[1], sys.argv[2] == "1"
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6)).astype("float32") * np.arange(1, 7, dtype="float32")
    x[:32] += 3.0  # the two processes' halves of each batch have different statistics
    y = rng.standard_normal((64, 1)).astype("float32")
    order = np.concatenate([np.arange(0, 32, 2), np.arange(32, 64, 2), np.arange(1, 32, 2), np.arange(33, 64, 2)])
    x, y = x[order], y[order]
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8),
                              keras.layers.BatchNormalization(synchronized=synchronized, momentum=0.5),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    rank = keras.distribution.process_index()
    np.savez(f"{out}.{rank}.npz", *[keras.ops.convert_to_numpy(v.value) for v in model.weights])
""")


@torch_only
def test_synchronized_batch_normalization_uses_the_global_batch(tmp_path):
    script = tmp_path / "sync_bn.py"
    script.write_text(_SYNC_BN_WORKER)
    one = subprocess.run([sys.executable, str(script), str(tmp_path / "one"), "1"], env=_env(),
                         capture_output=True, text=True, timeout=240)
    assert one.returncode == 0, one.stderr[-3000:]
    results = {}
    for synced in ("1", "0"):
        run = _torchrun(script, [tmp_path / f"two{synced}", synced], nproc=2)
        assert run.returncode == 0, run.stderr[-3000:]
        with np.load(tmp_path / f"two{synced}.0.npz") as z:
            results[synced] = [z[k] for k in sorted(z.files, key=lambda k: int(k.split("_")[1]))]
    with np.load(tmp_path / "one.0.npz") as z:
        single = [z[k] for k in sorted(z.files, key=lambda k: int(k.split("_")[1]))]
    # synchronized: weights and moving statistics as one process on the global batch of 32
    for a, b in zip(single, results["1"]):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    # not synchronized: each process normalizes its own half (different statistics), as Keras
    assert any(not np.allclose(a, b, rtol=1e-3, atol=1e-4) for a, b in zip(single, results["0"]))


_JAX_LONG_WORKER = textwrap.dedent("""
    import pathlib, sys
    import numpy as np
    import lamina as keras
    from lamina import distribution
    rank, port, marker = int(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])
    distribution.initialize("127.0.0.1:" + port, 2, rank)
    distribution.set_distribution(distribution.DataParallel())
    x = np.random.default_rng(0).normal(size=(512, 8)).astype("float32")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    touch = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, l: marker.with_suffix(f".{rank}").touch())
    model.fit(x, x[:, :1], batch_size=8, epochs=100000, verbose=0, callbacks=[touch])
""")


@jax_only
@pytest.mark.parametrize("victim", [1, 0])
def test_when_a_jax_process_is_killed_the_other_stops(tmp_path, victim):
    # JAX's coordination service notices the missing heartbeats (LAMINA_DISTRIBUTED_TIMEOUT sets how long it
    # waits) or the broken collective, and stops the survivor with its own message, instead of hanging.
    script = tmp_path / "long.py"
    script.write_text(_JAX_LONG_WORKER)
    port, marker = str(_free_port()), tmp_path / "alive"
    env = _env(LAMINA_DISTRIBUTED_TIMEOUT="10")
    procs = [subprocess.Popen([sys.executable, str(script), str(r), port, str(marker)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in (0, 1)]
    try:
        deadline = time.time() + 180
        while not marker.with_suffix(".1").exists():
            assert time.time() < deadline and procs[0].poll() is None, "the workers never started training"
            time.sleep(0.2)
        procs[victim].send_signal(signal.SIGKILL)
        killed_at = time.time()
        survivor = procs[1 - victim]
        _, err = survivor.communicate(timeout=90)
        assert time.time() - killed_at < 90
        assert survivor.returncode not in (0, None)
        assert "another task died" in err or "heartbeat" in err or "Connection reset" in err, err[-2000:]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()


def test_other_ranks_keep_a_peer_of_callbacks_that_read_the_weights(tmp_path):
    """On ranks other than 0, callbacks that write only on rank 0 are left out, except that TensorBoard with
    weight histograms or embeddings becomes a peer joining the gathering of sharded weights at the same epochs
    (tests/test_torch_model_parallel.py runs it in two processes)."""
    from lamina.callbacks.callback import WeightReadPeer
    from lamina.distribution import _loop

    board = lamina.callbacks.TensorBoard(str(tmp_path), histogram_freq=2, embeddings_freq=3)
    plain = lamina.callbacks.TensorBoard(str(tmp_path))
    csv = lamina.callbacks.CSVLogger(str(tmp_path / "log.csv"))
    checkpoint = lamina.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"))
    kept = _loop.for_other_ranks([board, csv, checkpoint, plain])
    assert len(kept) == 3 and kept[1] is checkpoint and all(isinstance(kept[i], WeightReadPeer) for i in (0, 2))
    assert [e for e in range(7) if board.reads_weights_at(e)] == [0, 2, 3, 4, 6]
    assert not any(plain.reads_weights_at(e) for e in range(5))
