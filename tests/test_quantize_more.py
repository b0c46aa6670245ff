"""Keras 3.15's quantization API: int4, quantization configs, filters, quantized dtype policies, DTypePolicyMap,
and the ``keras.quantizers`` functions.

Keras parity uses the fixtures in tests/fixtures_keras_quantize/, written by Keras 3.15.1 on JAX
(``make_fixtures.py``): Keras's outputs of its functions, its quantized weights of Dense / EinsumDense /
Embedding, and two quantized models it saved. No Keras is needed here.

Tolerances. Quantized weights and packed bytes are compared exactly. Float outputs: 1e-5 (float32 sums in
another order). On PyTorch, the device path of ``abs_max_quantize_grouped_with_zero_point`` divides exactly
while XLA (Keras's reference ran on JAX) multiplies by an inverse, so its scales may differ by one ulp there.
Int4 models against float ones: an int4 weight errs by at most half a step, ``range / 30`` of its group (or
``max / 14`` per channel); ``max|q - f| <= 0.15 * max|f|`` holds with margin for these small random layers,
and the exact int4 math is checked against NumPy.
"""

import json
import os
import pathlib
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest

import lamina
from lamina import dtype_policies, ops
from lamina import layers as L
from lamina import quantizers as Q

FIXTURES = pathlib.Path(__file__).parent / "fixtures_keras_quantize"
PACK_CASES = [((5, 3), 0), ((4, 7), 1), ((3, 5, 7), -1), ((3, 5, 7), 1), ((1,), 0), ((6, 2), -2)]
AMQ_CASES = [(-1, (-127, 127)), ((0, 1), (-127, 127)), (0, (-8, 7)), (1, (-100, 90))]
GROUP_CASES = [((10, 6), 4), ((7, 3), 3), ((8, 5), 8), ((9, 4), 128)]
FQ_CASES = [(-1.0, 1.0, 8, False, None), (-0.7, 1.2, 4, True, None),
            ([-1, -0.5, -0.2, -1.3], [1, 0.4, 1.1, 0.2], 8, False, -1), (0.1, 1.0, 3, False, None)]
INT4_CASES = {"g128": None, "g4": 4, "pc": -1, "g3": 3}
EINSUM4 = [("abc,cd->abd", (3, 7)), ("abc,cde->abde", (3, 2, 5)), ("abc,dce->abde", (3, 4, 3))]
EINSUM8 = [("abc,cd->abd", (3, 7), (None, 3, 10)), ("abc,cde->abde", (3, 2, 5), (None, 3, 10)),
           ("abc,dce->abde", (3, 4, 3), (None, 3, 10)), ("abcd,cde->abe", (3, 6), (None, 3, 4, 10)),
           ("ab,bc->ac", 6, (None, 10))]


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


@pytest.fixture(scope="module")
def keras_functions():
    return dict(np.load(FIXTURES / "functions.npz"))


@pytest.fixture(scope="module")
def keras_layers():
    return dict(np.load(FIXTURES / "layers.npz"))


def _np_unpack(packed, n, axis):
    """NumPy reference: byte k holds entry 2k in its low nibble and 2k+1 in its high nibble (two's complement)."""
    front = np.moveaxis(packed.astype(np.uint8), axis, 0)
    low, high = (front & 15).astype(np.int16), (front >> 4).astype(np.int16)
    both = np.stack([low, high], axis=1).reshape((-1,) + front.shape[1:])[:n]
    return np.moveaxis(np.where(both > 7, both - 16, both).astype(np.int8), 0, axis)


# ---- keras.quantizers functions -------------------------------------------------------------------------


def test_pack_unpack_int4_bit_exact_with_keras(keras_functions):
    f = keras_functions
    for i, (shape, axis) in enumerate(PACK_CASES):
        for tag, dtype in (("", "int8"), ("u", "uint8")):
            packed, packed_shape, n = Q.pack_int4(f[f"pack{tag}{i}_in"], axis=axis, dtype=dtype)
            np.testing.assert_array_equal(_np(packed), f[f"pack{tag}{i}_out"])
            assert packed_shape == f[f"pack{tag}{i}_out"].shape and n == shape[axis]
            assert ops.dtype(packed) == dtype
            unpacked = Q.unpack_int4(packed, n, axis=axis, dtype=dtype)
            np.testing.assert_array_equal(_np(unpacked), f[f"pack{tag}{i}_unpacked"])
            np.testing.assert_array_equal(_np(unpacked), f[f"pack{tag}{i}_in"])


@pytest.mark.parametrize("shape,axis", [((9,), 0), ((4, 11), 1), ((7, 2, 3), 0), ((2, 5, 3), -2), ((3, 1), 1)])
def test_pack_int4_against_numpy_nibbles(shape, axis):
    values = np.random.default_rng(sum(shape)).integers(-8, 8, size=shape).astype("int8")
    packed, packed_shape, n = Q.pack_int4(values, axis=axis)
    packed = _np(packed)
    front = np.moveaxis(values, axis, 0)
    assert n == front.shape[0] and packed.shape == packed_shape
    assert np.moveaxis(packed, axis, 0).shape[0] == (n + 1) // 2
    np.testing.assert_array_equal(_np_unpack(packed, n, axis), values)
    # the first byte along the axis: low nibble = entry 0, high nibble = entry 1 (or the zero padding)
    first = np.moveaxis(packed, axis, 0)[0].astype(np.uint8)
    second = front[1] if n > 1 else np.zeros_like(front[0])
    np.testing.assert_array_equal(first, (front[0].astype(np.uint8) & 15) | ((second.astype(np.uint8) & 15) << 4))
    np.testing.assert_array_equal(_np(Q.unpack_int4(packed, n, axis=axis)), values)


