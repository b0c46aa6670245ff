"""lamina.datasets, lamina.utils.get_file and pad_sequences: downloads from a local HTTP server, hostile archives and
pickles, and Keras's loader semantics on generated files (plus the real IMDB file in LAMINA_DATASETS_DIR)."""

import hashlib
import http.server
import io
import json
import os
import pickle
import socket
import tarfile
import threading
import urllib.request
import zipfile

import numpy as np
import pytest

from lamina.datasets import boston_housing, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters
from lamina.datasets._files import load_npz, restricted_loads
from lamina.preprocessing.sequence import pad_sequences as pad_sequences_legacy
from lamina.utils import get_file, pad_sequences
from lamina.utils.file_utils import ChecksumError, DownloadError, extract_archive


# ----------------------------------------------------------------------------------------------------------------
# A local HTTP server (127.0.0.1, in a thread) with scriptable failures.


class _Server:
    def __init__(self):
        self.files = {}  # path -> bytes
        self.fail_first = {}  # path -> number of 500 responses to send first
        self.truncate = set()  # paths answered with a short body
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                if server.fail_first.get(self.path, 0) > 0:
                    server.fail_first[self.path] -= 1
                    self.send_error(500)
                    return
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in server.truncate:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                else:
                    self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """No real cache, no real home, no real datasets dir, and no mirror, for every test (unless set again)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "lamina_home"))
    monkeypatch.delenv("LAMINA_DATASETS_URL", raising=False)
    real_dir = os.environ.get("LAMINA_DATASETS_DIR")
    monkeypatch.delenv("LAMINA_DATASETS_DIR", raising=False)
    return real_dir


def _dead_url(path="/x"):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}{path}"


def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def _listing(folder):
    return sorted(p for p in os.listdir(folder)) if os.path.isdir(folder) else []


# ----------------------------------------------------------------------------------------------------------------
# get_file


def test_get_file_downloads_checks_sha256_and_caches(server, tmp_path):
    body = os.urandom(200_000)
    server.files["/data.bin"] = body
    path = get_file("data.bin", origin=server.url("/data.bin"), file_hash=hashlib.sha256(body).hexdigest(),
                    cache_dir=tmp_path / "cache", verbose=0)
    assert path == os.path.join(tmp_path / "cache", "datasets", "data.bin")
    assert open(path, "rb").read() == body
    assert _listing(tmp_path / "cache" / "datasets") == ["data.bin"]  # no leftover temporary file


def test_get_file_md5_default_cache_and_name_from_origin(server, tmp_path, capsys):
    body = b"hello world\n" * 100
    server.files["/sub/greeting.txt"] = body
    path = get_file(origin=server.url("/sub/greeting.txt"), file_hash=hashlib.md5(body).hexdigest())
    assert path == os.path.join(tmp_path / "lamina_home", "datasets", "greeting.txt")
    assert "Downloading data from" in capsys.readouterr().out  # verbose by default


def test_get_file_checksum_mismatch_caches_nothing(server, tmp_path):
    server.files["/data.bin"] = b"tampered"
    with pytest.raises(ChecksumError, match="hash"):
        get_file("data.bin", origin=server.url("/data.bin"), file_hash="0" * 64, cache_dir=tmp_path / "c",
                 verbose=0)
    assert _listing(tmp_path / "c" / "datasets") == []
    assert len(server.requests) == 1  # a wrong file is not retried


def test_get_file_retries_after_failed_attempt(server, tmp_path):
    server.files["/data.bin"] = b"payload"
    server.fail_first["/data.bin"] = 1
    path = get_file("data.bin", origin=server.url("/data.bin"), cache_dir=tmp_path / "c", verbose=0)
    assert open(path, "rb").read() == b"payload"
    assert server.requests == ["/data.bin", "/data.bin"]


def test_get_file_truncated_download_is_retried_then_refused(server, tmp_path):
    server.files["/data.bin"] = b"x" * 100_000
    server.truncate.add("/data.bin")
    with pytest.raises(DownloadError, match="truncated|IncompleteRead|Could not"):
        get_file("data.bin", origin=server.url("/data.bin"), cache_dir=tmp_path / "c", verbose=0, retries=2)
    assert len(server.requests) == 3
    assert _listing(tmp_path / "c" / "datasets") == []


def test_get_file_404_is_not_retried(server, tmp_path):
    with pytest.raises(DownloadError, match="missing.bin"):
        get_file("missing.bin", origin=server.url("/missing.bin"), cache_dir=tmp_path / "c", verbose=0)
    assert server.requests == ["/missing.bin"]


def test_get_file_offline_error_names_file_url_and_ways(tmp_path):
    url = _dead_url("/nothing.npz")
    with pytest.raises(DownloadError) as info:
        get_file("nothing.npz", origin=url, cache_dir=tmp_path / "c", verbose=0, retries=1)
    msg = str(info.value)
    assert "nothing.npz" in msg and url in msg and "LAMINA_DATASETS_DIR" in msg and "LAMINA_DATASETS_URL" in msg


def test_get_file_cache_hit_needs_no_network(server, tmp_path, monkeypatch):
    body = b"abc" * 1000
    server.files["/d.bin"] = body
    digest = hashlib.sha256(body).hexdigest()
    first = get_file("d.bin", origin=server.url("/d.bin"), file_hash=digest, cache_dir=tmp_path / "c", verbose=0)
    server.stop()
    _no_network(monkeypatch)
    second = get_file("d.bin", origin=server.url("/d.bin"), file_hash=digest, cache_dir=tmp_path / "c", verbose=0)
    assert first == second and open(second, "rb").read() == body


def test_get_file_stale_cache_with_wrong_hash_is_redownloaded(server, tmp_path):
    body = b"good data"
    server.files["/d.bin"] = body
    os.makedirs(tmp_path / "c" / "datasets")
    (tmp_path / "c" / "datasets" / "d.bin").write_bytes(b"corrupt")
    path = get_file("d.bin", origin=server.url("/d.bin"), file_hash=hashlib.sha256(body).hexdigest(),
                    cache_dir=tmp_path / "c", verbose=0)
    assert open(path, "rb").read() == body


def test_get_file_reuses_keras_cache_and_datasets_dir(tmp_path, monkeypatch):
    _no_network(monkeypatch)
    keras = tmp_path / "home" / ".keras" / "datasets"
    keras.mkdir(parents=True)
    (keras / "k.bin").write_bytes(b"from keras")
    assert open(get_file("k.bin", origin=_dead_url(), verbose=0), "rb").read() == b"from keras"
    local = tmp_path / "local"
    local.mkdir()
    (local / "l.bin").write_bytes(b"from dir")
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(local))
    assert open(get_file("l.bin", origin=_dead_url(), verbose=0), "rb").read() == b"from dir"
    (local / "imdb").mkdir()
    (local / "imdb" / "w.json").write_bytes(b"{}")
    assert get_file("w.json", origin=_dead_url(), cache_subdir="datasets/imdb", verbose=0) == str(local / "imdb" / "w.json")


def test_get_file_prefers_mirror(server, tmp_path, monkeypatch):
    server.files["/imdb/imdb_word_index.json"] = b'{"the": 1}'
    monkeypatch.setenv("LAMINA_DATASETS_URL", server.url("/"))
    path = get_file("imdb_word_index.json", origin=_dead_url(), cache_subdir="datasets/imdb", verbose=0)
    assert path == os.path.join(tmp_path / "lamina_home", "datasets", "imdb", "imdb_word_index.json")
    assert server.requests == ["/imdb/imdb_word_index.json"]


def _targz(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, data
                t.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, data
                t.addfile(info)
            elif kind == "device":
                info.type = tarfile.CHRTYPE
                t.addfile(info)
    return buf.getvalue()


def test_get_file_extracts_tar_gz(server, tmp_path):
    server.files["/pack.tar.gz"] = _targz([("pack/a.txt", b"A", "file"), ("pack/sub/b.txt", b"B", "file")])
    out = get_file("pack.tar.gz", origin=server.url("/pack.tar.gz"), extract=True, cache_dir=tmp_path / "c",
                   verbose=0)
    assert out == os.path.join(tmp_path / "c", "datasets", "pack")
    assert open(os.path.join(out, "pack", "sub", "b.txt")).read() == "B"


@pytest.mark.parametrize("members", [
    [("ok.txt", b"fine", "file"), ("../escaped.txt", b"evil", "file")],
    [("/tmp/lamina_abs_escape.txt", b"evil", "file")],
    [("dir/../../escaped.txt", b"evil", "file")],
    [("link", "/etc/passwd", "symlink")],
    [("hard", "/etc/passwd", "hardlink")],
    [("dev", b"", "device")],
], ids=["dotdot", "absolute", "nested-dotdot", "symlink", "hardlink", "device"])
def test_extraction_refuses_hostile_tar_members(server, tmp_path, members):
    server.files["/evil.tar.gz"] = _targz(members)
    with pytest.raises(ValueError, match="Refusing"):
        get_file("evil.tar.gz", origin=server.url("/evil.tar.gz"), extract=True, cache_dir=tmp_path / "c",
                 verbose=0)
    assert not (tmp_path / "c" / "escaped.txt").exists()
    assert not (tmp_path / "c" / "datasets" / "escaped.txt").exists()
    assert not os.path.exists("/tmp/lamina_abs_escape.txt")
    assert _listing(tmp_path / "c" / "datasets" / "evil") == []  # nothing at all was extracted


def test_extraction_refuses_hostile_zip(tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("ok.txt", "fine")
        z.writestr("../escaped.txt", "evil")
    with pytest.raises(ValueError, match="Refusing"):
        extract_archive(path, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as z:
        info = zipfile.ZipInfo("link")
        info.external_attr = (0o120777 << 16)
        z.writestr(info, "/etc/passwd")
    with pytest.raises(ValueError, match="link"):
        extract_archive(link, tmp_path / "out3")
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("d/ok.txt", "fine")
    assert extract_archive(good, tmp_path / "out2")
    assert (tmp_path / "out2" / "d" / "ok.txt").read_text() == "fine"


# ----------------------------------------------------------------------------------------------------------------
# Restricted unpickling


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def _npy_bytes(arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def _write_npz(path, **arrays):
    with zipfile.ZipFile(path, "w") as z:
        for k, v in arrays.items():
            z.writestr(k + ".npy", _npy_bytes(v) if isinstance(v, np.ndarray) else v)


def _obj(seqs):
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = s
    return out


def test_restricted_unpickler_refuses_code_execution():
    for protocol in (2, 4):
        payload = pickle.dumps(_Evil(), protocol=protocol)
        with pytest.raises(pickle.UnpicklingError, match="refused"):
            restricted_loads(payload)
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        restricted_loads(pickle.dumps(eval, protocol=2))


def test_npz_with_malicious_object_array_is_refused(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    evil_npy = b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + pickle.dumps(_Evil(), protocol=3)
    path = tmp_path / "imdb.npz"
    _write_npz(path, x_train=evil_npy, y_train=np.zeros(1, "int64"), x_test=_obj([[1]]), y_test=np.zeros(1, "int64"))
    with pytest.raises(pickle.UnpicklingError, match="refused global posix.system|refused global os.system"):
        imdb.load_data(str(path))


def test_npz_object_array_must_hold_lists_of_ints(tmp_path):
    path = tmp_path / "bad.npz"
    _write_npz(path, x=_obj([["a", "b"]]))
    with pytest.raises(ValueError, match="lists of ints"):
        load_npz(path)
    _write_npz(path, x=_obj([[1, 2], [3]]), y=np.arange(2))
    arrays = load_npz(path)
    assert list(arrays["x"][0]) == [1, 2] and arrays["y"].tolist() == [0, 1]


# ----------------------------------------------------------------------------------------------------------------
# IMDB / Reuters semantics, against Keras's algorithm applied to the same (trusted, generated) file


def _keras_reference(x_train, y_train, x_test, y_test, num_words=None, skip_top=0, maxlen=None, seed=113,
                     start_char=1, oov_char=2, index_from=3):
    rng = np.random.RandomState(seed)
    idx = np.arange(len(x_train)); rng.shuffle(idx)  # noqa: E702
    x_train, y_train = x_train[idx], y_train[idx]
    idx = np.arange(len(x_test)); rng.shuffle(idx)  # noqa: E702
    x_test, y_test = x_test[idx], y_test[idx]
    if start_char is not None:
        x_train = [[start_char] + [w + index_from for w in x] for x in x_train]
        x_test = [[start_char] + [w + index_from for w in x] for x in x_test]
    elif index_from:
        x_train = [[w + index_from for w in x] for x in x_train]
        x_test = [[w + index_from for w in x] for x in x_test]
    else:
        x_train, x_test = [list(x) for x in x_train], [list(x) for x in x_test]
    if maxlen:
        keep = [i for i, x in enumerate(x_train) if len(x) < maxlen]
        x_train, y_train = [x_train[i] for i in keep], y_train[keep]
        keep = [i for i, x in enumerate(x_test) if len(x) < maxlen]
        x_test, y_test = [x_test[i] for i in keep], y_test[keep]
    xs = x_train + x_test
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    n = len(x_train)
    return (xs[:n], y_train), (xs[n:], y_test)


@pytest.fixture
def small_imdb(tmp_path):
    rng = np.random.RandomState(0)
    x_train = _obj([list(map(int, rng.randint(1, 60, size=rng.randint(1, 30)))) for _ in range(40)])
    x_test = _obj([list(map(int, rng.randint(1, 60, size=rng.randint(1, 30)))) for _ in range(30)])
    y_train, y_test = rng.randint(0, 2, 40).astype("int64"), rng.randint(0, 2, 30).astype("int64")
    folder = tmp_path / "data" / "imdb"
    folder.mkdir(parents=True)
    np.savez(folder / "imdb.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    (folder / "imdb_word_index.json").write_text(json.dumps({"the": 1, "and": 2}))
    return tmp_path / "data", (x_train, y_train, x_test, y_test)


@pytest.mark.parametrize("kwargs", [
    {},
    {"num_words": 20},
    {"num_words": 20, "skip_top": 5, "seed": 7},
    {"maxlen": 15},
    {"start_char": None, "oov_char": None, "num_words": 30},
    {"start_char": None, "index_from": 0},
    {"index_from": 10, "oov_char": 0, "num_words": 40},
])
def test_imdb_matches_keras_semantics(small_imdb, monkeypatch, kwargs):
    data_dir, arrays = small_imdb
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(data_dir))
    (x_train, y_train), (x_test, y_test) = imdb.load_data(**kwargs)
    (rx_train, ry_train), (rx_test, ry_test) = _keras_reference(*arrays, **kwargs)
    assert x_train.dtype == object and x_train.ndim == 1
    assert [list(x) for x in x_train] == rx_train and [list(x) for x in x_test] == rx_test
    np.testing.assert_array_equal(y_train, ry_train)
    np.testing.assert_array_equal(y_test, ry_test)
    assert imdb.get_word_index() == {"the": 1, "and": 2}


def test_imdb_maxlen_too_small_raises(small_imdb, monkeypatch):
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(small_imdb[0]))
    with pytest.raises(ValueError, match="maxlen"):
        imdb.load_data(maxlen=1)


def test_imdb_real_file(_isolated, monkeypatch):
    real = _isolated
    if not real or not os.path.isfile(os.path.join(real, "imdb", "imdb.npz")):
        pytest.skip("LAMINA_DATASETS_DIR with imdb/imdb.npz is not available")
    monkeypatch.setenv("LAMINA_DATASETS_DIR", real)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=10000)
    assert (len(x_train), len(x_test)) == (25000, 25000)
    assert int(y_train.sum()) == 12500 and int(y_test.sum()) == 12500
    assert y_train.dtype == np.int64 and set(np.unique(y_train)) == {0, 1}
    assert all(x[0] == 1 for x in x_train[:100])
    assert max(max(x) for x in x_train) < 10000 and min(min(x) for x in x_train) >= 1
    (short, _), _ = imdb.load_data(maxlen=100)
    assert 0 < len(short) < 25000 and max(len(x) for x in short) < 100
    index = imdb.get_word_index()
    assert len(index) == 88584 and index["the"] == 1


def test_imdb_missing_everywhere_says_how_to_provide_it(monkeypatch):
    _no_network(monkeypatch)
    with pytest.raises(DownloadError) as info:
        imdb.load_data()
    msg = str(info.value)
    assert "imdb.npz" in msg and "storage.googleapis.com" in msg and "LAMINA_DATASETS_DIR" in msg


def test_imdb_downloads_from_mirror_with_checksum(server, small_imdb, monkeypatch, tmp_path):
    data_dir, _ = small_imdb
    server.files["/imdb/imdb_word_index.json"] = (data_dir / "imdb" / "imdb_word_index.json").read_bytes()
    monkeypatch.setenv("LAMINA_DATASETS_URL", server.url(""))
    # The published MD5 of the real word index does not match this small file: refused, nothing cached.
    with pytest.raises(ChecksumError):
        imdb.get_word_index()
    assert _listing(tmp_path / "lamina_home" / "datasets" / "imdb") == []


def test_reuters_matches_keras_semantics(tmp_path, monkeypatch):
    rng = np.random.RandomState(1)
    xs = _obj([list(map(int, rng.randint(1, 50, size=rng.randint(2, 20)))) for _ in range(50)])
    ys = rng.randint(0, 46, 50).astype("int64")
    (tmp_path / "d" / "reuters").mkdir(parents=True)
    np.savez(tmp_path / "d" / "reuters" / "reuters.npz", x=xs, y=ys)
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(tmp_path / "d"))
    (x_train, y_train), (x_test, y_test) = reuters.load_data(num_words=30, test_split=0.3, seed=5)
    rng = np.random.RandomState(5)
    idx = np.arange(50)
    rng.shuffle(idx)
    ref = [[1] + [w + 3 if w + 3 < 30 else 2 for w in xs[i]] for i in idx]
    assert [list(x) for x in x_train] + [list(x) for x in x_test] == ref
    assert len(x_train) == 35
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), ys[idx])
    assert len(reuters.get_label_names()) == 46


def test_boston_housing(tmp_path):
    x = np.arange(506 * 13, dtype="float64").reshape(506, 13)
    y = np.arange(506, dtype="float64")
    path = tmp_path / "boston_housing.npz"
    np.savez(path, x=x, y=y)
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(str(path))
    assert x_train.shape == (404, 13) and x_test.shape == (102, 13)
    np.testing.assert_array_equal(x_train[:, 0] / 13, y_train)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == y.tolist()


# ----------------------------------------------------------------------------------------------------------------
# CIFAR (python-pickle batches, generated in the real format)


def _cifar_batch(n, label_key, offset, rng):
    data = rng.randint(0, 256, size=(n, 3072)).astype("uint8")
    batch = {b"batch_label": b"batch " + str(offset).encode(), b"data": data,
             b"filenames": [f"img_{offset}_{i}.png".encode() for i in range(n)]}
    if isinstance(label_key, tuple):
        for k in label_key:
            batch[k] = [int(v) for v in rng.randint(0, 20, n)]
    else:
        batch[label_key] = [int(v) for v in rng.randint(0, 10, n)]
    return batch


def _cifar_tar(folder, batches):
    members = [(f"{folder}/{name}", pickle.dumps(b, protocol=2), "file") for name, b in batches.items()]
    members.append((f"{folder}/readme.html", b"<html></html>", "file"))
    return _targz(members)


def test_cifar10_from_generated_tarball(tmp_path, monkeypatch):
    rng = np.random.RandomState(0)
    batches = {f"data_batch_{i}": _cifar_batch(3, b"labels", i, rng) for i in range(1, 6)}
    batches["test_batch"] = _cifar_batch(4, b"labels", 9, rng)
    (tmp_path / "d" / "cifar10").mkdir(parents=True)
    (tmp_path / "d" / "cifar10" / "cifar-10-python.tar.gz").write_bytes(_cifar_tar("cifar-10-batches-py", batches))
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(tmp_path / "d"))
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (15, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (15, 1) and y_train.dtype == np.uint8
    assert x_test.shape == (4, 32, 32, 3) and y_test.shape == (4, 1)
    first = batches["data_batch_1"][b"data"][0].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(x_train[0], first)
    assert y_train[:3, 0].tolist() == batches["data_batch_1"][b"labels"]
    assert y_test[:, 0].tolist() == batches["test_batch"][b"labels"]


def test_cifar10_refuses_malicious_batch(tmp_path, monkeypatch):
    rng = np.random.RandomState(0)
    batches = {f"data_batch_{i}": _cifar_batch(2, b"labels", i, rng) for i in range(1, 6)}
    batches["test_batch"] = _cifar_batch(2, b"labels", 9, rng)
    batches["data_batch_3"] = {b"data": _Evil()}
    (tmp_path / "d" / "cifar10").mkdir(parents=True)
    (tmp_path / "d" / "cifar10" / "cifar-10-python.tar.gz").write_bytes(_cifar_tar("cifar-10-batches-py", batches))
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(tmp_path / "d"))
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        cifar10.load_data()


def test_cifar10_refuses_non_uint8_arrays(tmp_path, monkeypatch):
    rng = np.random.RandomState(0)
    batches = {f"data_batch_{i}": _cifar_batch(2, b"labels", i, rng) for i in range(1, 6)}
    batches["test_batch"] = _cifar_batch(2, b"labels", 9, rng)
    batches["test_batch"][b"data"] = batches["test_batch"][b"data"].astype("float64")
    (tmp_path / "d" / "cifar10").mkdir(parents=True)
    (tmp_path / "d" / "cifar10" / "cifar-10-python.tar.gz").write_bytes(_cifar_tar("cifar-10-batches-py", batches))
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(tmp_path / "d"))
    with pytest.raises((ValueError, pickle.UnpicklingError)):
        cifar10.load_data()


def test_cifar100_label_modes(tmp_path, monkeypatch):
    rng = np.random.RandomState(0)
    batches = {"train": _cifar_batch(5, (b"fine_labels", b"coarse_labels"), 0, rng),
               "test": _cifar_batch(2, (b"fine_labels", b"coarse_labels"), 1, rng)}
    (tmp_path / "d" / "cifar100").mkdir(parents=True)
    (tmp_path / "d" / "cifar100" / "cifar-100-python.tar.gz").write_bytes(_cifar_tar("cifar-100-python", batches))
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(tmp_path / "d"))
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode="coarse")
    assert x_train.shape == (5, 32, 32, 3) and y_train.shape == (5, 1)
    assert y_train[:, 0].tolist() == batches["train"][b"coarse_labels"]
    (_, y_fine), _ = cifar100.load_data()
    assert y_fine[:, 0].tolist() == batches["train"][b"fine_labels"]


# ----------------------------------------------------------------------------------------------------------------
# pad_sequences


def test_pad_sequences_defaults_and_options():
    seqs = [[1, 2, 3, 4], [5, 6], []]
    np.testing.assert_array_equal(pad_sequences(seqs), [[1, 2, 3, 4], [0, 0, 5, 6], [0, 0, 0, 0]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=3), [[2, 3, 4], [0, 5, 6], [0, 0, 0]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=3, truncating="post", padding="post", value=-1),
                                  [[1, 2, 3], [5, 6, -1], [-1, -1, -1]])
    assert pad_sequences(seqs).dtype == np.int32
    out = pad_sequences([[0.5, 1.5]], maxlen=3, dtype="float32")
    assert out.dtype == np.float32 and out.tolist() == [[0.0, 0.5, 1.5]]
    assert pad_sequences is pad_sequences_legacy


def test_pad_sequences_multidim_strings_and_errors():
    out = pad_sequences([np.ones((2, 3)), np.ones((1, 3))], dtype="float32")
    assert out.shape == (2, 2, 3) and out[1, 0].tolist() == [0, 0, 0]
    strs = pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert strs.tolist() == [["a", "b"], ["<pad>", "c"]]
    with pytest.raises(ValueError):
        pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError):
        pad_sequences([1, 2])
    with pytest.raises(ValueError, match="Shape of sample"):
        pad_sequences([np.ones((2, 3)), np.ones((1, 4))])


# ----------------------------------------------------------------------------------------------------------------
# MNIST-style loaders: Keras's mnist.npz, and IDX downloads checked against their hashes


def test_mnist_reads_keras_npz(tmp_path, monkeypatch):
    (tmp_path / "d" / "mnist").mkdir(parents=True)
    x = np.arange(2 * 28 * 28, dtype="uint8").reshape(2, 28, 28)
    np.savez(tmp_path / "d" / "mnist" / "mnist.npz", x_train=x, y_train=np.array([3, 4], "uint8"),
             x_test=x[:1], y_test=np.array([5], "uint8"))
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(tmp_path / "d"))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    np.testing.assert_array_equal(x_train, x)
    assert y_train.tolist() == [3, 4] and x_test.shape == (1, 28, 28) and y_test.tolist() == [5]


def test_fashion_mnist_download_refuses_wrong_files(server, monkeypatch, tmp_path):
    import gzip
    import struct

    for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"]:
        server.files["/fashion_mnist/" + name] = gzip.compress(struct.pack(">BBBBI", 0, 0, 8, 1, 1) + b"\x00")
    monkeypatch.setenv("LAMINA_DATASETS_URL", server.url(""))
    with pytest.raises(ChecksumError):
        fashion_mnist.load_data()
    assert _listing(tmp_path / "lamina_home" / "datasets" / "fashion_mnist") == []
