"""``segment_min``, ``segment_prod`` and forward-mode ``jvp`` on JAX. Same names as ``backend/torch``.

Arguments are checked in ``lamina/ops/segment_extra.py``; these functions assume valid input.
"""

import jax

from lamina.backend.jax.core import convert_to_tensor


def _ids(data, segment_ids, num_segments):
    data, segment_ids = convert_to_tensor(data), convert_to_tensor(segment_ids)
    n = int(jax.numpy.max(segment_ids)) + 1 if num_segments is None else int(num_segments)
    return data, segment_ids, n


def segment_min(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    data, segment_ids, n = _ids(data, segment_ids, num_segments)
    return jax.ops.segment_min(data, segment_ids, num_segments=n, indices_are_sorted=sorted)


def segment_prod(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    data, segment_ids, n = _ids(data, segment_ids, num_segments)
    return jax.ops.segment_prod(data, segment_ids, num_segments=n, indices_are_sorted=sorted)


def jvp(fun, primals, tangents, has_aux=False):
    """``(fun(*primals), J @ tangents[, aux])`` by ``jax.jvp``."""
    primals = tuple(convert_to_tensor(p) for p in primals)
    tangents = tuple(convert_to_tensor(t, dtype=p.dtype) for p, t in zip(primals, tangents))
    return jax.jvp(fun, primals, tangents, has_aux=has_aux)
