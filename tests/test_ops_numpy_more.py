"""The NumPy-style, math and nn ops added to match keras.ops (nan-statistics, windows, histogram, correlate, ...,
saturate_cast, cdist, rearrange, complex views, FFT/STFT, pixel shuffles, fold/unfold): values against NumPy,
dtypes, symbolic shapes, gradients where relevant, and argument errors. Runs on the engine chosen by
``LAMINA_BACKEND``."""

import numpy as np
import pytest
import scipy.special

import lamina
from lamina import ops

RNG = np.random.default_rng(0)
F = RNG.normal(size=(3, 5)).astype("float32")
NAN = np.array([[1.0, np.nan, 3.0, -2.0], [np.nan, 5.0, 2.0, 0.5], [4.0, 4.0, np.nan, 1.0]], "float32")
I = RNG.integers(-5, 6, (3, 4)).astype("int32")


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _check(got, want, dtype=None, rtol=1e-5, atol=1e-6):
    got_np = _np(got)
    np.testing.assert_allclose(got_np, want, rtol=rtol, atol=atol)
    assert got_np.shape == np.shape(want), (got_np.shape, np.shape(want))
    if dtype is not None:
        assert ops.dtype(got) == dtype


# ---- values and dtypes against NumPy ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning"])
@pytest.mark.parametrize("m", [0, 1, 5, 12])
def test_windows(name, m):
    _check(getattr(ops, name)(m), getattr(np, name)(m), "float32")


def test_kaiser():
    _check(ops.kaiser(7, 3.5), np.kaiser(7, 3.5), "float32")


NAN_CASES = [
    ("nansum_like_nanprod", lambda o, x: o.nanprod(x, axis=1), lambda x: np.nanprod(x, axis=1)),
    ("nanprod_all", lambda o, x: o.nanprod(x), lambda x: np.nanprod(x)),
    ("nanvar", lambda o, x: o.nanvar(x, axis=0), lambda x: np.nanvar(x, axis=0)),
    ("nanvar_keepdims", lambda o, x: o.nanvar(x, axis=(0, 1), keepdims=True),
     lambda x: np.nanvar(x, axis=(0, 1), keepdims=True)),
    ("nanstd", lambda o, x: o.nanstd(x, axis=1), lambda x: np.nanstd(x, axis=1)),
    ("nanmedian", lambda o, x: o.nanmedian(x, axis=1), lambda x: np.nanmedian(x, axis=1)),
    ("nanmedian_all", lambda o, x: o.nanmedian(x), lambda x: np.nanmedian(x)),
    ("nanquantile", lambda o, x: o.nanquantile(x, [0.25, 0.9], axis=0, keepdims=True),
     lambda x: np.nanquantile(x, [0.25, 0.9], axis=0, keepdims=True)),
    ("nanquantile_lower", lambda o, x: o.nanquantile(x, 0.3, axis=1, method="lower"),
     lambda x: np.nanquantile(x, 0.3, axis=1, method="lower")),
    ("nanpercentile", lambda o, x: o.nanpercentile(x, 40, axis=1, method="midpoint"),
     lambda x: np.nanpercentile(x, 40, axis=1, method="midpoint")),
    ("nancumsum", lambda o, x: o.nancumsum(x, axis=1), lambda x: np.nancumsum(x, axis=1)),
    ("nancumsum_flat", lambda o, x: o.nancumsum(x), lambda x: np.nancumsum(x)),
    ("nancumprod", lambda o, x: o.nancumprod(x, axis=0), lambda x: np.nancumprod(x, axis=0)),
]


@pytest.mark.parametrize("fn,ref", [c[1:] for c in NAN_CASES], ids=[c[0] for c in NAN_CASES])
def test_nan_reductions(fn, ref):
    _check(fn(ops, NAN), ref(NAN.astype("float64")), "float32", rtol=1e-5)


