"""Fused optimizer updates on PyTorch: the same formulas as lamina's optimizers, run as a few
multi-tensor (``torch._foreach_*``) kernels instead of several small kernels per variable.

Same names as ``backend/jax/optimizers.py``.
"""

import numpy as np
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


# torch's fused Adam kernel applies its own bias corrections from a step count. Given a step
# count so large that ``beta ** step`` is 0, those corrections are 1 and the kernel computes
# exactly Keras's update ``w -= alpha * m / (sqrt(v) + epsilon)`` with Keras's bias-corrected
# ``alpha`` passed as its learning rate. One kernel pass over the weights instead of eight.
_FAR_STEP = 1e9
_far_steps = {}
_fused_broken = set()
_NP_FLOAT = {torch.float32: np.float32, torch.float64: np.float64, torch.float16: np.float32,
             torch.bfloat16: np.float32}


def _far_step(device):
    t = _far_steps.get(device)
    if t is None:
        t = _far_steps[device] = torch.full((), _FAR_STEP, dtype=torch.float32, device=device)
    return t


def _fused_adam(grads, params, ms, vs, alpha, b1, b2, eps):
    device = params[0].device
    key = (device.type, params[0].dtype)
    if key in _fused_broken or not hasattr(torch, "_fused_adam_") or (
            isinstance(alpha, torch.Tensor) and alpha.device != device):
        return False
    try:
        torch._fused_adam_(params, grads, ms, vs, [], [_far_step(device)] * len(params), lr=alpha,
                           beta1=b1, beta2=b2, weight_decay=0.0, eps=eps, amsgrad=False, maximize=False)
    except (RuntimeError, NotImplementedError, TypeError):
        _fused_broken.add(key)  # no fused kernel for this device/dtype: the foreach kernels run
        return False
    return True


def _adam(spec, grads, params, idx, lr, iterations):
    b1, b2, eps = spec["beta_1"], spec["beta_2"], spec["epsilon"]
    ms, vs = _slots(spec["momentums"], idx), _slots(spec["velocities"], idx)
    if lr.device.type == "cpu" and iterations.device.type == "cpu":
        # On the CPU reading the step and rate costs no sync: the scalar math stays in Python.
        # The same float32 (or float64) arithmetic as the per-variable formula.
        f = _NP_FLOAT[lr.dtype]
        t = f(int(iterations) + 1)
        alpha = float(f(float(lr)) * np.sqrt(f(1.0) - f(b2) ** t) / (f(1.0) - f(b1) ** t))
    else:
        t = (iterations + 1).to(lr.dtype)
        alpha = lr * torch.sqrt(1.0 - torch.pow(torch.tensor(b2, dtype=lr.dtype), t)) / (
            1.0 - torch.pow(torch.tensor(b1, dtype=lr.dtype), t))
    grads = [g if g.is_contiguous() else g.contiguous() for g in grads]
    if _fused_adam(grads, params, ms, vs, alpha, float(b1), float(b2), float(eps)):
        return
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
