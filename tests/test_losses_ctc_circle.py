"""CTC, Circle and generalized-crossentropy losses, and ops.ctc_loss / ops.ctc_decode, against NumPy references.

The CTC references are independent of the engines' algorithms: a brute-force sum over every
alignment (tiny cases) and a plain-Python forward recursion; beam search is checked against
the exact label-sequence probabilities from enumerating all alignments.
"""

import itertools
import math

import numpy as np
import pytest

import lamina
from lamina import losses, ops

RNG = np.random.default_rng(7)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), dtype="float64")


def _log_softmax(x):
    x = np.asarray(x, "float64")
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def _collapse(path, blank):
    out, prev = [], None
    for c in path:
        if c != prev and c != blank:
            out.append(int(c))
        prev = c
    return tuple(out)


def _sequence_logprobs(logits, length, blank):
    """{label sequence: log P(sequence)} by enumerating every alignment of the first ``length`` steps."""
    lp = _log_softmax(logits)[:length]
    probs = {}
    for path in itertools.product(range(lp.shape[-1]), repeat=length):
        key = _collapse(path, blank)
        probs[key] = probs.get(key, 0.0) + math.exp(sum(lp[t, c] for t, c in enumerate(path)))
    return {k: math.log(v) for k, v in probs.items()}


def _ctc_brute(labels, logits, length, blank=0):
    return -_sequence_logprobs(logits, length, blank).get(tuple(int(v) for v in labels), -math.inf)


def _ctc_forward(labels, logits, length, blank=0):
    """Plain-Python CTC forward recursion (probability space, float64)."""
    p = np.exp(_log_softmax(logits))[:length]
    ext = [blank]
    for c in labels:
        ext += [int(c), blank]
    alpha = [0.0] * len(ext)
    alpha[0] = 1.0  # the start state, before the first step
    start = True
    for t in range(length):
        new = [0.0] * len(ext)
        for s in range(len(ext)):
            if start:
                total = alpha[0] if s <= 1 else 0.0
            else:
                total = alpha[s] + (alpha[s - 1] if s >= 1 else 0.0)
                if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                    total += alpha[s - 2]
            new[s] = total * p[t, ext[s]]
        alpha, start = new, False
    if length == 0:
        return 0.0 if len(labels) == 0 else math.inf
    total = alpha[-1] + (alpha[-2] if len(ext) > 1 else 0.0)
    return -math.log(total) if total > 0 else math.inf


# ---- ops.ctc_loss ---------------------------------------------------------------

def test_ctc_loss_matches_brute_force_enumeration_of_alignments():
    logits = RNG.normal(size=(4, 5, 3)).astype("float32")
    target = np.array([[1, 2, 0], [1, 1, 0], [2, 0, 0], [0, 0, 0]], "int32")
    target_length = np.array([2, 2, 1, 0], "int32")
    output_length = np.array([5, 4, 3, 2], "int32")
    got = _np(ops.ctc_loss(target, logits, target_length, output_length))
    want = [_ctc_brute(target[i, :target_length[i]], logits[i], output_length[i]) for i in range(4)]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_ctc_loss_matches_forward_recursion_with_other_blank_and_lengths():
    b, t, c, lab = 5, 12, 6, 4
    logits = (RNG.normal(size=(b, t, c)) * 2).astype("float32")
    blank = 3
    target = RNG.choice([0, 1, 2, 4, 5], size=(b, lab)).astype("int32")
    target[1, 1] = target[1, 0]  # a repeated label needs a blank between
    target_length = np.array([4, 3, 1, 2, 4], "int32")
    output_length = np.array([12, 9, 5, 12, 8], "int32")
    got = _np(ops.ctc_loss(target, logits, target_length, output_length, mask_index=blank))
    want = [_ctc_forward(target[i, :target_length[i]], logits[i], output_length[i], blank) for i in range(b)]
    np.testing.assert_allclose(got, want, rtol=1e-4)
    assert ops.dtype(ops.ctc_loss(target, logits, target_length, output_length, mask_index=blank)) == "float32"


def test_ctc_loss_of_a_label_that_cannot_fit_is_inf_and_bad_classes_give_nan():
    logits = RNG.normal(size=(3, 4, 3)).astype("float32")
    target = np.array([[1, 1, 1], [1, 2, 1], [1, 5, 0]], "int32")
    got = _np(ops.ctc_loss(target, logits, np.array([3, 3, 2]), np.array([4, 3, 4])))
    assert got[0] == np.inf                     # 1 1 1 needs 5 steps (two blanks between repeats)
    np.testing.assert_allclose(got[1], _ctc_forward([1, 2, 1], logits[1], 3), rtol=1e-4)
    assert np.isnan(got[2])                     # class 5 of 3


