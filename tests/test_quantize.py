"""int8 post-training quantization: ``model.quantize("int8")`` and ``lamina.quantizers`` (issue #13).

Tolerance: abs-max int8 rounds each input and kernel entry by at most half a step, 1/254 of its
row's (channel's) largest magnitude, i.e. <= 0.4% each. A dot product of such entries then errs
by well under 2% of the largest output for these small random layers, so quantized outputs are
checked against float ones with ``max|q - f| <= 0.02 * max|f|``. The int8 arithmetic itself is
checked exactly against a NumPy reference of the same math.
"""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import lamina
from lamina import layers as L
from lamina.quantizers import abs_max_quantize

REL_TOL = 0.02


def _close(quantized, reference):
    err = np.abs(quantized - reference).max()
    assert err <= REL_TOL * np.abs(reference).max(), (err, np.abs(reference).max())
    assert err > 0  # the quantized path really ran


def _np_quantize(x, axis):
    scale = 127.0 / (np.abs(x).max(axis=axis, keepdims=True) + lamina.config.epsilon())
    return np.clip(np.round(x * scale), -127, 127).astype(np.int8), scale


def _mixed_model():
    tokens = L.Input((6,), dtype="int32")
    t = L.Embedding(30, 8)(tokens)
    t = L.Conv1D(8, 3, padding="same", activation="relu")(t)
    t = L.EinsumDense("abc,cd->abd", (None, 12), bias_axes="d", activation="relu")(t)
    t = L.Flatten()(t)
    return lamina.Model(tokens, L.Dense(4)(t))


def test_abs_max_quantize_matches_keras_convention():
    x = np.array([[1.0, -2.0, 0.5], [0.0, 0.0, 0.0]], "float32")
    q, scale = abs_max_quantize(x, axis=-1)
    assert lamina.ops.dtype(q) == "int8" and tuple(lamina.ops.shape(scale)) == (2, 1)
    assert lamina.ops.convert_to_numpy(q).tolist() == [[64, -127, 32], [0, 0, 0]]
    scale = lamina.ops.convert_to_numpy(scale)
    np.testing.assert_allclose(scale[0, 0], 127 / 2.0, rtol=1e-5)
    assert np.isfinite(scale).all()  # an all-zero row gets a finite scale
    w = np.random.default_rng(0).normal(size=(5, 4, 3)).astype("float32")
    q, scale = abs_max_quantize(w, axis=(0, 1), to_numpy=True)
    ref_q, ref_scale = _np_quantize(w, (0, 1))
    assert scale.shape == (1, 1, 3) and isinstance(q, np.ndarray)
    np.testing.assert_array_equal(q, ref_q)
    np.testing.assert_allclose(q / scale, w, atol=np.abs(w).max() / 254 + 1e-6)


def test_dense_int8_is_the_int8_math_and_close_to_float():
    x = np.random.default_rng(1).normal(size=(3, 5, 16)).astype("float32")
    layer = L.Dense(8, activation="relu")
    ref = lamina.ops.convert_to_numpy(layer(x))
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    layer.quantize("int8")
    out = lamina.ops.convert_to_numpy(layer(x))
    assert str(layer.kernel.dtype) == "int8" and layer.kernel_scale.shape == (8,)
    assert layer.quantization_mode == "int8" and layer.get_config()["dtype"] == "int8_from_float32"
    assert [v.path for v in layer.trainable_weights] == [layer.bias.path]
    kq, kscale = _np_quantize(kernel, 0)
    xq, xscale = _np_quantize(x, -1)
    acc = np.einsum("btk,ku->btu", xq.astype(np.int32), kq.astype(np.int32))  # exact int32
    expected = np.maximum(acc / (xscale * kscale) + bias, 0)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    _close(out, ref)


def test_model_quantize_every_kind_stays_close_and_round_trips(tmp_path):
    model = _mixed_model()
    x = np.random.default_rng(2).integers(0, 30, size=(16, 6))
    ref = model.predict(x, verbose=0)
    model.quantize("int8")
    out = model.predict(x, verbose=0)
    _close(out, ref)
    int8 = sorted(v.path for v in model.weights if str(v.dtype) == "int8")
    assert len(int8) == 4 and all(p.endswith(("/kernel", "/embeddings")) for p in int8)
    scales = sorted(v.path.split("/")[-1] for v in model.weights if v.path.endswith("_scale"))
    assert scales == ["embeddings_scale", "kernel_scale", "kernel_scale", "kernel_scale"]
    path = str(tmp_path / "q.keras")
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
    dtypes = [layer["config"].get("dtype") for layer in config["config"]["layers"]]
    assert dtypes.count("int8_from_float32") == 4
    loaded = lamina.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), out)
    assert sorted(v.path for v in loaded.weights if str(v.dtype) == "int8") == int8


