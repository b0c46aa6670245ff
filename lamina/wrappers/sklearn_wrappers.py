"""Keras 3's scikit-learn estimators: ``SKLearnClassifier``, ``SKLearnRegressor`` and ``SKLearnTransformer``.

Each wraps a compiled model (or a function building one from ``X`` and ``y``) as a scikit-learn estimator, so
it works in ``Pipeline``, ``GridSearchCV``, ``cross_val_score``, ``clone``... They need scikit-learn installed
(``pip install scikit-learn``); lamina itself does not depend on it.

Where Keras 3.15 and these differ, on purpose:
* a compiled ``Model`` instance passed as ``model`` is cloned *and compiled with its compile settings* (Keras
  clones it uncompiled and then refuses it), and ``warm_start=True`` really continues training the same model;
* ``fit(X, y, epochs=...)`` does not write ``epochs`` into ``fit_kwargs`` (Keras's does, so it sticks to later
  fits and clones), and ``clone`` keeps ``fit_kwargs``;
* ``SKLearnRegressor`` accepts several targets (``y`` of shape ``(n_samples, n_outputs)``);
* ``predict``/``transform`` print no progress bar.
"""

import copy

import numpy as np

try:
    import sklearn
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
except ImportError:  # the classes exist, and say what to install when constructed
    sklearn = None

    class BaseEstimator:
        pass

    class ClassifierMixin:
        pass

    class RegressorMixin:
        pass

    class TransformerMixin:
        pass


def _validate(estimator, X, y=None, reset=True, multi_output=False):
    """scikit-learn's input checks (shapes, NaNs, ``n_features_in_``), with the function this version has."""
    kwargs = {"reset": reset}
    args = (X,) if y is None else (X, y)
    if y is not None:
        kwargs["multi_output"] = multi_output
    try:
        from sklearn.utils.validation import validate_data  # scikit-learn >= 1.6
    except ImportError:
        return estimator._validate_data(*args, **kwargs)
    return validate_data(estimator, *args, **kwargs)


class _SKLearnBase(BaseEstimator):
    """What the three estimators share: building the model, fitting it, and scikit-learn's protocol."""

    _multi_output = True

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None):
        if sklearn is None:
            raise ImportError(f"{type(self).__name__} needs scikit-learn, which is not installed. Install it with "
                              "`pip install scikit-learn`.")
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"non_deterministic": True}

    def __sklearn_clone__(self):
        # The model template is shared, never trained itself (fit trains a clone of it), unless warm_start
        # asks for training it in place; a function is shared as it is.
        return type(self)(model=self.model, warm_start=self.warm_start,
                          model_kwargs=copy.deepcopy(self.model_kwargs), fit_kwargs=copy.deepcopy(self.fit_kwargs))

    @property
    def epoch_(self):
        """The number of epochs of the last fit."""
        history = getattr(self, "history_", None)
        return len(history.epoch) if history is not None else 0

    def _who(self, method):
        return f"{type(self).__name__}.{method}"

    def _build_model(self, X, y):
        from lamina.models.model import Model

        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if isinstance(self.model, Model):
            if self.warm_start:
                model = self.model
            else:
                model = self._clone(self.model)
        elif callable(self.model):
            model = self.model(X=X, y=y, **(self.model_kwargs or {}))
        else:
            raise ValueError(f"{self._who('fit')}: model must be a compiled lamina Model or a function returning "
                             f"one (called with X=..., y=... and model_kwargs), but received {self.model!r}.")
        if not isinstance(model, Model):
            raise ValueError(f"{self._who('fit')}: the model function {getattr(self.model, '__name__', '?')} "
                             f"returned {type(model).__name__}, not a lamina Model.")
        if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
            raise RuntimeError(f"{self._who('fit')}: the model '{model.name}' must be compiled with an optimizer "
                               "and a loss (call model.compile(optimizer=..., loss=...) before handing it over).")
        return model

    def _clone(self, model):
        from lamina.models.cloning import clone_model
        from lamina.saving.compile_config import compile_from_config, get_compile_config

        config = get_compile_config(model) if getattr(model, "compiled", False) else None
        clone = clone_model(model)
        if config:
            compile_from_config(clone, config, source=f"the model '{model.name}'")
        return clone

    def fit(self, X, y, **kwargs):
        """Fit the model on ``X`` (``(n_samples, n_features)``) and ``y``; ``kwargs`` go to ``model.fit`` (and
        win over ``fit_kwargs``). Returns ``self``."""
        X, y = _validate(self, X, y, reset=True, multi_output=self._multi_output)
        y = self._encode_targets(y, reset=True)
        model = self._build_model(X, y)
        fit_kwargs = {"verbose": 0, **(self.fit_kwargs or {}), **kwargs}
        self.history_ = model.fit(X, y, **fit_kwargs)
        self.model_ = model
        return self

    def _outputs(self, X, method):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "model_")
        X = _validate(self, X, reset=False)
        return np.asarray(self.model_.predict(X, verbose=0))

    def _encode_targets(self, y, reset=False):
        if reset:
            self._y_ndim = np.ndim(y)
        return np.reshape(y, (-1, 1)) if np.ndim(y) == 1 else y

    def _decode_outputs(self, out):
        return out[:, 0] if self._y_ndim == 1 and out.ndim == 2 and out.shape[1] == 1 else out


