"""Exception types that both Python's convention and Keras's code catch.

Keras raises ValueError for an unknown constructor argument and for ``fit`` before ``compile``; Python raises
TypeError for an unexpected keyword argument, and lamina used RuntimeError for a model that is not compiled.
These classes derive from both, so ``except ValueError`` (Keras code) and ``except TypeError`` /
``except RuntimeError`` (Python habits, lamina's earlier releases) all catch them.

Example:
>>> import lamina
>>> try:
...     lamina.layers.Dense(3, units_typo=1)
... except ValueError as e:
...     print(type(e).__name__)
UnexpectedArgumentError
"""


class UnexpectedArgumentError(TypeError, ValueError):
    """An argument a constructor or function does not take (a TypeError and, as Keras raises, a ValueError)."""


class NotCompiledError(RuntimeError, ValueError):
    """A training or evaluation method of a model that was not compiled (a RuntimeError and, as Keras raises,
    a ValueError)."""
