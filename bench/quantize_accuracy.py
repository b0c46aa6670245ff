"""Accuracy, file size and predict speed of int8 quantization and magnitude pruning on MNIST (issue #13).

For the tutorial MNIST MLP (Flatten, Dense(128, relu), Dropout(0.2), Dense(10, softmax); Adam, 5
epochs) and a small CNN, this trains the float model, then reports:

* float vs int8 (``model.quantize("int8")``) test accuracy, ``.keras`` file size (saved with
  ``include_optimizer=False``; the float file with Adam's state is also given), and predict time
  in ms per 1024-sample batch (median of repeated ``model.predict(x, batch_size=1024)`` calls);
* the test accuracy after magnitude pruning to 50% and 80% sparsity: starting from the trained
  float model, ``prune_low_magnitude`` with ``PolynomialDecay(0 -> target)`` over the first
  fine-tuning epoch, fine-tuned for ``--prune-epochs`` epochs, then ``strip_pruning``.

Usage (data from LAMINA_DATASETS_DIR, e.g. /work/shared/data):
    LAMINA_DATASETS_DIR=/work/shared/data OMP_NUM_THREADS=1 LAMINA_BACKEND=torch \\
        python bench/quantize_accuracy.py [--models mlp,cnn] [--cnn-epochs 2] [--prune-epochs 2]
Prints one JSON line per model and a summary table.
"""

import argparse
import json
import os
import statistics
import tempfile
import time

import numpy as np

import lamina
from lamina import layers as L
from lamina import pruning


def load_mnist():
    (x_train, y_train), (x_test, y_test) = lamina.datasets.mnist.load_data()
    return ((x_train.astype("float32") / 255.0)[..., None], y_train.astype("int64"),
            (x_test.astype("float32") / 255.0)[..., None], y_test.astype("int64"))


def build(kind):
    if kind == "mlp":
        return lamina.Sequential([L.Input((28, 28, 1)), L.Flatten(), L.Dense(128, activation="relu"),
                                  L.Dropout(0.2), L.Dense(10, activation="softmax")])
    return lamina.Sequential([L.Input((28, 28, 1)), L.Conv2D(16, 3, activation="relu"), L.MaxPooling2D(2),
                              L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(),
                              L.Dropout(0.2), L.Dense(10, activation="softmax")])


def compile_model(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def accuracy(model, x, y):
    return float(np.mean(np.argmax(model.predict(x, batch_size=1024, verbose=0), axis=-1) == y))


def saved_size(model, workdir):
    """Bytes of the ``.keras`` file without optimizer state (architecture + weights)."""
    path = os.path.join(workdir, "size_probe.keras")
    model.save(path, include_optimizer=False)
    return os.path.getsize(path)


def predict_ms(models, x, repeats):
    """Median ms of ``predict`` on one 1024-sample batch for each model, timed in alternation
    (so a busy machine slows every model alike)."""
    batch = x[:1024]
    for model in models:
        model.predict(batch, batch_size=1024, verbose=0)  # compile / warm up
    times = [[] for _ in models]
    for _ in range(repeats):
        for model, out in zip(models, times):
            start = time.perf_counter()
            model.predict(batch, batch_size=1024, verbose=0)
            out.append((time.perf_counter() - start) * 1000)
    return [round(statistics.median(t), 2) for t in times]


def run(kind, data, epochs, prune_epochs, targets, repeats, workdir):
    x_train, y_train, x_test, y_test = data
    lamina.utils.set_random_seed(0)
    model = compile_model(build(kind))
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0)
    result = {"model": kind, "backend": lamina.config.backend(), "epochs": epochs,
              "train_s": round(time.perf_counter() - start, 1)}
    float_path = os.path.join(workdir, f"{kind}_float.keras")
    int8_path = os.path.join(workdir, f"{kind}_int8.keras")
    model.save(float_path)
    result["float_acc"] = accuracy(model, x_test, y_test)
    result["float_bytes"] = saved_size(model, workdir)
    result["float_bytes_with_adam"] = os.path.getsize(float_path)

    quantized = lamina.models.load_model(float_path)
    quantized.quantize("int8")
    quantized.save(int8_path)
    result["int8_acc"] = accuracy(quantized, x_test, y_test)
    result["int8_bytes"] = saved_size(quantized, workdir)
    result["float_ms_per_1024"], result["int8_ms_per_1024"] = predict_ms([model, quantized], x_test, repeats)
    reloaded = lamina.models.load_model(int8_path)
    result["int8_reloaded_acc"] = accuracy(reloaded, x_test, y_test)

    steps_per_epoch = -(-len(x_train) // 32)
    for target in targets:
        pruned = compile_model(lamina.models.load_model(float_path, compile=False))
        schedule = pruning.PolynomialDecay(0.0, target, begin_step=0, end_step=steps_per_epoch, frequency=100)
        pruning.prune_low_magnitude(pruned, schedule)
        pruned.fit(x_train, y_train, batch_size=32, epochs=prune_epochs, verbose=0,
                   callbacks=[pruning.UpdatePruningStep()])
        pruning.strip_pruning(pruned)
        key = f"pruned{int(target * 100)}"
        result[f"{key}_acc"] = accuracy(pruned, x_test, y_test)
        result[f"{key}_sparsity"] = pruning.get_sparsity(pruned)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mlp,cnn")
    parser.add_argument("--mlp-epochs", type=int, default=5)
    parser.add_argument("--cnn-epochs", type=int, default=2)
    parser.add_argument("--prune-epochs", type=int, default=2)
    parser.add_argument("--targets", default="0.5,0.8")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    data = load_mnist()
    targets = [float(t) for t in args.targets.split(",") if t]
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for kind in args.models.split(","):
            epochs = args.mlp_epochs if kind == "mlp" else args.cnn_epochs
            row = run(kind, data, epochs, args.prune_epochs, targets, args.repeats, workdir)
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(f"\n{'model':5} {'backend':7} {'float acc':>9} {'int8 acc':>8} {'float KB':>8} {'int8 KB':>7} "
          f"{'float ms':>8} {'int8 ms':>7} " + " ".join(f"{'p' + str(int(t * 100)) + ' acc':>8}" for t in targets))
    for r in rows:
        print(f"{r['model']:5} {r['backend']:7} {100 * r['float_acc']:9.2f} {100 * r['int8_acc']:8.2f} "
              f"{r['float_bytes'] / 1024:8.1f} {r['int8_bytes'] / 1024:7.1f} {r['float_ms_per_1024']:8.2f} "
              f"{r['int8_ms_per_1024']:7.2f} "
              + " ".join(f"{100 * r[f'pruned{int(t * 100)}_acc']:8.2f}" for t in targets))


if __name__ == "__main__":
    main()
