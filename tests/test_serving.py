"""lamina.serving and `lamina serve`: TF Serving's REST API over a real socket, batching, errors, shutdown."""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import lamina
from lamina.serving import Batcher, ServerThread, build_app

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def http(url, body=None, raw=None, timeout=30):
    """(status, parsed JSON or text) for a GET (no body) or a POST."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, text = resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def metric(text, name):
    match = re.search(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    assert match, f"{name} not in metrics"
    return float(match.group(1))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    lamina.utils.set_random_seed(1)
    inp = lamina.Input((4,), name="x")
    model = lamina.Model(inp, lamina.layers.Dense(3, activation="tanh", name="y")(inp))
    path = str(tmp_path_factory.mktemp("serve") / "tiny.keras")
    model.save(path)
    return path, lamina.models.load_model(path)


@pytest.fixture(scope="module")
def server(saved):
    app = build_app(saved[1], model_name="tiny", max_batch_size=16, batch_timeout_ms=5,
                    max_request_bytes=64 * 1024)
    with ServerThread(app) as srv:
        yield srv


@pytest.fixture(scope="module")
def multi():
    a, b = lamina.Input((3,), name="a"), lamina.Input((2,), name="b", dtype="int32")
    h = lamina.layers.Concatenate()([a, lamina.ops.cast(b, "float32")])
    model = lamina.Model({"a": a, "b": b}, {"p": lamina.layers.Dense(2, name="p")(h),
                                            "q": lamina.layers.Dense(1, name="q")(h)})
    with ServerThread(build_app(model, model_name="multi")) as srv:
        yield srv, model


def test_status_metadata_health(server):
    status, body = http(server.url + "/v1/models/tiny")
    assert status == 200
    assert body == {"model_version_status": [{"version": "1", "state": "AVAILABLE",
                                              "status": {"error_code": "OK", "error_message": ""}}]}
    assert http(server.url + "/v1/models/tiny/versions/1")[0] == 200
    status, meta = http(server.url + "/v1/models/tiny/metadata")
    sig = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert status == 200 and meta["model_spec"]["name"] == "tiny"
    assert sig["inputs"]["x"]["dtype"] == "DT_FLOAT"
    assert [d["size"] for d in sig["inputs"]["x"]["tensor_shape"]["dim"]] == ["-1", "4"]
    assert [d["size"] for d in sig["outputs"]["y"]["tensor_shape"]["dim"]] == ["-1", "3"]
    assert http(server.url + "/healthz") == (200, {"status": "ok", "model": "tiny"})


def test_predict_rows_and_columns_match_model_predict(server, saved):
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    expected = saved[1].predict(x, verbose=0)
    status, body = http(server.url + "/v1/models/tiny:predict", {"instances": x.tolist()})
    assert status == 200
    np.testing.assert_allclose(np.array(body["predictions"]), expected, atol=1e-5)
    status, body = http(server.url + "/v1/models/tiny/versions/1:predict", {"inputs": {"x": x[:2].tolist()}})
    assert status == 200
    np.testing.assert_allclose(np.array(body["outputs"]), expected[:2], atol=1e-5)
    status, body = http(server.url + "/v1/models/tiny:predict", {"instances": [{"x": r} for r in x.tolist()]})
    np.testing.assert_allclose(np.array(body["predictions"]), expected, atol=1e-5)


def test_predict_multi_input_multi_output(multi):
    srv, model = multi
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 3)).astype("float32"), rng.integers(0, 5, size=(3, 2)).astype("int32")
    expected = model.predict({"a": a, "b": b}, verbose=0)
    rows = [{"a": a[i].tolist(), "b": b[i].tolist()} for i in range(3)]
    status, body = http(srv.url + "/v1/models/multi:predict", {"instances": rows})
    assert status == 200 and len(body["predictions"]) == 3
    for name in ("p", "q"):
        got = np.array([row[name] for row in body["predictions"]])
        np.testing.assert_allclose(got, expected[name], atol=1e-5)
    status, body = http(srv.url + "/v1/models/multi:predict", {"inputs": {"a": a.tolist(), "b": b.tolist()}})
    assert status == 200
    for name in ("p", "q"):
        np.testing.assert_allclose(np.array(body["outputs"][name]), expected[name], atol=1e-5)
    status, body = http(srv.url + "/v1/models/multi:predict", {"instances": [{"a": [1, 2, 3]}]})
    assert status == 400 and "missing the input key 'b'" in body["error"]
    status, body = http(srv.url + "/v1/models/multi:predict", {"inputs": {"a": a.tolist(), "b": [[0.5, 1]] * 3}})
    assert status == 400 and "integers" in body["error"]
    status, body = http(srv.url + "/v1/models/multi:predict", {"inputs": {"a": a.tolist(), "b": b[:2].tolist()}})
    assert status == 400 and "same batch size" in body["error"]


@pytest.mark.parametrize("payload, fragment", [
    ({"instances": [[1, 2, 3]]}, "expected a batch of shape (batch, 4), but received shape (1, 3)"),
    ({"instances": [["a", "b", "c", "d"]]}, "expected numbers for dtype float32, but received strings"),
    ({"instances": [[True, False, True, True]]}, "received booleans"),
    ({"instances": [[1, 2, 3, 4], [1, 2]]}, "ragged"),
    ({"instances": [[1, None, 3, 4]]}, "received null"),
    ({"instances": [[1, 2, 3, 4]], "inputs": [[1, 2, 3, 4]]}, "exactly one of the keys"),
    ({"instances": [{"z": [1, 2, 3, 4]}]}, "'instances'[0] is missing the input key 'x'"),
    ({"instances": [[1, 2, 3, 4], {"x": [1, 2, 3, 4]}]}, "mixes objects"),
    ({"instances": []}, "non-empty list"),
    ({"inputs": {"z": [[1, 2, 3, 4]]}}, "'inputs' is missing the key(s) ['x']"),
    ({"inputs": [[[1, 2, 3, 4]]]}, "expected a batch of shape (batch, 4), but received shape (1, 1, 4)"),
    ({"rows": [[1, 2, 3, 4]]}, "exactly one of the keys 'instances'"),
    ({"instances": [[1, 2, 3, 4]], "signature_name": "other"}, "Unknown signature_name"),
    ([1, 2], "must be a JSON object"),
])
def test_bad_requests_get_400_naming_the_problem(server, payload, fragment):
    status, body = http(server.url + "/v1/models/tiny:predict", payload)
    assert status == 400
    assert fragment in body["error"]


def test_bad_json_unknown_model_and_size_limit(server):
    status, body = http(server.url + "/v1/models/tiny:predict", raw=b'{"instances": [[1, 2,')
    assert status == 400 and "not valid JSON" in body["error"]
    status, body = http(server.url + "/v1/models/nope:predict", {"instances": [[1, 2, 3, 4]]})
    assert status == 404 and "'nope'" in body["error"]
    assert http(server.url + "/v1/models/nope")[0] == 404
    assert http(server.url + "/v1/models/tiny/versions/7/metadata")[0] == 404
    big = {"instances": [[0.123456789] * 4] * 3000}  # ~ 100 KB > the 64 KiB limit of this server
    status, body = http(server.url + "/v1/models/tiny:predict", big)
    assert status == 413 and "larger than the limit" in body["error"]
    assert http(server.url + "/no/such/path")[0] == 404


def test_metrics_are_prometheus_text(server):
    http(server.url + "/v1/models/tiny:predict", {"instances": [[1, 2, 3, 4]]})
    status, text = http(server.url + "/metrics")
    assert status == 200
    assert "# TYPE lamina_requests_total counter" in text
    assert metric(text, 'lamina_requests_total{model="tiny",endpoint="predict",status="200"}') >= 1
    assert metric(text, 'lamina_request_latency_seconds_count{model="tiny",endpoint="predict"}') >= 1
    assert metric(text, "lamina_batch_size_count") >= 1
    assert metric(text, "lamina_requests_in_flight") == 0


async def _post_many(url, bodies, concurrency):
    import aiohttp

    results = [None] * len(bodies)
    queue = list(enumerate(bodies))

    async def client(session):
        while queue:
            i, body = queue.pop()
            async with session.post(url, json=body) as resp:
                results[i] = (resp.status, await resp.json())

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    return results


def test_concurrent_requests_are_merged_into_batches(saved):
    # A long batch window makes merging certain: 16 simultaneous one-row requests.
    app = build_app(saved[1], model_name="tiny", max_batch_size=64, batch_timeout_ms=200)
    x = np.random.default_rng(2).normal(size=(16, 4)).astype("float32")
    with ServerThread(app) as srv:
        results = asyncio.run(_post_many(srv.url + "/v1/models/tiny:predict",
                                         [{"instances": [row]} for row in x.tolist()], 16))
        text = http(srv.url + "/metrics")[1]
    assert all(status == 200 for status, _ in results)
    got = np.array([body["predictions"][0] for _, body in results])
    np.testing.assert_allclose(got, saved[1].predict(x, verbose=0), atol=1e-5)
    calls = metric(text, "lamina_batch_requests_count")
    assert metric(text, "lamina_batch_requests_sum") == 16
    assert calls < 16, f"16 concurrent requests ran as {calls} model calls"
    assert metric(text, 'lamina_batch_size_bucket{model="tiny",le="1"}') < 16


def test_load_300_requests_16_clients(server, saved):
    rng = np.random.default_rng(3)
    xs = [rng.normal(size=(int(rng.integers(1, 4)), 4)).astype("float32") for _ in range(300)]
    results = asyncio.run(_post_many(server.url + "/v1/models/tiny:predict",
                                     [{"instances": x.tolist()} for x in xs], 16))
    assert [s for s, _ in results] == [200] * 300
    got = np.concatenate([np.array(body["predictions"]) for _, body in results])
    np.testing.assert_allclose(got, saved[1].predict(np.concatenate(xs), verbose=0), atol=1e-5)


def test_batcher_splits_results_back_and_reports_model_errors():
    calls = []

    def double(arrays):
        calls.append(len(arrays[0]))
        if np.any(arrays[0] < 0):
            raise ValueError("negative input")
        return [arrays[0] * 2, arrays[0].sum(axis=1)]

    async def main():
        batcher = Batcher(double, max_batch_size=8, batch_timeout=0.05)
        await batcher.start()
        reqs = [np.full((n, 2), n, "float32") for n in (1, 2, 3)]
        outs = await asyncio.gather(*(batcher.submit([r]) for r in reqs))
        with pytest.raises(ValueError, match="negative input"):
            await batcher.submit([np.full((1, 2), -1.0, "float32")])
        await batcher.stop()
        return reqs, outs

    reqs, outs = asyncio.run(main())
    assert calls[0] == 6  # the three requests ran as one call
    for r, (doubled, summed) in zip(reqs, outs):
        np.testing.assert_array_equal(doubled, r * 2)
        np.testing.assert_array_equal(summed, r.sum(axis=1))
    with pytest.raises(ValueError, match="max_batch_size must be >= 1"):
        Batcher(double, max_batch_size=0)


def test_a_failing_model_call_answers_500_and_the_server_keeps_serving(saved):
    def failing(arrays):
        if arrays[0][0, 0] > 100:
            raise RuntimeError("model exploded")
        return [arrays[0][:, :3]]

    with ServerThread(build_app(saved[1], model_name="tiny", predict_fn=failing)) as srv:
        status, body = http(srv.url + "/v1/models/tiny:predict", {"instances": [[101, 0, 0, 0]]})
        assert status == 500 and "RuntimeError: model exploded" in body["error"]
        assert http(srv.url + "/v1/models/tiny:predict", {"instances": [[1, 2, 3, 4]]}) == \
            (200, {"predictions": [[1.0, 2.0, 3.0]]})
        assert http(srv.url + "/healthz")[0] == 200


def test_build_app_rejects_bad_arguments(saved):
    with pytest.raises(ValueError, match="model_name"):
        build_app(saved[1], model_name="a/b")

    class Bare(lamina.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="no defined inputs"):
        build_app(Bare())


def test_cli_serve_shuts_down_gracefully_on_sigterm(saved):
    # A 1.5 s batch window keeps a request in flight while SIGTERM arrives.
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=ROOT)
    proc = subprocess.Popen([sys.executable, "-m", "lamina", "serve", saved[0], "--port", "0",
                             "--model-name", "tiny", "--batch-timeout-ms", "1500", "--max-batch-size", "64"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/v1/models/tiny", line)
        assert match, f"unexpected first line {line!r}; stderr: {proc.stderr.read() if not line else ''}"
        url = f"http://127.0.0.1:{match.group(1)}"
        x = [[0.5, -1.0, 2.0, 0.25]]
        result = {}
        thread = threading.Thread(target=lambda: result.update(r=http(url + "/v1/models/tiny:predict",
                                                                      {"instances": x})))
        start = time.perf_counter()
        thread.start()
        deadline = time.perf_counter() + 20
        while metric(http(url + "/metrics")[1], "lamina_requests_in_flight") < 1:
            assert time.perf_counter() < deadline, "the request never reached the server"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        thread.join(30)
        assert proc.wait(30) == 0
        status, body = result["r"]
        assert status == 200, body
        assert time.perf_counter() - start >= 1.4  # it waited out its batch window, then got its answer
        np.testing.assert_allclose(np.array(body["predictions"]), saved[1].predict(np.array(x), verbose=0),
                                   atol=1e-5)
        with pytest.raises(urllib.error.URLError):  # no longer accepting
            urllib.request.urlopen(url + "/healthz", timeout=5)
        assert "shutting down" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
