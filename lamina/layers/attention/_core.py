"""Pieces shared by MultiHeadAttention and GroupedQueryAttention: masks, the attention itself, checks."""

import numbers

from lamina import ops


def check_positive_int(who, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{who} expected `{name}` to be a positive integer, but received "
                         f"{name}={value!r} (type {type(value).__name__}).")
    return int(value)


def check_dropout(who, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{who} expected `dropout` to be a float in [0, 1), but received dropout={value!r}.")
    return float(value)


def check_sliding_window(who, value):
    """None (full attention) or a positive int: the band half-width plus one."""
    return None if value is None else check_positive_int(who, "sliding_window", value)


def sliding_window_mask(t, s, window):
    """Boolean ``(T, S)`` band, True where ``|query position - key position| < window``."""
    rows = ops.expand_dims(ops.arange(t, dtype="int32"), 1)
    cols = ops.expand_dims(ops.arange(s, dtype="int32"), 0)
    return ops.less(ops.abs(ops.subtract(rows, cols)), window)


def clone_initializer(initializer):
    """A fresh copy, so sub-layers seeded alike do not start with identical weights."""
    return initializer.clone() if hasattr(initializer, "clone") else initializer


def check_batch_and_features(who, query, value, key):
    """Raise a clear error for mismatched batch sizes or key/value lengths (known dims only)."""
    qs, vs, ks = tuple(query.shape), tuple(value.shape), tuple(key.shape)
    for name, shape in (("query", qs), ("value", vs), ("key", ks)):
        if len(shape) < 3:
            raise ValueError(f"{who} expected `{name}` of rank >= 3 (batch, ..., features), but received "
                             f"shape {shape}.")
    for name, shape in (("value", vs), ("key", ks)):
        if qs[0] is not None and shape[0] is not None and qs[0] != shape[0]:
            raise ValueError(f"{who} expected `query` and `{name}` to have the same batch size, but received "
                             f"query shape {qs} and {name} shape {shape}.")
    if len(vs) != len(ks) or any(a is not None and b is not None and a != b for a, b in zip(vs[:-1], ks[:-1])):
        raise ValueError(f"{who} expected `key` and `value` to have the same shape except the last axis, but "
                         f"received key shape {ks} and value shape {vs}.")


def _large_negative(dtype):
    return -3e4 if dtype in ("float16", "bfloat16") else -1e9


def merge_masks(who, query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask,
                sliding_window=None, window_lengths=None):
    """Keras's attention mask ``(batch, T, S)`` (True = attend) from the optional masks, or None.

    ``sliding_window`` adds the symmetric band mask over ``window_lengths`` = ``(T, S)``: a ``(T, S)``
    tensor that broadcasts against the others from the right (default: ``(1, T, S)`` over axis 1 of query
    and value).
    """
    auto = None
    if any(m is not None for m in (query_mask, value_mask, key_mask)) or use_causal_mask:
        if len(query.shape) != 3 or len(value.shape) != 3:
            raise ValueError(
                f"{who}: query/value/key masks and use_causal_mask need 3D inputs (batch, seq, features), but "
                f"received query shape {tuple(query.shape)} and value shape {tuple(value.shape)}. Hint: pass "
                "an explicit `attention_mask` instead.")
    if query_mask is not None:
        auto = ops.expand_dims(ops.cast(query_mask, "bool"), -1)
    for m in (value_mask, key_mask):
        if m is not None:
            m = ops.expand_dims(ops.cast(m, "bool"), -2)
            auto = m if auto is None else ops.logical_and(auto, m)
    if use_causal_mask:
        t, s = ops.shape(query)[1], ops.shape(value)[1]
        causal = ops.expand_dims(ops.greater_equal(ops.expand_dims(ops.arange(t), 1),
                                                   ops.expand_dims(ops.arange(s), 0)), 0)
        auto = causal if auto is None else ops.logical_and(auto, causal)
    if sliding_window is not None:
        t, s = window_lengths if window_lengths is not None else (ops.shape(query)[1], ops.shape(value)[1])
        band = sliding_window_mask(t, s, sliding_window)
        if window_lengths is None:
            band = ops.expand_dims(band, 0)
        auto = band if auto is None else ops.logical_and(auto, band)
    if attention_mask is not None:
        attention_mask = ops.cast(attention_mask, "bool")
        auto = attention_mask if auto is None else ops.logical_and(attention_mask, auto)
    return auto


def attend(who, q, k, v, mask, scale, dropout_layer, dropout, training, return_scores, flash_attention):
    """Attention on projected heads: q ``(B, T, N, H)``, k ``(B, S, K, H)``, v ``(B, S, K, Hv)``.

    ``mask`` broadcasts to ``(B, T, S)``. Returns ``(output (B, T, N, Hv), scores (B, N, T, S) or None)``.
    The fused engine kernel runs whenever no scores are asked for and dropout is inactive.
    """
    if mask is not None:
        mask = ops.expand_dims(mask, -3)
    if not return_scores and (dropout == 0 or not training):
        out = ops.dot_product_attention(q, k, v, mask=mask, scale=scale, flash_attention=flash_attention)
        if mask is not None:  # a query that may attend to nothing gets 0, as Keras's masked softmax gives it
            # (..., 1, T, 1) -> (..., T, 1, 1): broadcasts against out (B, T, N, H) whatever the mask's rank
            out = ops.where(ops.swapaxes(ops.any(mask, axis=-1, keepdims=True), -3, -2), out, 0.0)
        return out, None
    if flash_attention:
        raise ValueError(f"{who} was created with flash_attention=True, which cannot return attention scores or "
                         "apply dropout to them. Hint: pass flash_attention=None, or call with "
                         "return_attention_scores=False and dropout inactive.")
    group = q.shape[2] // k.shape[2]
    if group > 1:
        k, v = ops.repeat(k, group, axis=2), ops.repeat(v, group, axis=2)
    scores = ops.einsum("btnh,bsnh->bnts", ops.multiply(q, scale), k)
    if mask is not None:
        scores = ops.where(mask, scores, _large_negative(ops.dtype(scores)))
    scores = ops.softmax(scores, axis=-1)
    if mask is not None:  # as Keras's masked softmax: 0 where masked (a fully masked row is all 0)
        scores = ops.where(mask, scores, 0.0)
    probs = dropout_layer(scores, training=training) if dropout > 0 else scores
    return ops.einsum("bnts,bsnh->btnh", probs, v), scores


def masks_from_graph(mask, key, attention_mask):
    """Map the ``mask=`` list a Functional model passes (one per input tensor) to query/value/key masks."""
    if not isinstance(mask, (list, tuple)):
        return mask, None, None
    mask = list(mask) + [None] * 3
    key_mask = mask[2] if key is not None and attention_mask is None else None
    return mask[0], mask[1], key_mask
