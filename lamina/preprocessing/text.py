"""``lamina.preprocessing.text``: Keras 2's text utilities (``Tokenizer``, ``text_to_word_sequence``, ``one_hot``,
``hashing_trick``, ``tokenizer_from_json``), which NLP tutorials still use. Keras 3 removed them in favour of the
``TextVectorization`` layer (``lamina.layers.TextVectorization``, which lamina also has); here they behave as in
tf.keras 2.

Example:
>>> from lamina.preprocessing.text import Tokenizer
>>> tokenizer = Tokenizer(num_words=10, oov_token="<unk>")
>>> tokenizer.fit_on_texts(["The cat sat.", "The dog sat on the cat!"])
>>> tokenizer.word_index["the"], tokenizer.texts_to_sequences(["the bird sat"])
(2, [[2, 1, 4]])
"""

import hashlib
import json
import math
from collections import OrderedDict, defaultdict

import numpy as np

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_MATRIX_MODES = ("binary", "count", "tfidf", "freq")


def text_to_word_sequence(input_text, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """The words of ``input_text``: lowercased (``lower``), the characters of ``filters`` turned into ``split``,
    then split on ``split`` (empty pieces dropped).

    Example:
    >>> text_to_word_sequence("Hello, World!  Bye.")
    ['hello', 'world', 'bye']
    """
    if not isinstance(input_text, str):
        raise ValueError(f"text_to_word_sequence expected a string, but received {type(input_text).__name__}.")
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in input_text.split(split) if w]


