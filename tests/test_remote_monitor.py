"""RemoteMonitor against a local HTTP server on 127.0.0.1, on the current backend."""

import http.server
import json
import threading
import urllib.parse

import numpy as np
import pytest

import lamina


class _Recorder(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802 (the http.server name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers.get("Content-Type"), self.headers.get("X-Token"), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Recorder.received = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Recorder.received
    httpd.shutdown()
    httpd.server_close()


def _fit(callback, epochs=2):
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), epochs=epochs, batch_size=4,
                     verbose=0, callbacks=[callback])


def test_epoch_logs_are_posted_as_a_form_field(server):
    root, received = server
    history = _fit(lamina.callbacks.RemoteMonitor(root=root, path="/logs/", headers={"X-Token": "t"}))
    assert len(received) == 2
    for epoch, (path, content_type, token, body) in enumerate(received):
        assert path == "/logs/" and content_type == "application/x-www-form-urlencoded" and token == "t"
        sent = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
        assert sent["epoch"] == epoch
        assert sent["loss"] == pytest.approx(history.history["loss"][epoch])
        assert sent["mae"] == pytest.approx(history.history["mae"][epoch])


def test_epoch_logs_are_posted_as_json(server):
    root, received = server
    _fit(lamina.callbacks.RemoteMonitor(root=root, send_as_json=True), epochs=1)
    path, content_type, _, body = received[0]
    assert path == "/publish/epoch/end/" and content_type == "application/json"
    assert set(json.loads(body)) == {"epoch", "loss", "mae"}


def test_an_unreachable_server_warns_and_training_goes_on():
    with pytest.warns(UserWarning, match="RemoteMonitor could not reach the server at http://127.0.0.1:9/x"):
        history = _fit(lamina.callbacks.RemoteMonitor(root="http://127.0.0.1:9", path="/x", timeout=2))
    assert len(history.history["loss"]) == 2


def test_bad_arguments_fail_clearly():
    with pytest.raises(ValueError, match="RemoteMonitor expected root to be an http:// or https:// URL"):
        lamina.callbacks.RemoteMonitor(root="localhost:9000")
    with pytest.raises(ValueError, match="RemoteMonitor expected headers to be a dict or None, but received list"):
        lamina.callbacks.RemoteMonitor(headers=["a"])
