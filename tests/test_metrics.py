"""Metrics against NumPy on two batches (stateful accumulation), reset, config and errors."""

import numpy as np
import pytest

from lamina import StatelessScope, losses, metrics, ops

EPS = 1e-7
RNG = np.random.default_rng(1)
B, C = 8, 4


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), dtype="float64")


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _batches(kind):
    out = []
    for _ in range(2):
        if kind == "reg":
            t, p = RNG.normal(size=(B, C)), RNG.normal(size=(B, C))
        elif kind == "pos":
            t, p = RNG.uniform(0.1, 2, (B, C)), RNG.uniform(0.1, 2, (B, C))
        elif kind == "bin":
            t, p = RNG.integers(0, 2, (B, 1)).astype(float), RNG.uniform(0, 1, (B, 1))
        elif kind == "onehot":
            t, p = np.eye(C)[RNG.integers(0, C, B)], _softmax(RNG.normal(size=(B, C)))
        elif kind == "sparse":
            t, p = RNG.integers(0, C, (B, 1)), _softmax(RNG.normal(size=(B, C)))
        out.append((t.astype("float32") if t.dtype.kind == "f" else t, p.astype("float32"),
                    RNG.uniform(0, 2, (B,)).astype("float32")))
    return out


def _wmean(values, weights):
    return (values * weights).sum() / weights.sum()


def _cce(t, p):
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -(t * np.log(p)).sum(-1)


# (metric factory, data kind, numpy per-sample function)
MEAN_CASES = [
    ("mse", metrics.MeanSquaredError, "reg", lambda t, p: ((t - p) ** 2).mean(-1)),
    ("mae", metrics.MeanAbsoluteError, "reg", lambda t, p: np.abs(t - p).mean(-1)),
    ("mape", metrics.MeanAbsolutePercentageError, "pos", lambda t, p: 100 * (np.abs(t - p) / np.abs(t)).mean(-1)),
    ("msle", metrics.MeanSquaredLogarithmicError, "pos",
     lambda t, p: ((np.log(p + 1) - np.log(t + 1)) ** 2).mean(-1)),
    ("logcosh", metrics.LogCoshError, "reg", lambda t, p: np.log(np.cosh(p - t)).mean(-1)),
    ("cosine", metrics.CosineSimilarity, "reg",
     lambda t, p: ((t / np.linalg.norm(t, axis=-1, keepdims=True)) * (p / np.linalg.norm(p, axis=-1, keepdims=True))).sum(-1)),
    ("binary_accuracy", metrics.BinaryAccuracy, "bin", lambda t, p: ((p > 0.5) == t).mean(-1)),
    ("categorical_accuracy", metrics.CategoricalAccuracy, "onehot",
     lambda t, p: (t.argmax(-1) == p.argmax(-1)).astype(float)),
    ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy, "sparse",
     lambda t, p: (t[:, 0] == p.argmax(-1)).astype(float)),
    ("top_k", lambda: metrics.TopKCategoricalAccuracy(k=2), "onehot",
     lambda t, p: np.array([np.argmax(ti) in np.argsort(-pi)[:2] for ti, pi in zip(t, p)], float)),
    ("sparse_top_k", lambda: metrics.SparseTopKCategoricalAccuracy(k=2), "sparse",
     lambda t, p: np.array([ti[0] in np.argsort(-pi)[:2] for ti, pi in zip(t, p)], float)),
    ("bce", metrics.BinaryCrossentropy, "bin",
     lambda t, p: -(t * np.log(np.clip(p, EPS, 1 - EPS)) + (1 - t) * np.log(np.clip(1 - p, EPS, 1))).mean(-1)),
    ("cce", metrics.CategoricalCrossentropy, "onehot", _cce),
    ("scce", metrics.SparseCategoricalCrossentropy, "sparse", lambda t, p: _cce(np.eye(C)[t[:, 0].astype(int)], p)),
    ("kld", metrics.KLDivergence, "onehot",
     lambda t, p: (np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1))).sum(-1)),
    ("poisson", metrics.Poisson, "pos", lambda t, p: (p - t * np.log(p + EPS)).mean(-1)),
    ("hinge", metrics.Hinge, "bin", lambda t, p: np.maximum(1 - (2 * t - 1) * p, 0).mean(-1)),
    ("squared_hinge", metrics.SquaredHinge, "bin", lambda t, p: (np.maximum(1 - (2 * t - 1) * p, 0) ** 2).mean(-1)),
    ("categorical_hinge", metrics.CategoricalHinge, "onehot",
     lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0)),
    ("pearson", metrics.PearsonCorrelation, "reg",
     lambda t, p: np.array([np.corrcoef(a, b)[0, 1] for a, b in zip(t, p)])),
]


