"""Run every benchmark, each runner in its own process, and write the table to BENCHMARKS.md.

Usage: python bench/run.py [--out BENCHMARKS.md] [--repeat 3] [--only NAME]
NAME: mnist_mlp (default), cifar10_cnn, imdb_lstm, transformer_block, resnet_block, mobilenet_v2,
conv_autoencoder, input_pipeline, predict, first_step, memory, examples, or all (each of these in turn, then
bench/distributed.py).
Keras 3 runners are included when `keras` is importable (install it only in the benchmark
environment: pip install -r bench/requirements-bench.txt).
"""

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import pathlib
import platform
import subprocess
import sys

import per_model_tables

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent

RUNNERS = {
    "lamina-torch": {"LAMINA_BACKEND": "torch"},
    "lamina-jax": {"LAMINA_BACKEND": "jax"},
    "keras-torch": {"KERAS_BACKEND": "torch"},
    "keras-jax": {"KERAS_BACKEND": "jax"},
    "torch-loop": {},
    "jax-loop": {},
}
# Runners of some benchmarks only (never run by default).
EXTRA_RUNNERS = {
    "lamina-jax-cache": {"LAMINA_BACKEND": "jax"},
    "keras-jax-cache": {"KERAS_BACKEND": "jax"},
    "torch-direct": {},
    "jax-direct": {},
    # compile(jit_compile=True): torch.compile on PyTorch (bench/common.py compile_options)
    "lamina-torch-jit": {"LAMINA_BACKEND": "torch", "BENCH_JIT_COMPILE": "1"},
    "keras-torch-jit": {"KERAS_BACKEND": "torch", "BENCH_JIT_COMPILE": "1"},
    # ... with CUDA graphs (torch.compile mode "reduce-overhead"; GPU only)
    "lamina-torch-jit-cg": {"LAMINA_BACKEND": "torch", "BENCH_JIT_COMPILE": "1",
                            "LAMINA_TORCH_COMPILE_MODE": "reduce-overhead"},
    # one training step per compiled call on JAX (instead of lamina's automatic choice)
    "lamina-jax-spe1": {"LAMINA_BACKEND": "jax", "BENCH_STEPS_PER_EXECUTION": "1"},
}
KERAS_LIKE = ("lamina-torch", "lamina-jax", "keras-torch", "keras-jax")
# What --only all runs, in order (bench/distributed.py after them).
ALL = ("mnist_mlp", "cifar10_cnn", "imdb_lstm", "transformer_block", "resnet_block", "mobilenet_v2",
       "conv_autoencoder", "input_pipeline", "predict", "first_step", "memory", "examples")

# Benchmarks that run only some of the runners (the others run all of RUNNERS).
BENCH_RUNNERS = {
    "input_pipeline": ("lamina-torch", "lamina-jax"),
    "imdb_lstm": ("lamina-torch", "lamina-jax", "keras-torch", "keras-jax", "torch-loop"),
    "transformer_block": ("lamina-torch", "lamina-jax", "keras-torch", "keras-jax", "torch-loop"),
    "cifar10_cnn": ("lamina-torch", "lamina-jax", "keras-torch", "keras-jax", "torch-loop"),
    "resnet_block": ("lamina-torch", "lamina-jax", "keras-torch", "keras-jax", "torch-loop"),
    "mobilenet_v2": ("lamina-torch", "lamina-jax", "keras-torch", "keras-jax", "torch-loop"),
    "conv_autoencoder": ("lamina-torch", "lamina-jax", "keras-torch", "keras-jax", "torch-loop"),
    "predict": KERAS_LIKE + ("torch-direct", "jax-direct"),
    "first_step": KERAS_LIKE + ("lamina-jax-cache", "keras-jax-cache"),
    "memory": KERAS_LIKE + ("torch-loop",),
    "examples": KERAS_LIKE,
}

# The issues' targets: (lamina-torch / torch-loop, lamina-jax / keras-jax); the MNIST MLP's by default.
TARGETS = {"cifar10_cnn": (1.1, 0.9), "imdb_lstm": (1.15, 0.9), "transformer_block": (1.15, 0.9),
           "resnet_block": (1.1, 0.9), "mobilenet_v2": (1.15, 0.9),
           "conv_autoencoder": (1.15, 0.9)}

