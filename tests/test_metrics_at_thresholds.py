"""PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity and SpecificityAtSensitivity against NumPy.

The reference counts TP/FP/TN/FN at every threshold of the grid (``0, 1/(n-1), ..., 1``, or 0.5 alone
for ``n=1``; a prediction counts as positive when it is above the threshold, predictions clipped to
[0, 1]) and returns the largest dependent rate among thresholds whose constrained rate reaches the target
(0.0 when none does; a rate with a zero denominator is 0).
"""

import numpy as np
import pytest

import lamina
from lamina import metrics, ops

CLASSES = {
    "PrecisionAtRecall": (metrics.PrecisionAtRecall, "recall", "recall", "precision"),
    "RecallAtPrecision": (metrics.RecallAtPrecision, "precision", "precision", "recall"),
    "SensitivityAtSpecificity": (metrics.SensitivityAtSpecificity, "specificity", "specificity", "recall"),
    "SpecificityAtSensitivity": (metrics.SpecificityAtSensitivity, "sensitivity", "recall", "specificity"),
}
NAMES = list(CLASSES)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), dtype="float64")


def _grid(num_thresholds):
    if num_thresholds == 1:
        return np.array([0.5])
    return np.arange(num_thresholds, dtype="float64") / (num_thresholds - 1)


def _ratio(a, b):
    a, b = a.astype("float32"), b.astype("float32")
    return np.where(b > 0, a / np.where(b > 0, b, 1), 0).astype("float32")


def _reference(name, target, t, p, w, num_thresholds):
    _, _, constrained, dependent = CLASSES[name]
    t = np.asarray(t, "float64").ravel() != 0
    p = np.clip(np.asarray(p, "float64").ravel(), 0.0, 1.0)
    w = np.ones_like(p) if w is None else np.broadcast_to(np.asarray(w, "float64"), p.shape).ravel()
    above = p[None, :] > _grid(num_thresholds)[:, None]
    tp, fp = (above * (t * w)).sum(1), (above * (~t * w)).sum(1)
    fn, tn = (t * w).sum() - tp, (~t * w).sum() - fp
    rates = {"recall": _ratio(tp, tp + fn), "precision": _ratio(tp, tp + fp), "specificity": _ratio(tn, tn + fp)}
    feasible = rates[constrained] >= np.float32(target)
    return float(np.max(np.where(feasible, rates[dependent], 0.0)))


def _data(rng, n, shape=None, weighted=False, integer_weights=False):
    shape = shape or (n,)
    t = rng.integers(0, 2, shape).astype("float32")
    p = np.clip(0.35 * t + rng.uniform(0, 0.65, shape), 0, 1).astype("float32")  # informative scores
    if not weighted:
        return t, p, None
    w = rng.integers(0, 4, shape[:1]) if integer_weights else rng.uniform(0, 2, shape[:1])
    return t, p, w.astype("float32")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed,num_thresholds,weighted", [(0, 200, False), (1, 200, True), (2, 50, True),
                                                          (3, 7, False), (4, 2, True), (5, 1, True)])
