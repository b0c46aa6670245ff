"""``IndexLookup``: the vocabulary machinery shared by ``StringLookup``, ``IntegerLookup`` (and text layers).

A vocabulary is a list of tokens. Indices follow Keras: with ``output_mode="int"`` the mask token (when
set) is index 0, then come ``num_oov_indices`` out-of-vocabulary (OOV) indices, then the vocabulary in
order. In the other output modes the mask token takes no index and masked inputs encode as zeros.
Several OOV indices spread unknown tokens as Keras spreads them by default: a string by FarmHash
``Fingerprint64`` of its UTF-8 bytes (TensorFlow's ``to_hash_bucket_fast``), an integer by ``token %
num_oov_indices``.

Host helpers for reuse by other layers (e.g. a text vectorizer): ``lookup_numpy(tokens)`` gives int64
indices of a NumPy array of tokens, ``invert_numpy(ids)`` maps indices back, and ``encode(ids)`` applies
the output mode to an index tensor.
"""

import collections
import os
import warnings

import numpy as np

from lamina import backend, ops
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import _farmhash
from lamina.layers.preprocessing import _utils as u

LOOKUP_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")



def tokens_by_frequency(counts):
    """The tokens of ``counts`` (a ``collections.Counter``) in the order of an adapted vocabulary, Keras's:
    by decreasing count, and tokens of equal count from high to low (strings in reverse code-point order,
    which is also their UTF-8 byte order; numbers by decreasing value).

    Example:
    >>> import collections
    >>> tokens_by_frequency(collections.Counter(["a", "c", "d", "d", "z", "b"]))
    ['d', 'z', 'c', 'b', 'a']
    >>> tokens_by_frequency(collections.Counter([12, 1138, 42, 42, 1000, 36]))
    [42, 1138, 1000, 36, 12]
    """
    return [t for t, _ in sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)]

