"""lamina.regularizers and lamina.constraints: values against NumPy, configs, errors."""

import numpy as np
import pytest

from lamina import config, constraints, ops, regularizers

W = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
KERNEL = np.random.default_rng(1).normal(size=(3, 3, 2, 4)).astype("float32")


def np_(x):
    return ops.convert_to_numpy(x)


# ----------------------------------------------------------------- regularizers

def test_regularizer_names():
    names = ["deserialize", "get", "L1", "l1", "l1_l2", "L1L2", "L2", "l2", "orthogonal_regularizer",
             "OrthogonalRegularizer", "Regularizer", "serialize"]
    assert [n for n in names if not hasattr(regularizers, n)] == []
    assert regularizers.l1_l2 is regularizers.L1L2


def test_l1_l2_values():
    np.testing.assert_allclose(np_(regularizers.L1(0.3)(W)), 0.3 * np.abs(W).sum(), rtol=1e-5)
    np.testing.assert_allclose(np_(regularizers.L2(0.2)(W)), 0.2 * np.square(W).sum(), rtol=1e-5)
    np.testing.assert_allclose(np_(regularizers.L1L2(0.1, 0.2)(W)),
                               0.1 * np.abs(W).sum() + 0.2 * np.square(W).sum(), rtol=1e-5)
    out = regularizers.L1L2()(W)
    assert ops.shape(out) == () and float(out) == 0.0
    assert regularizers.L1().l1 == 0.01 and regularizers.L2().l2 == 0.01


def np_orthogonal_penalty(w, factor, mode):
    m = w if mode == "rows" else w.T
    m = m / np.sqrt(np.maximum((m**2).sum(axis=1, keepdims=True), config.epsilon()))
    p = m @ m.T
    n = p.shape[0]
    return factor * 0.5 * np.abs(p * (1 - np.eye(n))).sum() / (n * (n - 1) / 2)


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer(mode):
    reg = regularizers.OrthogonalRegularizer(factor=0.5, mode=mode)
    np.testing.assert_allclose(np_(reg(W)), np_orthogonal_penalty(W.astype("float64"), 0.5, mode), rtol=1e-5)
    assert float(reg(np.eye(4, dtype="float32"))) == 0.0
    with pytest.raises(ValueError, match=r"OrthogonalRegularizer: inputs must have rank 2, but received inputs with shape \(3, 3, 2, 4\)"):
        reg(KERNEL)


@pytest.mark.parametrize("reg", [
    regularizers.L1(0.2), regularizers.L2(0.3), regularizers.L1L2(0.1, 0.4),
    regularizers.OrthogonalRegularizer(0.2, "columns"),
], ids=lambda r: type(r).__name__)
def test_regularizer_config_round_trip(reg):
    config_ = regularizers.serialize(reg)
    assert config_["module"] == "keras.regularizers"
    clone = regularizers.deserialize(config_)
    assert type(clone) is type(reg) and clone.get_config() == reg.get_config()
    np.testing.assert_allclose(np_(clone(W)), np_(reg(W)))
    assert type(regularizers.Regularizer.from_config.__func__(type(reg), reg.get_config())) is type(reg)


def test_regularizer_get():
    assert regularizers.get(None) is None
    assert isinstance(regularizers.get("l2"), regularizers.L2)
    assert isinstance(regularizers.get("L1L2"), regularizers.L1L2)
    assert isinstance(regularizers.get(regularizers.L1), regularizers.L1)
    r = regularizers.L1(0.5)
    assert regularizers.get(r) is r
    with pytest.raises(ValueError, match=r"Unknown regularizer 'l3'\. Did you mean"):
        regularizers.get("l3")


def test_base_regularizer_get_config_raises():
    class Custom(regularizers.Regularizer):
        pass

    assert Custom()(W) == 0.0
    with pytest.raises(NotImplementedError, match="Custom does not implement get_config"):
        Custom().get_config()