def test_abs_max_quantize_matches_keras(keras_functions):
    f = keras_functions
    for j, (axis, value_range) in enumerate(AMQ_CASES):
        for to_numpy in (0, 1):
            q, scale = Q.abs_max_quantize(f["amq_x"], axis=axis, value_range=value_range, to_numpy=bool(to_numpy))
            np.testing.assert_array_equal(_np(q), f[f"amq{j}_{to_numpy}_q"])
            np.testing.assert_array_equal(_np(scale), f[f"amq{j}_{to_numpy}_s"])
    quantizer = Q.AbsMaxQuantizer(axis=0, value_range=(-8, 7))
    q, scale = quantizer(f["amq_x"])
    np.testing.assert_array_equal(_np(q), f["amq2_0_q"])
    assert _np(q).min() >= -8 and _np(q).max() <= 7


def test_grouped_quantization_matches_keras_and_its_formula(keras_functions):
    f = keras_functions
    for j, (shape, block) in enumerate(GROUP_CASES):
        w = f[f"grp{j}_w"]
        for to_numpy in (1, 0):
            q, scale, zero = (_np(t) for t in Q.abs_max_quantize_grouped_with_zero_point(
                w, block_size=block, to_numpy=bool(to_numpy)))
            np.testing.assert_array_equal(q, f[f"grp{j}_{to_numpy}_q"])
            np.testing.assert_array_equal(zero, f[f"grp{j}_{to_numpy}_z"])
            if to_numpy:
                np.testing.assert_array_equal(scale, f[f"grp{j}_{to_numpy}_s"])
            else:  # see the module docstring: XLA's division by a constant
                np.testing.assert_allclose(scale, f[f"grp{j}_{to_numpy}_s"], rtol=2e-7, atol=0)
            assert scale.shape == zero.shape == (-(-shape[0] // block), shape[1]) and zero.dtype == np.int8
            g = np.arange(shape[0]) // block
            dequantized = (q.astype(np.float32) - zero[g]) * scale[g]
            # Within half a step where the group's range holds 0 (as Keras, the zero point is clipped to
            # [-8, 7], so a group far from 0, like the constant column, is not represented).
            groups = np.arange(scale.shape[0])
            lo = np.array([w[g == i].min(axis=0) for i in groups])
            hi = np.array([w[g == i].max(axis=0) for i in groups])
            fits = ((lo <= 0) & (hi >= 0) & (hi > lo))[g]
            assert fits.any()
            assert np.all((np.abs(dequantized - w) <= scale[g] / 2 + 1e-6)[fits])
            assert q.min() >= -8 and q.max() <= 7


def test_fake_quant_matches_keras_values_and_gradients(keras_functions):
    f = keras_functions
    weights = np.arange(1, 29, dtype="float32").reshape(7, 4)
    for j, (lo, hi, bits, narrow, axis) in enumerate(FQ_CASES):
        x = lamina.Variable(f["fq_x"])
        lo_v, hi_v = lamina.Variable(np.asarray(lo, "float32")), lamina.Variable(np.asarray(hi, "float32"))

        def loss():
            out = Q.fake_quant_with_min_max_vars(x, lo_v, hi_v, num_bits=bits, narrow_range=narrow, axis=axis)
            return ops.sum(ops.multiply(out, weights))

        y = Q.fake_quant_with_min_max_vars(x.value, lo_v.value, hi_v.value, num_bits=bits, narrow_range=narrow,
                                           axis=axis)
        np.testing.assert_allclose(_np(y), f[f"fq{j}_y"], rtol=0, atol=1e-6)
        _, grads = ops.value_and_grad(loss, [x, lo_v, hi_v])()
        for k in range(3):
            np.testing.assert_allclose(_np(grads[k]), f[f"fq{j}_g{k}"], rtol=1e-6, atol=1e-5)
    # straight-through: the gradient passes inside [min, max] and is zero outside
    x = lamina.Variable(np.array([-2.0, -0.5, 0.25, 0.9, 3.0], "float32"))
    _, (gx,) = ops.value_and_grad(lambda: ops.sum(Q.fake_quant_with_min_max_vars(x, -1.0, 1.0)), [x])()
    np.testing.assert_array_equal(_np(gx), [0, 1, 1, 1, 0])


def test_float8_helpers_match_keras(keras_functions):
    f = keras_functions
    for dtype in ("float8_e4m3fn", "float8_e5m2"):
        for scale in (1.0, 0.37):
            out = Q.quantize_and_dequantize(f["f8_x"], np.float32(scale), dtype, "float32")
            np.testing.assert_array_equal(_np(out), f[f"f8_{dtype}_{scale}"])
    amax = np.array([0.0, 3.0, np.inf, 1000.0, np.nan], "float32")
    np.testing.assert_array_equal(_np(Q.compute_float8_scale(amax, np.float32(0.5), 448.0)), f["f8s"])
    np.testing.assert_array_equal(_np(Q.compute_float8_scale(amax, np.float32(0.5), 448.0, margin=2)), f["f8s_m"])
    np.testing.assert_array_equal(_np(Q.compute_float8_amax_history(f["f8_x"][:20], f["f8h_in"])), f["f8h"])


def test_float8_rounding_matches_ml_dtypes():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(size=2000) * 30, rng.normal(size=500) * 1e-3, rng.normal(size=300) * 1e-6,
                        2.0 ** np.arange(-20, 9), -(2.0 ** np.arange(-20, 9)) * 1.5]).astype("float32")
    for dtype, top in (("float8_e4m3fn", 448.0), ("float8_e5m2", 57344.0)):
        clipped = np.clip(x, -top, top)
        expected = clipped.astype(getattr(ml_dtypes, dtype)).astype("float32")
        np.testing.assert_array_equal(_np(Q.quantize_and_dequantize(x, 1.0, dtype, "float32")), expected)