class SKLearnClassifier(ClassifierMixin, _SKLearnBase):
    """A scikit-learn classifier around a model.

    ``fit`` one-hot encodes the labels (any labels: strings, integers...; ``classes_`` holds them in order), so
    the model ends in one unit per class; ``predict`` returns the labels of the largest outputs and
    ``decision_function`` the model's raw outputs; ``score`` is the accuracy.

    Args:
        model: a compiled ``Model`` (cloned and compiled alike for each fit unless ``warm_start``), or a
            function ``model(X=..., y=..., **model_kwargs)`` returning a compiled model (``y`` one-hot).
        warm_start: continue training the same model on each ``fit``.
        model_kwargs: more keyword arguments for the model function.
        fit_kwargs: keyword arguments for ``model.fit`` (epochs, batch_size, ...).

    Example:
    >>> import numpy as np, lamina
    >>> def build(X, y):
    ...     model = lamina.Sequential([lamina.Input((X.shape[1],)), lamina.layers.Dense(y.shape[1], "softmax")])
    ...     model.compile(optimizer="adam", loss="categorical_crossentropy")
    ...     return model
    >>> clf = lamina.wrappers.SKLearnClassifier(build, fit_kwargs={"epochs": 2})
    >>> X = np.random.default_rng(0).normal(size=(30, 4)); y = np.array(["cat", "dog", "owl"] * 10)
    >>> clf.fit(X, y).classes_.tolist(), clf.predict(X[:2]).shape
    (['cat', 'dog', 'owl'], (2,))
    """

    _multi_output = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags

    def _more_tags(self):
        return {"non_deterministic": True, "poor_score": True}

    def _encode_targets(self, y, reset=False):
        from sklearn.utils.multiclass import type_of_target

        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"{self._who('fit')} expects one label per sample (binary or multiclass targets), but "
                             f"received targets of type {kind!r} with shape {np.shape(y)}.")
        if reset:
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError(f"{self._who('fit')}: the targets hold one class only ({self.classes_.tolist()}); "
                                 "a classifier needs at least two.")
        index = np.searchsorted(self.classes_, y)
        index = np.clip(index, 0, len(self.classes_) - 1)
        unknown = self.classes_[index] != y
        if np.any(unknown):
            raise ValueError(f"{self._who('fit')}: labels {np.unique(np.asarray(y)[unknown]).tolist()} were not "
                             f"seen in training (classes {self.classes_.tolist()}).")
        return np.eye(len(self.classes_), dtype="float32")[index]

    def predict(self, X):
        """The predicted labels (from ``classes_``) of ``X``."""
        out = self._outputs(X, "predict")
        if out.ndim != 2 or out.shape[1] != len(self.classes_):
            raise ValueError(f"{self._who('predict')}: the model outputs shape {out.shape}, but with "
                             f"{len(self.classes_)} classes it must output (n_samples, {len(self.classes_)}): one "
                             "unit per class.")
        return self.classes_[np.argmax(out, axis=1)]

    def decision_function(self, X):
        """The model's raw outputs for ``X`` (one column per class)."""
        return self._outputs(X, "decision_function")


class SKLearnRegressor(RegressorMixin, _SKLearnBase):
    """A scikit-learn regressor around a model: ``y`` of shape ``(n_samples,)`` or ``(n_samples, n_outputs)``;
    ``predict`` returns the same shape; ``score`` is R².

    Args: as ``SKLearnClassifier`` (the model function receives ``y`` as ``(n_samples, n_outputs)``).

    Example:
    >>> import numpy as np, lamina
    >>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> reg = lamina.wrappers.SKLearnRegressor(model, fit_kwargs={"epochs": 2})
    >>> X = np.ones((8, 3)); reg.fit(X, np.arange(8.0)).predict(X).shape
    (8,)
    """

    def predict(self, X):
        """The model's predictions for ``X``, shaped as the ``y`` of ``fit``."""
        return self._decode_outputs(self._outputs(X, "predict"))


class SKLearnTransformer(TransformerMixin, _SKLearnBase):
    """A scikit-learn transformer around a model: ``fit`` trains it, ``transform(X)`` returns its outputs (an
    embedding step in a ``Pipeline``, for example).

    Args: as ``SKLearnClassifier``.

    Example:
    >>> import numpy as np, lamina
    >>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> t = lamina.wrappers.SKLearnTransformer(model).fit(np.ones((4, 3)), np.zeros((4, 2)))
    >>> t.transform(np.ones((5, 3))).shape
    (5, 2)
    """

    def transform(self, X):
        """The model's outputs for ``X``."""
        return self._outputs(X, "transform")

    def fit_transform(self, X, y=None, **kwargs):
        if y is None:
            raise ValueError(f"{self._who('fit_transform')} needs targets y to train the model on.")
        return self.fit(X, y, **kwargs).transform(X)
