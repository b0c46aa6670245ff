"""Reuters newswire topics: 11,228 newswires from Reuters, labelled over 46 topics, as word-index sequences."""

import json

import numpy as np

from lamina.datasets._files import KERAS_ORIGIN, fetch, load_npz
from lamina.datasets.imdb import _encode, _limit_vocab, _object_array, _remove_long_seq


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113, start_char=1,
              oov_char=2, index_from=3):
    """Load the Reuters topic classification dataset as ``(x_train, y_train), (x_test, y_test)`` (Keras semantics).

    The data (keys ``x``, ``y`` of Keras's ``reuters.npz``) is shuffled with
    ``seed``, encoded as in :func:`lamina.datasets.imdb.load_data`, and the last
    ``test_split`` fraction is the test set.

    Args:
        path: file name (looked up in ``$LAMINA_DATASETS_DIR/reuters/``, the caches, else downloaded).
        num_words: ids ``>= num_words`` become ``oov_char``.
        skip_top: ids below this become ``oov_char``.
        maxlen: drop newswires of ``maxlen`` or more ids.
        test_split: fraction of the data used as the test set.
        seed: shuffling seed.
        start_char: id that starts every sequence (None: none).
        oov_char: id for out-of-vocabulary words (None: drop them).
        index_from: offset added to every word rank.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: object arrays of lists of ints, and integer topic labels.

    Example:
    >>> import os, tempfile, numpy as np
    >>> from lamina.datasets import reuters
    >>> x = np.empty(5, dtype=object)
    >>> for i in range(5):
    ...     x[i] = [1, 2, i + 3]
    >>> path = os.path.join(tempfile.mkdtemp(), "reuters.npz")
    >>> np.savez(path, x=x, y=np.arange(5))
    >>> (x_train, y_train), (x_test, y_test) = reuters.load_data(path, test_split=0.2)
    >>> len(x_train), len(x_test), x_train[0][:3]
    (4, 1, [1, 4, 5])
    """
    fpath = fetch("reuters", "reuters.npz", KERAS_ORIGIN + "reuters.npz",
                  "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916", path=path)
    arrays = load_npz(fpath)
    xs, labels = arrays["x"], np.asarray(arrays["y"])
    rng = np.random.RandomState(seed)
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    xs, labels = xs[indices], labels[indices]
    xs = _encode(xs, start_char, index_from)
    if maxlen:
        xs, labels = _remove_long_seq(maxlen, xs, labels)
    xs = _limit_vocab(xs, num_words, skip_top, oov_char)
    labels = np.asarray(labels)
    idx = int(len(xs) * (1 - test_split))
    return (_object_array(xs[:idx]), labels[:idx]), (_object_array(xs[idx:]), labels[idx:])


def get_word_index(path="reuters_word_index.json"):
    """Return the Reuters word index: a dict from word to frequency rank.

    Example:
    >>> import json, os, tempfile
    >>> from lamina.datasets import reuters
    >>> path = os.path.join(tempfile.mkdtemp(), "reuters_word_index.json")
    >>> with open(path, "w") as f:
    ...     json.dump({"the": 1}, f)
    >>> reuters.get_word_index(path)
    {'the': 1}
    """
    fpath = fetch("reuters", "reuters_word_index.json", KERAS_ORIGIN + "reuters_word_index.json",
                  "4d44cc38712099c9e383dc6e5f11a921", path=path)
    with open(fpath, encoding="utf-8") as f:
        return json.load(f)


_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee", "sugar",
    "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp",
    "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi", "iron-steel",
    "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def get_label_names():
    """Return the 46 Reuters topic names, indexed by label.

    Example:
    >>> from lamina.datasets import reuters
    >>> names = reuters.get_label_names()
    >>> len(names), names[3]
    (46, 'earn')
    """
    return _LABEL_NAMES
