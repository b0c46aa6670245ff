"""Run by test_parity.py once per backend: builds models with fixed weights, writes results to an npz."""

import io
import sys
from contextlib import redirect_stdout

import numpy as np

import lamina
from lamina import layers, ops


def fixed_weights(model, seed):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.5 for w in model.get_weights()])


def two_tower():
    a = lamina.Input((3,), name="a")
    b = lamina.Input((3,), name="b")
    shared = layers.Dense(4, activation="relu", name="shared")
    out1 = layers.Dense(2, activation="softmax", name="out1")(shared(a))
    out2 = layers.Dense(1, name="out2")(shared(b) * shared(a))
    return lamina.Model([a, b], [out1, out2], name="two_tower")


def main(path):
    results = {}
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((6, 3)).astype("float32")
    xb = rng.standard_normal((6, 3)).astype("float32")
    y1 = rng.integers(0, 2, 6)
    y2 = rng.standard_normal((6, 1)).astype("float32")

    model = two_tower()
    fixed_weights(model, 1)
    out1, out2 = model([xa, xb])
    results["two_tower_out1"] = ops.convert_to_numpy(out1)
    results["two_tower_out2"] = ops.convert_to_numpy(out2)
    buf = io.StringIO()
    with redirect_stdout(buf):
        model.summary()
    results["two_tower_summary"] = np.array(buf.getvalue())

    # One SGD step with learning rate 1: the weight change is minus the gradient.
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=1.0),
                  loss=["sparse_categorical_crossentropy", "mse"])
    before = model.get_weights()
    model.train_on_batch([xa, xb], [y1, y2])
    for i, (w0, w1) in enumerate(zip(before, model.get_weights())):
        results[f"two_tower_grad_{i}"] = w0 - w1

    mlp = lamina.Sequential([lamina.Input((5,)), layers.Dense(8, activation="tanh"),
                             layers.Dense(3, activation="softmax")])
    fixed_weights(mlp, 2)
    x = rng.standard_normal((7, 5)).astype("float32")
    results["mlp_predict"] = mlp.predict(x, verbose=0)
    np.savez(path, **results)


if __name__ == "__main__":
    main(sys.argv[1])
