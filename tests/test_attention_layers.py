"""ops.dot_product_attention and the attention layers against NumPy references, on the current backend."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from layer_test_utils import run_layer_test

RNG = np.random.default_rng(0)


def _data(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _np(x):
    return ops.convert_to_numpy(x)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_attention(q, k, v, bias=None, mask=None, scale=None, is_causal=False):
    """(B, T, N, H) x (B, S, K, H) x (B, S, K, Hv) -> (B, T, N, Hv), probabilities (B, N, T, S)."""
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    group = q.shape[2] // k.shape[2]
    k, v = np.repeat(k, group, axis=2), np.repeat(v, group, axis=2)
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    logits = np.einsum("btnh,bsnh->bnts", q, k) * scale
    if bias is not None:
        logits = logits + bias
    keep = np.ones(logits.shape, bool)
    if mask is not None:
        keep &= np.broadcast_to(np.asarray(mask, bool), logits.shape)
    if is_causal:
        keep &= np.tril(np.ones(logits.shape[-2:], bool))
    probs = _softmax(np.where(keep, logits, -1e30))  # a fully masked row averages the values
    return np.einsum("bnts,bsnh->btnh", probs, v), probs


def _grads(fn, arrays, weight):
    """Gradients of ``sum(fn(*arrays) * weight)`` with respect to each array, from the engine."""
    if lamina.config.backend() == "torch":
        import torch

        device = ops.convert_to_tensor(arrays[0]).device  # where lamina puts new tensors (a GPU if present)
        ts = [torch.tensor(a, device=device, requires_grad=True) for a in arrays]
        out = fn(*ts)
        (out * torch.as_tensor(weight, device=out.device)).sum().backward()
        return [t.grad.detach().cpu().numpy() for t in ts]
    import jax
    import jax.numpy as jnp

    g = jax.grad(lambda *a: jnp.sum(fn(*a) * weight), argnums=tuple(range(len(arrays))))(*arrays)
    return [np.asarray(x) for x in g]


# ---- the op ---------------------------------------------------------------------------------------

B, T, S, N, H = 2, 4, 5, 4, 3
CAUSAL_MASK = np.tril(np.ones((T, S), bool))
ROW_MASK = RNG.random((B, 1, T, S)) > 0.3
ROW_MASK[0, 0, 1] = False  # a query that may attend to nothing
OP_CASES = {
    "plain": dict(),
    "self_causal": dict(S=T, is_causal=True),
    "cross_causal": dict(is_causal=True),
    "mask": dict(mask=ROW_MASK),
    "mask_2d": dict(mask=CAUSAL_MASK),
    "mask_and_causal": dict(mask=ROW_MASK, is_causal=True),
    "bias_and_mask": dict(bias=_data(1, N, T, S), mask=ROW_MASK),
    "scale": dict(scale=0.7),
    "gqa": dict(K=2),
    "mqa_causal": dict(K=1, is_causal=True),
    "value_dim": dict(Hv=6, mask=ROW_MASK),
}


@pytest.mark.parametrize("name", sorted(OP_CASES))
def test_dot_product_attention_matches_numpy(name):
    case = dict(OP_CASES[name])
    s, k_heads, hv = case.pop("S", S), case.pop("K", N), case.pop("Hv", H)
    q, k, v = _data(B, T, N, H), _data(B, s, k_heads, H), _data(B, s, k_heads, hv)
    want, _ = np_attention(q, k, v, **case)
    got = ops.dot_product_attention(q, k, v, **case)
    assert tuple(ops.shape(got)) == (B, T, N, hv)
    assert ops.dtype(got) == "float32"
    np.testing.assert_allclose(_np(got), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["plain", "mask_and_causal", "gqa", "value_dim"])
def test_dot_product_attention_gradients_match_finite_differences(name):
    case = dict(OP_CASES[name])
    s, k_heads, hv = case.pop("S", S), case.pop("K", N), case.pop("Hv", H)
    q, k, v = _data(B, T, N, H), _data(B, s, k_heads, H), _data(B, s, k_heads, hv)
    w = _data(B, T, N, hv)
    got = _grads(lambda a, b, c: ops.dot_product_attention(a, b, c, **case), [q, k, v], w)
    eps = 1e-6
    for i, arr in enumerate([q, k, v]):
        num = np.zeros(arr.shape)
        base = [q.astype(np.float64), k.astype(np.float64), v.astype(np.float64)]
        for idx in np.ndindex(arr.shape):
            plus, minus = [b.copy() for b in base], [b.copy() for b in base]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            num[idx] = ((np_attention(*plus, **case)[0] * w).sum() - (np_attention(*minus, **case)[0] * w).sum()) \
                / (2 * eps)
        np.testing.assert_allclose(got[i], num, rtol=2e-3, atol=2e-3, err_msg=f"gradient {i} of {name}")
        assert np.abs(got[i]).sum() > 0


def test_dot_product_attention_is_symbolic_and_rejects_bad_shapes():
    q = lamina.Input(batch_shape=(None, 7, 2, 8))
    out = ops.dot_product_attention(q, q, q, is_causal=True)
    assert tuple(out.shape) == (None, 7, 2, 8)
    with pytest.raises(ValueError, match=r"rank 4.*\(2, 3, 4\)"):
        ops.dot_product_attention(_data(2, 3, 4), _data(2, 3, 4), _data(2, 3, 4))
    with pytest.raises(ValueError, match=r"K dividing.*query \(1, 2, 3, 4\), key \(1, 2, 2, 4\)"):
        ops.dot_product_attention(_data(1, 2, 3, 4), _data(1, 2, 2, 4), _data(1, 2, 2, 4))
    with pytest.raises(ValueError, match="flash_attention=True"):
        ops.dot_product_attention(_data(1, 2, 2, 4), _data(1, 2, 2, 4), _data(1, 2, 2, 4), flash_attention=True)


def test_dot_product_attention_flash_disabled_gives_the_same_numbers():
    q, k, v = _data(B, T, N, H), _data(B, S, N, H), _data(B, S, N, H)
    a = ops.dot_product_attention(q, k, v, mask=ROW_MASK)
    b = ops.dot_product_attention(q, k, v, mask=ROW_MASK, flash_attention=False)
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-6, atol=1e-6)


# ---- shared layer checks ---------------------------------------------------------------------------

def check_layer(make, inputs, call, expected_shape, num_trainable, call_kwargs=None):
    """Config round trip, symbolic shape, eager call, weights round trip and one training step for a
    layer called as ``call(layer, tensors, **call_kwargs)`` on several inputs."""
    call_kwargs = call_kwargs or {}
    layer = make()
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    sym = [lamina.Input(batch_shape=(None,) + x.shape[1:]) for x in inputs]
    sym_out = call(make(), sym, **call_kwargs)
    assert tuple(sym_out.shape) == (None,) + tuple(expected_shape[1:])
    out = call(layer, inputs, **call_kwargs)
    assert tuple(ops.shape(out)) == tuple(expected_shape)
    assert len(layer.trainable_weights) == num_trainable
    assert len(layer.non_trainable_weights) == 0
    other = make()
    call(other, inputs, **call_kwargs)
    other.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(call(other, inputs, **call_kwargs)), _np(out), atol=1e-6)
    if num_trainable:
        model = lamina.Model(sym, call(make(), sym, **call_kwargs))
        model.compile(optimizer="sgd", loss="mse")
        before = [w.copy() for w in model.get_weights()]
        model.fit(inputs, np.ones(expected_shape, "float32"), epochs=1, batch_size=len(inputs[0]), verbose=0)
        after = model.get_weights()
        assert any(not np.allclose(a, b) for a, b in zip(before, after)), "a training step changed no weight"
        assert all(np.isfinite(a).all() for a in after)
    return layer


def _weight_grads(layer, call, weight):
    """Gradients of ``sum(call() * weight)`` with respect to the layer's trainable weights."""
    if lamina.config.backend() == "torch":
        import torch

        for w in layer.trainable_weights:
            w.value.grad = None
        out = call()  # on lamina's device (a GPU if present): the weight goes there too
        (out * torch.as_tensor(weight, device=out.device)).sum().backward()
        return [w.value.grad.detach().cpu().numpy() for w in layer.trainable_weights]
    import jax
    import jax.numpy as jnp

    ntv = [v.value for v in layer.non_trainable_variables]

    def loss(tv):
        from lamina.backend import StatelessScope

        with StatelessScope(list(zip(layer.trainable_variables, tv)) + list(zip(layer.non_trainable_variables, ntv))):
            return jnp.sum(call() * weight)

    return [np.asarray(g) for g in jax.grad(loss)([v.value for v in layer.trainable_variables])]


