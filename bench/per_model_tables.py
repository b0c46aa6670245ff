"""The BENCHMARKS.md tables of the benchmarks whose runners report figures per model:
bench/predict.py, bench/first_step.py, bench/memory.py and bench/examples.py (used by bench/run.py)."""

import statistics


def median_figures(results):
    """One row per runner from its --repeat runs: each figure the median of the runs that gave it."""
    ok = [r for r in results if "models" in r]
    if not ok:
        return results[0]
    row = {"runner": ok[0]["runner"], "runs": len(ok), "models": {}, "errors": {}}
    for r in ok:
        row["errors"].update(r.get("errors", {}))
    for name in ok[0]["models"]:
        figures = {}
        for key in ok[0]["models"][name]:
            values = [r["models"][name][key] for r in ok if r["models"].get(name, {}).get(key) is not None]
            figures[key] = statistics.median(values) if values else None
        row["models"][name] = figures
    return row


def _cell(value, fmt):
    return "n/a" if value is None else format(value, fmt)


def _ratio_line(label, value, target):
    if value is None:
        return f"- {label}: n/a (target <= {target}x)"
    return f"- {label} = {value:.2f}x (target <= {target}x: {'met' if value <= target else 'missed'})"


def _figure(by, runner, model, key):
    return by.get(runner, {}).get("models", {}).get(model, {}).get(key)


def _div(a, b):
    return None if a is None or not b else a / b


def _models(rows):
    for r in rows:
        if "models" in r:
            return list(r["models"])
    return []


def _errors(rows):
    return [f"- {r['runner']}: error: {r['error'][:160]}" for r in rows if "error" in r]


def predict_table(rows, head):
    by = {r["runner"]: r for r in rows}
    lines = ["## predict: inference on one sample and on 1,024 samples, against the engine's direct forward call",
             "", *head, "",
             "Tutorial MNIST MLP and CIFAR-10 CNN (random inputs). ms per call: median of 200 calls after 5 "
             "warm-up calls; samples/s: `predict(x, batch_size=1024)` on 1,024 samples, median of 10 calls. "
             "Anchors: torch-direct is the torch.nn module under `torch.inference_mode()`, jax-direct a "
             "`jax.jit` apply function (NumPy in, NumPy out, as `predict`).", "",
             "| model | runner | predict(x1) ms | model(x1) ms | predict_on_batch(x1) ms | predict, batch 1024, "
             "samples/s |", "|---|---|---:|---:|---:|---:|"]
    for model in _models(rows):
        for r in rows:
            if "models" not in r:
                continue
            f = r["models"][model]
            lines.append(f"| {model} | {r['runner']} | {_cell(f['predict1_ms'], '.3f')} | "
                         f"{_cell(f.get('call1_ms'), '.3f')} | {_cell(f.get('pob1_ms'), '.3f')} | "
                         f"{_cell(f['predict1024_sps'], ',.0f')} |")
    lines += ["", "predict on one sample / the engine's direct forward call:"]
    for model in _models(rows):
        for engine in ("torch", "jax"):
            direct = _figure(by, f"{engine}-direct", model, "predict1_ms")
            value = _div(_figure(by, f"lamina-{engine}", model, "predict1_ms"), direct)
            keras = _div(_figure(by, f"keras-{engine}", model, "predict1_ms"), direct)
            pob = _div(_figure(by, f"lamina-{engine}", model, "pob1_ms"), direct)
            lines.append(_ratio_line(f"{model}, lamina-{engine} / {engine}-direct", value, 2)
                         + f"; predict_on_batch {_cell(pob, '.2f')}x; keras-{engine} {_cell(keras, '.2f')}x")
    lines += _errors(rows) + [""]
    return "\n".join(lines)


