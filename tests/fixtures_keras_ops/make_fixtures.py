"""Write the Keras 3 files that tests/test_saving_keras_ops.py loads (run with Keras 3 installed).

    KERAS_BACKEND=torch python tests/fixtures_keras_ops/make_fixtures.py [out_folder]

Writes ``graph_ops.keras`` (a two-input dense model whose graph holds op nodes:
``x + y``, ``ops.multiply``, ``ops.concatenate``, ``x * 2.0``, ``ops.reshape``,
``ops.take``...), ``residual_ops.keras`` (a small ConvNeXt-like block: a residual
``inputs + x`` op, ``ops.mean``, ``ops.sqrt``..., compiled with Adam and trained one step) and ``expected.npz`` (the inputs
and Keras's predictions) into ``out_folder`` (default: this folder).
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers, ops  # noqa: E402


def graph_ops_model():
    x = keras.Input((4,), name="x")
    y = keras.Input((4,), name="y")
    a = layers.Dense(4, name="d1")(x)
    b = a + y                                    # Add, two positional tensors
    c = ops.multiply(b, a)
    d = ops.concatenate([c, x], axis=-1)         # (None, 8)
    e = d * 2.0                                  # Multiply with a Python float
    f = ops.reshape(e, (-1, 2, 4))
    g = ops.transpose(f, (0, 2, 1))              # (None, 4, 2)
    h = ops.mean(g, axis=-1)                     # (None, 4)
    i = ops.take(h, [1, 2], axis=1)              # (None, 2)
    j = 1.0 - ops.relu(i - 0.25)                 # Subtract both ways, nn.Relu
    k = ops.stack([j, ops.square(j)], axis=1)    # (None, 2, 2)
    m = ops.expand_dims(ops.sum(k, axis=1), -1)  # (None, 2, 1)
    n = layers.Flatten(name="fl")(m)
    o = ops.concatenate([n, ops.tanh(a), ops.abs(b) / 3.0], axis=-1)
    out = layers.Dense(3, name="d2")(o)
    return keras.Model([x, y], out, name="graph_ops")


def residual_ops_model():
    inputs = keras.Input((6, 6, 4), name="image")
    x = layers.DepthwiseConv2D(3, padding="same", name="dw")(inputs)
    x = layers.LayerNormalization(epsilon=1e-6, name="ln")(x)
    x = layers.Dense(8, name="pw1")(x)
    x = layers.Activation("gelu", name="gelu")(x)
    x = layers.Dense(4, name="pw2")(x)
    x = inputs + x                               # the residual Add of ConvNeXt
    x = ops.sqrt(ops.square(x) + 1e-3)
    x = ops.mean(x, axis=[1, 2])
    x = ops.clip(x, -2.0, 2.0)
    out = layers.Dense(2, activation="softmax", name="head")(x)
    return keras.Model(inputs, out, name="residual_ops")


def main(folder):
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    data = {"x": rng.standard_normal((5, 4)).astype("float32"),
            "y": rng.standard_normal((5, 4)).astype("float32"),
            "image": rng.standard_normal((3, 6, 6, 4)).astype("float32")}
    first = graph_ops_model()
    first.save(os.path.join(folder, "graph_ops.keras"))
    data["graph_ops"] = np.asarray(first.predict([data["x"], data["y"]], verbose=0))
    second = residual_ops_model()
    second.compile(optimizer="adam", loss="categorical_crossentropy")
    second.fit(data["image"], np.eye(2, dtype="float32")[[0, 1, 0]], epochs=1, verbose=0)  # Adam state: 1 step
    second.save(os.path.join(folder, "residual_ops.keras"))
    data["residual_ops"] = np.asarray(second.predict(data["image"], verbose=0))
    np.savez(os.path.join(folder, "expected.npz"), **data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
