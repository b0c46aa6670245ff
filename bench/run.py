"""Run every benchmark, each runner in its own process, and write the table to BENCHMARKS.md.

Usage: python bench/run.py [--out BENCHMARKS.md] [--only mnist_mlp|input_pipeline|imdb_lstm|transformer_block]
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

# Benchmarks that run only some of the runners (the others run all of RUNNERS).
BENCH_RUNNERS = {
    "input_pipeline": ("lamina-torch", "lamina-jax"),
    "imdb_lstm": ("lamina-torch", "lamina-jax", "keras-torch", "keras-jax", "torch-loop"),
    "transformer_block": ("lamina-torch", "lamina-jax", "keras-torch", "keras-jax", "torch-loop"),
    "cifar10_cnn": ("lamina-torch", "lamina-jax", "keras-torch", "keras-jax", "torch-loop"),
}

# The issues' targets: (lamina-torch / torch-loop, lamina-jax / keras-jax); the MNIST MLP's by default.
TARGETS = {"cifar10_cnn": (1.1, 0.9), "imdb_lstm": (1.15, 0.9), "transformer_block": (1.15, 0.9)}

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
}


def run_one(bench, runner):
    env = dict(os.environ, **RUNNERS[runner])
    env.setdefault("LAMINA_DATASETS_DIR", str(ROOT.parent / "shared" / "data"))
    proc = subprocess.run([sys.executable, str(HERE / f"{bench}.py"), runner], env=env, cwd=HERE,
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        return {"runner": runner, "error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    ap.add_argument("--only", default="mnist_mlp")
    ap.add_argument("--repeat", type=int, default=3, help="runs per runner; the median run is reported")
    args = ap.parse_args()
    have_keras = importlib.util.find_spec("keras") is not None
    runners = [r for r in BENCH_RUNNERS.get(args.only, RUNNERS) if have_keras or not r.startswith("keras")]
    # Each runner runs --repeat times, interleaved with the others, and the run with the median
    # ms/step is reported: on a small machine a single run can be off by 1.5x.
    runs = {r: [] for r in runners}
    for _ in range(args.repeat):
        for runner in runners:
            res = run_one(args.only, runner)
            print(json.dumps(res), flush=True)
            runs[runner].append(res)
    rows = [_median_run(runs[r]) for r in runners]
    if args.only == "input_pipeline":
        write_section(pathlib.Path(args.out), args.only, input_pipeline_table(rows))
        return
    by = {r["runner"]: r for r in rows}

    def ratio(a, b):
        if a in by and b in by and "ms_per_step" in by[a] and "ms_per_step" in by[b]:
            return f"{by[a]['ms_per_step'] / by[b]['ms_per_step']:.2f}x"
        return "n/a"

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
        f"Ratios: lamina-torch / torch-loop = {ratio('lamina-torch', 'torch-loop')} "
        f"(target <= {TARGETS.get(args.only, (1.15, 0.6))[0]}x); "
        f"lamina-jax / keras-jax = {ratio('lamina-jax', 'keras-jax')} "
        f"(target <= {TARGETS.get(args.only, (1.15, 0.6))[1]}x); "
        f"lamina-torch / keras-torch = {ratio('lamina-torch', 'keras-torch')}; "
        f"lamina-jax / jax-loop = {ratio('lamina-jax', 'jax-loop')}.",
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
        "| runner | arrays ms/step | PyDataset ms/step | DataLoader ms/step | PyDataset / arrays |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['runner']} | error: {r['error'][:80]} | | | |")
            continue
        a, p, d = r["ms_per_step_arrays"], r["ms_per_step_pydataset"], r["ms_per_step_dataloader"]
        lines.append(f"| {r['runner']} | {a:.3f} | {p:.3f} | {d:.3f} | {p / a:.2f}x |")
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
