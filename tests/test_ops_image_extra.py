"""``ops.image.elastic_transform``, ``sobel_edges``, ``ssim`` and ``extract_patches_3d`` against NumPy/SciPy
references, in both data formats, for single images, symbolically, and their argument errors. Runs on whichever
backend ``LAMINA_BACKEND`` selects (CI runs the file on each)."""

import numpy as np
import pytest
from scipy import ndimage

import lamina
from lamina import ops
from lamina.backend import KerasTensor

I = ops.image
RNG = np.random.default_rng(0)
X = RNG.random((2, 12, 13, 3)).astype("float32")
Y = np.clip(X + 0.15 * RNG.standard_normal(X.shape), 0, 1).astype("float32")


def _np(x):
    return ops.convert_to_numpy(x)


def _cf(x):
    return np.transpose(x, (0, 3, 1, 2))


# ---- sobel_edges -----------------------------------------------------------------------------------------

def _sobel_ref(x):
    """scipy's Sobel derivative (zero padding) of every 2-D slice: (..., channels, [dy, dx])."""
    out = np.zeros(x.shape + (2,))
    for b in range(x.shape[0]):
        for c in range(x.shape[-1]):
            img = x[b, :, :, c].astype("float64")
            out[b, :, :, c, 0] = ndimage.sobel(img, axis=0, mode="constant")
            out[b, :, :, c, 1] = ndimage.sobel(img, axis=1, mode="constant")
    return out


def test_sobel_edges_matches_scipy_in_both_formats():
    out = _np(I.sobel_edges(X, data_format="channels_last"))
    assert out.shape == X.shape + (2,) and out.dtype == np.float32
    np.testing.assert_allclose(out, _sobel_ref(X), atol=1e-5)
    first = _np(I.sobel_edges(_cf(X), data_format="channels_first"))
    assert first.shape == (2, 3, 12, 13, 2)
    np.testing.assert_allclose(np.transpose(first, (0, 2, 3, 1, 4)), out, atol=1e-6)


def test_sobel_edges_keeps_integer_dtype_and_signs():
    ints = (X * 100).astype("int32")
    out = _np(I.sobel_edges(ints, data_format="channels_last"))
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, _sobel_ref(ints).astype("int32"))
    step = np.zeros((1, 5, 5, 1), "float32")
    step[0, 3:] = 1.0  # brighter below: dy > 0 on the edge, dx = 0 inside
    e = _np(I.sobel_edges(step, data_format="channels_last"))
    assert e[0, 2, 2, 0, 0] == 4.0 and e[0, 2, 2, 0, 1] == 0.0


def test_sobel_edges_symbolic_and_errors():
    assert I.sobel_edges(KerasTensor((None, 6, 7, 2)), data_format="channels_last").shape == (None, 6, 7, 2, 2)
    with pytest.raises(ValueError, match="sobel_edges: expected a batch of images of rank 4, but received shape"):
        I.sobel_edges(X[0])
    with pytest.raises(ValueError, match="sobel_edges: expected `data_format`.*received 'nhwc'"):
        I.sobel_edges(X, data_format="nhwc")


# ---- ssim ------------------------------------------------------------------------------------------------

def _ssim_ref(a, b, max_val=1.0, size=11, sigma=1.5, k1=0.01, k2=0.03):
    """The SSIM formula with a "valid" Gaussian window, in float64 (channels-last batches)."""
    t = np.arange(size) - (size - 1) / 2.0
    g = np.exp(-t ** 2 / (2 * sigma ** 2))
    w = np.outer(g, g) / g.sum() ** 2
    a, b = a.astype("float64"), b.astype("float64")
    oh, ow = a.shape[1] - size + 1, a.shape[2] - size + 1

    def filt(z):
        return sum(z[:, i:i + oh, j:j + ow] * w[i, j] for i in range(size) for j in range(size))

    mu1, mu2 = filt(a), filt(b)
    v1, v2, cov = filt(a * a) - mu1 ** 2, filt(b * b) - mu2 ** 2, filt(a * b) - mu1 * mu2
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    m = (2 * mu1 * mu2 + c1) * (2 * cov + c2) / ((mu1 ** 2 + mu2 ** 2 + c1) * (v1 + v2 + c2))
    return m.mean(axis=(1, 2, 3))


def test_ssim_matches_the_formula():
    out = _np(I.ssim(X, Y, data_format="channels_last"))
    assert out.shape == (2,) and out.dtype == np.float32
    np.testing.assert_allclose(out, _ssim_ref(X, Y), rtol=1e-5, atol=1e-6)
    assert np.all(out < 0.9)  # noisy copies are not identical
    np.testing.assert_allclose(_np(I.ssim(X, X, data_format="channels_last")), [1.0, 1.0], atol=1e-5)
    first = _np(I.ssim(_cf(X), _cf(Y), data_format="channels_first"))
    np.testing.assert_allclose(first, out, rtol=1e-6)
    kw = dict(max_val=2.0, filter_size=5, filter_sigma=0.8, k1=0.02, k2=0.05)
    single = _np(I.ssim(X[1], Y[1], data_format="channels_last", **kw))
    assert single.shape == ()
    np.testing.assert_allclose(single, _ssim_ref(X[1:], Y[1:], **dict(zip(
        ("max_val", "size", "sigma", "k1", "k2"), kw.values())))[0], rtol=1e-5)


