"""IMDB movie reviews: 25,000 training and 25,000 test reviews labelled by sentiment, as word-index sequences."""

import json

import numpy as np

from lamina.datasets._files import KERAS_ORIGIN, fetch, load_npz


def _object_array(seqs):
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = s
    return out


def _remove_long_seq(maxlen, seqs, labels):
    kept = [(x, y) for x, y in zip(seqs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def _encode(seqs, start_char, index_from):
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in seqs]
    if index_from:
        return [[w + index_from for w in x] for x in seqs]
    return [list(x) for x in seqs]


def _limit_vocab(xs, num_words, skip_top, oov_char):
    if not num_words:
        num_words = max((max(x) for x in xs if x), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3, **kwargs):
    """Load the IMDB sentiment dataset as ``(x_train, y_train), (x_test, y_test)``, with Keras's semantics.

    Reviews are lists of word ids: a word of frequency rank ``r`` (1 = most
    frequent) becomes ``r + index_from``; each review starts with ``start_char``;
    ids outside ``[skip_top, num_words)`` become ``oov_char`` (or are dropped if it
    is None). Train and test are each shuffled with ``seed``. The ``.npz`` file is
    read with a restricted unpickler that accepts only lists of ints.

    Args:
        path: file name (looked up in ``$LAMINA_DATASETS_DIR/imdb/``, the caches, else downloaded).
        num_words: keep only the ``num_words - 1`` ... most frequent ids (ids ``>= num_words`` become OOV).
        skip_top: ids below this become OOV too.
        maxlen: drop reviews of ``maxlen`` or more ids (after ``start_char`` is added).
        seed: shuffling seed.
        start_char: id that starts every review (None: no start id).
        oov_char: id for out-of-vocabulary words (None: drop them).
        index_from: offset added to every word rank.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` 1-D object arrays of lists of ints, ``y`` int64 labels
        (1 = positive).

    Example:
    >>> from lamina.datasets import imdb
    >>> (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=1000)
    >>> len(x_train), len(x_test), int(y_train.sum())
    (25000, 25000, 12500)
    >>> x_train[0][0], max(max(x) for x in x_train) < 1000
    (1, True)
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    fpath = fetch("imdb", "imdb.npz", KERAS_ORIGIN + "imdb.npz",
                  "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f", path=path)
    arrays = load_npz(fpath)
    x_train, labels_train = arrays["x_train"], np.asarray(arrays["y_train"])
    x_test, labels_test = arrays["x_test"], np.asarray(arrays["y_test"])

    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    x_train = _encode(x_train, start_char, index_from)
    x_test = _encode(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = _remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. "
                             "Increase maxlen.")
    xs = _limit_vocab(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(labels_train), np.asarray(labels_test)])
    idx = len(x_train)
    return (_object_array(xs[:idx]), labels[:idx]), (_object_array(xs[idx:]), labels[idx:])


def get_word_index(path="imdb_word_index.json"):
    """Return the IMDB word index: a dict from word to frequency rank (1 = most frequent).

    Example:
    >>> from lamina.datasets import imdb
    >>> index = imdb.get_word_index()
    >>> index["the"], len(index)
    (1, 88584)
    """
    fpath = fetch("imdb", "imdb_word_index.json", KERAS_ORIGIN + "imdb_word_index.json",
                  "bfafd718b763782e994055a2d397834f", path=path)
    with open(fpath, encoding="utf-8") as f:
        return json.load(f)