def test_nan_args_and_integer_dtypes():
    _check(ops.nanargmax(NAN, axis=1), np.nanargmax(NAN, axis=1), "int32")
    _check(ops.nanargmin(NAN), np.nanargmin(NAN), "int32")
    _check(ops.nanargmax(NAN, axis=0, keepdims=True), np.nanargmax(NAN, axis=0, keepdims=True), "int32")
    all_nan = np.array([[np.nan, np.nan], [1.0, np.nan]], "float32")
    assert _np(ops.nanargmax(all_nan, axis=1)).tolist() == [-1, 0]  # -1 marks an all-NaN slice
    _check(ops.nanprod(I, axis=0), np.prod(I, axis=0), "int32")
    _check(ops.nanprod(np.array([True, False])), 0, "int32")
    _check(ops.nancumsum(I, axis=1), np.cumsum(I, axis=1), "int32")
    _check(ops.nancumsum(I, axis=1, dtype="float32"), np.cumsum(I, axis=1), "float32")
    _check(ops.nanvar(I), np.var(I), "float32", rtol=1e-5)
    _check(ops.nanmedian(I, axis=0), np.median(I, axis=0), "float32")


def test_elementwise_ops():
    _check(ops.i0(F), np.i0(F.astype("float64")), "float32", rtol=1e-5)
    _check(ops.i0(I), np.i0(I), "float32", rtol=1e-5)
    _check(ops.erfc(F), scipy.special.erfc(F.astype("float64")), "float32", rtol=1e-5)
    _check(ops.isreal(F), np.ones(F.shape, bool), "bool")
    z = np.array([1 + 0j, 1 + 1j], "complex64")
    assert _np(ops.isreal(z)).tolist() == [True, False]
    _check(ops.ldexp(F[:, :4], I), np.ldexp(F[:, :4], I), "float32")
    _check(ops.ldexp(I, I.clip(0, 5)), np.ldexp(I, I.clip(0, 5)), "float32")
    a, b = np.array([1.0, 2.0, 0.0], "float32"), np.array([2.0, 0.0, -1.0], "float32")
    _check(ops.nextafter(a, b), np.nextafter(a, b), "float32", rtol=0, atol=0)
    _check(ops.nextafter(np.array([1, 2], "int32"), np.array([2, 0], "int32")),
           np.nextafter(np.float32([1, 2]), np.float32([2, 0])), "float32", rtol=0, atol=0)


def test_correlate_matches_numpy():
    a = RNG.normal(size=7).astype("float32")
    for v in (RNG.normal(size=3).astype("float32"), RNG.normal(size=4).astype("float32"),
              RNG.normal(size=9).astype("float32")):
        for mode in ("valid", "same", "full"):
            _check(ops.correlate(a, v, mode=mode), np.correlate(a, v, mode=mode), "float32", rtol=1e-5, atol=1e-5)
    _check(ops.correlate(np.array([1, 2, 3], "int32"), np.array([0, 1], "int32"), mode="same"),
           np.correlate([1, 2, 3], [0, 1], mode="same"), "float32")


def test_histogram_matches_numpy():
    x = RNG.normal(size=50).astype("float32")
    for bins, rng in ((10, None), (4, (-1.0, 1.0)), (1, None)):
        counts, edges = ops.histogram(x, bins=bins, range=rng)
        want_c, want_e = np.histogram(x, bins=bins, range=rng)
        _check(counts, want_c, "float32")
        _check(edges, want_e, "float32", rtol=1e-5, atol=1e-5)
    counts, edges = ops.histogram(np.full(4, 2.0, "float32"), bins=2)
    assert _np(counts).tolist() == [0.0, 4.0] and _np(edges).tolist() == [1.5, 2.0, 2.5]


def test_argpartition_partitions():
    x = RNG.normal(size=(4, 9)).astype("float32")
    for kth in (0, 3, -1):
        idx = _np(ops.argpartition(x, kth))
        assert ops.dtype(ops.argpartition(x, kth)) == "int32"
        part = np.take_along_axis(x, idx, -1)
        k = kth % 9
        np.testing.assert_array_equal(part[:, k], np.sort(x, -1)[:, k])
        assert (part[:, :k] <= part[:, k:k + 1]).all() and (part[:, k + 1:] >= part[:, k:k + 1]).all()
        assert sorted(idx[0].tolist()) == list(range(9))
    flat = _np(ops.argpartition(x, 5, axis=None))
    assert flat.shape == (36,) and x.ravel()[flat[5]] == np.sort(x.ravel())[5]


