"""Write the tf.keras 2 files that tests/test_saving_tf_keras2_files.py loads (run with TensorFlow and
tf_keras installed: ``pip install tensorflow-cpu tf_keras``; lamina itself never imports them).

    TF_USE_LEGACY_KERAS=1 python tests/fixtures_tf_keras2/make_fixtures.py [out_folder]

For each optimizer layout tf.keras 2 wrote - the TF 2.11+ optimizers (``adam``) and ``optimizer_v2``
(``legacy_adam``) - a small model (Conv1D, BatchNormalization, Dense) is compiled, trained 3 steps and saved
with ``model.save("<name>.h5")``; ``expected.npz`` records the inputs, the model's predictions, its step
count, and the weights after one more training step on a fixed batch (the test continues training in lamina
from the file and must land on the same weights).
"""

import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tf_keras as keras  # noqa: E402


def model_and_data():
    keras.utils.set_random_seed(7)
    inputs = keras.Input((6, 3))
    x = keras.layers.Conv1D(4, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Flatten(name="flat")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(x)
    model = keras.Model(inputs, outputs, name="small")
    rng = np.random.RandomState(0)
    x = rng.rand(16, 6, 3).astype("float32")
    y = rng.randint(0, 3, 16)
    return model, x, y


def main(out):
    expected = {}
    for name, make_opt in (("adam", lambda: keras.optimizers.Adam(learning_rate=0.01)),
                           ("legacy_adam", lambda: keras.optimizers.legacy.Adam(learning_rate=0.01))):
        model, x, y = model_and_data()
        model.compile(optimizer=make_opt(), loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)   # 2 steps
        model.fit(x[:8], y[:8], batch_size=8, epochs=1, verbose=0, shuffle=False)  # 3rd step
        model.save(os.path.join(out, f"{name}.h5"))
        expected[f"{name}_x"] = x
        expected[f"{name}_y"] = y
        expected[f"{name}_pred"] = model.predict(x, verbose=0)
        expected[f"{name}_iterations"] = np.int64(model.optimizer.iterations.numpy())
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)  # one more step
        for i, w in enumerate(model.get_weights()):
            expected[f"{name}_after_{i}"] = w
    np.savez(os.path.join(out, "expected.npz"), **expected)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
