"""The PyTorch backend. Every module here has a twin of the same name in ``backend/jax``."""

from lamina.backend.torch import core, linalg, nn, numpy, optimizers, random, trainer  # noqa: F401
from lamina.backend.torch.core import *  # noqa: F401,F403
