"""Every public op against a NumPy reference: values, dtypes, gradients and symbolic shapes.

Runs under the engine chosen by ``LAMINA_BACKEND``; run it once per engine. Gradients are
taken with the engine itself (tests may import engines), since lamina.backend has no
gradient helper yet.
"""

import numpy as np
import pytest
import scipy.linalg
import scipy.special

import lamina
from lamina import config, ops
from np_conv_reference import (np_adaptive_pool, np_conv, np_conv_transpose, np_depthwise_conv, np_pool,
                               np_separable_conv)

RNG = np.random.default_rng(0)
F = RNG.uniform(-2.0, 2.0, (3, 4)).astype("float32")          # float32 matrix
FP = RNG.uniform(0.5, 2.0, (3, 4)).astype("float32")          # positive
FU = RNG.uniform(-0.9, 0.9, (3, 4)).astype("float32")         # inside (-1, 1)
FG = RNG.uniform(1.1, 3.0, (3, 4)).astype("float32")          # > 1
ROW = RNG.uniform(-2.0, 2.0, (4,)).astype("float32")          # broadcasts against F
I = RNG.integers(-5, 6, (3, 4)).astype("int32")               # int32 matrix
IP = RNG.integers(1, 6, (3, 4)).astype("int32")               # positive ints
B = RNG.integers(0, 2, (3, 4)).astype(bool)
SQ = (RNG.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)).astype("float32")  # well-conditioned
SPD = (SQ @ SQ.T).astype("float32")
V3 = RNG.uniform(-1, 1, (2, 3)).astype("float32")
NAN = np.array([[1.0, np.nan, 3.0], [np.nan, 5.0, 2.0]], "float32")


def _floatx(out):
    return "float32" if out.dtype == np.float64 else out.dtype.name


