"""``lamina.tuner``: hyperparameter search with Keras Tuner's API, on Optuna.

Needs Optuna: ``pip install lamina[tuner]``. Optuna is imported only when a tuner is created.

Example:
>>> import lamina
>>> from lamina import tuner
>>> def build_model(hp):
...     model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(hp.Int("units", 1, 8))])
...     model.compile(optimizer=lamina.optimizers.SGD(hp.Float("lr", 1e-3, 1e-1, sampling="log")), loss="mse")
...     return model
>>> t = tuner.RandomSearch(build_model, objective="val_loss", max_trials=5)   # doctest: +SKIP
>>> t.search(x, y, epochs=3, validation_data=(xv, yv))   # prints each trial; verbose=0: nothing  # doctest: +SKIP
>>> t.plot_history("search.png")   # each trial's val_loss and the best so far (matplotlib)  # doctest: +SKIP
"""

from lamina.tuner.errors import (  # noqa: F401
    FailedTrialError, FatalError, FatalRuntimeError, FatalTypeError, FatalValueError)
from lamina.tuner.hypermodel import HyperModel  # noqa: F401
from lamina.tuner.hyperparameters import HyperParameter, HyperParameters  # noqa: F401
from lamina.tuner.objective import Objective, infer_direction  # noqa: F401
from lamina.tuner.oracle import Oracle, Trial  # noqa: F401
from lamina.tuner.tuner import Tuner  # noqa: F401
from lamina.tuner.tuners import BayesianOptimization, GridSearch, Hyperband, RandomSearch  # noqa: F401
