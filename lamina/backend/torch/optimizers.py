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


_FREE_READS = ("cpu",)  # device types whose scalars are read without a sync (tests empty it)
_device_reads = 0  # reads that synchronized with a device (the first of each variable, then one per outside change)


def _host_value(t, kind):
    """``kind(t)`` (int or float) for a 0-d tensor, read without a device sync where possible.

    On the CPU reading costs nothing. On a GPU, a variable's storage (a ``Parameter``: the step count,
    the learning rate) is read once and remembered with its in-place version counter, which any
    assignment bumps; lamina's own ``assign_add`` on it keeps the remembered value current (see
    ``core.Variable.assign_add``). Any other tensor on a GPU (a schedule's fresh value): None, and the
    caller computes on the device.
    """
    global _device_reads
    if t.device.type in _FREE_READS:
        return kind(t)
    if not isinstance(t, torch.nn.Parameter):
        return None
    seen = getattr(t, "_lamina_host", None)
    if seen is not None and seen[0] == t._version:
        return seen[1]
    value = kind(t)  # one sync: the first read, and after each assignment from elsewhere
    _device_reads += 1
    t._lamina_host = (t._version, value)
    return value


def _adam(spec, grads, params, idx, lr, iterations):
    b1, b2, eps = spec["beta_1"], spec["beta_2"], spec["epsilon"]
    ms, vs = _slots(spec["momentums"], idx), _slots(spec["velocities"], idx)
    step = _host_value(iterations, int)
    rate = None if step is None else _host_value(lr, float)
    if rate is not None:
        # The step and rate are known on the host: the bias-corrected rate is computed in Python (no
        # device kernels), in the same float32 (or float64) arithmetic as the per-variable formula.
        f = _NP_FLOAT[lr.dtype]
        t = f(step + 1)
        alpha = float(f(rate) * np.sqrt(f(1.0) - f(b2) ** t) / (f(1.0) - f(b1) ** t))
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