# ---- int4 / int8 layers against Keras ----------------------------------------------------------------------


def _check_weights(layer, reference, prefix):
    names = sorted(k.split("/")[-1] for k in reference if k.startswith(prefix + "/"))
    assert sorted(v.name for v in layer.weights) == names
    for v in layer.weights:
        expected = reference[f"{prefix}/{v.name}"]
        assert tuple(v.shape) == expected.shape and str(v.dtype) == str(expected.dtype), v.name
        np.testing.assert_array_equal(_np(v.value), expected, err_msg=f"{prefix}/{v.name}")


@pytest.mark.parametrize("tag", sorted(INT4_CASES))
def test_int4_layers_bit_exact_with_keras(tag, keras_layers):
    r = keras_layers
    block = INT4_CASES[tag]
    config = None if block is None else Q.Int4QuantizationConfig(block_size=block)
    dense = L.Dense(7, name="d")
    dense.build((None, 10))
    dense.kernel.assign(r[f"dense_{tag}_w"])
    dense.bias.assign(r[f"dense_{tag}_b"])
    dense.quantize("int4", config=config)
    _check_weights(dense, r, f"dense_{tag}")
    np.testing.assert_allclose(_np(dense(r["x2"])), r[f"dense_{tag}_y"], rtol=1e-5, atol=1e-5)
    expected_policy = f"int4/{128 if block is None else block}_from_float32"
    assert dense.dtype_policy.name == dense.get_config()["dtype"] == expected_policy
    for equation, output_shape in EINSUM4:
        key = f"ein_{tag}_{equation}"
        layer = L.EinsumDense(equation, output_shape, name="e")
        layer.build((None, 3, 10))
        layer.kernel.assign(r[key + "_w"])
        layer.quantize("int4", config=config)
        _check_weights(layer, r, key)
        np.testing.assert_allclose(_np(layer(r["x3"])), r[key + "_y"], rtol=1e-5, atol=1e-5)
    embedding = L.Embedding(12, 9, name="em")
    embedding.build()
    embedding.embeddings.assign(r[f"emb_{tag}_w"])
    embedding.quantize("int4", config=config)
    _check_weights(embedding, r, f"emb_{tag}")
    np.testing.assert_allclose(_np(embedding(r["ids"])), r[f"emb_{tag}_y"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("index", range(len(EINSUM8)))
def test_int8_einsum_scale_layout_matches_keras(index, keras_layers):
    r = keras_layers
    equation, output_shape, input_shape = EINSUM8[index]
    layer = L.EinsumDense(equation, output_shape, name="e")
    layer.build(input_shape)
    layer.kernel.assign(r[f"i8_{index}_w"])
    layer.quantize("int8")
    _check_weights(layer, r, f"i8_{index}")  # kernel_scale in Keras's output-aligned shape, e.g. (1, 1, d)
    np.testing.assert_allclose(_np(layer(r[f"i8_{index}_x"])), r[f"i8_{index}_y"], rtol=1e-5, atol=1e-5)


def test_keras_int4_file_loads_with_keras_predictions():
    data = np.load(FIXTURES / "models.npz")
    model = lamina.models.load_model(FIXTURES / "int4.keras")
    np.testing.assert_allclose(model.predict(data["ids"], verbose=0), data["int4"], rtol=1e-5, atol=2e-5)
    quantized = [layer for layer in model.layers if getattr(layer, "quantization_mode", None)]
    assert [layer.name for layer in quantized] == ["emb", "ein", "dense"]
    assert all(isinstance(layer.dtype_policy, dtype_policies.Int4DTypePolicy) and layer.dtype_policy.block_size == 128
               for layer in quantized)
    assert str(model.get_layer("dense").kernel.dtype) == "int8" and model.get_layer("dense").kernel.shape == (42, 3)
    # within int4 error of the float model Keras started from (all its weights ~ N(0, 1), biases included)
    err = np.abs(data["int4"] - data["int4_float"]).max()
    assert 0 < err <= 0.3 * np.abs(data["int4_float"]).max()


def test_keras_file_with_config_objects_loads():
    data = np.load(FIXTURES / "models.npz")
    model = lamina.models.load_model(FIXTURES / "int8_config.keras")
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["int8_config"], rtol=1e-5, atol=1e-5)
    first, second = model.layers
    assert first.dtype_policy.name == "int8_from_float32" and second.dtype_policy.name == "int4/-1_from_float32"
    assert first.inputs_quantizer is None  # Keras's activation_quantizer=None: weight-only int8
    assert first.quantization_config.weight_quantizer.value_range == (-100, 100)
    assert np.abs(_np(first.kernel.value)).max() == 100
    assert second.kernel_scale.shape == (3,) and not hasattr(second, "g_idx")


# ---- lamina behaviour ---------------------------------------------------------------------------------------


def _model(seed=0):
    lamina.utils.set_random_seed(seed)
    tokens = L.Input((6,), dtype="int32")
    t = L.Embedding(30, 16, name="emb")(tokens)
    t = L.Conv1D(8, 3, padding="same", activation="relu", name="conv")(t)
    t = L.EinsumDense("abc,cd->abd", (None, 12), bias_axes="d", activation="relu", name="ein")(t)
    t = L.Flatten()(t)
    return lamina.Model(tokens, L.Dense(4, name="out")(t))


def _ids(seed=2):
    return np.random.default_rng(seed).integers(0, 30, size=(16, 6))


def test_int4_model_close_to_float_round_trips_and_shrinks(tmp_path):
    model = _model()
    x = _ids()
    ref = model.predict(x, verbose=0)
    model.save(tmp_path / "f.keras")
    with pytest.warns(UserWarning, match=r"\['conv'\] do not support mode 'int4' and stay float"):
        model.quantize("int4")
    out = model.predict(x, verbose=0)
    err = np.abs(out - ref).max()
    assert 0 < err <= 0.15 * np.abs(ref).max(), (err, np.abs(ref).max())
    assert model.get_layer("conv").quantization_mode is None and str(model.get_layer("conv").kernel.dtype) == "float32"
    assert model.get_layer("out").kernel.shape == (72, 2) and model.get_layer("emb").embeddings.shape == (30, 8)
    path = tmp_path / "q.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    entries = {layer["name"]: layer["config"] for layer in config["config"]["layers"]}
    assert entries["out"]["dtype"] == "int4/128_from_float32"
    assert entries["out"]["quantization_config"]["class_name"] == "Int4QuantizationConfig"
    loaded = lamina.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), out)
    store = {}
    loaded.get_layer("ein").save_own_variables(store)  # kernel, bias, kernel_scale, kernel_zero, g_idx
    assert [str(store[str(i)].dtype) for i in range(5)] == ["int8", "float32", "float32", "int8", "float32"]
    big = lamina.Sequential([L.Input((256,)), L.Dense(256), L.Dense(256)])
    big.save(tmp_path / "big_f.keras")
    big.quantize("int4")
    big.save(tmp_path / "big_q.keras")
    # packed int4 kernels (1/8 of float32) plus 2 groups of scales and zero points per unit
    assert os.path.getsize(tmp_path / "big_q.keras") < 0.2 * os.path.getsize(tmp_path / "big_f.keras")


