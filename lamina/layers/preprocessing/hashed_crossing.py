"""``HashedCrossing``: cross categorical features with the hashing trick, bin for bin as Keras (TensorFlow)."""

import numpy as np

from lamina import backend, ops
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import _farmhash
from lamina.layers.preprocessing import _utils as u

_CAT_MUL = np.uint64(_farmhash._CAT_MUL)


def _shift_mix(v):
    return v ^ (v >> np.uint64(47))


def _cat64(fp1, fp2):
    # _farmhash.fingerprint_cat64 on uint64 arrays (NumPy's uint64 arithmetic wraps modulo 2**64).
    with np.errstate(over="ignore"):
        result = fp1 ^ _CAT_MUL
        result ^= _shift_mix(fp2 * _CAT_MUL) * _CAT_MUL
        result = result * _CAT_MUL
        result = _shift_mix(result) * _CAT_MUL
        return _shift_mix(result)


def _signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _tensor_shift_mix(v):
    return ops.bitwise_xor(v, u._rshift_logical(v, 47))


def _tensor_cat64(fp1, fp2, mul):
    # _cat64 on int64 tensors: the engines' int64 products wrap modulo 2**64, as uint64 arithmetic does.
    result = ops.bitwise_xor(fp1, mul)
    result = ops.bitwise_xor(result, ops.multiply(_tensor_shift_mix(ops.multiply(fp2, mul)), mul))
    result = ops.multiply(result, mul)
    result = ops.multiply(_tensor_shift_mix(result), mul)
    return _tensor_shift_mix(result)