@pytest.mark.parametrize("case", MEAN_CASES, ids=[c[0] for c in MEAN_CASES])
@pytest.mark.parametrize("weighted", [False, True])
def test_mean_metrics_accumulate_like_numpy(case, weighted):
    _, factory, kind, ref = case
    m = factory()
    data = _batches(kind)
    for t, p, w in data:
        m.update_state(t, p, sample_weight=w if weighted else None)
    per = np.concatenate([ref(t.astype("float64"), p.astype("float64")) for t, p, _ in data])
    weights = np.concatenate([w for _, _, w in data]) if weighted else np.ones_like(per)
    np.testing.assert_allclose(_np(m.result()), _wmean(per, weights), rtol=2e-4, atol=1e-5)
    m.reset_state()
    assert float(_np(m.result())) == 0.0
    t, p, _ = data[0]
    np.testing.assert_allclose(_np(m(t, p)), ref(t.astype("float64"), p.astype("float64")).mean(),
                               rtol=2e-4, atol=1e-5)


def test_mean_sum_and_rmse():
    m, s = metrics.Mean(), metrics.Sum()
    for vals, w in (([1.0, 2.0, 3.0], [1.0, 0.5, 0.0]), ([4.0], None)):
        m.update_state(vals, sample_weight=w)
        s.update_state(vals, sample_weight=w)
    np.testing.assert_allclose(_np(m.result()), (1 + 1 + 4) / 2.5)
    np.testing.assert_allclose(_np(s.result()), 1 + 1 + 4)
    r = metrics.RootMeanSquaredError()
    data = _batches("reg")
    for t, p, w in data:
        r.update_state(t, p, sample_weight=w)
    sq = np.concatenate([((t - p) ** 2).mean(-1) for t, p, _ in data])
    ws = np.concatenate([w for _, _, w in data])
    np.testing.assert_allclose(_np(r.result()), np.sqrt(_wmean(sq, ws)), rtol=1e-5)


def test_mean_of_rank2_values_with_rank2_weights():
    m = metrics.Mean()
    m.update_state(np.array([[1.0, 3.0], [5.0, 7.0]]), sample_weight=np.array([[1.0, 0.0], [1.0, 1.0]]))
    np.testing.assert_allclose(_np(m.result()), (1 + 5 + 7) / 3)


def _confusion(t, p, thr, w):
    pos = p > thr
    return ((t == 1) & pos) @ w, ((t == 0) & pos) @ w, ((t == 0) & ~pos) @ w, ((t == 1) & ~pos) @ w


def test_confusion_counts_precision_recall():
    thresholds = [0.2, 0.5, 0.8]
    ms = {k: cls(thresholds=thresholds) for k, cls in (("tp", metrics.TruePositives), ("fp", metrics.FalsePositives),
                                                        ("tn", metrics.TrueNegatives), ("fn", metrics.FalseNegatives))}
    prec, rec = metrics.Precision(thresholds=thresholds), metrics.Recall(thresholds=thresholds)
    data = _batches("bin")
    for t, p, w in data:
        for m in list(ms.values()) + [prec, rec]:
            m.update_state(t, p, sample_weight=w)
    t = np.concatenate([d[0] for d in data])[:, 0]
    p = np.concatenate([d[1] for d in data])[:, 0]
    w = np.concatenate([d[2] for d in data])
    ref = np.array([_confusion(t, p, thr, w) for thr in thresholds])  # (3 thresholds, 4)
    for i, k in enumerate(("tp", "fp", "tn", "fn")):
        np.testing.assert_allclose(_np(ms[k].result()), ref[:, i], rtol=1e-5)
    np.testing.assert_allclose(_np(prec.result()), ref[:, 0] / (ref[:, 0] + ref[:, 1]), rtol=1e-5)
    np.testing.assert_allclose(_np(rec.result()), ref[:, 0] / (ref[:, 0] + ref[:, 3]), rtol=1e-5)
    prec.reset_state()
    assert _np(prec.result()).tolist() == [0.0, 0.0, 0.0]


