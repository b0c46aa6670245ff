"""Write the Keras 3 quantization fixtures: ``KERAS_BACKEND=jax python make_fixtures.py`` (Keras 3.15.1).

* ``functions.npz``: inputs and Keras's outputs of ``keras.quantizers``' functions (pack/unpack_int4,
  abs_max_quantize, grouped quantization, fake quant values and gradients, float8 helpers).
* ``layers.npz``: float weights, Keras's quantized weights (by ``<case>/<variable name>``) and outputs of
  Dense / EinsumDense / Embedding quantized to int4 (groups of 128, 4, 3, per channel) and EinsumDense to int8.
* ``int4.keras`` / ``int8_config.keras``: models quantized and saved by Keras; ``models.npz`` their inputs and
  predictions.
* ``reversible.npz``: ReversibleEmbedding (tied and untied) quantized to int8 / int4: float and quantized weights,
  forward and reverse outputs.
"""

import os

import jax
import jax.numpy as jnp
import keras
import numpy as np
from keras import quantizers as Q

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(42)
PACK_CASES = [((5, 3), 0), ((4, 7), 1), ((3, 5, 7), -1), ((3, 5, 7), 1), ((1,), 0), ((6, 2), -2)]
AMQ_CASES = [(-1, (-127, 127)), ((0, 1), (-127, 127)), (0, (-8, 7)), (1, (-100, 90))]
GROUP_CASES = [((10, 6), 4), ((7, 3), 3), ((8, 5), 8), ((9, 4), 128)]
FQ_CASES = [(-1.0, 1.0, 8, False, None), (-0.7, 1.2, 4, True, None),
            ([-1, -0.5, -0.2, -1.3], [1, 0.4, 1.1, 0.2], 8, False, -1), (0.1, 1.0, 3, False, None)]
INT4_CASES = {"g128": None, "g4": 4, "pc": -1, "g3": 3}
EINSUM4 = [("abc,cd->abd", (3, 7), (10, 7)), ("abc,cde->abde", (3, 2, 5), (10, 2, 5)),
           ("abc,dce->abde", (3, 4, 3), (4, 10, 3))]
EINSUM8 = [("abc,cd->abd", (3, 7), (10, 7), (None, 3, 10)), ("abc,cde->abde", (3, 2, 5), (10, 2, 5), (None, 3, 10)),
           ("abc,dce->abde", (3, 4, 3), (4, 10, 3), (None, 3, 10)),
           ("abcd,cde->abe", (3, 6), (4, 10, 6), (None, 3, 4, 10)), ("ab,bc->ac", 6, (10, 6), (None, 10))]


