"""``MultiHeadAttention``: project to heads, attend (fused kernel when possible), project back."""

import math

from lamina import config, constraints, initializers, ops, regularizers
from lamina.backend.common.keras_tensor import is_keras_tensor
from lamina.backend.common.masking import get_keras_mask
from lamina.layers.attention import _core
from lamina.layers.core.einsum_dense import EinsumDense
from lamina.layers.core.simple import Dropout
from lamina.layers.layer import Layer, _shapes_to_keras_tensors
from lamina.quantizers import layer_support as quant

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def projection_equation(free, bound, out):
    """Einsum ``free+bound , bound+out -> free+out`` and the output letters (the bias axes)."""
    f, b, o = _LETTERS[:free], _LETTERS[free:free + bound], _LETTERS[free + bound:free + bound + out]
    return f"{f}{b},{b}{o}->{f}{o}", o


class _CallWithAllInputs:
    """Mixin: build from query/value/key shapes before ``Layer.__call__`` (which sees only the first)."""

    def __call__(self, *args, **kwargs):
        args = list(args)
        found = []
        for i, name in enumerate(("query", "value", "key")):
            if i < len(args):
                args[i] = self._convert_input(args[i])
                found.append(args[i])
            elif kwargs.get(name) is not None:
                kwargs[name] = self._convert_input(kwargs[name])
                found.append(kwargs[name])
            else:
                found.append(None)
        query, value, key = found
        who = self._who()
        for name, t in (("query", query), ("value", value)):
            if t is None or not hasattr(t, "shape"):
                raise ValueError(f"{who} expected a `{name}` tensor, but received {name}={t!r}. Call it as "
                                 "layer(query, value) or layer(query, value, key).")
        if not any(k in kwargs for k in ("query_mask", "value_mask", "key_mask", "mask")):
            # as Keras: masks the inputs carry (Embedding(mask_zero=True), Masking) become query/value/key masks
            carried = [get_keras_mask(t) if t is not None and not is_keras_tensor(t) else None
                       for t in (query, value, key)]
            for name, m in zip(("query_mask", "value_mask", "key_mask"), carried):
                if m is not None:
                    kwargs[name] = m
        key = value if key is None else key
        _core.check_batch_and_features(who, query, value, key)
        if not self.built:
            self.build(tuple(query.shape), tuple(value.shape), tuple(key.shape))
            self.built = True
        else:
            for name, t, dim in (("query", query, self._build_shapes["query_shape"][-1]),
                                 ("value", value, self._build_shapes["value_shape"][-1]),
                                 ("key", key, self._build_shapes["key_shape"][-1])):
                if t.shape[-1] is not None and t.shape[-1] != dim:
                    raise ValueError(f"{who} was built for `{name}` with last dimension {dim}, but received "
                                     f"{name} shape {tuple(t.shape)}.")
        return super().__call__(*args, **kwargs)

    def get_build_config(self):
        # Keras 3's layout for a layer built from several shapes: {"shapes_dict": {"query_shape": ...}}
        return None if self._build_shapes is None else {"shapes_dict": dict(self._build_shapes)}

    def build_from_config(self, config):
        if config and not self.built:
            if "input_shape" in config:
                config = {"query_shape": config["input_shape"], "value_shape": config["input_shape"]}
            elif isinstance(config.get("shapes_dict"), dict):
                config = config["shapes_dict"]  # (earlier lamina files hold the shapes without "shapes_dict")
            self.build(**config)
            self.built = True