# ---- Attention / AdditiveAttention -------------------------------------------------------------------

def np_luong(q, v, k=None, scale=1.0, concat_weight=None, additive_scale=None, q_mask=None, v_mask=None,
             causal=False):
    k = v if k is None else k
    if additive_scale is not None:
        scores = (additive_scale * np.tanh(q[:, :, None] + k[:, None])).sum(-1)
    elif concat_weight is not None:
        scores = concat_weight * np.tanh(scale * (q[:, :, None] + k[:, None])).sum(-1)
    else:
        scores = scale * q @ k.transpose(0, 2, 1)
    keep = np.ones(scores.shape, bool)
    if v_mask is not None:
        keep &= v_mask[:, None, :]
    if causal:
        keep &= np.tril(np.ones(scores.shape[-2:], bool))
    weights = _softmax(np.where(keep, scores, -1e30))
    out = weights @ v
    if q_mask is not None:
        out = out * q_mask[:, :, None]
    return out, weights


def _call_list(layer, tensors, **kwargs):
    return layer(list(tensors), **kwargs)


@pytest.mark.parametrize("kwargs, n_weights", [({}, 0), ({"use_scale": True}, 1),
                                               ({"score_mode": "concat", "use_scale": True}, 2),
                                               ({"dropout": 0.5, "seed": 3}, 0)])
