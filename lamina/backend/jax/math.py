"""Math ops on JAX: pairwise distances, complex views, FFTs and short-time Fourier transforms.
Same function names as ``backend/torch/math.py``. Arguments are checked in ``lamina/ops/math.py``."""

import jax
import jax.numpy as jnp

from lamina.backend.jax.core import convert_to_tensor, to_engine_dtype


def cdist(x, y, dtype="float32"):
    x, y = convert_to_tensor(x, dtype), convert_to_tensor(y, dtype)
    diff = x[..., :, None, :] - y[..., None, :, :]
    return jnp.sqrt(jnp.sum(diff * diff, axis=-1))


def view_as_complex(x):
    x = convert_to_tensor(x)
    return jax.lax.complex(x[..., 0], x[..., 1])


def view_as_real(x):
    x = convert_to_tensor(x)
    return jnp.stack([jnp.real(x), jnp.imag(x)], axis=-1)


def _complex(real, imag):
    return jax.lax.complex(convert_to_tensor(real), convert_to_tensor(imag))


def fft(real, imag):
    out = jnp.fft.fft(_complex(real, imag))
    return jnp.real(out), jnp.imag(out)


def fft2(real, imag):
    out = jnp.fft.fft2(_complex(real, imag))
    return jnp.real(out), jnp.imag(out)


def ifft2(real, imag):
    out = jnp.fft.ifft2(_complex(real, imag))
    return jnp.real(out), jnp.imag(out)


def rfft(x, fft_length=None):
    out = jnp.fft.rfft(convert_to_tensor(x), n=fft_length)
    return jnp.real(out), jnp.imag(out)


def irfft(real, imag, fft_length=None):
    return jnp.fft.irfft(_complex(real, imag), n=fft_length)


def frame(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` every ``sequence_stride`` along the last axis: ``(..., n, length)``."""
    x = convert_to_tensor(x)
    n = 1 + (x.shape[-1] - sequence_length) // sequence_stride
    idx = jnp.arange(n)[:, None] * sequence_stride + jnp.arange(sequence_length)[None, :]
    return x[..., idx]


def overlap_add(frames, sequence_stride):
    """Sum ``frames`` ``(..., n, length)`` placed every ``sequence_stride`` samples: ``(..., (n-1)*stride+length)``."""
    frames = convert_to_tensor(frames)
    *batch, n, length = frames.shape
    out_len = (n - 1) * sequence_stride + length
    idx = (jnp.arange(n)[:, None] * sequence_stride + jnp.arange(length)[None, :]).reshape(-1)
    out = jnp.zeros((*batch, out_len), frames.dtype)
    return out.at[..., idx].add(frames.reshape(*batch, n * length))


def to_dtype(x, dtype):
    return convert_to_tensor(x).astype(to_engine_dtype(dtype))