def test_quantized_file_is_smaller_and_evaluate_uses_int8_weights(tmp_path):
    model = lamina.Sequential([L.Input((64,)), L.Dense(256, activation="relu"), L.Dense(256), L.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    x, y = np.random.default_rng(3).normal(size=(32, 64)).astype("float32"), np.zeros((32, 2), "float32")
    float_loss = model.evaluate(x, y, verbose=0)
    float_pred = model.predict(x, verbose=0)  # compiles the float step functions first
    model.save(tmp_path / "f.keras")
    model.quantize("int8")
    _close(model.predict(x, verbose=0), float_pred)
    q_loss = model.evaluate(x, y, verbose=0)
    assert q_loss != float_loss and abs(q_loss - float_loss) <= 0.05 * float_loss
    model.save(tmp_path / "q.keras")
    f_size, q_size = os.path.getsize(tmp_path / "f.keras"), os.path.getsize(tmp_path / "q.keras")
    assert q_size < 0.4 * f_size, (f_size, q_size)  # int8 + scales, and no float copy of the kernels


def test_quantized_file_loads_on_the_other_backend(tmp_path, backend_name):
    model = lamina.Sequential([L.Input((10,)), L.Dense(6, activation="tanh"), L.Dense(3)])
    model.quantize("int8")
    x = np.random.default_rng(4).normal(size=(5, 10)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", model.predict(x, verbose=0))
    model.save(tmp_path / "m.keras")
    other = "jax" if backend_name == "torch" else "torch"
    code = ("import numpy as np, lamina, sys; d = sys.argv[1]; m = lamina.models.load_model(d + '/m.keras'); "
            "assert str(m.layers[0].kernel.dtype) == 'int8'; "
            "np.testing.assert_allclose(m.predict(np.load(d + '/x.npy'), verbose=0), np.load(d + '/y.npy'), "
            "rtol=1e-5, atol=1e-6); print('ok')")
    env = dict(os.environ, LAMINA_BACKEND=other, OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]


def test_quantize_errors_are_clear():
    model = lamina.Sequential([L.Input((4,)), L.Dense(3)])
    with pytest.raises(ValueError, match=r"mode to be one of \['int8', 'int4'\].*'int3'"):
        model.quantize("int3")
    model.quantize("int8")
    with pytest.raises(ValueError, match="already quantized"):
        model.quantize("int8")
    with pytest.raises(ValueError, match="already quantized"):
        model.layers[0].quantize("int8")
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="quantized to int8 and cannot be trained"):
        model.fit(np.ones((4, 4)), np.ones((4, 3)), verbose=0)
    with pytest.raises(ValueError, match="not built"):
        lamina.Sequential([L.Dense(3)]).quantize("int8")
    with pytest.raises(ValueError, match="not built"):
        L.Dense(3).quantize("int8")
    with pytest.raises(ValueError, match="no layer to quantize"):
        lamina.Sequential([L.Input((4,)), L.Flatten()]).quantize("int8")
    transpose = L.Conv2DTranspose(2, 3)
    transpose.build((None, 5, 5, 1))
    with pytest.raises(ValueError, match="Conv2DTranspose.*cannot be quantized"):
        transpose.quantize("int8")
    with pytest.raises(ValueError, match="'float8' is a Keras 3 mode that lamina does not implement"):
        L.Dense(3, dtype="float8_from_float32")
    with pytest.raises(ValueError, match="abs_max_quantize: axis 2 is out of range"):
        abs_max_quantize(np.ones((2, 2), "float32"), axis=2)


def test_keras_quantized_dtype_policy_builds_int8_weights():
    policy = {"module": "keras", "class_name": "QuantizedDTypePolicy",
              "config": {"name": "int8_from_float32"}, "registered_name": None}
    layer = L.Dense(3, dtype=policy)
    layer.build((None, 4))
    assert [(v.name, str(v.dtype)) for v in layer.weights] == [
        ("bias", "float32"), ("kernel", "int8"), ("kernel_scale", "float32")]
    assert layer.dtype == "float32" and layer.quantization_mode == "int8"
