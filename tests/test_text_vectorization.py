"""TextVectorization against hand-computed expectations, its vocabulary order, config round trips, errors."""

import json
import os

import numpy as np
import pytest

import lamina
from lamina import layers


def np_(x):
    return lamina.ops.convert_to_numpy(x)


def test_default_pipeline_adapt_order_and_int_padding():
    layer = layers.TextVectorization()
    layer.adapt(["The cat sat.", "The dog sat!", "the CAT, the end"])
    # counts: the 4, cat 2, sat 2, dog 1, end 1 -> by frequency, ties by decreasing string order (Keras's)
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "sat", "cat", "end", "dog"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["the", "sat", "cat", "end", "dog"]
    assert layer.vocabulary_size() == 7
    out = layer(["Dog? the bird", "cat"])
    assert lamina.backend.dtype_name(out) == "int64"
    np.testing.assert_array_equal(np_(out), [[6, 2, 1], [4, 0, 0]])  # padded to the longest in the batch


def test_output_sequence_length_pads_and_truncates_at_the_end():
    layer = layers.TextVectorization(vocabulary=["a", "b", "c"], output_sequence_length=3)
    np.testing.assert_array_equal(np_(layer(["a b c a b", "c", ""])), [[2, 3, 4], [4, 0, 0], [0, 0, 0]])
    assert layer.compute_output_shape((None,)) == (None, 3)


@pytest.mark.parametrize("mode, expected", [
    ("lower_and_strip_punctuation", ["hello", "world", "its", "me"]),
    ("lower", ["hello,", "world!", "it's", "me"]),
    ("strip_punctuation", ["Hello", "World", "Its", "ME"]),
    (None, ["Hello,", "World!", "It's", "ME"]),
])
def test_standardize_modes(mode, expected):
    layer = layers.TextVectorization(standardize=mode)
    layer.adapt(["Hello, World! It's ME"])
    assert sorted(layer.get_vocabulary(include_special_tokens=False)) == sorted(expected)


def test_callable_standardize_and_split():
    def strip_x(texts):
        return np.array([t.replace("x", "") for t in texts], dtype=object)

    def split_commas(texts):
        return [t.split(",") for t in texts]

    layer = layers.TextVectorization(standardize=strip_x, split=split_commas, vocabulary=["a", "b", "cd"])
    np.testing.assert_array_equal(np_(layer(["ax,b,cxd", "b,zz"])), [[2, 3, 4], [3, 1, 0]])


def test_character_and_no_split():
    chars = layers.TextVectorization(split="character", standardize=None, vocabulary=["a", "b", " "])
    np.testing.assert_array_equal(np_(chars(["ab a", "c"])), [[2, 3, 4, 2], [1, 0, 0, 0]])
    whole = layers.TextVectorization(split=None, vocabulary=["new york", "paris"])
    np.testing.assert_array_equal(np_(whole(["New York", "Paris!", "Rome"])), [[2], [3], [1]])
    # With split=None a rank-2 input holds tokens already split.
    np.testing.assert_array_equal(np_(whole(np.array([["paris", "new york"], ["x", ""]]))), [[3, 2], [1, 0]])


def test_ngrams_int_and_tuple():
    bigrams = layers.TextVectorization(ngrams=2)
    bigrams.adapt(["a b c"])
    assert sorted(bigrams.get_vocabulary(include_special_tokens=False)) == ["a", "a b", "b", "b c", "c"]
    vocab = bigrams.get_vocabulary()
    ids = np_(bigrams(["a b c"]))[0].tolist()
    assert [vocab[i] for i in ids] == ["a", "b", "c", "a b", "b c"]  # unigrams first, then bigrams
    tri = layers.TextVectorization(ngrams=(1, 3), vocabulary=["a", "a b c"])
    assert [tri.get_vocabulary()[i] for i in np_(tri(["a b c d"]))[0]] == ["a", "[UNK]", "[UNK]", "[UNK]",
                                                                          "a b c", "[UNK]"]


def test_multi_hot_and_count_modes():
    vocab = ["a", "b", "c"]
    multi = layers.TextVectorization(output_mode="multi_hot", vocabulary=vocab)
    assert multi.get_vocabulary() == ["[UNK]", "a", "b", "c"]  # no padding index in the vector modes
    np.testing.assert_array_equal(np_(multi(["a a z c", "b"])), [[1, 1, 0, 1], [0, 0, 1, 0]])
    count = layers.TextVectorization(output_mode="count", vocabulary=vocab)
    out = count(["a a z c", "b"])
    assert lamina.backend.dtype_name(out) == "float32"
    np.testing.assert_array_equal(np_(out), [[1, 2, 0, 1], [0, 0, 1, 0]])
    padded = layers.TextVectorization(output_mode="count", vocabulary=vocab, max_tokens=6, pad_to_max_tokens=True)
    np.testing.assert_array_equal(np_(padded(["c c"])), [[0, 0, 0, 2, 0, 0]])
    assert padded.compute_output_shape((None,)) == (None, 6)