class Case:
    """One op call: ``ops.<name>(*args, **kwargs)`` against ``ref(*args, **kwargs)``."""

    def __init__(self, name, *args, ref=None, dtype=None, grad=False, rtol=1e-5, atol=1e-6, id=None, **kwargs):
        self.name, self.args, self.kwargs = name, args, kwargs
        self.ref = ref if ref is not None else getattr(np, name)
        self.dtype, self.grad, self.rtol, self.atol = dtype, grad, rtol, atol
        self.id = id or name

    def __repr__(self):
        return self.id


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.log1p(np.exp(x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _np_sparsemax(x):
    z = np.sort(x, axis=-1)[..., ::-1]
    k = np.arange(1, x.shape[-1] + 1)
    cum = np.cumsum(z, -1)
    kz = ((1 + k * z) > cum).sum(-1, keepdims=True)
    tau = (np.take_along_axis(cum, kz - 1, -1) - 1) / kz
    return np.maximum(x - tau, 0)


def _layer_norm(x, axis=-1, epsilon=1e-3):
    m = x.mean(axis, keepdims=True)
    return (x - m) / np.sqrt(x.var(axis, keepdims=True) + epsilon)


def _segment(fn, fill):
    def ref(data, ids, num_segments):
        return np.stack([fn(data[ids == s], axis=0) if (ids == s).any() else np.full(data.shape[1:], fill)
                         for s in range(num_segments)])
    return ref


def _np_scatter(indices, values, shape):
    out = np.zeros(shape, values.dtype)
    np.add.at(out, tuple(indices.T), values)
    return out


def _np_scatter_update(x, indices, updates):
    out = x.copy()
    out[tuple(indices.T)] = updates
    return out


def _np_slice_update(x, starts, updates):
    out = x.copy()
    out[tuple(slice(s, s + n) for s, n in zip(starts, updates.shape))] = updates
    return out


def _np_top_k(x, k):
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, idx, -1), idx


def _np_in_top_k(t, p, k):
    return (p > p[np.arange(len(t)), t][:, None]).sum(1) < k


NUMPY_CASES = [
    # element-wise binary, broadcasting and dtype promotion
    Case("add", F, ROW, grad=True), Case("add", I, IP, id="add_int"), Case("add", F, I, id="add_f32_i32"),
    Case("add", I, 2.5, id="add_int_weak_float", dtype="float32"), Case("add", F, 2, id="add_weak_int"),
    Case("subtract", F, ROW, grad=True), Case("multiply", F, ROW, grad=True), Case("multiply", I, 3, id="multiply_int"),
    Case("divide", F, FP, grad=True), Case("divide", I, IP, id="divide_int", dtype="float32"),
    Case("true_divide", F, FP),
    Case("floor_divide", I, IP), Case("floor_divide", F, FP, id="floor_divide_float"),
    Case("mod", I, IP), Case("mod", F, FP, id="mod_float", rtol=1e-4, atol=1e-5),
    Case("fmod", I, IP), Case("fmod", F, FP, id="fmod_float", rtol=1e-4, atol=1e-5),
    Case("power", FP, F, grad=True, rtol=1e-4), Case("power", IP, 2, id="power_int"),
    Case("maximum", F, ROW), Case("minimum", F, ROW), Case("maximum", I, 0, id="maximum_int"),
    Case("fmax", NAN, 2.0, dtype="float32"), Case("fmin", NAN, 2.0, dtype="float32"),
    Case("arctan2", F, FP, grad=True), Case("hypot", F, ROW, grad=True),
    Case("logaddexp", F, ROW, grad=True), Case("logaddexp2", F, ROW, grad=True),
    Case("heaviside", F, 0.5, dtype="float32"),
    Case("divide_no_nan", np.array([1.0, 2.0], "float32"), np.array([0.0, 4.0], "float32"),
         ref=lambda a, b: np.where(b == 0, 0, a / np.where(b == 0, 1, b))),
    Case("bitwise_and", I, IP), Case("bitwise_or", I, IP), Case("bitwise_xor", I, IP),
    Case("bitwise_not", I, ref=np.invert), Case("bitwise_invert", I, ref=np.invert),
    Case("left_shift", IP, 2), Case("right_shift", IP * 8, 2), Case("bitwise_left_shift", IP, 1, ref=np.left_shift),
    Case("bitwise_right_shift", IP, 1, ref=np.right_shift),
    Case("gcd", I, IP), Case("lcm", I, IP),
    # element-wise unary
    Case("negative", F, grad=True), Case("negative", I, id="negative_int"),
    Case("abs", F), Case("abs", I, id="abs_int"), Case("absolute", F), Case("fabs", I, id="fabs_int", dtype="float32"),
    Case("sign", F), Case("sign", I, id="sign_int"), Case("square", F, grad=True), Case("square", I, id="square_int"),
    Case("sqrt", FP, grad=True), Case("sqrt", IP, id="sqrt_int"), Case("rsqrt", FP, ref=lambda x: 1 / np.sqrt(x), grad=True),
    Case("cbrt", F, grad=True, rtol=1e-4), Case("cbrt", I, id="cbrt_int", rtol=1e-5),
    Case("exp", F, grad=True), Case("exp", I, id="exp_int", rtol=1e-5), Case("exp2", F, grad=True),
    Case("expm1", F, grad=True), Case("log", FP, grad=True), Case("log", IP, id="log_int"),
    Case("log1p", FP, grad=True), Case("log2", FP, grad=True), Case("log10", FP, grad=True),
    Case("reciprocal", FP, grad=True), Case("sin", F, grad=True), Case("cos", F, grad=True),
    Case("tan", FU, grad=True), Case("sinh", F, grad=True), Case("cosh", F, grad=True), Case("tanh", F, grad=True),
    Case("arcsin", FU, grad=True), Case("arccos", FU, grad=True), Case("arctan", F, grad=True),
    Case("arcsinh", F, grad=True), Case("arccosh", FG, grad=True), Case("arctanh", FU, grad=True),
    Case("sin", I, id="sin_int"),
    Case("erf", F, ref=scipy.special.erf, grad=True), Case("erfinv", FU, ref=scipy.special.erfinv, grad=True, rtol=1e-4),
    Case("deg2rad", I, id="deg2rad_int"), Case("rad2deg", F, grad=True), Case("sinc", F, grad=True, rtol=1e-4),
    Case("signbit", F), Case("signbit", I, id="signbit_int"),
    Case("floor", F), Case("ceil", F), Case("trunc", F), Case("floor", I, id="floor_int", dtype="float32"),
    Case("ceil", I, id="ceil_int", dtype="float32"),
    Case("round", np.array([125, 135, -15, 4], "int32"), decimals=-1, ref=lambda x, decimals: np.array(
        [120, 140, -20, 0], "int32"), id="round_int_tens"),
    Case("cumsum", np.array([True, True, False, True]), id="cumsum_bool", dtype="int32"),
    Case("round", np.array([0.5, 1.5, 2.5, -0.5, 1.26], "float32")),
    Case("round", np.array([1.234, 5.678], "float32"), decimals=1, id="round_decimals"),
    Case("clip", F, -1.0, 1.0, ref=np.clip), Case("clip", I, -1, 2, id="clip_int"),
    Case("conj", F), Case("conjugate", F), Case("real", F), Case("imag", F), Case("angle", F),
    Case("nan_to_num", np.array([np.nan, np.inf, -np.inf, 1.0], "float32"),
         ref=lambda x: np.nan_to_num(x, posinf=np.finfo("float32").max, neginf=np.finfo("float32").min)),
    # comparisons and logic
    Case("equal", I, IP), Case("not_equal", I, IP), Case("less", F, ROW), Case("less_equal", F, ROW),
    Case("greater", F, ROW), Case("greater_equal", I, 1), Case("isclose", F, F + 1e-7),
    Case("isclose", F, ROW, id="isclose_broadcast"),
    Case("allclose", F, F + 1e-7), Case("isin", I, np.array([0, 1, 2], "int32")),
    Case("logical_and", B, ~B), Case("logical_or", B, ~B), Case("logical_xor", B, B), Case("logical_not", B),
    Case("isnan", NAN), Case("isinf", np.array([np.inf, -np.inf, 1.0], "float32")),
    Case("isfinite", NAN), Case("isneginf", np.array([np.inf, -np.inf, 1.0], "float32")),
    Case("isposinf", np.array([np.inf, -np.inf, 1.0], "float32")),
    Case("where", B, F, 0.0), Case("where", B, I, IP, id="where_int"),
    # reductions
    Case("sum", F, grad=True), Case("sum", F, axis=1, id="sum_axis"), Case("sum", F, axis=(0, 1), keepdims=True, id="sum_keepdims"),
    Case("sum", I, axis=0, id="sum_int", dtype="int32"), Case("sum", B, id="sum_bool", dtype="int32"),
    Case("mean", F, axis=0, grad=True), Case("mean", I, id="mean_int", dtype="float32"),
    Case("max", F, axis=1), Case("max", I, id="max_int"), Case("min", F, axis=0, keepdims=True), Case("amax", F), Case("amin", I),
    Case("prod", F, axis=1, grad=True, rtol=1e-4), Case("prod", IP, axis=0, id="prod_int", dtype="int32"),
    Case("var", F, axis=1, grad=True, rtol=1e-4), Case("std", F, grad=True, rtol=1e-4), Case("var", I, id="var_int", dtype="float32"),
    Case("all", B, axis=1), Case("any", B, axis=0), Case("argmax", F, axis=1, dtype="int32"), Case("argmin", I, dtype="int32"),
    Case("argmax", F, axis=0, keepdims=True, id="argmax_keepdims", dtype="int32"),
    Case("cumsum", F, axis=1, grad=True, rtol=1e-4), Case("cumsum", I, id="cumsum_int", dtype="int32"),
    Case("cumprod", FP, axis=0, grad=True, rtol=1e-4),
    Case("logsumexp", F, axis=1, ref=lambda x, axis: scipy.special.logsumexp(x, axis=axis), grad=True),
    Case("count_nonzero", I, axis=0, dtype="int32"), Case("count_nonzero", I, id="count_nonzero_all", dtype="int32"),
    Case("nansum", NAN), Case("nansum", NAN, axis=1, id="nansum_axis"), Case("nanmean", NAN, axis=0),
    Case("nanmax", NAN, axis=1), Case("nanmin", NAN),
    Case("ptp", F, axis=1), Case("ptp", I, id="ptp_int"),
    Case("average", F, axis=1, weights=ROW * 0 + np.array([1, 2, 3, 4], "float32"), id="average_weights"),
    Case("average", I, id="average_int"),
    Case("median", F, axis=1), Case("median", I, id="median_int", dtype="float32"),
    Case("median", F, axis=0, keepdims=True, id="median_keepdims"),
    Case("quantile", F, np.array([0.1, 0.5, 0.9], "float32"), axis=1),
    Case("quantile", F, 0.3, method="lower", id="quantile_lower"),
    Case("quantile", F, 0.3, method="higher", id="quantile_higher"),
    Case("quantile", F, 0.3, method="midpoint", id="quantile_midpoint"),
    Case("percentile", I, 40, axis=0, id="percentile_int", dtype="float32"),
    Case("corrcoef", F, rtol=1e-4, atol=1e-5),
    Case("bincount", np.array([0, 1, 1, 4], "int32"), dtype="int32"),
    Case("bincount", np.array([0, 1, 1], "int32"), minlength=5, id="bincount_minlength", dtype="int32"),
    Case("bincount", np.array([0, 1, 1], "int32"), weights=np.array([0.5, 1.0, 2.0], "float32"), id="bincount_weights",
         dtype="float32"),
    Case("diff", I, axis=1), Case("diff", F, n=2, axis=0, id="diff_n2"),
    Case("searchsorted", np.array([1, 3, 5, 7], "int32"), np.array([0, 3, 4, 9], "int32"), dtype="int32"),
    Case("searchsorted", np.array([1.0, 3.0, 5.0], "float32"), np.array([3.0, 6.0], "float32"), side="right",
         id="searchsorted_right", dtype="int32"),
    Case("digitize", F, np.array([-1.0, 0.0, 1.0], "float32"), dtype="int32"),
    Case("trapezoid", F, grad=True), Case("trapezoid", F, dx=0.5, axis=0, id="trapezoid_dx"),
    Case("trapezoid", F, x=np.array([0.0, 1.0, 3.0, 4.0], "float32"), id="trapezoid_x"),
    # linear algebra in numpy
    Case("matmul", F, F.T, grad=True, rtol=1e-4), Case("matmul", I, I.T, id="matmul_int"),
    Case("matmul", np.stack([F, F]), F.T, id="matmul_batched", rtol=1e-4),
    Case("dot", F, F.T, rtol=1e-4), Case("dot", ROW, ROW, id="dot_vec", rtol=1e-4),
    Case("vdot", F, F, rtol=1e-4), Case("inner", F, ROW, rtol=1e-4), Case("inner", I, I, id="inner_int"),
    Case("outer", ROW, ROW), Case("kron", I[:2, :2], IP[:2, :2]), Case("cross", V3, V3[::-1].copy(), grad=True),
    Case("cross", V3.T.copy(), V3.T[::-1].copy(), axis=0, id="cross_axis0"),
    Case("tensordot", F, F.T, axes=1, rtol=1e-4), Case("einsum", "ij,kj->ik", F, F, ref=np.einsum, rtol=1e-4),
    Case("trace", SQ), Case("trace", I, offset=1, id="trace_offset", dtype="int32"),
    Case("slogdet", SQ, ref=np.linalg.slogdet, rtol=1e-4),
    # shapes
    Case("reshape", F, (4, 3)), Case("reshape", I, (-1,), id="reshape_flat"), Case("transpose", F),
    Case("transpose", np.zeros((2, 3, 4), "float32"), axes=(1, 0, 2), id="transpose_axes"),
    Case("expand_dims", F, 1), Case("squeeze", F[None], 0), Case("ravel", I), Case("broadcast_to", ROW, (2, 4)),
    Case("moveaxis", np.zeros((2, 3, 4), "int32"), 0, -1), Case("swapaxes", F, 0, 1),
    Case("concatenate", [F, I], axis=0, id="concatenate_promote"), Case("concatenate", [I, IP], axis=1),
    Case("stack", [F, F], axis=1), Case("hstack", [F, I]), Case("vstack", [F, F]), Case("dstack", [F, F]),
    Case("append", I, IP), Case("append", F, F, axis=0, id="append_axis"),
    Case("tile", I, (2, 1)), Case("repeat", I, 2, axis=1), Case("repeat", I, 2, id="repeat_flat"),
    Case("flip", F, axis=1), Case("flip", I, id="flip_all"), Case("fliplr", F), Case("flipud", I),
    Case("rot90", F), Case("rot90", I, k=3, id="rot90_k3"), Case("roll", F, 1, axis=1), Case("roll", I, -2, id="roll_flat"),
    Case("pad", I, ((1, 0), (0, 2))), Case("pad", F, 1, mode="reflect", id="pad_reflect"),
    Case("pad", F, 2, mode="symmetric", id="pad_symmetric"), Case("pad", F, 1, mode="edge", id="pad_edge"),
    Case("take", F, np.array([2, 0], "int32"), axis=1), Case("take", I, np.array([-1, 3], "int32"), id="take_flat"),
    Case("take", F, np.array(1, "int32"), axis=1, id="take_scalar_index"),
    Case("take", I, np.array(-2, "int32"), id="take_flat_scalar_index"),
    Case("take_along_axis", F, np.argsort(F, 1).astype("int32"), axis=1),
    Case("sort", F, axis=0), Case("argsort", I, ref=lambda x: np.argsort(x, kind="stable"), dtype="int32"),
    Case("tril", F), Case("triu", I, k=1), Case("diag", ROW), Case("diag", F, k=1, id="diag_extract"),
    Case("diagonal", F), Case("diagflat", I[:2, :2]), Case("copy", F),
    Case("select", [F > 1, F < -1], [F, -F], 0.0, ref=np.select),
    # creation
    Case("zeros", (2, 3), ref=lambda s: np.zeros(s, "float32")), Case("ones", (2,), dtype="int32", ref=lambda s: np.ones(s, "int32"), id="ones_int"),
    Case("full", (2, 2), 3, dtype="int32"), Case("full", (2,), 1.5, ref=lambda s, v: np.full(s, v, "float32"), id="full_float"),
    Case("zeros_like", I), Case("ones_like", F), Case("full_like", I, 4), Case("empty", (2, 3), ref=lambda s: np.zeros(s, "float32")),
    Case("arange", 5, dtype="int32"), Case("arange", 0.0, 1.0, 0.25, dtype="float32", ref=lambda *a: np.arange(*a), id="arange_float"),
    Case("linspace", 0, 1, 5), Case("linspace", 0.0, 1.0, 4, endpoint=False, id="linspace_no_end"),
    Case("logspace", 0, 2, 3), Case("logspace", 0, 3, 4, base=2, id="logspace_base2"), Case("geomspace", 1, 1000, 4, rtol=1e-4),
    Case("eye", 3), Case("eye", 3, 4, k=1, id="eye_k"), Case("identity", 2), Case("tri", 3), Case("tri", 3, 4, k=-1, id="tri_k"),
    Case("empty_like", I, ref=np.zeros_like), Case("get_item", F, (slice(0, 2), 1), ref=lambda x, k: x[k]),
    Case("get_item", I, np.array([2, 0], "int32"), ref=lambda x, k: x[k], id="get_item_tensor_key"),
    Case("array", F), Case("array", [1, 2], ref=lambda x: np.array(x, "int32"), id="array_list"),
]


def _np_glu(x, axis=-1):
    a, b = np.split(x, 2, axis)
    return a * _sigmoid(b)


NN_CASES = [
    Case("relu", F, ref=lambda x: np.maximum(x, 0)), Case("relu", I, ref=lambda x: np.maximum(x, 0), id="relu_int", dtype="int32"),
    Case("hard_tanh", I, ref=lambda x: np.clip(x, -1, 1), id="hard_tanh_int", dtype="int32"),
    Case("relu6", F * 4, ref=lambda x: np.clip(x, 0, 6)), Case("sigmoid", F, ref=_sigmoid, grad=True),
    Case("softplus", F, ref=_softplus, grad=True), Case("softsign", F, ref=lambda x: x / (1 + np.abs(x)), grad=True),
    Case("silu", F, ref=lambda x: x * _sigmoid(x), grad=True), Case("log_sigmoid", F, ref=lambda x: -_softplus(-x), grad=True),
    Case("leaky_relu", F, ref=lambda x: np.where(x > 0, x, 0.2 * x)),
    Case("hard_sigmoid", F * 4, ref=lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    Case("hard_silu", F * 4, ref=lambda x: x * np.clip(x / 6 + 0.5, 0, 1)),
    Case("elu", F, ref=lambda x: np.where(x > 0, x, np.expm1(x))),
    Case("selu", F, ref=lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)), rtol=1e-5),
    Case("celu", F, ref=lambda x: np.where(x > 0, x, np.expm1(x))),
    Case("gelu", F, ref=lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))), grad=True),
    Case("gelu", F, approximate=False, ref=lambda x, approximate: 0.5 * x * (1 + scipy.special.erf(x / np.sqrt(2))), id="gelu_exact"),
    Case("mish", F, ref=lambda x: x * np.tanh(_softplus(x)), grad=True),
    Case("glu", F, ref=_np_glu, grad=True), Case("glu", F[:2], axis=0, ref=_np_glu, id="glu_axis0"),
    Case("hard_tanh", F, ref=lambda x: np.clip(x, -1, 1)),
    Case("hard_shrink", F, ref=lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    Case("soft_shrink", F, threshold=1.0, ref=lambda x, threshold: np.sign(x) * np.maximum(np.abs(x) - threshold, 0)),
    Case("tanh_shrink", F, ref=lambda x: x - np.tanh(x), grad=True),
    Case("threshold", F, 0.5, -1.0, ref=lambda x, t, d: np.where(x > t, x, d)),
    Case("sparse_plus", F, ref=lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)), grad=True),
    Case("sparse_sigmoid", F, ref=lambda x: np.clip((x + 1) / 2, 0, 1)),
    Case("squareplus", F, ref=lambda x: (x + np.sqrt(x * x + 4)) / 2, grad=True),
    Case("softmax", F, ref=_softmax, grad=True), Case("softmax", F, axis=0, ref=_softmax, id="softmax_axis0"),
    Case("log_softmax", F, ref=lambda x: np.log(_softmax(x)), grad=True),
    Case("sparsemax", F, ref=_np_sparsemax), Case("sparsemax", F * 5, ref=_np_sparsemax, id="sparsemax_sparse"),
    Case("normalize", F, ref=lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True), grad=True, rtol=1e-4),
    Case("normalize", F, order=1, axis=0, ref=lambda x, order, axis: x / np.abs(x).sum(axis, keepdims=True), id="normalize_l1"),
    Case("one_hot", np.array([0, 2, 5], "int32"), 3, ref=lambda x, n: np.eye(n + 1, dtype="float32")[np.minimum(x, n), :n]),
    Case("multi_hot", np.array([[0, 2], [1, 1]], "int32"), 3,
         ref=lambda x, n: np.array([[1, 0, 1], [0, 1, 0]], "float32")),
    Case("layer_normalization", F, ref=_layer_norm, grad=True, rtol=1e-4, epsilon=1e-3),
    Case("layer_normalization", F, gamma=ROW, beta=ROW, epsilon=1e-3, id="layer_normalization_affine",
         ref=lambda x, gamma, beta, epsilon: _layer_norm(x, epsilon=epsilon) * gamma + beta, rtol=1e-4),
    Case("rms_normalization", F, scale=ROW, epsilon=1e-6,
         ref=lambda x, scale, epsilon: x / np.sqrt((x * x).mean(-1, keepdims=True) + epsilon) * scale, rtol=1e-4),
    Case("batch_normalization", F, F.mean(0), F.var(0), -1, offset=ROW, scale=ROW,
         ref=lambda x, m, v, a, offset, scale: (x - m) / np.sqrt(v + 1e-3) * scale + offset, rtol=1e-4),
    Case("moments", F, axes=[0], ref=lambda x, axes: (x.mean(0), x.var(0)), rtol=1e-4),
    Case("psnr", FP, F, 2.0, ref=lambda a, b, m: 20 * np.log10(m) - 10 * np.log10(((a - b) ** 2).mean()), rtol=1e-4),
    Case("binary_crossentropy", B.astype("float32"), _sigmoid(F),
         ref=lambda t, o: -(t * np.log(o) + (1 - t) * np.log(1 - o)), rtol=1e-4),
    Case("binary_crossentropy", B.astype("float32"), F, from_logits=True, id="binary_crossentropy_logits",
         ref=lambda t, o, from_logits: -(t * np.log(_sigmoid(o)) + (1 - t) * np.log(1 - _sigmoid(o))), rtol=1e-4),
    Case("categorical_crossentropy", np.eye(4, dtype="float32")[[0, 2, 3]], F, from_logits=True,
         ref=lambda t, o, from_logits: -(t * np.log(_softmax(o))).sum(-1), rtol=1e-4, grad=False),
    Case("dense", F, F.T[:, :2].copy(), ROW[:2].copy(), ref=lambda x, k, b: x @ k + b, grad=True, rtol=1e-4),
    Case("dense", F, F.T[:, :2].copy(), ref=lambda x, k: x @ k, grad=True, rtol=1e-4, id="dense_no_bias"),
    Case("sparse_categorical_crossentropy", np.array([0, 2, 3], "int32"), _softmax(F),
         ref=lambda t, o: -np.log(o[np.arange(3), t]), rtol=1e-4),
]

