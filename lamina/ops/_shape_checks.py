"""Clear errors for contractions whose operand shapes do not fit (``matmul``, ``dot``, ``tensordot``, ``einsum``).

The checks run only after the engine has refused the operands (symbolically or eagerly), so a
call that works costs nothing extra; they turn the engine's internal message (``mat1 and mat2
shapes cannot be multiplied``, ``dot_general requires contracting dimensions ...``) into a
``ValueError`` naming the op, the dimensions that disagree and the shapes received.
"""

import functools

import numpy as np


def _shape(x):
    shape = getattr(x, "shape", None)
    if shape is None:
        shape = np.shape(x)
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except TypeError:
        return None


def _differ(a, b):
    return a is not None and b is not None and a != b


def _check_matmul(name, x1, x2, **_):
    s1, s2 = _shape(x1), _shape(x2)
    if s1 is None or s2 is None or not s1 or not s2:
        return None
    j = -2 if len(s2) >= 2 else 0
    if _differ(s1[-1], s2[j]):
        where = f"x2.shape[{j}]"
        return (f"ops.{name}: the inner dimensions must be equal, but x1.shape[-1] is {s1[-1]} and {where} is "
                f"{s2[j]} (received x1.shape={s1} and x2.shape={s2}).")
    if name == "matmul" and len(s1) > 2 and len(s2) > 2:
        for a, b in zip(reversed(s1[:-2]), reversed(s2[:-2])):
            if _differ(a, b) and 1 not in (a, b):
                return (f"ops.matmul: the batch dimensions {s1[:-2]} and {s2[:-2]} do not broadcast "
                        f"(received x1.shape={s1} and x2.shape={s2}).")
    return None


def _check_tensordot(name, x1, x2, axes=2, **_):
    s1, s2 = _shape(x1), _shape(x2)
    if s1 is None or s2 is None:
        return None
    if isinstance(axes, int):
        a1, a2 = list(range(len(s1) - axes, len(s1))), list(range(axes))
    else:
        try:
            a1, a2 = ([a] if isinstance(a, int) else list(a) for a in axes)
        except (TypeError, ValueError):
            return None
    if len(a1) != len(a2):
        return (f"ops.tensordot: axes must list as many axes of x1 as of x2, but received axes={axes!r}.")
    for i, j in zip(a1, a2):
        if not (-len(s1) <= i < len(s1) and -len(s2) <= j < len(s2)):
            return (f"ops.tensordot: axes={axes!r} are out of range for x1.shape={s1} and x2.shape={s2}.")
        if _differ(s1[i], s2[j]):
            return (f"ops.tensordot: the contracted dimensions must be equal, but x1.shape[{i}] is {s1[i]} and "
                    f"x2.shape[{j}] is {s2[j]} (received x1.shape={s1}, x2.shape={s2}, axes={axes!r}).")
    return None


def _check_einsum(name, subscripts, *operands, **_):
    if not isinstance(subscripts, str):
        return None
    inputs = subscripts.replace(" ", "").split("->")[0].split(",")
    if len(inputs) != len(operands):
        return (f"ops.einsum: the equation '{subscripts}' names {len(inputs)} operands, but received "
                f"{len(operands)}.")
    sizes = {}
    for k, (labels, x) in enumerate(zip(inputs, operands)):
        shape = _shape(x)
        if shape is None:
            return None
        if "..." in labels:
            named = labels.replace("...", "")
            if len(named) > len(shape):
                return (f"ops.einsum: operand {k} has {len(shape)} dimensions (shape {shape}), fewer than the "
                        f"{len(named)} labels of '{labels}' in '{subscripts}'.")
            head, tail = labels.split("...")
            pairs = list(zip(head, shape[:len(head)])) + list(zip(tail, shape[len(shape) - len(tail):]))
        else:
            if len(labels) != len(shape):
                return (f"ops.einsum: operand {k} has {len(shape)} dimensions (shape {shape}), but its "
                        f"subscripts '{labels}' in '{subscripts}' name {len(labels)}.")
            pairs = list(zip(labels, shape))
        for label, d in pairs:
            seen = sizes.get(label)
            if seen is not None and _differ(seen[0], d) and 1 not in (seen[0], d):
                return (f"ops.einsum: label '{label}' of '{subscripts}' has size {seen[0]} in operand {seen[1]} "
                        f"but {d} in operand {k} (shapes: {[_shape(o) for o in operands]}).")
            if seen is None or seen[0] is None:
                sizes[label] = (d, k)
    return None


_CHECKS = {"matmul": _check_matmul, "dot": _check_matmul, "tensordot": _check_tensordot, "einsum": _check_einsum}


def explain_errors(fn):
    """Wrap the public op ``fn`` so that an engine error caused by operand shapes that cannot be contracted
    becomes a ``ValueError`` saying which dimensions disagree (other errors pass through unchanged)."""
    check = _CHECKS[fn.__name__]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (RuntimeError, TypeError, ValueError, IndexError) as e:
            try:
                message = check(fn.__name__, *args, **kwargs)
            except Exception:  # the check must never hide the original error
                message = None
            if message is None:
                raise
            raise ValueError(message) from e

    return wrapper
