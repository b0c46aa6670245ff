"""ops.dot_product_attention's values and gradients (query, key, value and an additive bias) against NumPy in
float64, with masks, causal masking, grouped heads and a value head size of its own, on both engines (JAX on a
CPU runs its own matrix-product formulation with a hand-written tangent rule)."""

import numpy as np
import pytest

import lamina
from lamina import ops


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _reference(q, k, v, bias, keep, scale, up):
    """Forward and gradients in NumPy (B, T, N, H layout; k/v heads already repeated)."""
    qt, kt, vt, upt = (x.transpose(0, 2, 1, 3).astype("float64") for x in (q, k, v, up))
    logits = qt @ kt.swapaxes(-1, -2) * scale
    if bias is not None:
        logits = logits + bias
    if keep is not None:
        logits = np.where(keep, logits, -0.7 * np.finfo(np.float32).max)
    p = _softmax(logits)
    out = (p @ vt).transpose(0, 2, 1, 3)
    dp = upt @ vt.swapaxes(-1, -2)
    dv = p.swapaxes(-1, -2) @ upt
    dlogits = p * (dp - (dp * p).sum(-1, keepdims=True))
    if keep is not None:
        dlogits = np.where(keep, dlogits, 0.0)
    dq = dlogits @ kt * scale
    dk = dlogits.swapaxes(-1, -2) @ qt * scale
    dbias = None if bias is None else dlogits.sum(axis=tuple(i for i in range(4) if bias.shape[i] == 1),
                                                  keepdims=True)
    back = (lambda x: x.transpose(0, 2, 1, 3))
    return out, back(dq), back(dk), back(dv), dbias


CASES = {
    "plain": dict(heads=2, kv_heads=2, hv=4, mask=False, bias=False, causal=False),
    "mask_bias": dict(heads=2, kv_heads=2, hv=4, mask=True, bias=True, causal=False),
    "causal": dict(heads=2, kv_heads=2, hv=4, mask=False, bias=False, causal=True),
    "grouped_mask": dict(heads=4, kv_heads=2, hv=4, mask=True, bias=False, causal=False),
    "value_dim": dict(heads=2, kv_heads=2, hv=6, mask=True, bias=True, causal=True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_dot_product_attention_values_and_gradients(case):
    c = CASES[case]
    rng = np.random.default_rng(sorted(CASES).index(case))
    B, T, S, H = 2, 5, 6, 4
    q = rng.normal(size=(B, T, c["heads"], H)).astype("float32")
    k = rng.normal(size=(B, S, c["kv_heads"], H)).astype("float32")
    v = rng.normal(size=(B, S, c["kv_heads"], c["hv"])).astype("float32")
    up = rng.normal(size=(B, T, c["heads"], c["hv"])).astype("float32")
    bias = rng.normal(size=(1, c["heads"], T, S)).astype("float32") if c["bias"] else None
    mask = rng.random((B, 1, T, S)) > 0.3 if c["mask"] else None
    if mask is not None:
        mask[0, 0, 1, :] = False  # a fully masked row: uniform weights, as the engines give
    keep = mask
    if c["causal"]:  # query i sees keys 0..i (the lower triangle from the top-left corner)
        causal = np.tril(np.ones((T, S), bool))
        keep = causal if keep is None else np.logical_and(keep, causal)
    scale = 0.5
    group = c["heads"] // c["kv_heads"]
    want = _reference(q, np.repeat(k, group, axis=2), np.repeat(v, group, axis=2), bias, keep, scale, up)

    variables = [lamina.Variable(a) for a in (q, k, v)] + ([lamina.Variable(bias)] if bias is not None else [])

    def loss():
        out = ops.dot_product_attention(variables[0].value, variables[1].value, variables[2].value,
                                        bias=variables[3].value if bias is not None else None, mask=mask,
                                        scale=scale, is_causal=c["causal"])
        return ops.sum(ops.multiply(out, up))

    value, grads = ops.value_and_grad(loss, variables)()
    np.testing.assert_allclose(float(ops.convert_to_numpy(value)), float((want[0] * up).sum()), rtol=1e-5)
    wanted_grads = [want[1], want[2].reshape(B, S, c["kv_heads"], group, H).sum(3),
                    want[3].reshape(B, S, c["kv_heads"], group, c["hv"]).sum(3)]
    if bias is not None:
        wanted_grads.append(want[4])
    for got, w in zip(grads, wanted_grads):
        np.testing.assert_allclose(ops.convert_to_numpy(got), w, rtol=1e-4, atol=1e-5)