# Section titles and warm-up column headers of the benchmarks that are not the MNIST MLP.
TITLES = {
    "imdb_lstm": ("tutorial IMDB LSTM (Embedding 10000x128, LSTM 128, Dense 1), maxlen 200, batch 32, "
                  "64 timed steps after 16 warm-up steps", "warm-up, 16 steps"),
    "transformer_block": ("Transformer encoder block (Embedding 32, MultiHeadAttention 2 heads x 32, LayerNorm, "
                          "FFN 64, GlobalAveragePooling1D, Dense 1) on IMDB, maxlen 200, batch 32, 96 timed "
                          "steps after 16 warm-up steps", "warm-up, 16 steps"),
    "cifar10_cnn": ("tutorial CIFAR-10 CNN (Conv2D 32 - MaxPool - Conv2D 64 - MaxPool - Flatten - Dense 10, "
                    "Adam) on random 32x32x3 data, batch 32, 100 timed steps after 20 warm-up steps",
                    "warm-up, 20 steps"),
    "resnet_block": ("ResNet-style network with BatchNormalization (Conv2D 16 - BN - ReLU stem, two residual "
                     "blocks Conv-BN-ReLU-Conv-BN + skip, Add, ReLU; GlobalAveragePooling2D, Dense 10; Adam) on "
                     "random 32x32x3 data, batch 32, 40 timed steps after 10 warm-up steps",
                     "warm-up, 10 steps"),
    "mobilenet_v2": ("MobileNetV2 from each library's applications (alpha 0.35, 64x64x3 inputs, 10 classes, no "
                     "pretrained weights: 17 inverted-residual blocks of 1x1 - 3x3 depthwise - 1x1 convolutions "
                     "with BatchNormalization and ReLU6; Adam) on random data, batch 32, 30 timed steps after 5 "
                     "warm-up steps", "warm-up, 5 steps"),
    "conv_autoencoder": ("convolutional autoencoder on MNIST (Conv2D 32 / 64 stride 2 - Conv2DTranspose 64 / 32 "
                         "stride 2 - Conv2D 1 sigmoid; Adam, binary crossentropy), batch 32, 60 timed steps after 10 "
                         "warm-up steps", "warm-up, 10 steps"),
}


