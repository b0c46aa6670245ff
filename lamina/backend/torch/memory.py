"""Releasing what PyTorch keeps after a model is gone (twin of ``backend/jax/memory.py``)."""

import sys


def release_compiled_functions():
    """Drop ``torch.compile``'s cached graphs (lamina itself compiles none; a user's build may).

    Eager PyTorch frees a model's tensors, optimizer state and autograd graphs with the
    objects themselves, so only TorchDynamo's caches need clearing. Returns the number of
    caches cleared.
    """
    dynamo = sys.modules.get("torch._dynamo")
    if dynamo is None:  # torch.compile was never used: nothing is cached
        return 0
    dynamo.reset()
    return 1
