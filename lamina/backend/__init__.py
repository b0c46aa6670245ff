"""The engine layer: the only place in lamina that imports torch or jax.

``lamina.backend`` also serves as the Keras-style backend module users import as
``K`` (``from lamina import backend as K``): ``K.epsilon()``, ``K.floatx()``,
``K.set_value``, ``K.dot`` ... (the Keras 2 tensor functions warn and point to
``lamina.ops``).

The engine is chosen once, at import time, by ``lamina.config.backend()``.
Both engines export the same module and function names:
``core`` (Variable, conversion, tracing), ``numpy``, ``nn``, ``linalg``, ``random``.
"""

from lamina import config as _config
from lamina.backend.common.dtypes import (  # noqa: F401
    is_float_dtype,
    is_int_dtype,
    result_type,
    standardize_dtype,
)
from lamina.backend.common.keras_tensor import KerasTensor, any_symbolic, is_keras_tensor  # noqa: F401
from lamina.backend.common.scopes import StatelessScope, SymbolicScope  # noqa: F401
from lamina.backend.common.variables import VariableBase  # noqa: F401

if _config.backend() == "jax":
    from lamina.backend import jax as engine
    from lamina.backend.jax import export  # noqa: F401  (model.export, #13)
else:
    from lamina.backend import torch as engine
    from lamina.backend.torch import export  # noqa: F401  (model.export, #13)

core = engine.core
numpy = engine.numpy
nn = engine.nn
linalg = engine.linalg
random = engine.random

Variable = core.Variable
convert_to_tensor = core.convert_to_tensor
convert_to_numpy = core.convert_to_numpy
is_tensor = core.is_tensor
compute_output_spec = core.compute_output_spec
device_scope = core.device_scope
dtype_name = core.dtype_name


def backend():
    """Return the engine's name, ``"torch"`` or ``"jax"`` (Keras's ``K.backend()``)."""
    return _config.backend()


from lamina.backend.legacy import *  # noqa: E402,F401,F403  (Keras 2-era K.* functions)


def __getattr__(name):  # K.placeholder, K.gradients ... (TensorFlow 1 only): say what replaces them
    from lamina.backend.legacy import removed_attribute

    raise removed_attribute(name)


def get_uid(prefix=""):
    """The next integer id for ``prefix``, starting at 1 (as Keras's ``backend.get_uid``).

    Example:
    >>> import lamina
    >>> a = lamina.backend.get_uid("block"); lamina.backend.get_uid("block") - a
    1
    """
    from lamina.utils.naming import get_uid as _get_uid

    return _get_uid(prefix)
