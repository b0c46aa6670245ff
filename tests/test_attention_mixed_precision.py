"""A mixed_float16 attention layer computes its projections in float16 and returns float16, as Keras's (its
sublayers take its policy), while its weights stay float32; a DTypePolicyMap still reaches the sublayers."""

import numpy as np
import pytest

import lamina


@pytest.mark.parametrize("make", [lambda: lamina.layers.MultiHeadAttention(2, 4, dtype="mixed_float16"),
                                  lambda: lamina.layers.GroupedQueryAttention(4, 2, 1, dtype="mixed_float16")])
def test_mixed_precision_attention_computes_in_float16(make):
    layer = make()
    x = np.random.default_rng(0).random((2, 4, 8)).astype("float32")
    out = layer(x, x)
    assert lamina.ops.dtype(out) == "float16"
    assert all(str(w.dtype) == "float32" for w in layer.weights)
    subs = [layer._query_dense, layer._key_dense, layer._value_dense, layer._output_dense]
    assert {s.dtype_policy.name for s in subs} == {"mixed_float16"}
    full = type(layer).from_config({**layer.get_config(), "dtype": "float32"})
    full(x, x)
    full.set_weights(layer.get_weights())
    np.testing.assert_allclose(lamina.ops.convert_to_numpy(out).astype("float32"),
                               lamina.ops.convert_to_numpy(full(x, x)), rtol=2e-2, atol=2e-2)