def test_tf_idf_adapted_matches_hand_computation():
    docs = ["a a b", "a c c", "d"]
    layer = layers.TextVectorization(output_mode="tf_idf")
    layer.adapt(docs)
    assert layer.get_vocabulary() == ["[UNK]", "a", "c", "d", "b"]  # counts a 3, c 2, b 1, d 1
    # idf = log(1 + num_docs / (1 + document frequency)); OOV gets the mean idf
    idf = np.log1p(3 / (1 + np.array([2.0, 1.0, 1.0, 1.0])))
    expected = np.array([[idf.mean() * 1, idf[0] * 1, idf[1] * 2, 0, 0]])
    np.testing.assert_allclose(np_(layer(["z a c c"])), expected, rtol=1e-6)


def test_tf_idf_with_given_weights():
    layer = layers.TextVectorization(output_mode="tf_idf", vocabulary=["x", "y"], idf_weights=[0.5, 2.0])
    np.testing.assert_allclose(np_(layer(["y y x q"])), [[1.25, 0.5, 4.0]], rtol=1e-6)


def test_max_tokens_keeps_the_most_frequent():
    data = ["a a a a b b b c c d"]
    as_int = layers.TextVectorization(max_tokens=4)
    as_int.adapt(data)
    assert as_int.get_vocabulary() == ["", "[UNK]", "a", "b"]
    np.testing.assert_array_equal(np_(as_int(["d c b a"])), [[1, 1, 3, 2]])
    multi = layers.TextVectorization(max_tokens=4, output_mode="multi_hot")
    multi.adapt(data)
    assert multi.get_vocabulary() == ["[UNK]", "a", "b", "c"]


def test_adapt_on_batches_and_dataset_of_pairs():
    layer = layers.TextVectorization()
    layer.adapt([np.array(["b b"]), np.array(["a", "b c"])])
    assert layer.get_vocabulary()[2:] == ["b", "c", "a"]
    layer2 = layers.TextVectorization()
    layer2.adapt(iter([(np.array(["z z y"]), np.array([1]))]))
    assert layer2.get_vocabulary()[2:] == ["z", "y"]


def test_input_forms_bytes_column_and_scalar():
    layer = layers.TextVectorization(vocabulary=["héllo", "wörld"], output_sequence_length=2)
    np.testing.assert_array_equal(np_(layer(np.array([["héllo wörld"], ["wörld"]]))), [[2, 3], [3, 0]])
    np.testing.assert_array_equal(np_(layer(["héllo".encode("utf-8")])), [[2, 0]])
    np.testing.assert_array_equal(np_(layer("wörld héllo")), [3, 2])