def test_precision_recall_top_k_and_class_id():
    t = np.array([[0, 0, 1, 1], [1, 0, 0, 0]], "float32")
    p = np.array([[0.1, 0.5, 0.3, 0.9], [0.8, 0.7, 0.1, 0.0]], "float32")
    m = metrics.Precision(top_k=2)
    m.update_state(t, p)
    np.testing.assert_allclose(_np(m.result()), 2 / 4)  # top-2: {3, 1} and {0, 1}
    r = metrics.Recall(class_id=3)
    r.update_state(t, p)
    np.testing.assert_allclose(_np(r.result()), 1.0)
    pr = metrics.Precision(class_id=1)
    pr.update_state(t, p)
    np.testing.assert_allclose(_np(pr.result()), 0.0)


def _auc_reference(t, p, w, num_thresholds, curve, method):
    thr = [-EPS] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1 + EPS]
    tp, fp, tn, fn = np.array([_confusion(t, p, x, w) for x in thr]).T
    if curve == "ROC":
        x, y = fp / np.maximum(fp + tn, 1e-300), tp / np.maximum(tp + fn, 1e-300)
    else:
        x = tp / np.maximum(tp + fn, 1e-300)
        y = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    h = {"interpolation": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
         "majoring": np.maximum(y[:-1], y[1:])}[method]
    return ((x[:-1] - x[1:]) * h).sum()


@pytest.mark.parametrize("curve,method", [("ROC", "interpolation"), ("ROC", "minoring"), ("ROC", "majoring"),
                                          ("PR", "minoring"), ("PR", "majoring")])
def test_auc_matches_numpy(curve, method):
    m = metrics.AUC(num_thresholds=50, curve=curve, summation_method=method)
    data = _batches("bin")
    for t, p, w in data:
        m.update_state(t, p, sample_weight=w)
    t = np.concatenate([d[0] for d in data])[:, 0]
    p = np.concatenate([d[1] for d in data])[:, 0].astype("float64")
    w = np.concatenate([d[2] for d in data])
    np.testing.assert_allclose(_np(m.result()), _auc_reference(t, p, w, 50, curve, method), rtol=1e-4, atol=1e-6)


def test_auc_default_close_to_exact_roc_auc_and_pr_interpolation():
    t = RNG.integers(0, 2, 400)
    p = np.clip(t * 0.3 + RNG.uniform(0, 0.7, 400), 0, 1).astype("float32")
    m = metrics.AUC()
    m.update_state(t[:200], p[:200])
    m.update_state(t[200:], p[200:])
    pos, neg = p[t == 1], p[t == 0]
    exact = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg))
    assert abs(float(_np(m.result())) - exact) < 5e-3
    pr = metrics.AUC(curve="PR")
    pr.update_state(t, p)
    ap = np.mean([(t[p >= s] == 1).mean() for s in np.sort(p[t == 1])])  # average precision
    assert abs(float(_np(pr.result())) - ap) < 2e-2


def test_auc_multi_label_and_explicit_thresholds():
    t = RNG.integers(0, 2, (16, 3)).astype("float32")
    p = RNG.uniform(0, 1, (16, 3)).astype("float32")
    m = metrics.AUC(num_thresholds=20, multi_label=True)
    m.update_state(t, p)
    per = [_auc_reference(t[:, j], p[:, j].astype("float64"), np.ones(16), 20, "ROC", "interpolation") for j in range(3)]
    np.testing.assert_allclose(_np(m.result()), np.mean(per), rtol=1e-4)
    m2 = metrics.AUC(thresholds=[0.3, 0.7, 0.5])  # unevenly passed: sorted, tiled path
    m2.update_state(t[:, 0], p[:, 0])
    thr = [-EPS, 0.3, 0.5, 0.7, 1 + EPS]
    tp, fp, tn, fn = np.array([_confusion(t[:, 0], p[:, 0], x, np.ones(16)) for x in thr]).T
    x, y = fp / (fp + tn), tp / (tp + fn)
    np.testing.assert_allclose(_np(m2.result()), ((x[:-1] - x[1:]) * (y[:-1] + y[1:]) / 2).sum(), rtol=1e-5)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_fbeta_matches_numpy(average):
    t = RNG.integers(0, 2, (10, 3)).astype("float32")
    p = RNG.uniform(0, 1, (10, 3)).astype("float32")
    m = metrics.FBetaScore(average=average, beta=2.0, threshold=0.5)
    m.update_state(t[:5], p[:5])
    m.update_state(t[5:], p[5:])
    pred = (p > 0.5).astype(float)
    axis = None if average == "micro" else 0
    tp, fp, fn = (pred * t).sum(axis), (pred * (1 - t)).sum(axis), ((1 - pred) * t).sum(axis)
    prec, rec = tp / (tp + fp + EPS), tp / (tp + fn + EPS)
    f = 5 * prec * rec / (4 * prec + rec + EPS)
    if average == "weighted":
        f = (f * t.sum(0) / t.sum()).sum()
    elif average is not None:
        f = np.mean(f)
    np.testing.assert_allclose(_np(m.result()), f, rtol=1e-4)


