"""lamina.ops.image against NumPy/SciPy references, in both data formats, symbolically, with gradients and
argument errors."""

import colorsys

import numpy as np
import pytest
from scipy import ndimage

from lamina import ops
from lamina.backend import KerasTensor

I = ops.image
RNG = np.random.default_rng(0)
X = RNG.random((2, 6, 8, 3)).astype("float32")


def _np(x):
    return ops.convert_to_numpy(x)


def _both_formats(fn, x, **kw):
    """fn's result in channels_last and channels_first (transposed back), which must agree."""
    last = _np(fn(x, data_format="channels_last", **kw))
    first = _np(fn(np.transpose(x, (0, 3, 1, 2)), data_format="channels_first", **kw))
    np.testing.assert_allclose(np.transpose(first, (0, 2, 3, 1)), last, rtol=1e-5, atol=1e-6)
    return last


def test_color_conversions():
    gray = _both_formats(I.rgb_to_grayscale, X)
    np.testing.assert_allclose(gray, X @ np.array([[0.2989], [0.5870], [0.1140]], "float32"), rtol=1e-5)
    hsv = _both_formats(I.rgb_to_hsv, X)
    ref = np.array([colorsys.rgb_to_hsv(*p) for p in X.reshape(-1, 3)]).reshape(X.shape)
    np.testing.assert_allclose(hsv, ref, atol=1e-5)
    np.testing.assert_allclose(_both_formats(I.hsv_to_rgb, hsv), X, atol=1e-5)
    assert I.rgb_to_grayscale(KerasTensor((None, 5, 4, 3)), data_format="channels_last").shape == (None, 5, 4, 1)
    assert I.rgb_to_hsv(KerasTensor((3, 5, 4)), data_format="channels_first").shape == (3, 5, 4)
    with pytest.raises(ValueError, match="rgb_to_hsv: expected images of a float dtype.*int32"):
        I.rgb_to_hsv(np.ones((2, 2, 3), "int32"), data_format="channels_last")
    with pytest.raises(ValueError, match="rgb_to_grayscale: expected 1 or 3 channels, but received .* 4 channels"):
        I.rgb_to_grayscale(np.ones((2, 2, 4), "float32"), data_format="channels_last")
    with pytest.raises(ValueError, match="hsv_to_rgb: expected images of rank 3 .* or 4"):
        I.hsv_to_rgb(np.ones((2, 3), "float32"))


def test_resize():
    out = _both_formats(I.resize, X, size=(12, 16), interpolation="nearest")
    np.testing.assert_array_equal(out, X.repeat(2, axis=1).repeat(2, axis=2))  # exact 2x nearest upsampling
    out = _both_formats(I.resize, X, size=(3, 4), interpolation="bilinear")
    np.testing.assert_allclose(out, X.reshape(2, 3, 2, 4, 2, 3).mean(axis=(2, 4)), rtol=1e-5)  # half-pixel 2x down
    assert _both_formats(I.resize, X, size=(5, 5), crop_to_aspect_ratio=True).shape == (2, 5, 5, 3)
    padded = _np(I.resize(X, (8, 8), pad_to_aspect_ratio=True, interpolation="nearest", fill_value=7.0,
                          data_format="channels_last"))
    assert padded[0, 0, 0, 0] == 7.0
    assert I.resize(KerasTensor((None, 6, 8, 3)), (4, 5), data_format="channels_last").shape == (None, 4, 5, 3)
    single = _np(I.resize(X[0], (3, 4), data_format="channels_last"))
    assert single.shape == (3, 4, 3)
    with pytest.raises(ValueError, match="resize: expected `interpolation` in .* received 'cubic'"):
        I.resize(X, (3, 3), interpolation="cubic")
    with pytest.raises(ValueError, match="resize: expected `size` to be a pair of positive integers"):
        I.resize(X, (3,))
    with pytest.raises(ValueError, match="resize: only one of `crop_to_aspect_ratio`"):
        I.resize(X, (3, 3), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)


