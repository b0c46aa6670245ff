"""End-to-end time of the tutorial programs in ../shared/examples, lamina against Keras 3 on each engine.

Each program runs unchanged in a fresh process (``python PROGRAM``), from interpreter start to exit: import, data
loading, model construction, ``fit``, ``evaluate`` and whatever else the program does. The wall time and the test
accuracy the program prints are recorded, with the error when the program fails.

lamina runners run the file as it is, with LAMINA_DATASETS_DIR pointing at ../shared/data. Keras runners run the
same text with the word ``lamina`` replaced by ``keras`` (the programs' only change from the tutorials); as this
machine cannot download, a few lines placed before the program make Keras's own dataset loaders
(``keras.datasets.mnist`` etc.) find their files in a local folder instead of downloading them. That folder is made
before the timed run, from the same ../shared/data files, in the formats Keras downloads (mnist.npz, compressed as
Keras's is; Fashion-MNIST's gzip files; imdb.npz).

cifar10_cnn.py is left out: CIFAR-10 is not in ../shared/data.

Prints one JSON line: {"runner", "models": {program: {"wall_s", "accuracy"}}, "errors": {program: message}}.
Usage: python bench/examples.py RUNNER [PROGRAM ...]   with RUNNER one of
  lamina-torch, lamina-jax, keras-torch, keras-jax
(the backend of the runner must match LAMINA_BACKEND/KERAS_BACKEND; run.py sets it).
"""

import gzip
import json
import os
import pathlib
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
EXAMPLES = HERE.parents[1] / "shared" / "examples"
DATA = pathlib.Path(os.environ.get("LAMINA_DATASETS_DIR", HERE.parents[1] / "shared" / "data"))
PROGRAMS = ("dense_classifier.py", "mnist_mlp.py", "mnist_784_legacy.py", "fashion_mnist_cnn.py",
            "imdb_lstm.py", "pretrained.py")
RUNNER_NAMES = ("lamina-torch", "lamina-jax", "keras-torch", "keras-jax")
TIMEOUT_S = 3600

# Put before a program run on Keras: its dataset loaders read the files of BENCH_KERAS_DATA (made by
# ``keras_data``) where they would download them. Nothing else of Keras is touched.
KERAS_PRELUDE = '''\
def _bench_local_files():
    import os
    import keras.src.datasets.fashion_mnist
    import keras.src.datasets.imdb
    import keras.src.datasets.mnist

    root = os.environ["BENCH_KERAS_DATA"]

    def get_file(fname=None, origin=None, *args, **kwargs):
        return os.path.join(root, os.path.basename(fname or origin))

    for module in (keras.src.datasets.mnist, keras.src.datasets.fashion_mnist, keras.src.datasets.imdb):
        module.get_file = get_file


_bench_local_files()
del _bench_local_files
'''


def _idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def keras_data(folder):
    """The files Keras's dataset loaders download, made from ../shared/data in ``folder``."""
    mnist = DATA / "mnist"
    np.savez_compressed(folder / "mnist.npz", x_train=_idx(mnist / "train-images-idx3-ubyte.gz"),
                        y_train=_idx(mnist / "train-labels-idx1-ubyte.gz"),
                        x_test=_idx(mnist / "t10k-images-idx3-ubyte.gz"),
                        y_test=_idx(mnist / "t10k-labels-idx1-ubyte.gz"))
    for name in os.listdir(DATA / "fashion_mnist"):
        shutil.copy(DATA / "fashion_mnist" / name, folder / name)
    shutil.copy(DATA / "imdb" / "imdb.npz", folder / "imdb.npz")


def program_text(runner, program):
    text = (EXAMPLES / program).read_text()
    if runner.startswith("keras"):
        text = KERAS_PRELUDE + re.sub(r"\blamina\b", "keras", text)
    return text


def run_program(runner, program, workdir, env):
    """Run one program in a fresh process in ``workdir``: (wall seconds, test accuracy or None, error or None)."""
    script = workdir / program
    script.write_text(program_text(runner, program))
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(script)], cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, None, f"did not finish in {TIMEOUT_S} s"
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        return wall, None, lines[-1].strip() if lines else f"exit status {proc.returncode}"
    found = re.findall(r"Test accuracy:\s*([0-9.]+)", proc.stdout)
    return wall, (float(found[-1]) if found else None), None


def main():
    runner = sys.argv[1]
    if runner not in RUNNER_NAMES:
        raise SystemExit(f"examples.py: unknown runner {runner!r}; use one of {', '.join(RUNNER_NAMES)}")
    programs = sys.argv[2:] or PROGRAMS
    env = dict(os.environ, LAMINA_DATASETS_DIR=str(DATA))
    models, errors = {}, {}
    with tempfile.TemporaryDirectory(prefix="lamina-bench-examples-") as tmp:
        tmp = pathlib.Path(tmp)
        if runner.startswith("keras"):
            (tmp / "data").mkdir()
            keras_data(tmp / "data")
            env.update(BENCH_KERAS_DATA=str(tmp / "data"), KERAS_HOME=str(tmp / "keras_home"))
        for program in programs:
            workdir = tmp / program.removesuffix(".py")
            workdir.mkdir()
            wall, accuracy, error = run_program(runner, program, workdir, env)
            models[program] = {"wall_s": None if error else wall, "accuracy": accuracy}
            if error:
                errors[program] = error
            print(f"{runner} {program}: {wall if wall is None else round(wall, 1)} s, accuracy {accuracy}"
                  + (f", error: {error}" if error else ""), file=sys.stderr, flush=True)
    print(json.dumps({"runner": runner, "models": models, "errors": errors}))


if __name__ == "__main__":
    main()
