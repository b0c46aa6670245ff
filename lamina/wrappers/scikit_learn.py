"""Keras 2's scikit-learn wrappers (``keras.wrappers.scikit_learn``): ``KerasClassifier`` and ``KerasRegressor``
build a model with your ``build_fn`` and give it scikit-learn's estimator interface (``fit``, ``predict``,
``predict_proba``, ``score``, ``get_params``/``set_params``), so scikit-learn's ``cross_val_score``,
``GridSearchCV`` and pipelines can use it. scikit-learn itself is not needed to use them.

Parameters given to the constructor (``sk_params``) go to whichever of ``build_fn``, ``fit``, ``predict`` and
``evaluate`` take them, as in Keras 2.

Example:
>>> import numpy as np, lamina
>>> from lamina.wrappers.scikit_learn import KerasClassifier
>>> def build(units=8):
...     model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(units, activation="relu"),
...                                lamina.layers.Dense(3, activation="softmax")])
...     model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
...     return model
>>> clf = KerasClassifier(build_fn=build, units=4, epochs=2, verbose=0)
>>> _ = clf.fit(np.random.rand(30, 4), np.random.choice(["a", "b", "c"], 30))
>>> sorted(clf.classes_.tolist()), clf.predict(np.random.rand(2, 4)).shape
(['a', 'b', 'c'], (2,))
"""

import copy
import inspect
import types

import numpy as np

from lamina.models import Sequential
from lamina.utils import to_categorical


def _takes(fn, name):
    """Whether ``fn`` has a parameter called ``name`` (``**kwargs`` does not count, as in Keras 2)."""
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class BaseWrapper:
    """The common part of ``KerasClassifier`` and ``KerasRegressor``.

    Args:
        build_fn: a function (or callable object) returning a compiled model; None: the subclass's
            ``__call__`` builds it.
        **sk_params: arguments of ``build_fn`` and of the model's ``fit``, ``predict`` and ``evaluate``.
    """

    def __init__(self, build_fn=None, **sk_params):
        self.build_fn = build_fn
        self.sk_params = sk_params
        self.check_params(sk_params)

    def _build_callable(self):
        if self.build_fn is None:
            return self.__call__
        if not isinstance(self.build_fn, (types.FunctionType, types.MethodType)):
            return self.build_fn.__call__
        return self.build_fn

    def check_params(self, params):
        """Raise ``ValueError`` for a parameter that neither ``build_fn`` nor ``fit``/``predict``/``evaluate``
        takes."""
        functions = [Sequential.fit, Sequential.predict, Sequential.evaluate, self._build_callable()]
        for name in params:
            if not any(_takes(fn, name) for fn in functions):
                raise ValueError(f"{type(self).__name__}: {name!r} is not a parameter of build_fn nor of the "
                                 "model's fit, predict or evaluate.")

    def get_params(self, **params):
        """The parameters (``build_fn`` included), as scikit-learn's ``clone`` reads them."""
        res = copy.deepcopy(self.sk_params)
        res["build_fn"] = self.build_fn
        return res

    def set_params(self, **params):
        """Change parameters (checked as in the constructor); returns the estimator."""
        self.check_params(params)
        self.sk_params.update(params)
        return self

    def filter_sk_params(self, fn, override=None):
        """The ``sk_params`` that ``fn`` takes, updated with ``override``."""
        res = {name: value for name, value in self.sk_params.items() if _takes(fn, name)}
        res.update(override or {})
        return res

    def fit(self, x, y, **kwargs):
        """Build a fresh model with ``build_fn`` and train it; returns the ``History``."""
        build = self._build_callable()
        self.model = build(**self.filter_sk_params(build))
        if _loss_name(self.model) == "categorical_crossentropy" and len(np.shape(y)) != 2:
            y = to_categorical(y)
        fit_args = copy.deepcopy(self.filter_sk_params(Sequential.fit))
        fit_args.update(kwargs)
        return self.model.fit(x, y, **fit_args)

    def _check_fitted(self, who):
        if not hasattr(self, "model"):
            raise ValueError(f"{type(self).__name__}.{who}: call fit() first.")


def _loss_name(model):
    loss = getattr(model, "loss", None)
    return getattr(loss, "__name__", loss)


class KerasClassifier(BaseWrapper):
    """A classifier with scikit-learn's interface around a model built by ``build_fn`` (softmax or sigmoid
    output). Class labels may be any values: ``classes_`` holds them, the model sees their indices."""

    def fit(self, x, y, **kwargs):
        y = np.array(y)
        if y.ndim == 2 and y.shape[1] > 1:
            self.classes_ = np.arange(y.shape[1])
        elif (y.ndim == 2 and y.shape[1] == 1) or y.ndim == 1:
            self.classes_ = np.unique(y)
            y = np.searchsorted(self.classes_, y)
        else:
            raise ValueError(f"KerasClassifier.fit expected y of shape (samples,), (samples, 1) or one-hot "
                             f"(samples, classes), but received shape {y.shape}.")
        self.n_classes_ = len(self.classes_)
        return super().fit(x, y, **kwargs)

    def predict(self, x, **kwargs):
        """The predicted class label of each sample."""
        self._check_fitted("predict")
        proba = self.model.predict(x, **self.filter_sk_params(Sequential.predict, kwargs))
        classes = proba.argmax(axis=-1) if proba.shape[-1] > 1 else (proba > 0.5).astype("int32").reshape(-1)
        return self.classes_[classes]

    def predict_proba(self, x, **kwargs):
        """The class probabilities, ``(samples, classes)`` (two columns for one sigmoid output)."""
        self._check_fitted("predict_proba")
        probs = self.model.predict(x, **self.filter_sk_params(Sequential.predict, kwargs))
        return np.hstack([1 - probs, probs]) if probs.shape[1] == 1 else probs

    def score(self, x, y, **kwargs):
        """The model's accuracy on ``(x, y)`` (the model must be compiled with ``metrics=["accuracy"]``)."""
        self._check_fitted("score")
        y = np.searchsorted(self.classes_, y)
        if _loss_name(self.model) == "categorical_crossentropy" and y.ndim != 2:
            y = to_categorical(y)
        outputs = self.model.evaluate(x, y, **self.filter_sk_params(Sequential.evaluate, kwargs))
        outputs = outputs if isinstance(outputs, list) else [outputs]
        for name, value in zip(self.model.metrics_names, outputs):
            if name in ("accuracy", "acc"):
                return value
        raise ValueError("KerasClassifier.score: the model computes no accuracy; compile it with "
                         "metrics=['accuracy'].")


class KerasRegressor(BaseWrapper):
    """A regressor with scikit-learn's interface around a model built by ``build_fn``."""

    def predict(self, x, **kwargs):
        """The predictions, with a last axis of size 1 removed."""
        self._check_fitted("predict")
        out = self.model.predict(x, **self.filter_sk_params(Sequential.predict, kwargs))
        return np.squeeze(out, axis=-1) if out.shape[-1] == 1 else out

    def score(self, x, y, **kwargs):
        """Minus the model's loss on ``(x, y)`` (greater is better, as scikit-learn expects)."""
        self._check_fitted("score")
        loss = self.model.evaluate(x, y, **self.filter_sk_params(Sequential.evaluate, kwargs))
        return -loss[0] if isinstance(loss, list) else -loss