def test_attention_layer_contract(kwargs, n_weights):
    inputs = [_data(3, 4, 6), _data(3, 5, 6)]
    layer = check_layer(lambda: layers.Attention(**kwargs), inputs, _call_list, (3, 4, 6), n_weights)
    assert [w.shape for w in layer.weights] == [()] * n_weights
    assert [w.name for w in layer.weights] == ["scale", "concat_score_weight"][:n_weights]


def test_attention_matches_numpy_with_masks_causal_and_scores():
    q, v, k = _data(2, 4, 3), _data(2, 5, 2), _data(2, 5, 3)
    q_mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    v_mask = np.array([[1, 1, 1, 1, 0], [1, 0, 0, 1, 1]], bool)
    layer = layers.Attention(use_scale=True)
    layer([q, v, k])
    layer.scale.assign(np.float32(0.7))
    out, scores = layer([q, v, k], mask=[q_mask, v_mask], return_attention_scores=True, use_causal_mask=True)
    want, want_w = np_luong(q, v, k, scale=0.7, q_mask=q_mask, v_mask=v_mask, causal=True)
    np.testing.assert_allclose(_np(out), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_np(scores), want_w, rtol=1e-5, atol=1e-6)
    assert _np(layer.compute_mask([q, v], [q_mask, v_mask])).tolist() == q_mask.tolist()
    concat = layers.Attention(score_mode="concat", use_scale=True)
    concat([q, v, k])
    concat.set_weights([np.float32(0.5), np.float32(1.5)])
    want, _ = np_luong(q, v, k, scale=0.5, concat_weight=1.5, v_mask=v_mask)
    np.testing.assert_allclose(_np(concat([q, v, k], mask=[None, v_mask])), want, rtol=1e-5, atol=1e-5)


def test_attention_dropout_only_in_training():
    q, v = _data(2, 4, 3), _data(2, 6, 3)
    layer = layers.Attention(dropout=0.5, seed=1)
    inference = _np(layer([q, v]))
    np.testing.assert_allclose(inference, np_luong(q, v)[0], rtol=1e-5, atol=1e-5)
    assert not np.allclose(_np(layer([q, v], training=True)), inference)


