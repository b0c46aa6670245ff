"""The tutorial program ``../shared/examples/cifar10_cnn.py`` runs unchanged on a generated CIFAR-10 archive.

CIFAR-10 is not in the local data mirror, so the archive is generated here in the real format: a
``cifar-10-python.tar.gz`` holding ``cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta, readme.html}``,
each batch a pickle written the way the real ones were (Python 2 ``cPickle``, protocol 2): every Python 2
``str`` — dict keys, the NumPy dtype name ``'u1'``, its byte order ``'|'``, the raw pixel bytes — is a
``BINSTRING``, which Python 3 reads back as ``bytes`` under ``encoding="bytes"``. ``pickle.dumps`` from
Python 3 writes those as ``str``/``_codecs.encode`` instead, so it would not catch a loader that only
understands Python 3 pickles.
"""

import os
import pathlib
import pickle
import re
import struct
import subprocess
import sys
import tarfile
import io

import numpy as np
import pytest

from lamina.datasets import cifar10, cifar100

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT.parent / "shared" / "examples" / "cifar10_cnn.py"


# ----------------------------------------------------------------------------------------------
# A Python-2-style (cPickle protocol 2) writer for the CIFAR batch dicts.


def _py2_str(b):
    return (b"U" + bytes([len(b)]) + b) if len(b) < 256 else (b"T" + struct.pack("<i", len(b)) + b)


def _py2_int(i):
    if 0 <= i < 256:
        return b"K" + bytes([i])
    if 0 <= i < 65536:
        return b"M" + struct.pack("<H", i)
    return b"J" + struct.pack("<i", i)


def _py2_value(v):
    if isinstance(v, bytes):
        return _py2_str(v)
    if isinstance(v, int):
        return _py2_int(v)
    if isinstance(v, list):
        return b"]" + (b"(" + b"".join(_py2_value(e) for e in v) + b"e" if v else b"")
    if isinstance(v, np.ndarray) and v.dtype == np.uint8 and v.ndim == 2:
        # numpy.core.multiarray._reconstruct(ndarray, (0,), 'b') then BUILD with
        # (1, shape, dtype('u1', 0, 1) + its state, fortran=False, raw bytes) — as NumPy under Python 2 wrote it.
        dtype = (b"cnumpy\ndtype\n" + _py2_str(b"u1") + _py2_int(0) + _py2_int(1) + b"\x87R"
                 + b"(" + _py2_int(3) + _py2_str(b"|") + b"NNN" + b"J\xff\xff\xff\xff" * 2 + _py2_int(0) + b"tb")
        return (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + _py2_int(0) + b"\x85"
                + _py2_str(b"b") + b"\x87R" + b"(" + _py2_int(1) + _py2_int(v.shape[0]) + _py2_int(v.shape[1])
                + b"\x86" + dtype + b"\x89" + _py2_str(np.ascontiguousarray(v).tobytes()) + b"tb")
    raise TypeError(f"no Python 2 pickle form for {type(v).__name__}")


def py2_pickle(d):
    """Protocol-2 pickle of a dict whose keys and strings are Python 2 ``str`` (read back as bytes)."""
    return b"\x80\x02}(" + b"".join(_py2_str(k) + _py2_value(v) for k, v in d.items()) + b"u."


def _batch(n, rng, label_keys, num_classes, name):
    """A CIFAR batch dict of ``n`` images whose class is visible in the pixels (so a CNN can learn it)."""
    labels = rng.randint(0, num_classes, n)
    img = rng.randint(0, 96, size=(n, 3, 32, 32))
    for i, c in enumerate(labels):  # a bright band whose row and colour plane depend on the class
        img[i, c % 3, 3 * (c % 10):3 * (c % 10) + 3, :] += 150
    batch = {b"batch_label": name.encode(), b"data": img.reshape(n, 3072).astype(np.uint8),
             b"filenames": [f"{name.replace(' ', '_')}_{i:05d}.png".encode() for i in range(n)]}
    for key in label_keys:
        batch[key] = [int(v) for v in labels]
    return batch


def _targz(folder, members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        info = tarfile.TarInfo(folder)
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        t.addfile(info)
        for name, data in members.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_cifar10(root, per_batch=40, n_test=100, seed=0):
    """Write ``root/cifar10/cifar-10-python.tar.gz`` (real member names and pickle format); return the batches."""
    rng = np.random.RandomState(seed)
    batches = {f"data_batch_{i}": _batch(per_batch, rng, [b"labels"], 10, f"training batch {i} of 5")
               for i in range(1, 6)}
    batches["test_batch"] = _batch(n_test, rng, [b"labels"], 10, "testing batch 1 of 1")
    members = {name: py2_pickle(b) for name, b in batches.items()}
    members["batches.meta"] = py2_pickle({
        b"num_cases_per_batch": per_batch,
        b"label_names": [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse",
                         b"ship", b"truck"],
        b"num_vis": 3072})
    members["readme.html"] = b"<meta HTTP-EQUIV=\"REFRESH\" content=\"0; url=http://www.cs.toronto.edu/~kriz/cifar.html\">"
    (root / "cifar10").mkdir(parents=True, exist_ok=True)
    (root / "cifar10" / "cifar-10-python.tar.gz").write_bytes(_targz("cifar-10-batches-py", members))
    return batches


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """A datasets dir in tmp_path and no real home/cache, so only the generated archive can be found."""
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "lamina_home"))
    monkeypatch.delenv("LAMINA_DATASETS_URL", raising=False)
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(tmp_path / "datasets"))
    return tmp_path / "datasets"


