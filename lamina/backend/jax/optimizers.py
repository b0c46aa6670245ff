"""Fused optimizer updates on JAX. Same names as ``backend/torch/optimizers.py``.

JAX needs none: XLA fuses the per-variable updates of a compiled step by itself.
"""


def fused_update(spec, grads, variables, slot_indices, learning_rate, iterations):
    """Always False: the generic update, compiled by XLA, is already fused."""
    return False