def test_int4_dense_is_the_numpy_int4_math():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5, 20)).astype("float32")
    for block in (6, None):
        layer = L.Dense(9, activation="relu")
        layer.build((None, 20))
        kernel = _np(layer.kernel.value)
        ref = _np(layer(x))
        layer.quantize(config=Q.Int4QuantizationConfig(block_size=block))
        q = _np_unpack(_np(layer.kernel.value), 9, axis=-1)
        if block is None:  # symmetric per column: scale = 7 / (max|w| + eps)
            scale = 7.0 / (np.abs(kernel).max(axis=0) + lamina.config.epsilon())
            np.testing.assert_array_equal(q, np.clip(np.round(kernel * scale), -8, 7))
            w = q / _np(layer.kernel_scale.value)
        else:  # asymmetric per group of 6 rows (the last group zero-padded), per column
            padded = np.concatenate([kernel, np.zeros((4, 9), "float32")]).reshape(4, 6, 9)
            lo, hi = padded.min(axis=1), padded.max(axis=1)
            scale = (hi - lo + np.float32(lamina.config.epsilon())) / np.float32(15)
            zero = np.clip(np.round(-lo / scale) - 8, -8, 7)
            g = np.arange(20) // 6
            np.testing.assert_array_equal(_np(layer.kernel_zero.value), zero)
            np.testing.assert_allclose(_np(layer.kernel_scale.value), scale, rtol=1e-6)
            np.testing.assert_array_equal(_np(layer.g_idx.value), g.astype("float32"))
            np.testing.assert_array_equal(q, np.clip(np.round(kernel / scale[g]) + zero[g], -8, 7))
            w = (q - zero[g]) * _np(layer.kernel_scale.value)[g]
        expected = np.maximum(x @ w + _np(layer.bias.value), 0)
        np.testing.assert_allclose(_np(layer(x)), expected, rtol=1e-5, atol=1e-5)
        assert 0 < np.abs(expected - ref).max() <= 0.15 * np.abs(ref).max()


def test_smaller_int4_groups_are_more_accurate():
    x = np.random.default_rng(3).normal(size=(64, 256)).astype("float32")
    errors = {}
    for block in (None, 128, 16):
        lamina.utils.set_random_seed(4)
        layer = L.Dense(32)
        ref = _np(layer(x))
        layer.quantize("int4", config=Q.Int4QuantizationConfig(block_size=block))
        errors[block] = np.abs(_np(layer(x)) - ref).mean()
    assert errors[16] < errors[128] < errors[None], errors


def test_int8_config_objects_weight_only_and_custom_ranges(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 10)).astype("float32")
    model = lamina.Sequential([L.Input((10,)), L.Dense(6, name="a"), L.Dense(3, name="b")])
    ref = model.predict(x, verbose=0)
    config = Q.Int8QuantizationConfig(weight_quantizer=Q.AbsMaxQuantizer(axis=0, value_range=(-100, 100)),
                                      activation_quantizer=None)
    model.quantize(config=config)
    a = model.get_layer("a")
    assert a.inputs_quantizer is None and np.abs(_np(a.kernel.value)).max() == 100
    # weight-only: float inputs times the int8 kernel, divided by the per-unit scale
    hidden = x @ (_np(a.kernel.value) / _np(a.kernel_scale.value)) + _np(a.bias.value)
    np.testing.assert_allclose(_np(a(x)), hidden, rtol=1e-5, atol=1e-5)
    out = model.predict(x, verbose=0)
    assert 0 < np.abs(out - ref).max() <= 0.02 * np.abs(ref).max()
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), out)
    restored = loaded.get_layer("a").quantization_config
    assert isinstance(restored, Q.Int8QuantizationConfig) and restored.activation_quantizer is None
    assert restored.weight_quantizer.value_range == (-100, 100) and loaded.get_layer("a").inputs_quantizer is None


