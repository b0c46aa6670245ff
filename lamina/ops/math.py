"""Math ops (as ``keras.ops``' math family): ``cdist``, ``erfc``, ``view_as_complex`` / ``view_as_real``,
``extract_sequences`` and the Fourier transforms ``fft``, ``fft2``, ``ifft2``, ``rfft``, ``irfft``, ``stft``,
``istft``. Complex spectra are passed as Keras does: a pair ``(real, imag)`` of real tensors.
"""

import numbers

import numpy as np

from lamina import backend
from lamina.backend.common.dtypes import result_type
from lamina.ops.numpy_extra import erfc  # noqa: F401  (keras.ops.erfc lives in the math family)
from lamina.ops.operation import op

__all__ = ["cdist", "erfc", "view_as_complex", "view_as_real", "extract_sequences", "fft", "fft2", "ifft2",
           "rfft", "irfft", "stft", "istft"]


def _engine():
    return backend.engine.math


def _tensor(x):
    return backend.convert_to_tensor(x)


def _positive_int(name, arg, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}: expected `{arg}` to be a positive integer, but received {value!r}.")
    return int(value)


@op
def cdist(x, y):
    """Euclidean distances between the rows of ``x`` ``(..., N, D)`` and of ``y`` ``(..., M, D)``:
    ``(..., N, M)``.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.cdist([[0.0, 0.0], [3.0, 4.0]], [[0.0, 0.0]])).tolist()
    [[0.0], [5.0]]
    """
    x, y = _tensor(x), _tensor(y)
    if x.ndim < 2 or y.ndim < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError("cdist: expected `x` (..., N, D) and `y` (..., M, D) with the same last dimension, but "
                         f"received shapes {tuple(x.shape)} and {tuple(y.shape)}.")
    dtype = result_type(backend.dtype_name(x), backend.dtype_name(y), float)
    return _engine().cdist(x, y, dtype=dtype)


@op
def view_as_complex(x):
    """A complex tensor from ``x`` whose last axis (of size 2) holds the real and imaginary parts.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.view_as_complex([[1.0, 2.0]])).tolist()
    [(1+2j)]
    """
    x = _tensor(x)
    if x.ndim == 0 or x.shape[-1] != 2 or backend.dtype_name(x) not in ("float32", "float64"):
        raise ValueError("view_as_complex: expected a float32 or float64 tensor whose last axis has size 2 (real, "
                         f"imag), but received shape {tuple(x.shape)} and dtype {backend.dtype_name(x)}.")
    return _engine().view_as_complex(x)


@op
def view_as_real(x):
    """The real and imaginary parts of the complex ``x``, stacked on a new last axis of size 2.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.view_as_real(ops.view_as_complex([[1.0, 2.0]]))).tolist()
    [[1.0, 2.0]]
    """
    x = _tensor(x)
    if "complex" not in backend.dtype_name(x):
        raise ValueError(f"view_as_real: expected a complex tensor, but received dtype {backend.dtype_name(x)}.")
    return _engine().view_as_real(x)