def test_ctc_loss_gradient_matches_numeric_gradient_and_is_finite_for_impossible_samples():
    logits = RNG.normal(size=(2, 5, 3))
    target = np.array([[1, 2], [1, 1]], "int32")
    tl, ol = np.array([2, 2]), np.array([5, 2])  # sample 1 cannot fit: infinite loss, zero gradient
    w = lamina.Variable(logits.astype("float32"))
    value, grads = ops.value_and_grad(lambda: ops.ctc_loss(target, w, tl, ol)[0], [w])()
    grad = _np(grads[0])
    assert np.all(np.isfinite(grad))
    numeric = np.zeros_like(logits)
    for idx in np.ndindex(logits[0].shape):
        up, down = logits[0].copy(), logits[0].copy()
        up[idx] += 1e-5
        down[idx] -= 1e-5
        numeric[(0,) + idx] = (_ctc_forward([1, 2], up, 5) - _ctc_forward([1, 2], down, 5)) / 2e-5
    np.testing.assert_allclose(grad, numeric, atol=2e-3)
    value, grads = ops.value_and_grad(lambda: ops.sum(ops.ctc_loss(target, w, tl, ol)), [w])()
    assert float(value) == np.inf
    np.testing.assert_allclose(_np(grads[0]), np.stack([grad[0], np.zeros_like(grad[1])]), atol=1e-6)


def test_ctc_ops_on_symbolic_inputs_give_the_output_shapes():
    x = lamina.Input(shape=(7, 5))
    y = lamina.Input(shape=(3,), dtype="int32")
    n = lamina.Input(shape=(), dtype="int32")
    loss = ops.ctc_loss(y, x, n, n)
    assert loss.shape == (None,) and loss.dtype == "float32"
    decoded, scores = ops.ctc_decode(x, n)
    assert decoded.shape == (1, None, 7) and decoded.dtype == "int32" and scores.shape == (None, 1)
    decoded, scores = ops.ctc_decode(x, n, strategy="beam_search", top_paths=3)
    assert decoded.shape == (3, None, 7) and scores.shape == (None, 3)
    assert ops.nn.ctc_loss is ops.ctc_loss and ops.nn.ctc_decode is ops.ctc_decode


def test_functional_model_with_ctc_ops_saves_and_loads(tmp_path):
    x = lamina.Input(shape=(7, 5))
    steps = lamina.Input(shape=(), dtype="int32")
    labels = lamina.Input(shape=(3,), dtype="int32")
    label_length = lamina.Input(shape=(), dtype="int32")
    logits = lamina.layers.Dense(4)(x)
    decoded, scores = ops.ctc_decode(logits, steps, strategy="beam_search", beam_width=5, top_paths=2, mask_index=1)
    loss = ops.ctc_loss(labels, logits, label_length, steps, mask_index=1)
    model = lamina.Model([x, steps, labels, label_length], [decoded, scores, loss])
    data = [RNG.normal(size=(6, 7, 5)).astype("float32"), np.array([7, 7, 5, 6, 7, 3], "int32"),
            RNG.integers(2, 4, size=(6, 3)).astype("int32"), np.array([3, 2, 1, 3, 0, 1], "int32")]
    before = model.predict(data, verbose=0)
    assert [o.shape for o in before] == [(2, 6, 7), (6, 2), (6,)]
    model.save(tmp_path / "ctc.keras")
    after = lamina.saving.load_model(tmp_path / "ctc.keras").predict(data, verbose=0)
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_allclose(before[1], after[1], rtol=1e-6)
    np.testing.assert_allclose(before[2], after[2], rtol=1e-6)


def test_ctc_ops_compute_in_at_least_float32():
    logits = RNG.normal(size=(2, 4, 3))
    for dtype, want in (("float16", "float32"), ("bfloat16", "float32"), ("float32", "float32")):
        x = ops.cast(logits, dtype)
        assert ops.dtype(ops.ctc_loss([[1], [2]], x, [1, 1], [4, 2])) == want
        assert ops.dtype(ops.ctc_decode(x, [4, 2])[1]) == want
        assert ops.dtype(ops.ctc_decode(x, [4, 2], strategy="beam_search", beam_width=3)[0]) == "int32"


