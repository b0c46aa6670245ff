"""Audio preprocessing: ``STFTSpectrogram``, ``MelSpectrogram`` and ``audio_dataset_from_directory``.

The layers are checked against NumPy references written here (framing + ``np.fft.rfft``, a mel filterbank built
band by band), the dataset against WAV files written here with the stdlib ``wave`` module (and by hand for
float WAV).
"""

import math
import os
import struct
import wave

import numpy as np
import pytest

import lamina
from lamina import layers, ops

RNG = np.random.default_rng(7)


def _np(x):
    return ops.convert_to_numpy(x)


# ---- NumPy references ------------------------------------------------------------------------------------


def ref_window(name, length, periodic):
    if name is None:
        return np.ones(length)
    n = length if periodic else length - 1
    k = np.arange(length)
    a = {"hann": 0.5, "hamming": 0.54}[name]
    return a - (1 - a) * np.cos(2 * np.pi * k / n)


def ref_stft_layer(x, mode="log", frame_length=256, frame_step=None, fft_length=None, window="hann",
                   periodic=False, scaling="density", padding="valid", expand_dims=False,
                   data_format="channels_last"):
    """The STFTSpectrogram output, from framing and np.fft.rfft in float64."""
    x = np.asarray(x, "float64")
    if data_format == "channels_first":
        x = x.transpose(0, 2, 1)
    step = frame_step or frame_length // 2
    n_fft = fft_length or 2 ** math.ceil(math.log2(frame_length))
    batch, time, channels = x.shape
    if padding == "same":
        frames = -(-time // step)
        total = max((frames - 1) * step + frame_length - time, 0)
        x = np.pad(x, ((0, 0), (total // 2, total - total // 2), (0, 0)))
    else:
        frames = (time - frame_length) // step + 1
    win = ref_window(window, frame_length, periodic) if isinstance(window, (str, type(None))) else np.asarray(window)
    if scaling == "density":
        win = win / np.sqrt(np.sum(win ** 2))
    elif scaling == "spectrum":
        win = win / np.sum(np.abs(win))
    cut = np.stack([x[:, i * step:i * step + frame_length, :] for i in range(frames)], axis=1)  # b, f, L, c
    spec = np.fft.rfft(cut * win[None, None, :, None], n=n_fft, axis=2)  # b, frames, bins, c
    spec = spec.transpose(0, 3, 1, 2)  # b, c, frames, bins
    power = spec.real ** 2 + spec.imag ** 2
    if mode == "real":
        out = spec.real
    elif mode == "imag":
        out = spec.imag
    elif mode == "angle":
        out = np.angle(spec)
    elif mode == "stft":
        out = np.concatenate([spec.real, spec.imag], axis=-1)
    elif mode == "psd":
        out = power.copy()
        out[..., 1:-1] *= 2
    elif mode == "magnitude":
        out = np.sqrt(power)
    else:
        out = np.log(np.maximum(np.sqrt(power), 1e-7))
    b, c, f, k = out.shape
    if data_format == "channels_last":
        return out.transpose(0, 2, 3, 1) if expand_dims else out.transpose(0, 2, 1, 3).reshape(b, f, c * k)
    return out if expand_dims else out.transpose(0, 1, 3, 2).reshape(b, c * k, f)


def ref_mel_filters(num_mel_bins, num_bins, sampling_rate, low, high):
    """Triangular filters of peak 1, edges evenly spaced on the HTK mel scale (2595 log10(1 + f/700))."""
    def mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)
    edges = np.linspace(mel(low), mel(high), num_mel_bins + 2)
    freqs = np.linspace(0.0, sampling_rate / 2.0, num_bins)
    filters = np.zeros((num_bins, num_mel_bins))
    for band in range(num_mel_bins):
        lo, mid, hi = edges[band:band + 3]
        for i in range(1, num_bins):  # the DC bin gets no weight
            m = mel(freqs[i])
            if lo < m <= mid:
                filters[i, band] = (m - lo) / (mid - lo)
            elif mid < m < hi:
                filters[i, band] = (hi - m) / (hi - mid)
    return filters


def ref_mel(x, fft_length=2048, sequence_stride=512, sequence_length=None, window="hann", sampling_rate=16000,
            num_mel_bins=128, min_freq=20.0, max_freq=None, power_to_db=True, top_db=80.0, mag_exp=2.0,
            min_power=1e-10, ref_power=1.0):
    x = np.asarray(x, "float64")
    length = sequence_length or fft_length
    half = fft_length // 2
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(half, half)], mode="reflect")
    frames = 1 + (padded.shape[-1] - fft_length) // sequence_stride
    win = np.zeros(fft_length)
    left = (fft_length - length) // 2
    win[left:left + length] = ref_window(window, length, periodic=True)
    cut = np.stack([padded[..., i * sequence_stride:i * sequence_stride + fft_length] for i in range(frames)], -2)
    spec = np.abs(np.fft.rfft(cut * win, axis=-1)) ** mag_exp
    mel = spec @ ref_mel_filters(num_mel_bins, spec.shape[-1], sampling_rate, min_freq,
                                 max_freq or sampling_rate // 2)
    if power_to_db:
        mel = 10 * np.log10(np.maximum(mel, min_power)) - 10 * np.log10(max(abs(ref_power), min_power))
        mel = np.maximum(mel, mel.max() - top_db)
    return np.swapaxes(mel, -1, -2)


# ---- STFTSpectrogram -------------------------------------------------------------------------------------

MODES = ["log", "magnitude", "psd", "real", "imag", "angle", "stft"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_stft_matches_numpy(mode, padding):
    x = RNG.standard_normal((2, 300, 2)).astype("float32")
    kwargs = dict(mode=mode, frame_length=40, frame_step=15, fft_length=64, padding=padding)
    got = _np(layers.STFTSpectrogram(**kwargs)(x))
    want = ref_stft_layer(x, **kwargs)
    assert got.shape == want.shape and got.dtype == np.float32
    if mode == "angle":  # the phase of a tiny coefficient is noise; compare where the magnitude is not tiny
        mag = ref_stft_layer(x, **{**kwargs, "mode": "magnitude"})
        diff = np.abs(np.angle(np.exp(1j * (got - want))))
        assert diff[mag > 1e-3].max() < 1e-3
    elif mode == "log":
        np.testing.assert_allclose(got, want, atol=2e-4)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("expand_dims", [False, True])
@pytest.mark.parametrize("mode", ["magnitude", "stft"])
def test_stft_layouts_match_numpy(data_format, expand_dims, mode):
    x = RNG.standard_normal((2, 3, 200) if data_format == "channels_first" else (2, 200, 3)).astype("float32")
    kwargs = dict(mode=mode, frame_length=32, frame_step=16, padding="same", data_format=data_format,
                  expand_dims=expand_dims)
    layer = layers.STFTSpectrogram(**kwargs)
    got = _np(layer(x))
    want = ref_stft_layer(x, **kwargs)
    assert got.shape == want.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("window,periodic,scaling", [("hamming", True, "spectrum"), (None, False, None),
                                                     ("hann", True, None)])
def test_stft_window_options_match_numpy(window, periodic, scaling):
    x = RNG.standard_normal((1, 256, 1)).astype("float32")
    kwargs = dict(mode="magnitude", frame_length=50, fft_length=64, window=window, periodic=periodic,
                  scaling=scaling)
    np.testing.assert_allclose(_np(layers.STFTSpectrogram(**kwargs)(x)), ref_stft_layer(x, **kwargs), rtol=1e-4,
                               atol=1e-4)


def test_stft_custom_window_array():
    win = RNG.uniform(0.1, 1.0, 32)
    x = RNG.standard_normal((1, 128, 1)).astype("float32")
    layer = layers.STFTSpectrogram(mode="real", frame_length=32, window=win, scaling=None)
    np.testing.assert_allclose(_np(layer(x)), ref_stft_layer(x, mode="real", frame_length=32, window=win,
                                                             scaling=None), rtol=1e-4, atol=2e-5)
    assert layer.get_config()["window"] == pytest.approx(win.tolist())  # a list: the config stays JSON


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("expand_dims", [False, True])
def test_stft_symbolic_shape(mode, data_format, expand_dims):
    layer = layers.STFTSpectrogram(mode=mode, frame_length=64, frame_step=32, data_format=data_format,
                                   expand_dims=expand_dims)
    shape = (1000, 2) if data_format == "channels_last" else (2, 1000)
    out = layer(lamina.Input(shape))
    bins = 33 * (2 if mode == "stft" else 1)
    frames = (1000 - 64) // 32 + 1
    expected = {("channels_last", False): (None, frames, 2 * bins), ("channels_last", True): (None, frames, bins, 2),
                ("channels_first", False): (None, 2 * bins, frames),
                ("channels_first", True): (None, 2, frames, bins)}[(data_format, expand_dims)]
    assert tuple(out.shape) == expected
    eager = layer(np.zeros((3,) + shape, "float32"))
    assert tuple(eager.shape) == (3,) + expected[1:]


def test_stft_weights_follow_mode_and_defaults():
    layer = layers.STFTSpectrogram()
    layer(np.zeros((1, 512, 1), "float32"))
    assert [w.path for w in layer.weights] == ["stft_spectrogram/real_kernel", "stft_spectrogram/imag_kernel"]
    assert all(tuple(w.shape) == (256, 1, 129) for w in layer.trainable_weights)
    real_only = layers.STFTSpectrogram(mode="real", frame_length=100)
    real_only(np.zeros((1, 200, 1), "float32"))
    assert [w.name for w in real_only.weights] == ["real_kernel"]
    assert tuple(real_only.weights[0].shape) == (100, 1, 65)  # fft_length: next power of two
    imag_only = layers.STFTSpectrogram(mode="imag", frame_length=64)
    imag_only(np.zeros((1, 200, 1), "float32"))
    assert [w.name for w in imag_only.weights] == ["imag_kernel"]
    frozen = layers.STFTSpectrogram(frame_length=64, trainable=False)
    frozen(np.zeros((1, 200, 1), "float32"))
    assert len(frozen.trainable_weights) == 0 and len(frozen.non_trainable_weights) == 2


def test_stft_config_round_trip():
    layer = layers.STFTSpectrogram(mode="psd", frame_length=64, frame_step=20, fft_length=128, window="hamming",
                                   periodic=True, scaling="spectrum", padding="same", expand_dims=True,
                                   data_format="channels_first", name="spec")
    config = layer.get_config()
    for key in ("mode", "frame_length", "frame_step", "fft_length", "window", "periodic", "scaling", "padding",
                "data_format", "expand_dims"):
        assert key in config
    clone = layers.STFTSpectrogram.from_config(config)
    assert clone.get_config() == config
    x = RNG.standard_normal((2, 1, 150)).astype("float32")
    np.testing.assert_array_equal(_np(clone(x)), _np(layer(x)))
    defaults = layers.STFTSpectrogram().get_config()
    assert (defaults["mode"], defaults["frame_length"], defaults["frame_step"], defaults["fft_length"],
            defaults["window"], defaults["scaling"], defaults["padding"]) == \
        ("log", 256, None, None, "hann", "density", "valid")


def _fit_model(spec_layer, shape, steps=3):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16,) + shape).astype("float32")
    y = rng.integers(0, 2, 16)
    inputs = lamina.Input(shape)
    h = layers.Flatten()(spec_layer(inputs))
    model = lamina.Model(inputs, layers.Dense(2, activation="softmax")(h))
    model.compile(optimizer=lamina.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=steps, batch_size=8, verbose=0)
    return model, history.history["loss"]


def test_stft_trains_inside_a_model():
    layer = layers.STFTSpectrogram(mode="magnitude", frame_length=32, frame_step=16)
    layer.build((None, 128, 1))
    before = _np(layer.real_kernel).copy()
    _, losses = _fit_model(layer, (128, 1))
    assert all(np.isfinite(losses))
    assert np.abs(_np(layer.real_kernel) - before).max() > 0  # the DFT kernels are trained

    frozen = layers.STFTSpectrogram(mode="magnitude", frame_length=32, frame_step=16, trainable=False)
    frozen.build((None, 128, 1))
    before = _np(frozen.real_kernel).copy()
    _fit_model(frozen, (128, 1))
    np.testing.assert_array_equal(_np(frozen.real_kernel), before)


@pytest.mark.parametrize("kwargs,match", [
    (dict(mode="power"), "mode must be one of"),
    (dict(frame_length=64, frame_step=65), "frame_step must be a positive int not greater than frame_length"),
    (dict(frame_step=0), "frame_step must be a positive int"),
    (dict(frame_length=64, fft_length=32), "fft_length must be at least frame_length"),
    (dict(scaling="energy"), "scaling must be one of"),
    (dict(padding="causal"), "padding must be one of"),
    (dict(window="kaiserish"), "window must be one of"),
    (dict(frame_length=16, window=[1.0, 2.0]), "1D array of 16 numbers"),
    (dict(periodic="yes"), "periodic must be True or False"),
    (dict(data_format="channels_middle"), "data_format must be one of"),
])
def test_stft_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.STFTSpectrogram(**kwargs)


def test_stft_bad_inputs():
    with pytest.warns(UserWarning, match="power of two"):
        layers.STFTSpectrogram(frame_length=64, fft_length=100)
    layer = layers.STFTSpectrogram(frame_length=64)
    with pytest.raises(TypeError, match="expected a float16, bfloat16, float32 or float64 signal"):
        layer(np.zeros((1, 128, 1), "int32"))
    with pytest.raises(ValueError, match="at least frame_length=64 samples"):
        layers.STFTSpectrogram(frame_length=64)(np.zeros((1, 32, 1), "float32"))
    with pytest.raises(ValueError, match="ndim|rank"):
        layers.STFTSpectrogram(frame_length=64)(np.zeros((1, 128), "float32"))


# ---- MelSpectrogram --------------------------------------------------------------------------------------

MEL_CONFIGS = [
    dict(),
    dict(fft_length=512, sequence_stride=128, num_mel_bins=40, sampling_rate=8000),
    dict(fft_length=256, sequence_length=200, sequence_stride=100, window="hamming", num_mel_bins=20,
         min_freq=100.0, max_freq=3000.0, power_to_db=False, mag_exp=1.0),
    dict(fft_length=256, sequence_stride=64, num_mel_bins=32, top_db=20.0, ref_power=5.0, mag_exp=1.5),
    dict(fft_length=256, sequence_stride=64, num_mel_bins=32, window=None),
]


@pytest.mark.parametrize("config", MEL_CONFIGS)
def test_mel_matches_numpy(config):
    x = RNG.standard_normal((3, 4000)).astype("float32")
    layer = layers.MelSpectrogram(**config)
    for signal in (x, x[1]):  # batched and unbatched
        got = _np(layer(signal))
        want = ref_mel(signal, **config)
        assert got.shape == want.shape and got.dtype == np.float32
        scale = np.abs(want).max()
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * scale)