def test_int4_per_channel_with_an_activation_quantizer_is_integer_math():
    x = np.random.default_rng(6).normal(size=(5, 12)).astype("float32")
    layer = L.Dense(7, use_bias=False)
    layer.build((None, 12))
    layer.quantize(config=Q.Int4QuantizationConfig(block_size=None, activation_quantizer=Q.AbsMaxQuantizer()))
    q = _np_unpack(_np(layer.kernel.value), 7, axis=-1).astype(np.int32)
    x_scale = 127.0 / (np.abs(x).max(axis=-1, keepdims=True) + lamina.config.epsilon())
    xq = np.clip(np.round(x * x_scale), -127, 127).astype(np.int32)
    expected = (xq @ q) / (x_scale * _np(layer.kernel_scale.value))
    np.testing.assert_allclose(_np(layer(x)), expected, rtol=1e-5, atol=1e-6)


def test_filters_choose_the_layers():
    def build():
        return lamina.Sequential([L.Input((4,)), L.Dense(4, name="enc_a"), L.Dense(4, name="enc_b"),
                                  L.Dense(4, name="dec_a"), L.Dense(2, name="head")])

    def modes(model):
        return [layer.quantization_mode for layer in model.layers]

    model = build()
    model.quantize("int8", filters="^enc")
    assert modes(model) == ["int8", "int8", None, None]
    model.quantize("int4", filters=["dec", "head$"])  # the rest, later, in another mode
    assert modes(model) == ["int8", "int8", "int4", "int4"]
    with pytest.raises(ValueError, match=r"layers \['enc_a'\] are already quantized"):
        model.quantize("int4", filters="enc_a")
    model = build()
    model.quantize("int4", filters=lambda layer: layer.units == 2)
    assert modes(model) == [None, None, None, "int4"]
    model = build()
    model.quantize("int8", filters="nothing matches")
    assert modes(model) == [None] * 4
    with pytest.raises(ValueError, match="`filters` to be a regex string, a list of regex strings or a callable"):
        model.quantize("int8", filters=3)
    with pytest.raises(ValueError, match=r"filter '\[' is not a valid regular expression"):
        model.quantize("int8", filters="[")


def test_mode_and_config_errors_are_clear():
    model = lamina.Sequential([L.Input((4,)), L.Dense(3)])
    with pytest.raises(ValueError, match="needs a `mode`.*or a `config`.*received neither"):
        model.quantize()
    with pytest.raises(ValueError, match="contradictory arguments: mode='int8' but config.mode='int4'"):
        model.quantize("int8", config=Q.Int4QuantizationConfig())
    with pytest.raises(ValueError, match="expected `config` to be a lamina.quantizers.QuantizationConfig"):
        model.quantize(config={"mode": "int8"})
    with pytest.raises(ValueError, match="'float8'.*not implemented in lamina yet; supported modes are"):
        model.quantize("float8")
    with pytest.raises(ValueError, match="'float8'.*not implemented"):
        model.quantize(config=Q.Float8QuantizationConfig())
    for mode in ("gptq", "awq"):
        with pytest.raises(ValueError, match=f"mode '{mode}' needs a calibration data pipeline"):
            model.quantize(mode)
    with pytest.raises(ValueError, match="block_size to be None, -1 or a positive integer"):
        Q.Int4QuantizationConfig(block_size=0)
    with pytest.raises(ValueError, match="sub-channel quantization \\(block_size=128\\) does not take custom"):
        Q.Int4QuantizationConfig(weight_quantizer=Q.AbsMaxQuantizer(axis=0, value_range=(-8, 7)))
    with pytest.raises(ValueError, match=r"value_range=\(-8, 7\), but received value_range=\(-127, 127\)"):
        Q.Int4QuantizationConfig(weight_quantizer=Q.AbsMaxQuantizer(axis=0), block_size=None)
    with pytest.raises(ValueError, match="output_dtype='int8'"):
        Q.Int8QuantizationConfig(weight_quantizer=Q.AbsMaxQuantizer(axis=0, output_dtype="int16"))
    with pytest.raises(ValueError, match=r"value_range within \[-128, 127\]"):
        Q.AbsMaxQuantizer(value_range=(-200, 200))
    with pytest.raises(NotImplementedError, match="base class"):
        Q.QuantizationConfig().mode
    with pytest.raises(NotImplementedError, match="does not implement get_config"):
        Q.Quantizer().get_config()
    conv = L.Conv2D(2, 3)
    conv.build((None, 5, 5, 1))
    with pytest.raises(ValueError, match=r"mode 'int4' is not available for this layer, which supports \['int8'\]"):
        conv.quantize("int4")
    layer = L.Dense(3, dtype="mixed_float16")
    layer.build((None, 4))
    with pytest.raises(ValueError, match="'int8' does not work well with compute dtype 'float16'"):
        layer.quantize("int8")
    layer = L.Dense(3)
    layer.build((None, 4))
    with pytest.raises(ValueError, match="must reduce axis 0"):
        layer.quantize(config=Q.Int4QuantizationConfig(
            weight_quantizer=Q.AbsMaxQuantizer(axis=1, value_range=(-8, 7)), block_size=None))
    assert layer.quantization_mode is None and str(layer.kernel.dtype) == "float32"  # left as it was
    with pytest.raises(ValueError, match="quantized to int4 and cannot be trained"):
        m = lamina.Sequential([L.Input((4,)), L.Dense(3)])
        m.quantize("int4")
        m.compile(optimizer="sgd", loss="mse")
        m.fit(np.ones((4, 4)), np.ones((4, 3)), verbose=0)