def hashing_trick(text, n, hash_function=None, filters=DEFAULT_FILTERS, lower=True, split=" ", analyzer=None):
    """Each word of ``text`` as an index in ``[1, n)``: ``hash_function(word) % (n - 1) + 1``.

    ``hash_function``: None (Python's ``hash``, which changes from one process to the next unless
    ``PYTHONHASHSEED`` is set), ``"md5"`` (stable), or a function of a string returning an int.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"hashing_trick expected n to be an int >= 2 (indices are in [1, n)), but received {n!r}.")
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        def hash_function(w):
            return int(hashlib.md5(w.encode()).hexdigest(), 16)
    elif not callable(hash_function):
        raise ValueError(f"hashing_trick expected hash_function to be None, 'md5' or a function, but received "
                         f"{hash_function!r}.")
    words = analyzer(text) if analyzer is not None else text_to_word_sequence(text, filters, lower, split)
    return [hash_function(w) % (n - 1) + 1 for w in words]


def one_hot(input_text, n, filters=DEFAULT_FILTERS, lower=True, split=" ", analyzer=None):
    """Keras 2's ``one_hot``: ``hashing_trick`` with Python's ``hash`` (indices in ``[1, n)``, not one-hot
    vectors, despite the name)."""
    return hashing_trick(input_text, n, hash_function=hash, filters=filters, lower=lower, split=split,
                         analyzer=analyzer)


class Tokenizer:
    """Keras 2's text tokenizer: a vocabulary from ``fit_on_texts``, then texts as sequences of word indices
    (``texts_to_sequences``) or as matrices (``texts_to_matrix``).

    Indices start at 1, in decreasing order of word count (ties: the word seen first comes first); with an
    ``oov_token`` it takes index 1 and unknown words map to it. ``num_words`` keeps the ``num_words - 1`` most
    frequent words when converting (the vocabulary itself keeps every word).

    Args:
        num_words: the size of the vocabulary used when converting (None: all words).
        filters: characters removed from the texts.
        lower: lowercase the texts.
        split: the word separator.
        char_level: every character is a token.
        oov_token: the token standing for words outside the vocabulary.
        analyzer: a function from a text to its tokens, instead of the filters/split rules.
        document_count: the number of texts seen (for ``tokenizer_from_json``).
    """

    def __init__(self, num_words=None, filters=DEFAULT_FILTERS, lower=True, split=" ", char_level=False,
                 oov_token=None, analyzer=None, document_count=0, **kwargs):
        if "nb_words" in kwargs:  # Keras 1's name
            num_words = kwargs.pop("nb_words")
        if kwargs:
            raise TypeError(f"Tokenizer got unexpected keyword argument(s) {sorted(kwargs)}.")
        if num_words is not None and (isinstance(num_words, bool) or not isinstance(num_words, int) or num_words < 1):
            raise ValueError(f"Tokenizer expected num_words to be a positive int or None, but received {num_words!r}.")
        self.word_counts = OrderedDict()
        self.word_docs = defaultdict(int)
        self.filters = filters
        self.split = split
        self.lower = lower
        self.num_words = num_words
        self.document_count = document_count
        self.char_level = char_level
        self.oov_token = oov_token
        self.index_docs = defaultdict(int)
        self.word_index = {}
        self.index_word = {}
        self.analyzer = analyzer

    def _tokens(self, text):
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return list(text)
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        """Count the words of ``texts`` (strings, or lists of tokens) and (re)build the vocabulary."""
        if isinstance(texts, str):
            raise ValueError("Tokenizer.fit_on_texts expected a list of texts, but received one string; pass "
                             "[text].")
        for text in texts:
            self.document_count += 1
            seq = self._tokens(text)
            for w in seq:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(seq):
                self.word_docs[w] += 1
        counts = sorted(self.word_counts.items(), key=lambda kv: kv[1], reverse=True)  # stable: first seen first
        vocabulary = ([self.oov_token] if self.oov_token is not None else []) + [w for w, _ in counts]
        self.word_index = dict(zip(vocabulary, range(1, len(vocabulary) + 1)))
        self.index_word = {i: w for w, i in self.word_index.items()}
        self.index_docs = defaultdict(int)
        for w, c in self.word_docs.items():
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences):
        """Count in how many sequences each index appears (for ``sequences_to_matrix(mode="tfidf")``)."""
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def _index(self, w):
        i = self.word_index.get(w)
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        if i is not None and not (self.num_words and i >= self.num_words):
            return i
        return oov

    def texts_to_sequences(self, texts):
        """Each text as the list of its words' indices (unknown words dropped, or ``oov_token``'s index)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        if isinstance(texts, str):
            raise ValueError("Tokenizer.texts_to_sequences expected a list of texts, but received one string; "
                             "pass [text].")
        for text in texts:
            yield [i for i in (self._index(w) for w in self._tokens(text)) if i is not None]

    def sequences_to_texts(self, sequences):
        """Each sequence of indices as a text (words joined by spaces)."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences):
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for seq in sequences:
            words = []
            for i in seq:
                w = self.index_word.get(i)
                if w is not None and not (self.num_words and i >= self.num_words):
                    words.append(w)
                elif oov is not None:
                    words.append(self.index_word[oov])
            yield " ".join(words)

    def texts_to_matrix(self, texts, mode="binary"):
        """``texts`` as a ``(len(texts), num_words)`` matrix (see ``sequences_to_matrix``)."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """A row per sequence, a column per index: ``"binary"`` (present or not), ``"count"``, ``"freq"`` (count /
        length) or ``"tfidf"`` (``(1 + log(count)) * log(1 + documents / (1 + documents with the index))``)."""
        if mode not in _MATRIX_MODES:
            raise ValueError(f"Tokenizer.sequences_to_matrix expected mode to be one of {list(_MATRIX_MODES)}, but "
                             f"received {mode!r}.")
        num_words = self.num_words
        if not num_words:
            if not self.word_index:
                raise ValueError("Tokenizer.sequences_to_matrix needs num_words or a vocabulary: call "
                                 "fit_on_texts first, or create the Tokenizer with num_words.")
            num_words = len(self.word_index) + 1
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Tokenizer.sequences_to_matrix(mode='tfidf') needs document counts: call fit_on_texts "
                             "or fit_on_sequences first.")
        x = np.zeros((len(sequences), num_words))
        for row, seq in enumerate(sequences):
            if not seq:
                continue
            counts = defaultdict(int)
            for j in seq:
                if j < num_words:
                    counts[j] += 1
            for j, c in counts.items():
                if mode == "count":
                    x[row, j] = c
                elif mode == "freq":
                    x[row, j] = c / len(seq)
                elif mode == "binary":
                    x[row, j] = 1
                else:
                    x[row, j] = (1 + math.log(c)) * math.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
        return x

    def get_config(self):
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower, "split": self.split,
                "char_level": self.char_level, "oov_token": self.oov_token, "document_count": self.document_count,
                "word_counts": json.dumps(self.word_counts), "word_docs": json.dumps(self.word_docs),
                "index_docs": json.dumps(self.index_docs), "index_word": json.dumps(self.index_word),
                "word_index": json.dumps(self.word_index)}

    def to_json(self, **kwargs):
        """The tokenizer (configuration and vocabulary) as JSON; ``tokenizer_from_json`` reads it back."""
        return json.dumps({"class_name": self.__class__.__name__, "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string):
    """The ``Tokenizer`` saved by ``Tokenizer.to_json`` (in tf.keras 2's layout too)."""
    try:
        data = json.loads(json_string)
        config = dict(data.get("config"))
    except (TypeError, ValueError, AttributeError):
        raise ValueError("tokenizer_from_json expected the JSON of Tokenizer.to_json(), but the string is not "
                         "that.") from None
    parsed = {k: json.loads(config.pop(k)) for k in ("word_counts", "word_docs", "index_docs", "word_index",
                                                      "index_word") if k in config}
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = OrderedDict(parsed.get("word_counts", {}))
    tokenizer.word_docs = defaultdict(int, parsed.get("word_docs", {}))
    tokenizer.index_docs = defaultdict(int, {int(k): v for k, v in parsed.get("index_docs", {}).items()})
    tokenizer.word_index = parsed.get("word_index", {})
    tokenizer.index_word = {int(k): v for k, v in parsed.get("index_word", {}).items()}
    return tokenizer
