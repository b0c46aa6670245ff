"""The training benchmarks on a GPU: each runner in its own process, one after another, in priority order.

Usage: python bench/gpu.py [--out FILE] [--budget SECONDS] [--repeat N]
Runs the tutorial MNIST MLP, the CIFAR CNN, the ResNet block, the Transformer block and the IMDB LSTM with
the hand-written PyTorch loop (model and data on the GPU), lamina and Keras 3 on each engine (Keras only when
importable) and, for the MLP, a hand-written JAX loop. Stops starting new runs once ``--budget`` seconds have
passed, so a time-limited GPU lease still brings back what finished. Each result is printed as one JSON line
as it comes; the markdown table (ratios against the anchors, as in run.py) goes to ``--out``.
The GPU steps are short, so the CNN and ResNet runs time more steps than on the CPU (env below).
"""

import argparse
import datetime
import importlib.util
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

from run import EXTRA_RUNNERS, RUNNERS, TARGETS, versions

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent

PLAN = [
    ("mnist_mlp", ("torch-loop", "lamina-torch", "lamina-torch-jit", "lamina-torch-jit-cg", "keras-torch",
                   "keras-torch-jit", "jax-loop", "lamina-jax", "keras-jax")),
    ("cifar10_cnn", ("torch-loop", "lamina-torch", "lamina-torch-jit", "lamina-torch-jit-cg", "keras-torch",
                     "lamina-jax", "keras-jax")),
    ("resnet_block", ("torch-loop", "lamina-torch", "lamina-torch-jit", "lamina-torch-jit-cg", "keras-torch",
                      "lamina-jax", "keras-jax", "lamina-jax-spe1")),
    ("transformer_block", ("torch-loop", "lamina-torch", "lamina-torch-jit", "keras-torch", "lamina-jax",
                           "keras-jax")),
    ("imdb_lstm", ("torch-loop", "lamina-torch", "keras-torch", "lamina-jax", "keras-jax")),
]
# Warm-ups that are not a multiple of 16 steps: on a GPU lamina-jax runs 16 steps per compiled call and
# an epoch's last, shorter block one step per call - a second program, which must compile in the warm-up
# (200 ResNet steps end in such a block; a 16-step warm-up left that compile in the timed epoch).
STEPS_ENV = {"CIFAR_BENCH_STEPS": "400", "CIFAR_BENCH_WARMUP_STEPS": "20",
             "RESNET_BENCH_STEPS": "200", "RESNET_BENCH_WARMUP_STEPS": "20"}
TITLES = {"mnist_mlp": "tutorial MNIST MLP, batch 32, one epoch of 60,000 samples (1,875 steps)",
          "cifar10_cnn": "tutorial CIFAR-10 CNN, batch 32, 400 timed steps after 20",
          "resnet_block": "ResNet-style block with BatchNormalization, batch 32, 200 timed steps after 20",
          "transformer_block": "Transformer encoder block on IMDB, maxlen 200, batch 32, 96 timed steps after 16",
          "imdb_lstm": "tutorial IMDB LSTM (128 units), maxlen 200, batch 32, 64 timed steps after 16"}


# Runner variants (bench/run.py EXTRA_RUNNERS): lamina-jax-spe1, one step per compiled call instead of 16 in a
# lax.scan (isolates what the scan costs); lamina-torch-jit / keras-torch-jit, compile(jit_compile=True)
# (torch.compile); lamina-torch-jit-cg, the same with CUDA graphs (torch.compile mode "reduce-overhead").
VARIANTS = {name: (name.rsplit("-", 2)[0] if name.endswith("-jit-cg") else name.rsplit("-", 1)[0], env)
            for name, env in EXTRA_RUNNERS.items() if name.endswith(("-jit", "-jit-cg", "-spe1"))}