def test_mel_top_db_floor_uses_the_maximum_over_the_whole_batch():
    quiet = 1e-3 * RNG.standard_normal(2048)
    loud = RNG.standard_normal(2048)
    layer = layers.MelSpectrogram(fft_length=256, sequence_stride=128, num_mel_bins=16, top_db=30.0)
    batch = _np(layer(np.stack([quiet, loud]).astype("float32")))
    alone = _np(layer(quiet[None].astype("float32")))
    assert batch.min() == pytest.approx(batch.max() - 30.0, abs=1e-3)
    assert not np.allclose(batch[0], alone[0], atol=1e-2)  # the loud clip sets the floor of the quiet one
    np.testing.assert_allclose(batch, ref_mel(np.stack([quiet, loud]), fft_length=256, sequence_stride=128,
                                              num_mel_bins=16, top_db=30.0), atol=1e-3)


@pytest.mark.parametrize("samples", [1023, 1024, 1100, 4000])
def test_mel_output_shape(samples):
    layer = layers.MelSpectrogram(fft_length=1024, sequence_stride=512, num_mel_bins=20)
    expected = (2, 20, 1 + samples // 512)
    assert tuple(layer(np.zeros((2, samples), "float32")).shape) == expected
    assert tuple(layer(lamina.Input((samples,))).shape) == (None,) + expected[1:]
    assert tuple(layer.compute_output_shape((samples,))) == expected[1:]


def test_mel_float64_and_integer_inputs():
    x = RNG.standard_normal((1, 2048))
    layer64 = layers.MelSpectrogram(fft_length=256, sequence_stride=128, num_mel_bins=10, dtype="float64")
    out = _np(layer64(x))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, ref_mel(x, fft_length=256, sequence_stride=128, num_mel_bins=10), rtol=1e-9,
                               atol=1e-8)
    ints = (RNG.standard_normal((1, 2048)) * 1000).astype("int32")
    got = _np(layers.MelSpectrogram(fft_length=256, sequence_stride=128, num_mel_bins=10)(ints))
    assert got.dtype == np.float32 and np.isfinite(got).all()


