"""``StringLookup`` and ``IntegerLookup``: map tokens to contiguous indices via a vocabulary."""

import numpy as np

from lamina import backend, ops
from lamina.layers.preprocessing import _utils as u
from lamina.layers.preprocessing._string_inputs import symbolic_call
from lamina.layers.preprocessing.index_lookup import IndexLookup


class StringLookup(IndexLookup):
    """Map strings to integer indices (or back, with ``invert=True``) through a vocabulary.

    Strings are handled on the host with NumPy: call the layer on NumPy arrays (or lists) of ``str`` or
    ``bytes`` in your input pipeline; the result is an int64 tensor (or the ``output_mode`` encoding) that a
    model can consume. PyTorch and JAX have no string tensors: inside a Functional model the layer must be
    called directly on a string ``Input(..., dtype="string")``, and the model runs it on the host before its
    numeric part (other symbolic inputs, and ``invert=True`` inside a model, raise a ``ValueError``).

    Args:
        max_tokens: the largest vocabulary size, special tokens included (None: no limit).
        num_oov_indices: how many indices out-of-vocabulary tokens share (hashed); 0 makes them an error.
        mask_token: a token that maps to index 0 (None: no mask).
        oov_token: the token ``invert=True`` returns for OOV indices (default ``"[UNK]"``).
        vocabulary: a list or array of strings, or the path of a text file with one token per line.
        idf_weights: with ``output_mode="tf_idf"``, the inverse document frequency of each token.
        invert: map indices to strings instead.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        pad_to_max_tokens: encode to ``max_tokens`` columns instead of the vocabulary size.
        sparse: must be False.
        encoding: the text encoding of ``bytes`` inputs (default ``"utf-8"``).

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.StringLookup(vocabulary=["a", "b", "c", "d"])
    >>> lamina.ops.convert_to_numpy(layer(np.array([["a", "c", "d"], ["d", "z", "b"]]))).tolist()
    [[1, 3, 4], [4, 0, 2]]
    >>> lamina.layers.StringLookup(vocabulary=["a", "b"], invert=True)(np.array([2, 0])).tolist()
    ['b', '[UNK]']
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]", vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", pad_to_max_tokens=False, sparse=False,
                 encoding="utf-8", name=None, **kwargs):
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token,
                         oov_token=oov_token, vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, pad_to_max_tokens=pad_to_max_tokens, sparse=sparse,
                         name=name, **kwargs)

    def _standardize_token(self, token):
        if isinstance(token, bytes):
            return token.decode(self.encoding)
        if isinstance(token, np.generic):
            token = token.item()
        if not isinstance(token, str):
            raise ValueError(f"{u.who(self)} expected string tokens, but received {token!r} "
                             f"({type(token).__name__}).")
        return token

    def _tokens_array(self, values):
        arr = np.asarray(values, dtype=object)
        if arr.size and any(isinstance(v, bytes) for v in arr.reshape(-1)):
            arr = np.vectorize(lambda v: v.decode(self.encoding) if isinstance(v, bytes) else v,
                               otypes=[object])(arr)
        return arr.astype(str)

    @property
    def _host_string_layer(self):  # runs on the host in a model with a string Input (see _string_inputs)
        return not self.invert

    def __call__(self, inputs, *args, **kwargs):
        if u.is_symbolic(inputs):
            if self.invert:
                raise u.symbolic_string_error(self, inputs, "integer ids to turn into strings")
            if self.output_mode == "int":
                shape = tuple(inputs.shape)
            elif self._vocab is not None or self.pad_to_max_tokens:
                shape = self.compute_output_shape(inputs.shape)
            else:  # the encoding's width is known once the vocabulary is set
                shape = u.encoded_shape(inputs.shape, self.output_mode, None)
            return symbolic_call(self, inputs, shape, self._out_dtype())
        self.built = True
        if self.invert:
            ids = u.to_numpy(inputs)
            if ids.dtype.kind not in "iu":
                raise ValueError(f"{u.who(self)} with invert=True expected integer indices, but received "
                                 f"data of dtype {ids.dtype}.")
            return self.invert_numpy(ids)
        if not u.is_string_data(inputs):
            kind = getattr(u.to_numpy(inputs), "dtype", None)
            raise ValueError(f"{u.who(self)} expected strings (a NumPy array or list of str or bytes), but "
                             f"received data of dtype {kind}. Use IntegerLookup for integer tokens.")
        ids = self.lookup_numpy(inputs)
        return self.encode(ops.convert_to_tensor(ids, "int64"))

    def get_config(self):
        return {**super().get_config(), "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Map integer tokens to contiguous indices (or back, with ``invert=True``) through a vocabulary.

    The lookup runs with tensor ops (sorted keys and ``searchsorted``), so the layer works inside models,
    compiled training steps included.

    Args:
        max_tokens: the largest vocabulary size, special tokens included (None: no limit).
        num_oov_indices: how many indices out-of-vocabulary values share (hashed). With 0, unknown values
            raise an error on NumPy inputs and map to -1 on tensors.
        mask_token: a value that maps to index 0 (None: no mask).
        oov_token: the value ``invert=True`` returns for OOV indices (default -1).
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        pad_to_max_tokens: encode to ``max_tokens`` columns instead of the vocabulary size.
        sparse: must be False.
        vocabulary: a list or array of ints, or the path of a text file with one int per line.
        vocabulary_dtype: ``"int64"`` (default) or ``"int32"``.
        idf_weights: with ``output_mode="tf_idf"``, the inverse document frequency of each token.
        invert: map indices to values instead.

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> lamina.ops.convert_to_numpy(layer(np.array([[12, 1138, 42], [42, 1000, 36]]))).tolist()
    [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, vocabulary=None, vocabulary_dtype="int64",
                 idf_weights=None, invert=False, name=None, **kwargs):
        if vocabulary_dtype not in ("int64", "int32"):
            raise ValueError(f"IntegerLookup: vocabulary_dtype must be 'int64' or 'int32', but received "
                             f"vocabulary_dtype={vocabulary_dtype!r}.")
        self.vocabulary_dtype = vocabulary_dtype
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token,
                         oov_token=oov_token, vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, pad_to_max_tokens=pad_to_max_tokens, sparse=sparse,
                         name=name, **kwargs)

    def _standardize_token(self, token):
        if isinstance(token, np.generic):
            token = token.item()
        if isinstance(token, str) and token.strip().lstrip("-").isdigit():
            token = int(token)
        if isinstance(token, bool) or not isinstance(token, int):
            raise ValueError(f"{u.who(self)} expected integer tokens, but received {token!r} "
                             f"({type(token).__name__}).")
        return token

    def _tokens_array(self, values):
        arr = np.asarray(values)
        if arr.dtype.kind not in "iub":
            raise ValueError(f"{u.who(self)} expected integer tokens, but received data of dtype {arr.dtype}.")
        return arr.astype("int64")

    def __call__(self, inputs, *args, **kwargs):
        if u.is_string_data(inputs):
            raise ValueError(f"{u.who(self)} expected integer tokens, but received strings. Use StringLookup "
                             "for string tokens.")
        if not u.is_symbolic(inputs) and not backend.is_tensor(inputs):
            arr = np.asarray(inputs)
            if arr.dtype.kind not in "iub":
                raise ValueError(f"{u.who(self)} expected integer {'indices' if self.invert else 'tokens'}, "
                                 f"but received data of dtype {arr.dtype}.")
            if not self.invert and self.num_oov_indices == 0:
                self.lookup_numpy(arr)  # raises on unknown tokens
        elif u.is_symbolic(inputs) and not backend.is_int_dtype(inputs.dtype):
            raise ValueError(f"{u.who(self)} expected an integer tensor, but received dtype {inputs.dtype}.")
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs):
        self._require_vocabulary()
        dtype = backend.dtype_name(inputs)
        if not (backend.is_int_dtype(dtype) or dtype == "bool"):
            raise ValueError(f"{u.who(self)} expected an integer tensor, but received dtype {dtype}.")
        x = ops.cast(inputs, "int64")
        if self.invert:
            table = np.array(self.get_vocabulary(), dtype="int64")
            valid = ops.logical_and(ops.greater_equal(x, 0), ops.less(x, len(table)))
            values = ops.take(ops.convert_to_tensor(table), ops.clip(x, 0, len(table) - 1))
            return ops.cast(ops.where(valid, values, int(self.oov_token)), self.vocabulary_dtype)
        ids = self._lookup_tensor(x)
        return self.encode(ids)

    def _lookup_tensor(self, x):
        vocab = np.array(self._vocab, dtype="int64")
        start = self._vocab_start()
        if self.num_oov_indices == 0:
            oov = ops.full_like(x, -1)
        elif self.num_oov_indices == 1:
            oov = ops.full_like(x, self._token_start())
        else:
            oov = ops.mod(x, self.num_oov_indices) + self._token_start()  # Keras's default: token % n
        if vocab.size:
            order = np.argsort(vocab, kind="stable")
            keys = ops.convert_to_tensor(vocab[order])
            vals = ops.convert_to_tensor((order + start).astype("int64"))
            pos = ops.clip(ops.searchsorted(keys, ops.reshape(x, (-1,)), side="left"), 0, vocab.size - 1)
            pos = ops.reshape(pos, ops.shape(x))
            found = ops.equal(ops.take(keys, pos), x)
            ids = ops.where(found, ops.take(vals, pos), oov)
        else:
            ids = oov
        if self.mask_token is not None:
            ids = ops.where(ops.equal(x, int(self.mask_token)), 0 if self._token_start() else -1, ids)
        return ops.cast(ids, "int64")

    def compute_output_spec(self, inputs):
        if self.invert:
            return backend.KerasTensor(tuple(inputs.shape), self.vocabulary_dtype)
        u.check_encoding_rank(self, inputs.shape, self.output_mode)
        return backend.KerasTensor(self.compute_output_shape(inputs.shape), self._out_dtype())

    def get_config(self):
        return {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype}
