"""Audio preprocessing layers: ``STFTSpectrogram`` (a trainable DFT as a strided convolution) and
``MelSpectrogram`` (STFT power, mel filterbank, decibels), both written with ``lamina.ops`` so they run on
every backend and inside compiled training steps.
"""

import math
import numbers
import warnings

import numpy as np

from lamina import backend, ops
from lamina.config import epsilon, standardize_data_format
from lamina.initializers.constant_initializers import _WINDOWS, STFT
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import _utils as u

STFT_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
_FLOAT_INPUTS = ("float16", "bfloat16", "float32", "float64")


def _check_bool(layer, arg, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{u.who(layer)}: {arg} must be True or False, but received {arg}={value!r}.")
    return bool(value)


def _check_number(layer, arg, value, allow_none=False, positive=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (positive and value <= 0) or \
            not math.isfinite(value):
        kind = "a positive number" if positive else "a finite number"
        raise ValueError(f"{u.who(layer)}: {arg} must be {kind}{' or None' if allow_none else ''}, but received "
                         f"{arg}={value!r}.")
    return value


def _window_values(layer, window, length, length_arg):
    """``window`` checked: a name, None, or a list of ``length`` floats (so the config stays JSON)."""
    if window is None or isinstance(window, str):
        return window
    values = np.asarray(u.to_numpy(window))
    if values.dtype.kind not in "iuf" or values.shape != (length,):
        raise ValueError(f"{u.who(layer)}: window must be a window name, None or a 1D array of {length} numbers "
                         f"({length_arg}), but received an array of shape {values.shape} and dtype {values.dtype}.")
    return values.astype("float64").tolist()


class STFTSpectrogram(Layer):
    """Spectrogram of 1D signals by a short-time Fourier transform computed as a strided convolution.

    The real and imaginary parts of the windowed DFT are the kernels of a 1D convolution with stride
    ``frame_step``: they are ordinary weights (``real_kernel`` / ``imag_kernel``, each of shape
    ``(frame_length, 1, fft_length // 2 + 1)``, initialized by ``lamina.initializers.STFT``), so the layer is
    trainable like a convolution (the default), or fixed preprocessing with ``trainable=False``. Every input
    channel goes through the same kernels.

    Args:
        mode: the output: ``"log"`` (log magnitude, default), ``"magnitude"``, ``"psd"`` (power spectral
            density: the power, doubled except at the DC and Nyquist bins), ``"real"``, ``"imag"``, ``"angle"``
            (phase) or ``"stft"`` (real and imaginary parts concatenated on the frequency axis).
        frame_length: samples per frame (the kernel size). Default 256.
        frame_step: samples between frames (the stride), at most ``frame_length``. Default
            ``frame_length // 2``.
        fft_length: the DFT size, at least ``frame_length`` (a power of two is recommended). Default: the
            smallest power of two >= ``frame_length``. The output has ``fft_length // 2 + 1`` frequency bins.
        window: ``"hann"`` (default), ``"hamming"``, ``"blackman"``, ``"bartlett"``, ``"boxcar"``, a 1D array of
            ``frame_length`` values, or None (no window).
        periodic: use the periodic form of the window (as for spectral analysis) instead of the symmetric one.
        scaling: divide the window by ``sqrt(sum(window**2))`` (``"density"``, default), by ``sum(window)``
            (``"spectrum"``), or not at all (None).
        padding: ``"valid"`` (default: only whole frames) or ``"same"`` (``ceil(time / frame_step)`` frames).
        expand_dims: give each channel its own axis, so the output is an image ``(time, freq, channels)``.
        data_format: ``"channels_last"`` (inputs ``(batch, time, channels)``) or ``"channels_first"``
            (``(batch, channels, time)``). Default: ``lamina.config.image_data_format()``.

    Input shape:
        ``(batch, time, channels)`` (channels_last) or ``(batch, channels, time)`` (channels_first); float.

    Output shape:
        channels_last: ``(batch, frames, channels * bins)``, or ``(batch, frames, bins, channels)`` with
        ``expand_dims``; channels_first: ``(batch, channels * bins, frames)``, or
        ``(batch, channels, frames, bins)`` with ``expand_dims``. ``bins`` is ``fft_length // 2 + 1``
        (twice that for ``mode="stft"``).

    Raises:
        ValueError: for a bad argument. TypeError: for an input that is not float.

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.STFTSpectrogram(mode="magnitude", frame_length=64, frame_step=32)
    >>> out = layer(np.zeros((2, 256, 1), "float32"))
    >>> tuple(out.shape), [tuple(w.shape) for w in layer.weights]
    ((2, 7, 33), [(64, 1, 33), (64, 1, 33)])
    """

    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None, window="hann",
                 periodic=False, scaling="density", padding="valid", expand_dims=False, data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.mode = u.check_choice(self, "mode", mode, STFT_MODES)
        self.frame_length = u.check_positive_int(self, "frame_length", frame_length)
        self.frame_step = u.check_positive_int(self, "frame_step", frame_step, allow_none=True)
        if self.frame_step is not None and self.frame_step > self.frame_length:
            raise ValueError(f"{u.who(self)}: frame_step must be a positive int not greater than frame_length="
                             f"{self.frame_length}, but received frame_step={frame_step}.")
        self.fft_length = u.check_positive_int(self, "fft_length", fft_length, allow_none=True)
        if self.fft_length is not None and self.fft_length < self.frame_length:
            raise ValueError(f"{u.who(self)}: fft_length must be at least frame_length={self.frame_length}, but "
                             f"received fft_length={fft_length}.")
        if self.fft_length is not None and self.fft_length & (self.fft_length - 1):
            warnings.warn(f"{u.who(self)}: fft_length is recommended to be a power of two, but received "
                          f"fft_length={fft_length}.", stacklevel=2)
        if isinstance(window, str):
            u.check_choice(self, "window", window, _WINDOWS)
        self.window = _window_values(self, window, self.frame_length, "frame_length")
        self.periodic = _check_bool(self, "periodic", periodic)
        self.scaling = u.check_choice(self, "scaling", scaling, ("density", "spectrum", None))
        self.padding = u.check_choice(self, "padding", padding, ("valid", "same"))
        self.expand_dims = _check_bool(self, "expand_dims", expand_dims)
        self.data_format = standardize_data_format(data_format)
        self._frame_step = self.frame_step or self.frame_length // 2
        self._fft_length = self.fft_length or 2 ** int(math.ceil(math.log2(self.frame_length)))
        self._bins = self._fft_length // 2 + 1
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._bins)
        for side in ("real", "imag"):
            if self.mode != {"real": "imag", "imag": "real"}[side]:
                init = STFT(side=side, window=self.window, scaling=self.scaling, periodic=self.periodic)
                setattr(self, f"{side}_kernel", self.add_weight(name=f"{side}_kernel", shape=shape,
                                                                initializer=init))
        self.built = True

    def _frames(self, time):
        if time is None:
            return None
        if self.padding == "same":
            return -(-time // self._frame_step)
        if time < self.frame_length:
            raise ValueError(f"{u.who(self)}: with padding='valid' the signal must have at least frame_length="
                             f"{self.frame_length} samples, but received {time}. Use padding='same' or a shorter "
                             "frame_length.")
        return (time - self.frame_length) // self._frame_step + 1

    def call(self, inputs):
        dtype = backend.dtype_name(inputs)
        if dtype not in _FLOAT_INPUTS:
            raise TypeError(f"{u.who(self)} expected a float16, bfloat16, float32 or float64 signal, but received "
                            f"dtype {dtype}. Cast it first, e.g. lamina.ops.cast(x, 'float32').")
        last = self.data_format == "channels_last"
        channels, time = (inputs.shape[2], inputs.shape[1]) if last else (inputs.shape[1], inputs.shape[2])
        self._frames(time)
        # Every channel is a separate 1-channel signal: (batch * channels, time, 1) or (batch * channels, 1, time).
        if last:
            signals = ops.reshape(ops.transpose(inputs, (0, 2, 1)), (-1, time, 1))
        else:
            signals = ops.reshape(inputs, (-1, 1, time))
        if self.mode == "real":
            kernel = self.real_kernel
        elif self.mode == "imag":
            kernel = self.imag_kernel
        else:  # one convolution gives both parts: output bins [real | imag]
            kernel = ops.concatenate([self.real_kernel, self.imag_kernel], axis=-1)
        out = ops.conv(signals, ops.cast(kernel, dtype), strides=self._frame_step, padding=self.padding,
                       data_format=self.data_format)
        out = self._spectrum(out, -1 if last else 1)
        return self._layout(out, channels)

    def _spectrum(self, out, axis):
        """The ``mode``'s values from the convolution output (frequency bins on ``axis``)."""
        if self.mode in ("real", "imag", "stft"):
            return out
        bins = self._bins
        index = [slice(None)] * 3
        index[axis] = slice(0, bins)
        real = out[tuple(index)]
        index[axis] = slice(bins, 2 * bins)
        imag = out[tuple(index)]
        if self.mode == "angle":
            return ops.arctan2(imag, real)
        power = ops.square(real) + ops.square(imag)
        if self.mode == "psd":
            doubled = np.full(bins, 2.0)
            doubled[0] = doubled[-1] = 1.0  # DC and Nyquist bins have no mirrored negative frequency
            shape = [1, 1, 1]
            shape[axis] = bins
            return power * ops.convert_to_tensor(doubled.reshape(shape), backend.dtype_name(power))
        magnitude = ops.sqrt(ops.maximum(power, epsilon()))
        if self.mode == "magnitude":
            return magnitude
        return ops.log(ops.maximum(magnitude, epsilon()))

    def _layout(self, out, channels):
        """(batch * channels, frames, bins) or (batch * channels, bins, frames) -> the documented output."""
        bins = out.shape[-1] if self.data_format == "channels_last" else out.shape[1]
        frames = out.shape[1] if self.data_format == "channels_last" else out.shape[-1]
        if self.data_format == "channels_last":
            out = ops.reshape(out, (-1, channels, frames, bins))
            if self.expand_dims:
                return ops.transpose(out, (0, 2, 3, 1))
            return ops.reshape(ops.transpose(out, (0, 2, 1, 3)), (-1, frames, channels * bins))
        if self.expand_dims:
            return ops.transpose(ops.reshape(out, (-1, channels, bins, frames)), (0, 1, 3, 2))
        return ops.reshape(out, (-1, channels * bins, frames))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(f"{u.who(self)} expected inputs of rank 3 ((batch, time, channels) or (batch, "
                             f"channels, time)), but received shape {input_shape}.")
        last = self.data_format == "channels_last"
        batch = input_shape[0]
        channels, time = (input_shape[2], input_shape[1]) if last else (input_shape[1], input_shape[2])
        bins = self._bins * (2 if self.mode == "stft" else 1)
        frames = self._frames(time)
        if self.expand_dims:
            return (batch, frames, bins, channels) if last else (batch, channels, frames, bins)
        features = None if channels is None else channels * bins
        return (batch, frames, features) if last else (batch, features, frames)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length, "window": self.window,
                "periodic": self.periodic, "scaling": self.scaling, "padding": self.padding,
                "data_format": self.data_format, "expand_dims": self.expand_dims}


def _reflect_indices(samples, pad):
    """Indices of a signal of ``samples`` values reflect-padded by ``pad`` on both sides (the edge sample is
    not repeated; a pad longer than the signal reflects again, as ``np.pad(mode="reflect")``)."""
    index = np.arange(-pad, samples + pad)
    if samples == 1:
        return np.zeros_like(index)
    period = 2 * (samples - 1)
    index = np.abs(index) % period
    return np.where(index >= samples, period - index, index).astype("int32")


# HTK mel scale: mel(f) = 1127 * ln(1 + f / 700)  (= 2595 * log10(1 + f / 700)).
def _hertz_to_mel(hertz):
    return 1127.0 * np.log1p(np.asarray(hertz, "float64") / 700.0)


def mel_filterbank(num_mel_bins, num_spectrogram_bins, sampling_rate, lower_edge_hertz, upper_edge_hertz):
    """``(num_spectrogram_bins, num_mel_bins)`` NumPy float64 matrix of triangular mel filters (peak 1).

    The spectrogram bins are spaced evenly on ``[0, sampling_rate / 2]``; the filters' edges evenly on the mel
    scale between ``lower_edge_hertz`` and ``upper_edge_hertz``. The DC bin gets no weight (as HTK).
    """
    bins_mel = _hertz_to_mel(np.linspace(0.0, sampling_rate / 2.0, num_spectrogram_bins))[1:, None]
    edges = np.linspace(_hertz_to_mel(lower_edge_hertz), _hertz_to_mel(upper_edge_hertz), num_mel_bins + 2)
    lower, center, upper = edges[None, :-2], edges[None, 1:-1], edges[None, 2:]
    rising = (bins_mel - lower) / (center - lower)
    falling = (upper - bins_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.concatenate([np.zeros((1, num_mel_bins)), weights], axis=0)


class MelSpectrogram(Layer):
    """Mel spectrogram of raw audio: STFT power, triangular mel filters, then (by default) decibels.

    Each signal is reflect-padded by ``fft_length // 2`` on both sides, cut into frames of ``sequence_length``
    samples every ``sequence_stride`` samples, windowed, and transformed (``lamina.ops.stft``). The magnitudes
    raised to ``mag_exp`` are mapped to ``num_mel_bins`` mel bands (HTK mel scale, filters of peak 1 between
    ``min_freq`` and ``max_freq``). With ``power_to_db`` the result is
    ``10 * log10(max(S, min_power) / max(|ref_power|, min_power))``, floored at its maximum minus ``top_db``
    (the maximum over the whole input, batch included, as Keras). The layer has no weights.

    Args:
        fft_length: the FFT size. Default 2048.
        sequence_stride: samples between frames. Default 512.
        sequence_length: samples per frame (at most ``fft_length``). Default ``fft_length``.
        window: ``"hann"`` (default), ``"hamming"``, a 1D array of ``sequence_length`` values, or None.
        sampling_rate: samples per second of the signal. Default 16000.
        num_mel_bins: mel bands in the output. Default 128.
        min_freq: lowest frequency of the mel filters, in Hz. Default 20.
        max_freq: highest frequency of the mel filters, in Hz. Default ``sampling_rate / 2``.
        power_to_db: convert to decibels. Default True.
        top_db: the decibel floor below the maximum. Default 80 (None: no floor).
        mag_exp: exponent of the magnitude (1: magnitude, 2: power, the default).
        min_power: the smallest power (and ``ref_power``) before the logarithm. Default 1e-10.
        ref_power: the power of 0 dB. Default 1.

    Input shape:
        ``(samples,)`` or ``(batch, samples)`` (any rank: the last axis is time).

    Output shape:
        ``(..., num_mel_bins, 1 + samples // sequence_stride)``.

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.MelSpectrogram(num_mel_bins=16, sampling_rate=8000, sequence_stride=128,
    ...                                      fft_length=512)
    >>> tuple(layer(np.zeros((2, 1024), "float32")).shape)
    (2, 16, 9)
    """

    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None, window="hann",
                 sampling_rate=16000, num_mel_bins=128, min_freq=20.0, max_freq=None, power_to_db=True,
                 top_db=80.0, mag_exp=2.0, min_power=1e-10, ref_power=1.0, **kwargs):
        super().__init__(**kwargs)
        self.fft_length = u.check_positive_int(self, "fft_length", fft_length)
        self.sequence_stride = u.check_positive_int(self, "sequence_stride", sequence_stride)
        self.sequence_length = u.check_positive_int(self, "sequence_length", sequence_length or fft_length)
        if self.fft_length < self.sequence_length:
            raise ValueError(f"{u.who(self)}: fft_length must be at least sequence_length, but received "
                             f"sequence_length={self.sequence_length} and fft_length={self.fft_length}.")
        if isinstance(window, str):
            u.check_choice(self, "window", window, ("hann", "hamming"))
        self.window = _window_values(self, window, self.sequence_length, "sequence_length")
        self.sampling_rate = _check_number(self, "sampling_rate", sampling_rate, positive=True)
        self.num_mel_bins = u.check_positive_int(self, "num_mel_bins", num_mel_bins)
        self.min_freq = _check_number(self, "min_freq", min_freq)
        self.max_freq = _check_number(self, "max_freq", max_freq or int(sampling_rate / 2))
        if not 0 <= self.min_freq < self.max_freq:
            raise ValueError(f"{u.who(self)}: expected 0 <= min_freq < max_freq, but received min_freq="
                             f"{min_freq} and max_freq={self.max_freq}.")
        self.power_to_db = _check_bool(self, "power_to_db", power_to_db)
        self.top_db = _check_number(self, "top_db", top_db, allow_none=True)
        self.mag_exp = _check_number(self, "mag_exp", mag_exp, positive=True)
        self.min_power = _check_number(self, "min_power", min_power, positive=True)
        self.ref_power = _check_number(self, "ref_power", ref_power)
        self._filters = {}

    def _filterbank(self, bins):
        if bins not in self._filters:
            self._filters[bins] = mel_filterbank(self.num_mel_bins, bins, self.sampling_rate, self.min_freq,
                                                 self.max_freq)
        return self._filters[bins]

    def call(self, inputs):
        if len(inputs.shape) < 1:
            raise ValueError(f"{u.who(self)} expected a signal of shape (samples,) or (batch, samples), but "
                             f"received a scalar.")
        dtype = self.compute_dtype if self.compute_dtype in ("float32", "float64") else "float32"
        x = ops.cast(inputs, dtype)
        window = self.window if self.window is None or isinstance(self.window, str) else np.asarray(self.window)
        samples, half = x.shape[-1], self.fft_length // 2
        if not samples:
            raise ValueError(f"{u.who(self)} expected a signal of at least 1 sample, but received shape "
                             f"{tuple(x.shape)}.")
        if samples <= half:  # shorter than the padding: reflect repeatedly, as NumPy's pad(mode="reflect")
            x = ops.take(x, ops.convert_to_tensor(_reflect_indices(samples, half)), axis=-1)
        real, imag = ops.stft(x, self.sequence_length, self.sequence_stride, self.fft_length, window=window,
                              center=samples > half)
        power = ops.square(real) + ops.square(imag)
        if self.mag_exp == 2:
            spec = power
        elif self.mag_exp == 1:
            spec = ops.sqrt(power)
        else:
            spec = ops.power(power, self.mag_exp / 2.0)
        mel = ops.matmul(spec, ops.convert_to_tensor(self._filterbank(real.shape[-1]), dtype))
        if self.power_to_db:
            ref = 10.0 * math.log10(max(abs(self.ref_power), self.min_power))
            mel = 10.0 * ops.log10(ops.maximum(mel, self.min_power)) - ref
            if self.top_db is not None:
                mel = ops.maximum(mel, ops.max(mel) - self.top_db)
        return ops.cast(ops.swapaxes(mel, -1, -2), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if not input_shape:
            raise ValueError(f"{u.who(self)} expected a signal of shape (samples,) or (batch, samples), but "
                             f"received a scalar.")
        samples = input_shape[-1]
        frames = None if samples is None else 1 + samples // self.sequence_stride
        return input_shape[:-1] + (self.num_mel_bins, frames)

    def get_config(self):
        return {**super().get_config(), "fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length, "window": self.window,
                "sampling_rate": self.sampling_rate, "num_mel_bins": self.num_mel_bins,
                "min_freq": self.min_freq, "max_freq": self.max_freq, "power_to_db": self.power_to_db,
                "top_db": self.top_db, "mag_exp": self.mag_exp, "min_power": self.min_power,
                "ref_power": self.ref_power}