@op
def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` samples every ``sequence_stride`` samples along the last axis:
    ``(..., num_sequences, sequence_length)``.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.extract_sequences(ops.arange(5), 2, 2)).tolist()
    [[0, 1], [2, 3]]
    """
    x = _tensor(x)
    length = _positive_int("extract_sequences", "sequence_length", sequence_length)
    stride = _positive_int("extract_sequences", "sequence_stride", sequence_stride)
    if x.ndim == 0 or x.shape[-1] < length:
        raise ValueError(f"extract_sequences: expected `x` with a last axis of at least sequence_length={length} "
                         f"samples, but received shape {tuple(x.shape)}.")
    return _engine().frame(x, length, stride)


def _pair(name, x):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{name}: expected `x` to be a tuple (real, imag) of two tensors, but received "
                         f"{type(x).__name__}.")
    real, imag = _tensor(x[0]), _tensor(x[1])
    if tuple(real.shape) != tuple(imag.shape):
        raise ValueError(f"{name}: expected the real and imaginary parts to have the same shape, but received "
                         f"{tuple(real.shape)} and {tuple(imag.shape)}.")
    for part in (real, imag):
        if backend.dtype_name(part) not in ("float16", "bfloat16", "float32", "float64"):
            raise TypeError(f"{name}: expected float real and imaginary parts, but received dtype "
                            f"{backend.dtype_name(part)}.")
    dtype = "float64" if "float64" in (backend.dtype_name(real), backend.dtype_name(imag)) else "float32"
    return _engine().to_dtype(real, dtype), _engine().to_dtype(imag, dtype)


def _min_rank(name, real, rank):
    if real.ndim < rank:
        raise ValueError(f"{name}: expected inputs with at least {rank} dimension(s), but received shape "
                         f"{tuple(real.shape)}.")


@op
def fft(x):
    """The discrete Fourier transform along the last axis of the complex signal ``x = (real, imag)``;
    returns ``(real, imag)``.

    Example:
    >>> from lamina import ops
    >>> re, im = ops.fft((ops.convert_to_tensor([1.0, 0.0, 0.0, 0.0]), ops.zeros((4,))))
    >>> ops.convert_to_numpy(re).tolist(), ops.convert_to_numpy(im).tolist()
    ([1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0])
    """
    real, imag = _pair("fft", x)
    _min_rank("fft", real, 1)
    return _engine().fft(real, imag)


@op
def fft2(x):
    """The 2-D discrete Fourier transform over the last two axes of ``x = (real, imag)``; returns
    ``(real, imag)``.

    Example:
    >>> from lamina import ops
    >>> re, im = ops.fft2((ops.ones((2, 2)), ops.zeros((2, 2))))
    >>> ops.convert_to_numpy(re).tolist()
    [[4.0, 0.0], [0.0, 0.0]]
    """
    real, imag = _pair("fft2", x)
    _min_rank("fft2", real, 2)
    return _engine().fft2(real, imag)


@op
def ifft2(x):
    """The inverse 2-D discrete Fourier transform over the last two axes of ``x = (real, imag)``; returns
    ``(real, imag)``.

    Example:
    >>> from lamina import ops
    >>> re, im = ops.ifft2((ops.convert_to_tensor([[4.0, 0.0], [0.0, 0.0]]), ops.zeros((2, 2))))
    >>> ops.convert_to_numpy(re).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    real, imag = _pair("ifft2", x)
    _min_rank("ifft2", real, 2)
    return _engine().ifft2(real, imag)


@op
def rfft(x, fft_length=None):
    """The discrete Fourier transform of the real signal ``x`` along its last axis, keeping the
    ``fft_length // 2 + 1`` non-negative frequencies (``fft_length`` defaults to the signal length; the signal
    is cropped or zero-padded to it). Returns ``(real, imag)``.

    Example:
    >>> from lamina import ops
    >>> re, im = ops.rfft(ops.convert_to_tensor([1.0, 1.0, 1.0, 1.0]))
    >>> ops.convert_to_numpy(re).tolist()
    [4.0, 0.0, 0.0]
    """
    x = _tensor(x)
    _min_rank("rfft", x, 1)
    if fft_length is not None:
        fft_length = _positive_int("rfft", "fft_length", fft_length)
    if backend.dtype_name(x) not in ("float32", "float64"):
        x = _engine().to_dtype(x, "float32")
    return _engine().rfft(x, fft_length=fft_length)


@op
def irfft(x, fft_length=None):
    """The inverse of ``rfft``: a real signal of ``fft_length`` samples (default ``2 * (bins - 1)``) from the
    non-negative-frequency spectrum ``x = (real, imag)``.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.irfft(ops.rfft(ops.convert_to_tensor([1.0, 2.0, 3.0, 4.0])))).round(4).tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    real, imag = _pair("irfft", x)
    _min_rank("irfft", real, 1)
    if fft_length is not None:
        fft_length = _positive_int("irfft", "fft_length", fft_length)
    return _engine().irfft(real, imag, fft_length=fft_length)


def _window_of(name, window, sequence_length, fft_length, dtype):
    """The analysis window, centred in ``fft_length`` samples (zeros around it); None: all ones."""
    if window is None:
        return np.ones(fft_length, dtype)
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"{name}: expected `window` to be 'hann', 'hamming', a 1-D tensor or None, but received "
                             f"{window!r}.")
        n = np.arange(sequence_length)
        a = 0.5 if window == "hann" else 0.54
        win = a - (1 - a) * np.cos(2 * np.pi * n / sequence_length)  # periodic, as scipy.signal.get_window
    else:
        win = np.asarray(backend.convert_to_numpy(window), "float64")
        if win.shape != (sequence_length,):
            raise ValueError(f"{name}: expected `window` of shape ({sequence_length},) (sequence_length), but "
                             f"received shape {win.shape}.")
    left = (fft_length - sequence_length) // 2
    return np.pad(win, (left, fft_length - sequence_length - left)).astype(dtype)


def _stft_args(name, sequence_length, sequence_stride, fft_length):
    length = _positive_int(name, "sequence_length", sequence_length)
    stride = _positive_int(name, "sequence_stride", sequence_stride)
    n_fft = _positive_int(name, "fft_length", fft_length)
    if n_fft < length:
        raise ValueError(f"{name}: expected `fft_length` >= `sequence_length`, but received fft_length={n_fft} and "
                         f"sequence_length={length}.")
    return length, stride, n_fft


@op
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform of the real signal ``x`` along its last axis: frames of ``fft_length``
    samples every ``sequence_stride`` samples (``center=True`` reflect-pads ``fft_length // 2`` on both sides
    first), multiplied by ``window`` ("hann", "hamming", a tensor of ``sequence_length`` values, or None),
    then ``rfft``. Returns ``(real, imag)`` of shape ``(..., num_sequences, fft_length // 2 + 1)``.

    Example:
    >>> from lamina import ops
    >>> re, im = ops.stft(ops.ones((16,)), 8, 4, 8)
    >>> ops.shape(re)
    (5, 5)
    """
    x = _tensor(x)
    if backend.dtype_name(x) not in ("float32", "float64"):
        raise TypeError(f"stft: expected a float32 or float64 signal, but received dtype {backend.dtype_name(x)}.")
    length, stride, n_fft = _stft_args("stft", sequence_length, sequence_stride, fft_length)
    win = _window_of("stft", window, length, n_fft, backend.dtype_name(x))
    if center:
        half = n_fft // 2
        if x.shape[-1] <= half:
            raise ValueError(f"stft: with center=True the signal must be longer than fft_length // 2 = {half} "
                             f"samples, but received shape {tuple(x.shape)}.")
        pad = [(0, 0)] * (x.ndim - 1) + [(half, half)]
        x = backend.numpy.pad(x, pad, mode="reflect")
    if x.shape[-1] < n_fft:
        raise ValueError(f"stft: expected at least fft_length={n_fft} samples, but received shape "
                         f"{tuple(x.shape)}.")
    frames = _engine().frame(x, n_fft, stride) * backend.convert_to_tensor(win)
    return _engine().rfft(frames, fft_length=n_fft)


@op
def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    """Inverse of ``stft``: ``irfft`` of each frame of ``x = (real, imag)`` (``(..., num_sequences, bins)``),
    windowed and overlap-added, normalised by the overlapping squared windows. ``length`` crops the result;
    ``center=True`` removes the ``fft_length // 2`` padding ``stft`` added.

    Example:
    >>> from lamina import ops
    >>> signal = ops.sin(ops.arange(32.0))
    >>> back = ops.istft(ops.stft(signal, 8, 2, 8), 8, 2, 8)
    >>> bool(ops.all(ops.abs(back - signal) < 1e-5))
    True
    """
    real, imag = _pair("istft", x)
    _min_rank("istft", real, 2)
    seq_len, stride, n_fft = _stft_args("istft", sequence_length, sequence_stride, fft_length)
    if length is not None:
        length = _positive_int("istft", "length", length)
    dtype = backend.dtype_name(real)
    win = _window_of("istft", window, seq_len, n_fft, dtype)
    frames = _engine().irfft(real, imag, fft_length=n_fft)[..., :n_fft]
    n = real.shape[-2]
    signal = _engine().overlap_add(frames * backend.convert_to_tensor(win), stride)
    norm = np.zeros((n - 1) * stride + n_fft, "float64")
    for i in range(n):
        norm[i * stride:i * stride + n_fft] += win.astype("float64") ** 2
    norm = np.where(norm > 1e-10, norm, 1.0)
    scale = 1.0 if window is not None else n_fft / stride
    signal = signal * backend.convert_to_tensor((scale / norm).astype(dtype))
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = signal.shape[-1] - (n_fft // 2 if center else 0)
    return signal[..., start:end]
