"""segment_min, segment_prod and jvp against NumPy, symbolically, and their argument errors."""

import numpy as np
import pytest

from lamina import ops
from lamina.backend import KerasTensor


def _np(x):
    return ops.convert_to_numpy(x)


def _reference(data, ids, n, reduce, empty):
    out = np.full((n,) + data.shape[1:], empty, dtype=data.dtype)
    for i in range(n):
        rows = data[ids == i]
        if len(rows):
            out[i] = reduce(rows, axis=0)
    return out


@pytest.mark.parametrize("name,reduce,empty", [("segment_min", np.min, np.inf), ("segment_prod", np.prod, 1.0)])
def test_segment_values_and_shapes(name, reduce, empty):
    rng = np.random.default_rng(0)
    data = rng.uniform(0.5, 2.0, (7, 3)).astype("float32")
    ids = np.array([0, 2, 2, 0, 4, 2, 0])
    fn = getattr(ops, name)
    np.testing.assert_allclose(_np(fn(data, ids, num_segments=5)), _reference(data, ids, 5, reduce, empty),
                               rtol=1e-6)
    np.testing.assert_allclose(_np(fn(data, ids)), _reference(data, ids, 5, reduce, empty), rtol=1e-6)
    dropped = np.array([0, 2, 2, 0, 9, 2, -1])  # out-of-range ids are dropped
    np.testing.assert_allclose(_np(fn(data, dropped, num_segments=3)),
                               _reference(data, dropped, 3, reduce, empty), rtol=1e-6)
    assert fn(KerasTensor((7, 3)), ids, num_segments=5).shape == (5, 3)


def test_segment_integers_and_nd_ids():
    assert _np(ops.segment_min([1, 2, 10, 20, 100, 200], [0, 0, 1, 1, 2, 2], 3)).tolist() == [1, 10, 100]
    assert _np(ops.segment_prod([1, 2, 3, 4, 5, 6], [0, 0, 1, 1, 2, 2], 3)).tolist() == [2, 12, 30]
    data = np.arange(1, 7, dtype="float32").reshape(2, 3)
    assert _np(ops.segment_prod(data, np.array([[0, 1, 0], [1, 1, 0]]), 2)).tolist() == [18.0, 40.0]


def test_segment_errors():
    with pytest.raises(TypeError, match="segment_min: expected integer `segment_ids`"):
        ops.segment_min([1.0, 2.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="segment_prod: expected `segment_ids`.*shape \\(3,\\)"):
        ops.segment_prod([1.0, 2.0], [0, 1, 1])
    with pytest.raises(ValueError, match="segment_min: expected `num_segments`"):
        ops.segment_min([1.0, 2.0], [0, 1], num_segments=-2)


def test_jvp_values_aux_and_linalg_alias():
    x = np.array([0.1, 0.5, 2.0], "float32")
    t = np.array([1.0, -2.0, 0.5], "float32")
    out, tangent = ops.jvp(ops.sin, (x,), (t,))
    np.testing.assert_allclose(_np(out), np.sin(x), rtol=1e-6)
    np.testing.assert_allclose(_np(tangent), np.cos(x) * t, rtol=1e-6)
    out, tangent, aux = ops.jvp(lambda a, b: (a * b, a + 1), (x, 2 * x), (t, t), has_aux=True)
    np.testing.assert_allclose(_np(tangent), t * 2 * x + x * t, rtol=1e-6)
    np.testing.assert_allclose(_np(aux), x + 1, rtol=1e-6)
    assert ops.linalg.jvp is ops.jvp
    sym = ops.jvp(ops.tanh, (KerasTensor((2, 3)),), (KerasTensor((2, 3)),))
    assert [s.shape for s in sym] == [(2, 3), (2, 3)]


def test_jvp_errors():
    x = np.ones(3, "float32")
    with pytest.raises(TypeError, match="jvp: expected a callable"):
        ops.jvp(3, (x,), (x,))
    with pytest.raises(TypeError, match="jvp: expected `primals` and `tangents` to be tuples or lists"):
        ops.jvp(ops.sin, x, x)
    with pytest.raises(ValueError, match="jvp: expected as many tangents as primals"):
        ops.jvp(ops.sin, (x,), (x, x))
    with pytest.raises(ValueError, match="jvp: expected tangent 0 to have the shape of primal 0"):
        ops.jvp(ops.sin, (x,), (np.ones(2, "float32"),))