X243 = np.zeros((2, 4, 3))


@pytest.mark.parametrize("call, match", [
    (lambda: ops.ctc_loss(np.zeros((2,)), X243, [1, 1], [4, 4]), r"ctc_loss: `target` must have shape"),
    (lambda: ops.ctc_loss(np.zeros((2, 2)), np.zeros((2, 4)), [1, 1], [4, 4]), r"ctc_loss: `output` must have shape"),
    (lambda: ops.ctc_loss(np.zeros((2, 2)), np.zeros((3, 4, 3)), [1, 1], [4, 4, 4]),
     r"same batch size.*target\.shape\[0\]=2"),
    (lambda: ops.ctc_loss(np.zeros((2, 2)), X243, [1, 1], [4, 4], mask_index=3),
     r"`mask_index` must be an int in \[0, 3\).*mask_index=3"),
    (lambda: ops.ctc_decode(X243, [4, 4], strategy="prefix"),
     r"ctc_decode: `strategy` must be one of \['greedy', 'beam_search'\].*'prefix'"),
    (lambda: ops.ctc_decode(np.zeros((2, 4)), [4, 4]),
     r"ctc_decode: `inputs` must have shape \(batch_size, max_length, num_classes\).*\(2, 4\)"),
    (lambda: ops.ctc_decode(X243, [4, 4, 4]), r"same batch size"),
    (lambda: ops.ctc_decode(X243, [4, 4], strategy="beam_search", beam_width=0),
     r"`beam_width` must be an int >= 1.*beam_width=0"),
    (lambda: ops.ctc_decode(X243, [4, 4], strategy="beam_search", top_paths=0), r"`top_paths` must be an int >= 1"),
    (lambda: ops.ctc_decode(X243, [4, 4], mask_index=-1), r"`mask_index` must be an int in \[0, 3\)"),
])
def test_ctc_ops_reject_bad_arguments_with_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---- ops.ctc_decode -----------------------------------------------------------

def _greedy_ref(logits, length, blank, merge):
    best = logits[:length].argmax(-1)
    out, prev = [], None
    for c in best:
        if c != blank and not (merge and c == prev):
            out.append(int(c))
        prev = c
    return out, -logits[:length].max(-1).sum()


@pytest.mark.parametrize("merge", [True, False])
@pytest.mark.parametrize("blank", [0, 2])
def test_greedy_decode_matches_reference(merge, blank):
    logits = RNG.normal(size=(4, 9, 4)).astype("float32")
    logits[0, 2:5, 1] += 5.0  # a run of one class, merged or not
    lengths = np.array([9, 6, 1, 0], "int32")
    decoded, scores = ops.ctc_decode(logits, lengths, merge_repeated=merge, mask_index=blank)
    decoded, scores = ops.convert_to_numpy(decoded), _np(scores)
    assert decoded.shape == (1, 4, 9) and decoded.dtype == np.int32 and scores.shape == (4, 1)
    for i in range(4):
        seq, score = _greedy_ref(logits[i], lengths[i], blank, merge)
        assert decoded[0, i].tolist() == seq + [-1] * (9 - len(seq))
        np.testing.assert_allclose(scores[i, 0], score, rtol=1e-5, atol=1e-6)


def test_beam_search_with_a_wide_beam_finds_the_exact_most_probable_sequences():
    logits = (RNG.normal(size=(3, 5, 3)) * 1.5).astype("float32")
    lengths = np.array([5, 4, 2], "int32")
    for blank in (0, 1):
        decoded, scores = ops.ctc_decode(logits, lengths, strategy="beam_search", beam_width=64, top_paths=4,
                                         mask_index=blank)
        decoded, scores = ops.convert_to_numpy(decoded), _np(scores)
        assert decoded.shape == (4, 3, 5) and scores.shape == (3, 4)
        for i in range(3):
            exact = sorted(_sequence_logprobs(logits[i], lengths[i], blank).items(), key=lambda kv: -kv[1])
            for k in range(4):
                if k >= len(exact):
                    assert scores[i, k] == -np.inf and np.all(decoded[k, i] == -1)
                    continue
                seq, logp = exact[k]
                np.testing.assert_allclose(scores[i, k], logp, rtol=1e-4, atol=1e-5)
                assert tuple(v for v in decoded[k, i] if v >= 0) == seq
                assert np.all(decoded[k, i, len(seq):] == -1)


