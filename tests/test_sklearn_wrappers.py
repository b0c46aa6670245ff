"""Keras 2's scikit-learn wrappers (KerasClassifier, KerasRegressor), without scikit-learn installed: the
estimator protocol scikit-learn's clone/GridSearchCV rely on, and the predictions. On the current backend."""

import numpy as np
import pytest

import lamina
from lamina.wrappers.scikit_learn import KerasClassifier, KerasRegressor

RNG = np.random.default_rng(0)
X = RNG.normal(size=(90, 4)).astype("float32")
LABELS = np.array(["cat", "dog", "eel"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)]


def build_classifier(units=16, outputs=3, activation="softmax", loss="sparse_categorical_crossentropy"):
    lamina.utils.set_random_seed(0)
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(units, activation="relu"),
                               lamina.layers.Dense(outputs, activation=activation)])
    model.compile(optimizer=lamina.optimizers.Adam(0.05), loss=loss, metrics=["accuracy"])
    return model


def test_classifier_labels_predictions_and_score():
    clf = KerasClassifier(build_fn=build_classifier, units=12, epochs=30, batch_size=16, verbose=0)
    clf.fit(X, LABELS)
    assert clf.classes_.tolist() == ["cat", "dog", "eel"] and clf.n_classes_ == 3
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3) and np.allclose(proba.sum(1), 1, atol=1e-5)
    predicted = clf.predict(X)
    np.testing.assert_array_equal(predicted, clf.classes_[proba.argmax(1)])
    score = clf.score(X, LABELS)
    assert score == pytest.approx(np.mean(predicted == LABELS), abs=1e-6) and score > 0.8
    assert clf.model.layers[0].units == 12  # build_fn got its parameter


def test_binary_sigmoid_and_one_hot_labels():
    binary = KerasClassifier(build_fn=build_classifier, outputs=1, activation="sigmoid", loss="binary_crossentropy",
                             epochs=20, verbose=0)
    y = (X[:, 0] > 0).astype(int)
    binary.fit(X, y)
    proba = binary.predict_proba(X[:5])
    assert proba.shape == (5, 2) and np.allclose(proba.sum(1), 1)
    np.testing.assert_array_equal(binary.predict(X[:5]), (proba[:, 1] > 0.5).astype(int))
    onehot = KerasClassifier(build_fn=build_classifier, loss="categorical_crossentropy", epochs=2, verbose=0)
    onehot.fit(X, lamina.utils.to_categorical(np.searchsorted(["cat", "dog", "eel"], LABELS), 3))
    assert onehot.classes_.tolist() == [0, 1, 2]


def test_estimator_protocol():
    clf = KerasClassifier(build_fn=build_classifier, units=8, epochs=1, verbose=0)
    params = clf.get_params()
    assert params == {"build_fn": build_classifier, "units": 8, "epochs": 1, "verbose": 0}
    clone = type(clf)(**params)  # what sklearn.base.clone does
    assert clone.get_params() == params and clone is not clf
    assert clf.set_params(units=4, batch_size=8) is clf and clf.sk_params["units"] == 4
    with pytest.raises(ValueError, match="KerasClassifier: 'learning_rat' is not a parameter of build_fn"):
        clf.set_params(learning_rat=0.1)
    with pytest.raises(ValueError, match="KerasClassifier.predict: call fit\\(\\) first"):
        clf.predict(X)
    with pytest.raises(ValueError, match="expected y of shape"):
        clf.fit(X, np.zeros((90, 2, 2)))


def test_regressor():
    def build(units=8):
        lamina.utils.set_random_seed(1)
        model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(units, activation="relu"),
                                   lamina.layers.Dense(1)])
        model.compile(optimizer=lamina.optimizers.Adam(0.05), loss="mse")
        return model

    y = X @ np.array([1.0, -2.0, 0.5, 0.0], "float32")
    reg = KerasRegressor(build_fn=build, epochs=40, batch_size=16, verbose=0)
    reg.fit(X, y)
    predicted = reg.predict(X)
    assert predicted.shape == (90,)
    assert reg.score(X, y) == pytest.approx(-np.mean((predicted - y) ** 2), rel=1e-4)
    assert reg.score(X, y) > -0.5
