"""Damaged files never hang or crash the process; sharded weights (``.weights.json``) round-trip and are checked.

The fuzz test mutates valid ``.keras``, ``.h5`` and ``.weights.h5`` files (truncations, bit flips, zeroed and
shuffled byte ranges; fixed seed) and loads each in a worker subprocess, one load at a time under a time limit:
every load must either succeed or raise lamina's own ``FileLoadError`` (a ValueError naming the file). A load
that crashes the worker (a signal, a C-level abort) or runs past the limit fails the test, naming the mutation.
"""

import json
import os
import queue
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.saving.file_safety import FileLoadError

N_MUTATIONS = 50
LOAD_TIME_LIMIT_S = 30


def _model():
    inp = lamina.Input((6, 3))
    x = layers.Conv1D(4, 2, name="conv")(inp)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.LSTM(3, name="lstm")(x)
    out = layers.Dense(2, name="out")(x)
    model = lamina.Model(inp, out)
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.standard_normal((8, 6, 3)).astype("float32"), rng.standard_normal((8, 2)).astype("float32"),
              epochs=1, verbose=0)
    return model


def _mutate(data, rng):
    data = bytearray(data)
    kind = rng.integers(0, 5)
    if kind == 0:  # truncate
        return bytes(data[: int(rng.integers(0, len(data)))]), "truncate"
    if kind == 1:  # flip a few bits
        for _ in range(int(rng.integers(1, 8))):
            i = int(rng.integers(0, len(data)))
            data[i] ^= 1 << int(rng.integers(0, 8))
        return bytes(data), "bitflip"
    if kind == 2:  # zero a range
        i = int(rng.integers(0, len(data)))
        n = int(rng.integers(1, 256))
        data[i:i + n] = bytes(len(data[i:i + n]))
        return bytes(data), "zero"
    if kind == 3:  # random bytes over a range (often inside the HDF5 superblock / object headers)
        i = int(rng.integers(0, min(len(data), 4096)))
        n = int(rng.integers(1, 64))
        data[i:i + n] = rng.integers(0, 256, size=len(data[i:i + n]), dtype=np.uint8).tobytes()
        return bytes(data), "scramble"
    i, j = sorted(int(v) for v in rng.integers(0, len(data), size=2))  # duplicate a slice (shifts offsets)
    return bytes(data[:j] + data[i:j] + data[j:]), "duplicate"


_WORKER = textwrap.dedent("""
    import sys, traceback, warnings
    warnings.simplefilter("ignore")
    import lamina
    from lamina.saving.file_safety import FileLoadError
    kind = sys.argv[1]
    template = sys.argv[2] if len(sys.argv) > 2 else None
    model = lamina.models.load_model(template) if template else None
    for line in sys.stdin:
        path = line.strip()
        print("start", path, flush=True)
        try:
            if kind == "model":
                lamina.models.load_model(path)
            else:
                model.load_weights(path)
            print("ok", path, flush=True)
        except FileLoadError as e:
            print("refused", path, str(e).replace("\\n", " ")[:300], flush=True)
        except Exception as e:
            print("OTHER", path, type(e).__name__, str(e).replace("\\n", " ")[:300], flush=True)
""")


def _run_loads(paths, kind, template=None):
    """Load every path in a worker, restarting it after a crash or hang; return {path: (status, detail)}."""
    results, todo = {}, list(paths)
    while todo:
        args = [sys.executable, "-c", _WORKER, kind] + ([template] if template else [])
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=dict(os.environ))
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout] + [lines.put(None)],
                         daemon=True).start()
        proc.stdin.write("".join(p + "\n" for p in todo))
        proc.stdin.close()
        current, first = None, True
        while todo:
            try:
                line = lines.get(timeout=LOAD_TIME_LIMIT_S + (60 if first else 0))  # first: the import
            except queue.Empty:
                proc.kill()
                results[current or todo[0]] = ("HANG", f"no answer within {LOAD_TIME_LIMIT_S}s")
                todo.remove(current or todo[0])
                break
            if line is None:  # the worker died
                proc.wait()
                victim = current or todo[0]
                results[victim] = ("CRASH", f"worker exited with {proc.returncode}: {proc.stderr.read()[-500:]}")
                todo.remove(victim)
                break
            status, path, *rest = line.rstrip("\n").split(" ", 2)
            first = False
            if status == "start":
                current = path
                continue
            results[path] = (status, " ".join(rest))
            todo.remove(path)
            current = None
        proc.kill()
        proc.wait()
    return results


