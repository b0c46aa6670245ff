"""Math ops on PyTorch: pairwise distances, complex views, FFTs and short-time Fourier transforms.
Same function names as ``backend/jax/math.py``. Arguments are checked in ``lamina/ops/math.py``."""

import torch

from lamina.backend.torch.core import convert_to_tensor, to_engine_dtype


def cdist(x, y, dtype="float32"):
    x, y = convert_to_tensor(x, dtype), convert_to_tensor(y, dtype)
    diff = x[..., :, None, :] - y[..., None, :, :]
    return torch.sqrt(torch.sum(diff * diff, dim=-1))


def view_as_complex(x):
    x = convert_to_tensor(x)
    return torch.complex(x[..., 0], x[..., 1])


def view_as_real(x):
    x = convert_to_tensor(x)
    return torch.stack([x.real, x.imag], dim=-1)


def _complex(real, imag):
    real, imag = convert_to_tensor(real), convert_to_tensor(imag)
    return torch.complex(real, imag)


def fft(real, imag):
    out = torch.fft.fft(_complex(real, imag))
    return out.real, out.imag


def fft2(real, imag):
    out = torch.fft.fft2(_complex(real, imag))
    return out.real, out.imag


def ifft2(real, imag):
    out = torch.fft.ifft2(_complex(real, imag))
    return out.real, out.imag


def rfft(x, fft_length=None):
    out = torch.fft.rfft(convert_to_tensor(x), n=fft_length)
    return out.real, out.imag


def irfft(real, imag, fft_length=None):
    return torch.fft.irfft(_complex(real, imag), n=fft_length)


def frame(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` every ``sequence_stride`` along the last axis: ``(..., n, length)``."""
    return convert_to_tensor(x).unfold(-1, sequence_length, sequence_stride)


def overlap_add(frames, sequence_stride):
    """Sum ``frames`` ``(..., n, length)`` placed every ``sequence_stride`` samples: ``(..., (n-1)*stride+length)``."""
    frames = convert_to_tensor(frames)
    *batch, n, length = frames.shape
    out_len = (n - 1) * sequence_stride + length
    flat = frames.reshape(-1, n, length).transpose(1, 2)  # (B, length, n)
    out = torch.nn.functional.fold(flat, output_size=(1, out_len), kernel_size=(1, length),
                                   stride=(1, sequence_stride))
    return out.reshape(*batch, out_len)


def to_dtype(x, dtype):
    return convert_to_tensor(x).to(to_engine_dtype(dtype))