def test_additive_attention_matches_numpy():
    q, v = _data(2, 4, 3), _data(2, 5, 3)
    v_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    layer = check_layer(lambda: layers.AdditiveAttention(), [q, v], _call_list, (2, 4, 3), 1)
    assert [(w.name, w.shape) for w in layer.weights] == [("scale", (3,))]
    scale = layer.get_weights()[0]
    want, want_w = np_luong(q, v, additive_scale=scale, v_mask=v_mask)
    out, w = layer([q, v], mask=[None, v_mask], return_attention_scores=True)
    np.testing.assert_allclose(_np(out), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_np(w), want_w, rtol=1e-5, atol=1e-6)
    assert "score_mode" not in layer.get_config()
    plain = layers.AdditiveAttention(use_scale=False)
    np.testing.assert_allclose(_np(plain([q, v])), np_luong(q, v, additive_scale=np.ones(3))[0], rtol=1e-5,
                               atol=1e-5)


def test_attention_gradients_flow():
    q, v = _data(2, 4, 3), _data(2, 5, 3)
    layer = layers.Attention(use_scale=True, score_mode="concat")
    layer([q, v])
    grads = _weight_grads(layer, lambda: layer([q, v]), _data(2, 4, 3))
    assert len(grads) == 2 and all(np.isfinite(g).all() and np.abs(g).sum() > 0 for g in grads)


def test_attention_bad_inputs_name_the_layer():
    layer = layers.Attention(name="att")
    with pytest.raises(ValueError, match=r"Layer 'att' \(Attention\) must be called on a list \[query, value\]"):
        layer(_data(2, 3, 4))
    with pytest.raises(ValueError, match=r"'att'.*same batch size.*query \(2, 3, 4\), value \(3, 5, 4\)"):
        layer([_data(2, 3, 4), _data(3, 5, 4)])
    with pytest.raises(ValueError,
                       match=r"'att2'.*query and key with the same last dimension.*\(2, 3, 4\) and key \(2, 5, 6\)"):
        layers.Attention(name="att2")([_data(2, 3, 4), _data(2, 5, 6)])
    with pytest.raises(ValueError, match=r"score_mode.*\['dot', 'concat'\].*'sum'"):
        layers.Attention(score_mode="sum")
    with pytest.raises(ValueError, match=r"dropout.*\[0, 1\).*1.5"):
        layers.AdditiveAttention(dropout=1.5)


# ---- MultiHeadAttention ------------------------------------------------------------------------------

def np_mha(weights, query, value, key=None, mask=None, key_dim=None):
    """Reference from the layer's weights [qk, qb, kk, kb, vk, vb, ok, ob] (3D inputs)."""
    qk, qb, kk, kb, vk, vb, ok, ob = weights
    key = value if key is None else key
    q = np.einsum("btd,dnh->btnh", query, qk) + qb
    k = np.einsum("bsd,dnh->bsnh", key, kk) + kb
    v = np.einsum("bsd,dnh->bsnh", value, vk) + vb
    o, probs = np_attention(q, k, v, mask=None if mask is None else np.asarray(mask)[:, None])
    if mask is not None:  # Keras's masked softmax: 0 where masked, so a query that sees nothing gets 0
        probs = np.where(np.broadcast_to(np.asarray(mask, bool)[:, None], probs.shape), probs, 0.0)
        o = np.einsum("bnts,bsnh->btnh", probs, v)
    return np.einsum("btnh,nhe->bte", o, ok) + ob, probs


def _call_qv(layer, tensors, **kwargs):
    return layer(*tensors, **kwargs)


def test_mha_contract_weights_and_names():
    q, v = _data(3, 4, 6), _data(3, 5, 7)
    layer = check_layer(lambda: layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5), [q, v], _call_qv,
                        (3, 4, 6), 8)
    shapes = [w.shape for w in layer.weights]
    assert shapes == [(6, 2, 3), (2, 3), (7, 2, 3), (2, 3), (7, 2, 5), (2, 5), (2, 5, 6), (6,)]
    assert [w.path.split("/")[-2:] for w in layer.weights][::2] == [
        ["query", "kernel"], ["key", "kernel"], ["value", "kernel"], ["attention_output", "kernel"]]
    assert (layer.num_heads, layer.key_dim, layer.value_dim) == (2, 3, 5)
    assert layer.query_dense.name == "query" and layer.output_dense.name == "attention_output"
    no_bias = layers.MultiHeadAttention(num_heads=2, key_dim=3, use_bias=False, output_shape=4)
    assert tuple(ops.shape(no_bias(q, v))) == (3, 4, 4)
    assert [w.shape for w in no_bias.weights] == [(6, 2, 3), (7, 2, 3), (7, 2, 3), (2, 3, 4)]