def test_pack_and_grouping_errors():
    with pytest.raises(TypeError, match="pack_int4 expected a int8 tensor of int4 values, but received dtype int32"):
        Q.pack_int4(np.zeros((2, 2), "int32"))
    with pytest.raises(ValueError, match="dtype to be 'int8' or 'uint8'"):
        Q.pack_int4(np.zeros((2, 2), "int8"), dtype="int16")
    with pytest.raises(ValueError, match="axis=2 is out of range for a tensor of rank 2"):
        Q.pack_int4(np.zeros((2, 2), "int8"), axis=2)
    with pytest.raises(TypeError, match="unpack_int4 expected an int8 or uint8 tensor"):
        Q.unpack_int4(np.zeros((2, 2), "float32"), 4)
    with pytest.raises(ValueError, match="positive integer block_size"):
        Q.abs_max_quantize_grouped_with_zero_point(np.ones((4, 2), "float32"), block_size=0)
    with pytest.raises(ValueError, match=r"a 2-D tensor \(input_dim, output_dim\), but received shape \(4,\)"):
        Q.abs_max_quantize_grouped_with_zero_point(np.ones((4,), "float32"), block_size=2)
    with pytest.raises(ValueError, match="quantized_dtype to be one of"):
        Q.quantize_and_dequantize(np.ones(2, "float32"), 1.0, "int8", "float32")
    with pytest.raises(ValueError, match="num_bits to be an int in \\[2, 16\\]"):
        Q.fake_quant_with_min_max_vars(np.ones(2, "float32"), 0.0, 1.0, num_bits=1)


def test_quantized_dtype_policies_parse_and_serialize():
    policy = dtype_policies.get("int4_from_mixed_bfloat16")
    assert type(policy) is dtype_policies.QuantizedDTypePolicy
    assert (policy.quantization_mode, policy.compute_dtype, policy.variable_dtype) == ("int4", "bfloat16", "float32")
    policy = dtype_policies.get("int4/64_from_float32")
    assert type(policy) is dtype_policies.Int4DTypePolicy and policy.block_size == 64 and policy.mode == "int4"
    for name in ("int8_from_float32", "int4/64_from_float32", "int4/-1_from_bfloat16", "mixed_bfloat16"):
        policy = dtype_policies.get(name)
        config = json.loads(json.dumps(dtype_policies.serialize(policy)))
        assert dtype_policies.deserialize(config) == policy and dtype_policies.get(config).name == name
    assert dtype_policies.get("int8_from_float32") != dtype_policies.get("float32")
    keras33 = {"class_name": "QuantizedDTypePolicy", "config": {"name": "int8_from_bfloat16"}}
    assert dtype_policies.get(keras33).compute_dtype == "bfloat16"
    with pytest.raises(ValueError, match="form 'int4/<block_size>'.*'int4/x'"):
        dtype_policies.Int4DTypePolicy("int4/x", "float32")
    with pytest.raises(ValueError, match="-1 \\(per channel\\) or a positive integer, but received 0"):
        dtype_policies.get("int4/0_from_float32")
    with pytest.raises(ValueError, match="'gptq' is a Keras 3 mode that lamina does not implement"):
        dtype_policies.get("gptq/4/128_from_float32")
    with pytest.raises(ValueError, match="unknown class 'QuantizedFloat8DTypePolicy'.*int8 and int4"):
        dtype_policies.get({"class_name": "QuantizedFloat8DTypePolicy", "config": {"mode": "float8"}})
    with pytest.raises(ValueError, match="expected '<mode>_from_<source policy>'"):
        dtype_policies.get("int8_from_")


def test_layer_built_from_a_quantized_policy_and_policy_setter():
    layer = L.Dense(5, dtype="int4/4_from_float32")
    layer.build((None, 10))
    store = {}
    layer.save_own_variables(store)  # the file's order and layout, as Keras's
    saved = [(tuple(store[str(i)].shape), str(store[str(i)].dtype)) for i in range(len(store))]
    assert saved == [((10, 3), "int8"), ((5,), "float32"), ((3, 5), "float32"), ((3, 5), "int8"), ((10,), "float32")]
    np.testing.assert_array_equal(_np(layer.g_idx.value), np.arange(10) // 4)
    layer = L.Embedding(7, 5, dtype="int4_from_float32")  # no block size: per channel, as old Keras files
    layer.build()
    assert [(v.name, v.shape) for v in layer.weights] == [("embeddings", (7, 3)), ("embeddings_scale", (7,))]
    layer, twin = L.Dense(4), L.Dense(4)
    layer.build((None, 6))
    twin.build((None, 6))
    twin.set_weights(layer.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 6)).astype("float32")
    layer.dtype_policy = "int4/2_from_float32"  # as Keras: a quantized policy on a built layer quantizes it
    assert layer.quantization_mode == "int4" and layer.dtype_policy.name == "int4/2_from_float32"
    assert layer.kernel_zero.shape == (3, 4)
    twin.quantize("int4", config=Q.Int4QuantizationConfig(block_size=2))
    np.testing.assert_array_equal(_np(layer(x)), _np(twin(x)))


