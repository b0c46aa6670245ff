"""``segment_min``, ``segment_prod`` and forward-mode ``jvp`` on PyTorch. Same names as ``backend/jax``.

Arguments are checked in ``lamina/ops/segment_extra.py``; these functions assume valid input.
"""

import torch

from lamina.backend.torch._numpy_common import _int_index
from lamina.backend.torch.core import convert_to_tensor


def _segment_reduce(data, segment_ids, num_segments, reduce, empty):
    data = convert_to_tensor(data)
    segment_ids = _int_index(convert_to_tensor(segment_ids))
    n = int(segment_ids.max()) + 1 if num_segments is None else int(num_segments)
    valid = (segment_ids >= 0) & (segment_ids < n)
    ids = torch.where(valid, segment_ids, n)  # out-of-range ids land in an extra row that is dropped
    out = torch.full((n + 1,) + tuple(data.shape[1:]), empty, dtype=data.dtype, device=data.device)
    idx = ids.reshape(-1, *([1] * (data.ndim - 1))).expand(data.shape)
    return out.scatter_reduce(0, idx, data, reduce=reduce, include_self=True)[:n]


def segment_min(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    data = convert_to_tensor(data)
    high = torch.inf if data.is_floating_point() else torch.iinfo(data.dtype).max
    return _segment_reduce(data, segment_ids, num_segments, "amin", high)


def segment_prod(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    return _segment_reduce(data, segment_ids, num_segments, "prod", 1)


def jvp(fun, primals, tangents, has_aux=False):
    """``(fun(*primals), J @ tangents[, aux])`` by ``torch.func.jvp``."""
    primals = tuple(convert_to_tensor(p) for p in primals)
    tangents = tuple(convert_to_tensor(t).to(p.dtype) for p, t in zip(primals, tangents))
    return torch.func.jvp(fun, primals, tangents, has_aux=has_aux)
