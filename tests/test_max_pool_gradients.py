"""Max pooling's gradient: the whole upstream gradient goes to the first maximum of each window (row-major
window order), ties included, as XLA's select-and-scatter and torch's kernels give it - on both engines, for
the windows that tile the input (JAX's reshape path) and the others."""

import itertools

import numpy as np
import pytest

import lamina
from lamina import ops


def _reference(x, pool, strides, up, channels_last):
    """NumPy: the forward max pool ("valid") and the gradient with respect to ``x``."""
    if not channels_last:
        x, up = np.moveaxis(x, 1, -1), np.moveaxis(up, 1, -1)
    grad = np.zeros_like(x)
    out = np.zeros(up.shape, x.dtype)
    for b in range(x.shape[0]):
        for o in itertools.product(*(range(n) for n in up.shape[1:-1])):
            starts = [i * s for i, s in zip(o, strides)]
            window = x[(b,) + tuple(slice(st, st + k) for st, k in zip(starts, pool))]
            for c in range(x.shape[-1]):
                w = window[..., c]
                first = np.unravel_index(int(np.argmax(w)), w.shape)
                out[(b,) + o + (c,)] = w[first]
                grad[(b,) + tuple(st + f for st, f in zip(starts, first)) + (c,)] += up[(b,) + o + (c,)]
    if not channels_last:
        out, grad = np.moveaxis(out, -1, 1), np.moveaxis(grad, -1, 1)
    return out, grad


CASES = [  # (spatial shape, pool, strides): tiling windows (a cropped edge too), then overlapping ones
    ((6,), (2,), (2,)), ((7,), (3,), (3,)),
    ((6, 8), (2, 2), (2, 2)), ((7, 5), (2, 2), (2, 2)), ((6, 6), (3, 2), (3, 2)),
    ((4, 6, 4), (2, 2, 2), (2, 2, 2)),
    ((7, 7), (3, 3), (2, 2)), ((6,), (3,), (1,)),
]


@pytest.mark.parametrize("spatial,pool,strides", CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_max_pool_gradient_goes_to_the_first_maximum(spatial, pool, strides, data_format):
    rng = np.random.default_rng(len(spatial) * 10 + pool[0])
    channels_last = data_format == "channels_last"
    shape = (2,) + spatial + (3,) if channels_last else (2, 3) + spatial
    # rounded and rectified: many ties (zeros and equal values) inside windows
    x = np.maximum(np.round(rng.normal(size=shape), 0), 0).astype("float32")
    var = lamina.Variable(x)
    out_shape = tuple(ops.shape(ops.max_pool(x, pool, strides, "valid", data_format)))
    up = rng.normal(size=out_shape).astype("float32")
    want_out, want_grad = _reference(x, pool, strides, up, channels_last)

    def loss():
        return ops.sum(ops.multiply(ops.max_pool(var.value, pool, strides, "valid", data_format), up))

    _, grads = ops.value_and_grad(loss, [var])()
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.max_pool(x, pool, strides, "valid", data_format)),
                                  want_out)
    np.testing.assert_allclose(ops.convert_to_numpy(grads[0]), want_grad, rtol=1e-6, atol=1e-6)


def test_same_padding_on_tiling_windows_and_integer_inputs():
    x = np.arange(2 * 4 * 6 * 1, dtype="float32").reshape(2, 4, 6, 1)[:, ::-1]
    got = ops.convert_to_numpy(ops.max_pool(x.copy(), 2, 2, "same"))
    np.testing.assert_array_equal(got, _reference(x, (2, 2), (2, 2), np.zeros((2, 2, 3, 1), "float32"), True)[0])
    ints = ops.max_pool(np.arange(16, dtype="int32").reshape(1, 4, 4, 1), 2, 2, "valid")
    assert ops.dtype(ints) == "int32"
    assert ops.convert_to_numpy(ints).ravel().tolist() == [5, 7, 13, 15]


def test_integer_inputs_with_overlapping_windows():
    x = np.arange(25, dtype="int32").reshape(1, 5, 5, 1)
    got = ops.max_pool(x, 3, 2, "valid")
    assert ops.dtype(got) == "int32"
    assert ops.convert_to_numpy(got).ravel().tolist() == [12, 14, 22, 24]
