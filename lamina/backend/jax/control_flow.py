"""Control flow and function transforms on JAX: ``jax.lax`` loops (traceable, compiled inside ``jax.jit``),
``jax.vmap`` and ``jax.custom_gradient``. Same names as ``backend/torch``.

Arguments are checked in ``lamina/ops/control_flow.py``; these functions assume valid input.
"""

import jax

from lamina import tree
from lamina.backend.common.variables import VariableBase
from lamina.backend.jax.core import convert_to_tensor


def _unwrap(structure):
    """Variables replaced by their values, Python numbers by tensors of lamina's dtypes (int32, float32: not
    the 64-bit types jax gives them with x64 on); arrays as they are."""
    def one(x):
        if isinstance(x, VariableBase):
            return x.value
        if isinstance(x, (bool, int, float)):
            return convert_to_tensor(x)
        return x

    return tree.map_structure(one, structure)


def _arrays(structure):
    return tree.map_structure(lambda x: None if x is None else convert_to_tensor(x), structure)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``carry, ys`` of ``f`` looped over the leading axis of ``xs`` (``jax.lax.scan``)."""
    return jax.lax.scan(f, _unwrap(init), None if xs is None else _arrays(xs), length=length, reverse=reverse,
                        unroll=unroll)


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive prefix scan of the associative ``f`` along ``axis`` (``jax.lax.associative_scan``)."""
    return jax.lax.associative_scan(f, _arrays(elems), reverse=reverse, axis=axis)


def fori_loop(lower, upper, body_fun, init_val):
    """``body_fun(i, val)`` for ``i`` in ``range(lower, upper)`` (``jax.lax.fori_loop``)."""
    return jax.lax.fori_loop(lower, upper, body_fun, _unwrap(init_val))


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Apply ``body`` while ``cond`` holds (and fewer than ``maximum_iterations`` steps ran), by
    ``jax.lax.while_loop``."""
    is_seq = isinstance(loop_vars, (tuple, list))
    state = _unwrap(tuple(loop_vars) if is_seq else (loop_vars,))

    def as_tuple(out):
        return tuple(out) if isinstance(out, (tuple, list)) else (out,)

    if maximum_iterations is None:
        out = jax.lax.while_loop(lambda s: cond(*s), lambda s: as_tuple(body(*s)), state)
    else:
        def cond_fn(s):
            return jax.numpy.logical_and(cond(*s[0]), s[1] < maximum_iterations)

        def body_fn(s):
            return as_tuple(body(*s[0])), s[1] + 1

        out, _ = jax.lax.while_loop(cond_fn, body_fn, (state, 0))
    return type(loop_vars)(out) if is_seq else out[0]


def switch(index, branches, *operands):
    """``branches[index](*operands)`` with ``index`` clamped into range (``jax.lax.switch``)."""
    return jax.lax.switch(index, branches, *operands)


def map(f, xs):  # noqa: A001  (the Keras name)
    """``f`` applied to each slice of ``xs`` along the leading axis, results stacked (``jax.lax.map``)."""
    return jax.lax.map(f, _arrays(xs))


def vectorized_map(function, elements):
    """``function`` mapped over the leading axis of ``elements`` (``jax.vmap``)."""
    return jax.vmap(function)(_arrays(elements))


def custom_gradient(f):
    """``f(*args) -> (output, grad_fn)`` as a function whose gradient is ``grad_fn(upstream)``
    (``jax.custom_gradient``); ``grad_fn`` returns one gradient per (flattened) argument."""

    def fun(*args):
        out, grad_fn = f(*args)

        def vjp(upstream):
            grads = grad_fn(upstream)
            grads = list(grads) if isinstance(grads, (list, tuple)) else [grads]
            if len(grads) == len(tree.flatten(args)) and len(grads) != len(args):
                return tuple(tree.pack_sequence_as(list(args), grads))
            return tuple(grads)

        return out, vjp

    with_grad = jax.custom_gradient(fun)

    def wrapped(*args):
        return with_grad(*_unwrap(args))

    return wrapped
