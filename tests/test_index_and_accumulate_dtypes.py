"""Result dtypes Keras code relies on: index-valued ops return int32 (as Keras's ops on every backend), and sums
and products of booleans and 8/16-bit integers accumulate in 32 bits instead of overflowing."""

import numpy as np
import pytest

from lamina import ops

X = np.array([[0.3, 0.9, 0.1], [0.8, 0.2, 0.5]], "float32")


@pytest.mark.parametrize("name, fn, want", [
    ("argmax", lambda: ops.argmax(X, axis=-1), [1, 0]),
    ("argmax_flat", lambda: ops.argmax(X), 1),
    ("argmin", lambda: ops.argmin(X, axis=0), [0, 1, 0]),
    ("argsort", lambda: ops.argsort(X[0]), [2, 0, 1]),
    ("top_k", lambda: ops.top_k(X, 2)[1], [[1, 0], [0, 2]]),
    ("nonzero", lambda: ops.nonzero(X > 0.6)[1], [1, 0]),
    ("searchsorted", lambda: ops.searchsorted(np.array([0.0, 0.5, 1.0]), np.array([0.7])), [2]),
    ("digitize", lambda: ops.digitize(np.array([0.2, 0.7]), np.array([0.5])), [0, 1]),
    ("bincount", lambda: ops.bincount(np.array([0, 2, 2])), [1, 0, 2]),
    ("count_nonzero", lambda: ops.count_nonzero(X > 0.4), 3),
    ("unravel_index", lambda: ops.unravel_index(np.array([4]), (2, 3))[1], [1]),
])
def test_index_valued_ops_return_int32(name, fn, want):
    out = fn()
    assert ops.dtype(out) == "int32", name
    np.testing.assert_array_equal(ops.convert_to_numpy(out), want)


def test_indices_from_ops_index_again():
    idx = ops.argsort(X, axis=-1)
    np.testing.assert_allclose(ops.convert_to_numpy(ops.take_along_axis(X, idx, axis=-1)), np.sort(X, axis=-1))
    np.testing.assert_allclose(ops.convert_to_numpy(ops.take(X[0], ops.argmax(X, axis=-1))), [0.9, 0.3])


@pytest.mark.parametrize("dtype", ["int8", "int16", "bool"])
def test_small_integer_sums_and_products_accumulate_in_int32(dtype):
    a = np.array([100, 100, 100], dtype) if dtype != "bool" else np.array([True, True, False])
    total = ops.sum(a)
    assert ops.dtype(total) == "int32"
    assert int(ops.convert_to_numpy(total)) == int(a.astype("int64").sum())
    assert ops.dtype(ops.sum(a, axis=0, keepdims=True)) == "int32"
    product = ops.prod(np.array([100, 3], dtype) if dtype != "bool" else a)
    assert ops.dtype(product) == "int32"
    assert int(ops.convert_to_numpy(product)) == (300 if dtype != "bool" else 0)


def test_uint8_sum_does_not_overflow():
    out = ops.sum(np.full((4,), 200, "uint8"))
    assert int(ops.convert_to_numpy(out)) == 800
    assert ops.dtype(out) in ("int32", "uint32")  # Keras: int32 on PyTorch (no uint32 sum), uint32 on JAX