def test_mel_config_round_trip_and_defaults():
    defaults = layers.MelSpectrogram().get_config()
    assert {k: defaults[k] for k in ("fft_length", "sequence_stride", "sequence_length", "window", "sampling_rate",
                                     "num_mel_bins", "min_freq", "max_freq", "power_to_db", "top_db", "mag_exp",
                                     "min_power", "ref_power")} == dict(
        fft_length=2048, sequence_stride=512, sequence_length=2048, window="hann", sampling_rate=16000,
        num_mel_bins=128, min_freq=20.0, max_freq=8000, power_to_db=True, top_db=80.0, mag_exp=2.0,
        min_power=1e-10, ref_power=1.0)
    layer = layers.MelSpectrogram(fft_length=256, sequence_stride=64, sequence_length=200, window="hamming",
                                  num_mel_bins=12, sampling_rate=11025, max_freq=4000.0, top_db=50.0)
    clone = layers.MelSpectrogram.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    x = RNG.standard_normal((2, 1000)).astype("float32")
    np.testing.assert_array_equal(_np(clone(x)), _np(layer(x)))


def test_mel_inside_a_compiled_model():
    layer = layers.MelSpectrogram(fft_length=128, sequence_stride=64, num_mel_bins=8, sampling_rate=8000)
    model, losses = _fit_model(layer, (512,))
    assert all(np.isfinite(losses)) and layer.weights == []
    x = RNG.standard_normal((4, 512)).astype("float32")
    spec = _np(lamina.Model(model.inputs, model.layers[1].output).predict(x, verbose=0))
    np.testing.assert_allclose(spec, ref_mel(x, fft_length=128, sequence_stride=64, num_mel_bins=8,
                                             sampling_rate=8000), atol=1e-3)


