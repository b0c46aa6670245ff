"""Write the Keras 3 file that tests/test_attention_gate_window.py loads (run with Keras 3.15 installed).

    KERAS_BACKEND=jax python tests/fixtures_keras_attention/make_fixtures.py [out_folder]

Writes:

* ``gate_window.keras``: a Functional model, uncompiled, on inputs ``(6, 4)``:
  MultiHeadAttention(num_heads=2, key_dim=3, use_gate=True, sliding_window=2) called as
  self-attention with ``use_causal_mask=True`` -> GroupQueryAttention(head_dim=2, num_query_heads=4,
  num_key_value_heads=2, use_gate=True, sliding_window=2) -> Dense(1); every weight is set to random
  normal numbers (biases included, so the gates' biases matter);
* ``expected.npz``: the inputs ``x`` and Keras's ``predict(x)`` (``y``).

Keras stores the archive's members uncompressed; they are re-stored deflated (same bytes inside, a few KB
instead of ~55 KB), which Keras and lamina read alike.
"""

import os
import sys
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402


def gate_window_model():
    inp = keras.Input((6, 4))
    x = layers.MultiHeadAttention(num_heads=2, key_dim=3, use_gate=True, sliding_window=2)(
        inp, inp, use_causal_mask=True)
    x = layers.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2, use_gate=True,
                                   sliding_window=2)(x, x)
    return keras.Model(inp, layers.Dense(1)(x))


def main(out):
    keras.utils.set_random_seed(1)
    rng = np.random.RandomState(0)
    model = gate_window_model()
    model.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()])
    x = rng.normal(size=(2, 6, 4)).astype("float32")
    path = os.path.join(out, "gate_window.keras")
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for info, data in members:
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    reloaded = keras.saving.load_model(path)
    assert np.array_equal(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))
    np.savez(os.path.join(out, "expected.npz"), x=x, y=model.predict(x, verbose=0))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
