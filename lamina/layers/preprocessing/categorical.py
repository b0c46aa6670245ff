"""Categorical preprocessing: ``CategoryEncoding`` and ``Hashing``."""

import numpy as np

from lamina import backend, ops
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import _farmhash
from lamina.layers.preprocessing import _utils as u


def _float_output_dtype(layer):
    return layer.compute_dtype if backend.is_float_dtype(layer.compute_dtype) else "float32"


class CategoryEncoding(Layer):
    """Encode integer category ids as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: the number of categories; inputs must lie in ``[0, num_tokens)``.
        output_mode: ``"multi_hot"`` (default; 1 for each id present in a sample), ``"one_hot"`` (one
            vector per id) or ``"count"`` (how often each id occurs in a sample).
        sparse: must be False.

    Call arguments:
        inputs: int ids of shape ``(batch,)`` or ``(batch, k)``.
        count_weights: optional weights of the inputs' shape, summed instead of 1s in ``"count"`` mode.

    Output shape:
        ``(batch, num_tokens)``; for ``"one_hot"`` with ``k > 1``, ``(batch, k, num_tokens)``.

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
    >>> lamina.ops.convert_to_numpy(layer(np.array([3, 0]))).tolist()
    [[0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]]
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        kwargs.pop("autocast", None)
        super().__init__(autocast=False, **kwargs)
        if num_tokens is None:
            raise ValueError(f"{u.who(self)}: num_tokens must be set (the number of categories), but received "
                             "num_tokens=None.")
        self.num_tokens = u.check_positive_int(self, "num_tokens", num_tokens)
        self.output_mode = u.check_choice(self, "output_mode", output_mode, u.ENCODING_MODES)
        u.check_not_sparse(self, sparse)
        self.sparse = sparse

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, (np.ndarray, list, tuple)) and not u.is_symbolic(inputs):
            arr = np.asarray(inputs)
            if arr.dtype.kind not in "iufb":
                raise ValueError(f"{u.who(self)} expected integer category ids, but received an array of "
                                 f"dtype {arr.dtype}.")
            if arr.size and (arr.min() < 0 or arr.max() >= self.num_tokens):
                raise ValueError(f"{u.who(self)} expected inputs in the range [0, {self.num_tokens}) "
                                 f"(num_tokens={self.num_tokens}), but received values from {arr.min()} to "
                                 f"{arr.max()}.")
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, count_weights=None):
        u.check_encoding_rank(self, inputs.shape, self.output_mode)
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(f"{u.who(self)}: count_weights is only used with output_mode='count', but "
                             f"output_mode='{self.output_mode}'.")
        return u.encode_categorical(ops.cast(inputs, "int64"), self.output_mode, self.num_tokens,
                                    _float_output_dtype(self), count_weights=count_weights)

    def compute_output_spec(self, inputs, count_weights=None):
        u.check_encoding_rank(self, inputs.shape, self.output_mode)
        return backend.KerasTensor(self.compute_output_shape(inputs.shape), _float_output_dtype(self))

    def compute_output_shape(self, input_shape):
        return u.encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode,
                "sparse": self.sparse}


class Hashing(Layer):
    """Hash integer or string features into ``num_bins`` buckets.

    Strings are bucketed as Keras buckets them (TensorFlow's ``to_hash_bucket_fast``: FarmHash
    ``Fingerprint64`` of the UTF-8 bytes; with a ``salt``, ``to_hash_bucket_strong``: SipHash-2-4 keyed by
    it), on the host, giving a tensor of bucket ids (in a model, call it directly on a string ``Input``: the
    model runs it on the host). Integers are hashed with tensor ops, so the layer works inside compiled
    models, by lamina's own stable function (splitmix64's finalizer, mixed with ``salt``): the same buckets
    on every run, process and backend, but not Keras's (Keras hashes an integer's decimal string with
    TensorFlow on the host).

    Args:
        num_bins: the number of buckets (including the mask bucket when ``mask_value`` is set).
        mask_value: a value that maps to bucket 0 (other values go to ``1 .. num_bins - 1``).
        salt: an int or a pair of ints that changes the hash function.
        output_mode: ``"int"`` (bucket ids), ``"one_hot"``, ``"multi_hot"`` or ``"count"``.
        sparse: must be False.

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.Hashing(num_bins=3, mask_value="")
    >>> ids = lamina.ops.convert_to_numpy(layer(np.array([["A"], [""], ["A"]])))
    >>> bool(ids[1, 0] == 0 and ids[0, 0] == ids[2, 0] and ids[0, 0] > 0)
    True
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else None
        kwargs.pop("autocast", None)
        super().__init__(autocast=False, **kwargs)
        self.num_bins = u.check_positive_int(self, "num_bins", num_bins)
        if mask_value is not None and self.num_bins < 2:
            raise ValueError(f"{u.who(self)}: with a mask_value, num_bins must be at least 2 (bin 0 is the "
                             f"mask bin), but received num_bins={num_bins}.")
        if salt is not None and not (isinstance(salt, (int, np.integer)) or (
                isinstance(salt, (list, tuple)) and len(salt) == 2 and
                all(isinstance(s, (int, np.integer)) for s in salt))):
            raise ValueError(f"{u.who(self)}: salt must be None, an int or a pair of ints, but received "
                             f"salt={salt!r}.")
        self.mask_value = mask_value
        self.salt = list(salt) if isinstance(salt, tuple) else salt
        self._key = u.salt_key(salt)
        self.output_mode = u.check_choice(self, "output_mode", output_mode, ("int",) + u.ENCODING_MODES)
        u.check_not_sparse(self, sparse)
        self.sparse = sparse

    def _out_dtype(self):
        return "int64" if self.output_mode == "int" else _float_output_dtype(self)

    def _bins_from_hash(self, hashed, is_mask):
        if self.mask_value is None:
            return ops.mod(hashed, self.num_bins)
        return ops.where(is_mask, 0, ops.mod(hashed, self.num_bins - 1) + 1)

    _host_string_layer = True  # on a string Input of a model, it runs on the host (see _string_inputs)

    def __call__(self, inputs, *args, **kwargs):
        if u.is_symbolic(inputs) and inputs.dtype == "string":
            u.check_encoding_rank(self, inputs.shape, self.output_mode)
            from lamina.layers.preprocessing._string_inputs import symbolic_call

            return symbolic_call(self, inputs, self.compute_output_shape(inputs.shape), self._out_dtype())
        if u.is_string_data(inputs):
            arr = u.as_string_array(inputs)
            u.check_encoding_rank(self, arr.shape, self.output_mode)
            salt = None if self.salt is None else (
                [self.salt, self.salt] if isinstance(self.salt, (int, np.integer)) else list(self.salt))
            if self.mask_value is None:
                bins = _farmhash.string_buckets(arr, self.num_bins, salt)
            else:  # bucket 0 is the mask's; the others take 1 .. num_bins - 1
                bins = np.where(arr == str(self.mask_value), 0,
                                _farmhash.string_buckets(arr, self.num_bins - 1, salt) + 1)
            self.built = True
            return u.encode_categorical(ops.convert_to_tensor(bins, "int64"), self.output_mode, self.num_bins,
                                        self._out_dtype())
        if u.is_symbolic(inputs) and not backend.is_int_dtype(inputs.dtype) and inputs.dtype != "bool":
            raise ValueError(f"{u.who(self)} expected integer or string inputs, but received a tensor of "
                             f"dtype {inputs.dtype}. Cast floats to int, or convert them to strings on the host.")
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs):
        dtype = backend.dtype_name(inputs)
        if not (backend.is_int_dtype(dtype) or dtype == "bool"):
            raise ValueError(f"{u.who(self)} expected integer or string inputs, but received a tensor of dtype "
                             f"{dtype}. Cast floats to int, or convert them to strings on the host.")
        u.check_encoding_rank(self, inputs.shape, self.output_mode)
        inputs = ops.cast(inputs, "int64")
        is_mask = None
        if self.mask_value is not None:
            if not isinstance(self.mask_value, (int, np.integer)):
                raise ValueError(f"{u.who(self)}: mask_value={self.mask_value!r} is not an int, but the inputs "
                                 "are integers.")
            is_mask = ops.equal(inputs, int(self.mask_value))
        bins = self._bins_from_hash(u.hash_tensor(inputs, self._key), is_mask)
        return u.encode_categorical(bins, self.output_mode, self.num_bins, self._out_dtype())

    def compute_output_spec(self, inputs):
        u.check_encoding_rank(self, inputs.shape, self.output_mode)
        return backend.KerasTensor(self.compute_output_shape(inputs.shape), self._out_dtype())

    def compute_output_shape(self, input_shape):
        return u.encoded_shape(input_shape, self.output_mode, self.num_bins)

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "mask_value": self.mask_value,
                "salt": self.salt, "output_mode": self.output_mode, "sparse": self.sparse}