def first_step_table(rows, head):
    by = {r["runner"]: r for r in rows}
    lines = ["## first_step: time to the first training step, and a second fit in the same process", "",
             *head, "",
             "Tutorial MNIST MLP and CIFAR-10 CNN, random data, batch 32, a fresh process per runner and model. "
             "First fit: wall time from model construction to the end of the first `fit` of one step (compile "
             "and warm-up included; the import is the column before). Second fit: a second `fit` of one step on "
             "the same data. New size: a third `fit`, on 16 batches of the same shape. Step: ms per step of a "
             "fourth `fit` on those 16 batches. Compiles: XLA compilations during each fit (`jax.monitoring`; "
             "the PyTorch runners compile nothing). The -cache runners set JAX's persistent compilation cache "
             "(`jax_compilation_cache_dir`) in the benchmark process (lamina has no option for it), fill a "
             "fresh cache with one process and measure a second one; the cold process's first fit is in "
             "brackets.", "",
             "| model | runner | import s | first fit s | compiles (s) | second fit ms (compiles) | "
             "new size fit ms (compiles) | step ms |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for model in _models(rows):
        for r in rows:
            if "models" not in r:
                continue
            f = r["models"][model]
            first = _cell(f["first_fit_s"], ".2f")
            if f.get("cold_first_fit_s") is not None:
                first += f" (cold {f['cold_first_fit_s']:.2f})"
            comp = "-" if f["compiles_first"] is None else f"{f['compiles_first']:.0f} ({f['compile_s_first']:.2f})"

            def with_count(ms, n):
                return _cell(ms, ".1f") + ("" if n is None else f" ({n:.0f})")

            lines.append(f"| {model} | {r['runner']} | {f['import_s']:.2f} | {first} | {comp} | "
                         f"{with_count(f['second_fit_ms'], f['compiles_second'])} | "
                         f"{with_count(f['new_size_fit_ms'], f['compiles_new_size'])} | {f['step_ms']:.1f} |")
    lines += ["", "Ratios:"]
    for model in _models(rows):
        def first(runner):
            return _figure(by, runner, model, "first_fit_s")

        lines.append(_ratio_line(f"{model}, first fit, lamina-jax / keras-jax", _div(first("lamina-jax"),
                                                                                      first("keras-jax")), 0.7)
                     + "; lamina-torch / keras-torch "
                     + _cell(_div(first("lamina-torch"), first("keras-torch")), ".2f") + "x"
                     + "; with the persistent cache: lamina-jax-cache / keras-jax-cache "
                     + _cell(_div(first("lamina-jax-cache"), first("keras-jax-cache")), ".2f")
                     + "x, lamina-jax-cache / lamina-jax "
                     + _cell(_div(first("lamina-jax-cache"), first("lamina-jax")), ".2f") + "x")
    for runner in ("lamina-torch", "lamina-jax"):
        for model in _models(rows):
            n = _figure(by, runner, model, "compiles_second")
            second, step = _figure(by, runner, model, "second_fit_ms"), _figure(by, runner, model, "step_ms")
            compiled = "has nothing to compile (eager)" if runner.endswith("torch") else \
                ("compiles nothing: target met" if n == 0 else f"compiles {n} programs: target missed")
            lines.append(f"- {model}, {runner}: the second fit {compiled}; it costs "
                         f"{_cell(_div(second, step), '.1f')} steps")
    lines += _errors(rows) + [""]
    return "\n".join(lines)


def memory_table(rows, head):
    by = {r["runner"]: r for r in rows}
    lines = ["## memory: peak resident memory of training", "", *head, "",
             "Tutorial MNIST MLP and CIFAR-10 CNN, random data, batch 32, a fresh process per runner and model: "
             "peak RSS (`resource.getrusage` ru_maxrss) after importing the framework and making the data "
             "(base), and after construction, compile, `fit` of 50 steps and `evaluate` (peak); added = peak - "
             "base. torch-loop: a hand-written torch.nn loop (torch.optim.Adam), for reference.", "",
             "| model | runner | peak RSS MB | base MB | added by training MB |", "|---|---|---:|---:|---:|"]
    for model in _models(rows):
        for r in rows:
            if "models" in r:
                f = r["models"][model]
                lines.append(f"| {model} | {r['runner']} | {f['peak_mb']:.0f} | {f['base_mb']:.0f} | "
                             f"{f['train_mb']:.0f} |")
    lines += ["", "Ratios (peak RSS; added by training in brackets):"]
    for model in _models(rows):
        for engine in ("torch", "jax"):
            peak = _div(_figure(by, f"lamina-{engine}", model, "peak_mb"),
                        _figure(by, f"keras-{engine}", model, "peak_mb"))
            added = _div(_figure(by, f"lamina-{engine}", model, "train_mb"),
                         _figure(by, f"keras-{engine}", model, "train_mb"))
            lines.append(_ratio_line(f"{model}, lamina-{engine} / keras-{engine}", peak, 1.0)
                         + f" (added: {_cell(added, '.2f')}x)")
    lines += _errors(rows) + [""]
    return "\n".join(lines)


def examples_table(rows, head):
    by = {r["runner"]: r for r in rows}
    runners = [r["runner"] for r in rows if "models" in r]
    lines = ["## examples: end-to-end time of the tutorial programs (../shared/examples)", "", *head, "",
             "Each program of `../shared/examples` run unchanged, `python PROGRAM` in a fresh process: wall time "
             "from interpreter start to exit (import, data loading, construction, `fit`, `evaluate`, whatever "
             "else the program does), with the test accuracy it prints in brackets. Keras 3 runs the same text "
             "with `lamina` replaced by `keras`; a few lines before it point Keras's own dataset loaders at local "
             "copies of the same `../shared/data` files (no network here). The programs set no seed, so accuracies "
             "move from run to run. cifar10_cnn.py is left out (CIFAR-10 is not in `../shared/data`).", "",
             "| program | " + " | ".join(f"{r} s (accuracy)" for r in runners) + " | lamina-torch / keras-torch | "
             "lamina-jax / keras-jax |", "|---|" + "---:|" * (len(runners) + 2)]
    for program in _models(rows):
        cells = []
        for runner in runners:
            f = by[runner]["models"].get(program, {})
            if program in by[runner].get("errors", {}):
                cells.append("fails (below)")
                continue
            acc = f.get("accuracy")
            cells.append(_cell(f.get("wall_s"), ".1f") + ("" if acc is None else f" ({acc:.4f})"))
        ratios = [_div(_figure(by, f"lamina-{e}", program, "wall_s"), _figure(by, f"keras-{e}", program, "wall_s"))
                  for e in ("torch", "jax")]
        ratios = ["n/a" if v is None else f"{v:.2f}x" for v in ratios]
        lines.append(f"| {program} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    failures = [f"- {program} on {r['runner']}: {message}" for r in rows
                for program, message in sorted(r.get("errors", {}).items())]
    if failures:
        lines += ["", "Programs that failed:"] + failures
    lines += _errors(rows) + [""]
    return "\n".join(lines)


TABLES = {"predict": predict_table, "first_step": first_step_table, "memory": memory_table,
          "examples": examples_table}