def test_pad_and_crop():
    out = _both_formats(I.pad_images, X, top_padding=1, left_padding=2, target_height=9, target_width=11)
    np.testing.assert_array_equal(out, np.pad(X, [[0, 0], [1, 2], [2, 1], [0, 0]]))
    out = _both_formats(I.crop_images, X, top_cropping=1, bottom_cropping=2, left_cropping=3, target_width=4)
    np.testing.assert_array_equal(out, X[:, 1:4, 3:7])
    assert I.pad_images(KerasTensor((None, 6, 8, 3)), 1, 1, 1, 1, data_format="channels_last").shape == \
        (None, 8, 10, 3)
    with pytest.raises(ValueError, match="pad_images: expected exactly two of `top_padding`, `bottom_padding`"):
        I.pad_images(X, top_padding=1, left_padding=1, right_padding=1)
    with pytest.raises(ValueError, match="pad_images: the image height 6 does not fit target_height=4"):
        I.pad_images(X, top_padding=1, target_height=4, left_padding=0, right_padding=0,
                     data_format="channels_last")
    with pytest.raises(ValueError, match="crop_images: expected `top_cropping` to be a non-negative integer"):
        I.crop_images(X, top_cropping=-1, bottom_cropping=0, left_cropping=0, right_cropping=0)


def test_extract_patches():
    out = _both_formats(I.extract_patches, X, size=(2, 4))
    ref = X.reshape(2, 3, 2, 2, 4, 3).transpose(0, 1, 3, 2, 4, 5).reshape(2, 3, 2, 24)
    np.testing.assert_array_equal(out, ref)
    assert _np(I.extract_patches(X[0], 3, strides=1, data_format="channels_last")).shape == (4, 6, 27)
    vol = RNG.random((1, 4, 4, 4, 2)).astype("float32")
    assert _np(I.extract_patches(vol, (2, 2, 2), data_format="channels_last")).shape == (1, 2, 2, 2, 16)
    assert I.extract_patches(KerasTensor((None, 6, 8, 3)), 2, data_format="channels_last").shape == \
        (None, 3, 4, 12)
    with pytest.raises(ValueError, match="extract_patches: expected `padding` 'valid' or 'same'"):
        I.extract_patches(X, 2, padding="full")


def test_gaussian_blur():
    out = _both_formats(I.gaussian_blur, X, kernel_size=(5, 3), sigma=(2.0, 1.0))

    def kern(n, s):
        k = np.exp(-0.5 * ((np.arange(n) - (n - 1) / 2) / s) ** 2)
        return k / k.sum()

    k2 = np.outer(kern(3, 1.0), kern(5, 2.0))  # (height, width): kernel_size and sigma are (width, height)
    ref = np.stack([ndimage.correlate(X[b, :, :, c], k2, mode="constant") for b in range(2) for c in range(3)])
    np.testing.assert_allclose(out, ref.reshape(2, 3, 6, 8).transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="gaussian_blur: expected positive `sigma`"):
        I.gaussian_blur(X, sigma=0.0)


_SCIPY_MODES = {"constant": "grid-constant", "nearest": "nearest", "wrap": "grid-wrap", "mirror": "mirror",
                "reflect": "reflect"}


@pytest.mark.parametrize("fill_mode", sorted(_SCIPY_MODES))
@pytest.mark.parametrize("order", [0, 1])
def test_map_coordinates_matches_scipy(fill_mode, order):
    img = X[0, :, :, 0]
    coords = RNG.uniform(-5, 12, (2, 4, 5)).astype("float32")
    if order == 0:
        coords = np.round(coords * 2) / 2 + 0.1  # keep away from the rounding ties
    out = _np(I.map_coordinates(img, coords, order, fill_mode, 0.25))
    ref = ndimage.map_coordinates(img.astype("float64"), coords.astype("float64"), order=order,
                                  mode=_SCIPY_MODES[fill_mode], cval=0.25)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_map_coordinates_errors_and_grad():
    with pytest.raises(ValueError, match="map_coordinates: expected `coordinates` of shape \\(2, ...\\)"):
        I.map_coordinates(X[0, :, :, 0], np.zeros((3, 4)), 1)
    with pytest.raises(ValueError, match="map_coordinates: expected `order` 0 or 1"):
        I.map_coordinates(X[0, :, :, 0], np.zeros((2, 4)), 3)
    with pytest.raises(ValueError, match="map_coordinates: expected `fill_mode`"):
        I.map_coordinates(X[0, :, :, 0], np.zeros((2, 4)), 1, fill_mode="edge")
    img = X[0, :, :, 0]
    coords = np.array([[1.25, 2.5], [3.5, 0.75]], "float32")
    _, tangent = ops.jvp(lambda c: I.map_coordinates(img, c, 1), (coords,), (np.array([[0.0, 0.0], [1.0, 0.0]],
                                                                                        "float32"),))
    expected = (ndimage.map_coordinates(img, [[1.25], [3.5 + 1e-3]], order=1)
                - ndimage.map_coordinates(img, [[1.25], [3.5 - 1e-3]], order=1)) / 2e-3
    np.testing.assert_allclose(_np(tangent)[0], expected[0], rtol=1e-3)


