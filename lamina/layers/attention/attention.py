"""``Attention`` (Luong, dot-product) and ``AdditiveAttention`` (Bahdanau) over ``[query, value(, key)]``."""

from lamina import ops
from lamina import random as lrandom
from lamina.layers.attention import _core
from lamina.layers.core.simple import _next_seed
from lamina.layers.layer import Layer, _shapes_to_keras_tensors

_SCORE_MODES = ("dot", "concat")


class Attention(Layer):
    """Dot-product attention layer, a.k.a. Luong-style attention.

    Scores are ``query @ key^T`` (``score_mode="dot"``) or ``sum(tanh(query + key))``
    (``score_mode="concat"``), optionally scaled by a learned scalar; the output is
    ``softmax(scores) @ value``.

    Args:
        use_scale: learn a scalar ``scale`` multiplying the scores.
        score_mode: ``"dot"`` or ``"concat"`` (the latter learns ``concat_score_weight``).
        dropout: dropout rate on the attention weights (in training).
        seed: seed for the dropout.

    Call arguments:
        inputs: ``[query (B, Tq, dim), value (B, Tv, dim)]`` or ``[query, value, key (B, Tv, dim)]``
            (key defaults to value).
        mask: ``[query_mask (B, Tq), value_mask (B, Tv)]``: padded values get no attention and padded
            query positions give zero outputs.
        training, return_attention_scores, use_causal_mask (position i sees values j <= i).

    Example:
    >>> import lamina
    >>> q, v = lamina.ops.ones((2, 3, 4)), lamina.ops.ones((2, 5, 4))
    >>> out, scores = lamina.layers.Attention()([q, v], return_attention_scores=True)
    >>> lamina.ops.shape(out), lamina.ops.shape(scores)
    ((2, 3, 4), (2, 3, 5))
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in _SCORE_MODES:
            raise ValueError(f"{self._who()} expected score_mode to be one of {list(_SCORE_MODES)}, but received "
                             f"score_mode={score_mode!r}.")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = _core.check_dropout(self._who(), dropout)
        self.seed = seed
        self.seed_generator = lrandom.SeedGenerator(seed if seed is not None else _next_seed())
        self.supports_masking = True
        self.scale = None
        self.concat_score_weight = None

    def _who(self):
        return f"Layer '{self.name}' ({type(self).__name__})"

    def _validate(self, inputs, mask=None):
        who = self._who()
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3) or not all(
                isinstance(x, (list, tuple)) or hasattr(x, "shape") for x in inputs):
            raise ValueError(f"{who} must be called on a list [query, value] or [query, value, key], but "
                             f"received inputs={inputs!r:.200}.")
        shapes = [tuple(x) if isinstance(x, (list, tuple)) else tuple(x.shape) for x in inputs]
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) == 3 else v
        for name, s in (("query", q), ("value", v), ("key", k)):
            if len(s) != 3:
                raise ValueError(f"{who} expected `{name}` of shape (batch, seq, dim), but received shape {s}.")
        if any(s[0] is not None and q[0] is not None and s[0] != q[0] for s in (v, k)):
            raise ValueError(f"{who} expected query, value and key with the same batch size, but received shapes "
                             f"query {q}, value {v}, key {k}.")
        if k[1] is not None and v[1] is not None and k[1] != v[1]:
            raise ValueError(f"{who} expected key and value of the same length, but received key {k} and value {v}.")
        if q[-1] is not None and k[-1] is not None and q[-1] != k[-1]:
            raise ValueError(f"{who} expected query and key with the same last dimension, but received query {q} "
                             f"and key {k}.")
        if mask is not None and (not isinstance(mask, (list, tuple)) or len(mask) not in (2, 3)):
            raise ValueError(f"{who} expected mask to be a list [query_mask, value_mask], but received "
                             f"mask={mask!r:.200}.")
        return q, v, k

    def build(self, input_shape):
        self._validate(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(), initializer="ones")
        self.built = True

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.swapaxes(key, -1, -2))
            return scores if self.scale is None else ops.multiply(scores, self.scale.value)
        total = ops.add(ops.expand_dims(query, -2), ops.expand_dims(key, -3))
        if self.scale is not None:
            total = ops.multiply(self.scale.value, total)
        return ops.multiply(self.concat_score_weight.value, ops.sum(ops.tanh(total), axis=-1))

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        self._validate(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        q_mask = mask[0] if mask is not None else None
        v_mask = mask[1] if mask is not None else None
        scores = self._calculate_scores(query, key)
        scores_mask = None if v_mask is None else ops.expand_dims(ops.cast(v_mask, "bool"), -2)
        if use_causal_mask:
            t, s = ops.shape(scores)[-2], ops.shape(scores)[-1]
            causal = ops.expand_dims(ops.greater_equal(ops.expand_dims(ops.arange(t), 1),
                                                       ops.expand_dims(ops.arange(s), 0)), 0)
            scores_mask = causal if scores_mask is None else ops.logical_and(scores_mask, causal)
        if scores_mask is not None:
            big = 65504.0 if ops.dtype(scores) == "float16" else 1e9
            scores = ops.subtract(scores, ops.multiply(big, ops.cast(ops.logical_not(scores_mask), ops.dtype(scores))))
        weights = ops.softmax(scores, axis=-1)
        dropped = weights
        if training and self.dropout > 0:
            dropped = lrandom.dropout(weights, self.dropout, seed=self.seed_generator)
        result = ops.matmul(dropped, value)
        if q_mask is not None:
            result = ops.multiply(result, ops.expand_dims(ops.cast(q_mask, ops.dtype(result)), -1))
        return (result, weights) if return_attention_scores else result

    def compute_mask(self, inputs, previous_mask=None):
        if previous_mask is None:
            return None
        if isinstance(previous_mask, (list, tuple)):
            return None if previous_mask[0] is None else ops.convert_to_tensor(previous_mask[0])
        return previous_mask

    def compute_output_shape(self, input_shape):
        q, v, _ = self._validate(input_shape)
        return tuple(q[:-1]) + (v[-1],)

    def compute_output_spec(self, inputs, mask=None, training=None, return_attention_scores=False,
                            use_causal_mask=False):
        q, v, k = self._validate(inputs, mask)
        out = tuple(q[:-1]) + (v[-1],)
        if return_attention_scores:
            return _shapes_to_keras_tensors((out, (q[0], q[1], k[1])), self.compute_dtype)
        return _shapes_to_keras_tensors(out, self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive attention layer, a.k.a. Bahdanau-style attention.

    Scores are ``sum(scale * tanh(query + key), axis=-1)`` with a learned vector ``scale``
    of shape ``(dim,)`` (``use_scale=True``, the default); the rest is as ``Attention``.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.AdditiveAttention()
    >>> q, v = lamina.ops.ones((2, 3, 4)), lamina.ops.ones((2, 5, 4))
    >>> lamina.ops.shape(layer([q, v]))
    (2, 3, 4)
    >>> [w.shape for w in layer.weights]
    [(4,)]
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        q, _, _ = self._validate(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(q[-1],), initializer="glorot_uniform")
        self.built = True

    def _calculate_scores(self, query, key):
        total = ops.tanh(ops.add(ops.expand_dims(query, -2), ops.expand_dims(key, -3)))
        if self.scale is not None:
            total = ops.multiply(self.scale.value, total)
        return ops.sum(total, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.pop("score_mode")
        return config