# convolution and pooling against explicit NumPy loops (tests/np_conv_reference.py)
IMG = RNG.uniform(-1, 1, (2, 5, 6, 3)).astype("float32")      # NHWC
IMG_CF = np.moveaxis(IMG, -1, 1).copy()                        # NCHW
SEQ = RNG.uniform(-1, 1, (2, 7, 4)).astype("float32")          # NWC
VOL = RNG.uniform(-1, 1, (1, 4, 3, 5, 2)).astype("float32")    # NDHWC
K2 = RNG.uniform(-1, 1, (3, 2, 3, 4)).astype("float32")        # (kh, kw, in, out)
SMALL = RNG.uniform(-1, 1, (1, 4, 4, 2)).astype("float32")
NN_CASES = NN_CASES + [
    Case("conv", IMG, K2, ref=np_conv, rtol=1e-4, atol=1e-5),
    Case("conv", IMG, K2, strides=2, padding="same", ref=np_conv, rtol=1e-4, atol=1e-5, id="conv_strided_same"),
    Case("conv", IMG, K2, dilation_rate=2, padding="same", ref=np_conv, rtol=1e-4, atol=1e-5, id="conv_dilated"),
    Case("conv", IMG_CF, K2, strides=(1, 2), data_format="channels_first", ref=np_conv, rtol=1e-4, atol=1e-5,
         id="conv_channels_first"),
    Case("conv", SEQ, RNG.uniform(-1, 1, (3, 2, 6)).astype("float32"), strides=2, ref=np_conv, rtol=1e-4,
         atol=1e-5, id="conv1d_groups2"),
    Case("conv", VOL, RNG.uniform(-1, 1, (2, 2, 3, 2, 3)).astype("float32"), padding="same", ref=np_conv,
         rtol=1e-4, atol=1e-5, id="conv3d"),
    Case("conv", SMALL, K2[:2, :2, :2], ref=np_conv, grad=True, rtol=1e-4, atol=1e-5, id="conv_grad"),
    Case("depthwise_conv", IMG, K2[..., :2], strides=2, padding="same", ref=np_depthwise_conv, rtol=1e-4,
         atol=1e-5),
    Case("depthwise_conv", IMG_CF, K2[..., :2], data_format="channels_first", dilation_rate=(2, 1),
         ref=np_depthwise_conv, rtol=1e-4, atol=1e-5, id="depthwise_conv_channels_first"),
    Case("separable_conv", IMG, K2[..., :2], RNG.uniform(-1, 1, (1, 1, 6, 5)).astype("float32"), padding="same",
         ref=np_separable_conv, rtol=1e-4, atol=1e-5),
    Case("conv_transpose", IMG, K2.transpose(0, 1, 3, 2).copy(), strides=2, padding="same",
         ref=np_conv_transpose, rtol=1e-4, atol=1e-5),
    Case("conv_transpose", IMG, K2.transpose(0, 1, 3, 2).copy(), strides=(2, 3), ref=np_conv_transpose,
         rtol=1e-4, atol=1e-5, id="conv_transpose_valid"),
    Case("conv_transpose", IMG_CF, K2.transpose(0, 1, 3, 2).copy(), strides=2, output_padding=1, padding="same",
         data_format="channels_first", ref=np_conv_transpose, rtol=1e-4, atol=1e-5,
         id="conv_transpose_output_padding"),
    Case("conv_transpose", SMALL, K2[:2, :2, :, :2], strides=2, ref=np_conv_transpose, grad=True, rtol=1e-4,
         atol=1e-5, id="conv_transpose_grad"),
    Case("max_pool", IMG, 2, ref=np_pool), Case("max_pool", IMG, 3, strides=2, padding="same", ref=np_pool,
                                                id="max_pool_same"),
    Case("max_pool", SEQ, 2, strides=1, ref=np_pool, grad=True, id="max_pool_grad"),
    Case("max_pool", IMG_CF, (2, 3), data_format="channels_first", ref=np_pool, id="max_pool_channels_first"),
    Case("average_pool", IMG, 2, ref=lambda *a, **k: np_pool(*a, kind="avg", **k), rtol=1e-5),
    Case("average_pool", IMG, 3, strides=2, padding="same", ref=lambda *a, **k: np_pool(*a, kind="avg", **k),
         rtol=1e-5, grad=True, id="average_pool_same_uncounted_padding"),
    Case("average_pool", VOL, 2, strides=1, padding="same", ref=lambda *a, **k: np_pool(*a, kind="avg", **k),
         rtol=1e-5, id="average_pool_3d"),
    Case("adaptive_average_pool", IMG, (2, 4), ref=np_adaptive_pool, rtol=1e-5),
    Case("adaptive_max_pool", IMG_CF, 3, data_format="channels_first",
         ref=lambda *a, **k: np_adaptive_pool(*a, kind="max", **k)),
]