@pytest.mark.parametrize("kwargs,match", [
    (dict(fft_length=256, sequence_length=512), "fft_length must be at least sequence_length"),
    (dict(fft_length=0), "fft_length must be a positive int"),
    (dict(sequence_stride=-1), "sequence_stride must be a positive int"),
    (dict(window="kaiser"), "window must be one of"),
    (dict(fft_length=256, window=np.ones(100)), "1D array of 256 numbers"),
    (dict(num_mel_bins=0), "num_mel_bins must be a positive int"),
    (dict(sampling_rate=0), "sampling_rate must be a positive number"),
    (dict(min_freq=5000.0, max_freq=4000.0), "min_freq < max_freq"),
    (dict(mag_exp=0), "mag_exp must be a positive number"),
    (dict(power_to_db="yes"), "power_to_db must be True or False"),
])
def test_mel_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.MelSpectrogram(**kwargs)


# ---- audio_dataset_from_directory ------------------------------------------------------------------------


def write_pcm(path, samples, rate=8000, width=2):
    """A PCM WAV file of integer ``samples`` ``(n,)`` or ``(n, channels)`` with ``width`` bytes per sample."""
    samples = np.asarray(samples)
    if samples.ndim == 1:
        samples = samples[:, None]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if width == 3:
        as32 = samples.astype("<i4").reshape(-1)
        raw = np.stack([(as32 >> s) & 0xFF for s in (0, 8, 16)], axis=-1).astype("uint8").tobytes()
    else:
        raw = samples.astype({1: "u1", 2: "<i2", 4: "<i4"}[width]).tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)


