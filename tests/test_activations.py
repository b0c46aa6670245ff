"""lamina.activations: values against NumPy formulas, names, get/serialize/deserialize."""

import math
import warnings

import numpy as np
import pytest

import lamina
from lamina import activations, ops

X = np.array([-4.0, -1.5, -1.0, -0.5, -0.1, 0.0, 0.1, 0.5, 1.0, 1.5, 4.0, 7.0], dtype="float32")

KERAS_NAMES = [
    "celu", "deserialize", "elu", "exponential", "gelu", "get", "glu", "hard_shrink", "hard_sigmoid",
    "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax",
    "mish", "relu", "relu6", "selu", "serialize", "sigmoid", "silu", "soft_shrink", "softmax",
    "softplus", "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish",
    "tanh", "tanh_shrink", "threshold",
]


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_softplus(x):
    return np.log1p(np.exp(x))


def np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * (np.exp(x) - 1))


_erf = np.vectorize(math.erf)

ELEMENTWISE = [
    ("relu", {}, lambda x: np.maximum(x, 0)),
    ("relu6", {}, lambda x: np.clip(x, 0, 6)),
    ("leaky_relu", {}, lambda x: np.where(x > 0, x, 0.2 * x)),
    ("leaky_relu", {"negative_slope": 0.1}, lambda x: np.where(x > 0, x, 0.1 * x)),
    ("elu", {}, np_elu),
    ("elu", {"alpha": 0.5}, lambda x: np_elu(x, 0.5)),
    ("selu", {}, lambda x: 1.0507009873554805 * np_elu(x, 1.6732632423543772)),
    ("celu", {"alpha": 2.0}, lambda x: np.maximum(0, x) + np.minimum(0, 2.0 * (np.exp(x / 2.0) - 1))),
    ("softplus", {}, np_softplus),
    ("softsign", {}, lambda x: x / (1 + np.abs(x))),
    ("silu", {}, lambda x: x * np_sigmoid(x)),
    ("swish", {}, lambda x: x * np_sigmoid(x)),
    ("gelu", {}, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2)))),
    ("gelu", {"approximate": True},
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))),
    ("tanh", {}, np.tanh),
    ("sigmoid", {}, np_sigmoid),
    ("exponential", {}, np.exp),
    ("hard_sigmoid", {}, lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    ("hard_silu", {}, lambda x: x * np.clip(x / 6 + 0.5, 0, 1)),
    ("hard_swish", {}, lambda x: x * np.clip(x / 6 + 0.5, 0, 1)),
    ("log_sigmoid", {}, lambda x: -np_softplus(-x)),
    ("linear", {}, lambda x: x),
    ("mish", {}, lambda x: x * np.tanh(np_softplus(x))),
    ("hard_tanh", {}, lambda x: np.clip(x, -1, 1)),
    ("tanh_shrink", {}, lambda x: x - np.tanh(x)),
    ("soft_shrink", {}, lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0))),
    ("soft_shrink", {"threshold": 1.0}, lambda x: np.where(x > 1, x - 1, np.where(x < -1, x + 1, 0))),
    ("hard_shrink", {}, lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    ("sparse_plus", {}, lambda x: np.where(x <= -1, 0, np.where(x < 1, (x + 1) ** 2 / 4, x))),
    ("sparse_sigmoid", {}, lambda x: np.where(x <= -1, 0, np.where(x >= 1, 1, 0.5 * (x + 1)))),
    ("squareplus", {}, lambda x: (x + np.sqrt(x**2 + 4)) / 2),
    ("squareplus", {"b": 0}, lambda x: np.maximum(x, 0)),
    ("threshold", {"threshold": 0.5, "default_value": -1.0}, lambda x: np.where(x > 0.5, x, -1.0)),
]


@pytest.mark.parametrize("name,kwargs,ref", ELEMENTWISE, ids=[f"{e[0]}{e[1]}" for e in ELEMENTWISE])
def test_elementwise_matches_numpy(name, kwargs, ref):
    fn = getattr(activations, name)
    out = ops.convert_to_numpy(fn(ops.convert_to_tensor(X), **kwargs))
    np.testing.assert_allclose(out, ref(X.astype("float64")), rtol=1e-5, atol=1e-6)
    assert out.dtype == np.float32


