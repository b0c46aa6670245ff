"""lamina.distillation (Distiller, LogitsDistillation, FeatureDistillation) against NumPy formulas, and metric
trackers that a model's own compute_loss updates (what Distiller relies on). On the current backend."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from lamina.distillation import DistillationLoss, Distiller, FeatureDistillation, LogitsDistillation

RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, 4)).astype("float32")
Y = RNG.integers(0, 3, 16)


def _mlp(hidden, name, seed):
    init = lamina.initializers.GlorotUniform(seed=seed)
    return lamina.Sequential([lamina.Input((4,)), layers.Dense(hidden, activation="relu", kernel_initializer=init,
                                                               name="hidden"),
                              layers.Dense(3, kernel_initializer=init, name="logits")], name=name)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), dtype="float64")


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _sparse_ce_from_logits(y, z):
    p = _softmax(z)
    return float(np.mean(-np.log(p[np.arange(len(y)), y])))


def _kl(p, q, eps=1e-7):
    p, q = np.clip(p, eps, 1), np.clip(q, eps, 1)
    return float(np.mean(np.sum(p * np.log(p / q), axis=-1)))


def _hidden(model, x):
    w, b = [_np(v) for v in model.get_layer("hidden").weights]
    return np.maximum(x @ w + b, 0)


@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0])
def test_logits_distillation_loss_matches_numpy(weight):
    teacher, student = _mlp(8, "teacher", 1), _mlp(2, "student", 2)
    t = 2.5
    distiller = Distiller(teacher, student, LogitsDistillation(temperature=t), student_loss_weight=weight)
    distiller.compile(optimizer="sgd", loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    logs = distiller.evaluate(X, Y, batch_size=16, verbose=0, return_dict=True)
    zt, zs = _np(teacher(X)), _np(student(X))
    student_loss = _sparse_ce_from_logits(Y, zs)
    distill = _kl(_softmax(zt / t), _softmax(zs / t)) * t ** 2
    total = weight * student_loss + (1 - weight) * distill
    assert logs["student_loss"] == pytest.approx(student_loss if weight > 0 else 0.0, rel=1e-4, abs=1e-6)
    assert logs["distillation_loss"] == pytest.approx(distill if weight < 1 else 0.0, rel=1e-4, abs=1e-6)
    assert logs["total_loss"] == pytest.approx(total, rel=1e-4)
    assert logs["loss"] == pytest.approx(total, rel=1e-4)


def test_feature_distillation_between_named_layers_and_weights():
    teacher, student = _mlp(5, "teacher", 3), _mlp(5, "student", 4)
    losses = [LogitsDistillation(temperature=1.0, loss="mse"),
              FeatureDistillation(loss="mae", teacher_layer_name="hidden", student_layer_name="hidden")]
    distiller = Distiller(teacher, student, losses, distillation_loss_weights=[1.0, 0.5], student_loss_weight=0.0)
    distiller.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    logs = distiller.evaluate(X, Y, batch_size=16, verbose=0, return_dict=True)
    logits = float(np.mean((_np(teacher(X)) - _np(student(X))) ** 2))
    features = float(np.mean(np.abs(_hidden(teacher, X) - _hidden(student, X))))
    assert logs["distillation_loss"] == pytest.approx(logits + 0.5 * features, rel=1e-4)
    assert logs["loss"] == pytest.approx(logits + 0.5 * features, rel=1e-4)


def test_fit_trains_the_student_only_and_lowers_the_loss():
    teacher, student = _mlp(16, "teacher", 5), _mlp(4, "student", 6)
    teacher_before = [_np(w) for w in teacher.weights]
    student_before = [_np(w) for w in student.weights]
    distiller = Distiller(teacher, student, LogitsDistillation(), student_loss_weight=0.1)
    distiller.compile(optimizer=lamina.optimizers.Adam(0.05),
                      loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = distiller.fit(X, Y, epochs=15, batch_size=8, verbose=0)
    h = history.history
    assert {"loss", "student_loss", "distillation_loss", "total_loss", "accuracy"} <= set(h)
    assert h["distillation_loss"][-1] < 0.5 * h["distillation_loss"][0]
    assert h["loss"] == pytest.approx(h["total_loss"], rel=1e-5)
    for before, w in zip(teacher_before, teacher.weights):
        np.testing.assert_array_equal(before, _np(w))
    assert any(not np.allclose(before, _np(w)) for before, w in zip(student_before, student.weights))
    assert len(distiller.trainable_weights) == len(student.trainable_weights)
    np.testing.assert_allclose(distiller.predict(X, verbose=0), _np(student(X)), rtol=1e-5, atol=1e-6)


def test_custom_distillation_loss_subclass():
    class MeanGap(DistillationLoss):
        def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
            return ops.abs(ops.mean(teacher_outputs) - ops.mean(student_outputs))

    teacher, student = _mlp(4, "teacher", 7), _mlp(4, "student", 8)
    distiller = Distiller(teacher, student, MeanGap(), student_loss_weight=0.0)
    distiller.compile(loss="mse")
    logs = distiller.evaluate(X, Y, batch_size=16, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(abs(_np(teacher(X)).mean() - _np(student(X)).mean()), rel=1e-4, abs=1e-6)


def test_configs_round_trip():
    loss = LogitsDistillation(temperature=4.0, loss="categorical_crossentropy")
    again = LogitsDistillation.from_config(loss.get_config())
    assert again.temperature == 4.0 and again.loss is lamina.losses.categorical_crossentropy
    obj = LogitsDistillation(loss=lamina.losses.KLDivergence())
    assert isinstance(LogitsDistillation.from_config(obj.get_config()).loss, lamina.losses.KLDivergence)
    feat = FeatureDistillation(loss=["mse", None], teacher_layer_name="a", student_layer_name="b")
    again = FeatureDistillation.from_config(feat.get_config())
    assert again.teacher_layer_name == "a" and again.loss[1] is None
    distiller = Distiller(_mlp(4, "teacher", 1), _mlp(2, "student", 2), [loss], student_loss_weight=0.25)
    rebuilt = Distiller.from_config(distiller.get_config())
    assert rebuilt.student_loss_weight == 0.25 and rebuilt.distillation_losses[0].temperature == 4.0
    assert [w.shape for w in rebuilt.student.weights] == [w.shape for w in distiller.student.weights]


def test_bad_arguments_fail_clearly():
    teacher, student = _mlp(4, "teacher", 1), _mlp(2, "student", 2)
    with pytest.raises(ValueError, match="temperature must be positive, but received 0"):
        LogitsDistillation(temperature=0)
    with pytest.raises(ValueError, match="at least one loss that is not None"):
        FeatureDistillation(loss=[None, None])
    with pytest.raises(ValueError, match=r"student_loss_weight must be a number in \[0, 1\], but received 1.5"):
        Distiller(teacher, student, LogitsDistillation(), student_loss_weight=1.5)
    with pytest.raises(ValueError, match="2 distillation_loss_weights for 1 distillation_losses"):
        Distiller(teacher, student, [LogitsDistillation()], distillation_loss_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="the student must be a lamina Model, but received Dense"):
        Distiller(teacher, layers.Dense(3), LogitsDistillation())
    wide = lamina.Sequential([lamina.Input((4,)), layers.Dense(5)])
    with pytest.raises(ValueError, match=r"outputs shapes must match, but the teacher has \(None, 3\) and the "
                                         r"student \(None, 5\)"):
        Distiller(teacher, wide, LogitsDistillation())
    with pytest.raises(ValueError, match="FeatureDistillation: in the student model"):
        Distiller(teacher, student, FeatureDistillation(teacher_layer_name="hidden", student_layer_name="nope"))
    distiller = Distiller(teacher, student, LogitsDistillation())
    with pytest.raises(ValueError, match="Distiller.compile: `loss`"):
        distiller.compile(optimizer="sgd")


class _Tracked(lamina.Model):
    """A model whose own compute_loss updates a tracker (the Keras 3 way to report extra values)."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1, kernel_initializer="zeros")
        self.half_tracker = lamina.metrics.Mean(name="half_loss")

    def call(self, x):
        return self.dense(x)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = ops.mean(ops.square(y - y_pred))
        self.half_tracker.update_state(loss / 2)
        return loss


def test_metric_trackers_of_a_custom_compute_loss_are_reported():
    model = _Tracked()
    model.compile(optimizer="sgd")
    x, y = np.ones((8, 2), "float32"), np.full((8, 1), 2.0, "float32")
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert "half_tracker" not in history.history and "half_loss" in history.history
    np.testing.assert_allclose(history.history["half_loss"], np.array(history.history["loss"]) / 2, rtol=1e-5)
    assert model.half_tracker in model.metrics
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["half_loss"] == pytest.approx(logs["loss"] / 2, rel=1e-5)
    # the tracker holds values, not a piece of the autodiff graph
    assert float(_np(model.half_tracker.result())) == pytest.approx(logs["loss"] / 2, rel=1e-5)
    assert not getattr(model.half_tracker.variables[0].value, "requires_grad", False)