def functions():
    out = {}
    for i, (shape, axis) in enumerate(PACK_CASES):
        for tag, dtype, low, high in (("", "int8", -8, 8), ("u", "uint8", 0, 16)):
            a = rng.integers(low, high, size=shape).astype(dtype)
            packed, _, n = Q.pack_int4(a, axis=axis, dtype=dtype)
            out[f"pack{tag}{i}_in"], out[f"pack{tag}{i}_out"] = a, np.asarray(packed)
            out[f"pack{tag}{i}_unpacked"] = np.asarray(Q.unpack_int4(packed, n, axis=axis, dtype=dtype))
    x = rng.normal(size=(6, 5, 4)).astype("float32") * 3
    out["amq_x"] = x
    for j, (axis, value_range) in enumerate(AMQ_CASES):
        for to_numpy in (0, 1):
            q, s = Q.abs_max_quantize(x, axis=axis, value_range=value_range, to_numpy=bool(to_numpy))
            out[f"amq{j}_{to_numpy}_q"], out[f"amq{j}_{to_numpy}_s"] = np.asarray(q), np.asarray(s)
    for j, (shape, block) in enumerate(GROUP_CASES):
        w = rng.normal(size=shape).astype("float32")
        w[:, 0] = 0.25  # a constant column
        out[f"grp{j}_w"] = w
        for to_numpy in (0, 1):
            q, s, z = Q.abs_max_quantize_grouped_with_zero_point(w, block_size=block, to_numpy=bool(to_numpy))
            for key, value in zip("qsz", (q, s, z)):
                out[f"grp{j}_{to_numpy}_{key}"] = np.asarray(value)
    xf = rng.uniform(-1.5, 1.5, size=(7, 4)).astype("float32")
    out["fq_x"] = xf
    weights = jnp.arange(1, 29, dtype="float32").reshape(7, 4)
    for j, (lo, hi, bits, narrow, axis) in enumerate(FQ_CASES):
        def f(x, lo, hi):
            return Q.fake_quant_with_min_max_vars(x, lo, hi, num_bits=bits, narrow_range=narrow, axis=axis)
        args = (jnp.asarray(xf), jnp.asarray(lo, "float32"), jnp.asarray(hi, "float32"))
        out[f"fq{j}_y"] = np.asarray(f(*args))
        grads = jax.grad(lambda *a: jnp.sum(f(*a) * weights), argnums=(0, 1, 2))(*args)
        for k in range(3):
            out[f"fq{j}_g{k}"] = np.asarray(grads[k])
    xs = np.concatenate([rng.normal(size=200) * 50, rng.normal(size=100) * 1e-3, rng.normal(size=50) * 1e-5,
                         [0.0, 448.0, 470.0, -1e6, 57344.0, 6e4, 0.3, -17.0]]).astype("float32")
    out["f8_x"] = xs
    for dtype in ("float8_e4m3fn", "float8_e5m2"):
        for scale in (1.0, 0.37):
            out[f"f8_{dtype}_{scale}"] = np.asarray(
                Q.quantize_and_dequantize(xs, jnp.asarray(scale, "float32"), dtype, "float32"))
    amax = jnp.asarray([0.0, 3.0, np.inf, 1000.0, np.nan], "float32")
    out["f8s"] = np.asarray(Q.compute_float8_scale(amax, jnp.asarray(0.5, "float32"), 448.0))
    out["f8s_m"] = np.asarray(Q.compute_float8_scale(amax, jnp.asarray(0.5, "float32"), 448.0, margin=2))
    out["f8h_in"] = rng.uniform(size=(6,)).astype("float32")
    out["f8h"] = np.asarray(Q.compute_float8_amax_history(jnp.asarray(xs[:20]), jnp.asarray(out["f8h_in"])))
    return out


def layers():
    out = {"x2": rng.normal(size=(3, 10)).astype("float32"), "x3": rng.normal(size=(2, 3, 10)).astype("float32"),
           "ids": rng.integers(0, 12, size=(4, 5))}

    def keep(prefix, layer, x):
        for v in layer.weights:
            out[f"{prefix}/{v.name}"] = np.asarray(v)
        out[f"{prefix}_y"] = np.asarray(layer(x))

    for tag, block in INT4_CASES.items():
        config = None if block is None else Q.Int4QuantizationConfig(block_size=block)
        dense = keras.layers.Dense(7, name="d")
        dense.build((None, 10))
        out[f"dense_{tag}_w"] = rng.normal(size=(10, 7)).astype("float32")
        out[f"dense_{tag}_b"] = rng.normal(size=(7,)).astype("float32")
        dense.kernel.assign(out[f"dense_{tag}_w"])
        dense.bias.assign(out[f"dense_{tag}_b"])
        dense.quantize("int4", config=config)
        keep(f"dense_{tag}", dense, out["x2"])
        for equation, output_shape, kernel_shape in EINSUM4:
            layer = keras.layers.EinsumDense(equation, output_shape, name="e")
            layer.build((None, 3, 10))
            out[f"ein_{tag}_{equation}_w"] = rng.normal(size=kernel_shape).astype("float32")
            layer.kernel.assign(out[f"ein_{tag}_{equation}_w"])
            layer.quantize("int4", config=config)
            keep(f"ein_{tag}_{equation}", layer, out["x3"])
        embedding = keras.layers.Embedding(12, 9, name="em")
        embedding.build()
        out[f"emb_{tag}_w"] = rng.normal(size=(12, 9)).astype("float32")
        embedding.embeddings.assign(out[f"emb_{tag}_w"])
        embedding.quantize("int4", config=config)
        keep(f"emb_{tag}", embedding, out["ids"])
    for i, (equation, output_shape, kernel_shape, input_shape) in enumerate(EINSUM8):
        layer = keras.layers.EinsumDense(equation, output_shape, name="e")
        layer.build(input_shape)
        out[f"i8_{i}_w"] = rng.normal(size=kernel_shape).astype("float32")
        out[f"i8_{i}_x"] = rng.normal(size=(2,) + input_shape[1:]).astype("float32")
        layer.kernel.assign(out[f"i8_{i}_w"])
        layer.quantize("int8")
        keep(f"i8_{i}", layer, out[f"i8_{i}_x"])
    return out