def test_vocabulary_file_and_set_vocabulary(tmp_path):
    path = os.path.join(str(tmp_path), "vocab.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("sun\nmoon\n")
    layer = layers.TextVectorization(vocabulary=path)
    assert layer.get_vocabulary() == ["", "[UNK]", "sun", "moon"]
    layer.set_vocabulary(["", "[UNK]", "star"])  # special tokens at the start are accepted and dropped
    assert layer.get_vocabulary() == ["", "[UNK]", "star"]
    np.testing.assert_array_equal(np_(layer(["star sun"])), [[2, 1]])


def test_config_round_trip_keeps_vocabulary_and_idf():
    layer = layers.TextVectorization(max_tokens=10, ngrams=(1, 2), output_mode="tf_idf", name="tv")
    layer.adapt(["red green", "green blue blue"])
    config = json.loads(json.dumps(lamina.saving.serialize_object(layer)))
    clone = lamina.saving.deserialize_object(config)
    assert clone.get_config() == layer.get_config()
    assert clone.ngrams == (1, 2)
    texts = ["blue green red", "green blue"]
    np.testing.assert_allclose(np_(clone(texts)), np_(layer(texts)), rtol=1e-6)


def test_round_trip_inside_a_model_config_and_keras_file(tmp_path):
    layer = layers.TextVectorization(output_sequence_length=4, name="vectorize")
    layer.adapt(["one two two", "three"])
    model = lamina.Sequential([layer], name="preprocess")
    restored = lamina.Sequential.from_config(json.loads(json.dumps(model.get_config())))
    path = os.path.join(str(tmp_path), "pre.keras")
    model.save(path)
    loaded = lamina.saving.load_model(path)
    for clone in (restored.layers[0], loaded.layers[0]):
        assert isinstance(clone, layers.TextVectorization)
        assert clone.get_vocabulary() == layer.get_vocabulary() == ["", "[UNK]", "two", "three", "one"]
        np.testing.assert_array_equal(np_(clone(["three two zero"])), [[3, 2, 1, 0]])


def test_registered_callable_survives_config():
    @lamina.saving.register_serializable(package="tvtest")
    def keep_vowels(texts):
        return np.array(["".join(c for c in t if c in "aeiou ") for t in texts], dtype=object)

    layer = layers.TextVectorization(standardize=keep_vowels, vocabulary=["ea", "o"])
    config = layer.get_config()
    assert config["standardize"] == "tvtest>keep_vowels"
    clone = layers.TextVectorization.from_config(config)
    np.testing.assert_array_equal(np_(clone(["bread lot"])), [[2, 3]])


def test_errors():
    layer = layers.TextVectorization(vocabulary=["a"], name="tv")
    with pytest.raises(ValueError, match=r"'tv' \(TextVectorization\) received a symbolic tensor.*NumPy"):
        layer(lamina.Input((1,), dtype="int64"))
    with pytest.raises(ValueError, match="expected strings.*int64"):
        layer(np.array([1, 2]))
    with pytest.raises(ValueError, match="shape \\(batch,\\) or \\(batch, 1\\).*\\(2, 2\\)"):
        layer(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="vocabulary is not set.*adapt"):
        layers.TextVectorization()(["a"])
    with pytest.raises(ValueError, match="ragged=True is not supported"):
        layers.TextVectorization(ragged=True)
    with pytest.raises(ValueError, match="sparse=True is not supported"):
        layers.TextVectorization(output_mode="multi_hot", sparse=True)
    with pytest.raises(ValueError, match="output_sequence_length is only used with output_mode='int'"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="ngrams=2 needs the text to be split"):
        layers.TextVectorization(ngrams=2, split=None)
    with pytest.raises(ValueError, match="ngrams must be None, a positive int"):
        layers.TextVectorization(ngrams=0)
    with pytest.raises(ValueError, match="standardize must be one of"):
        layers.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="split must be one of"):
        layers.TextVectorization(split="comma")
    with pytest.raises(ValueError, match="output_mode must be one of"):
        layers.TextVectorization(output_mode="one_hot")
    with pytest.raises(ValueError, match="max_tokens=2 leaves no room"):
        layers.TextVectorization(max_tokens=2)
    with pytest.raises(ValueError, match="pad_to_max_tokens=True needs max_tokens"):
        layers.TextVectorization(output_mode="count", pad_to_max_tokens=True)
    with pytest.raises(ValueError, match="cannot save the standardize callable"):
        layers.TextVectorization(standardize=lambda t: t).get_config()
    with pytest.raises(ValueError, match="'no_such_fn', which is not registered"):
        layers.TextVectorization.from_config({"standardize": "no_such_fn"})
    with pytest.raises(ValueError, match="returned 1 strings for 2 inputs"):
        layers.TextVectorization(standardize=lambda t: t[:1], vocabulary=["a"])(["a", "b"])
    with pytest.raises(ValueError, match="adapt\\(\\) expected string data"):
        layers.TextVectorization().adapt(np.array([1.0, 2.0]))


def test_end_to_end_fit_on_vectorized_text():
    rng = np.random.default_rng(0)
    good, bad = ["great", "fine", "love"], ["awful", "hate", "poor"]
    filler = ["the", "movie", "was", "a", "plot"]
    texts, labels = [], []
    for i in range(256):
        label = i % 2
        words = list(rng.choice(filler, 4)) + list(rng.choice(good if label else bad, 2))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    vectorize = layers.TextVectorization(output_mode="multi_hot")
    vectorize.adapt(texts)
    x = vectorize(texts)
    model = lamina.Sequential([lamina.Input((vectorize.vocabulary_size(),)),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=lamina.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, np.array(labels, "float32"), epochs=8, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.95
    preds = np_(model.predict(vectorize(["love great movie", "hate poor plot"]), verbose=0))
    assert preds[0, 0] > 0.5 > preds[1, 0]
