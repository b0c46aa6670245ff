"""``rearrange``: einops-style reshaping and transposing with a pattern string (as ``keras.ops.rearrange``)."""

import math
import re

from lamina import backend
from lamina.ops.operation import op

__all__ = ["rearrange"]

_TOKEN = re.compile(r"\(|\)|[A-Za-z_][A-Za-z0-9_]*|\S")


def _parse_side(text, pattern):
    """``"b (h w) c"`` -> [["b"], ["h", "w"], ["c"]] (one group per tensor axis)."""
    groups, current = [], None
    for tok in _TOKEN.findall(text):
        if tok == "(":
            if current is not None:
                raise ValueError(f"rearrange: nested parentheses are not supported, but received pattern {pattern!r}.")
            current = []
        elif tok == ")":
            if current is None:
                raise ValueError(f"rearrange: unbalanced ')' in pattern {pattern!r}.")
            groups.append(current)
            current = None
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", tok):
            (current if current is not None else groups).append(tok if current is not None else [tok])
        else:
            raise ValueError(f"rearrange: expected axis names, spaces and parentheses in the pattern, but received "
                             f"{tok!r} in {pattern!r}.")
    if current is not None:
        raise ValueError(f"rearrange: unbalanced '(' in pattern {pattern!r}.")
    return groups


@op
def rearrange(tensor, pattern, **axes_lengths):
    """Reshape and transpose ``tensor`` as the einops ``pattern`` says, e.g. ``"b h w c -> b (h w) c"``
    (merge axes), ``"b (h w) c -> b h w c"`` with ``h=...`` (split an axis), ``"b c h w -> b h w c"``
    (transpose). Axis sizes that cannot be inferred are given as keyword arguments.

    Example:
    >>> from lamina import ops
    >>> ops.shape(ops.rearrange(ops.zeros((2, 3, 4)), "b h w -> b (w h)"))
    (2, 12)
    >>> ops.shape(ops.rearrange(ops.zeros((6, 4)), "(b h) w -> b w h", b=2))
    (2, 4, 3)
    """
    x = backend.convert_to_tensor(tensor)
    if not isinstance(pattern, str) or pattern.count("->") != 1:
        raise ValueError(f"rearrange: expected a pattern like 'b h w -> b (h w)', but received {pattern!r}.")
    left, right = (_parse_side(side, pattern) for side in pattern.split("->"))
    in_axes = [a for g in left for a in g]
    out_axes = [a for g in right for a in g]
    for side, axes in (("input", in_axes), ("output", out_axes)):
        if len(set(axes)) != len(axes):
            raise ValueError(f"rearrange: an axis name appears twice on the {side} side of {pattern!r}.")
    if set(in_axes) != set(out_axes):
        raise ValueError(f"rearrange: the two sides of {pattern!r} must name the same axes, but only the input has "
                         f"{sorted(set(in_axes) - set(out_axes))} and only the output has "
                         f"{sorted(set(out_axes) - set(in_axes))}.")
    if len(left) != x.ndim:
        raise ValueError(f"rearrange: the pattern {pattern!r} describes {len(left)} input axes, but the tensor has "
                         f"shape {tuple(x.shape)}.")
    unknown = set(axes_lengths) - set(in_axes)
    if unknown:
        raise ValueError(f"rearrange: axis lengths given for {sorted(unknown)}, which the pattern {pattern!r} does "
                         f"not use.")
    sizes = {k: int(v) for k, v in axes_lengths.items()}
    for group, dim in zip(left, x.shape):
        missing = [a for a in group if a not in sizes]
        known = math.prod(sizes[a] for a in group if a in sizes)
        if len(missing) > 1:
            raise ValueError(f"rearrange: cannot infer the sizes of {missing} in {pattern!r}: give all but one as "
                             f"keyword arguments.")
        if missing:
            if dim % known:
                raise ValueError(f"rearrange: an axis of size {dim} cannot be split into {group} with sizes {sizes}.")
            sizes[missing[0]] = dim // known
        elif known != dim:
            raise ValueError(f"rearrange: axes {group} of sizes {[sizes[a] for a in group]} do not match the input "
                             f"dimension {dim} in {pattern!r}.")
    x = backend.numpy.reshape(x, tuple(sizes[a] for a in in_axes))
    x = backend.numpy.transpose(x, tuple(in_axes.index(a) for a in out_axes))
    return backend.numpy.reshape(x, tuple(math.prod(sizes[a] for a in g) for g in right))
