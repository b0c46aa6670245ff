"""``lamina.optimizers.legacy``: the ``tf.keras.optimizers.legacy`` names that TensorFlow-era code (and its
tutorials for Apple-silicon Macs) still imports. Each is the current optimizer of that name, with a
DeprecationWarning naming it. (Keras 3 raises an error for these; lamina runs the code.)"""

import warnings

from lamina.optimizers import adam as _adam
from lamina.optimizers import adaptive as _adaptive
from lamina.optimizers import optimizer as _optimizer
from lamina.optimizers import sgd as _sgd


def _warn(name):
    warnings.warn(f"lamina.optimizers.legacy.{name} is the Keras 2-era name; it runs lamina.optimizers.{name} "
                  f"(use that name).", DeprecationWarning, stacklevel=3)


def _legacy(base):
    def __init__(self, *args, **kwargs):
        _warn(base.__name__)
        base.__init__(self, *args, **kwargs)

    return type(base.__name__, (base,), {"__init__": __init__, "__module__": __name__,
                                         "__doc__": f"``lamina.optimizers.{base.__name__}`` under its Keras 2 name."})


Optimizer = _optimizer.Optimizer
SGD = _legacy(_sgd.SGD)
Adam = _legacy(_adam.Adam)
RMSprop = _legacy(_adaptive.RMSprop)
Adagrad = _legacy(_adaptive.Adagrad)
Ftrl = _legacy(_adaptive.Ftrl)