def test_dtype_policy_map_lookup_config_and_layers(tmp_path):
    policies = dtype_policies.DTypePolicyMap(default_policy="float32")
    policies["enc.*"] = "int8_from_float32"
    policies["enc_exact"] = "bfloat16"
    policies["dec_a"] = "int4/8_from_float32"
    assert policies["enc_exact"].name == "bfloat16"  # an exact key wins over a pattern
    assert policies["enc_x"].quantization_mode == "int8" and policies["other"].name == "float32"
    assert len(policies) == 3 and "dec_a" in policies and policies.name == "map_float32"
    with pytest.raises(ValueError, match="already has the key 'dec_a'"):
        policies["dec_a"] = "float32"
    policies["e.*"] = "float16"
    with pytest.raises(ValueError, match="path 'enc_x' matches several keys"):
        policies["enc_x"]
    del policies["e.*"]
    restored = dtype_policies.deserialize(json.loads(json.dumps(dtype_policies.serialize(policies))))
    assert isinstance(restored, dtype_policies.DTypePolicyMap) and restored == policies
    assert restored["dec_a"].block_size == 8
    with pytest.raises(ValueError, match="default_policy cannot itself be a DTypePolicyMap"):
        dtype_policies.DTypePolicyMap(default_policy=policies)
    inputs = L.Input((8,))
    h = L.Dense(8, dtype=policies, name="enc_1")(inputs)
    h = L.Dense(8, dtype=policies, name="mid")(h)
    out = L.Dense(8, dtype=policies, name="dec_a")(h)
    model = lamina.Model(inputs, out)
    kinds = [(layer.quantization_mode, str(layer.kernel.dtype), layer.kernel.shape) for layer in model.layers[1:]]
    assert kinds == [("int8", "int8", (8, 8)), (None, "float32", (8, 8)), ("int4", "int8", (8, 4))]
    x = np.random.default_rng(0).normal(size=(3, 8)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(loaded.get_layer("mid").dtype_policy, dtype_policies.DTypePolicyMap)
    assert loaded.get_layer("dec_a").quantization_mode == "int4"
    # quantizing a layer whose dtype is a map records the quantized policy under its path
    plain = dtype_policies.DTypePolicyMap()
    model = lamina.Sequential([L.Input((4,)), L.Dense(3, dtype=plain, name="z")])
    model.quantize("int8")
    # (under the layer's path, which starts with the model's name as in Keras: "sequential/z")
    assert plain["sequential/z"].name == "int8_from_float32" and model.layers[0].quantization_mode == "int8"


def test_quantizers_get_serialize_deserialize():
    for obj in (Q.AbsMaxQuantizer(axis=(0, 1), value_range=(-8, 7)), Q.Int8QuantizationConfig(),
                Q.Int4QuantizationConfig(block_size=None, activation_quantizer=Q.AbsMaxQuantizer()),
                Q.Int4QuantizationConfig(block_size=32), Q.Float8QuantizationConfig()):
        config = json.loads(json.dumps(Q.serialize(obj)))
        back = Q.deserialize(config)
        assert type(back) is type(obj) and Q.serialize(back) == config
    assert Q.get("AbsMaxQuantizer", value_range=(-8, 7)).value_range == (-8, 7)
    assert Q.get(None) is None and Q.serialize(None) is None
    quantizer = Q.AbsMaxQuantizer()
    assert Q.get(quantizer) is quantizer
    with pytest.raises(ValueError, match="Could not interpret quantizer identifier 'Nope'"):
        Q.get("Nope")
    with pytest.raises(ValueError, match="lamina does not implement GPTQ/AWQ"):
        Q.deserialize({"class_name": "GPTQConfig", "config": {}})

    @lamina.saving.register_serializable(package="QuantTest")
    class HalfRange(Q.Quantizer):
        axis = None  # the layer's axis

        def __call__(self, x, axis=-1, to_numpy=False):
            return Q.abs_max_quantize(x, axis, value_range=(-63, 63), to_numpy=to_numpy)

        def get_config(self):
            return {"output_dtype": self.output_dtype}

    back = Q.deserialize(json.loads(json.dumps(Q.serialize(HalfRange()))))
    assert isinstance(back, HalfRange)
    layer = L.Dense(3)
    layer.build((None, 4))
    layer.quantize(config=Q.Int8QuantizationConfig(weight_quantizer=HalfRange(), activation_quantizer=HalfRange()))
    assert np.abs(_np(layer.kernel.value)).max() == 63


def test_lamina_int8_einsum_file_of_the_kernel_layout_still_loads():
    layer = L.EinsumDense("abc,cd->abd", (None, 5), bias_axes="d")
    layer.build((None, 3, 6))
    layer.quantize("int8")
    x = np.random.default_rng(1).normal(size=(2, 3, 6)).astype("float32")
    out = _np(layer(x))
    assert layer.kernel_scale.shape == (1, 1, 5)  # Keras's layout
    store = {"0": _np(layer.kernel.value), "1": _np(layer.bias.value), "2": _np(layer.kernel_scale.value).reshape(1, 5)}
    fresh = L.EinsumDense("abc,cd->abd", (None, 5), bias_axes="d", dtype="int8_from_float32")
    fresh.build((None, 3, 6))
    fresh.load_own_variables(store)  # the (1, 5) scale lamina wrote before
    np.testing.assert_array_equal(_np(fresh(x)), out)


def test_int4_file_loads_on_the_other_backend(tmp_path, backend_name):
    model = lamina.Sequential([L.Input((5,), dtype="int32"), L.Embedding(20, 6), L.Flatten(), L.Dense(4)])
    model.quantize("int4", config=Q.Int4QuantizationConfig(block_size=4))
    x = np.random.default_rng(4).integers(0, 20, size=(3, 5))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", model.predict(x, verbose=0))
    model.save(tmp_path / "m.keras")
    other = "jax" if backend_name == "torch" else "torch"
    code = ("import numpy as np, lamina, sys; d = sys.argv[1]; m = lamina.models.load_model(d + '/m.keras'); "
            "assert m.layers[-1].dtype_policy.name == 'int4/4_from_float32'; "
            "np.testing.assert_allclose(m.predict(np.load(d + '/x.npy'), verbose=0), np.load(d + '/y.npy'), "
            "rtol=1e-5, atol=1e-6); print('ok')")
    env = dict(os.environ, LAMINA_BACKEND=other, OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]


def test_model_quantize_without_quantizable_layers():
    with pytest.raises(ValueError, match="found no layer to quantize"):
        lamina.Sequential([L.Input((4,)), L.Flatten()]).quantize("int4")


REVERSIBLE_CASES = [("i8", "int8", None), ("i8wo", "int8", {"activation_quantizer": None}), ("g4", "int4", 4),
                    ("pc", "int4", -1), ("g128", "int4", None)]


@pytest.mark.parametrize("tie", [True, False])
def test_reversible_embedding_quantization_bit_exact_with_keras(tie):
    r = dict(np.load(FIXTURES / "reversible.npz"))
    for tag, mode, setting in REVERSIBLE_CASES:
        if isinstance(setting, dict):
            config = Q.Int8QuantizationConfig(**setting)
        else:
            config = None if setting is None else Q.Int4QuantizationConfig(block_size=setting)
        key = f"rev_{int(tie)}_{tag}"
        layer = L.ReversibleEmbedding(13, 9, tie_weights=tie, name="rev")
        layer.build()
        for w in layer.weights:
            w.assign(r[f"{key}_float_{w.name}"])
        layer.quantize(mode, config=config)
        _check_weights(layer, r, key)
        np.testing.assert_allclose(_np(layer(r["ids"])), r[f"{key}_fwd"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(_np(layer(r["hidden"], reverse=True)), r[f"{key}_rev"], rtol=1e-5, atol=1e-5)
        store = {}
        layer.save_own_variables(store)  # Keras's order: the table's weights, then the reverse ones
        names = ["embeddings", "embeddings_scale", "embeddings_zero", "g_idx", "reverse_embeddings",
                 "reverse_embeddings_scale", "reverse_embeddings_zero"]
        expected = [r[f"{key}/{n}"].shape for n in names if f"{key}/{n}" in r]
        assert [tuple(store[str(i)].shape) for i in range(len(store))] == expected


def test_quantized_reversible_embedding_round_trips(tmp_path):
    model = lamina.Sequential([L.Input((4,), dtype="int32"), L.ReversibleEmbedding(20, 6, tie_weights=False,
                                                                                   name="rev")])
    x = np.random.default_rng(3).integers(0, 20, size=(3, 4))
    ref = model.predict(x, verbose=0)
    model.quantize("int4", config=Q.Int4QuantizationConfig(block_size=4))
    out = model.predict(x, verbose=0)
    assert np.abs(out - ref).max() > 0  # the quantized table is used
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), out)
    assert str(loaded.get_layer("rev").reverse_embeddings_zero.dtype) == "float32"  # as Keras keeps it
    hidden = np.random.default_rng(4).normal(size=(2, 6)).astype("float32")
    np.testing.assert_array_equal(_np(loaded.get_layer("rev")(hidden, reverse=True)),
                                  _np(model.get_layer("rev")(hidden, reverse=True)))


def test_quantized_attention_layers_save_and_load(tmp_path):
    # Beyond Keras 3.15.1 (whose reloaded quantized MultiHeadAttention finds float sublayers): the attention
    # layer's config records its quantized sublayers in a DTypePolicyMap, so they are rebuilt quantized.
    inputs = L.Input((5, 16))
    h = L.MultiHeadAttention(2, 8, name="mha")(inputs, inputs)
    h = L.GroupedQueryAttention(4, 4, 2, name="gqa")(h, h)
    model = lamina.Model(inputs, L.Dense(3)(L.Flatten()(h)))
    x = np.random.default_rng(0).normal(size=(2, 5, 16)).astype("float32")
    ref = model.predict(x, verbose=0)
    model.quantize("int4", config=Q.Int4QuantizationConfig(block_size=8), filters=lambda layer: layer.name != "value")
    out = model.predict(x, verbose=0)
    assert 0 < np.abs(out - ref).max() <= 0.15 * np.abs(ref).max()
    config = model.get_layer("mha").get_config()["dtype"]
    assert config["class_name"] == "DTypePolicyMap"
    assert sorted(config["config"]["policy_map"]) == ["mha/attention_output", "mha/key", "mha/query"]  # Keras's paths
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), out)
    gqa = loaded.get_layer("gqa")
    modes = {sub.name: sub.quantization_mode for sub in (gqa._query_dense, gqa._value_dense)}
    assert modes == {"query": "int4", "value": None}


