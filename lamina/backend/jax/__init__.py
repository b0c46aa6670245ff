"""The JAX backend. Every module here has a twin of the same name in ``backend/torch``."""

from lamina.backend.jax import core, linalg, nn, numpy, optimizers, random, trainer  # noqa: F401
from lamina.backend.jax.core import *  # noqa: F401,F403
