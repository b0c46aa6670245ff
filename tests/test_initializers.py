"""lamina.initializers: distributions against NumPy formulas, seeding, configs, errors."""

import math

import numpy as np
import pytest

from lamina import initializers, ops
from lamina import random as lrandom
from lamina.random.random import set_global_seed

KERAS_NAMES = [
    "Constant", "constant", "deserialize", "get", "glorot_normal", "glorot_uniform", "GlorotNormal",
    "GlorotUniform", "he_normal", "he_uniform", "HeNormal", "HeUniform", "Identity", "identity",
    "IdentityInitializer", "Initializer", "lecun_normal", "lecun_uniform", "LecunNormal",
    "LecunUniform", "Ones", "ones", "Orthogonal", "orthogonal", "OrthogonalInitializer",
    "random_normal", "random_uniform", "RandomNormal", "RandomUniform", "serialize", "STFT", "stft",
    "STFTInitializer", "truncated_normal", "TruncatedNormal", "variance_scaling", "VarianceScaling",
    "Zeros", "zeros",
]

TRUNC_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]


def np_(x):
    return ops.convert_to_numpy(x)


def test_every_keras_name_is_exported():
    assert [n for n in KERAS_NAMES if not hasattr(initializers, n)] == []
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert initializers.OrthogonalInitializer is initializers.Orthogonal
    assert initializers.IdentityInitializer is initializers.Identity


def test_constant_zeros_ones():
    assert np_(initializers.Constant(2.5)((2, 3))).tolist() == [[2.5] * 3] * 2
    assert np_(initializers.Zeros()((2,))).tolist() == [0.0, 0.0]
    ones = initializers.Ones()((3,), dtype="int32")
    assert ops.dtype(ones) == "int32" and np_(ones).tolist() == [1, 1, 1]
    assert ops.dtype(initializers.Zeros()((2,))) == "float32"
    assert np_(initializers.Constant([1.0, 2.0])((2, 2))).tolist() == [[1.0, 2.0], [1.0, 2.0]]


def test_identity():
    np.testing.assert_array_equal(np_(initializers.Identity(gain=3.0)((3, 4))), 3.0 * np.eye(3, 4))
    with pytest.raises(ValueError, match=r"Identity: can only initialize 2D matrices, but received shape=\(3,\)"):
        initializers.Identity()((3,))


@pytest.mark.parametrize("shape,fans", [
    ((), (1, 1)), ((5,), (5, 5)), ((4, 7), (4, 7)), ((3, 16, 32), (48, 96)), ((3, 3, 16, 32), (144, 288)),
])
def test_compute_fans(shape, fans):
    assert initializers.compute_fans(shape) == fans


def test_glorot_uniform_bounds_and_variance():
    shape = (300, 200)
    w = np_(initializers.GlorotUniform(seed=1)(shape))
    limit = math.sqrt(6.0 / (300 + 200))
    assert w.shape == shape and w.dtype == np.float32
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    np.testing.assert_allclose(w.var(), limit**2 / 3, rtol=0.03)
    assert abs(w.mean()) < 0.01 * limit


def test_he_normal_std_and_truncation():
    shape = (256, 512)
    w = np_(initializers.HeNormal(seed=2)(shape))
    target_std = math.sqrt(2.0 / 256)
    np.testing.assert_allclose(w.std(), target_std, rtol=0.03)
    assert np.abs(w).max() <= 2 * target_std / TRUNC_STD + 1e-6


@pytest.mark.parametrize("cls,scale,mode,dist", [
    ("GlorotNormal", 1.0, "fan_avg", "truncated_normal"),
    ("LecunNormal", 1.0, "fan_in", "truncated_normal"),
    ("LecunUniform", 1.0, "fan_in", "uniform"),
    ("HeUniform", 2.0, "fan_in", "uniform"),
])
def test_presets_match_variance_scaling(cls, scale, mode, dist):
    shape = (3, 3, 8, 16)
    a = np_(getattr(initializers, cls)(seed=4)(shape))
    b = np_(initializers.VarianceScaling(scale, mode, dist, seed=4)(shape))
    np.testing.assert_array_equal(a, b)
    # Keras 3.15's config: seed plus the fan axes
    assert getattr(initializers, cls)(seed=4).get_config() == {"seed": 4, "input_axes": None, "output_axes": None}