def write_float_wav(path, samples, rate=8000):
    samples = np.asarray(samples, "<f4")
    if samples.ndim == 1:
        samples = samples[:, None]
    data = samples.tobytes()
    channels = samples.shape[1]
    fmt = struct.pack("<HHIIHH", 3, channels, rate, rate * 4 * channels, 4 * channels, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)


@pytest.fixture
def speech(tmp_path):
    """3 classes, 8 files: file k of class c has length 10 + 3 k and value (c + 1) * 1000 (16-bit PCM)."""
    counts = {"down": 3, "go": 2, "up": 3}
    for c, (name, count) in enumerate(counts.items()):
        for k in range(count):
            write_pcm(tmp_path / name / f"clip{k}.wav", np.full(10 + 3 * k, (c + 1) * 1000))
    (tmp_path / "up" / "notes.txt").write_text("not audio")
    return tmp_path


def _class_of(audio):
    """The class index a fixture clip encodes (its value is (c + 1) * 1000 / 32768)."""
    return int(round(audio[0, 0] * 32768 / 1000)) - 1


def test_dataset_labels_and_class_names(speech):
    ds = lamina.utils.audio_dataset_from_directory(speech, batch_size=4, shuffle=False, verbose=False)
    assert ds.class_names == ["down", "go", "up"] and len(ds) == 2
    audio, labels = ds[0]
    assert audio.dtype == np.float32 and labels.dtype == np.int32
    assert labels.tolist() == [0, 0, 0, 1]
    assert audio.shape == (4, 16, 1)  # padded to the longest file of the batch (10 + 3 * 2)
    assert [_class_of(a) for a in audio] == labels.tolist()
    np.testing.assert_allclose(audio[0, :10, 0], 1000 / 32768)
    assert not audio[0, 10:].any()  # zero padding after the 10 samples of clip0
    audio, labels = ds[1]
    assert audio.shape == (4, 16, 1) and labels.tolist() == [1, 2, 2, 2]