def test_beam_search_narrow_beam_and_more_paths_than_the_beam():
    logits = (RNG.normal(size=(2, 6, 4)) * 2).astype("float32")
    decoded, scores = ops.ctc_decode(logits, [6, 6], strategy="beam_search", beam_width=2, top_paths=3)
    decoded, scores = ops.convert_to_numpy(decoded), _np(scores)
    assert decoded.shape == (3, 2, 6)
    assert np.all(scores[:, 2] == -np.inf) and np.all(decoded[2] == -1)      # padding beyond the beam
    assert np.all(np.diff(scores[:, :2], axis=1) <= 0)                        # best first
    for i in range(2):  # each returned score is the exact probability of its (distinct) sequence
        exact = _sequence_logprobs(logits[i], 6, 0)
        seqs = [tuple(v for v in decoded[k, i] if v >= 0) for k in range(2)]
        assert seqs[0] != seqs[1]
        for k in range(2):
            assert scores[i, k] <= exact[seqs[k]] + 1e-4  # a narrow beam may miss some alignments
    # beam_width=1, one path: the best collapsed path of a near-deterministic input
    one_hot = ops.convert_to_numpy(ops.one_hot([[1, 1, 0, 2, 2, 3]], 4)) * 10
    decoded, _ = ops.ctc_decode(one_hot, [6], strategy="beam_search", beam_width=1)
    assert ops.convert_to_numpy(decoded)[0, 0].tolist() == [1, 2, 3, -1, -1, -1]


# ---- CTC loss -------------------------------------------------------------------

def test_ctc_function_and_class_use_zero_padding_and_all_steps():
    logits = RNG.normal(size=(3, 6, 4)).astype("float32")
    y = np.array([[1, 2, 0], [3, 3, 1], [2, 0, 0]])
    want = np.array([_ctc_forward([v for v in row if v != 0], logits[i], 6) for i, row in enumerate(y)])
    np.testing.assert_allclose(_np(losses.ctc(y, logits)), want, rtol=1e-4)
    np.testing.assert_allclose(_np(losses.CTC()(y, logits)), want.mean(), rtol=1e-4)
    np.testing.assert_allclose(_np(losses.CTC(reduction="sum")(y, logits)), want.sum(), rtol=1e-4)
    np.testing.assert_allclose(_np(losses.CTC(reduction=None)(y, logits)), want, rtol=1e-4)
    sw = np.array([1.0, 0.0, 2.0])
    np.testing.assert_allclose(_np(losses.CTC()(y, logits, sample_weight=sw)), (want * sw).mean(), rtol=1e-4)
    np.testing.assert_allclose(_np(losses.CTC(reduction="mean_with_sample_weight")(y, logits, sample_weight=sw)),
                               (want * sw).sum() / sw.sum(), rtol=1e-4)
    np.testing.assert_allclose(_np(losses.ctc(y.astype("float32"), logits)), want, rtol=1e-4)  # float labels


def test_ctc_loss_rejects_bad_ranks():
    with pytest.raises(ValueError, match=r"ctc: targets `y_true` must be .*\(batch_size, max_label_length\).*\(3,\)"):
        losses.ctc(np.ones(3), np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match=r"ctc: `y_pred` must be logits .*received y_pred.shape=\(3, 4\)"):
        losses.CTC()(np.ones((3, 2)), np.zeros((3, 4)))


def test_model_trains_with_the_ctc_loss_by_name():
    lamina.utils.set_random_seed(0)
    x = RNG.normal(size=(16, 8, 5)).astype("float32")
    y = RNG.integers(1, 4, size=(16, 3))
    y[::2, 2] = 0
    model = lamina.Sequential([lamina.Input(shape=(8, 5)), lamina.layers.Dense(4)])
    model.compile(optimizer=lamina.optimizers.Adam(0.05), loss="ctc")
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    loss = history.history["loss"]
    assert all(np.isfinite(loss)) and loss[-1] < loss[0]


# ---- Circle --------------------------------------------------------------------

