"""Data parallel (and, on PyTorch, sharded) scaling of the tutorial MNIST MLP: one process/device against two.

PyTorch: the same script run alone and under ``torchrun --nproc-per-node 2`` (Gloo on
127.0.0.1), global batch 64, data parallel and under ``ModelParallel`` with every kernel split over the two
processes (FSDP on DTensor). JAX: one device against ``DataParallel`` over two host
devices (``--xla_force_host_platform_device_count=2``) and against two processes joined by
``jax.distributed`` (``DataParallel`` over one CPU device each), global batch 64. Each run trains a
warm-up epoch on 3,200 samples, then one timed epoch of 60,000 samples (937 steps).

On a CPU box the "devices" share the same cores, so this measures the cost of the
collective operations more than a speed-up; on a GPU machine each process owns a GPU.

Usage: python bench/distributed.py [--out BENCHMARKS.md]   (writes the `distributed` section)
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import socket
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
BATCH = 64

WORKER = """
import json, os, sys, time
sys.path.insert(0, {here!r})
import numpy as np
import lamina as keras
from common import mnist
if sys.argv[1] == "procs":
    keras.distribution.initialize("127.0.0.1:" + sys.argv[3], 2, int(sys.argv[2]))
if sys.argv[1] in ("dp", "procs"):
    keras.distribution.set_distribution(keras.distribution.DataParallel())
if sys.argv[1] == "mp":  # FSDP: every kernel split over the processes that split the batch
    mesh = keras.distribution.DeviceMesh((2,), ["batch"], keras.distribution.list_devices())
    layout_map = keras.distribution.LayoutMap(mesh)
    layout_map[".*kernel"] = ("batch", None)
    keras.distribution.set_distribution(keras.distribution.ModelParallel(layout_map=layout_map,
                                                                         batch_dim_name="batch"))
x, y = mnist()
x = x.reshape(-1, 28, 28)
keras.utils.set_random_seed(1)
model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                          keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x[:3200], y[:3200], batch_size={batch}, epochs=1, verbose=0)
t = time.perf_counter()
hist = model.fit(x, y, batch_size={batch}, epochs=1, verbose=0)
seconds = time.perf_counter() - t
if keras.distribution.is_chief():
    print(json.dumps({{"ms_per_step": 1000 * seconds / int(np.ceil(len(x) / {batch})),
                      "loss": hist.history["loss"][-1], "accuracy": hist.history["accuracy"][-1]}}))
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(backend, mode, script):
    env = dict(os.environ, LAMINA_BACKEND=backend, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    env.setdefault("LAMINA_DATASETS_DIR", str(ROOT.parent / "shared" / "data"))
    cmd = [sys.executable, str(script), mode]
    if backend == "torch" and mode in ("dp", "mp"):
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=2",
               f"--master-port={_free_port()}", str(script), mode]
    if backend == "jax" and mode == "dp":
        env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    if backend == "jax" and mode == "procs":  # two JAX processes joined by jax.distributed
        port = str(_free_port())
        procs = [subprocess.Popen([sys.executable, str(script), "procs", str(r), port], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in (0, 1)]
        outs = [p.communicate(timeout=1800) for p in procs]
        if any(p.returncode for p in procs):
            raise RuntimeError(f"jax procs failed:\n{outs[0][1][-2000:]}\n{outs[1][1][-2000:]}")
        stdout = outs[0][0]
    else:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            raise RuntimeError(f"{backend} {mode} failed:\n{proc.stderr[-2000:]}")
        stdout = proc.stdout
    out = json.loads(stdout.strip().splitlines()[-1])
    print(backend, mode, out, flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()
    script = pathlib.Path("/tmp") / f"lamina_dist_bench_{os.getpid()}.py"
    script.write_text(WORKER.format(here=str(HERE), batch=BATCH))
    rows = []
    started = time.time()
    ones = {}
    for backend, mode, two in (("torch", "dp", "2 processes (torchrun, Gloo)"),
                               ("torch", "mp", "2 processes, ModelParallel: kernels sharded (FSDP on DTensor)"),
                               ("jax", "dp", "2 host devices in 1 process (DataParallel)"),
                               ("jax", "procs", "2 processes (jax.distributed, Gloo)")):
        if backend not in ones:
            ones[backend] = run(backend, "one", script)
        one = ones[backend]
        dp = run(backend, mode, script)
        rows.append(f"| {backend} | {one['ms_per_step']:.3f} | {two} | {dp['ms_per_step']:.3f} | "
                    f"{dp['ms_per_step'] / one['ms_per_step']:.2f}x | {one['loss']:.4f} / {dp['loss']:.4f} |")
    script.unlink()
    text = "\n".join([
        "## distributed: data parallel and sharded MNIST MLP, global batch 64, one epoch of 60,000 samples "
        "(937 steps)",
        "",
        f"Date: {datetime.date.today()}; machine: {platform.machine()}, {os.cpu_count()} CPU cores "
        f"(the two processes/devices share them); command: `python bench/distributed.py` "
        f"({time.time() - started:.0f} s)",
        "",
        "| engine | 1 process/device, ms/step | 2 x | 2, ms/step | 2 / 1 | epoch loss 1 / 2 |",
        "|---|---:|---|---:|---:|---|",
        *rows,
        "",
        "Same global batch, so the two runs take the same steps (the tests check equal weights); the ratio is "
        "the cost of splitting each step and all-reducing the gradients on CPU cores shared by both workers. "
        "ModelParallel also all-gathers the sharded kernels and reduce-scatters their gradients at each step (one "
        "collective per bucket: the variables of one dtype split over one mesh axis), in exchange for holding half "
        "of each kernel and of its Adam slots.",
    ])
    sys.path.insert(0, str(HERE))
    from run import write_section

    write_section(pathlib.Path(args.out), "distributed", text)
    print(text)


if __name__ == "__main__":
    main()