def test_dataset_label_modes_and_class_subset(speech):
    ds = lamina.utils.audio_dataset_from_directory(speech, label_mode="categorical", batch_size=8, shuffle=False,
                                                   verbose=False)
    audio, labels = ds[0]
    assert labels.shape == (8, 3) and labels.dtype == np.float32
    assert [_class_of(a) for a in audio] == labels.argmax(1).tolist()
    ds = lamina.utils.audio_dataset_from_directory(speech, label_mode="binary", class_names=["up", "go"],
                                                   batch_size=8, shuffle=False, verbose=False)
    audio, labels = ds[0]
    assert ds.class_names == ["up", "go"] and labels.shape == (5, 1)
    assert labels[:, 0].tolist() == [0, 0, 0, 1, 1] and [_class_of(a) for a in audio] == [2, 2, 2, 1, 1]
    only_audio = lamina.utils.audio_dataset_from_directory(speech, label_mode=None, batch_size=8, shuffle=False,
                                                           verbose=False)[0]
    assert isinstance(only_audio, np.ndarray) and only_audio.shape == (8, 16, 1)
    with pytest.raises(ValueError, match="exactly 2 classes"):
        lamina.utils.audio_dataset_from_directory(speech, label_mode="binary", verbose=False)


def test_dataset_explicit_labels(speech):
    labels = list(range(8))[::-1]
    ds = lamina.utils.audio_dataset_from_directory(speech, labels=labels, batch_size=None, shuffle=False,
                                                   verbose=False)
    first_audio, first_label = ds[0]
    assert first_audio.shape == (10, 1) and int(first_label) == 7  # single samples, unpadded
    with pytest.raises(ValueError, match="one label per file"):
        lamina.utils.audio_dataset_from_directory(speech, labels=[0, 1], verbose=False)