@pytest.mark.parametrize("masks", ["none", "attention_mask", "causal", "query_value", "all"])
def test_mha_matches_numpy(masks):
    query, value, key = _data(2, 4, 6), _data(2, 5, 6), _data(2, 5, 3)
    layer = layers.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=4, output_shape=5)
    layer(query, value, key)
    kwargs, mask = {}, np.ones((2, 4, 5), bool)
    if masks in ("attention_mask", "all"):
        kwargs["attention_mask"] = RNG.random((2, 4, 5)) > 0.3
        kwargs["attention_mask"][1, 2] = False
        mask &= kwargs["attention_mask"]
    if masks in ("causal", "all"):
        kwargs["use_causal_mask"] = True
        mask &= np.tril(np.ones((4, 5), bool))
    if masks in ("query_value", "all"):
        kwargs["query_mask"] = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
        kwargs["value_mask"] = np.array([[1, 1, 0, 1, 1], [1, 1, 1, 0, 0]], bool)
        mask &= kwargs["query_mask"][:, :, None] & kwargs["value_mask"][:, None, :]
    want, want_p = np_mha(layer.get_weights(), query, value, key, mask)
    fused = layer(query, value, key, **kwargs)
    out, scores = layer(query, value, key, return_attention_scores=True, **kwargs)
    np.testing.assert_allclose(_np(fused), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(out), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(scores), want_p, rtol=1e-4, atol=1e-5)


def test_mha_fused_path_is_used_and_gradients_match_plain_path(monkeypatch):
    query, value = _data(2, 4, 6), _data(2, 5, 6)
    amask = RNG.random((2, 4, 5)) > 0.3
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    layer(query, value)
    calls = []
    real = ops.dot_product_attention
    monkeypatch.setattr(ops, "dot_product_attention", lambda *a, **k: calls.append(1) or real(*a, **k))
    w = _data(2, 4, 6)
    fused = _weight_grads(layer, lambda: layer(query, value, attention_mask=amask), w)
    assert calls, "the fused kernel was not used"
    calls.clear()
    plain = _weight_grads(layer, lambda: layer(query, value, attention_mask=amask,
                                               return_attention_scores=True)[0], w)
    assert not calls
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert all(np.abs(g).sum() > 0 for g in fused)


def test_mha_dropout_only_in_training():
    x = _data(2, 5, 4)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2, dropout=0.5, seed=2)
    inference = _np(layer(x, x))
    np.testing.assert_allclose(inference, np_mha(layer.get_weights(), x, x)[0], rtol=1e-4, atol=1e-5)
    assert not np.allclose(_np(layer(x, x, training=True)), inference)


@pytest.mark.parametrize("axes", [None, (2,), (1,)])
def test_mha_attention_axes_match_numpy(axes):
    x = _data(2, 3, 4, 6)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=axes)
    out, scores = layer(x, x, return_attention_scores=True)
    fused = layer(x, x)
    qk, qb, kk, kb, vk, vb, ok, ob = layer.get_weights()
    q = np.einsum("bxyd,dnh->bxynh", x, qk) + qb
    k = np.einsum("bxyd,dnh->bxynh", x, kk) + kb
    v = np.einsum("bxyd,dnh->bxynh", x, vk) + vb
    if axes is None:  # all of (x, y) together
        o, p = np_attention(q.reshape(2, 12, 2, 3), k.reshape(2, 12, 2, 3), v.reshape(2, 12, 2, 3))
        o, p = o.reshape(2, 3, 4, 2, 3), p.reshape(2, 2, 3, 4, 3, 4)
    elif axes == (2,):  # along y, separately for every x
        o, p = np_attention(q.reshape(6, 4, 2, 3), k.reshape(6, 4, 2, 3), v.reshape(6, 4, 2, 3))
        o, p = o.reshape(2, 3, 4, 2, 3), p.reshape(2, 3, 2, 4, 4)
    else:  # along x, separately for every y
        t = (0, 2, 1, 3, 4)
        o, p = np_attention(*(a.transpose(t).reshape(8, 3, 2, 3) for a in (q, k, v)))
        o, p = o.reshape(2, 4, 3, 2, 3).transpose(t), p.reshape(2, 4, 2, 3, 3)
    want = np.einsum("bxynh,nhe->bxye", o, ok) + ob
    assert tuple(ops.shape(scores)) == p.shape
    np.testing.assert_allclose(_np(out), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(fused), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(scores), p, rtol=1e-4, atol=1e-5)
    sym = lamina.Input(batch_shape=(None, 3, 4, 6))
    sym_out, sym_scores = layers.MultiHeadAttention(2, 3, attention_axes=axes)(sym, sym, return_attention_scores=True)
    assert tuple(sym_out.shape) == (None, 3, 4, 6) and tuple(sym_scores.shape) == (None,) + p.shape[1:]


