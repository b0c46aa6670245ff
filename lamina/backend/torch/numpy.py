"""NumPy-like operations on PyTorch. Same function names as ``backend/jax/numpy.py``.

The operations live in modules split by concern (each with a twin of the same name in
``backend/jax``) and are all re-exported here, so ``lamina.backend.numpy.<name>`` reaches
every one of them:

- ``numpy_math``: element-wise arithmetic, exponentials, logarithms, trigonometry, rounding, special
  functions
- ``numpy_logic``: comparisons, logic, element-wise predicates, ``where`` and bitwise operations
- ``numpy_reduce``: reductions, statistics, cumulative and segment operations, sorting and searching
- ``numpy_linalg_like``: products (matmul, dot, einsum, tensordot, kron, cross, ...), trace and
  slogdet
- ``numpy_shape``: reshaping, transposing, joining and splitting, flipping, padding, triangles and
  diagonals
- ``numpy_index``: indexing, gathering, slicing and scattering
- ``numpy_create``: tensor creation: filled tensors (zeros, ones, full, ...), ranges, grids, eye and
  tri

Private helpers shared by those modules live in ``_numpy_common``. Tensor conversion and
introspection (``astype``, ``copy``, ``size``, ``ndim``) are small enough to stay here.
"""

import numpy as np
import torch

from lamina.backend.common.dtypes import standardize_dtype
from lamina.backend.torch.core import convert_to_tensor
from lamina.backend.torch.numpy_create import *  # noqa: F401,F403
from lamina.backend.torch.numpy_index import *  # noqa: F401,F403
from lamina.backend.torch.numpy_linalg_like import *  # noqa: F401,F403
from lamina.backend.torch.numpy_logic import *  # noqa: F401,F403
from lamina.backend.torch.numpy_math import *  # noqa: F401,F403
from lamina.backend.torch.numpy_reduce import *  # noqa: F401,F403
from lamina.backend.torch.numpy_shape import *  # noqa: F401,F403


# ---- tensor conversion and introspection ------------------------------------

def astype(x, dtype):
    return convert_to_tensor(x, standardize_dtype(dtype))


def copy(x):
    return torch.clone(convert_to_tensor(x))


def size(x):
    return int(np.prod(convert_to_tensor(x).shape))


def ndim(x):
    return convert_to_tensor(x).ndim
from lamina.backend.torch.numpy_extra import *  # noqa: F401,F403,E402