@pytest.mark.parametrize("mode,n", [("fan_in", 3 * 3 * 20), ("fan_out", 3 * 3 * 40), ("fan_avg", 3 * 3 * 30)])
def test_variance_scaling_modes_on_conv_kernels(mode, n):
    w = np_(initializers.VarianceScaling(scale=3.0, mode=mode, distribution="untruncated_normal", seed=5)(
        (3, 3, 20, 40)))
    np.testing.assert_allclose(w.std(), math.sqrt(3.0 / n), rtol=0.03)


def test_variance_scaling_normal_alias_and_config():
    init = initializers.VarianceScaling(distribution="Normal")
    assert init.distribution == "truncated_normal"
    assert init.get_config() == {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal", "seed": None,
                                 "input_axes": None, "output_axes": None}


def test_random_normal_uniform_truncated():
    w = np_(initializers.RandomNormal(mean=1.0, stddev=2.0, seed=0)((100000,)))
    np.testing.assert_allclose([w.mean(), w.std()], [1.0, 2.0], rtol=0.02, atol=0.02)
    u = np_(initializers.RandomUniform(-1.0, 3.0, seed=0)((100000,)))
    assert u.min() >= -1.0 and u.max() < 3.0
    np.testing.assert_allclose(u.mean(), 1.0, atol=0.02)
    t = np_(initializers.TruncatedNormal(mean=0.0, stddev=1.0, seed=0)((100000,)))
    assert np.abs(t).max() <= 2.0
    np.testing.assert_allclose(t.std(), TRUNC_STD, rtol=0.02)


def test_int_seed_is_deterministic_and_seeds_differ():
    a = np_(initializers.GlorotUniform(seed=7)((4, 5)))
    init = initializers.GlorotUniform(seed=7)
    np.testing.assert_array_equal(np_(init((4, 5))), a)
    np.testing.assert_array_equal(np_(init((4, 5))), a)
    assert not np.array_equal(np_(initializers.GlorotUniform(seed=8)((4, 5))), a)


def test_unseeded_instances_differ_but_global_seed_makes_them_repeatable():
    set_global_seed(123)
    a, b = initializers.RandomNormal(), initializers.RandomNormal()
    wa1, wa2, wb = np_(a((10,))), np_(a((10,))), np_(b((10,)))
    assert not np.array_equal(wa1, wb)
    assert not np.array_equal(wa1, wa2)  # successive calls draw new values
    set_global_seed(123)
    np.testing.assert_array_equal(np_(initializers.RandomNormal()((10,))), wa1)
    assert initializers.RandomNormal().get_config()["seed"] is None


def test_seed_generator_seed_and_config_round_trip():
    init = initializers.RandomUniform(seed=lrandom.SeedGenerator(3))
    assert not np.array_equal(np_(init((5,))), np_(init((5,))))
    config = init.get_config()
    assert config["seed"]["class_name"] == "SeedGenerator"
    clone = initializers.RandomUniform.from_config(config)
    assert np_(clone((5,))).shape == (5,)


@pytest.mark.parametrize("shape", [(6, 6), (10, 4), (4, 10), (3, 3, 4, 8)])
def test_orthogonal(shape):
    w = np_(initializers.Orthogonal(gain=2.0, seed=0)(shape))
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-4)


def test_orthogonal_float64_and_rank_error():
    w = initializers.Orthogonal(seed=0)((5, 5), dtype="float64")
    assert ops.dtype(w) == "float64"
    with pytest.raises(ValueError, match=r"Orthogonal: shape must have at least 2 dimensions, but received shape=\(5,\)"):
        initializers.Orthogonal()((5,))


def test_stft_matches_numpy_dft():
    frame, bins = 8, 5
    n_fft = 2 * (bins - 1)
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame) / (frame - 1))  # symmetric hann
    t, f = np.arange(frame)[:, None], np.arange(bins)[None, :]
    for side, fn in (("real", np.cos), ("imag", np.sin)):
        k = np_(initializers.STFT(side=side)((frame, 1, bins)))
        expected = fn(-2 * np.pi * t * f / n_fft) * win[:, None] / np.sqrt(np.sum(win**2))
        np.testing.assert_allclose(k[:, 0, :], expected, atol=1e-6)


def test_dtype_handling():
    assert ops.dtype(initializers.GlorotNormal(seed=0)((2, 2), dtype="float64")) == "float64"
    assert ops.dtype(initializers.HeUniform(seed=0)((2, 2), dtype="float16")) == "float16"
    with pytest.raises(ValueError, match=r"RandomNormal: dtype must be a floating-point dtype, but received dtype='int32'"):
        initializers.RandomNormal(seed=0)((2,), dtype="int32")


