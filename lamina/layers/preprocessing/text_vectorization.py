"""``TextVectorization``: turn raw strings into token indices or bag-of-words vectors, on the host.

The pipeline, for each input string (a "document"): standardize -> split into tokens -> add n-grams ->
look each token up in the vocabulary -> encode (``output_mode``). PyTorch and JAX have no string tensors,
so all of it runs on the host with NumPy and Python strings; the layer returns an engine tensor that a model
consumes. Use it in the input pipeline (``dataset.map(lambda x, y: (vectorize(x), y))`` on a lamina
directory dataset, or ``vectorize(texts)`` before ``fit``), or inside a Functional model called directly on a
string ``Input(shape=(1,), dtype="string")``: the model then runs it on the host before its numeric part
(see ``lamina.layers.preprocessing._string_inputs``).

Index layout (as Keras): with ``output_mode="int"`` index 0 is padding (the mask token ``""``) and 1 is
``"[UNK]"`` (out of vocabulary), then the vocabulary. In the other modes the padding takes no index: the
vector has ``"[UNK]"`` at 0, then the vocabulary.

``adapt`` orders the vocabulary by decreasing token frequency; ties are broken by the token's string order
(so the result does not depend on the order of the data), as ``StringLookup.adapt`` does.
"""

import collections
import re
import string

import numpy as np

from lamina import backend, ops
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import _utils as u
from lamina.layers.preprocessing._string_inputs import symbolic_call
from lamina.layers.preprocessing.index_lookup import tokens_by_frequency
from lamina.layers.preprocessing.lookups import StringLookup
from lamina.saving.serialization import get_registered_object

STANDARDIZE_MODES = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT_MODES = ("whitespace", "character")
OUTPUT_MODES = ("int", "multi_hot", "count", "tf_idf")
# ASCII punctuation, the characters Keras's default strip regex removes.
_STRIP_TABLE = str.maketrans("", "", string.punctuation)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_ASCII_SPACE = re.compile("[ \t\n\r\x0b\x0c]+")
_ADAPT_CHUNK = 2048


def _callable_name(fn):
    return getattr(fn, "_registered_name", None) or getattr(fn, "__name__", None)


