"""Random number generation on PyTorch, from explicit seeds.

A seed is a 2-element int64 tensor ``[seed, counter]`` drawn from a
``lamina.random.SeedGenerator``; the same seed always gives the same numbers.
"""

import torch

from lamina.backend.common.scopes import COMPILING as _COMPILING
from lamina.backend.torch import core as _core  # DEFAULT_DEVICE read at call time (device_scope)
from lamina.backend.torch.core import convert_to_tensor, to_engine_dtype

_MIX = 0x9E3779B97F4A7C15


_seed_reads = 0  # seeds read back from their tensor (a device sync on a GPU); tests count them


def _seed_values(seed):
    """The two ints ``[seed, counter]`` of a seed tensor: known on the host for the seeds a SeedGenerator
    draws eagerly (see ``advance_seed``), else read back from the tensor (under torch.compile always: its
    guards would see new ints at every step)."""
    if not _COMPILING[0]:
        known = getattr(seed, "_lamina_seed", None)
        if known is not None:
            return known
        global _seed_reads
        _seed_reads += 1
    return convert_to_tensor(seed).detach().cpu().tolist()


def _generator(seed):
    s = _seed_values(seed)
    g = torch.Generator(device=_core.DEFAULT_DEVICE)
    g.manual_seed(((int(s[0]) * _MIX) ^ int(s[1])) & 0x7FFFFFFFFFFFFFFF)
    return g


def _shape(shape):
    return (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    out = torch.randn(_shape(shape), generator=_generator(seed), dtype=to_engine_dtype(dtype), device=_core.DEFAULT_DEVICE)
    return out * stddev + mean


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    out = torch.rand(_shape(shape), generator=_generator(seed), dtype=to_engine_dtype(dtype), device=_core.DEFAULT_DEVICE)
    return out * (maxval - minval) + minval


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    out = torch.empty(_shape(shape), dtype=to_engine_dtype(dtype), device=_core.DEFAULT_DEVICE)
    torch.nn.init.trunc_normal_(out, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=_generator(seed))
    return out * stddev + mean


def randint(shape, minval, maxval, dtype="int32", seed=None):
    return torch.randint(int(minval), int(maxval), _shape(shape), generator=_generator(seed),
                         dtype=to_engine_dtype(dtype), device=_core.DEFAULT_DEVICE)


def dropout(inputs, rate, noise_shape=None, seed=None):
    inputs = convert_to_tensor(inputs)
    shape = tuple(inputs.shape) if noise_shape is None else tuple(
        inputs.shape[i] if d is None else d for i, d in enumerate(noise_shape))
    keep = torch.rand(shape, generator=_generator(seed), device=inputs.device) >= rate
    return torch.where(keep, inputs / (1.0 - rate), torch.zeros((), dtype=inputs.dtype, device=inputs.device))


def shuffle(x, axis=0, seed=None):
    x = convert_to_tensor(x)
    perm = torch.randperm(x.shape[axis], generator=_generator(seed), device=x.device)
    return torch.index_select(x, axis, perm)


def categorical(logits, num_samples, dtype="int32", seed=None):
    logits = convert_to_tensor(logits)
    probs = torch.softmax(logits.float(), dim=-1)
    return torch.multinomial(probs, num_samples, replacement=True, generator=_generator(seed)).to(to_engine_dtype(dtype))


def _filled(shape, value, dtype):
    value = convert_to_tensor(value)
    return torch.broadcast_to(value.to(dtype=dtype, device=_core.DEFAULT_DEVICE), _shape(shape)).contiguous()


def gamma(shape, alpha, dtype=None, seed=None):
    dtype = to_engine_dtype(dtype)
    work = torch.float64 if dtype == torch.float64 else torch.float32  # the sampler has no half kernels
    return torch._standard_gamma(_filled(shape, alpha, work), generator=_generator(seed)).to(dtype)


def beta(shape, alpha, beta, dtype=None, seed=None):
    dtype = to_engine_dtype(dtype)
    work = torch.float64 if dtype == torch.float64 else torch.float32
    g = _generator(seed)
    x = torch._standard_gamma(_filled(shape, alpha, work), generator=g)
    y = torch._standard_gamma(_filled(shape, beta, work), generator=g)
    return (x / (x + y)).to(dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    dtype = to_engine_dtype(dtype)
    work = torch.float64 if dtype == torch.float64 else torch.float32
    return torch.binomial(_filled(shape, counts, work), _filled(shape, probabilities, work),
                          generator=_generator(seed)).to(dtype)


_STEPS = {}  # the [0, 1] increment, one tensor per device and dtype


def advance_seed(state):
    """``(seed for this draw, next state)`` of a SeedGenerator's ``[seed, counter]`` state: the counter + 1. The
    seed is a copy: the state's storage is updated in place.

    Drawing with a seed on PyTorch needs its two ints on the host (a ``torch.Generator`` is seeded with them).
    Reading them from a GPU tensor would wait for every queued kernel - once per Dropout layer per training
    step. So once ``SeedGenerator.next`` has assigned the next state to its storage (a Parameter), the storage
    remembers those ints with its in-place version (``_after_advance``); the next draw takes them from there
    when the version is unchanged, and reads the tensor otherwise (after loading weights, an ``assign``, a draw
    in a stateless scope that assigned elsewhere). Writes that bypass the version counter (``.data``) are not
    seen: assign seed states with ``assign``.
    """
    step = _STEPS.get((state.device, state.dtype))
    if step is None:
        step = _STEPS[(state.device, state.dtype)] = torch.tensor([0, 1], dtype=state.dtype, device=state.device)
    seed = state.clone()
    if isinstance(state, torch.nn.Parameter) and not _COMPILING[0]:
        known = getattr(state, "_lamina_seed_host", None)
        seed._lamina_seed = known[1] if known is not None and known[0] == state._version else _seed_values(state)
    return seed, state + step


def _after_advance(state, seed):
    """``SeedGenerator.next`` assigned ``state`` (its storage, outside any scope) the state after ``seed``:
    remember its ints with the version the assignment gave it."""
    values = getattr(seed, "_lamina_seed", None)
    if values is not None and isinstance(state, torch.nn.Parameter) and not _COMPILING[0]:
        state._lamina_seed_host = (state._version, [values[0], values[1] + 1])


def seed_engine(seed):
    """Seed torch's own global generators (for code that uses torch directly)."""
    torch.manual_seed(seed)
