"""A process killed (SIGKILL) in the middle of a save leaves the previous file loadable.

A child interpreter (same ``LAMINA_BACKEND``) saves a known-good file, then starts
a second save of other weights and is stopped by a hook *while the temporary
file is being written*; it prints a marker, the parent checks that the temporary
file exists, kills the child and loads the target, which must hold the first
weights.
"""

import os
import select
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import lamina

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

_CHILD = r'''
import os, sys, time, warnings
import numpy as np
import h5py
import lamina

kind, folder, name = sys.argv[1], sys.argv[2], sys.argv[3]
path = os.path.join(folder, name)
warnings.simplefilter("ignore")


def build(seed):
    model = lamina.Sequential([lamina.Input((512,)), lamina.layers.Dense(1024, name="a"),
                               lamina.layers.Dense(512, name="b")])  # about 4 MB of weights
    rng = np.random.default_rng(seed)
    for v in model.weights:
        v.assign(rng.standard_normal(tuple(v.shape)).astype("float32"))
    return model


def save(model):
    if kind == "weights":
        model.save_weights(path)
    else:
        model.save(path)


first = build(1)
save(first)
np.savez(os.path.join(folder, "expected.npz"), *[np.asarray(w) for w in first.get_weights()])
armed = [True]


def stop_here():
    if armed[0]:
        armed[0] = False
        print("MID-SAVE", flush=True)
        time.sleep(120)


if kind == "keras":
    # The archive's temporary file is open: stop after its first MB of weights.
    from lamina.saving import keras_archive
    import shutil, types

    def slow_copy(src, dst, length=1 << 20):
        dst.write(src.read(1 << 20))
        stop_here()
        shutil.copyfileobj(src, dst, length)

    keras_archive.shutil = types.SimpleNamespace(copyfileobj=slow_copy)
else:
    # The h5 temporary file is being written directly: stop after its first dataset.
    original = h5py.Group.create_dataset

    def slow_create(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        self.file.flush()
        stop_here()
        return out

    h5py.Group.create_dataset = slow_create

save(build(2))
print("SAVE-FINISHED", flush=True)
'''


def _wait_for_marker(proc, errors, timeout=120):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1.0)
        if ready:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line.strip())
            if line.strip() == "MID-SAVE":
                return
    proc.kill()
    proc.wait()
    errors.seek(0)
    err = errors.read()
    raise AssertionError(f"the child never reached the middle of its save; stdout={seen}, stderr={err[-2000:]}")


def _fresh_model():
    return lamina.Sequential([lamina.Input((512,)), lamina.layers.Dense(1024, name="a"),
                              lamina.layers.Dense(512, name="b")])


@pytest.mark.parametrize("kind,name", [("keras", "m.keras"), ("weights", "w.weights.h5"), ("legacy", "m.h5")])
def test_kill_during_save_keeps_previous_file(tmp_path, kind, name):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    errors = open(tmp_path.parent / f"{tmp_path.name}-stderr.txt", "w+")  # a file: a full pipe cannot block
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, kind, str(tmp_path), name], stdout=subprocess.PIPE,
                            stderr=errors, text=True, env=env)
    try:
        _wait_for_marker(proc, errors)
        temporaries = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
        assert len(temporaries) == 1 and temporaries[0].startswith(f".{name}."), os.listdir(tmp_path)
        assert os.path.getsize(tmp_path / temporaries[0]) > 0  # the kill lands mid-write
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        errors.close()

    expected = np.load(tmp_path / "expected.npz")
    expected = [expected[f"arr_{i}"] for i in range(len(expected.files))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "weights":
            model = _fresh_model()
            model.load_weights(tmp_path / name)
        else:
            model = lamina.models.load_model(tmp_path / name)
    got = model.get_weights()
    assert len(got) == len(expected) == 4
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)

    # The leftover temporary file is hidden and never taken for a model file ...
    leftovers = sorted(p for p in os.listdir(tmp_path) if p not in (name, "expected.npz"))
    assert len(leftovers) == 1 and leftovers[0].startswith(".") and leftovers[0].endswith(".tmp")
    assert not leftovers[0].endswith((".keras", ".h5"))
    # ... and a later save to the same name still works.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "weights":
            model.save_weights(tmp_path / name)
        else:
            model.save(tmp_path / name)
    assert os.path.getsize(tmp_path / name) > 4 * 512 * 1024