class HashedCrossing(Layer):
    """Cross categorical features with the "hashing trick": ``hash(concatenate(features)) % num_bins``.

    The bins are those of Keras's ``HashedCrossing`` (TensorFlow's ``tf.sparse.cross_hashed``): a string
    feature is hashed with FarmHash ``Fingerprint64`` of its UTF-8 bytes, an integer feature is its own
    value, and the features are folded together with TensorFlow's ``FingerprintCat64``. Arrays, lists and
    string features are crossed on the host with NumPy; integer tensors (symbolic ones in a model included)
    with tensor ops, giving the same bins, so a compiled (jit-traced) model can cross integer features.

    Args:
        num_bins: positive int, the number of hash bins.
        output_mode: ``"int"`` (bin ids, int64) or ``"one_hot"`` (float vectors of ``num_bins``).
        sparse: must be False (sparse outputs need TensorFlow).
        name, dtype: as for every layer (``dtype`` defaults to int64 in ``"int"`` mode).

    Call arguments:
        inputs: a tuple or list of at least two features of the same shape ``()``, ``(batch,)`` or
            ``(batch, 1)``: integer or string arrays, lists or tensors.

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.HashedCrossing(num_bins=5)
    >>> feat1 = np.array(["A", "B", "A", "B", "A"])
    >>> feat2 = np.array([101, 101, 101, 102, 102])
    >>> lamina.ops.convert_to_numpy(layer((feat1, feat2))).tolist()
    [1, 4, 1, 1, 3]
    """

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None, **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        kwargs.pop("autocast", None)
        super().__init__(name=name, dtype=dtype, autocast=False, **kwargs)
        self.num_bins = u.check_positive_int(self, "num_bins", num_bins)
        self.output_mode = u.check_choice(self, "output_mode", output_mode, ("int", "one_hot"))
        u.check_not_sparse(self, sparse)
        self.sparse = sparse

    def _check_inputs_structure(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{u.who(self)} should be called on a list or tuple of at least two features, but "
                             f"received inputs of type {type(inputs).__name__}.")
        if len(inputs) < 2:
            raise ValueError(f"{u.who(self)} should be called on at least two features, but received "
                             f"{len(inputs)}.")

    def _check_shapes(self, shapes):
        first = tuple(shapes[0])
        if len(first) > 2 or (len(first) == 2 and first[-1] != 1):
            raise ValueError(f"{u.who(self)}: every feature must have shape (), (batch_size,) or "
                             f"(batch_size, 1), but received a feature of shape {first}.")
        for i, s in enumerate(shapes[1:], 1):
            if tuple(s) != first:
                raise ValueError(f"{u.who(self)}: every feature must have the same shape, but feature 0 has "
                                 f"shape {first} and feature {i} has shape {tuple(s)}.")

    def __call__(self, inputs, *args, **kwargs):
        self._check_inputs_structure(inputs)
        if any(u.is_symbolic(x) for x in inputs):
            for i, x in enumerate(inputs):
                if u.is_symbolic(x) and not backend.is_int_dtype(x.dtype):
                    raise ValueError(f"{u.who(self)}: every feature must be an integer or string, but feature {i} "
                                     f"is a symbolic tensor of dtype {x.dtype}.")
            return super().__call__(list(inputs), *args, **kwargs)
        self.built = True
        return self.call(list(inputs))

    def call(self, inputs):
        if all(backend.is_tensor(x) and backend.is_int_dtype(backend.dtype_name(x)) for x in inputs):
            return self._cross_tensors(inputs)
        return self._cross(inputs)

    def _cross_tensors(self, inputs):
        """``_cross`` for integer tensors, with lamina.ops (works inside compiled steps)."""
        self._check_shapes([tuple(x.shape) for x in inputs])
        mul = ops.convert_to_tensor(_signed64(_farmhash._CAT_MUL), "int64")
        hashed = ops.full(ops.shape(inputs[0]), _farmhash.CROSS_HASH_KEY, dtype="int64")
        for x in inputs:
            hashed = _tensor_cat64(hashed, ops.cast(x, "int64"), mul)
        # The unsigned remainder of the 64 bits: (2 * (h >>> 1) + (h & 1)) mod n, without overflow.
        n = self.num_bins
        bins = ops.mod(ops.mod(u._rshift_logical(hashed, 1), n) * 2 + ops.bitwise_and(hashed, 1), n)
        return self._encode_bins(bins, tuple(inputs[0].shape))

    def _host_array(self, i, x):
        if u.is_string_data(x):
            return u.as_string_array(x)
        try:
            arr = np.asarray(u.to_numpy(x))
        except Exception as e:  # a traced value (a jit-compiled model) cannot be brought to the host
            raise ValueError(f"{u.who(self)} runs on the host with NumPy and cannot run inside a compiled "
                             f"(traced) computation; apply it in the input pipeline instead "
                             f"(feature {i}: {type(x).__name__}).") from e
        if arr.dtype.kind not in "iub":
            raise ValueError(f"{u.who(self)}: every feature must be an integer or string, but feature {i} has "
                             f"dtype {arr.dtype}.")
        return arr

    def _cross(self, inputs):
        arrays = [self._host_array(i, x) for i, x in enumerate(inputs)]
        shape = arrays[0].shape
        self._check_shapes([a.shape for a in arrays])
        hashed = np.full(shape, _farmhash.CROSS_HASH_KEY, dtype=np.uint64)
        for arr in arrays:
            if arr.dtype.kind in "US":
                uniq, inverse = np.unique(arr, return_inverse=True)
                table = np.array([_farmhash.feature_hash(str(v)) for v in uniq.reshape(-1)], dtype=np.uint64)
                feature = table[inverse.reshape(-1)].reshape(shape)
            else:
                feature = arr.astype(np.int64).view(np.uint64)
            hashed = _cat64(hashed, feature)
        bins = (hashed % np.uint64(self.num_bins)).astype(np.int64)
        return self._encode_bins(ops.convert_to_tensor(bins, "int64"), shape)

    def _encode_bins(self, bins, shape):
        if self.output_mode == "int":
            return ops.cast(bins, self.dtype)
        out_shape = u.encoded_shape(shape, "one_hot", self.num_bins)
        return ops.one_hot(ops.reshape(bins, out_shape[:-1]), self.num_bins, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 2 or \
                not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(f"{u.who(self)} expected the shapes of a list of at least two features, but "
                             f"received input_shape={input_shape!r}.")
        self._check_shapes(input_shape)
        return u.encoded_shape(tuple(input_shape[0]), self.output_mode, self.num_bins)

    def compute_output_spec(self, inputs):
        dtype = self.dtype if self.output_mode == "int" else self.compute_dtype
        return backend.KerasTensor(self.compute_output_shape([tuple(x.shape) for x in inputs]), dtype)

    def get_config(self):
        return {"num_bins": self.num_bins, "output_mode": self.output_mode, "sparse": self.sparse,
                "name": self.name, "dtype": self.dtype}
