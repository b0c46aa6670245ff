"""Keras 3's scikit-learn estimators (``lamina.wrappers.SKLearnClassifier`` / ``SKLearnRegressor`` /
``SKLearnTransformer``) with scikit-learn itself: fitting, predicting, scores, ``clone``, ``GridSearchCV``,
``Pipeline`` and ``cross_val_score``, and the errors."""

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")  # in the lock file, so CI has it; a bare install may not

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.metrics import accuracy_score, r2_score  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import lamina  # noqa: E402
from lamina.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 4)).astype("float32")
LABELS = np.array(["cat", "dog", "owl"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)]


def build_classifier(X, y, hidden=8, lr=0.05):
    model = lamina.Sequential([lamina.Input((X.shape[1],)), lamina.layers.Dense(hidden, activation="relu"),
                               lamina.layers.Dense(y.shape[1], activation="softmax")])
    model.compile(optimizer=lamina.optimizers.Adam(lr), loss="categorical_crossentropy")
    return model


def linear_model(units=1):
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(units)])
    model.compile(optimizer=lamina.optimizers.SGD(0.05), loss="mse")
    return model


def test_classifier_encodes_labels_predicts_them_and_scores_accuracy():
    seen = {}

    def build(X, y, **kw):
        seen["y"] = y
        return build_classifier(X, y, **kw)

    clf = SKLearnClassifier(build, model_kwargs={"hidden": 16}, fit_kwargs={"epochs": 30, "batch_size": 16})
    assert clf.fit(X, LABELS) is clf
    assert clf.classes_.tolist() == ["cat", "dog", "owl"] and clf.n_features_in_ == 4
    np.testing.assert_array_equal(seen["y"], np.eye(3)[np.searchsorted(clf.classes_, LABELS)])
    pred = clf.predict(X)
    assert pred.shape == (60,) and set(pred) <= set(clf.classes_)
    assert clf.score(X, LABELS) == pytest.approx(accuracy_score(LABELS, pred))
    assert clf.score(X, LABELS) > 0.8
    raw = clf.decision_function(X[:5])
    assert raw.shape == (5, 3)
    np.testing.assert_array_equal(clf.classes_[raw.argmax(1)], pred[:5])
    assert clf.epoch_ == 30 and len(clf.history_.history["loss"]) == 30


def test_a_compiled_model_is_cloned_and_compiled_alike_unless_warm_start():
    template = linear_model()
    before = [w.copy() for w in template.get_weights()]
    y = X @ np.array([1.0, -2.0, 0.5, 0.0], "float32")
    reg = SKLearnRegressor(template, fit_kwargs={"epochs": 3})
    reg.fit(X, y)
    assert reg.model_ is not template
    assert type(reg.model_.optimizer).__name__ == "SGD" and reg.model_.loss == "mse"
    for a, b in zip(before, template.get_weights()):
        np.testing.assert_array_equal(a, b)  # the template is not trained
    warm = SKLearnRegressor(template, warm_start=True, fit_kwargs={"epochs": 2})
    warm.fit(X, y)
    assert warm.model_ is template and not np.array_equal(before[0], template.get_weights()[0])
    first = template.get_weights()[0].copy()
    warm.fit(X, y)
    assert warm.model_ is template and not np.array_equal(first, template.get_weights()[0])  # continues


def test_regressor_single_and_several_targets_and_r2_score():
    w = np.array([[1.0, 0.0], [-2.0, 1.0], [0.5, 0.0], [0.0, 3.0]], "float32")
    Y = X @ w
    reg = SKLearnRegressor(linear_model(), fit_kwargs={"epochs": 60, "batch_size": 8})
    reg.fit(X, Y[:, 0])
    pred = reg.predict(X)
    assert pred.shape == (60,)
    assert reg.score(X, Y[:, 0]) == pytest.approx(r2_score(Y[:, 0], pred), rel=1e-5) and reg.score(X, Y[:, 0]) > 0.95
    two = SKLearnRegressor(lambda X, y: linear_model(y.shape[1]), fit_kwargs={"epochs": 60, "batch_size": 8})
    assert two.fit(X, Y).predict(X).shape == (60, 2) and two.score(X, Y) > 0.95


def test_transformer_in_a_pipeline():
    emb = SKLearnTransformer(linear_model(2), fit_kwargs={"epochs": 2})
    out = make_pipeline(StandardScaler(), emb).fit(X, X[:, :2] * 2).transform(X)
    assert out.shape == (60, 2)
    np.testing.assert_allclose(out, emb.model_.predict(StandardScaler().fit_transform(X), verbose=0), rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(ValueError, match=r"SKLearnTransformer.fit_transform needs targets y"):
        SKLearnTransformer(linear_model(2)).fit_transform(X)


def test_clone_grid_search_and_cross_validation():
    clf = SKLearnClassifier(build_classifier, fit_kwargs={"epochs": 5})
    twin = clone(clf)
    assert twin is not clf and twin.get_params()["fit_kwargs"] == {"epochs": 5} and twin.model is build_classifier
    grid = GridSearchCV(clf, {"model_kwargs": [{"hidden": 4}, {"hidden": 16}], "fit_kwargs": [{"epochs": 3}]},
                        cv=2)
    grid.fit(X, LABELS)
    assert grid.best_params_["model_kwargs"]["hidden"] in (4, 16) and hasattr(grid.best_estimator_, "model_")
    scores = cross_val_score(make_pipeline(StandardScaler(), clf), X, LABELS, cv=3)
    assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))


def test_fit_arguments_do_not_stick_to_fit_kwargs():
    clf = SKLearnClassifier(build_classifier, fit_kwargs={"epochs": 1})
    clf.fit(X, LABELS, epochs=2)
    assert clf.fit_kwargs == {"epochs": 1} and clf.epoch_ == 2
    clf.fit(X, LABELS)
    assert clf.epoch_ == 1


def test_errors_name_the_estimator_and_the_problem():
    uncompiled = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(1)])
    with pytest.raises(RuntimeError, match=r"SKLearnRegressor.fit: the model '.*' must be compiled"):
        SKLearnRegressor(uncompiled).fit(X, X[:, 0])
    with pytest.raises(ValueError, match=r"SKLearnRegressor.fit: model must be a compiled lamina Model or a function"):
        SKLearnRegressor("dense").fit(X, X[:, 0])
    with pytest.raises(ValueError, match=r"returned str, not a lamina Model"):
        SKLearnRegressor(lambda X, y: "oops").fit(X, X[:, 0])
    with pytest.raises(ValueError, match=r"the targets hold one class only \(\['a'\]\)"):
        SKLearnClassifier(build_classifier).fit(X, np.array(["a"] * 60))
    with pytest.raises(ValueError, match=r"expects one label per sample.*'continuous'"):
        SKLearnClassifier(build_classifier).fit(X, X[:, 0])
    with pytest.raises(NotFittedError):
        SKLearnClassifier(build_classifier).predict(X)
    narrow = SKLearnClassifier(lambda X, y: build_classifier(X, np.zeros((1, 2))), fit_kwargs={"epochs": 1})
    with pytest.raises(ValueError, match=r"y_true.shape=\(32, 3\) and y_pred.shape=\(32, 2\)"):
        narrow.fit(X, LABELS)


def test_without_scikit_learn_the_message_says_what_to_install(monkeypatch):
    from lamina.wrappers import sklearn_wrappers

    monkeypatch.setattr(sklearn_wrappers, "sklearn", None)
    with pytest.raises(ImportError, match=r"SKLearnClassifier needs scikit-learn.*pip install scikit-learn"):
        SKLearnClassifier(build_classifier)