LINALG_CASES = [
    Case("norm", F, ref=np.linalg.norm, grad=True), Case("norm", F, axis=1, ref=np.linalg.norm, id="norm_axis"),
    Case("norm", F, ord=1, axis=0, ref=np.linalg.norm, id="norm_l1", rtol=1e-5),
    Case("norm", F, ord="fro", ref=np.linalg.norm, id="norm_fro"),
    Case("inv", SQ, ref=np.linalg.inv, rtol=1e-4, atol=1e-5), Case("det", SQ, ref=np.linalg.det, rtol=1e-4, grad=True),
    Case("solve", SQ, F[:, :3], ref=np.linalg.solve, rtol=1e-4, atol=1e-5),
    Case("cholesky", SPD, ref=np.linalg.cholesky, rtol=1e-4, atol=1e-5),
    Case("lstsq", F, ROW[:3], ref=lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], rtol=1e-4, atol=1e-5),
    Case("pinv", F, ref=np.linalg.pinv, rtol=1e-4, atol=1e-5),
    Case("matrix_rank", np.array([[1, 2], [2, 4]], "float32"), ref=np.linalg.matrix_rank, dtype="int64"),
    Case("matrix_rank", SQ, ref=np.linalg.matrix_rank, dtype="int64", id="matrix_rank_full"),
    Case("solve_triangular", np.tril(SQ), F[:, :2], lower=True, ref=scipy.linalg.solve_triangular, rtol=1e-4, atol=1e-5),
    Case("solve_triangular", np.triu(SQ), ROW[:3], ref=scipy.linalg.solve_triangular, rtol=1e-4, atol=1e-5, id="solve_triangular_vec"),
    Case("cholesky_inverse", np.linalg.cholesky(SPD).astype("float32"), ref=lambda l: np.linalg.inv(l @ l.T), rtol=1e-3, atol=1e-5),
    Case("eigvalsh", SPD, ref=np.linalg.eigvalsh, rtol=1e-4),
    Case("logdet", SPD, ref=lambda x: np.linalg.slogdet(x)[1], rtol=1e-4),
    Case("matrix_power", I[:3, :3], 3, ref=np.linalg.matrix_power),
    Case("matrix_power", SQ, -1, ref=np.linalg.matrix_power, rtol=1e-4, atol=1e-5, id="matrix_power_neg"),
]