def test_index_and_matrix_ops():
    got = ops.unravel_index(np.array([5, 7, 0], "int32"), (2, 4))
    for g, w in zip(got, np.unravel_index([5, 7, 0], (2, 4))):
        _check(g, w, "int32")
    got = ops.unravel_index(22, (3, 4, 2))
    assert [int(_np(g)) for g in got] == list(np.unravel_index(22, (3, 4, 2)))
    _check(ops.vander(np.array([1.0, 2.0, 3.0], "float32")), np.vander([1.0, 2.0, 3.0]), "float32")
    _check(ops.vander(np.array([1, 2, 3], "int32"), 4, increasing=True), np.vander([1, 2, 3], 4, increasing=True),
           "int32")
    parts = ops.dsplit(np.arange(24.0, dtype="float32").reshape(2, 3, 4), [1, 3])
    for g, w in zip(parts, np.dsplit(np.arange(24.0, dtype="float32").reshape(2, 3, 4), [1, 3])):
        _check(g, w, "float32")


def test_view_reinterprets_bytes():
    x = np.array([[1.0, -2.5]], "float32")
    _check(ops.view(x, "int32"), x.view("int32"), "int32")
    _check(ops.view(x, "int8"), x.view("int8"), "int8")
    _check(ops.view(x, "float64"), x.view("float64"), "float64")
    _check(ops.view(x), x, "float32")


def test_vectorize():
    add = ops.vectorize(lambda a, b: a * 2.0 + b)
    a, b = RNG.normal(size=(3, 1)).astype("float32"), RNG.normal(size=(4,)).astype("float32")
    _check(add(a, b), a * 2.0 + b, rtol=1e-6)
    dot = ops.vectorize(lambda u, v: ops.sum(u * v), signature="(n),(n)->()")
    u, v = RNG.normal(size=(2, 3, 5)).astype("float32"), RNG.normal(size=(5,)).astype("float32")
    _check(dot(u, v), u @ v, rtol=1e-5)
    scaled = ops.vectorize(lambda x, k: x * k, excluded={1})
    _check(scaled(np.ones((2, 2), "float32"), 3.0), np.full((2, 2), 3.0))


def test_saturate_cast():
    x = np.array([-1.0, 256.0, 3.7, np.inf, -np.inf], "float32")
    _check(ops.saturate_cast(x, "uint8"), [0, 255, 3, 255, 0], "uint8")
    _check(ops.cast(ops.saturate_cast(np.array([-200, 300, 5], "int32"), "int8"), "int32"), [-128, 127, 5])
    _check(ops.saturate_cast(np.array([1e10, -1e10], "float64"), "float16"), [65504.0, -65504.0], "float16")


def test_cdist_and_complex_views():
    x = RNG.normal(size=(2, 4, 3)).astype("float32")
    y = RNG.normal(size=(2, 5, 3)).astype("float32")
    want = np.sqrt(((x[:, :, None] - y[:, None]) ** 2).sum(-1))
    _check(ops.cdist(x, y), want, "float32", rtol=1e-5)
    pairs = RNG.normal(size=(3, 2)).astype("float32")
    c = ops.view_as_complex(pairs)
    _check(c, pairs[:, 0] + 1j * pairs[:, 1], "complex64")
    _check(ops.view_as_real(c), pairs, "float32")


def test_rearrange():
    x = np.arange(2 * 3 * 4 * 6, dtype="float32").reshape(2, 3, 4, 6)
    _check(ops.rearrange(x, "b h w c -> b c h w"), x.transpose(0, 3, 1, 2))
    _check(ops.rearrange(x, "b h w c -> (b h) (w c)"), x.reshape(6, 24))
    _check(ops.rearrange(x, "b h w (c d) -> b d h w c", d=2), x.reshape(2, 3, 4, 3, 2).transpose(0, 4, 1, 2, 3))
    _check(ops.rearrange(x.reshape(6, 4, 6), "(b h) w c -> b (w h) c", b=2),
           x.transpose(0, 2, 1, 3).reshape(2, 12, 6))