def test_f1_default_threshold_uses_row_max():
    m = metrics.F1Score(average="micro")
    m.update_state([[0, 1, 0], [1, 0, 0]], [[0.2, 0.7, 0.1], [0.3, 0.4, 0.3]])
    np.testing.assert_allclose(_np(m.result()), 0.5, rtol=1e-5)


def _iou_ref(t, p, n, w, ids):
    cm = np.zeros((n, n))
    np.add.at(cm, (t, p), w)
    tp = np.diag(cm)
    den = cm.sum(0) + cm.sum(1) - tp
    ious = [tp[i] / den[i] for i in ids if den[i] > 0]
    return np.mean(ious)


def test_iou_family():
    t1, p1 = RNG.integers(0, 3, 20), RNG.integers(0, 3, 20)
    w1 = RNG.uniform(0, 1, 20)
    m = metrics.MeanIoU(num_classes=3)
    m.update_state(t1[:10], p1[:10], sample_weight=w1[:10])
    m.update_state(t1[10:], p1[10:], sample_weight=w1[10:])
    np.testing.assert_allclose(_np(m.result()), _iou_ref(t1, p1, 3, w1, [0, 1, 2]), rtol=1e-5)
    m2 = metrics.IoU(num_classes=3, target_class_ids=[1])
    m2.update_state(t1, p1)
    np.testing.assert_allclose(_np(m2.result()), _iou_ref(t1, p1, 3, np.ones(20), [1]), rtol=1e-5)
    oh = metrics.OneHotMeanIoU(num_classes=3)
    oh.update_state(np.eye(3)[t1], np.eye(3)[p1] * 0.8 + 0.05)
    np.testing.assert_allclose(_np(oh.result()), _iou_ref(t1, p1, 3, np.ones(20), [0, 1, 2]), rtol=1e-5)
    ig = metrics.MeanIoU(num_classes=3, ignore_class=0)
    ig.update_state(t1, p1)
    keep = t1 != 0
    np.testing.assert_allclose(_np(ig.result()), _iou_ref(t1[keep], p1[keep], 3, np.ones(keep.sum()), [0, 1, 2]),
                               rtol=1e-5)
    b = metrics.BinaryIoU(threshold=0.5)
    pb = RNG.uniform(0, 1, 20)
    tb = RNG.integers(0, 2, 20)
    b.update_state(tb, pb)
    np.testing.assert_allclose(_np(b.result()), _iou_ref(tb, (pb >= 0.5).astype(int), 2, np.ones(20), [0, 1]),
                               rtol=1e-5)


def test_r2_score():
    t = RNG.normal(size=(12, 2)).astype("float32")
    p = (t + RNG.normal(scale=0.5, size=(12, 2))).astype("float32")
    m = metrics.R2Score()
    m.update_state(t[:6], p[:6])
    m.update_state(t[6:], p[6:])
    r2 = 1 - ((t - p) ** 2).sum(0) / ((t - t.mean(0)) ** 2).sum(0)
    np.testing.assert_allclose(_np(m.result()), r2.mean(), rtol=1e-4)
    adj = metrics.R2Score(class_aggregation=None, num_regressors=2)
    adj.update_state(t, p)
    # n counts every target value (12 rows x 2 outputs = 24), as Keras counts it: 1 - (1 - r2)(n - 1)/(n - p - 1)
    np.testing.assert_allclose(_np(adj.result()), 1 - (1 - r2) * 23 / 21, rtol=1e-4)