def test_matches_numpy_over_several_batches(name, seed, num_thresholds, weighted):
    rng = np.random.default_rng(seed)
    cls, arg = CLASSES[name][:2]
    for target in rng.uniform(0.05, 0.95, 3):
        m = cls(**{arg: float(target)}, num_thresholds=num_thresholds)
        batches = [_data(rng, 37, weighted=weighted, integer_weights=seed % 2 == 0) for _ in range(3)]
        for t, p, w in batches:
            m.update_state(t, p, sample_weight=w)
        t, p = np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
        w = np.concatenate([b[2] for b in batches]) if weighted else None
        expected = _reference(name, target, t, p, w, num_thresholds)
        np.testing.assert_allclose(_np(m.result()), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_hand_computed_values_ties_and_unreachable_targets(name):
    # Sorted by score: 0.9(+) 0.7(-) 0.6(+) 0.4(-) 0.2(+) 0.1(-); three positives, three negatives.
    t, p = [1, 0, 1, 1, 0, 0], [0.9, 0.7, 0.6, 0.2, 0.4, 0.1]
    expected = {  # target -> result, worked out from the six (precision, recall, specificity) steps
        "PrecisionAtRecall": {0.0: 1.0, 0.5: 2 / 3, 0.9: 0.6, 1.0: 0.6},
        "RecallAtPrecision": {0.0: 1.0, 0.6: 1.0, 0.7: 1 / 3, 1.0: 1 / 3},
        "SensitivityAtSpecificity": {0.0: 1.0, 0.5: 2 / 3, 0.9: 1 / 3, 1.0: 1 / 3},
        "SpecificityAtSensitivity": {0.0: 1.0, 0.5: 2 / 3, 0.9: 1 / 3, 1.0: 1 / 3},
    }[name]
    cls, arg = CLASSES[name][:2]
    for target, value in expected.items():
        m = cls(**{arg: target})
        m.update_state(t, p)
        np.testing.assert_allclose(_np(m.result()), value, rtol=1e-6)
        assert _reference(name, target, t, p, None, 200) == pytest.approx(value, rel=1e-6)
    # No positives: recall and precision are 0 at every threshold, so every result is 0.0.
    m = cls(**{arg: 0.5})
    m.update_state([0, 0, 0], [0.2, 0.5, 0.9])
    assert float(_np(m.result())) == 0.0 == _reference(name, 0.5, [0, 0, 0], [0.2, 0.5, 0.9], None, 200)
    # Before any update every count, hence every rate, is 0.
    assert float(_np(cls(**{arg: 0.5}).result())) == 0.0


def test_precision_is_zero_where_no_prediction_is_positive():
    # Thresholds 0, 0.5, 1 on scores 0.4(+) and 0.6(-): precision 0.5, 0, and 0 (nothing above 1), not 1.
    m = metrics.PrecisionAtRecall(recall=0.0, num_thresholds=3)
    m.update_state([1, 0], [0.4, 0.6])
    np.testing.assert_allclose(_np(m.result()), 0.5)
    m = metrics.RecallAtPrecision(precision=1.0, num_thresholds=3)
    m.update_state([1, 0], [0.4, 0.6])
    np.testing.assert_allclose(_np(m.result()), 0.0)  # precision 1 is never reached
    m = metrics.RecallAtPrecision(precision=1.0, num_thresholds=3)
    m.update_state([1, 0], [0.6, 0.4])
    np.testing.assert_allclose(_np(m.result()), 1.0)  # threshold 0.5: precision 1, recall 1


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("num_thresholds", [1, 2, 3, 200])
def test_scores_on_and_outside_the_grid_edges(name, num_thresholds):
    # 0 is above no threshold (not even 0); 1 is above every threshold but 1; outside [0, 1] is clipped.
    t = np.array([1, 0, 1, 0, 1, 0, 1, 0], "float32")
    p = np.array([0.0, 0.0, 1.0, 1.0, 1.5, -0.3, 0.5, 0.25], "float32")
    cls, arg = CLASSES[name][:2]
    for target in (0.0, 0.3, 0.5, 0.8, 1.0):
        m = cls(**{arg: target}, num_thresholds=num_thresholds)
        m.update_state(t, p)
        np.testing.assert_allclose(_np(m.result()), _reference(name, target, t, p, None, num_thresholds),
                                   rtol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_class_id_and_sample_weight(name):
    rng = np.random.default_rng(7)
    cls, arg = CLASSES[name][:2]
    t = np.eye(3, dtype="float32")[rng.integers(0, 3, 40)]
    p = rng.dirichlet(np.ones(3), 40).astype("float32")
    w = rng.uniform(0, 2, 40).astype("float32")
    for class_id in range(3):
        m = cls(**{arg: 0.6}, class_id=class_id, num_thresholds=100)
        m.update_state(t[:20], p[:20], sample_weight=w[:20])  # per-sample weights (batch,) for (batch, 3)
        m.update_state(t[20:], p[20:], sample_weight=w[20:])
        expected = _reference(name, 0.6, t[:, class_id], p[:, class_id], w, 100)
        np.testing.assert_allclose(_np(m.result()), expected, rtol=1e-5)
    # Without class_id all entries are pooled; a per-sample weight applies to each of a sample's entries.
    m = cls(**{arg: 0.6}, num_thresholds=100)
    m.update_state(t, p, sample_weight=w)
    np.testing.assert_allclose(_np(m.result()), _reference(name, 0.6, t, p, np.repeat(w, 3), 100), rtol=1e-5)
    # A zero weight masks a sample.
    m = cls(**{arg: 0.6}, num_thresholds=100)
    mask = (w > 1).astype("float32")
    m.update_state(t, p, sample_weight=mask)
    keep = w > 1
    np.testing.assert_allclose(_np(m.result()), _reference(name, 0.6, t[keep], p[keep], None, 100), rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_reset_state_and_stateless_updates(name):
    rng = np.random.default_rng(11)
    cls, arg = CLASSES[name][:2]
    m = cls(**{arg: 0.4}, num_thresholds=30)
    assert [v.name for v in m.variables] == ["true_positives", "false_positives", "true_negatives",
                                             "false_negatives"]
    assert all(tuple(v.shape) == (30,) for v in m.variables)
    t1, p1, w1 = _data(rng, 25, weighted=True)
    t2, p2, _ = _data(rng, 25)
    m.update_state(t1, p1, sample_weight=w1)
    m.reset_state()
    assert all(float(_np(v.value).sum()) == 0.0 for v in m.variables)
    assert float(_np(m.result())) == 0.0
    m.update_state(t2, p2)
    np.testing.assert_allclose(_np(m.result()), _reference(name, 0.4, t2, p2, None, 30), rtol=1e-6)
    # The pure forms used by compiled steps give the same state and result and leave the variables alone.
    fresh = cls(**{arg: 0.4}, num_thresholds=30)
    state = fresh.stateless_update_state([v.value for v in fresh.variables], t2, p2)
    assert float(_np(fresh.true_positives.value).sum()) == 0.0
    for a, b in zip(state, m.variables):
        np.testing.assert_allclose(_np(a), _np(b.value))
    np.testing.assert_allclose(_np(fresh.stateless_result(state)), _np(m.result()))
    assert all(float(_np(v).sum()) == 0.0 for v in fresh.stateless_reset_state())


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip_serialization_and_get(name):
    cls, arg = CLASSES[name][:2]
    m = cls(**{arg: 0.7}, num_thresholds=33, class_id=2, name="my_metric", dtype="float32")
    assert getattr(m, arg) == 0.7 and m.value == 0.7 and m.num_thresholds == 33 and m.class_id == 2
    assert m.thresholds[0] == 0.0 and m.thresholds[-1] == 1.0 and len(m.thresholds) == 33
    config = m.get_config()
    assert config == {"name": "my_metric", "dtype": "float32", "class_id": 2, "num_thresholds": 33, arg: 0.7}
    clone = cls.from_config(config)
    assert clone.get_config() == config
    again = metrics.deserialize(metrics.serialize(m))
    assert type(again) is cls and again.get_config() == config
    by_dict = metrics.get({"class_name": name, "config": {arg: 0.25}})
    assert type(by_dict) is cls and getattr(by_dict, arg) == 0.25
    assert by_dict.get_config()["num_thresholds"] == 200 and by_dict.get_config()["class_id"] is None
    assert metrics.get(m) is m
    # Defaults follow Keras: 200 thresholds, no class_id; the default name is the snake_case class name.
    default = cls(0.5)
    assert default.num_thresholds == 200 and default.class_id is None
    assert len(default.thresholds) == 200 and default.thresholds[1] == pytest.approx(1 / 199)
    snake = {"PrecisionAtRecall": "precision_at_recall", "RecallAtPrecision": "recall_at_precision",
             "SensitivityAtSpecificity": "sensitivity_at_specificity",
             "SpecificityAtSensitivity": "specificity_at_sensitivity"}[name]
    assert default.name == snake or default.name.startswith(snake + "_")  # a counter keeps names unique
    # A name needs the target: the error names the missing argument.
    for ident in (name, snake):
        with pytest.raises(TypeError, match=arg):
            metrics.get(ident)
    assert cls(**{arg: 1}).get_config()[arg] == 1.0 and cls(np.float32(0.5)).value == 0.5


@pytest.mark.parametrize("name", NAMES)
def test_bad_arguments_give_clear_errors(name):
    cls, arg = CLASSES[name][:2]
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=rf"{name}: argument `{arg}` must be in the range \[0, 1\]\. "
                                             rf"Received: {arg}="):
            cls(bad)
    with pytest.raises(TypeError, match=rf"{name}: argument `{arg}` must be a number .*Received: {arg}='0.5'"):
        cls("0.5")
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match=rf"{name}: argument `num_thresholds` must be an integer > 0\. "
                                             rf"Received: num_thresholds={bad}"):
            cls(0.5, num_thresholds=bad)
    for bad in (-1, 1.0, "0"):
        with pytest.raises(ValueError, match=rf"{name}: argument `class_id` must be None or an integer >= 0"):
            cls(0.5, class_id=bad)
    m = cls(0.5, class_id=1)
    with pytest.raises(ValueError, match=r"class_id=1 expects predictions of shape \(batch_size, num_classes\), "
                                         r"but received shape \(4,\)"):
        m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4])
    m = cls(0.5, class_id=3)
    with pytest.raises(ValueError, match=r"class_id=3 is out of range for predictions with 3 classes .*"
                                         r"expected 0 <= class_id < 3"):
        m.update_state(np.eye(3), np.eye(3))