def run_one(bench, runner):
    env = dict(os.environ, **{**RUNNERS, **EXTRA_RUNNERS}[runner])
    env.setdefault("LAMINA_DATASETS_DIR", str(ROOT.parent / "shared" / "data"))
    proc = subprocess.run([sys.executable, str(HERE / f"{bench}.py"), runner], env=env, cwd=HERE,
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        return {"runner": runner, "error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median_run(results):
    """The run with the median ms/step (all runs' ms/step kept as ``all_ms_per_step``)."""
    key = "ms_per_step" if "ms_per_step" in results[0] else "ms_per_step_arrays"
    ok = sorted((r for r in results if key in r), key=lambda r: r[key])
    if not ok:
        return results[0]
    med = dict(ok[(len(ok) - 1) // 2])
    med["all_ms_per_step"] = [round(r[key], 3) for r in ok]
    return med


def versions():
    out = {"python": platform.python_version()}
    for pkg in ("torch", "jax", "keras", "numpy"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def header(args):
    """The date/machine/versions and command lines of a section."""
    return [f"Date: {datetime.date.today()}; machine: {platform.machine()}, {os.cpu_count()} CPU cores, "
            f"{platform.system()}; versions: {versions()}",
            f"Command: `python bench/run.py --only {args.only} --repeat {args.repeat}` (median of "
            f"{args.repeat} interleaved runs per runner)"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    ap.add_argument("--only", default="mnist_mlp", help=f"one of {', '.join(ALL)}, or all")
    ap.add_argument("--repeat", type=int, default=3, help="runs per runner; the median run is reported")
    ap.add_argument("--runners", default="",
                    help="comma-separated runners instead of the benchmark's own (e.g. lamina-torch,lamina-torch-jit)")
    args = ap.parse_args()
    if args.only == "all":
        for name in ALL:
            print(f"== {name}", flush=True)
            run_benchmark(argparse.Namespace(**dict(vars(args), only=name)))
        print("== distributed", flush=True)
        subprocess.run([sys.executable, str(HERE / "distributed.py"), "--out", args.out], check=True)
        return
    if args.only not in ALL:
        raise SystemExit(f"run.py: unknown benchmark {args.only!r}; use one of {', '.join(ALL)}, or all")
    run_benchmark(args)


def run_benchmark(args):
    """Run one benchmark's runners --repeat times and write its section of BENCHMARKS.md."""
    have_keras = importlib.util.find_spec("keras") is not None
    chosen = args.runners.split(",") if args.runners else BENCH_RUNNERS.get(args.only, RUNNERS)
    runners = [r for r in chosen if have_keras or not r.startswith("keras")]
    # Each runner runs --repeat times, interleaved with the others, and the run with the median
    # ms/step is reported: on a small machine a single run can be off by 1.5x.
    runs = {r: [] for r in runners}
    for _ in range(args.repeat):
        for runner in runners:
            res = run_one(args.only, runner)
            print(json.dumps(res), flush=True)
            runs[runner].append(res)
    if args.only in per_model_tables.TABLES:
        rows = [per_model_tables.median_figures(runs[r]) for r in runners]
        text = per_model_tables.TABLES[args.only](rows, header(args))
        write_section(pathlib.Path(args.out), args.only, text)
        print(text)
        return
    rows = [_median_run(runs[r]) for r in runners]
    if args.only == "input_pipeline":
        write_section(pathlib.Path(args.out), args.only, input_pipeline_table(rows))
        return
    by = {r["runner"]: r for r in rows}
    targets = TARGETS.get(args.only, (1.15, 0.6))

    def ratio(a, b, target=None):
        if a in by and b in by and "ms_per_step" in by[a] and "ms_per_step" in by[b]:
            value = by[a]['ms_per_step'] / by[b]['ms_per_step']
            if target is None:
                return f"{value:.2f}x"
            return f"{value:.2f}x (target <= {target}x: {'met' if value <= target else 'missed'})"
        return "n/a" if target is None else f"n/a (target <= {target}x)"

    lines = [
        f"## {args.only}: " + TITLES.get(args.only, ("tutorial MNIST MLP, batch 32, one epoch of 60,000 samples "
                                                     "(1,875 steps)",))[0],
        "",
        f"Date: {datetime.date.today()}; machine: {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"{platform.system()}; versions: {versions()}",
        f"Command: `python bench/run.py --only {args.only} --repeat {args.repeat}` (median of "
        f"{args.repeat} interleaved runs per runner; all runs in the last column)",
        "",
        f"| runner | ms/step | {TITLES.get(args.only, (None, 'first (warm-up) epoch, 3,200 samples'))[1]} | "
        "final loss | all runs, ms/step |",
        "|---|---:|---:|---:|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['runner']} | error: {r['error'][:80]} | | | |")
        else:
            lines.append(f"| {r['runner']} | {r['ms_per_step']:.3f} | {r['first_epoch_s']:.2f} s | "
                         f"{r['final_loss']:.4f} | {', '.join(map(str, r.get('all_ms_per_step', [])))} |")
    lines += [
        "",
        f"Ratios: lamina-torch / torch-loop = {ratio('lamina-torch', 'torch-loop', targets[0])}; "
        f"lamina-jax / keras-jax = {ratio('lamina-jax', 'keras-jax', targets[1])}; "
        f"lamina-torch / keras-torch = {ratio('lamina-torch', 'keras-torch')}; "
        f"lamina-jax / jax-loop = {ratio('lamina-jax', 'jax-loop')}."
        + (f" jit_compile=True: lamina-torch-jit / lamina-torch = {ratio('lamina-torch-jit', 'lamina-torch')}; "
           f"keras-torch-jit / keras-torch = {ratio('keras-torch-jit', 'keras-torch')}."
           if "lamina-torch-jit" in by or "keras-torch-jit" in by else ""),
        "",
    ]
    write_section(pathlib.Path(args.out), args.only, "\n".join(lines))
    print("\n".join(lines))


def input_pipeline_table(rows):
    """The table of bench/input_pipeline.py: ms/step of fit per input source."""
    lines = [
        "## input_pipeline: MNIST MLP, batch 32, one epoch of 60,000 samples (1,875 steps), fit on each source",
        "",
        f"Date: {datetime.date.today()}; machine: {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"{platform.system()}; versions: {versions()}",
        "Command: `python bench/run.py --only input_pipeline`",
        "",
        "| runner | arrays ms/step | PyDataset ms/step | DataLoader ms/step | PyDataset / arrays | DataLoader / arrays |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['runner']} | error: {r['error'][:80]} | | | | |")
            continue
        a, p, d = r["ms_per_step_arrays"], r["ms_per_step_pydataset"], r["ms_per_step_dataloader"]
        lines.append(f"| {r['runner']} | {a:.3f} | {p:.3f} | {d:.3f} | {p / a:.2f}x | {d / a:.2f}x |")
    text = "\n".join(lines + [""])
    print(text)
    return text


def write_section(path, name, text):
    """Replace this benchmark's section of BENCHMARKS.md (between markers), keeping the rest."""
    start, end = f"<!-- bench:{name} start -->", f"<!-- bench:{name} end -->"
    block = f"{start}\n{text}\n{end}"
    old = path.read_text() if path.exists() else "# Benchmarks\n\n"
    if start in old and end in old:
        new = old[:old.index(start)] + block + old[old.index(end) + len(end):]
    else:
        new = old.rstrip() + "\n\n" + block + "\n"
    path.write_text(new)


if __name__ == "__main__":
    main()
