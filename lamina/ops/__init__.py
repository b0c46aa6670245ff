"""``lamina.ops``: the operations layers, losses, metrics and users compute with.

One flat namespace (as ``keras.ops``) with sub-modules ``numpy``, ``nn`` and
``linalg``. Every op runs eagerly on the current engine and symbolically on
``KerasTensor``s.

Example:
>>> from lamina import ops
>>> ops.convert_to_numpy(ops.relu(ops.subtract([1.0, 2.0], 1.5))).tolist()
[0.0, 0.5]
"""

from lamina.ops import linalg, nn, numpy  # noqa: F401
from lamina.ops.core import (  # noqa: F401
    cast,
    cond,
    convert_to_numpy,
    convert_to_tensor,
    dtype,
    is_tensor,
    shape,
    stop_gradient,
    value_and_grad,
)
from lamina.ops.linalg import *  # noqa: F401,F403
from lamina.ops.nn import *  # noqa: F401,F403
from lamina.ops.numpy import *  # noqa: F401,F403
from lamina.ops.operation import Operation  # noqa: F401
from lamina.ops.numpy_extra import saturate_cast  # noqa: F401,E402
from lamina.ops import math  # noqa: F401,E402  (keras.ops' math family: fft, stft, cdist, ...)
from lamina.ops.math import *  # noqa: F401,F403,E402
from lamina.ops.einops import rearrange  # noqa: F401,E402
from lamina.ops.control_flow import (  # noqa: F401,E402
    associative_scan,
    custom_gradient,
    fori_loop,
    map,
    scan,
    switch,
    vectorized_map,
    while_loop,
)
from lamina.ops.segment_extra import jvp, segment_min, segment_prod  # noqa: F401,E402
linalg.jvp = jvp  # keras.ops.linalg.jvp is the same function as keras.ops.jvp
from lamina.ops import image  # noqa: F401,E402  (keras.ops.image)
