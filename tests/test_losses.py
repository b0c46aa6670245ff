"""Losses against NumPy reference formulas, on the current backend."""

import numpy as np
import pytest

import lamina
from lamina import losses, ops

EPS = 1e-7
RNG = np.random.default_rng(0)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), dtype="float64")


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _norm(x):
    return x / np.sqrt(np.maximum((x ** 2).sum(-1, keepdims=True), EPS ** 2))


def _bce(t, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


def _hinge_t(t):
    return 2 * t - 1 if np.all((t == 0) | (t == 1)) else t


def _cce(t, p):
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -(t * np.log(p)).sum(-1)


B, C = 6, 4
REG_T = RNG.normal(size=(B, C)).astype("float32")
REG_P = RNG.normal(size=(B, C)).astype("float32")
POS_T = RNG.uniform(0.1, 2, size=(B, C)).astype("float32")
POS_P = RNG.uniform(0.1, 2, size=(B, C)).astype("float32")
BIN_T = RNG.integers(0, 2, size=(B, C)).astype("float32")
PROB_P = RNG.uniform(0.05, 0.95, size=(B, C)).astype("float32")
LOGITS = RNG.normal(size=(B, C)).astype("float32")
LABELS = RNG.integers(0, C, size=(B,))
ONE_HOT = np.eye(C, dtype="float32")[LABELS]
SOFTMAX_P = _softmax(LOGITS).astype("float32")
DIST_T = _softmax(RNG.normal(size=(B, C))).astype("float32")

# (loss object, y_true, y_pred, numpy per-sample reference)
CASES = [
    ("mse", losses.MeanSquaredError(), REG_T, REG_P, lambda t, p: ((t - p) ** 2).mean(-1)),
    ("mae", losses.MeanAbsoluteError(), REG_T, REG_P, lambda t, p: np.abs(t - p).mean(-1)),
    ("mape", losses.MeanAbsolutePercentageError(), POS_T, POS_P,
     lambda t, p: 100 * (np.abs(t - p) / np.maximum(np.abs(t), EPS)).mean(-1)),
    ("msle", losses.MeanSquaredLogarithmicError(), POS_T, POS_P,
     lambda t, p: ((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2).mean(-1)),
    ("huber", losses.Huber(delta=0.7), REG_T, REG_P,
     lambda t, p: np.where(np.abs(p - t) <= 0.7, 0.5 * (p - t) ** 2, 0.7 * np.abs(p - t) - 0.5 * 0.49).mean(-1)),
    ("logcosh", losses.LogCosh(), REG_T, REG_P, lambda t, p: np.log(np.cosh(p - t)).mean(-1)),
    ("bce", losses.BinaryCrossentropy(), BIN_T, PROB_P, lambda t, p: _bce(t, p).mean(-1)),
    ("bce_logits_smooth", losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2), BIN_T, LOGITS,
     lambda t, p: _bce(t * 0.8 + 0.1, _sigmoid(p)).mean(-1)),
    ("cce", losses.CategoricalCrossentropy(), ONE_HOT, SOFTMAX_P, _cce),
    ("cce_logits_smooth", losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), ONE_HOT,
     LOGITS, lambda t, p: _cce(t * 0.9 + 0.1 / C, _softmax(p))),
    ("scce", losses.SparseCategoricalCrossentropy(), LABELS, SOFTMAX_P, lambda t, p: _cce(np.eye(C)[t.astype(int)], p)),
    ("scce_logits", losses.SparseCategoricalCrossentropy(from_logits=True), LABELS[:, None], LOGITS,
     lambda t, p: _cce(np.eye(C)[t[:, 0].astype(int)], _softmax(p))),
    ("bfce", losses.BinaryFocalCrossentropy(gamma=2.0), BIN_T, PROB_P,
     lambda t, p: ((1 - (t * p + (1 - t) * (1 - p))) ** 2 * _bce(t, p)).mean(-1)),
    ("bfce_balanced", losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.5), BIN_T,
     PROB_P, lambda t, p: ((t * 0.3 + (1 - t) * 0.7) * (1 - (t * p + (1 - t) * (1 - p))) ** 1.5 * _bce(t, p)).mean(-1)),
    ("cfce", losses.CategoricalFocalCrossentropy(), ONE_HOT, SOFTMAX_P,
     lambda t, p: (0.25 * (1 - np.clip(p, EPS, 1 - EPS)) ** 2 * -t * np.log(np.clip(p, EPS, 1 - EPS))).sum(-1)),
    ("hinge", losses.Hinge(), BIN_T, REG_P, lambda t, p: np.maximum(1 - _hinge_t(t) * p, 0).mean(-1)),
    ("sq_hinge", losses.SquaredHinge(), BIN_T, REG_P,
     lambda t, p: (np.maximum(1 - _hinge_t(t) * p, 0) ** 2).mean(-1)),
    ("cat_hinge", losses.CategoricalHinge(), ONE_HOT, REG_P,
     lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0)),
    ("kld", losses.KLDivergence(), DIST_T, SOFTMAX_P,
     lambda t, p: (np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1))).sum(-1)),
    ("poisson", losses.Poisson(), POS_T, POS_P, lambda t, p: (p - t * np.log(p + EPS)).mean(-1)),
    ("cosine", losses.CosineSimilarity(), REG_T, REG_P, lambda t, p: -(_norm(t) * _norm(p)).sum(-1)),
]

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


