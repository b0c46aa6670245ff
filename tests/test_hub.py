"""lamina.hub.load: models and weights from local paths and URLs (a local HTTP server), cached, with checksums."""

import hashlib
import http.server
import os
import threading
from pathlib import Path

import h5py
import numpy as np
import pytest

import lamina
from lamina import hub
from lamina.utils.file_utils import ChecksumError


class _Server:
    def __init__(self):
        self.files, self.requests = {}, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path)
                self.send_response(404 if body is None else 200)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch, tmp_path):
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("LAMINA_DATASETS_URL", raising=False)
    monkeypatch.delenv("LAMINA_DATASETS_DIR", raising=False)
    s = _Server()
    yield s
    s.close()


def _model(seed=0):
    lamina.utils.set_random_seed(seed)
    inp = lamina.Input((4,))
    out = lamina.layers.Dense(3, name="out")(lamina.layers.Dense(5, activation="relu", name="hidden")(inp))
    return lamina.Model(inp, out, name="tiny")


X = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")


def _predict(model):
    return lamina.ops.convert_to_numpy(model(X))


def test_load_local_keras_and_h5_models(tmp_path):
    model = _model()
    model.save(tmp_path / "m.keras")
    with pytest.warns(DeprecationWarning, match="legacy Keras 2 HDF5"):
        model.save(tmp_path / "m.h5")
    for name in ("m.keras", "m.h5"):
        loaded = hub.load(str(tmp_path / name))
        assert loaded.name == "tiny" and [l.name for l in loaded.layers][1:] == ["hidden", "out"]
        np.testing.assert_allclose(_predict(loaded), _predict(model), rtol=1e-6)
    via_url = hub.load((tmp_path / "m.keras").as_uri())  # file:// URL
    np.testing.assert_allclose(_predict(via_url), _predict(model), rtol=1e-6)
    body = (tmp_path / "m.keras").read_bytes()
    assert hub.load(tmp_path / "m.keras", file_hash=hashlib.sha256(body).hexdigest()).name == "tiny"
    with pytest.raises(ChecksumError, match="different hash"):
        hub.load(tmp_path / "m.keras", file_hash="0" * 64)


def test_load_weights_into_a_model(tmp_path):
    source = _model(seed=1)
    source.save_weights(tmp_path / "w.weights.h5")
    target = _model(seed=2)
    assert not np.allclose(_predict(target), _predict(source))
    assert hub.load(str(tmp_path / "w.weights.h5"), model=target) is target
    np.testing.assert_allclose(_predict(target), _predict(source), rtol=1e-6)
    # A weights-only file without a model: a clear error saying what to pass.
    with pytest.raises(ValueError, match="holds only weights.*model=my_model"):
        hub.load(str(tmp_path / "w.weights.h5"))
    source.save_weights(tmp_path / "legacy.h5")
    with h5py.File(tmp_path / "legacy.h5") as f:
        assert "model_config" not in f.attrs
    with pytest.raises(ValueError, match="holds only weights"):
        hub.load(str(tmp_path / "legacy.h5"))
    # A whole-model file gives its weights to a given model.
    source.save(tmp_path / "whole.keras")
    other = hub.load(str(tmp_path / "whole.keras"), model=_model(seed=3))
    np.testing.assert_allclose(_predict(other), _predict(source), rtol=1e-6)


def test_bad_handles(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file found"):
        hub.load(str(tmp_path / "missing.keras"))
    with pytest.raises(TypeError, match="handle must be a file path or a URL"):
        hub.load(42)
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ValueError, match="neither a '.keras' archive nor an HDF5"):
        hub.load(str(tmp_path / "notes.txt"))
    with pytest.raises(TypeError, match="must be a lamina model"):
        hub.load(str(tmp_path / "notes.txt"), model=object())


def test_load_from_url_caches_and_checks(server, tmp_path):
    model = _model(seed=4)
    model.save(tmp_path / "m.keras")
    body = (tmp_path / "m.keras").read_bytes()
    server.files["/models/v1/m.keras"] = body
    server.files["/models/v2/m.keras"] = body[:-1] + bytes([body[-1] ^ 1])  # same name, other URL
    url = server.url + "/models/v1/m.keras"
    loaded = hub.load(url, file_hash=hashlib.sha256(body).hexdigest())
    np.testing.assert_allclose(_predict(loaded), _predict(model), rtol=1e-6)
    cached = list((Path(os.environ["LAMINA_HOME"]) / "hub").rglob("m.keras"))
    assert len(cached) == 1 and cached[0].read_bytes() == body
    hub.load(url)
    assert server.requests == ["/models/v1/m.keras"]  # the second load came from the cache
    # Another URL with the same file name does not reuse that cache entry; a bad hash refuses the download.
    with pytest.raises(ChecksumError):
        hub.load(server.url + "/models/v2/m.keras", file_hash=hashlib.md5(body).hexdigest())
    assert server.requests[-1] == "/models/v2/m.keras"
    assert len(list((Path(os.environ["LAMINA_HOME"]) / "hub").rglob("m.keras"))) == 1
    # Weights over HTTP into a model; an explicit file name for a URL without one.
    model.save_weights(tmp_path / "w.weights.h5")
    server.files["/weights"] = (tmp_path / "w.weights.h5").read_bytes()
    target = hub.load(server.url + "/weights", model=_model(seed=5), fname="tiny.weights.h5")
    np.testing.assert_allclose(_predict(target), _predict(model), rtol=1e-6)
    assert any(p.name == "tiny.weights.h5" for p in (Path(os.environ["LAMINA_HOME"]) / "hub").rglob("*"))
    with pytest.raises(ValueError, match="cannot tell a file name"):
        hub.load(server.url + "/")
