"""Mixed precision (Keras's ``keras.mixed_precision``): float16/bfloat16 compute, float32 weights.

>>> import lamina
>>> lamina.mixed_precision.set_global_policy("mixed_bfloat16")
>>> lamina.layers.Dense(3).compute_dtype
'bfloat16'
>>> lamina.mixed_precision.set_global_policy("float32")
"""

from lamina.dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy
from lamina.optimizers.loss_scale_optimizer import LossScaleOptimizer

Policy = DTypePolicy  # tf.keras 2 name

__all__ = ["DTypePolicy", "Policy", "set_global_policy", "global_policy", "LossScaleOptimizer"]


def set_global_policy(policy):
    """Set the dtype policy of layers created from now on (e.g. ``"mixed_float16"``)."""
    set_dtype_policy(policy)


def global_policy():
    """The current global dtype policy."""
    return dtype_policy()
