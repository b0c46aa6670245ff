"""Time to the first training step, and whether a second ``fit`` in the same process compiles anything.

For each model (bench/predict.py's MODELS: the tutorial MNIST MLP and CIFAR-10 CNN, random data, batch 32),
a fresh process (one per model, so that no model warms the caches of the next) measures:
  import_s       importing the framework (lamina or keras);
  first_fit_s    wall time from model construction to the end of the first ``fit`` of one step
                 (construct, compile, fit: tracing, compilation and warm-up included);
  second_fit_ms  a second ``fit`` of one step on the same data (should cost about one step);
  new_size_fit_ms  a third ``fit``, on STEADY_STEPS batches of the same shape (a new number of samples);
  step_ms        ms per step of a fourth ``fit`` on those STEADY_STEPS batches (a step when warm);
  compiles_first / compiles_second / compiles_new_size / compiles_steady, compile_s_first: on JAX, the XLA
                 compilations counted by ``jax.monitoring`` during each fit (0 in the second fit: it compiled
                 nothing; compiles_new_size shows whether a new dataset size, same batch shape, recompiles).
The "-cache" runners set JAX's persistent compilation cache (``jax_compilation_cache_dir``, with the
minimum compile time and entry size set to 0 so that small programs are cached too) in the benchmark
process, fill a fresh cache directory with one run in a separate process (its figures are kept as
``cold_*``), then measure a second process that reads the cache. lamina has no option of its own for it.

Prints one JSON line: {"runner", "models": {name: {figure: value}}}.
Usage: python bench/first_step.py RUNNER   with RUNNER one of
  lamina-torch, lamina-jax, lamina-jax-cache, keras-torch, keras-jax, keras-jax-cache
(the backend of the runner must match LAMINA_BACKEND/KERAS_BACKEND; run.py sets it).
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from predict import MODELS, build, inputs

BATCH = 32
STEADY_STEPS = 16
RUNNER_NAMES = ("lamina-torch", "lamina-jax", "lamina-jax-cache", "keras-torch", "keras-jax", "keras-jax-cache")


def run_self(args, env=None):
    """Run this script (or ``args[0]``) in a fresh Python process; return its last stdout line as JSON."""
    proc = subprocess.run([sys.executable] + args, capture_output=True, text=True, timeout=1800,
                          env=env, cwd=os.path.dirname(os.path.abspath(__file__)))
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class CompileCounter:
    """Counts XLA compilations (and their seconds) reported by ``jax.monitoring``."""

    def __init__(self):
        import jax

        self.count, self.seconds = 0, 0.0

        def listener(event, duration, **_):
            if event == "/jax/core/compile/backend_compile_duration":
                self.count += 1
                self.seconds += duration

        jax.monitoring.register_event_duration_secs_listener(listener)

    def take(self):
        out = (self.count, self.seconds)
        self.count, self.seconds = 0, 0.0
        return out


def measure(runner, name, cache_dir=None):
    """One model's figures, in this process (called in a fresh process per model)."""
    is_jax = "jax" in runner
    t0 = time.perf_counter()
    if cache_dir:
        import jax

        jax.config.update("jax_compilation_cache_dir", cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    if runner.startswith("lamina"):
        import lamina as keras
    else:
        import keras
    import_s = time.perf_counter() - t0
    counter = CompileCounter() if is_jax else None
    x = inputs(name, BATCH * STEADY_STEPS)
    y = np.random.RandomState(1).randint(0, 10, size=(len(x),)).astype("int64")
    x1, y1 = x[:BATCH], y[:BATCH]

    t0 = time.perf_counter()
    model, opt = build(keras, name)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x1, y1, batch_size=BATCH, epochs=1, verbose=0)
    first = time.perf_counter() - t0
    c_first = counter.take() if counter else (None, None)

    t0 = time.perf_counter()
    model.fit(x1, y1, batch_size=BATCH, epochs=1, verbose=0)
    second = time.perf_counter() - t0
    c_second = counter.take() if counter else (None, None)

    t0 = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    new_size = time.perf_counter() - t0
    c_new_size = counter.take() if counter else (None, None)

    t0 = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    steady = time.perf_counter() - t0
    c_steady = counter.take() if counter else (None, None)
    return {"import_s": import_s, "first_fit_s": first, "second_fit_ms": 1000 * second,
            "new_size_fit_ms": 1000 * new_size, "step_ms": 1000 * steady / STEADY_STEPS,
            "compiles_first": c_first[0], "compile_s_first": c_first[1], "compiles_second": c_second[0],
            "compiles_new_size": c_new_size[0], "compiles_steady": c_steady[0]}


def main(runner):
    if runner not in RUNNER_NAMES:
        raise SystemExit(f"unknown runner {runner}: use one of {', '.join(RUNNER_NAMES)}")
    out = {}
    for name in MODELS:
        if runner.endswith("-cache"):
            base = runner[:-len("-cache")]
            with tempfile.TemporaryDirectory(prefix="jax-cache-") as cache:
                cold = run_self([__file__, "--one", base, name, cache])
                warm = run_self([__file__, "--one", base, name, cache])
            warm.update({f"cold_{k}": v for k, v in cold.items() if k in ("first_fit_s", "compiles_first")})
            out[name] = warm
        else:
            out[name] = run_self([__file__, "--one", runner, name])
    print(json.dumps({"runner": runner, "models": out, "time": time.time()}))


if __name__ == "__main__":
    if sys.argv[1] == "--one":  # python first_step.py --one RUNNER MODEL [CACHE_DIR]
        print(json.dumps(measure(*sys.argv[2:])))
    else:
        main(sys.argv[1])
