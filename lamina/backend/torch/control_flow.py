"""Control flow and function transforms on PyTorch: Python loops over eager tensors (``torch.func.vmap`` for
``vectorized_map``, ``torch.autograd.Function`` for ``custom_gradient``). Same names as ``backend/jax``.

Arguments are checked in ``lamina/ops/control_flow.py``; these functions assume valid input.
"""

import torch

from lamina import tree
from lamina.backend.common.variables import VariableBase
from lamina.backend.torch.core import convert_to_tensor


def _leaf_to_tensor(x):
    if x is None:
        return None
    return convert_to_tensor(x)


def _stack(items):
    """Stack a list of same-structured outputs leaf by leaf along a new leading axis."""
    if not items or items[0] is None:
        return None
    return tree.map_structure(lambda *leaves: torch.stack([convert_to_tensor(t) for t in leaves]), *items)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``carry, ys`` of ``f`` looped over the leading axis of ``xs`` (``unroll`` changes nothing here)."""
    if xs is None:
        xs_flat, n = [], int(length)
    else:
        xs_flat = [convert_to_tensor(t) for t in tree.flatten(xs)]
        n = int(length) if length is not None else int(xs_flat[0].shape[0])
    carry = tree.map_structure(_leaf_to_tensor, init)
    ys = []
    for i in (range(n - 1, -1, -1) if reverse else range(n)):
        x = None if xs is None else tree.pack_sequence_as(xs, [t[i] for t in xs_flat])
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, _stack(ys)


def _take(t, start, stop, step, axis):
    index = [slice(None)] * t.ndim
    index[axis] = slice(start, stop, step)
    return t[tuple(index)]


def _interleave(even, odd, axis):
    """Merge ``even`` (positions 0, 2, ...) and ``odd`` (1, 3, ...) along ``axis``."""
    n_odd = odd.shape[axis]
    head = torch.stack([_take(even, 0, n_odd, None, axis), odd], dim=axis + 1)
    shape = list(even.shape)
    shape[axis] = 2 * n_odd
    head = head.reshape(shape)
    if even.shape[axis] > n_odd:
        head = torch.cat([head, _take(even, n_odd, None, None, axis)], dim=axis)
    return head


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive prefix scan of the associative ``f`` along ``axis``, in O(log n) calls of ``f``."""
    flat = [convert_to_tensor(t) for t in tree.flatten(elems)]
    axis = axis % flat[0].ndim
    if reverse:
        flat = [torch.flip(t, (axis,)) for t in flat]

    def combine(a, b):
        out = f(tree.pack_sequence_as(elems, a), tree.pack_sequence_as(elems, b))
        return [convert_to_tensor(t) for t in tree.flatten(out)]

    def prefix(parts):
        n = parts[0].shape[axis]
        if n < 2:
            return parts
        pairs = combine([_take(t, 0, n - 1, 2, axis) for t in parts], [_take(t, 1, None, 2, axis) for t in parts])
        odd = prefix(pairs)  # prefixes ending at positions 1, 3, 5, ...
        later_even = [_take(t, 2, None, 2, axis) for t in parts]
        left = [_take(o, 0, later_even[0].shape[axis], None, axis) for o in odd]
        even = combine(left, later_even) if later_even[0].shape[axis] else later_even
        even = [torch.cat([_take(t, 0, 1, None, axis), e], dim=axis) for t, e in zip(parts, even)]
        return [_interleave(e, o, axis) for e, o in zip(even, odd)]

    out = prefix(flat)
    if reverse:
        out = [torch.flip(t, (axis,)) for t in out]
    return tree.pack_sequence_as(elems, out)


def fori_loop(lower, upper, body_fun, init_val):
    """``body_fun(i, val)`` for ``i`` in ``range(lower, upper)``."""
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Apply ``body`` while ``cond`` holds (and fewer than ``maximum_iterations`` steps ran)."""
    is_seq = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if is_seq else (loop_vars,)
    state = tree.map_structure(_leaf_to_tensor, state)
    steps = 0
    while (maximum_iterations is None or steps < maximum_iterations) and bool(cond(*state)):
        state = body(*state)
        state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
        steps += 1
    return (type(loop_vars)(state) if is_seq else state[0])


def switch(index, branches, *operands):
    """``branches[index](*operands)`` with ``index`` clamped into range."""
    i = int(convert_to_tensor(index).item()) if not isinstance(index, int) else index
    return branches[min(max(i, 0), len(branches) - 1)](*operands)


def map(f, xs):  # noqa: A001  (the Keras name)
    """``f`` applied to each slice of ``xs`` along the leading axis, results stacked."""
    flat = [convert_to_tensor(t) for t in tree.flatten(xs)]
    n = int(flat[0].shape[0])
    return _stack([f(tree.pack_sequence_as(xs, [t[i] for t in flat])) for i in range(n)])


def vectorized_map(function, elements):
    """``function`` mapped over the leading axis of ``elements``: ``torch.func.vmap`` when ``function`` can be
    batched that way (no data-dependent Python control flow, no in-place writes), else a loop."""
    elements = tree.map_structure(_leaf_to_tensor, elements)
    try:
        return torch.func.vmap(function)(elements)
    except (RuntimeError, NotImplementedError, TypeError, ValueError):
        return map(function, elements)


class _CustomGradient(torch.autograd.Function):
    """Runs the forward function with autograd off; its ``grad_fn`` gives the gradients."""

    @staticmethod
    def forward(ctx, run, spec, *flat_args):
        out, grad_fn = run(*flat_args)
        flat_out = [convert_to_tensor(t) for t in tree.flatten(out)]
        ctx.grad_fn, ctx.out_spec = grad_fn, out
        ctx.n_args = len(flat_args)
        # each tensor argument's device: autograd wants its gradient there (a CPU tensor given while the
        # GPU is the default device gets a GPU gradient from grad_fn)
        ctx.arg_devices = [a.device if isinstance(a, torch.Tensor) else None for a in flat_args]
        spec.append(out)
        return tuple(flat_out)

    @staticmethod
    def backward(ctx, *upstream):
        packed = tree.pack_sequence_as(ctx.out_spec, list(upstream))
        grads = ctx.grad_fn(packed)
        grads = list(grads) if isinstance(grads, (list, tuple)) else [grads]
        grads = [None if g is None or device is None else convert_to_tensor(g).to(device)
                 for g, device in zip(grads, ctx.arg_devices)]
        return (None, None) + tuple(grads) + (None,) * (ctx.n_args - len(grads))


def custom_gradient(f):
    """``f(*args) -> (output, grad_fn)`` as a function whose gradient is ``grad_fn(upstream)``.

    ``grad_fn`` here takes the upstream gradient(s) alone and returns one gradient per (flattened) argument;
    ``lamina.ops.custom_gradient`` adapts the Keras calling conventions to this one.
    """

    def wrapped(*args):
        args = tree.map_structure(lambda a: a.value if isinstance(a, VariableBase) else a, args)
        flat_args = tree.flatten(args)
        if not torch.is_grad_enabled() or not any(isinstance(a, torch.Tensor) and a.requires_grad
                                                  for a in flat_args):
            return f(*args)[0]
        spec = []

        def run(*leaves):
            return f(*tree.pack_sequence_as(args, list(leaves)))

        flat_out = _CustomGradient.apply(run, spec, *flat_args)
        return tree.pack_sequence_as(spec[0], list(flat_out))

    return wrapped