def test_mha_masks_from_keras_masking_in_a_functional_model():
    tokens = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 0]], "int32")
    inp = lamina.Input(batch_shape=(None, 5), dtype="int32")
    emb = layers.Embedding(10, 6, mask_zero=True)
    x = emb(inp)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    model = lamina.Model(inp, mha(x, x))
    got = _np(model(tokens))
    e = _np(emb(tokens))
    keep = tokens != 0
    want = np_mha(mha.get_weights(), e, e, mask=keep[:, :, None] & keep[:, None, :])[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    unmasked = np_mha(mha.get_weights(), e, e)[0]
    assert not np.allclose(got[0, :3], unmasked[0, :3], atol=1e-4)
    assert _np(mha.compute_mask(e, [keep, keep])).tolist() == keep.tolist()


def test_mha_called_eagerly_reads_the_masks_its_inputs_carry():
    # as Keras: an eager call on masked embeddings masks padded keys (and zeroes padded queries' attention)
    tokens_q = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]], "int32")
    tokens_v = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 0]], "int32")
    emb = layers.Embedding(10, 6, mask_zero=True)
    mha = layers.MultiHeadAttention(num_heads=1, key_dim=3)
    out, scores = mha(emb(tokens_q), emb(tokens_v), return_attention_scores=True)
    keep_q, keep_v = tokens_q != 0, tokens_v != 0
    want, want_p = np_mha(mha.get_weights(), _np(emb(tokens_q)), _np(emb(tokens_v)),
                          mask=keep_q[:, :, None] & keep_v[:, None, :])
    np.testing.assert_allclose(_np(scores), want_p, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(out), want, rtol=1e-4, atol=1e-5)
    row = _np(scores)[0, 0, 0]
    assert row[2:].tolist() == [0, 0, 0] and abs(row.sum() - 1) < 1e-5  # the padded keys get nothing
    assert not _np(scores)[0, 0, 3:].any()  # padded queries attend to nothing
    np.testing.assert_allclose(_np(mha(emb(tokens_q), emb(tokens_v))), want, rtol=1e-4, atol=1e-5)  # fused


def test_mha_functional_model_trains_and_round_trips(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 6, 8)).astype("float32")
    y = x.mean(axis=1, keepdims=True).repeat(6, axis=1)[..., :4]  # needs attention across time
    inp = lamina.Input(batch_shape=(None, 6, 8))
    h = layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(inp, inp)
    out = layers.Dense(4)(layers.Add()([inp, h]))
    model = lamina.Model(inp, out)
    model.compile(optimizer=lamina.optimizers.Adam(0.01), loss="mse")
    hist = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    losses = hist.history["loss"]
    assert all(np.isfinite(losses)) and losses[-1] < 0.7 * losses[0]
    clone = lamina.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(_np(clone(x[:4])), _np(model(x[:4])), rtol=1e-5, atol=1e-5)
    path = str(tmp_path / "mha.keras")
    model.save(path)
    loaded = lamina.models.load_model(path)
    np.testing.assert_allclose(_np(loaded.predict(x[:4], verbose=0)), _np(model.predict(x[:4], verbose=0)),
                               rtol=1e-5, atol=1e-5)


