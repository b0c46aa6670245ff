"""lamina: the Keras API on PyTorch and JAX.

``import lamina as keras`` and write Keras code. The engine is chosen by the
``LAMINA_BACKEND`` environment variable (``torch``, the default, or ``jax``).

Example:
>>> import lamina
>>> model = lamina.Sequential([lamina.Input(shape=(4,)), lamina.layers.Dense(2)])
>>> model.output_shape
(None, 2)
"""

__version__ = "0.1.0"

from lamina import config  # noqa: F401
from lamina import backend  # noqa: F401
from lamina import ops, random, tree  # noqa: F401
from lamina import activations, constraints, initializers, regularizers  # noqa: F401
from lamina import layers  # noqa: F401
from lamina import losses, metrics, optimizers  # noqa: F401
from lamina import callbacks, datasets, models, preprocessing, saving, utils  # noqa: F401
from lamina import applications  # noqa: F401
from lamina import tuner  # noqa: F401
from lamina import pruning, quantizers  # noqa: F401  (issue #13: compression)
from lamina import distillation, distribution, export, legacy, wrappers  # noqa: F401
from lamina import dtype_policies, hub, mixed_precision  # noqa: F401
from lamina import visualization  # noqa: F401
from lamina.backend import KerasTensor, StatelessScope, SymbolicScope, Variable  # noqa: F401
from lamina.backend import device_scope as device  # noqa: F401
from lamina.backend.common.name_scope import name_scope  # noqa: F401
from lamina.dtype_policies import DTypePolicy, FloatDTypePolicy  # noqa: F401
from lamina.quantizers import Quantizer  # noqa: F401  (keras.Quantizer)
from lamina.initializers import Initializer  # noqa: F401
from lamina.losses import Loss  # noqa: F401
from lamina.metrics import Metric  # noqa: F401
from lamina.ops.function import Function  # noqa: F401
from lamina.optimizers import Optimizer  # noqa: F401
from lamina.regularizers import Regularizer  # noqa: F401
from lamina.layers import Input, InputSpec, Layer  # noqa: F401
from lamina.layers.remat import RematScope, remat  # noqa: F401
from lamina.models import Model, Sequential  # noqa: F401
from lamina.ops.operation import Operation  # noqa: F401


def version():
    """Return lamina's version string."""
    return __version__