def _fuzz(tmp_path, good, suffix, kind, seed, template=None):
    data = open(good, "rb").read()
    rng = np.random.default_rng(seed)
    paths, how = [], {}
    for i in range(N_MUTATIONS):
        mutated, what = _mutate(data, rng)
        path = str(tmp_path / f"m{i:02d}{suffix}")
        with open(path, "wb") as f:
            f.write(mutated)
        paths.append(path)
        how[path] = what
    results = _run_loads(paths, kind, template)
    bad = {os.path.basename(p): (how[p],) + r for p, r in results.items() if r[0] not in ("ok", "refused")}
    assert not bad, f"loads that crashed, hung or raised a foreign error: {bad}"
    for p, (status, detail) in results.items():
        if status == "refused":
            assert os.path.basename(p) in detail, f"the error for {p} does not name the file: {detail}"
    assert sum(r[0] == "refused" for r in results.values()) >= N_MUTATIONS // 5  # the mutations do damage
    return results


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("good")
    model = _model()
    model.save(folder / "good.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model.save(folder / "good.h5")
    model.save_weights(folder / "good.weights.h5")
    return folder


def test_fuzz_keras_archive(tmp_path, saved):
    _fuzz(tmp_path, saved / "good.keras", ".keras", "model", seed=1)


def test_fuzz_legacy_h5(tmp_path, saved):
    _fuzz(tmp_path, saved / "good.h5", ".h5", "model", seed=2)


def test_fuzz_weights_h5(tmp_path, saved):
    _fuzz(tmp_path, saved / "good.weights.h5", ".weights.h5", "weights", seed=3, template=str(saved / "good.keras"))


def test_unmutated_files_load_in_the_worker(saved):
    results = _run_loads([str(saved / "good.keras"), str(saved / "good.h5")], "model")
    assert all(r[0] == "ok" for r in results.values()), results


# ---- sharded weights: save_weights("w.weights.json", max_shard_size=...) -----------------------------------

def _fresh():
    model = _model()
    model.set_weights([np.full(w.shape, 0.5, w.dtype) for w in model.get_weights()])
    return model


def test_sharded_weights_round_trip_in_keras_layout(tmp_path):
    model = _model()
    path = tmp_path / "w.weights.json"
    model.save_weights(path, max_shard_size=200 / 1024 ** 3)  # 200 bytes: several shards
    index = json.loads(path.read_text())
    shards = sorted(set(index["weight_map"].values()))
    assert len(shards) >= 3 and shards[0] == "w_00000.weights.h5"
    assert sorted(os.listdir(tmp_path)) == sorted(shards + ["w.weights.json"])
    assert "/layers/conv/vars" in index["weight_map"] or "/layers/conv1d/vars" in index["weight_map"]
    assert "/optimizer/vars" in index["weight_map"]
    total = sum(w.nbytes for w in model.get_weights()) + sum(
        np.asarray(v.numpy()).nbytes for v in model.optimizer.variables)
    assert index["metadata"]["total_size"] == total
    other = _fresh()
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(5).standard_normal((2, 6, 3)).astype("float32")
    np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_one_shard_when_everything_fits(tmp_path):
    model = _model()
    model.save_weights(tmp_path / "all.weights.json", max_shard_size=1)
    assert sorted(os.listdir(tmp_path)) == ["all.weights.json", "all_00000.weights.h5"]
    other = _fresh()
    other.load_weights(tmp_path / "all.weights.json")
    np.testing.assert_array_equal(other.get_weights()[0], model.get_weights()[0])


def test_sharded_save_errors(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match=r"max_shard_size the file name must end in '\.weights\.json'"):
        model.save_weights(tmp_path / "w.weights.h5", max_shard_size=1)
    with pytest.raises(ValueError, match="more than max_shard_size"):
        model.save_weights(tmp_path / "w.weights.json", max_shard_size=8 / 1024 ** 3)
    with pytest.raises(ValueError, match="positive number of GB"):
        model.save_weights(tmp_path / "w.weights.json", max_shard_size=0)


def _sharded(tmp_path):
    model = _model()
    path = tmp_path / "w.weights.json"
    model.save_weights(path, max_shard_size=200 / 1024 ** 3)
    return path, json.loads(path.read_text())


def test_sharded_load_refuses_a_missing_or_truncated_shard(tmp_path):
    path, index = _sharded(tmp_path)
    victim = tmp_path / sorted(set(index["weight_map"].values()))[1]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 3])
    with pytest.raises(FileLoadError, match=r"w_00001\.weights\.h5.*truncated"):
        _fresh().load_weights(path)
    victim.unlink()
    with pytest.raises(FileLoadError, match=r"shard 'w_00001\.weights\.h5' is missing"):
        _fresh().load_weights(path)


def test_sharded_load_checks_declared_size_against_the_bytes_present(tmp_path):
    path, index = _sharded(tmp_path)
    index["metadata"]["total_size"] = 10 ** 12
    path.write_text(json.dumps(index))
    with pytest.raises(FileLoadError, match=r"declares 1000000000000 bytes.*hold only \d+ bytes"):
        _fresh().load_weights(path)


@pytest.mark.parametrize("shard", ["../escape.weights.h5", "/etc/passwd", "sub/x.weights.h5", "x.pkl"])
def test_sharded_load_refuses_shard_names_that_are_paths(tmp_path, shard):
    path, index = _sharded(tmp_path)
    index["weight_map"]["/layers/out/vars"] = shard
    path.write_text(json.dumps(index))
    with pytest.raises(FileLoadError, match="not a plain file name"):
        _fresh().load_weights(path)


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"weight_map": {"/vars": 3}}'])
def test_sharded_load_refuses_a_broken_index(tmp_path, text):
    path = tmp_path / "bad.weights.json"
    path.write_text(text)
    with pytest.raises(FileLoadError, match=r"bad\.weights\.json"):
        _fresh().load_weights(path)