CASES = NUMPY_CASES + NN_CASES + LINALG_CASES


def _to_numpy(x):
    return ops.convert_to_numpy(x)


def _np_args(args):
    return [a.astype("float64") if isinstance(a, np.ndarray) and a.dtype == np.float32 else a for a in args]


def _expected(case):
    return case.ref(*_np_args(case.args), **case.kwargs)


def _check_one(got, want, case, dtype):
    got_np = _to_numpy(got)
    want = np.asarray(want)
    assert got_np.shape == want.shape, f"ops.{case.id}: shape {got_np.shape} != NumPy's {want.shape}"
    if want.dtype == bool or np.issubdtype(want.dtype, np.integer):
        np.testing.assert_array_equal(got_np, want, err_msg=f"ops.{case.id}")
    else:
        np.testing.assert_allclose(got_np, want, rtol=case.rtol, atol=case.atol, err_msg=f"ops.{case.id}",
                                   equal_nan=True)
    assert ops.dtype(got) == dtype, f"ops.{case.id}: dtype {ops.dtype(got)}, expected {dtype}"


def _call(case):
    fn = getattr(ops.nn if case in NN_CASES else ops.linalg if case in LINALG_CASES else ops.numpy, case.name)
    kwargs = dict(case.kwargs)
    if case.name in ("ones", "full", "arange") and case.dtype:
        kwargs["dtype"] = case.dtype
    return fn(*case.args, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_op_matches_numpy(case):
    got = _call(case)
    want = _expected(case)
    if isinstance(want, tuple):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        for g, w in zip(got, want):
            _check_one(g, w, case, case.dtype or _floatx(np.asarray(w)))
    else:
        _check_one(got, want, case, case.dtype or _floatx(np.asarray(want)))


# ---- ops whose outputs are not a single NumPy call --------------------------

def test_multi_output_and_index_ops():
    x = np.array([3, 1, 3, 2, 1], "int32")
    vals, inv, counts = ops.unique(x, return_inverse=True, return_counts=True)
    nv, ni, nc = np.unique(x, return_inverse=True, return_counts=True)
    for g, w, dt in ((vals, nv, "int32"), (inv, ni, "int64"), (counts, nc, "int64")):
        np.testing.assert_array_equal(_to_numpy(g), w)
        assert ops.dtype(g) == dt
    np.testing.assert_array_equal(_to_numpy(ops.unique(x, size=5, fill_value=0)), [1, 2, 3, 0, 0])
    for g, w in zip(ops.nonzero(I), np.nonzero(I)):
        np.testing.assert_array_equal(_to_numpy(g), w)
        assert ops.dtype(g) == "int32"  # indices are int32, as Keras's
    values, indices = ops.top_k(F, 2)
    wv, wi = _np_top_k(F, 2)
    np.testing.assert_allclose(_to_numpy(values), wv)
    np.testing.assert_array_equal(_to_numpy(indices), wi)
    assert ops.dtype(values) == "float32" and ops.dtype(indices) == "int32"
    targets = np.array([0, 1, 3], "int32")
    for k in (1, 2, 3):
        np.testing.assert_array_equal(_to_numpy(ops.in_top_k(targets, F, k)), _np_in_top_k(targets, F, k))
    for got, want in zip(ops.unstack(F, axis=1), np.moveaxis(F, 1, 0)):
        np.testing.assert_array_equal(_to_numpy(got), want)
    for got, want in zip(ops.split(F, [1, 3], axis=1), np.split(F, [1, 3], axis=1)):
        np.testing.assert_array_equal(_to_numpy(got), want)
    for got, want in zip(ops.array_split(np.arange(7), 3), np.array_split(np.arange(7), 3)):
        np.testing.assert_array_equal(_to_numpy(got), want)
    for got, want in zip(ops.hsplit(F, 2), np.hsplit(F, 2)):
        np.testing.assert_array_equal(_to_numpy(got), want)
    for got, want in zip(ops.vsplit(F[:2], 2), np.vsplit(F[:2], 2)):
        np.testing.assert_array_equal(_to_numpy(got), want)
    for got, want in zip(ops.meshgrid(ROW, ROW[:2], indexing="ij"), np.meshgrid(ROW, ROW[:2], indexing="ij")):
        np.testing.assert_array_equal(_to_numpy(got), want)
    q, r = ops.qr(F.T)
    np.testing.assert_allclose(_to_numpy(ops.matmul(q, r)), F.T, rtol=1e-4, atol=1e-5)
    s = ops.svd(F, compute_uv=False)
    np.testing.assert_allclose(_to_numpy(s), np.linalg.svd(F, compute_uv=False), rtol=1e-4)
    w, v = ops.eigh(SPD)
    np.testing.assert_allclose(_to_numpy(w), np.linalg.eigvalsh(SPD), rtol=1e-4)
    w, v = ops.eig(np.triu(SQ))
    np.testing.assert_allclose(np.sort(_to_numpy(w).real), np.sort(np.diag(SQ)), rtol=1e-4)
    assert ops.dtype(w) == "complex64"
    np.testing.assert_allclose(np.sort(_to_numpy(ops.eigvals(np.triu(SQ))).real), np.sort(np.diag(SQ)), rtol=1e-4)
    lu, piv = ops.lu_factor(SQ)
    wlu, wpiv = scipy.linalg.lu_factor(SQ.astype("float64"))
    np.testing.assert_allclose(_to_numpy(lu), wlu, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(_to_numpy(piv), wpiv)
    z = ops.polar(np.array([2.0], "float32"), np.array([np.pi / 2], "float32"))
    np.testing.assert_allclose(_to_numpy(z), [2j], atol=1e-6)


def test_segment_scatter_and_slice_ops():
    data = F
    ids = np.array([0, 2, 0], "int32")
    np.testing.assert_allclose(_to_numpy(ops.segment_sum(data, ids, num_segments=3)),
                               _segment(np.sum, 0.0)(data, ids, 3), rtol=1e-6)
    np.testing.assert_allclose(_to_numpy(ops.segment_max(data, ids, num_segments=3)),
                               _segment(np.max, -np.inf)(data, ids, 3))
    got = ops.segment_sum(I, ids)
    assert ops.dtype(got) == "int32" and _to_numpy(got).shape == (3, 4)
    assert _to_numpy(ops.segment_max(I, ids, num_segments=3))[1].tolist() == [np.iinfo("int32").min] * 4
    idx = np.array([[0, 1], [2, 3], [0, 1]], "int32")
    np.testing.assert_allclose(_to_numpy(ops.scatter(idx, np.array([1.0, 2.0, 3.0], "float32"), (3, 4))),
                               _np_scatter(idx, np.array([1.0, 2.0, 3.0], "float32"), (3, 4)))
    rows = np.array([[1], [2]], "int32")
    np.testing.assert_array_equal(_to_numpy(ops.scatter(rows, np.ones((2, 4), "int32"), (3, 4))),
                                  _np_scatter(rows, np.ones((2, 4), "int32"), (3, 4)))
    idx = np.array([[0, 1], [2, 3]], "int32")
    got = ops.scatter_update(I, idx, np.array([7, 8], "int32"))
    np.testing.assert_array_equal(_to_numpy(got), _np_scatter_update(I, idx, np.array([7, 8])))
    np.testing.assert_array_equal(_to_numpy(ops.slice(I, (1, 1), (2, 2))), I[1:3, 1:3])
    np.testing.assert_array_equal(_to_numpy(ops.slice(I, (2, 3), (2, 2))), I[1:3, 2:4])  # starts are clamped
    upd = np.full((2, 2), 9, "int32")
    np.testing.assert_array_equal(_to_numpy(ops.slice_update(I, (1, 2), upd)), _np_slice_update(I, (1, 2), upd))


def test_size_and_ndim():
    assert ops.size(F) == 12 and ops.ndim(F) == 2 and ops.shape(F) == (3, 4)


# ops exercised outside the NumPy-reference table (multi-output, index and scatter ops)
SPECIAL = {"unique", "nonzero", "top_k", "in_top_k", "unstack", "split", "array_split", "hsplit", "vsplit",
           "meshgrid", "qr", "svd", "eigh", "eig", "eigvals", "lu_factor", "polar", "segment_sum", "segment_max",
           "scatter", "scatter_update", "slice", "slice_update", "size", "ndim",
           "dot_product_attention"}  # checked against NumPy in tests/test_attention_layers.py


def test_every_public_op_is_checked_here():
    tables = set(ops.numpy._DOCS) | set(ops.nn._DOCS) | set(ops.linalg._DOCS)
    missing = tables - {c.name for c in CASES} - SPECIAL
    assert not missing, f"ops without a conformance case in this file: {sorted(missing)}"


def test_dtype_rules_for_common_cases():
    assert ops.dtype(ops.add(np.ones(2, "float16"), 1.0)) == "float16"
    assert ops.dtype(ops.add(np.ones(2, "int8"), np.ones(2, "int16"))) == "int16"
    assert ops.dtype(ops.multiply(ops.ones((2,), "bfloat16"), 2)) == "bfloat16"
    assert ops.dtype(ops.mean(np.ones(2, "float16"))) == "float16"
    assert ops.dtype(ops.sqrt(np.ones(2, "float64"))) == "float64"
    assert ops.dtype(ops.matmul(np.ones((2, 2), "float32"), np.ones((2, 2), "int32"))) == "float32"
    assert ops.dtype(ops.zeros((2,))) == config.floatx()
    assert ops.dtype(ops.linspace(0, 1, 3)) == config.floatx()
    # as Keras 3 (both engines): relu keeps integers, floor gives floatx, Python-number fills are floatx
    assert ops.dtype(ops.relu(np.array([1, 2], "int32"))) == "int32"
    assert ops.dtype(ops.floor(np.array([1, 2], "int32"))) == config.floatx()
    assert ops.dtype(ops.full((2,), 3)) == config.floatx()
    assert ops.dtype(ops.full((2,), True)) == config.floatx()
    assert ops.dtype(ops.clip(np.array([1, 2], "int32"), -1.5, 2.5)) == config.floatx()
    assert ops.dtype(ops.fori_loop(0, 3, lambda i, v: v + 1.0, 0.0)) == config.floatx()


# ---- gradients ---------------------------------------------------------------

def _engine_grad(fn, args):
    """Gradient of ``sum(fn(*args))`` with respect to every float array in ``args``, from the engine."""
    float_pos = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype == np.float32]
    if config.backend() == "torch":
        import torch

        tensors = [torch.tensor(a, requires_grad=True) if i in float_pos else a for i, a in enumerate(args)]
        out = fn(*tensors)
        torch.sum(torch.real(out) if torch.is_complex(out) else out).backward()
        return [tensors[i].grad.numpy() for i in float_pos]
    import jax
    import jax.numpy as jnp

    def scalar(*floats):
        full = list(args)
        for i, f in zip(float_pos, floats):
            full[i] = f
        return jnp.sum(fn(*full))

    grads = jax.grad(scalar, argnums=tuple(range(len(float_pos))))(*[jnp.asarray(args[i]) for i in float_pos])
    return [np.asarray(g) for g in grads]


def _numeric_grad(ref, args, kwargs, eps=1e-6):
    args = _np_args(args)
    grads = []
    for i, a in enumerate(args):
        if not (isinstance(a, np.ndarray) and a.dtype == np.float64):
            continue
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus, minus = list(args), list(args)
            ap, am = a.copy(), a.copy()
            ap[idx] += eps
            am[idx] -= eps
            plus[i], minus[i] = ap, am
            g[idx] = (np.sum(ref(*plus, **kwargs)) - np.sum(ref(*minus, **kwargs))) / (2 * eps)
        grads.append(g)
    return grads


GRAD_CASES = [c for c in CASES if c.grad]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_gradient_matches_finite_differences(case):
    fn = getattr(ops.nn if case in NN_CASES else ops.linalg if case in LINALG_CASES else ops.numpy, case.name)
    got = _engine_grad(lambda *a: fn(*a, **case.kwargs), list(case.args))
    want = _numeric_grad(case.ref, list(case.args), case.kwargs)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-3, atol=2e-3, err_msg=f"gradient of ops.{case.id}")


