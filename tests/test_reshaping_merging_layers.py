"""Reshaping and merging layers: the layer-test helper, NumPy references, masks and errors."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from layer_test_utils import run_layer_test

RNG = np.random.default_rng(0)


def _np(x):
    return ops.convert_to_numpy(x)


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape", [
    (layers.Permute, {"dims": (2, 1)}, (2, 3, 4), (2, 4, 3)),
    (layers.RepeatVector, {"n": 3}, (2, 4), (2, 3, 4)),
    (layers.Cropping1D, {"cropping": (1, 2)}, (2, 6, 3), (2, 3, 3)),
    (layers.Cropping2D, {"cropping": ((1, 0), 2), "data_format": "channels_first"}, (2, 3, 5, 6), (2, 3, 4, 2)),
    (layers.Cropping3D, {}, (1, 4, 4, 4, 2), (1, 2, 2, 2, 2)),
    (layers.ZeroPadding1D, {"padding": (1, 2)}, (2, 4, 3), (2, 7, 3)),
    (layers.ZeroPadding2D, {"padding": ((1, 0), (2, 3))}, (2, 3, 3, 2), (2, 4, 8, 2)),
    (layers.ZeroPadding3D, {"padding": 1, "data_format": "channels_first"}, (1, 2, 2, 2, 2), (1, 2, 4, 4, 4)),
    (layers.UpSampling1D, {"size": 3}, (2, 4, 3), (2, 12, 3)),
    (layers.UpSampling2D, {"size": (2, 3), "interpolation": "bilinear"}, (2, 3, 3, 2), (2, 6, 9, 2)),
    (layers.UpSampling3D, {"data_format": "channels_first"}, (1, 2, 2, 2, 2), (1, 2, 4, 4, 4)),
])
def test_reshaping_layer_helper(cls, kwargs, in_shape, out_shape):
    run_layer_test(cls, kwargs, in_shape, out_shape, 0)


def test_reshaping_values():
    x = RNG.standard_normal((2, 5, 6, 3)).astype("float32")
    np.testing.assert_array_equal(_np(layers.Permute((3, 1, 2))(x)), x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(_np(layers.Cropping2D(((1, 2), (0, 3)))(x)), x[:, 1:3, 0:3])
    np.testing.assert_array_equal(_np(layers.ZeroPadding2D(((1, 0), (0, 2)))(x)),
                                  np.pad(x, ((0, 0), (1, 0), (0, 2), (0, 0))))
    np.testing.assert_array_equal(_np(layers.UpSampling2D((2, 1))(x)), x.repeat(2, axis=1))
    np.testing.assert_array_equal(_np(layers.RepeatVector(2)(x[:, 0, 0])), np.stack([x[:, 0, 0]] * 2, 1))
    # bilinear upsampling of a linear ramp is linear inside the image (half-pixel centers)
    ramp = np.arange(4, dtype="float32").reshape(1, 1, 4, 1)
    up = _np(layers.UpSampling2D((1, 2), interpolation="bilinear")(ramp))[0, 0, :, 0]
    np.testing.assert_allclose(up, [0.0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.0])


def test_reshaping_bad_arguments():
    with pytest.raises(ValueError, match="permutation"):
        layers.Permute((1, 3))
    with pytest.raises(ValueError, match="cropping"):
        layers.Cropping2D((1, 2, 3))
    with pytest.raises(ValueError, match="removes everything"):
        layers.Cropping1D((3, 3))(np.ones((1, 5, 2), "float32"))
    with pytest.raises(ValueError, match="padding"):
        layers.ZeroPadding2D(-1)
    with pytest.raises(ValueError, match="interpolation"):
        layers.UpSampling2D(interpolation="cubic")
    with pytest.raises(ValueError, match="'n'|`n`"):
        layers.RepeatVector(0)


@pytest.mark.parametrize("cls,fn,ref", [
    (layers.Add, layers.add, lambda a, b: a + b), (layers.Subtract, layers.subtract, lambda a, b: a - b),
    (layers.Multiply, layers.multiply, lambda a, b: a * b), (layers.Average, layers.average, lambda a, b: (a + b) / 2),
    (layers.Maximum, layers.maximum, np.maximum), (layers.Minimum, layers.minimum, np.minimum),
])
def test_elementwise_merges(cls, fn, ref):
    a, b = RNG.standard_normal((2, 3, 4)).astype("float32"), RNG.standard_normal((2, 3, 4)).astype("float32")
    np.testing.assert_allclose(_np(cls()([a, b])), ref(a, b), rtol=1e-6)
    np.testing.assert_allclose(_np(fn([a, b])), ref(a, b), rtol=1e-6)
    np.testing.assert_allclose(_np(cls()([a, b[:, :1]])), ref(a, b[:, :1]), rtol=1e-6)  # broadcasting
    i1, i2 = lamina.Input((3, 4)), lamina.Input((1, 4))
    sym = cls()([i1, i2])
    assert sym.shape == (None, 3, 4)
    model = lamina.Model([i1, i2], sym)
    np.testing.assert_allclose(_np(model([a, b[:, :1]])), ref(a, b[:, :1]), rtol=1e-6)
    assert cls.from_config(cls().get_config()).get_config()["name"]


def test_concatenate_and_dot():
    a, b = RNG.standard_normal((2, 3, 4)).astype("float32"), RNG.standard_normal((2, 3, 5)).astype("float32")
    np.testing.assert_array_equal(_np(layers.Concatenate()([a, b])), np.concatenate([a, b], -1))
    np.testing.assert_array_equal(_np(layers.concatenate([a, a], axis=1)), np.concatenate([a, a], 1))
    i1, i2 = lamina.Input((3, 4)), lamina.Input((3, 5))
    assert layers.Concatenate()([i1, i2]).shape == (None, 3, 9)
    got = _np(layers.Dot(axes=1)([a, b]))
    np.testing.assert_allclose(got, np.einsum("bik,bil->bkl", a, b), rtol=1e-5, atol=1e-5)
    got = _np(layers.dot([a, b], axes=(1, 1), normalize=True))
    an, bn = a / np.linalg.norm(a, axis=1, keepdims=True), b / np.linalg.norm(b, axis=1, keepdims=True)
    np.testing.assert_allclose(got, np.einsum("bik,bil->bkl", an, bn), rtol=1e-5, atol=1e-5)
    v = RNG.standard_normal((4, 3)).astype("float32")
    np.testing.assert_allclose(_np(layers.Dot(1)([v, v])), (v * v).sum(1, keepdims=True), rtol=1e-5)
    assert layers.Dot(axes=2)([i1, lamina.Input((2, 4))]).shape == (None, 3, 2)
    assert layers.Dot.from_config(layers.Dot(axes=(1, 2)).get_config()).axes == [1, 2]


def test_merge_masks():
    a = np.ones((1, 3, 2), "float32")
    m1, m2 = np.array([[True, True, False]]), np.array([[True, False, True]])
    np.testing.assert_array_equal(_np(layers.Add().compute_mask([a, a], [m1, m2])), [[True, False, False]])
    np.testing.assert_array_equal(_np(layers.Concatenate(axis=1).compute_mask([a, a], [m1, None])),
                                  [[True, True, False, True, True, True]])
    assert layers.Add().compute_mask([a, a], [None, None]) is None


def test_merge_errors():
    a = np.ones((2, 3), "float32")
    with pytest.raises(ValueError, match="list of tensors"):
        layers.Add()(a)
    with pytest.raises(ValueError, match="at least 2"):
        layers.Add()([a])
    with pytest.raises(ValueError, match="exactly 2"):
        layers.Subtract()([a, a, a])
    with pytest.raises(ValueError, match="broadcast"):
        layers.Add()([a, np.ones((2, 4), "float32")])
    with pytest.raises(ValueError, match="matching shapes"):
        layers.Concatenate(axis=1)([np.ones((2, 3, 4), "float32"), np.ones((2, 3, 5), "float32")])
    with pytest.raises(ValueError, match="dimension mismatch"):
        layers.Dot(axes=1)([a, np.ones((2, 4), "float32")])
    with pytest.raises(ValueError, match="axes"):
        layers.Dot(axes="x")
