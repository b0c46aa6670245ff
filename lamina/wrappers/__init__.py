"""``lamina.wrappers``: scikit-learn-style estimators around models. ``lamina.wrappers.scikit_learn`` has Keras 2's
``KerasClassifier`` / ``KerasRegressor``, which tutorials pass to scikit-learn's ``cross_val_score`` and
``GridSearchCV``; ``SKLearnClassifier`` / ``SKLearnRegressor`` / ``SKLearnTransformer`` are Keras 3's (they need
scikit-learn installed)."""

from lamina.wrappers import scikit_learn  # noqa: F401
from lamina.wrappers.sklearn_wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer  # noqa: F401