class MultiHeadAttention(_CallWithAllInputs, Layer):
    """Multi-head attention (Vaswani et al., 2017), as ``keras.layers.MultiHeadAttention``.

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default: ``key_dim``).
        dropout: dropout rate on the attention probabilities.
        use_bias: whether the projections have biases.
        output_shape: the size(s) of the output's last axes (default: the query's last dimension).
        attention_axes: axes of the input attention runs over (default: all but batch and features).
        sliding_window: None (full attention) or a positive int ``w``: each query position attends only
            to key positions less than ``w`` away along the attention axis (a symmetric band, combined
            with every other mask; with ``use_causal_mask=True`` it is the causal sliding window).
            Needs a single attention axis.
        flash_attention: None (engine's choice), True (demand a flash kernel) or False.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: for the projections.
        use_gate: add a sub-layer ``gate`` (a projection of the query to ``(num_heads, value_dim)``
            with a sigmoid) whose output multiplies each head's attention output before the output
            projection (gated attention, Qiu et al., 2025).
        seed: seed for the dropout.

    Call arguments:
        query ``(B, T, dim)``, value ``(B, S, dim)``, key ``(B, S, dim)`` (default: value),
        attention_mask (boolean ``(B, T, S)``, True = attend), return_attention_scores,
        training, use_causal_mask, query_mask/value_mask/key_mask (``(B, T)``/``(B, S)``; in a
        Functional model they come from Keras masking).

    Weights: sub-layers ``query`` (kernel ``(dim, num_heads, key_dim)``, bias ``(num_heads, key_dim)``),
    ``key``, ``value`` and ``attention_output`` (kernel ``(num_heads, value_dim, out)``, bias ``(out,)``);
    with ``use_gate``, also ``gate`` (kernel ``(dim, num_heads, value_dim)``, bias ``(num_heads, value_dim)``),
    created after ``key`` (Keras's weight order: query, key, gate, value, attention_output).

    Example:
    >>> import lamina
    >>> layer = lamina.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = lamina.ops.ones((3, 5, 8))
    >>> out, scores = layer(x, x, return_attention_scores=True)
    >>> lamina.ops.shape(out), lamina.ops.shape(scores)
    ((3, 5, 8), (3, 2, 5, 5))
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, sliding_window=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        who = self._who()
        self.supports_masking = True
        self._num_heads = _core.check_positive_int(who, "num_heads", num_heads)
        self._key_dim = _core.check_positive_int(who, "key_dim", key_dim)
        self._value_dim = self._key_dim if value_dim is None else _core.check_positive_int(who, "value_dim",
                                                                                             value_dim)
        self._dropout = _core.check_dropout(who, dropout)
        self._use_bias = bool(use_bias)
        if output_shape is not None:
            dims = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
            for d in dims:
                _core.check_positive_int(who, "output_shape", d)
            output_shape = output_shape if isinstance(output_shape, int) else dims
        self._output_shape = output_shape
        if attention_axes is not None:
            axes = (attention_axes,) if isinstance(attention_axes, int) else tuple(attention_axes)
            if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
                raise ValueError(f"{who} expected `attention_axes` to be None, an int or a tuple of ints, but "
                                 f"received attention_axes={attention_axes!r}.")
            attention_axes = axes
        self._attention_axes = attention_axes
        self._sliding_window = _core.check_sliding_window(who, sliding_window)
        self._use_gate = bool(use_gate)
        if flash_attention not in (None, True, False):
            raise ValueError(f"{who} expected flash_attention to be None, True or False, but received "
                             f"flash_attention={flash_attention!r}.")
        # None: the global choice (lamina.config.disable_flash_attention; by default None, the engine picks)
        self._flash_attention = flash_attention if flash_attention is not None else \
            config.is_flash_attention_enabled()
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        self._dropout_layer = Dropout(rate=self._dropout, seed=seed, dtype=self.dtype)
        self._query_dense = self._key_dense = self._value_dense = self._output_dense = None
        self._gate_dense = None  # (no public property: Keras saves it under "_gate_dense")
        self._attn_axes = None

    def _who(self):
        return f"Layer '{self.name}' ({type(self).__name__})"

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    output_shape = property(lambda self: self._output_shape)
    attention_axes = property(lambda self: self._attention_axes)
    sliding_window = property(lambda self: self._sliding_window)
    use_gate = property(lambda self: self._use_gate)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    def _dense(self, equation, output_shape, bias_axes, name, activation=None):
        return EinsumDense(
            equation, output_shape=output_shape, bias_axes=bias_axes if self._use_bias else None, name=name,
            activation=activation,
            kernel_initializer=_core.clone_initializer(self._kernel_initializer),
            bias_initializer=_core.clone_initializer(self._bias_initializer),
            kernel_regularizer=self._kernel_regularizer, bias_regularizer=self._bias_regularizer,
            kernel_constraint=self._kernel_constraint, bias_constraint=self._bias_constraint,
            dtype=quant.sublayer_dtype(self))

    def _out_dims(self, query_shape):
        if self._output_shape is None:
            return (query_shape[-1],)
        return (self._output_shape,) if isinstance(self._output_shape, int) else tuple(self._output_shape)

    def build(self, query_shape, value_shape, key_shape=None):
        who = self._who()
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) < 3 or shape[-1] is None:
                raise ValueError(f"{who} needs `{name}` of rank >= 3 with a known last dimension, but received "
                                 f"shape {shape}.")
        rank = len(query_shape)
        axes = self._attention_axes or tuple(range(1, rank - 1))
        axes = tuple(a + rank if a < 0 else a for a in axes)
        if any(a < 1 or a > rank - 2 for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(f"{who}: attention_axes must be distinct axes between 1 and {rank - 2} (not the batch "
                             f"or feature axis) for inputs of rank {rank}, but received "
                             f"attention_axes={self._attention_axes!r}.")
        if len(key_shape) != rank or len(value_shape) != rank:
            raise ValueError(f"{who} expected query, key and value of the same rank, but received shapes "
                             f"{query_shape}, {key_shape} and {value_shape}.")
        self._attn_axes = tuple(sorted(axes))
        if self._sliding_window is not None and len(self._attn_axes) != 1:
            raise ValueError(f"{who}: sliding_window needs attention over a single axis, but the attention axes "
                             f"are {self._attn_axes} for inputs of rank {rank}. Hint: pass attention_axes=<one "
                             "axis> or sliding_window=None.")
        n = self._num_heads
        eq, bias = projection_equation(rank - 1, 1, 2)
        heads = [None] * (rank - 2)
        self._query_dense = self._dense(eq, heads + [n, self._key_dim], bias, "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._dense(eq, heads + [n, self._key_dim], bias, "key")
        self._key_dense.build(key_shape)
        if self._use_gate:  # built between key and value, as Keras does (the order of layer.weights)
            self._gate_dense = self._dense(eq, heads + [n, self._value_dim], bias, "gate", activation="sigmoid")
            self._gate_dense.build(query_shape)
        self._value_dense = self._dense(eq, heads + [n, self._value_dim], bias, "value")
        self._value_dense.build(value_shape)
        out_dims = self._out_dims(query_shape)
        eq, bias = projection_equation(rank - 1, 2, len(out_dims))
        self._output_dense = self._dense(eq, heads + list(out_dims), bias, "attention_output")
        self._output_dense.build(query_shape[:-1] + (n, self._value_dim))
        self._build_shapes = {"query_shape": list(query_shape), "value_shape": list(value_shape),
                              "key_shape": list(key_shape)}
        self.built = True

    def _check_attention_mask(self, attention_mask, query, value):
        if attention_mask is None or len(query.shape) != 3:
            return
        want = (query.shape[0], query.shape[1], value.shape[1])
        got = tuple(attention_mask.shape)
        ok = len(got) <= 3 and all(g is None or w is None or g in (1, w) for g, w in zip(got[::-1], want[::-1]))
        if not ok:
            raise ValueError(f"{self._who()} expected attention_mask broadcastable to (batch, T, S) = {want}, but "
                             f"received shape {got}.")

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False, mask=None):
        if mask is not None and query_mask is None and value_mask is None and key_mask is None:
            query_mask, value_mask, key_mask = _core.masks_from_graph(mask, key, attention_mask)
        if key is None:
            key = value
        if attention_mask is not None:
            attention_mask = ops.convert_to_tensor(attention_mask)
        self._check_attention_mask(attention_mask, query, value)
        window_lengths = None
        if self._sliding_window is not None and len(query.shape) != 3:
            axis = self._attn_axes[0]
            window_lengths = (ops.shape(query)[axis], ops.shape(value)[axis])
        mask = _core.merge_masks(self._who(), query, value, query_mask, value_mask, key_mask, attention_mask,
                                 use_causal_mask, self._sliding_window, window_lengths)
        gate = self._gate_dense(query) if self._use_gate else None
        q = self._query_dense(query)
        k = self._key_dense(key)
        v = self._value_dense(value)
        out, scores = self._compute_attention(q, k, v, mask, training, return_attention_scores)
        if gate is not None:
            out = ops.multiply(out, gate)
        out = self._output_dense(out)
        return (out, scores) if return_attention_scores else out

    def _compute_attention(self, q, k, v, mask, training, return_scores):
        """Attention over ``self._attn_axes`` of the projected ``(B, ..., heads, dim)`` tensors."""
        def run(q, k, v, mask):
            return _core.attend(self._who(), q, k, v, mask, self._inverse_sqrt_key_dim, self._dropout_layer,
                                self._dropout, training, return_scores, self._flash_attention)

        rank = len(q.shape)
        if rank == 4 and self._attn_axes == (1,):  # (B, T, heads, dim): the layout the kernel takes
            return run(q, k, v, mask)
        batch_axes = [0] + [a for a in range(1, rank - 2) if a not in self._attn_axes]
        perm = batch_axes + list(self._attn_axes) + [rank - 2, rank - 1]
        qs, ks = ops.shape(q), ops.shape(k)
        bsz = tuple(qs[a] for a in batch_axes)
        tsz = tuple(qs[a] for a in self._attn_axes)
        ssz = tuple(ks[a] for a in self._attn_axes)

        def flat(x, seq):
            return ops.reshape(ops.transpose(x, perm), (-1, math.prod(seq)) + tuple(ops.shape(x)[-2:]))

        if mask is not None:
            mask = ops.reshape(ops.broadcast_to(mask, bsz + tsz + ssz), (-1, math.prod(tsz), math.prod(ssz)))
        out, scores = run(flat(q, tsz), flat(k, ssz), flat(v, ssz), mask)
        out = ops.reshape(out, bsz + tsz + (self._num_heads, self._value_dim))
        out = ops.transpose(out, [perm.index(i) for i in range(rank)])
        if scores is not None:
            scores = ops.reshape(scores, bsz + (self._num_heads,) + tsz + ssz)
        return out, scores

    def compute_mask(self, inputs, previous_mask=None):
        if isinstance(previous_mask, (list, tuple)):
            return previous_mask[0] if previous_mask else None
        return previous_mask

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"{self._who()}: all dimensions of `value` and `key` except the last must be equal, "
                             f"but received value shape {value_shape} and key shape {key_shape}.")
        return query_shape[:-1] + self._out_dims(query_shape)

    def _scores_shape(self, query_shape, key_shape):
        rank = len(query_shape) + 1
        axes = self._attn_axes
        batch = [query_shape[0]] + [query_shape[a] for a in range(1, rank - 2) if a not in axes]
        return tuple(batch) + (self._num_heads,) + tuple(query_shape[a] for a in axes) + \
            tuple(key_shape[a] for a in axes)

    def compute_output_spec(self, query, value, key=None, return_attention_scores=False, **kwargs):
        key = value if key is None else key
        out = self.compute_output_shape(query.shape, value.shape, key.shape)
        if return_attention_scores:
            return _shapes_to_keras_tensors((out, self._scores_shape(query.shape, key.shape)), self.compute_dtype)
        return _shapes_to_keras_tensors(out, self.compute_dtype)

    def get_config(self):
        return {
            **super().get_config(),
            # a DTypePolicyMap when sublayers were quantized (model.quantize), so loading rebuilds them quantized
            "dtype": quant.composite_dtype_entry(
                self, [self._query_dense, self._key_dense, self._gate_dense, self._value_dense,
                       self._output_dense]),
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "use_gate": self._use_gate,
            "output_shape": list(self._output_shape) if isinstance(self._output_shape, tuple) else
            self._output_shape,
            "attention_axes": list(self._attention_axes) if self._attention_axes is not None else None,
            "sliding_window": self._sliding_window,
            "flash_attention": self._flash_attention,
            "kernel_initializer": initializers.serialize(self._kernel_initializer),
            "bias_initializer": initializers.serialize(self._bias_initializer),
            "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self._bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            "kernel_constraint": constraints.serialize(self._kernel_constraint),
            "bias_constraint": constraints.serialize(self._bias_constraint),
            "seed": self.seed,
        }