def np_relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's relu: max_value above, x above threshold (strictly, as Keras computes it),
    negative_slope * (x - threshold) below."""
    out = np.where(x > threshold, x, negative_slope * (x - threshold))
    if max_value is not None:
        out = np.where(x >= max_value, max_value, out)
    return out


@pytest.mark.parametrize("kwargs", [
    {}, {"negative_slope": 0.3}, {"max_value": 6}, {"max_value": 2.5}, {"threshold": 1.0},
    {"negative_slope": 0.5, "max_value": 3.0}, {"negative_slope": 0.5, "threshold": 1.0},
    {"negative_slope": 0.2, "max_value": 3.0, "threshold": 1.0}, {"max_value": 3.0, "threshold": 1.0},
])
def test_relu_arguments(kwargs):
    out = ops.convert_to_numpy(activations.relu(X, **kwargs))
    np.testing.assert_allclose(out, np_relu(X.astype("float64"), **kwargs), rtol=1e-6, atol=1e-6)


def test_relu_rejects_non_numbers():
    with pytest.raises(ValueError, match=r"relu: max_value must be a number, but received max_value='6'"):
        activations.relu(X, max_value="6")


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax_axis(axis):
    x = np.random.default_rng(0).normal(size=(3, 4, 5)).astype("float32")
    np.testing.assert_allclose(ops.convert_to_numpy(activations.softmax(x, axis=axis)),
                               np_softmax(x, axis), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(activations.log_softmax(x, axis=axis)),
                               np.log(np_softmax(x, axis)), rtol=1e-5, atol=1e-5)


def test_softmax_warns_on_size_one_axis():
    with pytest.warns(UserWarning, match="This axis has size 1"):
        activations.softmax(np.zeros((4, 1), "float32"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        activations.softmax(np.zeros((4, 2), "float32"))


def test_glu():
    x = np.random.default_rng(1).normal(size=(2, 6)).astype("float32")
    np.testing.assert_allclose(ops.convert_to_numpy(activations.glu(x)),
                               x[:, :3] * np_sigmoid(x[:, 3:]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(activations.glu(x.T, axis=0)),
                               (x[:, :3] * np_sigmoid(x[:, 3:])).T, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"glu: the size of axis -1 must be divisible by 2.*\(2, 5\)"):
        activations.glu(np.zeros((2, 5), "float32"))


def np_sparsemax(z):
    """Martins & Astudillo (2016), one row at a time."""
    out = np.zeros_like(z)
    for i, row in enumerate(z):
        s = np.sort(row)[::-1]
        cs = np.cumsum(s)
        k = np.arange(1, len(row) + 1)
        support = 1 + k * s > cs
        kz = k[support][-1]
        tau = (cs[kz - 1] - 1) / kz
        out[i] = np.maximum(row - tau, 0)
    return out


def test_sparsemax():
    x = np.random.default_rng(2).normal(size=(5, 7)).astype("float32") * 2
    out = ops.convert_to_numpy(activations.sparsemax(x))
    np.testing.assert_allclose(out, np_sparsemax(x.astype("float64")), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-5)
    assert (out == 0).any()
    out0 = ops.convert_to_numpy(activations.sparsemax(x.T, axis=0))
    np.testing.assert_allclose(out0, out.T, rtol=1e-5, atol=1e-6)


def test_every_keras_name_is_exported():
    missing = [n for n in KERAS_NAMES if not hasattr(activations, n)]
    assert not missing
    assert activations.swish is activations.silu
    assert activations.hard_swish is activations.hard_silu


def test_symbolic_inputs_keep_shape():
    kt = lamina.KerasTensor((None, 6), "float32")
    for name in ["relu", "softmax", "gelu", "mish", "glu", "sparsemax", "hard_shrink"]:
        out = getattr(activations, name)(kt)
        expected = (None, 3) if name == "glu" else (None, 6)
        assert isinstance(out, lamina.KerasTensor) and tuple(out.shape) == expected, name


def test_dtype_is_kept():
    x = ops.convert_to_tensor([-1.0, 0.5, 2.0], dtype="float64")
    for name in ["relu", "elu", "mish", "sparse_plus", "hard_tanh", "squareplus", "soft_shrink"]:
        assert ops.dtype(getattr(activations, name)(x)) == "float64", name


def test_get():
    assert activations.get(None) is activations.linear
    assert activations.get("relu") is activations.relu
    assert activations.get("swish") is activations.silu
    assert activations.get({"class_name": "function", "config": "tanh"}) is activations.tanh

    def custom(x):
        return x

    assert activations.get(custom) is custom


def test_get_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match=r"Unknown activation function 'rleu'\. Did you mean \['relu'"):
        activations.get("rleu")
    with pytest.raises(ValueError, match="Could not interpret activation function identifier: 3"):
        activations.get(3)


@pytest.mark.parametrize("name", sorted(set(KERAS_NAMES) - {"get", "serialize", "deserialize"}))
def test_serialize_round_trip(name):
    fn = getattr(activations, name)
    config = activations.serialize(fn)
    assert isinstance(config, str)
    assert activations.deserialize(config) is fn
    assert activations.get(config) is fn


def test_custom_function_round_trip_needs_custom_objects():
    def my_act(x):
        return ops.multiply(x, 2.0)

    config = activations.serialize(my_act)
    assert config["class_name"] == "function" and config["config"] == "my_act"
    assert activations.deserialize(config, custom_objects={"my_act": my_act}) is my_act
    with pytest.raises(ValueError, match="Unknown activation function 'my_act'.*custom_objects"):
        activations.deserialize(config)


def test_deserialize_rejects_bad_configs():
    with pytest.raises(ValueError, match="needs a 'class_name' key"):
        activations.deserialize({"config": "relu"})
    with pytest.raises(ValueError, match="expected a string or a dict config"):
        activations.deserialize(5)


def test_squareplus_rejects_negative_b():
    with pytest.raises(ValueError, match=r"squareplus: b must be >= 0, but received b=-1"):
        activations.squareplus(X, b=-1)