def test_keras_quantization_names():
    # keras.quantizers / keras.dtype_policies of Keras 3.15.1, less the calibrated GPTQ/AWQ and float8 policies
    quantizer_names = ["AbsMaxQuantizer", "Float8QuantizationConfig", "Int4QuantizationConfig",
                       "Int8QuantizationConfig", "QuantizationConfig", "Quantizer", "abs_max_quantize",
                       "abs_max_quantize_grouped_with_zero_point", "compute_float8_amax_history",
                       "compute_float8_scale", "deserialize", "fake_quant_with_min_max_vars", "get", "pack_int4",
                       "quantize_and_dequantize", "serialize", "unpack_int4"]
    assert [n for n in quantizer_names if not hasattr(Q, n)] == []
    policy_names = ["DTypePolicy", "DTypePolicyMap", "FloatDTypePolicy", "Int4DTypePolicy", "QuantizedDTypePolicy",
                    "deserialize", "get", "serialize"]
    assert [n for n in policy_names if not hasattr(dtype_policies, n)] == []
    assert not hasattr(Q, "GPTQConfig") and not hasattr(dtype_policies, "QuantizedFloat8DTypePolicy")
    assert lamina.Quantizer is Q.Quantizer
    symbolic = Q.fake_quant_with_min_max_vars(L.Input((3,)), 0.0, 1.0)
    assert tuple(symbolic.shape) == (None, 3)