# ---- math: Fourier transforms -------------------------------------------------------------------------------

def test_fft_family_matches_numpy():
    re, im = RNG.normal(size=(2, 3, 8)).astype("float32")
    z = re.astype("float64") + 1j * im
    for name, ref in (("fft", np.fft.fft), ("fft2", np.fft.fft2), ("ifft2", np.fft.ifft2)):
        got_re, got_im = getattr(ops, name)((re, im))
        want = ref(z)
        _check(got_re, want.real, "float32", rtol=1e-4, atol=1e-5)
        _check(got_im, want.imag, "float32", rtol=1e-4, atol=1e-5)
    for n in (None, 6, 12):
        got_re, got_im = ops.rfft(re, fft_length=n)
        want = np.fft.rfft(re, n=n)
        _check(got_re, want.real, "float32", rtol=1e-4, atol=1e-5)
        _check(got_im, want.imag, "float32", rtol=1e-4, atol=1e-5)
    spec = np.fft.rfft(re)
    for n in (None, 8, 9):
        _check(ops.irfft((spec.real.astype("float32"), spec.imag.astype("float32")), fft_length=n),
               np.fft.irfft(spec, n=n), "float32", rtol=1e-4, atol=1e-5)


def _np_stft(x, seq_len, stride, n_fft, window, center):
    if center:
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(n_fft // 2, n_fft // 2)], mode="reflect")
    if window is None:
        win = np.ones(n_fft)  # as Keras: no window means all fft_length samples, unweighted
    else:
        a = 0.5 if window == "hann" else 0.54
        win = a - (1 - a) * np.cos(2 * np.pi * np.arange(seq_len) / seq_len)
        left = (n_fft - seq_len) // 2
        win = np.pad(win, (left, n_fft - seq_len - left))
    n = 1 + (x.shape[-1] - n_fft) // stride
    frames = np.stack([x[..., i * stride:i * stride + n_fft] for i in range(n)], -2)
    return np.fft.rfft(frames * win, n=n_fft)


@pytest.mark.parametrize("seq_len,stride,n_fft,window,center", [
    (10, 4, 16, "hann", True), (16, 5, 16, "hamming", False), (12, 3, 16, None, True)])
def test_stft_matches_a_numpy_reference_and_istft_inverts_it(seq_len, stride, n_fft, window, center):
    x = RNG.normal(size=(2, 64)).astype("float32")
    got_re, got_im = ops.stft(x, seq_len, stride, n_fft, window=window, center=center)
    want = _np_stft(x.astype("float64"), seq_len, stride, n_fft, window, center)
    _check(got_re, want.real, "float32", rtol=1e-4, atol=1e-4)
    _check(got_im, want.imag, "float32", rtol=1e-4, atol=1e-4)
    if window is not None:
        back = _np(ops.istft((got_re, got_im), seq_len, stride, n_fft, window=window, center=center))
        covered = back.shape[-1] - (0 if center else n_fft)  # the uncovered tail has no window weight
        np.testing.assert_allclose(back[..., n_fft:covered - n_fft], x[..., n_fft:covered - n_fft], rtol=1e-4,
                                   atol=1e-4)
    out = ops.istft((got_re, got_im), seq_len, stride, n_fft, length=40, window=window, center=center)
    assert _np(out).shape == (2, 40)


def test_extract_sequences():
    x = np.arange(20, dtype="float32").reshape(2, 10)
    got = ops.extract_sequences(x, 4, 3)
    want = np.stack([x[:, i:i + 4] for i in range(0, 7, 3)], 1)
    _check(got, want, "float32")


# ---- nn: pixel shuffles and im2col ------------------------------------------------------------------------------

def _np_depth_to_space(x, r):
    n, h, w, c = x.shape
    return x.reshape(n, h, w, r, r, c // (r * r)).transpose(0, 1, 3, 2, 4, 5).reshape(n, h * r, w * r, c // (r * r))


def test_depth_to_space_and_back():
    x = RNG.normal(size=(2, 3, 4, 8)).astype("float32")
    y = ops.depth_to_space(x, 2)
    _check(y, _np_depth_to_space(x, 2), "float32")
    _check(ops.space_to_depth(y, 2), x)
    cf = x.transpose(0, 3, 1, 2)
    y_cf = ops.depth_to_space(cf, 2, data_format="channels_first")
    n, c, h, w = cf.shape
    want = cf.reshape(n, c // 4, 2, 2, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(n, c // 4, h * 2, w * 2)
    _check(y_cf, want)
    _check(ops.space_to_depth(y_cf, 2, data_format="channels_first"), cf)


def _np_unfold(x, k, d, p, s):
    x = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    n, c, h, w = x.shape
    oh = (h - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w - d[1] * (k[1] - 1) - 1) // s[1] + 1
    cols = np.zeros((n, c, k[0], k[1], oh, ow), x.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            cols[:, :, i, j] = x[:, :, i * d[0]:i * d[0] + s[0] * oh:s[0], j * d[1]:j * d[1] + s[1] * ow:s[1]]
    return cols.reshape(n, c * k[0] * k[1], oh * ow)


def test_unfold_and_fold():
    x = RNG.normal(size=(2, 3, 7, 6)).astype("float32")
    args = dict(kernel_size=(3, 2), dilation=(1, 2), padding=1, stride=(2, 1))
    cols = ops.unfold(x, **args)
    _check(cols, _np_unfold(x, (3, 2), (1, 2), (1, 1), (2, 1)), "float32")
    # fold is unfold's adjoint: <unfold(x), c> == <x, fold(c)>
    c = RNG.normal(size=_np(cols).shape).astype("float32")
    folded = _np(ops.fold(c, (7, 6), **args))
    assert folded.shape == x.shape
    np.testing.assert_allclose((_np(cols) * c).sum(), (x * folded).sum(), rtol=1e-4)
    ones = ops.fold(ops.unfold(np.ones((1, 2, 4, 4), "float32"), 2, stride=2), (4, 4), 2, stride=2)
    _check(ones, np.ones((1, 2, 4, 4)))


# ---- symbolic shapes and dtypes ---------------------------------------------------------------------------------

SYMBOLIC = [
    (lambda x: ops.nanmedian(x, axis=1), (None,), "float32"),
    (lambda x: ops.nanquantile(x, [0.1, 0.5], axis=1), (2, None), "float32"),
    (lambda x: ops.nanargmax(x, axis=-1), (None,), "int32"),
    (lambda x: ops.nancumsum(x, axis=1), (None, 8), "float32"),
    (lambda x: ops.nanvar(x, axis=0, keepdims=True), (1, 8), "float32"),
    (lambda x: ops.argpartition(x, 2), (None, 8), "int32"),
    (lambda x: ops.i0(x), (None, 8), "float32"),
    (lambda x: ops.isreal(x), (None, 8), "bool"),
    (lambda x: ops.ldexp(x, 2), (None, 8), "float32"),
    (lambda x: ops.view(x, "int8"), (None, 32), "int8"),
    (lambda x: ops.erfc(x), (None, 8), "float32"),
    (lambda x: ops.saturate_cast(x, "uint8"), (None, 8), "uint8"),
    (lambda x: ops.cdist(ops.reshape(x, (-1, 4, 2)), ops.reshape(x, (-1, 4, 2))), (None, 4, 4), "float32"),
    (lambda x: ops.rearrange(x, "b (h w) -> b w h", h=2), (None, 4, 2), "float32"),
    (lambda x: ops.unravel_index(ops.cast(x, "int32"), (2, 4))[1], (None, 8), "int32"),
    (lambda x: ops.rfft(x)[0], (None, 5), "float32"),
    (lambda x: ops.fft((x, x))[1], (None, 8), "float32"),
    (lambda x: ops.stft(x, 4, 2, 4)[0], (None, 5, 3), "float32"),
    (lambda x: ops.extract_sequences(x, 4, 2), (None, 3, 4), "float32"),
    (lambda x: ops.depth_to_space(ops.reshape(x, (-1, 1, 2, 4)), 2), (None, 2, 4, 1), "float32"),
    (lambda x: ops.space_to_depth(ops.reshape(x, (-1, 2, 4, 1)), 2), (None, 1, 2, 4), "float32"),
    (lambda x: ops.unfold(ops.reshape(x, (-1, 1, 2, 4)), 2), (None, 4, 3), "float32"),
    (lambda x: ops.histogram(x[0], bins=3)[0], (3,), "float32"),
    (lambda x: ops.vander(x[0]), (8, 8), "float32"),
]


@pytest.mark.parametrize("fn,shape,dtype", SYMBOLIC, ids=[f"symbolic_{i}" for i in range(len(SYMBOLIC))])
def test_symbolic_shape_and_dtype(fn, shape, dtype):
    out = fn(lamina.KerasTensor((None, 8)))
    assert isinstance(out, lamina.KerasTensor)
    assert tuple(out.shape) == shape and out.dtype == dtype


def test_symbolic_ops_run_in_a_model():
    x = lamina.Input((8,))
    model = lamina.Model(x, [ops.nanmedian(x, axis=1), ops.rearrange(x, "b (h w) -> b w h", h=2)])
    data = RNG.normal(size=(3, 8)).astype("float32")
    med, rearranged = model.predict(data, verbose=0)
    np.testing.assert_allclose(med, np.median(data, axis=1), rtol=1e-6)
    np.testing.assert_allclose(rearranged, data.reshape(3, 2, 4).transpose(0, 2, 1))


# ---- gradients ----------------------------------------------------------------------------------------------------

def test_gradients_flow_through_the_new_ops():
    w = lamina.Variable(RNG.normal(size=(2, 16)).astype("float32"))

    def loss():
        re, im = ops.stft(w, 8, 4, 8)
        d = ops.cdist(ops.reshape(w, (2, 8, 2)), ops.ones((1, 2)))
        cols = ops.unfold(ops.reshape(w, (1, 2, 4, 4)), 2)
        return ops.sum(re * re + im * im) + ops.sum(d) + ops.sum(ops.depth_to_space(
            ops.reshape(w, (1, 2, 4, 4)), 2) ** 2) + ops.sum(cols) + ops.nanvar(w)

    value, (grad,) = ops.value_and_grad(loss, [w])()
    g = _np(grad)
    assert g.shape == (2, 16) and np.isfinite(g).all() and np.abs(g).sum() > 0


# ---- errors -------------------------------------------------------------------------------------------------------

def test_errors_name_the_op_and_what_was_expected():
    with pytest.raises(TypeError, match=r"ldexp: expected the exponent `x2` to have an integer dtype, but received "
                                        r"float32"):
        ops.ldexp(F, F)
    with pytest.raises(ValueError, match=r"correlate: expected `mode` to be 'valid', 'same' or 'full'"):
        ops.correlate([1.0, 2.0], [1.0], mode="wide")
    with pytest.raises(ValueError, match=r"correlate: expected `x1` to be a non-empty 1-D tensor, but received "
                                         r"shape \(3, 5\)"):
        ops.correlate(F, [1.0])
    with pytest.raises(ValueError, match=r"histogram: expected `bins` to be a positive integer, but received 0"):
        ops.histogram(F.ravel(), bins=0)
    with pytest.raises(ValueError, match=r"histogram: expected `range` to be a pair \(min, max\)"):
        ops.histogram(F.ravel(), range=(2.0, 1.0))
    with pytest.raises(ValueError, match=r"argpartition: expected `kth` to be an integer in \[-5, 5\)"):
        ops.argpartition(F, 5)
    with pytest.raises(ValueError, match=r"dsplit: expected `x` with at least 3 dimensions"):
        ops.dsplit(F, 2)
    with pytest.raises(ValueError, match=r"nanquantile: expected `q` to be a scalar or 1-D list of values in \[0, 1\]"):
        ops.nanquantile(F, 1.5)
    with pytest.raises(ValueError, match=r"nanpercentile: expected `method` to be one of"):
        ops.nanpercentile(F, 50, method="cubic")
    with pytest.raises(ValueError, match=r"nanvar: expected `axis` within the 2 dimensions"):
        ops.nanvar(F, axis=3)
    with pytest.raises(ValueError, match=r"vander: expected `x` to be 1-D"):
        ops.vander(F)
    with pytest.raises(ValueError, match=r"view: cannot view shape \(3,\) of dtype float32 as float64"):
        ops.view(np.ones(3, "float32"), "float64")
    with pytest.raises(ValueError, match=r"unravel_index: expected `shape` to be a non-empty tuple"):
        ops.unravel_index([1], (0, 2))
    with pytest.raises(ValueError, match=r"vectorize: expected a signature like"):
        ops.vectorize(lambda a: a, signature="n->m")
    with pytest.raises(TypeError, match=r"bartlett: expected `x` \(the number of points\) to be an integer"):
        ops.bartlett(2.5)
    with pytest.raises(ValueError, match=r"cdist: expected `x` \(..., N, D\) and `y` \(..., M, D\) with the same"):
        ops.cdist(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"view_as_complex: expected a float32 or float64 tensor whose last axis"):
        ops.view_as_complex(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"rearrange: the two sides of 'a b -> a c' must name the same axes"):
        ops.rearrange(F, "a b -> a c")
    with pytest.raises(ValueError, match=r"rearrange: an axis of size 5 cannot be split"):
        ops.rearrange(F, "a (b c) -> a b c", b=2)
    with pytest.raises(ValueError, match=r"fft: expected `x` to be a tuple \(real, imag\)"):
        ops.fft(F)
    with pytest.raises(ValueError, match=r"stft: expected `fft_length` >= `sequence_length`"):
        ops.stft(np.ones((2, 32), "float32"), 16, 4, 8)
    with pytest.raises(ValueError, match=r"stft: expected `window` to be 'hann', 'hamming'"):
        ops.stft(np.ones((2, 32), "float32"), 8, 4, 8, window="boxcar")
    with pytest.raises(TypeError, match=r"stft: expected a float32 or float64 signal"):
        ops.stft(np.ones((2, 32), "int32"), 8, 4, 8)
    with pytest.raises(ValueError, match=r"extract_sequences: expected `sequence_stride` to be a positive integer"):
        ops.extract_sequences(F, 2, 0)
    with pytest.raises(ValueError, match=r"depth_to_space: expected a channel count divisible by block_size\*\*2"):
        ops.depth_to_space(np.ones((1, 2, 2, 3), "float32"), 2)
    with pytest.raises(ValueError, match=r"space_to_depth: expected `data_format` 'channels_last' or"):
        ops.space_to_depth(np.ones((1, 2, 2, 3), "float32"), 2, data_format="NHWC")
    with pytest.raises(ValueError, match=r"unfold: expected a 4-D \(N, C, H, W\) input"):
        ops.unfold(F, 2)
    with pytest.raises(ValueError, match=r"fold: expected x of shape \(N, C \* 4, 4\)"):
        ops.fold(np.ones((1, 8, 5), "float32"), (4, 4), 2, stride=2)


def test_namespaces_match_keras():
    for name in ("argpartition", "nanmedian", "vectorize", "view", "histogram", "dsplit", "vander"):
        assert getattr(ops.numpy, name) is getattr(ops, name)
    for name in ("depth_to_space", "space_to_depth", "fold", "unfold"):
        assert getattr(ops.nn, name) is getattr(ops, name)
    for name in ("erfc", "fft", "stft", "istft", "cdist", "view_as_complex", "extract_sequences"):
        assert getattr(ops.math, name) is getattr(ops, name)
    assert callable(ops.saturate_cast) and callable(ops.rearrange)
