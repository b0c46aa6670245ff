"""lamina.datasets.california_housing: Keras's load_data semantics on a generated file in the real format, served by
a local HTTP server (the checked download path), plus local look-up and bad arguments."""

import hashlib
import io
import os

import numpy as np
import pytest

from lamina.datasets import california_housing
from lamina.utils.file_utils import ChecksumError
from test_datasets import _isolated, _listing, _no_network, server  # noqa: F401  (fixtures reused)

N = 1000


def _npz_bytes(n=N):
    # Same layout as Keras's california_housing.npz: float64 x (n, 8), float32 y (n,).
    x = np.arange(n * 8, dtype="float64").reshape(n, 8)
    y = (np.arange(n, dtype="float32") + 1) * 1000
    buf = io.BytesIO()
    np.savez(buf, x=x, y=y)
    return buf.getvalue(), x, y


def _keras_split(x, y, version, test_split, seed):
    if version == "small":
        x, y = x[:600], y[:600]
    idx = np.arange(len(x))
    np.random.RandomState(seed).shuffle(idx)
    cut = int(len(x) * (1 - test_split))
    return (x[idx][:cut], y[idx][:cut]), (x[idx][cut:], y[idx][cut:])


def _check(result, expected):
    for got, want in zip(result, expected):
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)


def test_downloads_from_mirror_checks_sha256_and_caches(server, monkeypatch, tmp_path):  # noqa: F811
    body, x, y = _npz_bytes()
    server.files["/california_housing/california_housing.npz"] = body
    monkeypatch.setenv("LAMINA_DATASETS_URL", server.url(""))
    monkeypatch.setattr(california_housing, "SHA256", hashlib.sha256(body).hexdigest())
    result = california_housing.load_data()
    _check(result, _keras_split(x, y, "large", 0.2, 113))
    (x_train, _), (x_test, _) = result
    assert x_train.shape == (800, 8) and x_test.shape == (200, 8)
    assert _listing(tmp_path / "lamina_home" / "datasets" / "california_housing") == ["california_housing.npz"]
    # Cached: a second call needs no network.
    _no_network(monkeypatch)
    _check(california_housing.load_data("small", test_split=0.25, seed=7), _keras_split(x, y, "small", 0.25, 7))
    assert len(server.requests) == 1


def test_wrong_file_is_refused_and_not_cached(server, monkeypatch, tmp_path):  # noqa: F811
    # The published SHA-256 belongs to the real file, so this small one must be refused.
    server.files["/california_housing/california_housing.npz"] = _npz_bytes()[0]
    monkeypatch.setenv("LAMINA_DATASETS_URL", server.url(""))
    with pytest.raises(ChecksumError):
        california_housing.load_data()
    assert _listing(tmp_path / "lamina_home" / "datasets" / "california_housing") == []


def test_local_datasets_dir_and_small_version(tmp_path, monkeypatch):
    body, x, y = _npz_bytes()
    (tmp_path / "d" / "california_housing").mkdir(parents=True)
    (tmp_path / "d" / "california_housing" / "california_housing.npz").write_bytes(body)
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(tmp_path / "d"))
    _no_network(monkeypatch)
    (x_train, y_train), (x_test, y_test) = california_housing.load_data(version="small", test_split=0.0)
    assert x_train.shape == (600, 8) and x_test.shape == (0, 8) and y_train.dtype == np.float32
    assert sorted(y_train.tolist()) == y[:600].tolist()
    np.testing.assert_array_equal(x_train[:, 0] / 8, y_train / 1000 - 1)  # rows stay paired with their targets


def test_absolute_path_is_used_as_is(tmp_path):
    body, x, y = _npz_bytes(50)
    path = tmp_path / "elsewhere.npz"
    path.write_bytes(body)
    _check(california_housing.load_data(path=str(path), test_split=0.3, seed=1), _keras_split(x, y, "large", 0.3, 1))


@pytest.mark.parametrize("kwargs, match", [
    ({"version": "medium"}, "version must be 'small' or 'large'"),
    ({"test_split": 1.0}, r"test_split must be in \[0, 1\)"),
    ({"test_split": -0.1}, r"test_split must be in \[0, 1\)"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        california_housing.load_data(**kwargs)


def test_file_without_x_and_y_is_refused(tmp_path):
    path = tmp_path / "california_housing.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match="must hold arrays 'x' and 'y'"):
        california_housing.load_data(path=str(path))
    assert os.path.isfile(path)
