"""Where lamina's PyTorch training step spends GPU work that a hand-written loop does not: per step, the CUDA
kernels launched, host<->device copies and synchronizing calls, for the tutorial MNIST MLP and CIFAR CNN, lamina
against the hand-written loop of bench/; then every synchronizing call lamina makes in a few steps, with the
lamina frames that made it (``torch.cuda.set_sync_debug_mode``).

Usage (on a machine with a CUDA GPU): LAMINA_BACKEND=torch python bench/gpu_profile.py
(BENCH_JIT_COMPILE=1: lamina with compile(jit_compile=True); LAMINA_TORCH_COMPILE_MODE=reduce-overhead: CUDA graphs)
"""

import collections
import os
import sys
import traceback
import warnings

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

os.environ.setdefault("LAMINA_BACKEND", "torch")
sys.path.insert(0, os.path.dirname(__file__))

from common import compile_options  # noqa: E402

STEPS = 20
BATCH = 32


def counts(prof, steps):
    c = collections.Counter()
    for e in prof.events():
        name = e.name
        if e.device_type == torch.autograd.DeviceType.CUDA:
            c["memcpy HtoD" if "HtoD" in name else "memcpy DtoH" if "DtoH" in name else
              "memset" if "Memset" in name else "kernels"] += 1
        elif name in ("cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaMemcpy", "cudaMemcpyAsync",
                      "cudaEventSynchronize", "cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC"):
            c[name] += 1
    return {k: round(v / steps, 1) for k, v in sorted(c.items())}


def lamina_model(lamina, which):
    L = lamina.layers
    if which == "mlp":
        m = lamina.Sequential([lamina.Input((28, 28)), L.Flatten(), L.Dense(128, activation="relu"),
                               L.Dense(10, activation="softmax")])
        shape = (28, 28)
    else:
        m = lamina.Sequential([lamina.Input((32, 32, 3)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(),
                               L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(),
                               L.Dense(10, activation="softmax")])
        shape = (32, 32, 3)
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **compile_options())
    return m, shape


def run_lamina(which):
    import lamina

    model, shape = lamina_model(lamina, which)
    n = BATCH * STEPS
    x = np.random.rand(n, *shape).astype("float32")
    y = np.random.randint(0, 10, n)
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        torch.cuda.synchronize()
    print(f"lamina {which}: per step {counts(prof, STEPS)}", flush=True)
    # Every synchronizing call in one epoch, by the lamina frames that made it.
    seen = collections.Counter()

    def record(message, category, filename, lineno, file=None, line=None):
        frames = [f"{f.filename.split('lamina/')[-1]}:{f.lineno} {f.name}" for f in traceback.extract_stack()
                  if "/lamina/" in f.filename and "/bench/" not in f.filename][-4:]
        seen[(str(message)[:80], tuple(frames))] += 1

    old = warnings.showwarning
    warnings.showwarning = record
    warnings.simplefilter("always")
    torch.cuda.set_sync_debug_mode("warn")
    try:
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    finally:
        torch.cuda.set_sync_debug_mode("default")
        warnings.showwarning = old
    print(f"lamina {which}: synchronizing calls in one epoch of {STEPS} steps:")
    for (msg, frames), k in seen.most_common():
        print(f"  {k} x {msg}")
        for f in frames:
            print(f"      {f}")


def run_loop(which):
    dev = torch.device("cuda")
    nn = torch.nn
    if which == "mlp":
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        shape = (28, 28)
    else:
        net = nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 6 * 64, 10))
        shape = (3, 32, 32)
    net = net.to(dev)
    n = BATCH * STEPS
    xt = torch.rand(n, *shape, device=dev)
    yt = torch.randint(0, 10, (n,), device=dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    def epoch():
        perm = torch.randperm(n, device=dev)
        total = 0.0
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            loss = loss_fn(net(xt[idx]), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach()
        return float(total)

    epoch()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        epoch()
        torch.cuda.synchronize()
    print(f"loop {which}: per step {counts(prof, STEPS)}", flush=True)


if __name__ == "__main__":
    if not torch.cuda.is_available():
        raise SystemExit("gpu_profile.py: no CUDA GPU here")
    for which in ("mlp", "cnn"):
        run_loop(which)
        run_lamina(which)
