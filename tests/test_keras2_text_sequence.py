"""Keras 2's text and sequence utilities (Tokenizer, one_hot, hashing_trick, skipgrams, make_sampling_table,
TimeseriesGenerator), which tutorials use and Keras 3 removed. On the current backend."""

import math

import numpy as np
import pytest

import lamina
from lamina.preprocessing import sequence, text

TEXTS = ["The cat sat on the mat.", "The dog ate my homework!", "A cat and a dog."]


def test_text_to_word_sequence():
    assert text.text_to_word_sequence("Hello, World!\tBye") == ["hello", "world", "bye"]
    assert text.text_to_word_sequence("a-b c", filters="", lower=False, split=" ") == ["a-b", "c"]
    with pytest.raises(ValueError, match="text_to_word_sequence expected a string, but received list"):
        text.text_to_word_sequence(["a"])


def test_tokenizer_vocabulary_and_sequences():
    tok = text.Tokenizer()
    tok.fit_on_texts(TEXTS)
    assert tok.document_count == 3
    # counts: the 3, cat 2, dog 2, a 2, then the words seen once, in the order first seen
    assert list(tok.word_index)[:4] == ["the", "cat", "dog", "a"]
    assert tok.word_index["sat"] == 5 and tok.index_word[1] == "the"
    assert tok.word_docs["the"] == 2 and tok.index_docs[tok.word_index["cat"]] == 2
    assert tok.texts_to_sequences(["the cat ate the bird"]) == [[1, 2, tok.word_index["ate"], 1]]
    assert tok.sequences_to_texts([[1, 2, 99]]) == ["the cat"]
    limited = text.Tokenizer(num_words=3, oov_token="<oov>")
    limited.fit_on_texts(TEXTS)
    assert limited.word_index["<oov>"] == 1 and limited.word_index["the"] == 2
    # num_words=3 keeps indices 1 and 2; the others become the oov index
    assert limited.texts_to_sequences(["the cat flew"]) == [[2, 1, 1]]
    assert limited.sequences_to_texts([[2, 1, 7]]) == ["the <oov> <oov>"]
    chars = text.Tokenizer(char_level=True)
    chars.fit_on_texts(["abca"])
    assert chars.word_index == {"a": 1, "b": 2, "c": 3}


def test_texts_to_matrix_modes():
    tok = text.Tokenizer(num_words=6)
    tok.fit_on_texts(TEXTS)
    seqs = tok.texts_to_sequences(["the cat the dog", "unknown words"])
    counts = np.zeros((2, 6))
    for i, seq in enumerate(seqs):
        for j in seq:
            counts[i, j] += 1
    np.testing.assert_array_equal(tok.texts_to_matrix(["the cat the dog", "unknown words"], mode="count"), counts)
    np.testing.assert_array_equal(tok.texts_to_matrix(["the cat the dog"], mode="binary")[0], counts[0] > 0)
    np.testing.assert_allclose(tok.texts_to_matrix(["the cat the dog"], mode="freq")[0], counts[0] / 4)
    tfidf = tok.texts_to_matrix(["the cat the dog"], mode="tfidf")[0]
    for j in range(6):
        expected = 0.0 if counts[0, j] == 0 else \
            (1 + math.log(counts[0, j])) * math.log(1 + 3 / (1 + tok.index_docs.get(j, 0)))
        assert tfidf[j] == pytest.approx(expected)
    with pytest.raises(ValueError, match="expected mode to be one of"):
        tok.texts_to_matrix(TEXTS, mode="onehot")
    with pytest.raises(ValueError, match="needs num_words or a vocabulary"):
        text.Tokenizer().sequences_to_matrix([[1]])


def test_tokenizer_json_round_trip():
    tok = text.Tokenizer(num_words=5, oov_token="?")
    tok.fit_on_texts(TEXTS)
    again = text.tokenizer_from_json(tok.to_json())
    assert again.word_index == tok.word_index and again.num_words == 5 and again.oov_token == "?"
    assert again.texts_to_sequences(TEXTS) == tok.texts_to_sequences(TEXTS)
    np.testing.assert_allclose(again.texts_to_matrix(TEXTS, mode="tfidf"), tok.texts_to_matrix(TEXTS, mode="tfidf"))
    with pytest.raises(ValueError, match="tokenizer_from_json expected the JSON of Tokenizer.to_json"):
        text.tokenizer_from_json("[1, 2]")


def test_hashing_trick_and_one_hot():
    out = text.hashing_trick("the cat the", 10, hash_function="md5")
    assert out[0] == out[2] and all(1 <= i < 10 for i in out)
    import hashlib

    assert out[1] == int(hashlib.md5(b"cat").hexdigest(), 16) % 9 + 1
    assert all(1 <= i < 5 for i in text.one_hot("a b c d e", 5))
    with pytest.raises(ValueError, match="hashing_trick expected n to be an int >= 2"):
        text.hashing_trick("a", 1)


def test_skipgrams_and_sampling_table():
    couples, labels = sequence.skipgrams([1, 2, 3, 0, 4], vocabulary_size=5, window_size=1, negative_samples=1.0,
                                        shuffle=False, seed=0)
    positives = [c for c, label in zip(couples, labels) if label == 1]
    assert positives == [[1, 2], [2, 1], [2, 3], [3, 2]]  # index 0 (padding) is skipped
    negatives = [c for c, label in zip(couples, labels) if label == 0]
    assert len(negatives) == 4 and all(1 <= c[1] < 5 for c in negatives)
    again = sequence.skipgrams([1, 2, 3, 0, 4], 5, window_size=1, seed=3)
    assert again == sequence.skipgrams([1, 2, 3, 0, 4], 5, window_size=1, seed=3)
    _, cat_labels = sequence.skipgrams([1, 2], 3, window_size=1, categorical=True, shuffle=False, seed=0)
    assert cat_labels[:2] == [[0, 1], [0, 1]] and cat_labels[2:] == [[1, 0], [1, 0]]
    table = sequence.make_sampling_table(100, sampling_factor=1e-3)
    rank = np.arange(100, dtype="float64")
    rank[0] = 1
    f = 1e-3 * (rank * (np.log(rank) + 0.577) + 0.5 - 1 / (12 * rank))
    np.testing.assert_allclose(table, np.minimum(1.0, f / np.sqrt(f)))


def test_timeseries_generator_feeds_fit():
    series = np.arange(50, dtype="float32").reshape(50, 1)
    gen = sequence.TimeseriesGenerator(series, series[:, 0] * 2, length=5, sampling_rate=2, stride=3,
                                       batch_size=4)
    assert len(gen) == (49 - 5 + 12) // 12
    x, y = gen[0]
    np.testing.assert_array_equal(x[:, :, 0], [[0, 2, 4], [3, 5, 7], [6, 8, 10], [9, 11, 13]])
    np.testing.assert_array_equal(y, [10, 16, 22, 28])
    reverse = sequence.TimeseriesGenerator(series, series, length=5, reverse=True, batch_size=2)
    np.testing.assert_array_equal(reverse[0][0][0, :, 0], [4, 3, 2, 1, 0])
    model = lamina.Sequential([lamina.Input((3, 1)), lamina.layers.Flatten(), lamina.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(gen, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    with pytest.raises(ValueError, match="no window fits in the data"):
        sequence.TimeseriesGenerator(series, series, length=60)