def _reduce(per_sample, sw, reduction):
    w = per_sample if sw is None else per_sample * sw
    if reduction in ("none", None):
        return w
    if reduction == "sum":
        return w.sum()
    if reduction == "mean_with_sample_weight" and sw is not None:
        return w.sum() / sw.sum()
    return w.sum() / w.size


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_matches_numpy(case, weighted):
    _, loss, t, p, ref = case
    sw = RNG.uniform(0, 2, size=(B,)).astype("float32") if weighted else None
    expected = _reduce(ref(np.asarray(t, "float64"), np.asarray(p, "float64")), sw, "sum_over_batch_size")
    np.testing.assert_allclose(_np(loss(t, p, sample_weight=sw)), expected, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_reductions(reduction, weighted):
    sw = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 3.0], "float32") if weighted else None
    loss = losses.MeanSquaredError(reduction=reduction)
    expected = _reduce(((REG_T - REG_P).astype("float64") ** 2).mean(-1), sw, reduction)
    np.testing.assert_allclose(_np(loss(REG_T, REG_P, sample_weight=sw)), expected, rtol=1e-5, atol=1e-6)


def test_dice_and_tversky():
    t, p = BIN_T.astype("float64"), PROB_P.astype("float64")
    dice = 1 - 2 * (t * p).sum() / (t.sum() + p.sum() + EPS)
    np.testing.assert_allclose(_np(losses.Dice()(BIN_T, PROB_P)), dice, rtol=1e-5)
    inter = (t * p).sum()
    tv = 1 - inter / (inter + 0.7 * (t * (1 - p)).sum() + 0.3 * ((1 - t) * p).sum() + EPS)
    np.testing.assert_allclose(_np(losses.Tversky(alpha=0.7, beta=0.3)(BIN_T, PROB_P)), tv, rtol=1e-5)
    per_row = 1 - 2 * (t * p).sum(-1) / (t.sum(-1) + p.sum(-1) + EPS)
    np.testing.assert_allclose(_np(losses.Dice(axis=-1, reduction="none")(BIN_T, PROB_P)), per_row, rtol=1e-5)


def test_functions_match_classes():
    np.testing.assert_allclose(_np(ops.mean(losses.mse(REG_T, REG_P))), _np(losses.MeanSquaredError()(REG_T, REG_P)),
                               rtol=1e-6)
    assert losses.mae is losses.mean_absolute_error
    assert losses.mape is losses.mean_absolute_percentage_error
    assert losses.msle is losses.mean_squared_logarithmic_error


def test_sparse_ignore_class_is_masked_out_of_the_mean():
    labels = np.array([1, -1, 0, -1])
    probs = np.array([[0.5, 0.5], [0.9, 0.1], [0.8, 0.2], [0.3, 0.7]], "float32")
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    expected = (-np.log(0.5) - np.log(0.8)) / 2
    np.testing.assert_allclose(_np(loss(labels, probs)), expected, rtol=1e-5)
    per = _np(losses.SparseCategoricalCrossentropy(ignore_class=-1, reduction=None)(labels, probs))
    assert per[1] == 0 and per[3] == 0


def test_sparse_out_of_range_labels_give_nan_not_garbage():
    probs = np.full((3, 4), 0.25, "float32")
    per = _np(losses.sparse_categorical_crossentropy(np.array([0, 4, -2]), probs))
    assert np.isfinite(per[0]) and np.isnan(per[1]) and np.isnan(per[2])
    assert np.isnan(_np(losses.SparseCategoricalCrossentropy()(np.array([0, 7, 1]), probs)))


