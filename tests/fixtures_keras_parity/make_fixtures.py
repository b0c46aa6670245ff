"""Write the Keras 3 files that tests/test_keras_parity_fixes.py loads (run with Keras 3.15 installed).

    KERAS_BACKEND=jax python tests/fixtures_keras_parity/make_fixtures.py [out_folder]

Writes, each trained two epochs with Adam on the same random data:

* ``bidirectional.keras``: Conv1D (with an activity regularizer) -> Bidirectional(LSTM) ->
  Bidirectional(GRU, merge "sum") -> Dense;
* ``renorm.keras`` and ``renorm.weights.h5``: Dense -> BatchNormalization(renorm=True,
  renorm_clipping, renorm_momentum) -> Dense (the renorm statistics have moved);
* ``expected.npz``: the inputs ``x`` and, per model, Keras's ``predict`` (``bidirectional``,
  ``renorm``) and the renorm model called with ``training=True`` right after saving (``renorm_train``).
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402


def bidirectional_model():
    inp = keras.Input((5, 3))
    x = layers.Conv1D(4, 2, padding="same", activity_regularizer="l2")(inp)
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(x)
    x = layers.Bidirectional(layers.GRU(2), merge_mode="sum")(x)
    return keras.Model(inp, layers.Dense(1)(x))


def renorm_model():
    inp = keras.Input((5, 3))
    x = layers.Dense(4)(layers.Flatten()(inp))
    x = layers.BatchNormalization(renorm=True, renorm_clipping={"rmax": 2.0, "dmax": 1.0}, renorm_momentum=0.9)(x)
    return keras.Model(inp, layers.Dense(1)(x))


def main(out):
    keras.utils.set_random_seed(1)
    rng = np.random.RandomState(0)
    xt = rng.rand(16, 5, 3).astype("float32")
    yt = rng.rand(16, 1).astype("float32")
    x = xt[:3]
    expected = {"x": x}
    for name, build in (("bidirectional", bidirectional_model), ("renorm", renorm_model)):
        model = build()
        model.compile("adam", "mse")
        model.fit(xt, yt, epochs=2, batch_size=8, verbose=0)
        model.save(os.path.join(out, f"{name}.keras"))
        expected[name] = model.predict(x, verbose=0)
        if name == "renorm":
            model.save_weights(os.path.join(out, f"{name}.weights.h5"))
            expected["renorm_train"] = np.asarray(model(x, training=True))  # last: it moves the statistics
    np.savez(os.path.join(out, "expected.npz"), **expected)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