@pytest.mark.parametrize("make,message", [
    (lambda: regularizers.L1(-0.1), "L1: l1 must be a non-negative finite float, but received l1=-0.1"),
    (lambda: regularizers.L2(float("nan")), "L2: l2 must be a non-negative finite float, but received l2=nan"),
    (lambda: regularizers.L1L2(l2="a"), "L1L2: l2 must be a non-negative finite float, but received l2='a'"),
    (lambda: regularizers.OrthogonalRegularizer(mode="diag"),
     "OrthogonalRegularizer: mode must be one of ['rows', 'columns'], but received mode='diag'"),
])
def test_regularizer_errors(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert message in str(info.value)


# ------------------------------------------------------------------ constraints

def test_constraint_names():
    names = ["Constraint", "deserialize", "get", "max_norm", "MaxNorm", "min_max_norm", "MinMaxNorm",
             "non_neg", "NonNeg", "serialize", "unit_norm", "UnitNorm"]
    assert [n for n in names if not hasattr(constraints, n)] == []


def np_norms(w, axis):
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


@pytest.mark.parametrize("w,axis", [(W, 0), (W, 1), (KERNEL, [0, 1, 2])])
def test_max_norm(w, axis):
    out = np_(constraints.MaxNorm(max_value=1.5, axis=axis)(w))
    norms = np_norms(w, tuple(axis) if isinstance(axis, list) else axis)
    expected = w * np.clip(norms, 0, 1.5) / (config.epsilon() + norms)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert np_norms(out, tuple(axis) if isinstance(axis, list) else axis).max() <= 1.5 + 1e-5


@pytest.mark.parametrize("rate", [1.0, 0.5])
def test_min_max_norm(rate):
    out = np_(constraints.MinMaxNorm(min_value=1.0, max_value=2.0, rate=rate, axis=1)(W))
    norms = np_norms(W, 1)
    desired = rate * np.clip(norms, 1.0, 2.0) + (1 - rate) * norms
    np.testing.assert_allclose(out, W * desired / (config.epsilon() + norms), rtol=1e-5, atol=1e-6)


def test_unit_norm_and_non_neg():
    out = np_(constraints.UnitNorm(axis=0)(W))
    np.testing.assert_allclose(np_norms(out, 0), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(np_(constraints.NonNeg()(W)), np.where(W >= 0, W, 0))
    np.testing.assert_array_equal(np_(constraints.Constraint()(W)), W)


@pytest.mark.parametrize("c", [
    constraints.MaxNorm(3, axis=[0, 1]), constraints.MinMaxNorm(0.5, 2.0, 0.7, 1),
    constraints.UnitNorm(axis=1), constraints.NonNeg(),
], ids=lambda c: type(c).__name__)
def test_constraint_config_round_trip(c):
    config_ = constraints.serialize(c)
    assert config_["module"] == "keras.constraints"
    clone = constraints.deserialize(config_)
    assert type(clone) is type(c) and clone.get_config() == c.get_config()
    np.testing.assert_allclose(np_(clone(W)), np_(c(W)))


def test_constraint_get():
    assert constraints.get(None) is None
    assert isinstance(constraints.get("non_neg"), constraints.NonNeg)
    assert isinstance(constraints.get("MaxNorm"), constraints.MaxNorm)
    assert constraints.get({"class_name": "unit_norm", "config": {"axis": 1}}).axis == 1
    with pytest.raises(ValueError, match=r"Unknown constraint 'nonneg'\. Did you mean \['non_neg'"):
        constraints.get("nonneg")


@pytest.mark.parametrize("make,message", [
    (lambda: constraints.MaxNorm(-1), "MaxNorm: max_value must be a non-negative number, but received max_value=-1"),
    (lambda: constraints.UnitNorm(axis="0"), "UnitNorm: axis must be an int or a list of ints, but received axis='0'"),
    (lambda: constraints.MinMaxNorm(2.0, 1.0),
     "MinMaxNorm: min_value must be <= max_value, but received min_value=2.0, max_value=1.0"),
    (lambda: constraints.MinMaxNorm(rate=None), "MinMaxNorm: rate must be a non-negative number, but received rate=None"),
])
def test_constraint_errors(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert message in str(info.value)
