"""Run by test_saving_parity.py: ``save PATH OUT`` builds, trains and saves a model; ``load PATH OUT`` loads it.

Both write the model's predictions, weights and optimizer variables to the npz ``OUT``, so the test can compare
a file saved on one backend with the same file loaded on the other.
"""

import sys

import numpy as np

import lamina
from lamina import layers


def build():
    image = lamina.Input((8, 8, 3), name="image")
    tokens = lamina.Input((6,), dtype="int32", name="tokens")
    x = layers.Conv2D(4, 3, activation="relu", name="conv")(image)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    t = layers.Embedding(11, 5, name="embed")(tokens)
    t = layers.LSTM(4, name="lstm")(t)
    merged = layers.Concatenate(name="concat")([x, t])
    out = layers.Dense(3, activation="softmax", name="out")(layers.Dense(6, activation="tanh", name="hidden")(merged))
    return lamina.Model([image, tokens], out, name="saving_parity")


def data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((10, 8, 8, 3)).astype("float32"), rng.integers(0, 11, (10, 6)).astype("int32"),
            rng.integers(0, 3, 10))


def record(model, out):
    image, tokens, _ = data()
    results = {"predict": model.predict([image, tokens], verbose=0)}
    for i, w in enumerate(model.get_weights()):
        results[f"weight_{i}"] = w
    for i, v in enumerate(model.optimizer.variables):
        results[f"optimizer_{i}"] = np.asarray(v.numpy())
    np.savez(out, **results)


def main(mode, path, out):
    if mode == "save":
        lamina.utils.set_random_seed(1)
        model = build()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        image, tokens, labels = data()
        model.fit([image, tokens], labels, epochs=2, batch_size=5, verbose=0)  # moves BN statistics, Adam slots
        model.save(path)
    else:
        model = lamina.models.load_model(path)
    record(model, out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