def test_compile_fit_evaluate_report_the_metrics_in_history():
    """With a zero learning rate the predictions stay fixed, so every epoch's value is the NumPy reference on them.

    On JAX this runs the metric updates inside the stateless, jit-compiled train and test steps."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(96, 5)).astype("float32")
    y = (x[:, :1] + 0.7 * rng.normal(size=(96, 1)) > 0).astype("float32")
    keys = ["precision_at_recall", "recall_at_precision", "sensitivity_at_specificity",
            "specificity_at_sensitivity"]
    model = lamina.Sequential([lamina.Input((5,)), lamina.layers.Dense(1, activation="sigmoid")])
    model.layers[-1].set_weights([np.array([[1.5], [0.4], [-0.3], [0.0], [0.2]], "float32"), np.zeros(1, "float32")])
    targets = {"PrecisionAtRecall": 0.6, "RecallAtPrecision": 0.7, "SensitivityAtSpecificity": 0.5,
               "SpecificityAtSensitivity": 0.8}
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.0), loss="binary_crossentropy",
                  metrics=[CLASSES[n][0](targets[n], num_thresholds=50, name=k) for n, k in zip(NAMES, keys)],
                  weighted_metrics=[metrics.RecallAtPrecision(0.7, num_thresholds=50, name="rap_weighted")])
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    p = model.predict(x, verbose=0)
    for key, name in zip(keys, NAMES):
        expected = _reference(name, targets[name], y, p, None, 50)
        assert len(history.history[key]) == 2
        np.testing.assert_allclose(history.history[key], [expected, expected], rtol=1e-5, atol=1e-7)
    logs = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    for key, name in zip(keys, NAMES):
        np.testing.assert_allclose(logs[key], _reference(name, targets[name], y, p, None, 50), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(logs["rap_weighted"], logs["recall_at_precision"])
    # With sample weights, `weighted_metrics` use the weighted counts; `metrics` ignore the weights.
    w = rng.integers(0, 3, 96).astype("float32")
    logs = model.evaluate(x, y, sample_weight=w, batch_size=32, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["recall_at_precision"], _reference("RecallAtPrecision", 0.7, y, p, None, 50),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(logs["rap_weighted"], _reference("RecallAtPrecision", 0.7, y, p, w, 50),
                               rtol=1e-5, atol=1e-7)