def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _circle_ref(labels, emb, ref_labels=None, refs=None, remove_diagonal=True, gamma=80.0, margin=0.4):
    refs = emb if refs is None else refs
    ref_labels = labels if ref_labels is None else ref_labels
    out = []
    for i in range(len(labels)):
        pos, neg = [], []
        for j in range(len(ref_labels)):
            d = max(1.0 - float(np.dot(emb[i], refs[j])), 0.0)
            if labels[i] == ref_labels[j]:
                if not (remove_diagonal and i == j):
                    pos.append(-gamma * max(margin + d, 0.0) * (margin - d))
            else:
                neg.append(gamma * max(1.0 + margin - d, 0.0) * (1.0 - margin - d))
        lse = (lambda v: -np.inf if not v else np.log(np.sum(np.exp(np.array(v) - max(v)))) + max(v))
        z = lse(pos) + lse(neg)
        out.append(0.0 if z == -np.inf else np.logaddexp(0.0, z))
    return np.array(out)


EMB = _unit(RNG.normal(size=(8, 5))).astype("float32")
EMB_LABELS = np.array([0, 0, 1, 1, 2, 2, 1, 3])  # label 3 has no positive: loss 0, left out of the mean


@pytest.mark.parametrize("kwargs", [{}, {"gamma": 10.0, "margin": 0.25}, {"remove_diagonal": False}])
def test_circle_function_matches_reference(kwargs):
    got = _np(losses.circle(EMB_LABELS, EMB, **kwargs))
    np.testing.assert_allclose(got, _circle_ref(EMB_LABELS, EMB.astype("float64"), **kwargs), rtol=1e-3, atol=1e-4)
    refs = _unit(RNG.normal(size=(4, 5))).astype("float32")
    ref_labels = np.array([0, 1, 1, 2])
    got = _np(losses.circle(EMB_LABELS[:, None], EMB, ref_labels=ref_labels, ref_embeddings=refs, **kwargs))
    want = _circle_ref(EMB_LABELS, EMB.astype("float64"), ref_labels, refs.astype("float64"), **kwargs)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


def test_circle_class_averages_over_positive_losses_only():
    per = _circle_ref(EMB_LABELS, EMB.astype("float64"))
    assert per[-1] == 0.0 and np.all(per[:-1] > 0)
    np.testing.assert_allclose(_np(losses.Circle()(EMB_LABELS, EMB)), per[:-1].mean(), rtol=1e-3)
    np.testing.assert_allclose(_np(losses.Circle(reduction="sum")(EMB_LABELS, EMB)), per.sum(), rtol=1e-3)
    np.testing.assert_allclose(_np(losses.Circle(reduction="none")(EMB_LABELS, EMB)), per, rtol=1e-3, atol=1e-4)
    sw = np.linspace(0.5, 2.0, 8)
    np.testing.assert_allclose(_np(losses.Circle()(EMB_LABELS, EMB, sample_weight=sw)),
                               (per * sw).sum() / 7, rtol=1e-3)
    # compile(loss="circle") wraps the function; its reduction leaves the zero losses out too
    wrapped = losses.LossFunctionWrapper(losses.get("circle"))
    np.testing.assert_allclose(_np(wrapped(EMB_LABELS, EMB)), per[:-1].mean(), rtol=1e-3)
    assert float(losses.Circle()(np.arange(4), EMB[:4])) == 0.0  # no positives at all: 0, not NaN


def test_circle_gradients_are_finite_even_without_positives():
    w = lamina.Variable(EMB)
    for labels in (EMB_LABELS, np.arange(8)):
        _, grads = ops.value_and_grad(lambda: losses.Circle(gamma=20.0)(labels, w), [w])()
        assert np.all(np.isfinite(_np(grads[0])))


def test_circle_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"circle: `y_true` must be integer labels .*\(8, 2\)"):
        losses.circle(np.zeros((8, 2)), EMB)
    with pytest.raises(ValueError, match=r"circle: `y_pred` and `ref_embeddings` must be embeddings"):
        losses.circle(EMB_LABELS, EMB, ref_embeddings=np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"circle: `ref_labels` must have one label per embedding \(4\), but "
                                         r"received 3"):
        losses.circle(EMB_LABELS, EMB, ref_labels=[0, 1, 2], ref_embeddings=EMB[:4])


# ---- categorical generalized cross entropy ---------------------------------------

PROBS = RNG.dirichlet(np.ones(4), size=6).astype("float32")
CLASSES = RNG.integers(0, 4, size=6)