@pytest.mark.parametrize("length", [12, 30])
def test_dataset_output_sequence_length(speech, length):
    ds = lamina.utils.audio_dataset_from_directory(speech, batch_size=8, output_sequence_length=length,
                                                   shuffle=False, verbose=False)
    audio, _ = ds[0]
    assert audio.shape == (8, length, 1)
    assert np.count_nonzero(audio[0, :, 0]) == min(10, length)  # clip0 of "down" has 10 samples
    assert np.count_nonzero(audio[2, :, 0]) == min(16, length)  # clip2 has 16


def test_dataset_splits_are_disjoint_complete_and_seeded(speech):
    kwargs = dict(batch_size=None, validation_split=0.25, seed=3, verbose=False)
    train = lamina.utils.audio_dataset_from_directory(speech, subset="training", **kwargs)
    val = lamina.utils.audio_dataset_from_directory(speech, subset="validation", **kwargs)
    assert len(train) == 6 and len(val) == 2
    assert set(train.file_paths).isdisjoint(val.file_paths)
    assert len(set(train.file_paths) | set(val.file_paths)) == 8
    both = lamina.utils.audio_dataset_from_directory(speech, subset="both", **kwargs)
    assert sorted(both[0].file_paths) == sorted(train.file_paths)
    assert sorted(both[1].file_paths) == sorted(val.file_paths)
    again = lamina.utils.audio_dataset_from_directory(speech, batch_size=8, seed=11, verbose=False)
    same = lamina.utils.audio_dataset_from_directory(speech, batch_size=8, seed=11, verbose=False)
    other = lamina.utils.audio_dataset_from_directory(speech, batch_size=8, seed=12, verbose=False)
    assert again[0][1].tolist() == same[0][1].tolist()
    np.testing.assert_array_equal(again[0][0], same[0][0])
    assert again.file_paths != other.file_paths or again[0][1].tolist() != other[0][1].tolist()
    with pytest.raises(ValueError, match="seed"):
        lamina.utils.audio_dataset_from_directory(speech, validation_split=0.2, subset="training", verbose=False)


