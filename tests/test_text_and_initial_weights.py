"""Two forms of the text tutorials: ``Embedding(n, d, weights=[matrix])`` (tf.keras 2's pretrained-GloVe form) sets the
matrix when the layer is built, for any layer; TextVectorization lower-cases and splits as Keras does (TensorFlow's
strings ops: ASCII letters and ASCII whitespace only)."""

import numpy as np

import lamina
from lamina import ops


def test_embedding_weights_argument_sets_the_matrix():
    matrix = np.arange(40, dtype="float32").reshape(10, 4)
    emb = lamina.layers.Embedding(10, 4, weights=[matrix], trainable=False)
    np.testing.assert_array_equal(ops.convert_to_numpy(emb(np.array([[3]])))[0, 0], [12.0, 13.0, 14.0, 15.0])


def test_weights_argument_in_a_sequential_model_and_for_dense():
    kernel, bias = np.full((3, 2), 0.5, "float32"), np.array([1.0, -1.0], "float32")
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2, weights=[kernel, bias])])
    np.testing.assert_allclose(ops.convert_to_numpy(model(np.ones((1, 3), "float32"))), [[2.5, 0.5]])
    layer = lamina.layers.Dense(2, weights=[kernel, bias])
    layer.build((None, 3))
    np.testing.assert_array_equal(ops.convert_to_numpy(layer.kernel), kernel)


def test_text_vectorization_lowers_and_splits_ascii_only_as_keras():
    tv = lamina.layers.TextVectorization()
    tv.adapt(["value\x85 before\x85br a\u00a0b CAFÉ ΟΔΟΣ"])
    # the order and tokens Keras 3.15.1 gives (TensorFlow's strings.lower / strings.split)
    assert [str(v) for v in tv.get_vocabulary()] == ["", "[UNK]", "ΟΔΟΣ", "value\x85", "cafÉ", "before\x85br",
                                                     "a\xa0b"]
    out = ops.convert_to_numpy(tv(["Value\x85 CAFÉ"]))
    assert out.tolist() == [[3, 4]]