@pytest.mark.skipif(lamina.config.backend() != "torch", reason="the PyTorch backend's GPU path, forced on the CPU")
@pytest.mark.parametrize("from_logits", [True, False])
def test_sparse_crossentropy_gpu_path_matches_the_cpu_kernels(monkeypatch, from_logits):
    # On a GPU the labels are clamped into range for torch's fused kernels and NaN is put back where a label
    # was out of range (a device-side assert otherwise): same values and gradients as the CPU's kernels.
    from lamina.backend.torch import nn as tnn

    rng = np.random.default_rng(3)
    raw = rng.normal(size=(6, 5)).astype("float32")
    scores = raw if from_logits else _softmax(raw).astype("float32")
    labels = np.array([0, 4, 2, 1, 3, 2])

    def run(forced):
        monkeypatch.setattr(tnn, "_FORCE_GUARDED", forced)
        x = lamina.Variable(scores)
        value, grad = ops.value_and_grad(
            lambda: ops.sum(tnn.sparse_categorical_crossentropy(labels, x.value, from_logits=from_logits)),
            [x])()
        return _np(value), _np(grad[0])

    (v_cpu, g_cpu), (v_gpu, g_gpu) = run(False), run(True)
    np.testing.assert_allclose(v_gpu, v_cpu, rtol=1e-6)
    np.testing.assert_allclose(g_gpu, g_cpu, rtol=1e-6, atol=1e-7)
    monkeypatch.setattr(tnn, "_FORCE_GUARDED", True)
    per = _np(tnn.sparse_categorical_crossentropy(np.array([0, 5, -1, 4, 2, 2]), scores, from_logits=from_logits))
    assert np.isnan(per[1]) and np.isnan(per[2]) and np.isfinite(per[[0, 3, 4, 5]]).all()
    ref = -np.log(_softmax(raw) if from_logits else np.clip(scores / scores.sum(-1, keepdims=True), EPS, 1 - EPS))
    np.testing.assert_allclose(per[[0, 3, 4, 5]], ref[[0, 3, 4, 5], [0, 4, 2, 2]], rtol=1e-5)


def test_compiled_sparse_crossentropy_keeps_integer_labels_exact():
    # compile(loss="sparse_categorical_crossentropy") wraps the function: its labels are not rounded through
    # float32 (2**24 + 1 would become 2**24)
    wrapper = losses.LossFunctionWrapper(losses.sparse_categorical_crossentropy)
    labels = wrapper._convert_y_true(np.array([2 ** 24 + 1, 3]))
    assert "int" in ops.dtype(labels) and int(_np(labels)[0]) == 2 ** 24 + 1
    assert ops.dtype(losses.LossFunctionWrapper(losses.mean_squared_error)._convert_y_true(np.array([1]))) == \
        "float32"


def test_categorical_crossentropy_shape_error_has_hint():
    with pytest.raises(ValueError, match="SparseCategoricalCrossentropy"):
        losses.CategoricalCrossentropy()(LABELS, SOFTMAX_P)
    with pytest.raises(ValueError, match="one-hot"):
        losses.SparseCategoricalCrossentropy()(ONE_HOT, SOFTMAX_P)


def test_invalid_reduction_and_smoothing():
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.BinaryCrossentropy(label_smoothing=1.5)


def test_get_resolves_names_configs_and_callables():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("categorical_crossentropy") is losses.categorical_crossentropy
    assert isinstance(losses.get("BinaryCrossentropy"), losses.BinaryCrossentropy)
    assert losses.get(None) is None
    fn = lambda t, p: ops.mean(p - t)  # noqa: E731
    assert losses.get(fn) is fn
    obj = losses.get({"class_name": "Huber", "config": {"delta": 3.0}})
    assert isinstance(obj, losses.Huber) and obj.get_config()["delta"] == 3.0


def test_get_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        losses.get("categorical_crossentropyy")
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        losses.get(42)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_serialize_round_trip(case):
    _, loss, t, p, _ = case
    restored = losses.deserialize(losses.serialize(loss))
    assert type(restored) is type(loss) and restored.get_config() == loss.get_config()
    np.testing.assert_allclose(_np(restored(t, p)), _np(loss(t, p)), rtol=1e-6)


def test_serialize_function_and_wrapper():
    cfg = losses.serialize(losses.mean_squared_error)
    assert cfg["class_name"] == "function"
    assert losses.deserialize(cfg) is losses.mean_squared_error
    w = losses.LossFunctionWrapper(losses.huber, delta=0.5, reduction="sum")
    w2 = losses.deserialize(losses.serialize(w))
    np.testing.assert_allclose(_np(w2(REG_T, REG_P)), _np(w(REG_T, REG_P)), rtol=1e-6)


def test_custom_loss_subclass_and_registered_deserialize():
    class Scaled(losses.Loss):
        def __init__(self, k=2.0, **kwargs):
            super().__init__(**kwargs)
            self.k = k

        def call(self, y_true, y_pred):
            return self.k * ops.mean(ops.abs(y_true - y_pred), axis=-1)

        def get_config(self):
            return {**super().get_config(), "k": self.k}

    loss = Scaled(k=3.0, reduction="sum")
    expected = (3 * np.abs(REG_T - REG_P).mean(-1)).sum()
    np.testing.assert_allclose(_np(loss(REG_T, REG_P)), expected, rtol=1e-5)
    restored = losses.deserialize(losses.serialize(loss), custom_objects={"Scaled": Scaled})
    assert restored.k == 3.0 and restored.reduction == "sum"


def test_loss_dtype_and_name():
    loss = losses.MeanSquaredError(dtype="float64")
    assert loss.dtype == "float64" and ops.dtype(loss(REG_T, REG_P)) == "float64"
    assert losses.Huber().name == "huber_loss"
    assert lamina.losses.Loss is losses.Loss