def test_ssim_scale_invariance_and_symmetry():
    small = _np(I.ssim(X, Y, data_format="channels_last"))
    large = _np(I.ssim(X * 255.0, Y * 255.0, max_val=255.0, data_format="channels_last"))
    np.testing.assert_allclose(large, small, rtol=1e-4)
    np.testing.assert_allclose(_np(I.ssim(Y, X, data_format="channels_last")), small, rtol=1e-6)


def test_ssim_symbolic_and_errors():
    assert I.ssim(KerasTensor((None, 16, 16, 3)), KerasTensor((None, 16, 16, 3)),
                  data_format="channels_last").shape == (None,)
    assert I.ssim(KerasTensor((16, 16, 3)), KerasTensor((16, 16, 3)), data_format="channels_last").shape == ()
    with pytest.raises(ValueError, match="ssim: expected `image1` and `image2` of the same shape, but received"):
        I.ssim(X, Y[:1])
    with pytest.raises(ValueError, match="ssim: expected `filter_size` to be a positive odd int.*filter_size=4"):
        I.ssim(X, Y, filter_size=4)
    with pytest.raises(ValueError, match="ssim: `filter_size`=15 is larger than the images'"):
        I.ssim(X, Y, filter_size=15, data_format="channels_last")
    with pytest.raises(ValueError, match="ssim: expected `filter_sigma` to be a positive number.*filter_sigma=0"):
        I.ssim(X, Y, filter_sigma=0)
    with pytest.raises(ValueError, match="ssim: expected images of rank 3 .* or 4"):
        I.ssim(X[0, 0], Y[0, 0])


# ---- extract_patches_3d ----------------------------------------------------------------------------------

V = RNG.random((2, 7, 8, 9, 2)).astype("float32")


def _patches3d_ref(v, size, strides):
    (pd, ph, pw), (sd, sh, sw) = size, strides
    b, d, h, w, c = v.shape
    od, oh, ow = (d - pd) // sd + 1, (h - ph) // sh + 1, (w - pw) // sw + 1
    out = np.zeros((b, od, oh, ow, pd * ph * pw * c), v.dtype)
    for i in range(od):
        for j in range(oh):
            for k in range(ow):
                block = v[:, i * sd:i * sd + pd, j * sh:j * sh + ph, k * sw:k * sw + pw, :]
                out[:, i, j, k] = block.reshape(b, -1)
    return out


def test_extract_patches_3d_matches_numpy():
    out = _np(I.extract_patches_3d(V, (2, 3, 4), data_format="channels_last"))
    np.testing.assert_allclose(out, _patches3d_ref(V, (2, 3, 4), (2, 3, 4)), atol=1e-6)
    out = _np(I.extract_patches_3d(V, 3, strides=(1, 2, 3), data_format="channels_last"))
    np.testing.assert_allclose(out, _patches3d_ref(V, (3, 3, 3), (1, 2, 3)), atol=1e-6)
    out = _np(I.extract_patches_3d(V, 2, strides=2, data_format="channels_last"))
    np.testing.assert_allclose(out, _patches3d_ref(V, (2, 2, 2), (2, 2, 2)), atol=1e-6)
    single = _np(I.extract_patches_3d(V[0], 2, data_format="channels_last"))
    np.testing.assert_allclose(single, _patches3d_ref(V[:1], (2, 2, 2), (2, 2, 2))[0], atol=1e-6)
    first = _np(I.extract_patches_3d(np.moveaxis(V, -1, 1), 2, data_format="channels_first"))
    assert first.shape == (2, 16, 3, 4, 4)
    same = _np(I.extract_patches_3d(V, 3, strides=2, padding="same", data_format="channels_last"))
    assert same.shape == (2, 4, 4, 5, 54)


def test_extract_patches_3d_symbolic_and_errors():
    assert I.extract_patches_3d(KerasTensor((None, 6, 6, 6, 2)), 3,
                                data_format="channels_last").shape == (None, 2, 2, 2, 54)
    with pytest.raises(ValueError, match="extract_patches_3d: expected `size` to be a positive int or a tuple of 3"):
        I.extract_patches_3d(V, (2, 2))
    with pytest.raises(ValueError, match="extract_patches_3d: expected volumes of rank 4 .* or 5 .* received rank 3"):
        I.extract_patches_3d(V[0, 0], 2)