def test_mha_regularizers_constraints_and_initializers():
    x = _data(2, 3, 4)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2, kernel_initializer="ones", bias_initializer="ones",
                                      kernel_regularizer="l2", kernel_constraint="non_neg")
    layer(x, x)
    assert all(np.all(w == 1) for w in layer.get_weights())
    assert len(layer.losses) == 4
    assert all(w.constraint is not None for w in layer.trainable_weights[::2])
    default = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    default(x, x)
    q_kernel, k_kernel = default.get_weights()[0], default.get_weights()[2]
    assert not np.allclose(q_kernel, k_kernel)  # each projection draws its own initial values
    config = layer.get_config()
    assert config["kernel_regularizer"] is not None and config["kernel_constraint"] is not None
    assert layers.MultiHeadAttention.from_config(config).get_config() == config


def test_mha_bad_input_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"'mha' \(MultiHeadAttention\).*`key_dim`.*positive integer.*'8'.*str"):
        layers.MultiHeadAttention(num_heads=2, key_dim="8", name="mha")
    with pytest.raises(ValueError, match=r"`num_heads`.*0"):
        layers.MultiHeadAttention(num_heads=0, key_dim=2)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2, name="mha2")
    with pytest.raises(ValueError,
                       match=r"'mha2'.*same batch size.*query shape \(2, 3, 4\).*value shape \(3, 3, 4\)"):
        layer(_data(2, 3, 4), _data(3, 3, 4))
    layer(_data(2, 3, 4), _data(2, 5, 4))
    with pytest.raises(ValueError,
                       match=r"'mha2' \(MultiHeadAttention\) was built for `query` with last dimension 4.*\(2, 3, 5\)"):
        layer(_data(2, 3, 5), _data(2, 5, 4))
    with pytest.raises(ValueError, match=r"'mha2'.*attention_mask broadcastable.*\(2, 3, 5\).*\(2, 3, 4\)"):
        layer(_data(2, 3, 4), _data(2, 5, 4), attention_mask=np.ones((2, 3, 4), bool))
    with pytest.raises(ValueError, match=r"expected a `value` tensor"):
        layer(_data(2, 3, 4))
    flash = layers.MultiHeadAttention(num_heads=2, key_dim=2, flash_attention=True, name="mha3")
    with pytest.raises(ValueError, match=r"'mha3'.*flash_attention=True.*cannot return attention scores"):
        flash(_data(2, 3, 4), _data(2, 3, 4), return_attention_scores=True)
    with pytest.raises(ValueError, match=r"flash_attention.*None, True or False.*'yes'"):
        layers.MultiHeadAttention(num_heads=2, key_dim=2, flash_attention="yes")
    with pytest.raises(ValueError, match=r"attention_axes must be distinct axes between 1 and 1"):
        layers.MultiHeadAttention(num_heads=2, key_dim=2, attention_axes=(2,))(_data(2, 3, 4), _data(2, 3, 4))


# ---- GroupedQueryAttention ------------------------------------------------------------------------------

def test_gqa_contract_and_matches_numpy():
    q, v = _data(2, 4, 6), _data(2, 5, 6)
    make = lambda: layers.GroupedQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2)  # noqa: E731
    layer = check_layer(make, [q, v], _call_qv, (2, 4, 6), 8)
    assert [w.shape for w in layer.weights] == [(6, 4, 3), (4, 3), (6, 2, 3), (2, 3), (6, 2, 3), (2, 3), (4, 3, 6),
                                                (6,)]
    assert layers.GroupQueryAttention is layers.GroupedQueryAttention
    amask = RNG.random((2, 4, 5)) > 0.3
    qk, qb, kk, kb, vk, vb, ok, ob = layer.get_weights()
    pq = np.einsum("btd,dnh->btnh", q, qk) + qb
    pk = np.einsum("bsd,dnh->bsnh", v, kk) + kb
    pv = np.einsum("bsd,dnh->bsnh", v, vk) + vb
    mask = amask & np.tril(np.ones((4, 5), bool))
    o, p = np_attention(pq, pk, pv, mask=mask[:, None])
    want = np.einsum("btnh,nhe->bte", o, ok) + ob
    out, scores = layer(q, v, attention_mask=amask, use_causal_mask=True, return_attention_scores=True)
    np.testing.assert_allclose(_np(out), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(scores), p, rtol=1e-4, atol=1e-5)
    fused = layer(q, v, attention_mask=amask, use_causal_mask=True)
    np.testing.assert_allclose(_np(fused), want, rtol=1e-4, atol=1e-5)
    grads = _weight_grads(layer, lambda: layer(q, v, attention_mask=amask), _data(2, 4, 6))
    assert all(np.isfinite(g).all() and np.abs(g).sum() > 0 for g in grads)