class IndexLookup(Layer):
    """Base class of the lookup layers (see the module docstring); use ``StringLookup``/``IntegerLookup``."""

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=None, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", pad_to_max_tokens=False, sparse=False,
                 **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else None
        kwargs.pop("autocast", None)
        super().__init__(autocast=False, **kwargs)
        self.max_tokens = u.check_positive_int(self, "max_tokens", max_tokens, allow_none=True)
        if isinstance(num_oov_indices, bool) or not isinstance(num_oov_indices, (int, np.integer)) or \
                num_oov_indices < 0:
            raise ValueError(f"{u.who(self)}: num_oov_indices must be an int >= 0, but received "
                             f"num_oov_indices={num_oov_indices!r}.")
        self.num_oov_indices = int(num_oov_indices)
        self.output_mode = u.check_choice(self, "output_mode", output_mode, LOOKUP_MODES)
        if invert and output_mode != "int":
            raise ValueError(f"{u.who(self)}: invert=True needs output_mode='int', but received "
                             f"output_mode='{output_mode}'.")
        if pad_to_max_tokens and self.max_tokens is None:
            raise ValueError(f"{u.who(self)}: pad_to_max_tokens=True needs max_tokens to be set.")
        if self.max_tokens is not None and self.max_tokens <= self.num_oov_indices + (mask_token is not None):
            raise ValueError(f"{u.who(self)}: max_tokens={self.max_tokens} leaves no room for vocabulary after "
                             f"{self.num_oov_indices} OOV indices and the mask token.")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{u.who(self)}: idf_weights is only used with output_mode='tf_idf', but received "
                             f"output_mode='{output_mode}'.")
        u.check_not_sparse(self, sparse)
        self.sparse = sparse
        self.mask_token = self._standardize_token(mask_token) if mask_token is not None else None
        self.oov_token = self._standardize_token(oov_token)
        self.invert = bool(invert)
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self._vocab = None
        self._idf = None
        self.input_vocabulary = vocabulary
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            raise ValueError(f"{u.who(self)}: idf_weights needs a vocabulary of the same length.")

    # ---- subclass hooks -------------------------------------------------------------------------------

    def _standardize_token(self, token):
        return token

    def _tokens_array(self, values):
        """A NumPy array of this layer's token type."""
        return np.asarray(values)

    # ---- vocabulary --------------------------------------------------------------------------------------

    def _token_start(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _vocab_start(self):
        return self._token_start() + self.num_oov_indices

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Replace the vocabulary (a list, an array, or a path to a text file with one token per line)."""
        if isinstance(vocabulary, (str, os.PathLike)):
            vocabulary = self._read_vocabulary_file(os.fspath(vocabulary))
        tokens = [self._standardize_token(t) for t in np.asarray(u.to_numpy(vocabulary), dtype=object)
                  .reshape(-1).tolist()]
        # A vocabulary from get_vocabulary() starts with the special tokens: drop them.
        specials = ([self.mask_token] if self._token_start() else []) + [self.oov_token] * self.num_oov_indices
        if specials and tokens[:len(specials)] == specials:
            tokens = tokens[len(specials):]
        for special, label in ((self.mask_token, "mask_token"), (self.oov_token, "oov_token")):
            if special is not None and special in tokens and not (label == "oov_token" and
                                                                  self.num_oov_indices == 0):
                raise ValueError(f"{u.who(self)}: the vocabulary holds the {label} {special!r} at index "
                                 f"{tokens.index(special)}; special tokens are added by the layer, so leave "
                                 "them out of the vocabulary.")
        counts = collections.Counter(tokens)
        repeated = [t for t, c in counts.items() if c > 1]
        if repeated:
            raise ValueError(f"{u.who(self)}: the vocabulary must hold each token once, but these repeat: "
                             f"{repeated[:10]}.")
        size = len(tokens) + self._vocab_start()
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(f"{u.who(self)}: the vocabulary with its special tokens has {size} entries, more "
                             f"than max_tokens={self.max_tokens}.")
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(f"{u.who(self)}: output_mode='tf_idf' with a given vocabulary needs idf_weights "
                                 "of the same length.")
            idf = np.asarray(u.to_numpy(idf_weights), dtype="float64").reshape(-1)
            if idf.size != len(tokens):
                raise ValueError(f"{u.who(self)}: idf_weights has {idf.size} entries, but the vocabulary has "
                                 f"{len(tokens)} tokens.")
            self._idf = idf
        self._vocab = tokens
        self._index = {t: i + self._vocab_start() for i, t in enumerate(tokens)}

    def load_assets(self, dir_path):
        """Read a vocabulary kept in the archive's assets (``vocabulary.txt``: one token a line, the special
        tokens first), where Keras 3 stores an adapted vocabulary instead of in the config. Nothing to do when
        the config held the vocabulary (lamina's own files); ``"tf_idf"`` layers need their weights too and
        keep the config's."""
        if self._vocab is not None or self.output_mode == "tf_idf":
            return
        path = os.path.join(dir_path, "vocabulary.txt")
        if not os.path.isfile(path):
            return
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        if len(lines) > 1 and lines[-1] == "":
            lines.pop()  # a final newline
        self.set_vocabulary(lines)

    def _read_vocabulary_file(self, path):
        if not os.path.isfile(path):
            raise ValueError(f"{u.who(self)}: vocabulary file '{path}' does not exist.")
        with open(path, encoding="utf-8") as f:
            return [line.rstrip("\n").rstrip("\r") for line in f if line.rstrip("\n\r") != ""]

    def get_vocabulary(self, include_special_tokens=True):
        """The tokens by index (special tokens first unless ``include_special_tokens=False``)."""
        vocab = list(self._vocab or [])
        if not include_special_tokens:
            return vocab
        return ([self.mask_token] if self._token_start() else []) + [self.oov_token] * self.num_oov_indices + vocab

    def vocabulary_size(self):
        """The number of indices, special tokens included."""
        return len(self.get_vocabulary())

    def _require_vocabulary(self):
        if self._vocab is None:
            raise ValueError(f"{u.who(self)}: the vocabulary is not set; pass vocabulary=... or call "
                             "adapt(data) before using the layer.")

    def adapt(self, data, batch_size=None, steps=None):
        """Build the vocabulary from ``data``: tokens by decreasing frequency, ties by decreasing token (as
        Keras: strings in reverse code-point order, integers from high to low)."""
        counts, doc_freq, num_docs = collections.Counter(), collections.Counter(), 0
        for batch in u.iterate_batches(self, data, steps):
            arr = self._tokens_array(batch)
            counts.update(arr.reshape(-1).tolist())
            if self.output_mode == "tf_idf":
                rows = arr.reshape(-1, 1) if arr.ndim < 2 else arr.reshape(arr.shape[0], -1)
                for row in rows:
                    doc_freq.update(set(row.tolist()))
                num_docs += len(rows)
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        tokens = tokens_by_frequency(counts)
        if self.max_tokens is not None:
            tokens = tokens[:self.max_tokens - self._vocab_start()]
        idf = None
        if self.output_mode == "tf_idf":
            idf = np.log1p(num_docs / (1.0 + np.array([doc_freq[t] for t in tokens], dtype="float64")))
        self.set_vocabulary(tokens, idf)

    # ---- host lookup (NumPy) ----------------------------------------------------------------------------

    def _oov_indices_numpy(self, tokens):
        start = self._token_start()
        if self.num_oov_indices <= 1:
            return np.full(tokens.shape, start, dtype="int64")
        if tokens.dtype.kind in "iub":
            return start + np.mod(tokens.astype(np.int64), self.num_oov_indices)
        return start + _farmhash.string_buckets(tokens, self.num_oov_indices)

    def lookup_numpy(self, tokens):
        """int64 indices of a NumPy array of tokens (any shape)."""
        self._require_vocabulary()
        tokens = self._tokens_array(tokens)
        uniq, inverse = np.unique(tokens.reshape(-1), return_inverse=True)
        found = np.array([self._index.get(t, -1) for t in uniq.tolist()], dtype="int64")
        ids = found[inverse.reshape(-1)].reshape(tokens.shape)
        missing = ids < 0
        if self.mask_token is not None:
            is_mask = tokens == self.mask_token
            missing &= ~is_mask
            ids = np.where(is_mask, 0 if self._token_start() else -1, ids)
        if missing.any():
            if self.num_oov_indices == 0:
                raise ValueError(f"{u.who(self)}: num_oov_indices=0, but the input holds tokens not in the "
                                 f"vocabulary, e.g. {tokens[missing].reshape(-1)[:5].tolist()}.")
            ids = np.where(missing, self._oov_indices_numpy(tokens), ids)
        return ids.astype("int64")

    def invert_numpy(self, ids):
        """The tokens of int indices (out-of-range indices give the OOV token)."""
        self._require_vocabulary()
        ids = np.asarray(ids).astype("int64")
        table = np.array(self.get_vocabulary(), dtype=object)
        valid = (ids >= 0) & (ids < len(table))
        out = table[np.clip(ids, 0, len(table) - 1)]
        out = np.where(valid, out, self.oov_token)
        return self._tokens_array(out)

    # ---- output encoding ---------------------------------------------------------------------------------

    def _depth(self):
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def _idf_vector(self):
        depth = self._depth()
        idf = np.zeros(depth, dtype="float64")
        start = self._vocab_start()
        if self._idf is not None and self._idf.size:
            idf[start:start + self._idf.size] = self._idf
            idf[self._token_start():start] = self._idf.mean()  # OOV tokens: the mean idf
        return idf

    def _out_dtype(self):
        if self.output_mode == "int":
            return "int64"
        return self.compute_dtype if backend.is_float_dtype(self.compute_dtype) else "float32"

    def encode(self, ids):
        """Apply the output mode to an int index tensor."""
        u.check_encoding_rank(self, ids.shape, self.output_mode)
        idf = self._idf_vector() if self.output_mode == "tf_idf" else None
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        out = u.encode_categorical(ops.cast(ids, "int64"), mode, self._depth(), self._out_dtype())
        if idf is not None:
            out = out * ops.convert_to_tensor(idf.astype(self._out_dtype()))
        return out

    def compute_output_shape(self, input_shape):
        return u.encoded_shape(input_shape, self.output_mode, self._depth())

    # ---- config -----------------------------------------------------------------------------------------

    @classmethod
    def from_config(cls, config):
        """Also reads Keras 3.15's configs, which add ``vocabulary_size`` (set by the vocabulary itself),
        ``oov_method`` and ``salt`` (how several OOV indices are chosen)."""
        config = dict(config)
        config.pop("vocabulary_size", None)
        oov_method, salt = config.pop("oov_method", None), config.pop("salt", None)
        if int(config.get("num_oov_indices", 1) or 0) > 1 and (
                salt is not None or (oov_method == "farmhash" and cls.__name__ == "IntegerLookup")):
            warnings.warn(
                f"{cls.__name__} '{config.get('name')}': the file spreads unknown tokens over "
                f"{config['num_oov_indices']} OOV indices with oov_method={oov_method!r}, salt={salt!r}; lamina "
                "spreads them as Keras does by default (strings by FarmHash, integers by token % num_oov_indices), "
                "so unknown tokens may land on other OOV indices than in Keras (known tokens are unaffected).",
                UserWarning, stacklevel=2)
        return cls(**config)

    def get_config(self):
        return {**super().get_config(), "max_tokens": self.max_tokens, "num_oov_indices": self.num_oov_indices,
                "mask_token": self.mask_token, "oov_token": self.oov_token,
                "vocabulary": list(self._vocab) if self._vocab is not None else None,
                "idf_weights": self._idf.tolist() if self._idf is not None else None,
                "invert": self.invert, "output_mode": self.output_mode,
                "pad_to_max_tokens": self.pad_to_max_tokens, "sparse": self.sparse}
