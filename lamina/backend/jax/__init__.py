"""The JAX backend. Every module here has a twin of the same name in ``backend/torch``."""

from lamina.backend.jax import core, linalg, nn, numpy, optimizers, random, trainer  # noqa: F401
from lamina.backend.jax.core import *  # noqa: F401,F403
from lamina.backend.jax import control_flow  # noqa: F401,E402
from lamina.backend.jax import math  # noqa: F401,E402,A004
from lamina.backend.jax import nn_extra  # noqa: F401,E402
from lamina.backend.jax import math_extra  # noqa: F401,E402
