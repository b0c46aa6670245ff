"""Deterministic initializers: Constant, Zeros, Ones, Identity and STFT."""

import math

import numpy as np

from lamina import ops
from lamina.backend import standardize_dtype
from lamina.initializers.initializer import (
    Initializer,
    check_choice,
    check_number,
    float_dtype,
    standardize_shape,
)


class Constant(Initializer):
    """Fills the tensor with a constant value (a scalar, or anything broadcastable to the shape).

    Args:
        value: the value to fill with.

    Example:
    >>> import lamina.initializers
    >>> init = lamina.initializers.Constant(3.0)
    >>> lamina.ops.convert_to_numpy(init((2, 2))).tolist()
    [[3.0, 3.0], [3.0, 3.0]]
    """

    def __init__(self, value=0.0):
        if isinstance(value, (list, tuple)) or (hasattr(value, "shape") and hasattr(value, "dtype")):
            value = np.asarray(ops.convert_to_numpy(value)).tolist()
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(
                f"Constant: value must be a number or an array-like, but received value={value!r}."
            )
        self.value = value

    def __call__(self, shape, dtype=None):
        shape = standardize_shape(self, shape)
        dtype = standardize_dtype(dtype)
        return ops.multiply(ops.cast(self.value, dtype), ops.ones(shape, dtype=dtype))

    def get_config(self):
        return {"value": self.value}


class Zeros(Initializer):
    """Fills the tensor with zeros.

    Example:
    >>> import lamina.initializers
    >>> lamina.ops.convert_to_numpy(lamina.initializers.Zeros()((3,))).tolist()
    [0.0, 0.0, 0.0]
    """

    def __call__(self, shape, dtype=None):
        return ops.zeros(standardize_shape(self, shape), dtype=standardize_dtype(dtype))


class Ones(Initializer):
    """Fills the tensor with ones.

    Example:
    >>> import lamina.initializers
    >>> lamina.ops.convert_to_numpy(lamina.initializers.Ones()((2,), dtype="int32")).tolist()
    [1, 1]
    """

    def __call__(self, shape, dtype=None):
        return ops.ones(standardize_shape(self, shape), dtype=standardize_dtype(dtype))


class Identity(Initializer):
    """The identity matrix times ``gain`` (2D shapes only; non-square gives a partial identity).

    Args:
        gain: multiplicative factor.

    Example:
    >>> import lamina.initializers
    >>> init = lamina.initializers.Identity(gain=2.0)
    >>> lamina.ops.convert_to_numpy(init((2, 3))).tolist()
    [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    """

    def __init__(self, gain=1.0):
        self.gain = check_number(self, "gain", gain)

    def __call__(self, shape, dtype=None):
        shape = standardize_shape(self, shape)
        if len(shape) != 2:
            raise ValueError(
                f"Identity: can only initialize 2D matrices, but received shape={shape} of rank {len(shape)}."
            )
        dtype = standardize_dtype(dtype)
        return ops.multiply(ops.eye(shape[0], shape[1], dtype=dtype), ops.cast(self.gain, dtype))

    def get_config(self):
        return {"gain": self.gain}


_WINDOWS = ("hann", "hamming", "blackman", "bartlett", "boxcar")


def _window(name, length, periodic):
    """A window of ``length`` samples, as ``scipy.signal.get_window`` (symmetric unless ``periodic``)."""
    try:
        from scipy import signal  # optional: more window types

        return np.asarray(signal.get_window(name, length, fftbins=periodic), dtype="float64")
    except ImportError:
        pass
    if name == "boxcar":
        return np.ones(length)
    n = length + 1 if periodic else length
    if n == 1:
        return np.ones(1)
    k = np.arange(length)
    denom = n - 1
    if name == "hann":
        return 0.5 - 0.5 * np.cos(2 * math.pi * k / denom)
    if name == "hamming":
        return 0.54 - 0.46 * np.cos(2 * math.pi * k / denom)
    if name == "blackman":
        return 0.42 - 0.5 * np.cos(2 * math.pi * k / denom) + 0.08 * np.cos(4 * math.pi * k / denom)
    return 1.0 - np.abs(2.0 * k / denom - 1.0)  # bartlett


class STFT(Initializer):
    """Real or imaginary part of a windowed DFT kernel, for STFT convolutions.

    The kernel has shape ``(frame_length, input_channels, fft_bins)`` and
    ``kernel[t, 0, f] = cos(-2 pi t f / n_fft)`` (``side="real"``) or ``sin``
    (``side="imag"``), with ``n_fft = 2 * (fft_bins - 1)``, multiplied by the
    window and divided by the window scaling.

    Args:
        side: ``"real"`` or ``"imag"``.
        window: a window name (``"hann"``, ``"hamming"``, ...), a 1D array, or None.
        scaling: ``"density"`` (divide by ``sqrt(sum(window**2))``),
            ``"spectrum"`` (divide by ``sum(abs(window))``) or None.
        periodic: use a periodic window (True) or a symmetric one (False).

    Example:
    >>> import lamina.initializers
    >>> k = lamina.initializers.STFT(side="real", window=None)((4, 1, 3))
    >>> lamina.ops.shape(k)
    (4, 1, 3)
    >>> [round(v, 4) for v in lamina.ops.convert_to_numpy(k)[:, 0, 1].tolist()]
    [1.0, 0.0, -1.0, -0.0]
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        check_choice(self, "side", side, ("real", "imag"))
        if isinstance(window, str):
            check_choice(self, "window", window, _WINDOWS)
        elif window is not None:
            window = np.asarray(ops.convert_to_numpy(window), dtype="float64").tolist()
        check_choice(self, "scaling", scaling, ("density", "spectrum", None))
        if not isinstance(periodic, bool):
            raise ValueError(f"STFT: periodic must be a bool, but received periodic={periodic!r}.")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None):
        shape = standardize_shape(self, shape)
        if len(shape) != 3:
            raise ValueError(
                "STFT: shape must be (frame_length, input_channels, fft_bins), "
                f"but received shape={shape}."
            )
        dtype = float_dtype(self, dtype)
        frame_length, channels, fft_bins = shape
        n_fft = max(2 * (fft_bins - 1), 1)
        t = np.arange(frame_length, dtype="float64")[:, None, None]
        f = np.arange(fft_bins, dtype="float64")[None, None, :]
        args = -2.0 * math.pi * t * f / n_fft
        kernel = np.cos(args) if self.side == "real" else np.sin(args)
        if self.window is not None:
            win = (_window(self.window, frame_length, self.periodic) if isinstance(self.window, str)
                   else np.asarray(self.window, dtype="float64"))
            if win.shape != (frame_length,):
                raise ValueError(
                    f"STFT: the window must be 1D with {frame_length} samples (the frame length), "
                    f"but received a window of shape {win.shape}."
                )
            scale = 1.0
            if self.scaling == "density":
                scale = np.sqrt(np.sum(np.square(win)))
            elif self.scaling == "spectrum":
                scale = np.sum(np.abs(win))
            kernel = kernel * win[:, None, None] / scale
        kernel = np.broadcast_to(kernel, (frame_length, channels, fft_bins))
        return ops.convert_to_tensor(np.array(kernel, copy=True), dtype=dtype)

    def get_config(self):
        return {"side": self.side, "window": self.window, "scaling": self.scaling,
                "periodic": self.periodic}