class TextVectorization(Layer):
    """Map text to integer sequences (``"int"``) or to multi-hot / count / TF-IDF vectors.

    Runs on the host (see the module docstring): call it on a list or NumPy array of strings (``str`` or
    ``bytes``), of shape ``(batch,)`` or ``(batch, 1)``; a scalar string gives one unbatched result. Called on
    a string ``Input`` it records a node of a Functional model, which runs it on the host (second example);
    any other symbolic tensor gets a ``ValueError``.

    Args:
        max_tokens: the largest vocabulary size, special tokens included (None: no limit).
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``, ``"strip_punctuation"``,
            None, or a callable that takes a 1-D NumPy object array of strings and returns one of the same
            length. Punctuation means ASCII punctuation (``string.punctuation``).
        split: ``"whitespace"`` (default), ``"character"``, None (each string is one token; a rank-2
            input then holds pre-split tokens), or a callable that takes a 1-D NumPy object array of
            strings and returns a list of token lists.
        ngrams: None, an int ``n`` (n-grams of sizes 1..n) or a tuple of sizes; tokens join with a space.
        output_mode: ``"int"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        output_sequence_length: ``"int"`` mode only: pad (with 0, at the end) or truncate every sequence to
            this length. None pads to the longest sequence of the batch.
        pad_to_max_tokens: in the vector modes, give ``max_tokens`` columns instead of the vocabulary size.
        vocabulary: a list/array of strings or the path of a text file with one token per line.
        idf_weights: with ``output_mode="tf_idf"`` and a given vocabulary, the idf of each token.
        ragged: must be False (lamina's engines have no ragged tensors; use ``output_sequence_length``).
        sparse: must be False.
        encoding: the text encoding of ``bytes`` inputs (default ``"utf-8"``).

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.TextVectorization(output_sequence_length=4)
    >>> layer.adapt(["The cat sat.", "The dog sat!", "the cat"])
    >>> layer.get_vocabulary()  # by frequency; "sat" and "cat" (twice each) from high to low, as Keras
    ['', '[UNK]', 'the', 'sat', 'cat', 'dog']
    >>> lamina.ops.convert_to_numpy(layer(["The bird sat", "cat"])).tolist()
    [[2, 1, 3, 0], [4, 0, 0, 0]]
    >>> text = lamina.Input(shape=(1,), dtype="string")
    >>> model = lamina.Model(text, lamina.layers.Embedding(6, 2)(layer(text)))
    >>> model.predict(np.array([["the dog"], ["a cat sat"]]), verbose=0).shape
    (2, 4, 2)
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation", split="whitespace",
                 ngrams=None, output_mode="int", output_sequence_length=None, pad_to_max_tokens=False,
                 vocabulary=None, idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None,
                 **kwargs):
        kwargs.pop("vocabulary_size", None)  # written by get_config, informative only
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else None
        kwargs.pop("autocast", None)
        super().__init__(autocast=False, name=name, **kwargs)
        self.output_mode = u.check_choice(self, "output_mode", output_mode, OUTPUT_MODES)
        self.max_tokens = u.check_positive_int(self, "max_tokens", max_tokens, allow_none=True)
        specials = 2 if output_mode == "int" else 1
        if self.max_tokens is not None and self.max_tokens <= specials:
            raise ValueError(f"{u.who(self)}: max_tokens={self.max_tokens} leaves no room for a vocabulary: "
                             f"output_mode='{output_mode}' reserves {specials} index(es) for "
                             f"{'padding and ' if specials == 2 else ''}'[UNK]'. Use max_tokens > {specials}.")
        if standardize is not None and not callable(standardize):
            u.check_choice(self, "standardize", standardize, STANDARDIZE_MODES + (None,))
        if split is not None and not callable(split):
            u.check_choice(self, "split", split, SPLIT_MODES + (None,))
        self.standardize = standardize
        self.split = split
        self.ngrams = self._check_ngrams(ngrams)
        if self.ngrams is not None and split is None:
            raise ValueError(f"{u.who(self)}: ngrams={ngrams!r} needs the text to be split into tokens, but "
                             "split=None. Set split='whitespace' (or another split) to use ngrams.")
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError(f"{u.who(self)}: output_sequence_length is only used with output_mode='int', "
                                 f"but received output_mode='{output_mode}'.")
            output_sequence_length = u.check_positive_int(self, "output_sequence_length", output_sequence_length)
        self.output_sequence_length = output_sequence_length
        if pad_to_max_tokens and self.max_tokens is None:
            raise ValueError(f"{u.who(self)}: pad_to_max_tokens=True needs max_tokens to be set.")
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        if ragged:
            raise ValueError(f"{u.who(self)}: ragged=True is not supported: lamina's engines (PyTorch, JAX) "
                             "have no ragged tensors. Use ragged=False; output_mode='int' then pads each "
                             "batch to its longest sequence, or to output_sequence_length when set.")
        self.ragged = False
        u.check_not_sparse(self, sparse)
        self.sparse = False
        self.encoding = encoding
        self._lookup = StringLookup(max_tokens=self.max_tokens, mask_token="", oov_token="[UNK]",
                                    vocabulary=vocabulary, idf_weights=idf_weights, output_mode=output_mode,
                                    pad_to_max_tokens=self.pad_to_max_tokens, encoding=encoding,
                                    name=f"{self.name}_lookup")

    def _check_ngrams(self, ngrams):
        if ngrams is None:
            return None
        sizes = (ngrams,) if isinstance(ngrams, (int, np.integer)) and not isinstance(ngrams, bool) else ngrams
        if not isinstance(sizes, (tuple, list)) or not sizes or any(
                isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in sizes):
            raise ValueError(f"{u.who(self)}: ngrams must be None, a positive int or a tuple of positive ints, "
                             f"but received ngrams={ngrams!r}.")
        return int(ngrams) if sizes is not ngrams else tuple(int(n) for n in sizes)

    # ---- vocabulary ------------------------------------------------------------------------------------

    def get_vocabulary(self, include_special_tokens=True):
        """The tokens by index (``""`` and ``"[UNK]"`` first unless ``include_special_tokens=False``)."""
        return self._lookup.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        """The number of indices, special tokens included."""
        return self._lookup.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Replace the vocabulary (a list, an array or a file path); ``idf_weights`` for ``"tf_idf"``."""
        self._lookup.set_vocabulary(vocabulary, idf_weights)

    def load_assets(self, dir_path):
        """The vocabulary a Keras 3 file keeps in this layer's assets (``vocabulary.txt``), when its config has none."""
        self._lookup.load_assets(dir_path)

    def adapt(self, data, batch_size=None, steps=None):
        """Build the vocabulary from ``data``: a list/array of strings or an iterable of batches (for a
        dataset of ``(text, label)`` batches the texts are used). Tokens are ordered by decreasing
        frequency, ties by decreasing string order (as Keras); ``max_tokens`` keeps the most frequent."""
        counts, doc_freq, num_docs = collections.Counter(), collections.Counter(), 0
        tf_idf = self.output_mode == "tf_idf"
        for batch in u.iterate_batches(self, data, steps):
            if not u.is_string_data(batch):
                raise ValueError(f"{u.who(self)}: adapt() expected string data, but received a batch of "
                                 f"dtype {getattr(batch, 'dtype', type(batch).__name__)}.")
            docs, _ = self._documents(batch)
            for start in range(0, len(docs), _ADAPT_CHUNK):
                for tokens in self._tokenize(docs[start:start + _ADAPT_CHUNK]):
                    counts.update(tokens)
                    if tf_idf:
                        doc_freq.update(set(tokens))
                num_docs += len(docs[start:start + _ADAPT_CHUNK])
        counts.pop("", None)
        counts.pop("[UNK]", None)
        tokens = tokens_by_frequency(counts)
        if self.max_tokens is not None:
            tokens = tokens[:self.max_tokens - (2 if self.output_mode == "int" else 1)]
        idf = None
        if tf_idf:
            idf = np.log1p(num_docs / (1.0 + np.array([doc_freq[t] for t in tokens], dtype="float64")))
        self._lookup.set_vocabulary(tokens, idf)

    # ---- host pipeline ---------------------------------------------------------------------------------

    def _documents(self, inputs):
        """(a list of documents, scalar?) where a document is a string, or a list of pre-split tokens."""
        arr = self._string_array(inputs)
        if arr.ndim == 0:
            return [str(arr)], True
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim == 1:
            return arr.tolist(), False
        if arr.ndim == 2 and self.split is None:
            return [list(row) for row in arr.tolist()], False
        raise ValueError(f"{u.who(self)} expected strings of shape (batch,) or (batch, 1), but received shape "
                         f"{arr.shape}." + (" With split=None a rank-2 input (batch, tokens) is also accepted."
                                            if arr.ndim == 2 else ""))

    def _string_array(self, inputs):
        """An object array of Python ``str`` (bytes decoded), without padding strings to a fixed width."""
        if isinstance(inputs, np.ndarray) and inputs.dtype.kind == "U":
            return inputs
        if isinstance(inputs, (str, bytes)):
            arr = np.empty((), dtype=object)
            arr[()] = self._as_str(inputs)
            return arr
        arr = np.asarray(u.to_numpy(inputs) if not isinstance(inputs, (list, tuple)) else inputs, dtype=object)
        flat = [self._as_str(v) for v in arr.reshape(-1).tolist()]
        out = np.empty(len(flat), dtype=object)
        out[:] = flat
        return out.reshape(arr.shape)

    def _as_str(self, value):
        if isinstance(value, bytes):
            return value.decode(self.encoding)
        if isinstance(value, str):
            return str(value)
        raise ValueError(f"{u.who(self)} expected strings, but received {value!r} ({type(value).__name__}).")

    def _standardize(self, docs):
        mode = self.standardize
        if mode is None:
            return docs
        if callable(mode):
            out = mode(np.array(docs, dtype=object))
            out = self._string_array(out).reshape(-1).tolist()
            if len(out) != len(docs):
                raise ValueError(f"{u.who(self)}: the standardize callable returned {len(out)} strings for "
                                 f"{len(docs)} inputs; it must return one string per input.")
            return out
        if mode in ("lower_and_strip_punctuation", "lower"):
            # ASCII letters only, as Keras (TensorFlow's strings.lower): 'ΟΔΟΣ' and 'cafÉ' keep their case
            docs = [d.lower() if d.isascii() else d.translate(_ASCII_LOWER) for d in docs]
        if mode in ("lower_and_strip_punctuation", "strip_punctuation"):
            docs = [d.translate(_STRIP_TABLE) for d in docs]
        return docs

    def _split(self, docs):
        mode = self.split
        if mode is None:
            return [[d] for d in docs]
        if mode == "whitespace":
            # ASCII whitespace only, as Keras (TensorFlow's strings.split): U+0085, U+00A0... stay in their token
            return [d.split() if d.isascii() else [t for t in _ASCII_SPACE.split(d) if t] for d in docs]
        if mode == "character":
            return [list(d) for d in docs]
        out = mode(np.array(docs, dtype=object))
        out = [[str(t) for t in (row.tolist() if isinstance(row, np.ndarray) else row)] for row in out]
        if len(out) != len(docs):
            raise ValueError(f"{u.who(self)}: the split callable returned {len(out)} token lists for "
                             f"{len(docs)} inputs; it must return one list of tokens per input.")
        return out

    def _add_ngrams(self, token_lists):
        if self.ngrams is None:
            return token_lists
        sizes = range(1, self.ngrams + 1) if isinstance(self.ngrams, int) else self.ngrams
        out = []
        for tokens in token_lists:
            grams = []
            for n in sizes:
                grams.extend(tokens if n == 1 else
                             [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)])
            out.append(grams)
        return out

    def _tokenize(self, docs):
        """Token lists of a list of documents (strings, or pre-split token lists when split=None)."""
        if docs and isinstance(docs[0], list):  # split=None, rank-2 input: tokens already split
            lengths = [len(d) for d in docs]
            flat = self._standardize([t for d in docs for t in d])
            bounds = np.cumsum([0] + lengths)
            return [flat[bounds[i]:bounds[i + 1]] for i in range(len(docs))]
        return self._add_ngrams(self._split(self._standardize(docs)))

    def _vectorize(self, docs):
        token_lists = self._tokenize(docs)
        n = len(token_lists)
        lengths = np.array([len(t) for t in token_lists], dtype="int64")
        flat = np.array([t for tokens in token_lists for t in tokens], dtype=object)
        ids = self._lookup.lookup_numpy(flat) if flat.size else np.zeros((0,), "int64")
        if self.output_mode == "int":
            width = self.output_sequence_length
            if width is None:
                width = int(lengths.max()) if n else 0
            out = np.zeros((n, width), dtype="int64")
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if n else lengths
            for i in range(n):
                k = min(int(lengths[i]), width)
                out[i, :k] = ids[starts[i]:starts[i] + k]
            return out
        depth = self._lookup._depth()
        out = np.zeros((n, depth), dtype="float32")
        rows = np.repeat(np.arange(n), lengths)
        keep = (ids >= 0) & (ids < depth)
        rows, ids = rows[keep], ids[keep]
        if self.output_mode == "multi_hot":
            out[rows, ids] = 1.0
        else:
            np.add.at(out, (rows, ids), 1.0)
            if self.output_mode == "tf_idf":
                out *= self._lookup._idf_vector().astype("float32")
        return out

    def _out_dtype(self):
        if self.output_mode == "int":
            return "int64"
        return self.compute_dtype if backend.is_float_dtype(self.compute_dtype) else "float32"

    _host_string_layer = True  # runs on the host in a model with a string Input (see _string_inputs)

    def __call__(self, inputs, *args, **kwargs):
        if u.is_symbolic(inputs):
            return symbolic_call(self, inputs, self.compute_output_shape(inputs.shape), self._out_dtype())
        self.built = True
        return self.call(inputs)

    def call(self, inputs):
        if not u.is_string_data(inputs):
            kind = getattr(u.to_numpy(inputs), "dtype", None)
            raise ValueError(f"{u.who(self)} expected strings (a list or NumPy array of str or bytes), but "
                             f"received data of dtype {kind}.")
        self._lookup._require_vocabulary()
        docs, scalar = self._documents(inputs)
        out = self._vectorize(docs)
        if scalar:
            out = out[0]
        return ops.convert_to_tensor(out.astype(self._out_dtype()))

    def compute_output_shape(self, input_shape):
        batch = tuple(input_shape)[:1]
        if self.output_mode == "int":
            return batch + (self.output_sequence_length,)
        known = self._lookup._vocab is not None or self.pad_to_max_tokens
        return batch + (self._lookup._depth() if known else None,)

    # ---- config ----------------------------------------------------------------------------------------

    def get_config(self):
        def encode_fn(value, arg):
            if value is None or isinstance(value, str):
                return value
            name = _callable_name(value)
            if not name or name == "<lambda>":
                raise ValueError(f"{u.who(self)}: cannot save the {arg} callable {value!r}: give it a name and "
                                 "register it with @lamina.saving.register_serializable() so a loaded config "
                                 "can find it.")
            return name

        lookup = self._lookup
        return {**super().get_config(), "max_tokens": self.max_tokens,
                "standardize": encode_fn(self.standardize, "standardize"), "split": encode_fn(self.split, "split"),
                "ngrams": list(self.ngrams) if isinstance(self.ngrams, tuple) else self.ngrams,
                "output_mode": self.output_mode, "output_sequence_length": self.output_sequence_length,
                "pad_to_max_tokens": self.pad_to_max_tokens, "sparse": self.sparse, "ragged": self.ragged,
                "encoding": self.encoding,
                "vocabulary": list(lookup._vocab) if lookup._vocab is not None else None,
                "idf_weights": lookup._idf.tolist() if lookup._idf is not None else None,
                "vocabulary_size": lookup.vocabulary_size() if lookup._vocab is not None else None}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for arg, builtin in (("standardize", STANDARDIZE_MODES), ("split", SPLIT_MODES)):
            value = config.get(arg)
            if isinstance(value, str) and value not in builtin:
                fn = get_registered_object(value)
                if fn is None:
                    raise ValueError(f"TextVectorization: the config names the {arg} function {value!r}, which "
                                     "is not registered. Register it with @lamina.saving."
                                     "register_serializable() or load inside lamina.saving."
                                     "CustomObjectScope({...}).")
                config[arg] = fn
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)
