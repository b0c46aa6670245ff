"""Write the Keras 3 text-model file tests/test_saving_keras_text.py loads (Keras 3's TextVectorization and
StringLookup need TensorFlow: run with ``pip install tensorflow-cpu`` in a separate environment):

    python tests/fixtures_keras_text/make_fixtures.py [out_folder]

``text.keras``: Input(string) -> TextVectorization (adapted: Keras keeps the vocabulary in the archive's assets,
not in the config) -> Embedding -> GlobalAveragePooling1D -> Dense; plus a StringLookup (adapted) and an
IntegerLookup (adapted) on side inputs. ``expected.npz``: inputs and Keras's predictions.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def main(out):
    keras.utils.set_random_seed(3)
    texts = ["the cat sat", "the dog ran far", "a cat ran", "dogs and cats"]
    vec = keras.layers.TextVectorization(max_tokens=30, output_sequence_length=5, name="vec")
    vec.adapt(texts)
    words = keras.layers.StringLookup(name="words")
    words.adapt(np.array(["b", "a", "b", "c", "b"]))
    codes = keras.layers.IntegerLookup(name="codes")
    codes.adapt(np.array([7, 3, 7, 9, 7, 3]))
    text_in = keras.Input((), dtype="string", name="text")
    word_in = keras.Input((1,), dtype="string", name="word")
    code_in = keras.Input((1,), dtype="int64", name="code")
    x = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(30, 4)(vec(text_in)))
    w = keras.layers.Flatten()(keras.ops.cast(words(word_in), "float32"))
    c = keras.layers.Flatten()(keras.ops.cast(codes(code_in), "float32"))
    out_ = keras.layers.Dense(2, name="p")(keras.layers.Concatenate()([x, w, c]))
    model = keras.Model([text_in, word_in, code_in], out_)
    t = np.array(["the cat ran", "dog zzz", "", "a far cat sat"])
    wd = np.array([["a"], ["b"], ["zz"], ["c"]])
    cd = np.array([[7], [3], [5], [9]], "int64")
    pred = model([tf.constant(t), tf.constant(wd), tf.constant(cd)])
    model.save(os.path.join(out, "text.keras"))
    np.savez(os.path.join(out, "expected.npz"), text=t, word=wd, code=cd, pred=np.asarray(pred),
             vec_vocab=np.array(vec.get_vocabulary()), words_vocab=np.array(words.get_vocabulary()),
             codes_vocab=np.array(codes.get_vocabulary()))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