def models():
    tokens = keras.Input((6,), dtype="int32")
    t = keras.layers.Embedding(30, 9, name="emb")(tokens)
    t = keras.layers.EinsumDense("abc,cd->abd", (6, 7), bias_axes="d", name="ein")(t)
    t = keras.layers.Flatten()(t)
    model = keras.Model(tokens, keras.layers.Dense(5, name="dense")(t))
    for w in model.weights:
        w.assign(rng.normal(size=w.shape).astype("float32"))
    ids = rng.integers(0, 30, size=(4, 6))
    out = {"ids": ids, "int4_float": model.predict(ids, verbose=0)}
    model.quantize("int4")
    out["int4"] = model.predict(ids, verbose=0)
    model.save(os.path.join(HERE, "int4.keras"))
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, name="d"), keras.layers.Dense(3, name="e")])
    for w in model.weights:
        w.assign(rng.normal(size=w.shape).astype("float32"))
    x = rng.normal(size=(4, 6)).astype("float32")
    config = Q.Int8QuantizationConfig(weight_quantizer=Q.AbsMaxQuantizer(axis=0, value_range=(-100, 100)),
                                      activation_quantizer=None)
    model.quantize(config=config, filters="^d$")
    model.quantize("int4", config=Q.Int4QuantizationConfig(block_size=None), filters=["^e"])
    out["x"], out["int8_config"] = x, model.predict(x, verbose=0)
    model.save(os.path.join(HERE, "int8_config.keras"))
    return out


REVERSIBLE_CASES = [("i8", "int8", None), ("i8wo", "int8", {"activation_quantizer": None}), ("g4", "int4", 4),
                    ("pc", "int4", -1), ("g128", "int4", None)]


def reversible():
    local = np.random.default_rng(11)
    out = {"hidden": local.normal(size=(2, 3, 9)).astype("float32"), "ids": local.integers(0, 13, size=(2, 3))}
    for tie in (True, False):
        for tag, mode, setting in REVERSIBLE_CASES:
            if isinstance(setting, dict):
                config = Q.Int8QuantizationConfig(**setting)
            else:
                config = None if setting is None else Q.Int4QuantizationConfig(block_size=setting)
            layer = keras.layers.ReversibleEmbedding(13, 9, tie_weights=tie, name="rev")
            layer.build()
            key = f"rev_{int(tie)}_{tag}"
            for w in layer.weights:
                w.assign(local.normal(size=w.shape).astype("float32"))
                out[f"{key}_float_{w.name}"] = np.asarray(w)
            layer.quantize(mode, config=config)
            for w in layer.weights:
                out[f"{key}/{w.name}"] = np.asarray(w)
            out[f"{key}_fwd"] = np.asarray(layer(out["ids"]))
            out[f"{key}_rev"] = np.asarray(layer(out["hidden"], reverse=True))
    return out


if __name__ == "__main__":
    np.savez_compressed(os.path.join(HERE, "functions.npz"), **functions())
    np.savez_compressed(os.path.join(HERE, "layers.npz"), **layers())
    np.savez_compressed(os.path.join(HERE, "models.npz"), **models())
    np.savez_compressed(os.path.join(HERE, "reversible.npz"), **reversible())
    print("written to", HERE)
