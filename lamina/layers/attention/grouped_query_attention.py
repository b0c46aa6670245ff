"""``GroupedQueryAttention``: fewer key/value heads than query heads, each shared by a group of queries."""

import math

from lamina import config, constraints, initializers, ops, regularizers
from lamina.layers.attention import _core
from lamina.layers.attention.multi_head_attention import _CallWithAllInputs
from lamina.layers.core.einsum_dense import EinsumDense
from lamina.layers.core.simple import Dropout
from lamina.layers.layer import Layer, _shapes_to_keras_tensors
from lamina.quantizers import layer_support as quant


class GroupedQueryAttention(_CallWithAllInputs, Layer):
    """Grouped-query attention (Ainslie et al., 2023), as ``keras.layers.GroupedQueryAttention``.

    Query head ``n`` reads key/value head ``n // (num_query_heads // num_key_value_heads)``;
    with ``num_key_value_heads == 1`` this is multi-query attention.

    Args:
        head_dim: size of each attention head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key and value heads (must divide ``num_query_heads``).
        dropout, use_bias, sliding_window, flash_attention, kernel_initializer, bias_initializer,
        kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, seed:
            as ``MultiHeadAttention``.
        use_gate: add a sub-layer ``gate`` (kernel ``(dim, num_query_heads, head_dim)``, a sigmoid) whose
            output, computed from the query, multiplies each query head's attention output before the
            output projection; it is created after ``key`` (Keras's weight order).

    Call arguments: as ``MultiHeadAttention`` (3D inputs ``(batch, seq, features)``); the returned
    scores are ``(batch, num_query_heads, T, S)``.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.GroupedQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
    >>> x = lamina.ops.ones((2, 5, 8))
    >>> lamina.ops.shape(layer(x, x))
    (2, 5, 8)
    >>> [w.shape for w in layer.weights][::2]
    [(8, 4, 4), (8, 2, 4), (8, 2, 4), (4, 4, 8)]
    """

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0, use_bias=True,
                 sliding_window=None, flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        who = self._who()
        self.supports_masking = True
        self.head_dim = _core.check_positive_int(who, "head_dim", head_dim)
        self.num_query_heads = _core.check_positive_int(who, "num_query_heads", num_query_heads)
        self.num_key_value_heads = _core.check_positive_int(who, "num_key_value_heads", num_key_value_heads)
        if self.num_query_heads % self.num_key_value_heads:
            raise ValueError(f"{who}: num_query_heads must be divisible by num_key_value_heads, but received "
                             f"num_query_heads={num_query_heads} and num_key_value_heads={num_key_value_heads}.")
        self.num_repeats = self.num_query_heads // self.num_key_value_heads
        self.dropout = _core.check_dropout(who, dropout)
        self.use_bias = bool(use_bias)
        self.use_gate = bool(use_gate)
        self.sliding_window = _core.check_sliding_window(who, sliding_window)
        if flash_attention not in (None, True, False):
            raise ValueError(f"{who} expected flash_attention to be None, True or False, but received "
                             f"flash_attention={flash_attention!r}.")
        # None: the global choice (lamina.config.disable_flash_attention; by default None, the engine picks)
        self._flash_attention = flash_attention if flash_attention is not None else \
            config.is_flash_attention_enabled()
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(self.head_dim))
        self._dropout_layer = Dropout(rate=self.dropout, seed=seed, dtype=self.dtype)
        self._query_dense = self._key_dense = self._value_dense = self._output_dense = None
        self._gate_dense = None

    def _who(self):
        return f"Layer '{self.name}' (GroupedQueryAttention)"

    def _dense(self, equation, output_shape, bias_axes, name, activation=None):
        return EinsumDense(
            equation, output_shape=output_shape, bias_axes=bias_axes if self.use_bias else None, name=name,
            activation=activation,
            kernel_initializer=_core.clone_initializer(self.kernel_initializer),
            bias_initializer=_core.clone_initializer(self.bias_initializer),
            kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
            kernel_constraint=self.kernel_constraint, bias_constraint=self.bias_constraint,
            dtype=quant.sublayer_dtype(self))

    def build(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3 or shape[-1] is None:
                raise ValueError(f"{self._who()} expected `{name}` of shape (batch, seq, features) with known "
                                 f"features, but received shape {shape}.")
        hq, hkv, d = self.num_query_heads, self.num_key_value_heads, self.head_dim
        self._query_dense = self._dense("bqm,muh->bquh", (None, hq, d), "uh", "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._dense("bkm,mvh->bkvh", (None, hkv, d), "vh", "key")
        self._key_dense.build(key_shape)
        if self.use_gate:  # built between key and value, as Keras does (the order of layer.weights)
            self._gate_dense = self._dense("bqm,muh->bquh", (None, hq, d), "uh", "gate", activation="sigmoid")
            self._gate_dense.build(query_shape)
        self._value_dense = self._dense("bkm,mvh->bkvh", (None, hkv, d), "vh", "value")
        self._value_dense.build(value_shape)
        self._output_dense = self._dense("bquh,uhm->bqm", (None, query_shape[-1]), "m", "attention_output")
        self._output_dense.build(query_shape[:2] + (hq, d))
        self._build_shapes = {"query_shape": list(query_shape), "value_shape": list(value_shape),
                              "key_shape": list(key_shape)}
        self.built = True

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False, mask=None):
        if mask is not None and query_mask is None and value_mask is None and key_mask is None:
            query_mask, value_mask, key_mask = _core.masks_from_graph(mask, key, attention_mask)
        if key is None:
            key = value
        mask = _core.merge_masks(self._who(), query, value, query_mask, value_mask, key_mask, attention_mask,
                                 use_causal_mask, self.sliding_window)
        gate = self._gate_dense(query) if self.use_gate else None
        q = self._query_dense(query)
        k = self._key_dense(key)
        v = self._value_dense(value)
        out, scores = _core.attend(self._who(), q, k, v, mask, self._inverse_sqrt_head_dim, self._dropout_layer,
                                   self.dropout, training, return_attention_scores, self._flash_attention)
        if gate is not None:
            out = ops.multiply(out, gate)
        out = self._output_dense(out)
        return (out, scores) if return_attention_scores else out

    def compute_mask(self, inputs, previous_mask=None):
        if isinstance(previous_mask, (list, tuple)):
            return previous_mask[0] if previous_mask else None
        return previous_mask

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return tuple(query_shape)

    def compute_output_spec(self, query, value, key=None, return_attention_scores=False, **kwargs):
        key = value if key is None else key
        out = tuple(query.shape)
        if return_attention_scores:
            scores = (out[0], self.num_query_heads, out[1], key.shape[1])
            return _shapes_to_keras_tensors((out, scores), self.compute_dtype)
        return _shapes_to_keras_tensors(out, self.compute_dtype)

    def get_config(self):
        return {
            **super().get_config(),
            # a DTypePolicyMap when sublayers were quantized (model.quantize), so loading rebuilds them quantized
            "dtype": quant.composite_dtype_entry(
                self, [self._query_dense, self._key_dense, self._gate_dense, self._value_dense,
                       self._output_dense]),
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "sliding_window": self.sliding_window,
            "dropout": self.dropout,
            "flash_attention": self._flash_attention,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "seed": self.seed,
        }
