"""Load test of `lamina serve` on the tutorial MNIST MLP (Flatten-Dense(128, relu)-Dense(10, softmax)).

The model (random weights) is saved to a temporary .keras file and served by `python -m lamina serve`
in a child process, once with request batching (max batch 32, 2 ms window) and once without
(--no-batching). For each, 16 concurrent closed-loop clients send 2,000 single-image predict requests
(row format, 28x28 floats) after 100 warm-up requests; every answer is checked (status 200, 10
probabilities). Prints one JSON line per runner: {"runner", "batched": {...}, "unbatched": {...}}
with throughput (req/s), p50/p99 latency (ms) and the mean rows per model call (from /metrics).

Usage: python bench/serving.py [RUNNER ...] [--requests 2000] [--concurrency 16] [--repeat 1]
  RUNNER: lamina-torch and/or lamina-jax (default both; each runs with its LAMINA_BACKEND)
Run with OMP_NUM_THREADS=1 on a shared machine. The client runs in this process, so on a small
machine it competes with the server for the CPU: compare figures from the same machine only.
"""

import argparse
import asyncio
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
BACKENDS = {"lamina-torch": "torch", "lamina-jax": "jax"}
SAVE_MODEL = """
import sys, lamina
lamina.utils.set_random_seed(0)
model = lamina.Sequential([lamina.Input((28, 28)), lamina.layers.Flatten(),
                           lamina.layers.Dense(128, activation="relu"),
                           lamina.layers.Dense(10, activation="softmax")])
model.save(sys.argv[1])
"""


def start_server(path, env, extra):
    cmd = [sys.executable, "-m", "lamina", "serve", path, "--port", "0", "--model-name", "mnist", *extra]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        proc.kill()
        raise RuntimeError(f"lamina serve did not start: {line!r} {proc.stderr.read()[-2000:]}")
    return proc, f"http://127.0.0.1:{match.group(1)}"


def stop_server(proc):
    proc.terminate()
    code = proc.wait(60)
    if code != 0:
        raise RuntimeError(f"lamina serve exited with status {code}: {proc.stderr.read()[-2000:]}")


async def load(url, bodies, concurrency):
    """Send every body with `concurrency` closed-loop clients; return (seconds, latencies, errors)."""
    import aiohttp

    latencies, errors = [], []
    queue = list(bodies)

    async def client(session):
        while queue:
            body = queue.pop()
            start = time.perf_counter()
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
                reply = await resp.json()
            latencies.append(time.perf_counter() - start)
            if resp.status != 200 or len(reply["predictions"][0]) != 10:
                errors.append((resp.status, str(reply)[:200]))

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - start
    return seconds, latencies, errors


def batch_stats(url):
    import urllib.request

    with urllib.request.urlopen(url + "/metrics") as resp:
        text = resp.read().decode()

    def value(name):
        return float(re.search(rf"^{name}{{[^}}]*}} (\S+)$", text, re.M).group(1))

    calls = value("lamina_batch_size_count")
    return calls, value("lamina_batch_size_sum") / max(calls, 1)


def run_config(path, env, extra, bodies, concurrency, warmup):
    proc, url = start_server(path, env, extra)
    try:
        predict = url + "/v1/models/mnist:predict"
        asyncio.run(load(predict, bodies[:warmup], concurrency))
        calls_before, _ = batch_stats(url)
        seconds, lat, errors = asyncio.run(load(predict, bodies, concurrency))
        calls_after, _ = batch_stats(url)
    finally:
        stop_server(proc)
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, first: {errors[0]}")
    lat_ms = np.array(lat) * 1e3
    return {"requests": len(bodies), "concurrency": concurrency, "req_per_s": round(len(bodies) / seconds, 1),
            "p50_ms": round(float(np.percentile(lat_ms, 50)), 2),
            "p99_ms": round(float(np.percentile(lat_ms, 99)), 2),
            "model_calls": int(calls_after - calls_before),
            "mean_rows_per_call": round(len(bodies) / max(calls_after - calls_before, 1), 2)}


def run_runner(runner, n_requests, concurrency, warmup=100):
    env = dict(os.environ, LAMINA_BACKEND=BACKENDS[runner], PYTHONPATH=str(ROOT))
    env.setdefault("OMP_NUM_THREADS", "1")
    rng = np.random.default_rng(0)
    images = rng.random((64, 28, 28)).round(4)
    bodies = [json.dumps({"instances": [images[i % 64].tolist()]}) for i in range(n_requests)]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mnist_mlp.keras")
        subprocess.run([sys.executable, "-c", SAVE_MODEL, path], env=env, check=True)
        result = {"runner": runner}
        result["batched"] = run_config(path, env, ["--max-batch-size", "32", "--batch-timeout-ms", "2"],
                                       bodies, concurrency, warmup)
        result["unbatched"] = run_config(path, env, ["--no-batching"], bodies, concurrency, warmup)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runners", nargs="*", metavar="RUNNER", help=f"any of {list(BACKENDS)} (default: all)")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per runner, interleaved; the run with the median req/s is reported per config")
    args = ap.parse_args()
    unknown = [r for r in args.runners if r not in BACKENDS]
    if unknown:
        ap.error(f"unknown runner(s) {unknown}; expected any of {list(BACKENDS)}")
    runners = args.runners or list(BACKENDS)
    runs = {r: [] for r in runners}
    for _ in range(args.repeat):
        for runner in runners:
            runs[runner].append(run_runner(runner, args.requests, args.concurrency))
            if args.repeat > 1:
                print(json.dumps(runs[runner][-1]), file=sys.stderr, flush=True)
    for runner in runners:
        print(json.dumps(median_run(runs[runner])), flush=True)


def median_run(results):
    """Per config, the run with the median req/s (every run's req/s kept as ``all_req_per_s``)."""
    out = {"runner": results[0]["runner"]}
    for config in ("batched", "unbatched"):
        ordered = sorted((r[config] for r in results), key=lambda c: c["req_per_s"])
        out[config] = dict(ordered[(len(ordered) - 1) // 2], all_req_per_s=[c["req_per_s"] for c in ordered])
    return out


if __name__ == "__main__":
    main()
