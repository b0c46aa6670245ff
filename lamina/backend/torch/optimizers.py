"""Fused optimizer updates on PyTorch: the same formulas as lamina's optimizers, run as a few
multi-tensor (``torch._foreach_*``) kernels instead of several small kernels per variable.

Same names as ``backend/jax/optimizers.py``.
"""

import torch

from lamina.backend.common import scopes


def fused_update(spec, grads, variables, slot_indices, learning_rate, iterations):
    """Update ``variables`` in place from ``grads`` as ``spec`` describes; False if not applicable."""
    if scopes.current_scope() is not None:
        return False
    params = [v._storage() for v in variables]
    if any(p.dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16) for p in params):
        return False
    dtype = params[0].dtype
    if any(p.dtype != dtype for p in params):
        return False
    grads = [g if g.dtype == dtype else g.to(dtype) for g in grads]
    lr = learning_rate.to(dtype) if isinstance(learning_rate, torch.Tensor) else torch.tensor(learning_rate, dtype=dtype)
    with torch.no_grad():
        if spec["kind"] == "adam":
            _adam(spec, grads, params, slot_indices, lr, iterations)
            return True
        if spec["kind"] == "sgd":
            _sgd(spec, grads, params, slot_indices, lr)
            return True
    return False


def _slots(variables, indices):
    return [variables[i]._storage() for i in indices]


def _adam(spec, grads, params, idx, lr, iterations):
    b1, b2, eps = spec["beta_1"], spec["beta_2"], spec["epsilon"]
    ms, vs = _slots(spec["momentums"], idx), _slots(spec["velocities"], idx)
    t = (iterations + 1).to(lr.dtype)
    alpha = lr * torch.sqrt(1.0 - torch.pow(torch.tensor(b2, dtype=lr.dtype), t)) / (
        1.0 - torch.pow(torch.tensor(b1, dtype=lr.dtype), t))
    torch._foreach_lerp_(ms, grads, 1.0 - b1)            # m += (g - m) * (1 - b1)
    torch._foreach_mul_(vs, b2)
    torch._foreach_addcmul_(vs, grads, grads, 1.0 - b2)  # v = b2 v + (1 - b2) g^2
    denom = torch._foreach_sqrt(vs)
    torch._foreach_add_(denom, eps)
    step = torch._foreach_div(ms, denom)
    torch._foreach_mul_(step, alpha)
    torch._foreach_sub_(params, step)


def _sgd(spec, grads, params, idx, lr):
    momentum = spec["momentum"]
    scaled = torch._foreach_mul(grads, lr)              # g * lr
    if not momentum:
        torch._foreach_sub_(params, scaled)
        return
    ms = _slots(spec["momentums"], idx)
    torch._foreach_mul_(ms, momentum)
    torch._foreach_sub_(ms, scaled)                      # m = momentum m - lr g
    if spec["nesterov"]:
        upd = torch._foreach_mul(ms, momentum)
        torch._foreach_sub_(upd, scaled)
        torch._foreach_add_(params, upd)
    else:
        torch._foreach_add_(params, ms)