def test_metric_variables_role_and_stateless_update():
    m = metrics.Mean()
    assert [v.role for v in m.variables] == ["metric", "metric"]
    assert not any(v.trainable for v in m.variables)
    state = [ops.zeros(()), ops.zeros(())]
    state = m.stateless_update_state(state, [2.0, 4.0])
    assert float(_np(m.stateless_result(state))) == 3.0
    assert float(_np(m.result())) == 0.0  # the real variables are untouched
    with StatelessScope([(v, s) for v, s in zip(m.variables, state)]):
        m.update_state([6.0])
        assert float(_np(m.result())) == 4.0


def test_resolve_accuracy():
    assert isinstance(metrics.resolve_accuracy("binary_crossentropy", (8, 3), (8, 3)), metrics.BinaryAccuracy)
    assert isinstance(metrics.resolve_accuracy(losses.BinaryCrossentropy(), (8, 3), (8, 3)), metrics.BinaryAccuracy)
    assert isinstance(metrics.resolve_accuracy(None, (8, 1), (8, 1)), metrics.BinaryAccuracy)
    assert isinstance(metrics.resolve_accuracy(losses.sparse_categorical_crossentropy, (8,), (8, 5)),
                      metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.resolve_accuracy(losses.SparseCategoricalCrossentropy(), (8, 1), (8, 5)),
                      metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.resolve_accuracy("mse", (8, 1), (8, 5)), metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.resolve_accuracy("categorical_crossentropy", (8, 5), (8, 5)),
                      metrics.CategoricalAccuracy)
    assert metrics.resolve_accuracy(None, (8, 5), (8, 5)).name == "accuracy"


def test_get_serialize_deserialize():
    assert isinstance(metrics.get("accuracy"), metrics.Accuracy)
    assert isinstance(metrics.get("mse"), metrics.MeanSquaredError)
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    assert isinstance(metrics.get("sparse_top_k_categorical_accuracy"), metrics.SparseTopKCategoricalAccuracy)
    m = metrics.Precision(thresholds=[0.3, 0.6], name="p")
    r = metrics.deserialize(metrics.serialize(m))
    assert isinstance(r, metrics.Precision) and r.thresholds == [0.3, 0.6] and r.name == "p"
    a = metrics.deserialize(metrics.serialize(metrics.AUC(num_thresholds=10, curve="PR")))
    assert a.num_thresholds == 10 and a.curve == "PR"
    w = metrics.MeanMetricWrapper(metrics.binary_accuracy, name="acc", threshold=0.7)
    w2 = metrics.deserialize(metrics.serialize(w))
    assert w2._fn is metrics.binary_accuracy and w2._fn_kwargs == {"threshold": 0.7}
    for cls in (metrics.BinaryAccuracy, metrics.MeanIoU, metrics.F1Score, metrics.R2Score):
        obj = cls(num_classes=3) if cls is metrics.MeanIoU else cls()
        assert metrics.deserialize(metrics.serialize(obj)).get_config() == obj.get_config()


def test_errors():
    with pytest.raises(ValueError, match="Did you mean 'precision'"):
        metrics.get("precission")
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="XYZ")
    with pytest.raises(ValueError, match="average"):
        metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match="2D inputs"):
        metrics.F1Score().update_state(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="target_class_ids"):
        metrics.IoU(num_classes=2, target_class_ids=[3])
    with pytest.raises(ValueError, match="sparse_y_pred=False"):
        metrics.MeanIoU(num_classes=2).update_state([0, 1], [[0.2, 0.8], [0.9, 0.1]])


def test_mean_scalar_with_constant_weight_fast_path_matches_general_path():
    from lamina import metrics, ops

    fast, general = metrics.Mean(), metrics.Mean()
    for value, weight in [(2.0, 32), (5.0, 8), (1.5, 3)]:
        fast.update_state(ops.convert_to_tensor(value), sample_weight=weight)
        general.update_state(ops.convert_to_tensor([value]), sample_weight=[float(weight)])
    np.testing.assert_allclose(float(ops.convert_to_numpy(fast.result())),
                               float(ops.convert_to_numpy(general.result())), rtol=1e-6)
    np.testing.assert_allclose(float(ops.convert_to_numpy(fast.result())), (64 + 40 + 4.5) / 43, rtol=1e-6)