def test_py2_writer_matches_what_python_reads():
    """The generator is sound: Python's own unpickler reads the Python-2-style bytes back as the dict."""
    rng = np.random.RandomState(1)
    b = _batch(7, rng, [b"labels"], 10, "training batch 1 of 5")
    raw = py2_pickle(b)
    assert b"U\x02u1" in raw and b"cnumpy.core.multiarray\n_reconstruct\n" in raw  # dtype name is a py2 str
    back = pickle.loads(raw, encoding="bytes")
    assert set(back) == set(b) and back[b"labels"] == b[b"labels"] and back[b"filenames"] == b[b"filenames"]
    assert back[b"data"].dtype == np.uint8 and back[b"data"].shape == (7, 3072)
    np.testing.assert_array_equal(back[b"data"], b[b"data"])


def test_cifar10_loads_python2_pickles_as_is(isolated):
    """A user-placed archive is used as it is (no SHA-256 check: the generated file's hash is not the real one)."""
    batches = write_cifar10(isolated, per_batch=6, n_test=5)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (30, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (30, 1) and y_train.dtype == np.uint8
    assert x_test.shape == (5, 32, 32, 3) and y_test.shape == (5, 1) and y_test.dtype == np.uint8
    want = np.concatenate([batches[f"data_batch_{i}"][b"data"] for i in range(1, 6)])
    np.testing.assert_array_equal(x_train, want.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    assert y_train[:, 0].tolist() == sum((batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)), [])
    np.testing.assert_array_equal(x_test[2], batches["test_batch"][b"data"][2].reshape(3, 32, 32).transpose(1, 2, 0))
    assert y_test[:, 0].tolist() == batches["test_batch"][b"labels"]


def test_cifar100_loads_python2_pickles_as_is(isolated):
    rng = np.random.RandomState(2)
    keys = [b"fine_labels", b"coarse_labels"]
    train, test = _batch(8, rng, keys, 100, "training"), _batch(4, rng, keys, 100, "testing")
    test[b"coarse_labels"] = [v // 5 for v in test[b"fine_labels"]]
    members = {"train": py2_pickle(train), "test": py2_pickle(test),
               "meta": py2_pickle({b"fine_label_names": [b"apple"] * 100, b"coarse_label_names": [b"fish"] * 20})}
    (isolated / "cifar100").mkdir(parents=True)
    (isolated / "cifar100" / "cifar-100-python.tar.gz").write_bytes(_targz("cifar-100-python", members))
    (x_train, y_fine), (x_test, y_test_fine) = cifar100.load_data()
    (_, _), (_, y_test_coarse) = cifar100.load_data(label_mode="coarse")
    assert x_train.shape == (8, 32, 32, 3) and x_test.shape == (4, 32, 32, 3)
    assert y_fine.shape == (8, 1) and y_fine.dtype == np.int64
    assert y_fine[:, 0].tolist() == train[b"fine_labels"]
    assert y_test_fine[:, 0].tolist() == test[b"fine_labels"]
    assert y_test_coarse[:, 0].tolist() == test[b"coarse_labels"]


def test_cifar10_example_runs_unchanged(isolated, tmp_path):
    """Run the tutorial program as a user would, on the current backend, with the generated archive.

    200 training images make each of its 10 epochs 7 steps of batch 32, so the unchanged program is quick.
    """
    assert EXAMPLE.is_file(), f"missing {EXAMPLE}"
    write_cifar10(isolated, per_batch=40, n_test=100)
    import lamina

    env = dict(os.environ, LAMINA_BACKEND=lamina.config.backend(), OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    proc = subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
    found = re.findall(r"^Test accuracy: ([0-9.eE+-]+)\s*$", proc.stdout, flags=re.M)
    assert len(found) == 1, proc.stdout[-3000:]
    accuracy = float(found[0])
    assert 0.0 <= accuracy <= 1.0
    # The progress lines of fit report every one of the 10 epochs, and evaluate reports a loss.
    assert re.search(r"Epoch 10/10", proc.stdout), proc.stdout[-3000:]
    assert re.search(r"loss: [0-9.]+", proc.stdout)
    # The classes are drawn into the pixels, so 10 epochs on 200 images do better than chance (0.1).
    assert accuracy > 0.3, proc.stdout[-3000:]