def test_dataset_decodes_every_supported_encoding(tmp_path):
    ints = np.array([[0, 100], [-200, 300], [400, -500]])
    write_pcm(tmp_path / "a" / "s8.wav", ints // 4 + 128, width=1)
    write_pcm(tmp_path / "a" / "s16.wav", ints * 50, width=2)
    write_pcm(tmp_path / "a" / "s24.wav", ints * 5000, width=3)
    write_pcm(tmp_path / "a" / "s32.wav", ints * 1_000_000, width=4)
    floats = np.array([[0.25, -0.5], [0.125, 1.0], [-1.0, 0.0]], "float32")
    write_float_wav(tmp_path / "a" / "zf.wav", floats)
    ds = lamina.utils.audio_dataset_from_directory(tmp_path, batch_size=None, shuffle=False, label_mode=None,
                                                   verbose=False)
    got = {os.path.basename(p): ds[i] for i, p in enumerate(ds.file_paths)}
    np.testing.assert_allclose(got["s8.wav"], (ints // 4) / 128)
    np.testing.assert_allclose(got["s16.wav"], ints * 50 / 32768)
    np.testing.assert_allclose(got["s24.wav"], ints * 5000 / 2 ** 23)
    np.testing.assert_allclose(got["s32.wav"], ints * 1_000_000 / 2 ** 31)
    np.testing.assert_array_equal(got["zf.wav"], floats)
    assert all(v.shape == (3, 2) and v.dtype == np.float32 for v in got.values())


def test_dataset_resamples_to_sampling_rate(tmp_path):
    t = np.arange(800) / 8000
    write_pcm(tmp_path / "tone" / "a.wav", np.round(16000 * np.sin(2 * np.pi * 500 * t)))
    ds = lamina.utils.audio_dataset_from_directory(tmp_path, batch_size=None, sampling_rate=16000, verbose=False)
    audio, _ = ds[0]
    assert audio.shape == (1600, 1)
    t2 = np.arange(1600) / 16000
    np.testing.assert_allclose(audio[:, 0], 16000 / 32768 * np.sin(2 * np.pi * 500 * t2), atol=2e-4)
    same = lamina.utils.audio_dataset_from_directory(tmp_path, batch_size=None, sampling_rate=8000, verbose=False)
    assert same[0][0].shape == (800, 1)
    cut = lamina.utils.audio_dataset_from_directory(tmp_path, batch_size=None, sampling_rate=4000,
                                                    output_sequence_length=300, verbose=False)
    assert cut[0][0].shape == (300, 1)  # the length counts samples at the new rate


def test_dataset_trains_a_model(speech):
    ds = lamina.utils.audio_dataset_from_directory(speech, batch_size=4, output_sequence_length=64, seed=1,
                                                   verbose=False)
    model = lamina.Sequential([lamina.Input((64, 1)), layers.STFTSpectrogram(mode="magnitude", frame_length=16),
                               layers.GlobalAveragePooling1D(), layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and all(np.isfinite(history.history["loss"]))


def test_dataset_errors(speech, tmp_path):
    fn = lamina.utils.audio_dataset_from_directory
    with pytest.raises(ValueError, match="ragged=True is not supported"):
        fn(speech, ragged=True, verbose=False)
    with pytest.raises(ValueError, match="cannot both be set"):
        fn(speech, ragged=True, output_sequence_length=10, verbose=False)
    with pytest.raises(ValueError, match="sampling_rate` must be an int"):
        fn(speech, sampling_rate=16000.0, verbose=False)
    with pytest.raises(ValueError, match="sampling_rate` must be a positive int"):
        fn(speech, sampling_rate=0, verbose=False)
    with pytest.raises(ValueError, match="output_sequence_length` must be a positive int"):
        fn(speech, output_sequence_length=0, verbose=False)
    with pytest.raises(ValueError, match="label_mode"):
        fn(speech, label_mode="sparse", verbose=False)
    with pytest.raises(ValueError, match="class_names"):
        fn(speech, labels=None, class_names=["up"], verbose=False)
    empty = tmp_path / "empty"
    os.makedirs(empty / "silence")
    (empty / "silence" / "readme.txt").write_text("no wav here")
    with pytest.raises(ValueError, match="no audio files found"):
        fn(empty, verbose=False)


def test_dataset_reports_bad_files(tmp_path):
    os.makedirs(tmp_path / "c")
    (tmp_path / "c" / "junk.wav").write_bytes(b"not a wav file at all")
    write_pcm(tmp_path / "d" / "ok.wav", np.arange(100))
    data = (tmp_path / "d" / "ok.wav").read_bytes()
    (tmp_path / "d" / "trunc.wav").write_bytes(data[:-40])
    ds = lamina.utils.audio_dataset_from_directory(tmp_path, batch_size=None, shuffle=False, verbose=False)
    with pytest.raises(ValueError, match="junk.wav': not a RIFF/WAVE file"):
        ds[0]
    with pytest.raises(ValueError, match="trunc.wav': the file is truncated"):
        ds[2]
    float16 = tmp_path / "e" / "f16.wav"
    os.makedirs(float16.parent)
    fmt = struct.pack("<HHIIHH", 3, 1, 8000, 16000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 4) + b"\0" * 4
    float16.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    from lamina.utils.audio_dataset import read_wav
    with pytest.raises(ValueError, match="unsupported WAV encoding \\(format tag 3, 16 bits"):
        read_wav(float16)


@pytest.mark.parametrize("samples", [1, 2, 50, 128, 129])
def test_mel_short_signals_are_reflect_padded_as_numpy(samples):
    x = RNG.standard_normal((2, samples)).astype("float32")
    config = dict(fft_length=256, sequence_stride=64, num_mel_bins=16, sampling_rate=8000)
    got = _np(layers.MelSpectrogram(**config)(x))
    want = ref_mel(x, **config)
    assert got.shape == want.shape == (2, 16, 1 + samples // 64)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