# ---- elastic_transform -----------------------------------------------------------------------------------

SCIPY_MODES = {"reflect": "reflect", "constant": "grid-constant", "nearest": "nearest", "wrap": "grid-wrap",
               "mirror": "mirror"}


def _elastic_ref(x, alpha, sigma, seed, order=1, fill_mode="reflect", fill_value=0.0):
    """The documented recipe with SciPy: lamina's seeded normal noise, a zero-padded Gaussian of the same window
    (``int(6 sigma) | 1``), then ``map_coordinates`` per image and channel (channels-last batches)."""
    b, h, w, c = x.shape
    noise = _np(lamina.random.normal((2 * b, h, w, 1), dtype="float32", seed=seed)).astype("float64")[..., 0]
    radius = (int(6 * sigma) | 1) // 2
    smooth = np.stack([ndimage.gaussian_filter(n * sigma, sigma, mode="constant", truncate=radius / sigma)
                       for n in noise])
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    out = np.zeros(x.shape)
    for i in range(b):
        coords = [rows + alpha * smooth[b + i], cols + alpha * smooth[i]]
        for ch in range(c):
            out[i, :, :, ch] = ndimage.map_coordinates(x[i, :, :, ch].astype("float64"), coords, order=order,
                                                       mode=SCIPY_MODES[fill_mode], cval=fill_value)
    return out


@pytest.mark.parametrize("fill_mode", sorted(SCIPY_MODES))
def test_elastic_transform_matches_scipy(fill_mode):
    kw = dict(alpha=6.0, sigma=2.0, fill_mode=fill_mode, fill_value=0.5, seed=7)
    out = _np(I.elastic_transform(X, data_format="channels_last", **kw))
    assert out.shape == X.shape and out.dtype == np.float32
    ref = _elastic_ref(X, 6.0, 2.0, 7, fill_mode=fill_mode, fill_value=0.5)
    np.testing.assert_allclose(out, ref, atol=1e-4)
    assert np.abs(out - X).mean() > 0.05  # it really moved


def test_elastic_transform_nearest_formats_and_single_image():
    out = _np(I.elastic_transform(X, alpha=5.0, sigma=1.5, interpolation="nearest", seed=3,
                                  data_format="channels_last"))
    ref = _elastic_ref(X, 5.0, 1.5, 3, order=0)
    np.testing.assert_allclose(out, ref, atol=1e-5)
    first = _np(I.elastic_transform(_cf(X), alpha=5.0, sigma=1.5, interpolation="nearest", seed=3,
                                    data_format="channels_first"))
    np.testing.assert_allclose(np.transpose(first, (0, 2, 3, 1)), out, atol=1e-6)
    single = _np(I.elastic_transform(X[0], alpha=5.0, sigma=1.5, seed=3, data_format="channels_last"))
    np.testing.assert_allclose(single, _elastic_ref(X[:1], 5.0, 1.5, 3)[0], atol=1e-4)


def test_elastic_transform_seeding_identity_and_dtypes():
    a = _np(I.elastic_transform(X, seed=4, data_format="channels_last"))
    np.testing.assert_array_equal(a, _np(I.elastic_transform(X, seed=4, data_format="channels_last")))
    assert not np.allclose(a, _np(I.elastic_transform(X, seed=5, data_format="channels_last")))
    gen = lamina.random.SeedGenerator(2)
    g1, g2 = (_np(I.elastic_transform(X, seed=gen, data_format="channels_last")) for _ in range(2))
    assert not np.allclose(g1, g2)  # a generator advances
    np.testing.assert_array_equal(_np(I.elastic_transform(X, alpha=0.0, seed=1, data_format="channels_last")), X)
    ints = (X * 255).astype("uint8")
    out = _np(I.elastic_transform(ints, alpha=0.0, seed=1, data_format="channels_last"))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, ints)
    assert I.elastic_transform(KerasTensor((None, 9, 10, 3)), data_format="channels_last").shape == (None, 9, 10, 3)


def test_elastic_transform_errors():
    with pytest.raises(ValueError, match="elastic_transform: expected `interpolation` in .* received 'bicubic'"):
        I.elastic_transform(X, interpolation="bicubic")
    with pytest.raises(ValueError, match="elastic_transform: expected `fill_mode` in .* received 'edge'"):
        I.elastic_transform(X, fill_mode="edge")
    with pytest.raises(ValueError, match="elastic_transform: expected `sigma` to be a positive number.*sigma=0"):
        I.elastic_transform(X, sigma=0)
    with pytest.raises(ValueError, match="elastic_transform: expected `alpha` to be a number.*alpha='a'"):
        I.elastic_transform(X, alpha="a")
    with pytest.raises(ValueError, match="elastic_transform: expected images of rank 3 .* or 4"):
        I.elastic_transform(X[0, 0])