def test_affine_transform():
    t = np.array([[1.1, 0.2, -1.0, -0.1, 0.9, 1.5, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0]], "float32")
    out = _both_formats(I.affine_transform, X, transform=t, fill_mode="reflect")
    np.testing.assert_allclose(out[1], X[1], rtol=1e-6)  # identity
    ys, xs = np.meshgrid(np.arange(6), np.arange(8), indexing="ij")
    x_in, y_in = 1.1 * xs + 0.2 * ys - 1.0, -0.1 * xs + 0.9 * ys + 1.5
    ref = np.stack([ndimage.map_coordinates(X[0, :, :, c], [y_in, x_in], order=1, mode="reflect")
                    for c in range(3)], -1)
    np.testing.assert_allclose(out[0], ref, rtol=1e-5, atol=1e-5)
    assert I.affine_transform(KerasTensor((None, 6, 8, 3)), KerasTensor((None, 8)),
                              data_format="channels_last").shape == (None, 6, 8, 3)
    with pytest.raises(ValueError, match="affine_transform: expected `transform` of shape \\(8,\\)"):
        I.affine_transform(X, np.zeros((2, 6)))
    with pytest.raises(ValueError, match="affine_transform: expected `interpolation` in"):
        I.affine_transform(X, t, interpolation="bicubic")


def test_affine_transform_gradient():
    x = X[:1]
    t = np.array([1, 0, 0.5, 0, 1, 0.25, 0, 0], "float32")  # shifts: every output is a fixed input blend
    _, tangent = ops.jvp(lambda im: I.affine_transform(im, t, fill_mode="nearest", data_format="channels_last"),
                         (x,), (np.ones_like(x),))
    np.testing.assert_allclose(_np(tangent), np.ones_like(x), rtol=1e-5)


def test_perspective_transform():
    corners = np.array([[0, 0], [7, 0], [0, 5], [7, 5]], "float32")
    np.testing.assert_allclose(_both_formats(I.perspective_transform, X, start_points=corners,
                                             end_points=corners), X, rtol=1e-4, atol=1e-5)
    shifted = corners + np.array([1.0, 0.0], "float32")  # content moves one column right
    out = _np(I.perspective_transform(X, corners, shifted, interpolation="nearest", data_format="channels_last"))
    np.testing.assert_allclose(out[:, :, 1:], X[:, :, :-1], atol=1e-4)
    np.testing.assert_array_equal(out[:, :, 0], 0.0)
    with pytest.raises(ValueError, match="perspective_transform: expected `start_points` of shape \\(4, 2\\)"):
        I.perspective_transform(X, np.zeros((3, 2)), np.zeros((3, 2)))


def test_scale_and_translate():
    out = _np(I.scale_and_translate(X, (2, 12, 16, 3), [2.0, 2.0], [0.0, 0.0], (1, 2), "linear"))
    ref = _np(I.resize(X, (12, 16), interpolation="bilinear", data_format="channels_last"))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    down = _np(I.scale_and_translate(X, (2, 3, 4, 3), [0.5, 0.5], [0.0, 0.0], (1, 2), "linear"))
    np.testing.assert_allclose(down, _np(I.resize(X, (3, 4), antialias=True, data_format="channels_last")),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="scale_and_translate: expected `method` in"):
        I.scale_and_translate(X, (2, 3, 4, 3), [0.5, 0.5], [0.0, 0.0], (1, 2), "area")
    with pytest.raises(ValueError, match="scale_and_translate: expected `output_shape` of length 4"):
        I.scale_and_translate(X, (5, 3, 4, 3), [0.5, 0.5], [0.0, 0.0], (1, 2), "linear")


def test_data_format_error():
    with pytest.raises(ValueError, match="resize: expected `data_format` 'channels_last' or 'channels_first'"):
        I.resize(X, (3, 3), data_format="NHWC")
