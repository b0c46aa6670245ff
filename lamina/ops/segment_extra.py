"""``segment_min``, ``segment_prod`` (as ``keras.ops``' math family, next to ``segment_sum``/``segment_max``) and
``jvp``, the forward-mode Jacobian-vector product (``keras.ops.jvp``, also ``keras.ops.linalg.jvp``)."""

import numbers

from lamina import backend
from lamina.ops.operation import op

__all__ = ["segment_min", "segment_prod", "jvp"]


def _segment_args(name, data, segment_ids, num_segments, sorted):  # noqa: A002
    data, segment_ids = backend.convert_to_tensor(data), backend.convert_to_tensor(segment_ids)
    if not backend.dtype_name(segment_ids).startswith(("int", "uint")):
        raise TypeError(f"{name}: expected integer `segment_ids`, but received dtype "
                        f"{backend.dtype_name(segment_ids)!r}.")
    k = len(segment_ids.shape)
    if k == 0 or len(data.shape) < k or tuple(data.shape[:k]) != tuple(segment_ids.shape):
        raise ValueError(f"{name}: expected `segment_ids` of at least one dimension whose shape is the leading "
                         f"part of `data`'s shape, but received data shape {tuple(data.shape)} and segment_ids "
                         f"shape {tuple(segment_ids.shape)}.")
    if num_segments is not None and (isinstance(num_segments, bool) or not isinstance(num_segments, numbers.Integral)
                                     or num_segments < 0):
        raise ValueError(f"{name}: expected `num_segments` to be None or a non-negative integer, but received "
                         f"{num_segments!r}.")
    if not isinstance(sorted, bool):
        raise TypeError(f"{name}: expected `sorted` to be a bool, but received {sorted!r}.")
    if k > 1:  # several id axes: flatten them into one
        data = backend.numpy.reshape(data, (-1,) + tuple(data.shape[k:]))
        segment_ids = backend.numpy.reshape(segment_ids, (-1,))
    return data, segment_ids


@op
def segment_min(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Minimum of the rows of ``data`` per segment id: ``out[i] = min(data[j] for j with segment_ids[j] == i)``.

    ``num_segments`` defaults to ``max(segment_ids) + 1`` (give it to use the op symbolically or in a compiled
    function); ids outside ``[0, num_segments)`` are dropped; an empty segment holds the dtype's largest value
    (``inf`` for floats).

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.segment_min([1, 2, 10, 20, 100, 200], [0, 0, 1, 1, 2, 2], 3)).tolist()
    [1, 10, 100]
    """
    data, segment_ids = _segment_args("segment_min", data, segment_ids, num_segments, sorted)
    return backend.engine.math_extra.segment_min(data, segment_ids, num_segments, sorted)


@op
def segment_prod(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Product of the rows of ``data`` per segment id; an empty segment holds 1 (conventions as
    ``segment_min``).

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.segment_prod([1, 2, 3, 4, 5, 6], [0, 0, 1, 1, 2, 2], 3)).tolist()
    [2, 12, 30]
    """
    data, segment_ids = _segment_args("segment_prod", data, segment_ids, num_segments, sorted)
    return backend.engine.math_extra.segment_prod(data, segment_ids, num_segments, sorted)


@op
def jvp(fun, primals, tangents, has_aux=False):
    """Forward-mode derivative: ``(fun(*primals), J_fun(primals) @ tangents)``, and ``aux`` as a third element
    when ``has_aux`` (``fun`` then returns ``(output, aux)``). ``primals`` and ``tangents`` are tuples or lists
    of the same length (one entry per positional argument of ``fun``) and matching shapes.

    Example:
    >>> from lamina import ops
    >>> out, tangent = ops.jvp(ops.square, (ops.convert_to_tensor(3.0),), (ops.convert_to_tensor(1.0),))
    >>> float(ops.convert_to_numpy(out)), float(ops.convert_to_numpy(tangent))
    (9.0, 6.0)
    """
    if not callable(fun):
        raise TypeError(f"jvp: expected a callable `fun`, but received {fun!r}.")
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"jvp: expected `primals` and `tangents` to be tuples or lists, but received "
                        f"{type(primals).__name__} and {type(tangents).__name__}.")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: expected as many tangents as primals, but received {len(primals)} primals and "
                         f"{len(tangents)} tangents.")
    for i, (p, t) in enumerate(zip(primals, tangents)):
        ps, ts = tuple(backend.core.shape(p)), tuple(backend.core.shape(t))
        if ps != ts:
            raise ValueError(f"jvp: expected tangent {i} to have the shape of primal {i}, {ps}, but received "
                             f"shape {ts}.")
    return backend.engine.math_extra.jvp(fun, tuple(primals), tuple(tangents), has_aux=has_aux)
