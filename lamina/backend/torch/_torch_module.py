"""What ``lamina.layers.TorchModuleWrapper`` needs from PyTorch: a module's parameters and buffers, rebound to
tensors lamina's variables own, so that the optimizer's in-place updates are what the module computes with."""

import torch

from lamina.backend.torch import core as _core


def is_module(obj):
    return isinstance(obj, torch.nn.Module)


def has_uninitialized_parameters(module):
    return any(isinstance(p, torch.nn.parameter.UninitializedParameter) for p in module.parameters())


def prepare(module):
    """Move ``module`` to lamina's default device."""
    return module.to(_core.DEFAULT_DEVICE)


def materialize(module, input_shape):
    """Run a module with lazy parameters (``torch.nn.LazyLinear``, ...) once on zeros of ``input_shape`` so they
    get their shapes."""
    shape = [1 if d is None else int(d) for d in input_shape]
    with torch.no_grad():
        module(torch.zeros(shape, device=_core.DEFAULT_DEVICE))


def tensors(module):
    """``[(dotted name, tensor, is_parameter, trainable, lamina dtype name), ...]`` of the module's parameters
    and buffers, each once."""
    out, seen = [], set()
    for name, p in module.named_parameters():
        if id(p) not in seen:
            seen.add(id(p))
            out.append((name, p, True, p.requires_grad, _core._TORCH_NAMES[p.dtype]))
    for name, b in module.named_buffers():
        if b is not None and id(b) not in seen:
            seen.add(id(b))
            out.append((name, b, False, False, _core._TORCH_NAMES[b.dtype]))
    return out


def rebind(module, name, tensor, is_parameter):
    """Make the module use ``tensor`` (a lamina variable's storage) for its parameter or buffer ``name``."""
    *path, attr = name.split(".")
    owner = module
    for part in path:
        owner = getattr(owner, part)
    if is_parameter:
        owner._parameters[attr] = tensor
    else:
        owner._buffers[attr] = tensor


def set_mode(module, training):
    module.train(bool(training))
