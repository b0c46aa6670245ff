"""``RemoteMonitor``: send each epoch's logs to a server over HTTP."""

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from lamina.callbacks.callback import Callback
from lamina.distribution import _loop as distribution_loop


class RemoteMonitor(Callback):
    """POST ``{"epoch": n, <log name>: value, ...}`` to ``root + path`` at the end of each epoch.

    The JSON is sent as a form field ``field`` (``application/x-www-form-urlencoded``), or as the request body
    (``application/json``) with ``send_as_json=True``. A server that cannot be reached gives a warning, never
    an error: training goes on. In a multi-process run only rank 0 sends. Python's own ``urllib`` sends the
    requests (Keras needs the ``requests`` package for this).

    Args:
        root: the server's root URL (default ``"http://localhost:9000"``).
        path: the path under ``root`` (default ``"/publish/epoch/end/"``).
        field: the form field holding the JSON (with ``send_as_json=False``).
        headers: extra HTTP headers (a dict).
        send_as_json: send the JSON as the request body.
        timeout: seconds to wait for the server before warning (default 10).
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data", headers=None,
                 send_as_json=False, timeout=10.0):
        super().__init__()
        if not isinstance(root, str) or urllib.parse.urlparse(root).scheme not in ("http", "https"):
            raise ValueError(f"RemoteMonitor expected root to be an http:// or https:// URL, but received {root!r}.")
        if headers is not None and not isinstance(headers, dict):
            raise ValueError(f"RemoteMonitor expected headers to be a dict or None, but received "
                             f"{type(headers).__name__}.")
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json
        self.timeout = timeout

    def on_epoch_end(self, epoch, logs=None):
        if not distribution_loop.is_chief():
            return
        send = {"epoch": epoch}
        for k, v in (logs or {}).items():
            send[k] = v.item() if isinstance(v, (np.ndarray, np.generic)) else v
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError) as e:
            warnings.warn(f"RemoteMonitor could not reach the server at {self.root + self.path}: {e}. Training "
                          "continues.", stacklevel=2)