def _gce_ref(labels, probs, q):
    return (1.0 - probs[np.arange(len(labels)), labels].astype("float64") ** q) / q


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_generalized_cross_entropy_matches_reference(q):
    want = _gce_ref(CLASSES, PROBS, q)
    np.testing.assert_allclose(_np(losses.categorical_generalized_cross_entropy(CLASSES, PROBS, q)), want, rtol=1e-5)
    np.testing.assert_allclose(_np(losses.categorical_generalized_cross_entropy(CLASSES[:, None], PROBS, q=q)),
                               want, rtol=1e-5)
    loss = losses.CategoricalGeneralizedCrossEntropy(q=q)
    np.testing.assert_allclose(_np(loss(CLASSES, PROBS)), want.mean(), rtol=1e-5)
    np.testing.assert_allclose(_np(loss(CLASSES[:, None], PROBS)), want.mean(), rtol=1e-5)
    sw = np.arange(6.0)
    np.testing.assert_allclose(_np(loss(CLASSES, PROBS, sample_weight=sw)), (want * sw).mean(), rtol=1e-5)
    np.testing.assert_allclose(
        _np(losses.CategoricalGeneralizedCrossEntropy(q=q, reduction="sum")(CLASSES, PROBS)), want.sum(), rtol=1e-5)


def test_generalized_cross_entropy_bad_input():
    got = _np(losses.categorical_generalized_cross_entropy([1, 4, -1], PROBS[:3], 0.5))
    assert np.isfinite(got[0]) and np.isnan(got[1]) and np.isnan(got[2])  # labels outside [0, 4)
    for q in (0.0, 1.0, -0.5, "0.5"):
        with pytest.raises(ValueError, match=r"CategoricalGeneralizedCrossEntropy: `q` must be a float in \(0, 1\)"):
            losses.CategoricalGeneralizedCrossEntropy(q=q)
    with pytest.raises(ValueError, match=r"categorical_generalized_cross_entropy: `q` must be > 0.*q=0"):
        losses.categorical_generalized_cross_entropy(CLASSES, PROBS, 0)
    with pytest.raises(ValueError, match=r"expects integer labels of shape y_pred.shape without the class axis.*"
                                         r"y_true.shape=\(6, 4\)"):
        losses.categorical_generalized_cross_entropy(np.eye(4)[CLASSES], PROBS, 0.5)


def test_generalized_cross_entropy_gradient():
    w = lamina.Variable(PROBS)
    _, grads = ops.value_and_grad(lambda: losses.CategoricalGeneralizedCrossEntropy(q=0.5)(CLASSES, w), [w])()
    grad = _np(grads[0])
    want = np.zeros_like(grad)
    rows = np.arange(6)
    want[rows, CLASSES] = -0.5 * PROBS[rows, CLASSES].astype("float64") ** -0.5 / 0.5 / 6
    np.testing.assert_allclose(grad, want, rtol=1e-4)


# ---- names and configs ------------------------------------------------------------

@pytest.mark.parametrize("cls, kwargs", [
    (losses.CTC, {}),
    (losses.Circle, {"gamma": 32.0, "margin": 0.3, "remove_diagonal": False}),
    (losses.CategoricalGeneralizedCrossEntropy, {"q": 0.3}),
])
def test_config_round_trip(cls, kwargs):
    loss = cls(reduction="sum", name="mine", **kwargs)
    config = loss.get_config()
    assert config == {"name": "mine", "reduction": "sum", **kwargs}
    again = cls.from_config(config)
    assert again.get_config() == config
    restored = losses.deserialize(losses.serialize(loss))
    assert type(restored) is cls and restored.get_config() == config


def test_default_names_configs_and_lookup_by_name():
    assert losses.CTC().get_config() == {"name": "ctc", "reduction": "sum_over_batch_size"}
    assert losses.Circle().get_config() == {"name": "circle", "reduction": "sum_over_batch_size", "gamma": 80.0,
                                            "margin": 0.4, "remove_diagonal": True}
    assert losses.CategoricalGeneralizedCrossEntropy().get_config() == {
        "name": "categorical_generalized_cross_entropy", "reduction": "sum_over_batch_size", "q": 0.5}
    assert losses.get("ctc") is losses.ctc and losses.get("circle") is losses.circle
    assert losses.get("categorical_generalized_cross_entropy") is losses.categorical_generalized_cross_entropy
    assert isinstance(losses.get("CTC"), losses.CTC) and isinstance(losses.get("Circle"), losses.Circle)
    assert isinstance(losses.get("CategoricalGeneralizedCrossEntropy"), losses.CategoricalGeneralizedCrossEntropy)
    assert losses.deserialize(losses.serialize(losses.ctc)) is losses.ctc