def test_gqa_bad_arguments():
    with pytest.raises(ValueError, match=r"'g' \(GroupedQueryAttention\).*divisible.*num_query_heads=4.*=3"):
        layers.GroupedQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=3, name="g")
    with pytest.raises(ValueError, match=r"`head_dim`.*2.5"):
        layers.GroupedQueryAttention(head_dim=2.5, num_query_heads=4, num_key_value_heads=2)
    with pytest.raises(ValueError, match=r"\(batch, seq, features\).*\(2, 3, 4, 4\)"):
        layers.GroupedQueryAttention(2, 2, 1)(_data(2, 3, 4, 4), _data(2, 3, 4, 4))


# ---- EinsumDense ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("equation, output_shape, bias_axes, in_shape, kernel, bias, out", [
    ("ab,bc->ac", 4, "c", (3, 5), (5, 4), (4,), (3, 4)),
    ("abc,cde->abde", (None, 2, 4), "de", (3, 5, 6), (6, 2, 4), (2, 4), (3, 5, 2, 4)),
    ("...b,bc->...c", 4, "c", (3, 2, 7, 5), (5, 4), (4,), (3, 2, 7, 4)),
    ("ab...,bc->ac...", 4, "c", (3, 5, 6), (5, 4), (4, 1), (3, 4, 6)),
    ("abc,cd->abd", (5, 2), None, (3, 5, 6), (6, 2), None, (3, 5, 2)),
])
def test_einsum_dense_matches_numpy(equation, output_shape, bias_axes, in_shape, kernel, bias, out):
    n_weights = 1 if bias is None else 2
    layer = run_layer_test(layers.EinsumDense, {"equation": equation, "output_shape": output_shape,
                                                "bias_axes": bias_axes, "activation": "tanh"},
                           in_shape, out, n_weights)
    assert [w.shape for w in layer.weights] == [kernel] + ([bias] if bias else [])
    x = _data(*in_shape)
    want = np.einsum(equation, x, layer.get_weights()[0])
    if bias is not None:
        want = want + layer.get_weights()[1]
    np.testing.assert_allclose(_np(layer(x)), np.tanh(want), rtol=1e-5, atol=1e-5)


def test_einsum_dense_bad_arguments():
    with pytest.raises(ValueError, match=r"'ed' \(EinsumDense\).*einsum equation.*'ab->b'"):
        layers.EinsumDense("ab->b", 3, name="ed")
    with pytest.raises(ValueError, match=r"bias_axes='z'"):
        layers.EinsumDense("ab,bc->ac", 3, bias_axes="z")(_data(2, 4))
    with pytest.raises(ValueError, match=r"rank 2.*\(2, 3, 4\)"):
        layers.EinsumDense("ab,bc->ac", 3)(_data(2, 3, 4))


def test_mha_takes_a_2d_attention_mask_on_both_paths():
    # a (T, S) mask broadcasts over the batch; a query row allowed nothing gets zero attention on the fused path too
    q = _data(2, 3, 4)
    layer = layers.MultiHeadAttention(num_heads=1, key_dim=2)
    mask = np.array([[1, 1, 0], [0, 0, 0], [1, 0, 1]], bool)
    fused = _np(layer(q, q, attention_mask=mask))
    out, scores = layer(q, q, attention_mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(fused, _np(out), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused, _np(layer(q, q, attention_mask=np.broadcast_to(mask, (2, 3, 3)))),
                               rtol=1e-5, atol=1e-6)
    want = np_mha(layer.get_weights(), q, q, mask=np.broadcast_to(mask, (2, 3, 3)))[0]
    np.testing.assert_allclose(fused, want, rtol=1e-4, atol=1e-5)
    assert not _np(scores)[:, :, 1].any()
