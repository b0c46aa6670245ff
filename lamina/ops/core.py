"""Core ops: conversion, casting, shapes, gradients stops and control flow."""

from lamina import backend
from lamina.backend.common.keras_tensor import KerasTensor
from lamina.ops.operation import op


def convert_to_tensor(x, dtype=None, sparse=None):
    """Return ``x`` as an engine tensor (torch.Tensor or jax.Array).

    Example:
    >>> from lamina import ops
    >>> ops.is_tensor(ops.convert_to_tensor([1.0, 2.0]))
    True
    """
    return backend.convert_to_tensor(x, dtype)


def convert_to_numpy(x):
    """Return ``x`` as a NumPy array.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.ones((2,))).tolist()
    [1.0, 1.0]
    """
    return backend.convert_to_numpy(x)


def is_tensor(x):
    """Return True when ``x`` is a tensor of the current engine.

    Example:
    >>> from lamina import ops
    >>> ops.is_tensor([1, 2])
    False
    """
    return backend.is_tensor(x)


def shape(x):
    """Return the shape of ``x`` as a tuple (None for unknown symbolic dimensions).

    Example:
    >>> from lamina import ops
    >>> ops.shape(ops.zeros((2, 3)))
    (2, 3)
    """
    if isinstance(x, KerasTensor) or hasattr(x, "shape"):
        return tuple(x.shape)
    return tuple(backend.convert_to_tensor(x).shape)


def dtype(x):
    """Return the dtype name of ``x``.

    Example:
    >>> from lamina import ops
    >>> ops.dtype(ops.zeros((2,)))
    'float32'
    """
    if isinstance(x, KerasTensor):
        return x.dtype
    return backend.dtype_name(x)


@op
def cast(x, dtype):
    """Cast ``x`` to ``dtype``.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.cast([1.7, 2.2], "int32")).tolist()
    [1, 2]
    """
    return backend.core.cast(x, dtype)


@op
def stop_gradient(x):
    """Return ``x`` unchanged, but with no gradient flowing through it.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.stop_gradient([1.0])).tolist()
    [1.0]
    """
    return backend.core.stop_gradient(x)


def cond(pred, true_fn, false_fn):
    """Return ``true_fn()`` if ``pred`` else ``false_fn()`` (traceable on JAX).

    Example:
    >>> from lamina import ops
    >>> ops.cond(True, lambda: 1, lambda: 2)
    1
    """
    return backend.core.cond(pred, true_fn, false_fn)


def value_and_grad(fn, variables, has_aux=False):
    """Return a function that calls ``fn`` and returns ``(value, gradients)``: the gradients of ``fn``'s scalar
    value with respect to ``variables`` (lamina Variables that ``fn`` reads, e.g. ``model.trainable_variables``).

    The same code runs on both backends, so a custom ``train_step`` written with it works on PyTorch and JAX. With
    ``has_aux=True``, ``fn`` returns ``(value, aux)`` and the result is ``((value, aux), gradients)``. Variables
    that ``fn`` assigns (BatchNormalization statistics, dropout seeds) keep their new values.

    Example:
    >>> import lamina
    >>> from lamina import ops
    >>> w = lamina.Variable([1.0, 2.0])
    >>> value, grads = ops.value_and_grad(lambda: ops.sum(w * w), [w])()
    >>> float(value), ops.convert_to_numpy(grads[0]).tolist()
    (5.0, [2.0, 4.0])
    """
    if not callable(fn):
        raise TypeError(f"value_and_grad: fn must be callable, but received {type(fn).__name__}.")
    variables = list(variables)
    bad = [v for v in variables if not isinstance(v, backend.VariableBase)]
    if bad:
        raise TypeError("value_and_grad: variables must be lamina Variables (e.g. model.trainable_variables), "
                        f"but received a {type(bad[0]).__name__}.")
    return backend.core.value_and_grad(fn, variables, has_aux=has_aux)
