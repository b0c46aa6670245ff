"""Accuracy check (not a unit test): IMDB sentiment from the raw review text, with no TensorFlow.

Reads the raw reviews with ``lamina.utils.text_dataset_from_directory`` (aclImdb/train/{pos,neg} and
aclImdb/test/{pos,neg}), builds a vocabulary with ``TextVectorization(max_tokens=20000)`` adapted on the
training texts, vectorizes each batch with ``dataset.map``, trains a small model and prints the test accuracy
(target >= 0.80) and the time of each stage.

Data: ``$LAMINA_IMDB_DIR`` if set (a folder holding ``aclImdb/``), else ``/work/shared/data/imdb``; when that
folder has only ``aclImdb_train_test_text.tar.gz``, the archive is extracted once (with lamina's safe
extractor, which refuses links and paths leaving the target) into ``$TMPDIR/lamina_imdb`` and reused.

Usage:
    LAMINA_BACKEND=torch OMP_NUM_THREADS=1 python bench/imdb_text_accuracy.py [--mode int|multi_hot]
        [--epochs N]

``--mode int`` (default): output_sequence_length=200 -> Embedding(20000, 32) -> GlobalAveragePooling1D ->
Dense(1, sigmoid). ``--mode multi_hot``: multi-hot vectors -> Dense(16, relu) -> Dense(1, sigmoid).
"""

import argparse
import json
import os
import tempfile
import time

import lamina
from lamina.utils.file_utils import extract_archive

DATA = os.environ.get("LAMINA_IMDB_DIR", "/work/shared/data/imdb")
ARCHIVE = "aclImdb_train_test_text.tar.gz"


def imdb_root():
    """The folder holding aclImdb/{train,test}/{pos,neg}, extracting the archive if needed."""
    if os.path.isdir(os.path.join(DATA, "aclImdb", "train", "pos")):
        return os.path.join(DATA, "aclImdb")
    target = os.path.join(tempfile.gettempdir(), "lamina_imdb")
    done = os.path.join(target, ".complete")
    if not os.path.exists(done):
        archive = os.path.join(DATA, ARCHIVE)
        if not os.path.isfile(archive):
            raise SystemExit(f"No IMDB text found: neither {DATA}/aclImdb nor {archive}.")
        print(f"Extracting {archive} into {target} ...", flush=True)
        if not extract_archive(archive, target, archive_format="tar"):
            raise SystemExit(f"{archive} is not a tar archive.")
        open(done, "w").close()
    return os.path.join(target, "aclImdb")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("int", "multi_hot"), default="int")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    epochs = args.epochs or (4 if args.mode == "int" else 3)
    lamina.utils.set_random_seed(1337)
    times = {}

    t0 = time.perf_counter()
    root = imdb_root()
    times["extract_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    train_ds, val_ds = lamina.utils.text_dataset_from_directory(
        os.path.join(root, "train"), batch_size=args.batch_size, validation_split=0.2, subset="both",
        seed=1337)
    test_ds = lamina.utils.text_dataset_from_directory(os.path.join(root, "test"),
                                                       batch_size=args.batch_size, shuffle=False)
    print("classes:", train_ds.class_names)

    if args.mode == "int":
        vectorize = lamina.layers.TextVectorization(max_tokens=20000, output_mode="int",
                                                    output_sequence_length=200)
    else:
        vectorize = lamina.layers.TextVectorization(max_tokens=20000, output_mode="multi_hot")
    vectorize.adapt(train_ds.map(lambda x, y: x))
    times["adapt_s"] = time.perf_counter() - t0
    print("vocabulary:", vectorize.vocabulary_size(), vectorize.get_vocabulary()[:8], flush=True)

    def vec(x, y):
        return vectorize(x), y

    # Vectorize once (first epoch) and reuse: cache() keeps each mapped batch.
    train = train_ds.map(vec).cache()
    val = val_ds.map(vec).cache()
    test = test_ds.map(vec).cache()

    layers = lamina.layers
    if args.mode == "int":
        model = lamina.Sequential([
            lamina.Input((200,), dtype="int64"),
            layers.Embedding(20000, 32),
            layers.Dropout(0.2),
            layers.GlobalAveragePooling1D(),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ])
        optimizer = lamina.optimizers.Adam(3e-3)
    else:
        model = lamina.Sequential([
            lamina.Input((20000,)),
            layers.Dense(16, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(1, activation="sigmoid"),
        ])
        optimizer = lamina.optimizers.Adam(1e-3)
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])

    t0 = time.perf_counter()
    history = model.fit(train, validation_data=val, epochs=epochs, verbose=2)
    times["fit_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    loss, acc = model.evaluate(test, verbose=0)
    times["evaluate_s"] = time.perf_counter() - t0

    result = {"backend": lamina.config.backend(), "mode": args.mode, "epochs": epochs,
              "val_accuracy": round(float(history.history["val_accuracy"][-1]), 4),
              "test_accuracy": round(float(acc), 4), "test_loss": round(float(loss), 4),
              **{k: round(v, 1) for k, v in times.items()}}
    print(json.dumps(result))
    if acc < 0.80:
        raise SystemExit(f"test accuracy {acc:.4f} is below the 0.80 target")


if __name__ == "__main__":
    main()
