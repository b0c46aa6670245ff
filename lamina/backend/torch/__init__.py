"""The PyTorch backend. Every module here has a twin of the same name in ``backend/jax``."""

from lamina.backend.torch import core, linalg, nn, numpy, optimizers, random, trainer  # noqa: F401
from lamina.backend.torch.core import *  # noqa: F401,F403
from lamina.backend.torch import control_flow  # noqa: F401,E402
from lamina.backend.torch import math  # noqa: F401,E402,A004
from lamina.backend.torch import nn_extra  # noqa: F401,E402
from lamina.backend.torch import math_extra  # noqa: F401,E402
