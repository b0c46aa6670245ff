"""Control flow and function transforms: ``scan``, ``associative_scan``, ``fori_loop``, ``while_loop``,
``switch``, ``map``, ``vectorized_map`` and ``custom_gradient`` (as ``keras.ops``).

On JAX they are ``jax.lax`` primitives, so they trace into compiled (``jit``) steps; on PyTorch they are Python
loops over eager tensors. Each also works on symbolic ``KerasTensor``s: the output shapes and dtypes come from
tracing the user's function once on one element, as Keras does.
"""

import functools
import inspect
import numbers

from lamina import backend, tree
from lamina.backend.common.keras_tensor import KerasTensor, any_symbolic
from lamina.ops.operation import Operation

__all__ = ["scan", "associative_scan", "fori_loop", "while_loop", "switch", "map", "vectorized_map",
           "custom_gradient"]


def _engine():
    return backend.engine.control_flow


class _SpecOperation(Operation):
    """A graph node for a control-flow op: ``fn`` runs it, ``spec_fn`` gives its symbolic outputs."""

    def __init__(self, name, fn, spec_fn):
        from lamina.utils.naming import uniquify

        super().__init__(name=uniquify(name))
        self.fn, self.spec_fn = fn, spec_fn

    def call(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def compute_output_spec(self, *args, **kwargs):
        return self.spec_fn(*args, **kwargs)

    def get_config(self):
        return {"name": self.name, "function": getattr(self.fn, "__name__", "op")}


def _symbolic(name, fn, spec_fn, *args, **kwargs):
    return _SpecOperation(name, fn, spec_fn).symbolic_call(*args, **kwargs)


# ---- argument checks and symbolic helpers -----------------------------------

def _shape_of(x):
    if isinstance(x, KerasTensor) or hasattr(x, "shape"):
        return tuple(x.shape)
    return tuple(backend.convert_to_tensor(x).shape)


def _dtype_of(x):
    if isinstance(x, KerasTensor):
        return x.dtype
    return backend.dtype_name(x if hasattr(x, "shape") else backend.convert_to_tensor(x))


def _spec(x):
    """A new KerasTensor with the shape and dtype of ``x`` (a tensor, array, number or KerasTensor)."""
    if x is None:
        return None
    return KerasTensor(_shape_of(x), dtype=_dtype_of(x))


def _element_spec(x):
    """The spec of one slice of ``x`` along its leading axis."""
    s = _spec(x)
    return KerasTensor(s.shape[1:], dtype=s.dtype)


def _stacked_spec(n, y):
    """``y``'s spec with a leading axis of size ``n``."""
    s = _spec(y)
    return KerasTensor((n,) + tuple(s.shape), dtype=s.dtype)


def _check_callable(op_name, arg_name, fn):
    if not callable(fn):
        raise TypeError(f"{op_name}: expected `{arg_name}` to be a callable, but received "
                        f"{type(fn).__name__} ({fn!r}).")


def _leading_size(op_name, arg_name, structure):
    """The common leading-axis size of the tensors in ``structure`` (None when unknown)."""
    leaves = tree.flatten(structure)
    if not leaves:
        raise ValueError(f"{op_name}: expected `{arg_name}` to hold at least one tensor, but received {structure!r}.")
    shapes = [_shape_of(t) for t in leaves]
    if any(len(s) == 0 for s in shapes):
        raise ValueError(f"{op_name}: expected every tensor in `{arg_name}` to have a leading axis to loop over, "
                         f"but received shapes {shapes}.")
    sizes = {s[0] for s in shapes if s[0] is not None}
    if len(sizes) > 1:
        raise ValueError(f"{op_name}: expected every tensor in `{arg_name}` to have the same leading dimension, "
                         f"but received shapes {shapes}.")
    return sizes.pop() if sizes else None


# ---- scan -------------------------------------------------------------------

def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loop ``f`` over the leading axis of ``xs`` while carrying a state: ``(carry, ys)``.

    Equivalent to::

        carry = init; ys = []
        for x in xs:            # or `length` times with x = None when xs is None
            carry, y = f(carry, x)
            ys.append(y)
        return carry, stack(ys)

    ``init``, ``xs`` and the outputs may be nested structures (lists, tuples, dicts). The carry must keep its
    structure, shapes and dtypes. ``reverse=True`` loops from the end (``ys`` stays in input order).
    ``unroll`` (a positive int or bool) unrolls iterations on JAX and is ignored on PyTorch.

    Example:
    >>> from lamina import ops
    >>> carry, ys = ops.scan(lambda c, x: (c + x, c + x), 0, ops.convert_to_tensor([1, 2, 3, 4, 5]))
    >>> int(carry), ops.convert_to_numpy(ys).tolist()
    (15, [1, 3, 6, 10, 15])
    """
    _check_callable("scan", "f", f)
    if not isinstance(unroll, bool) and (not isinstance(unroll, numbers.Integral) or unroll < 1):
        raise ValueError(f"scan: expected `unroll` to be a positive integer or a bool, but received {unroll!r}.")
    if xs is None and length is None:
        raise ValueError("scan: expected `xs` to loop over or an integer `length`, but received neither "
                         "(xs=None, length=None).")
    if length is not None and (isinstance(length, bool) or not isinstance(length, numbers.Integral) or length < 0):
        raise ValueError(f"scan: expected `length` to be a non-negative integer, but received {length!r}.")
    if xs is not None:
        n = _leading_size("scan", "xs", xs)
        if length is not None and n is not None and n != length:
            raise ValueError(f"scan: `length`={length} does not match the leading dimension {n} of `xs`.")
    if any_symbolic((init, xs), {}):
        return _symbolic("scan", _scan_call, _scan_spec, f, init, xs, length, reverse, unroll)
    return _scan_call(f, init, xs, length, reverse, unroll)


def _scan_call(f, init, xs, length, reverse, unroll):
    return _engine().scan(f, init, xs, length=length, reverse=reverse, unroll=unroll)


def _scan_spec(f, init, xs, length, reverse, unroll):
    if xs is None:
        n, x = length, None
    else:
        n = length if length is not None else _leading_size("scan", "xs", xs)
        x = tree.map_structure(_element_spec, xs)
    carry, y = backend.compute_output_spec(f, tree.map_structure(_spec, init), x)
    carry = tree.map_structure(_spec, carry)
    return carry, (None if y is None else tree.map_structure(lambda t: _stacked_spec(n, t), y))


# ---- associative_scan ---------------------------------------------------------

def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan of an associative binary ``f`` along ``axis``: ``[a, f(a, b), f(f(a, b), c), ...]``.

    ``f(a, b)`` must satisfy ``f(a, f(b, c)) == f(f(a, b), c)`` and work element-wise over slices of
    ``elems`` (which may be a nested structure) along ``axis``; it is called O(log n) times on whole slices,
    so it runs in parallel. ``reverse=True`` scans from the end.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.associative_scan(lambda a, b: a + b, ops.arange(5))).tolist()
    [0, 1, 3, 6, 10]
    """
    _check_callable("associative_scan", "f", f)
    leaves = tree.flatten(elems)
    if not leaves:
        raise ValueError(f"associative_scan: expected `elems` to hold at least one tensor, but received {elems!r}.")
    shapes = [_shape_of(t) for t in leaves]
    for s in shapes:
        if not -len(s) <= axis < len(s):
            raise ValueError(f"associative_scan: `axis`={axis} is out of range for elems of shapes {shapes}.")
    sizes = {s[axis] for s in shapes if s[axis] is not None}
    if len(sizes) > 1:
        raise ValueError("associative_scan: expected every tensor in `elems` to have the same size along "
                         f"axis {axis}, but received shapes {shapes}.")
    if any_symbolic((elems,), {}):
        return _symbolic("associative_scan", _associative_scan_call, _associative_scan_spec, f, elems, reverse,
                         axis)
    return _associative_scan_call(f, elems, reverse, axis)


def _associative_scan_call(f, elems, reverse, axis):
    return _engine().associative_scan(f, elems, reverse=reverse, axis=axis)


def _associative_scan_spec(f, elems, reverse, axis):
    def one(t):
        s = _spec(t)
        shape = list(s.shape)
        shape[axis] = 1
        return KerasTensor(shape, dtype=s.dtype)

    out = backend.compute_output_spec(f, tree.map_structure(one, elems), tree.map_structure(one, elems))
    return tree.map_structure(lambda o, e: KerasTensor(_spec(e).shape, dtype=_spec(o).dtype),
                              tree.pack_sequence_as(elems, tree.flatten(out)), elems)


# ---- loops --------------------------------------------------------------------

def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` from ``lower`` to ``upper - 1``; returns the final ``val``.

    ``init_val`` may be a nested structure; ``body_fun`` must keep its structure, shapes and dtypes. On JAX this
    is ``jax.lax.fori_loop`` (``i`` is a traced integer).

    Example:
    >>> from lamina import ops
    >>> int(ops.fori_loop(0, 10, lambda i, s: s + i, 0))
    45
    """
    _check_callable("fori_loop", "body_fun", body_fun)
    for name, v in (("lower", lower), ("upper", upper)):
        if isinstance(v, (float, bool)) or (not isinstance(v, numbers.Integral) and not hasattr(v, "shape")):
            raise TypeError(f"fori_loop: expected `{name}` to be an integer, but received {v!r}.")
    if any_symbolic((lower, upper, init_val), {}):
        return _symbolic("fori_loop", _fori_call, _fori_spec, lower, upper, body_fun, init_val)
    return _fori_call(lower, upper, body_fun, init_val)


def _fori_call(lower, upper, body_fun, init_val):
    return _engine().fori_loop(lower, upper, body_fun, init_val)


def _fori_spec(lower, upper, body_fun, init_val):
    return tree.map_structure(_spec, init_val)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Apply ``body`` to ``loop_vars`` while ``cond(loop_vars)`` is true; return the final ``loop_vars``.

    When ``loop_vars`` is a tuple or list its items are passed positionally to ``cond`` and ``body``, and
    ``body`` returns a structure like it (same shapes and dtypes). ``maximum_iterations`` stops the loop after
    that many steps even if ``cond`` still holds. On JAX this is ``jax.lax.while_loop``.

    Example:
    >>> from lamina import ops
    >>> int(ops.while_loop(lambda i: i < 10, lambda i: i + 1, 0))
    10
    >>> [int(v) for v in ops.while_loop(lambda x, y: x < 10, lambda x, y: (x + 1, y + 2), (0, 1))]
    [10, 21]
    """
    _check_callable("while_loop", "cond", cond)
    _check_callable("while_loop", "body", body)
    if maximum_iterations is not None and (isinstance(maximum_iterations, bool) or not isinstance(
            maximum_iterations, numbers.Integral) or maximum_iterations < 0):
        raise ValueError("while_loop: expected `maximum_iterations` to be None or a non-negative integer, but "
                         f"received {maximum_iterations!r}.")
    if any_symbolic((loop_vars,), {}):
        return _symbolic("while_loop", _while_call, _while_spec, cond, body, loop_vars, maximum_iterations)
    return _while_call(cond, body, loop_vars, maximum_iterations)


def _while_call(cond, body, loop_vars, maximum_iterations):
    return _engine().while_loop(cond, body, loop_vars, maximum_iterations=maximum_iterations)


def _while_spec(cond, body, loop_vars, maximum_iterations):
    return tree.map_structure(_spec, loop_vars)


def switch(index, branches, *operands):
    """Call ``branches[index](*operands)``; an out-of-range ``index`` is clamped to the first or last branch.

    On JAX this is ``jax.lax.switch``, so ``index`` may be a traced integer. Symbolically, the output spec is
    that of the first branch (every branch must give the same shapes and dtypes).

    Example:
    >>> from lamina import ops
    >>> branches = [lambda x, y: x + y, lambda x, y: x - y]
    >>> float(ops.switch(1, branches, 2.0, 0.5)), float(ops.switch(5, branches, 2.0, 0.5))
    (1.5, 1.5)
    """
    if isinstance(branches, (str, bytes)) or not isinstance(branches, (list, tuple)) or not branches:
        raise ValueError(f"switch: expected `branches` to be a non-empty list or tuple of callables, but received "
                         f"{branches!r}.")
    for i, b in enumerate(branches):
        _check_callable("switch", f"branches[{i}]", b)
    if isinstance(index, (float, bool)):
        raise TypeError(f"switch: expected `index` to be an integer scalar, but received {index!r}.")
    if any_symbolic((index,) + operands, {}):
        return _symbolic("switch", _switch_call, _switch_spec, index, list(branches), *operands)
    return _switch_call(index, list(branches), *operands)


def _switch_call(index, branches, *operands):
    return _engine().switch(index, branches, *operands)


def _switch_spec(index, branches, *operands):
    return backend.compute_output_spec(branches[0], *operands)


def map(f, xs):  # noqa: A001  (the Keras name)
    """Apply ``f`` to each slice of ``xs`` along its leading axis and stack the results (``xs`` and the
    outputs may be nested structures). One call per element: use ``vectorized_map`` when ``f`` batches.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.map(lambda x: x ** 2, ops.arange(5))).tolist()
    [0, 1, 4, 9, 16]
    """
    _check_callable("map", "f", f)
    _leading_size("map", "xs", xs)
    if any_symbolic((xs,), {}):
        return _symbolic("map", _map_call, _map_spec, f, xs)
    return _map_call(f, xs)


def _map_call(f, xs):
    return _engine().map(f, xs)


def _map_spec(f, xs):
    n = _leading_size("map", "xs", xs)
    y = backend.compute_output_spec(f, tree.map_structure(_element_spec, xs))
    return tree.map_structure(lambda t: _stacked_spec(n, t), y)


def vectorized_map(function, elements):
    """Map ``function`` over axis 0 of ``elements`` in parallel, stacking the results.

    For a list or tuple of tensors, ``function`` receives a list (tuple) of their slices. On JAX this is
    ``jax.vmap``; on PyTorch ``torch.func.vmap``, falling back to a loop when ``function`` cannot be batched.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.vectorized_map(lambda x: ops.sum(x), ops.ones((3, 4)))).tolist()
    [4.0, 4.0, 4.0]
    """
    _check_callable("vectorized_map", "function", function)
    _leading_size("vectorized_map", "elements", elements)
    if any_symbolic((elements,), {}):
        return _symbolic("vectorized_map", _vmap_call, _vmap_spec, function, elements)
    return _vmap_call(function, elements)


def _vmap_call(function, elements):
    return _engine().vectorized_map(function, elements)


def _vmap_spec(function, elements):
    return _map_spec(function, elements)


# ---- custom_gradient -------------------------------------------------------------

def _call_grad_fn(grad_fn, args, upstream):
    """Call a user's ``grad_fn`` in whichever Keras convention it was written for: ``grad(upstream)``
    (JAX/TensorFlow), ``grad(*args, upstream)`` (PyTorch) or ``grad(*args, upstream=None)`` (both)."""
    try:
        params = inspect.signature(grad_fn).parameters
    except (TypeError, ValueError):
        return grad_fn(upstream)
    up = params.get("upstream")
    if up is not None and up.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
        if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params.values()):
            return grad_fn(*args, upstream=upstream)
        return grad_fn(upstream=upstream)
    return grad_fn(upstream)


def custom_gradient(f):
    """Decorator: a function whose gradient you write yourself.

    ``f(*args)`` returns ``(output, grad_fn)``; the decorated function returns ``output``, and its gradient
    with respect to ``args`` is what ``grad_fn`` returns for the upstream gradient (one gradient per flattened
    argument, as a tuple, or a single tensor for one argument). ``grad_fn`` may be written in any Keras
    convention, on either engine: ``grad(upstream)``, ``grad(*args, upstream)`` or
    ``grad(*args, upstream=None)``. It works with ``lamina.ops.value_and_grad``, ``jax.grad`` and
    ``torch.autograd`` alike, and symbolically.

    Example:
    >>> import lamina
    >>> from lamina import ops
    >>> @ops.custom_gradient
    ... def clipped_identity(x):
    ...     return x, lambda upstream: ops.clip(upstream, -1.0, 1.0)
    >>> w = lamina.Variable([1.0, 2.0])
    >>> value, grads = ops.value_and_grad(lambda: ops.sum(clipped_identity(w) * 5.0), [w])()
    >>> float(value), ops.convert_to_numpy(grads[0]).tolist()
    (15.0, [1.0, 1.0])
    """
    _check_callable("custom_gradient", "f", f)
    name = getattr(f, "__name__", "custom_gradient")

    def forward(*args, **kwargs):
        result = f(*args, **kwargs)
        if not isinstance(result, (tuple, list)) or len(result) != 2 or not callable(result[1]):
            raise ValueError(f"custom_gradient: expected the decorated function {name!r} to return a pair "
                             f"(output, grad_fn) with a callable grad_fn, but it returned "
                             f"{type(result).__name__} {result!r:.200}.")
        output, grad_fn = result
        flat_args = tree.flatten(args)
        return output, lambda upstream: _call_grad_fn(grad_fn, flat_args, upstream)

    plain = _engine().custom_gradient(forward)

    def call(*args, **kwargs):
        if kwargs:
            return _engine().custom_gradient(functools.partial(forward, **kwargs))(*args)
        return plain(*args)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        if any_symbolic(args, kwargs):
            return _symbolic(name, call, lambda *a, **k: backend.compute_output_spec(call, *a, **k),
                             *args, **kwargs)
        return call(*args, **kwargs)

    return wrapper