ALL_CLASSES = [
    initializers.Constant(1.5), initializers.Zeros(), initializers.Ones(), initializers.Identity(2.0),
    initializers.STFT(side="imag", window="hamming", scaling="spectrum", periodic=True),
    initializers.RandomNormal(0.1, 0.2, seed=1), initializers.RandomUniform(-0.2, 0.3, seed=1),
    initializers.TruncatedNormal(0.0, 0.3, seed=1),
    initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=1),
    initializers.GlorotNormal(seed=1), initializers.GlorotUniform(seed=1), initializers.HeNormal(seed=1),
    initializers.HeUniform(seed=1), initializers.LecunNormal(seed=1), initializers.LecunUniform(seed=1),
    initializers.Orthogonal(gain=0.5, seed=1),
]


@pytest.mark.parametrize("init", ALL_CLASSES, ids=lambda i: type(i).__name__)
def test_config_round_trip(init):
    shape = (4, 1, 3) if isinstance(init, initializers.STFT) else (4, 3)
    config = initializers.serialize(init)
    assert config["class_name"] == type(init).__name__ and config["module"] == "keras.initializers"
    clone = initializers.deserialize(config)
    assert type(clone) is type(init) and clone.get_config() == init.get_config()
    np.testing.assert_array_equal(np_(clone(shape)), np_(init(shape)))
    assert type(init.clone()) is type(init)


def test_get():
    assert initializers.get(None) is None
    assert isinstance(initializers.get("he_normal"), initializers.HeNormal)
    assert isinstance(initializers.get("HeNormal"), initializers.HeNormal)
    assert isinstance(initializers.get("uniform"), initializers.RandomUniform)
    assert isinstance(initializers.get(initializers.Ones), initializers.Ones)
    inst = initializers.Zeros()
    assert initializers.get(inst) is inst
    init = initializers.get({"class_name": "RandomNormal", "config": {"stddev": 1.0, "seed": 2}})
    assert init.stddev == 1.0 and init.seed == 2

    def fn(shape, dtype=None):
        return ops.zeros(shape, dtype=dtype)

    assert initializers.get(fn) is fn


def test_custom_class_needs_custom_objects():
    class MyInit(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return ops.ones(shape, dtype=dtype)

    config = initializers.serialize(MyInit())
    assert config["registered_name"] == "MyInit"
    assert isinstance(initializers.deserialize(config, custom_objects={"MyInit": MyInit}), MyInit)
    with pytest.raises(ValueError, match="Unknown initializer 'MyInit'"):
        initializers.deserialize(config)


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match=r"Unknown initializer 'glorot_unifrom'\. Did you mean \['glorot_uniform'"):
        initializers.get("glorot_unifrom")
    with pytest.raises(ValueError, match="Could not interpret initializer identifier: 3"):
        initializers.get(3)


@pytest.mark.parametrize("make,message", [
    (lambda: initializers.VarianceScaling(mode="x"),
     "VarianceScaling: mode must be one of ['fan_in', 'fan_out', 'fan_avg'], but received mode='x'"),
    (lambda: initializers.VarianceScaling(distribution="gamma"),
     "VarianceScaling: distribution must be one of ['truncated_normal', 'untruncated_normal', 'uniform'], "
     "but received distribution='gamma'"),
    (lambda: initializers.VarianceScaling(scale=0.0), "VarianceScaling: scale must be positive, but received scale=0.0"),
    (lambda: initializers.GlorotUniform(seed="a"),
     "GlorotUniform: seed must be an int, None or a lamina.random.SeedGenerator, but received seed='a'"),
    (lambda: initializers.RandomNormal(stddev=-1.0),
     "RandomNormal: stddev must be non-negative, but received stddev=-1.0"),
    (lambda: initializers.RandomUniform(1.0, 0.0),
     "RandomUniform: minval must be <= maxval, but received minval=1.0, maxval=0.0"),
    (lambda: initializers.Constant("a"), "Constant: value must be a number or an array-like, but received value='a'"),
    (lambda: initializers.STFT(side="left"), "STFT: side must be one of ['real', 'imag'], but received side='left'"),
    (lambda: initializers.Zeros()((None, 3)),
     "Zeros: shape must be a tuple of non-negative ints (fully known), but received shape=(None, 3)"),
])
def test_argument_errors(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert message in str(info.value)
