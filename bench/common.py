"""Shared pieces of the benchmarks: data loading and timing."""

import gzip
import os
import pathlib
import struct
import time

import numpy as np

SHARED_DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"


def mnist(n=None):
    root = pathlib.Path(os.environ.get("LAMINA_DATASETS_DIR", SHARED_DATA)) / "mnist"

    def read(name):
        with gzip.open(root / name, "rb") as f:
            data = f.read()
        ndim = data[3]
        dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
        return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)

    x = read("train-images-idx3-ubyte.gz").astype("float32") / 255.0
    y = read("train-labels-idx1-ubyte.gz").astype("int64")
    if n:
        x, y = x[:n], y[:n]
    return x, y


def torch_device():
    """Where the hand-written PyTorch loops run: the GPU when there is one (data and model placed there once,
    as lamina and Keras place them), else the CPU."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def compile_options():
    """Extra ``model.compile`` keywords for a runner variant (bench/gpu.py, run.py): BENCH_JIT_COMPILE=1 gives
    ``jit_compile=True``; BENCH_STEPS_PER_EXECUTION=N gives ``steps_per_execution=N``."""
    out = {}
    if os.environ.get("BENCH_JIT_COMPILE"):
        out["jit_compile"] = True
    if os.environ.get("BENCH_STEPS_PER_EXECUTION"):
        out["steps_per_execution"] = int(os.environ["BENCH_STEPS_PER_EXECUTION"])
    return out


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