def run_one(bench, runner, timeout):
    base, extra = VARIANTS.get(runner, (runner, {}))
    env = {**os.environ, **STEPS_ENV, **RUNNERS[base], **extra}
    env.setdefault("LAMINA_DATASETS_DIR", str(ROOT.parent / "shared" / "data"))
    try:
        proc = subprocess.run([sys.executable, str(HERE / f"{bench}.py"), base], env=env, cwd=HERE,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"runner": runner, "error": f"timed out after {timeout} s"}
    if proc.returncode != 0:
        err = proc.stderr.strip().splitlines()
        return {"runner": runner, "error": err[-1] if err else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def gpu_name():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        return out.stdout.strip() or "no GPU found by nvidia-smi"
    except (OSError, subprocess.SubprocessError):
        return "no nvidia-smi"


def table(results, repeat):
    lines = ["## GPU: training step, ms/step (median of runs)", "",
             f"Date: {datetime.date.today()}; GPU: {gpu_name()}; {os.cpu_count()} CPU cores; "
             f"versions: {versions()}",
             f"Command: `python bench/gpu.py --repeat {repeat}` (each runner in its own process, one at a time)", ""]
    for bench, rows in results.items():
        lines += [f"### {bench}: {TITLES[bench]}", "", "| runner | ms/step | warm-up s | final loss | all runs |",
                  "|---|---:|---:|---:|---|"]
        med = {}
        for runner, runs in rows.items():
            ok = sorted((r for r in runs if "ms_per_step" in r), key=lambda r: r["ms_per_step"])
            if not ok:
                lines.append(f"| {runner} | error: {runs[0].get('error', '?')[:90]} | | | |")
                continue
            m = ok[(len(ok) - 1) // 2]
            med[runner] = m["ms_per_step"]
            lines.append(f"| {runner} | {m['ms_per_step']:.3f} | {m['first_epoch_s']:.2f} | {m['final_loss']:.4f} | "
                         f"{', '.join('%.3f' % r['ms_per_step'] for r in ok)} |")
        t_torch, t_jax = TARGETS.get(bench, (1.15, 0.6))

        def ratio(a, b, target=None):
            if a not in med or b not in med:
                return "n/a"
            v = med[a] / med[b]
            return f"{v:.2f}x" + ("" if target is None else f" (CPU target <= {target}x)")

        lines += ["", f"Ratios: lamina-torch / torch-loop = {ratio('lamina-torch', 'torch-loop', t_torch)}; "
                      f"lamina-torch-jit / torch-loop = {ratio('lamina-torch-jit', 'torch-loop')}; "
                      f"lamina-torch-jit-cg / torch-loop = {ratio('lamina-torch-jit-cg', 'torch-loop')}; "
                      f"keras-torch-jit / keras-torch = {ratio('keras-torch-jit', 'keras-torch')}; "
                      f"lamina-torch / keras-torch = {ratio('lamina-torch', 'keras-torch')}; "
                      f"lamina-jax / keras-jax = {ratio('lamina-jax', 'keras-jax', t_jax)}; "
                      f"lamina-jax / jax-loop = {ratio('lamina-jax', 'jax-loop')}.", ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS-gpu.md"))
    ap.add_argument("--budget", type=float, default=3600.0, help="start no new run after this many seconds")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=120, help="seconds one runner may take")
    ap.add_argument("--only", default="", help="comma-separated benchmarks (default: all of PLAN)")
    ap.add_argument("--runners", default="", help="comma-separated runners (default: each benchmark's)")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    keep = set(filter(None, args.runners.split(",")))
    have_keras = importlib.util.find_spec("keras") is not None
    start = time.monotonic()
    results = {}
    for bench, runners in PLAN:
        if only and bench not in only:
            continue
        runners = [r for r in runners if (have_keras or not r.startswith("keras")) and (not keep or r in keep)]
        for _ in range(args.repeat):
            for runner in runners:
                if time.monotonic() - start > args.budget:
                    break
                res = run_one(bench, runner, args.timeout)
                res["bench"], res["runner"] = bench, runner
                print(json.dumps(res), flush=True)
                results.setdefault(bench, {}).setdefault(runner, []).append(res)
        pathlib.Path(args.out).write_text(table(results, args.repeat) + "\n")
    print(table(results, args.repeat))


if __name__ == "__main__":
    main()
