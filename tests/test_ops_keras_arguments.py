"""Arguments and forms of ops that Keras 3 accepts, against NumPy: linspace(retstep, axis, array bounds), 2-D bincount,
cholesky(upper) and its failure, qr's modes, symbolic qr/svd, abs of booleans, sort(axis=None), max/min of empty
arrays with ``initial``, one_hot(sparse=...), moments(synchronized=...)."""

import numpy as np
import pytest

import lamina
from lamina import ops


def _np(x):
    return ops.convert_to_numpy(x)


def test_linspace_retstep_axis_and_array_bounds():
    out, step = ops.linspace(0, 1, 5, retstep=True)
    np.testing.assert_allclose(_np(out), np.linspace(0, 1, 5), rtol=1e-6)
    assert float(_np(step)) == pytest.approx(0.25) and ops.dtype(out) == "float32"
    start, stop = np.array([0.0, 10.0], "float32"), np.array([1.0, 20.0], "float32")
    np.testing.assert_allclose(_np(ops.linspace(start, stop, 3)), np.linspace(start, stop, 3), rtol=1e-6)
    np.testing.assert_allclose(_np(ops.linspace(start, stop, 3, endpoint=False, axis=1)),
                               np.linspace(start, stop, 3, endpoint=False, axis=1), rtol=1e-6)


def test_bincount_of_rows():
    x = np.array([[0, 1], [2, 2]], "int32")
    np.testing.assert_array_equal(_np(ops.bincount(x, minlength=4)), [[1, 1, 0, 0], [0, 0, 2, 0]])
    w = np.array([[0.5, 1.0], [2.0, 3.0]], "float32")
    np.testing.assert_allclose(_np(ops.bincount(x, weights=w)), [[0.5, 1.0, 0.0], [0.0, 0.0, 5.0]])


def test_cholesky_upper_and_failure():
    a = np.array([[4.0, 2.0], [2.0, 3.0]], "float32")
    lower = np.linalg.cholesky(a)
    np.testing.assert_allclose(_np(ops.cholesky(a, upper=True)), lower.T, rtol=1e-5)
    with pytest.raises(ValueError, match="positive definite"):
        ops.cholesky(-np.eye(2, dtype="float32"))


def test_qr_modes_and_symbolic_decompositions():
    with pytest.raises(ValueError, match="'reduced' or 'complete'"):
        ops.qr(np.eye(3, dtype="float32"), mode="raw")
    q, r = ops.qr(lamina.Input((5, 3)))
    assert (q.shape, r.shape) == ((None, 5, 3), (None, 3, 3))
    u, s, v = ops.svd(lamina.Input((5, 3)))
    assert (u.shape, s.shape, v.shape) == ((None, 5, 5), (None, 3), (None, 3, 3))


def test_abs_of_booleans_sort_of_the_flat_array_and_empty_reductions_with_initial():
    b = np.array([[True, False], [True, True]])
    assert _np(ops.absolute(b)).tolist() == b.tolist()
    x = np.array([[3.0, 1.0], [2.0, 0.0]], "float32")
    np.testing.assert_array_equal(_np(ops.sort(x, axis=None)), np.sort(x, axis=None))
    assert float(_np(ops.max(np.zeros((0,), "float32"), initial=-1.0))) == -1.0
    np.testing.assert_array_equal(_np(ops.min(np.zeros((0, 3), "float32"), axis=0, initial=2.0)), [2.0, 2.0, 2.0])


def test_one_hot_sparse_and_moments_synchronized_arguments():
    np.testing.assert_array_equal(_np(ops.one_hot(np.array([1, 0]), 3, sparse=True)), np.eye(3)[[1, 0]])
    mean, var = ops.moments(np.array([1.0, 3.0], "float32"), [0], synchronized=True)
    assert (float(_np(mean)), float(_np(var))) == (2.0, 1.0)


def test_symbolic_unknown_dimension_broadcast_against_a_known_size():
    out = ops.add(lamina.Input(batch_shape=(None, 1, 4)), lamina.Input(batch_shape=(2, 3, 1)))
    assert out.shape == (2, 3, 4)   # as Keras
    assert ops.add(lamina.Input((4,)), lamina.Input((4,))).shape == (None, 4)
    with pytest.raises(Exception):
        ops.add(lamina.Input(batch_shape=(None, 3)), lamina.Input(batch_shape=(None, 4)))