def test_gradient_of_known_analytic_cases():
    x = np.array([0.5, -1.0, 2.0], "float32")
    (g,) = _engine_grad(lambda t: ops.relu(t), [x])
    np.testing.assert_array_equal(g, [1.0, 0.0, 1.0])
    (g,) = _engine_grad(lambda t: ops.abs(t), [x])
    np.testing.assert_array_equal(g, [1.0, -1.0, 1.0])
    (g,) = _engine_grad(lambda t: ops.max(t), [x])
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])
    (g,) = _engine_grad(lambda t: ops.clip(t, -0.5, 1.0), [x])
    np.testing.assert_array_equal(g, [1.0, 0.0, 0.0])
    (g,) = _engine_grad(lambda t: ops.where(t > 0, t * 3.0, 0.0), [x])
    np.testing.assert_array_equal(g, [3.0, 0.0, 3.0])


# ---- symbolic shape and dtype inference ------------------------------------

SYMBOLIC = [
    (lambda x: ops.add(x, 1.0), (None, 3), "float32"),
    (lambda x: ops.mean(x, axis=1), (None,), "float32"),
    (lambda x: ops.sum(x, axis=0, keepdims=True), (1, 3), "float32"),
    (lambda x: ops.matmul(x, np.ones((3, 5), "float32")), (None, 5), "float32"),
    (lambda x: ops.argmax(x, axis=-1), (None,), "int32"),
    (lambda x: ops.top_k(x, 2)[1], (None, 2), "int32"),
    (lambda x: ops.expand_dims(x, 1), (None, 1, 3), "float32"),
    (lambda x: ops.reshape(x, (-1, 1, 3)), (None, 1, 3), "float32"),
    (lambda x: ops.concatenate([x, x], axis=1), (None, 6), "float32"),
    (lambda x: ops.concatenate([x, x], axis=0), (None, 3), "float32"),
    (lambda x: ops.transpose(x), (3, None), "float32"),
    (lambda x: ops.cast(x, "int32"), (None, 3), "int32"),
    (lambda x: ops.greater(x, 0.0), (None, 3), "bool"),
    (lambda x: ops.softmax(x), (None, 3), "float32"),
    (lambda x: ops.layer_normalization(x), (None, 3), "float32"),
    (lambda x: ops.median(x, axis=1), (None,), "float32"),
    (lambda x: ops.roll(x, 1, axis=1), (None, 3), "float32"),
    (lambda x: ops.cross(x, x), (None, 3), "float32"),
    (lambda x: ops.glu(ops.concatenate([x, x], axis=1)), (None, 3), "float32"),
    (lambda x: ops.one_hot(ops.cast(x, "int32"), 4), (None, 3, 4), "float32"),
    (lambda x: ops.norm(x, axis=-1), (None,), "float32"),
    (lambda x: ops.slice(x, (0, 1), (1, 2)), (1, 2), "float32"),
    (lambda x: ops.unstack(ops.transpose(x))[0], (None,), "float32"),
]


@pytest.mark.parametrize("fn,shape,dtype", SYMBOLIC, ids=[f"symbolic_{i}" for i in range(len(SYMBOLIC))])
def test_symbolic_shape_and_dtype(fn, shape, dtype):
    out = fn(lamina.KerasTensor((None, 3)))
    assert isinstance(out, lamina.KerasTensor)
    assert tuple(out.shape) == shape
    assert out.dtype == dtype


def test_int_input_to_symbolic_float_op():
    out = ops.sqrt(lamina.KerasTensor((None, 2), dtype="int32"))
    assert out.dtype == config.floatx() and tuple(out.shape) == (None, 2)
