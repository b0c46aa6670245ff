"""``audio_dataset_from_directory``: a dataset of ``(audio, labels)`` batches from a folder of ``.wav`` files.

WAV files are decoded here with NumPy (a small RIFF reader: Python's ``wave`` module reads integer PCM only),
so no TensorFlow is needed: 8-, 16-, 24- and 32-bit integer PCM and 32-/64-bit IEEE float, mono or
multi-channel, also in the ``WAVE_FORMAT_EXTENSIBLE`` layout.
"""

import struct

import numpy as np

from lamina.utils.directory_dataset import make_datasets

AUDIO_FORMATS = (".wav",)
_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE
_WHO = "audio_dataset_from_directory"


def _chunks(data, path):
    """``{chunk_id: bytes}`` of the RIFF/WAVE file's top-level chunks (the first of each id)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        kind = "a big-endian RIFX file" if data[:4] == b"RIFX" else "not a RIFF/WAVE file"
        raise ValueError(f"cannot decode '{path}': {kind} (expected the bytes 'RIFF....WAVE' at the start).")
    found, pos = {}, 12
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if len(body) < size:
            raise ValueError(f"cannot decode '{path}': the file is truncated (its {cid.decode('latin-1')!r} chunk "
                             f"declares {size} bytes, but only {len(body)} are present).")
        found.setdefault(cid, body)
        pos += 8 + size + (size & 1)  # chunks are padded to an even size
    for need in (b"fmt ", b"data"):
        if need not in found:
            raise ValueError(f"cannot decode '{path}': the WAV file has no {need.decode()!r} chunk.")
    return found


def read_wav(path):
    """``(audio, sampling_rate)`` of the WAV file at ``path``: ``audio`` is float32 ``(samples, channels)``.

    Integer PCM is scaled to ``[-1, 1)`` (16-bit: divided by 32768; 8-bit, which is unsigned: ``(x - 128) /
    128``); float files are returned as stored. Raises ``ValueError`` naming the file for a corrupt, truncated
    or unsupported one.
    """
    with open(path, "rb") as f:
        data = f.read()
    chunks = _chunks(data, path)
    fmt = chunks[b"fmt "]
    if len(fmt) < 16:
        raise ValueError(f"cannot decode '{path}': its 'fmt ' chunk has {len(fmt)} bytes (at least 16 expected).")
    tag, channels, rate, _, block_align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]  # the first two bytes of the sub-format GUID
    if (tag, bits) not in {(_PCM, 8), (_PCM, 16), (_PCM, 24), (_PCM, 32), (_FLOAT, 32), (_FLOAT, 64)}:
        raise ValueError(f"cannot decode '{path}': unsupported WAV encoding (format tag {tag}, {bits} bits per "
                         "sample). Supported: integer PCM of 8, 16, 24 or 32 bits and IEEE float of 32 or 64 bits.")
    width = bits // 8
    if channels < 1 or block_align != channels * width:
        raise ValueError(f"cannot decode '{path}': inconsistent header ({channels} channels of {bits} bits, but "
                         f"{block_align} bytes per frame).")
    raw = chunks[b"data"]
    frames = len(raw) // block_align
    raw = np.frombuffer(raw, dtype="uint8", count=frames * block_align)
    if tag == _FLOAT:
        audio = raw.view("<f4" if bits == 32 else "<f8").astype("float32")
    elif bits == 8:
        audio = (raw.astype("float32") - 128.0) / 128.0
    elif bits == 24:
        b = raw.reshape(-1, 3).astype("int32")
        value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        audio = value.astype("float32") / float(1 << 23)
    else:
        audio = raw.view("<i2" if bits == 16 else "<i4").astype("float32") / float(1 << (bits - 1))
    return audio.reshape(frames, channels), int(rate)


def resample(audio, rate_in, rate_out):
    """``audio`` ``(samples, channels)`` resampled from ``rate_in`` to ``rate_out`` Hz by band-limited
    (Fourier) interpolation: ``round(samples * rate_out / rate_in)`` samples, float32."""
    if rate_in == rate_out or not len(audio):
        return audio
    n = audio.shape[0]
    m = max(1, int(round(n * rate_out / rate_in)))
    spectrum = np.fft.rfft(audio.astype("float64"), axis=0)
    out = np.zeros((m // 2 + 1, audio.shape[1]), dtype=spectrum.dtype)
    keep = min(n // 2 + 1, m // 2 + 1)
    out[:keep] = spectrum[:keep]
    if m > n and n % 2 == 0:
        out[n // 2] *= 0.5  # the old Nyquist bin stands for two frequencies (+ and -) in the longer signal
    return (np.fft.irfft(out, m, axis=0) * (m / n)).astype("float32")


def _audio_loader(sampling_rate, output_sequence_length):
    def load(path):
        try:
            audio, rate = read_wav(path)
        except ValueError as e:
            raise ValueError(f"{_WHO}: {e}") from None
        if sampling_rate is not None:
            audio = resample(audio, rate, sampling_rate)
        if output_sequence_length is not None:
            audio = audio[:output_sequence_length]
            if len(audio) < output_sequence_length:
                audio = np.pad(audio, ((0, output_sequence_length - len(audio)), (0, 0)))
        return audio
    return load


def _pad_batch(samples):
    """Stack ``(samples, channels)`` arrays, padding each with zeros at the end to the longest."""
    channels = {s.shape[1] for s in samples}
    if len(channels) > 1:
        raise ValueError(f"{_WHO}: the files of one batch have different numbers of channels {sorted(channels)}; "
                         "a batch needs one channel count (convert the files, or use batch_size=None).")
    longest = max(len(s) for s in samples)
    out = np.zeros((len(samples), longest, samples[0].shape[1]), dtype="float32")
    for i, s in enumerate(samples):
        out[i, :len(s)] = s
    return out


def _check_optional_positive_int(arg, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0):
        raise ValueError(f"{_WHO}: `{arg}` must be a positive int or None, but received {arg}={value!r}.")


def audio_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                 sampling_rate=None, output_sequence_length=None, ragged=False, shuffle=True,
                                 seed=None, validation_split=None, subset=None, follow_links=False, verbose=True):
    """Batches of audio (and labels) from ``directory``, which holds one sub-folder of ``.wav`` files per class.

    ::

        main_directory/
            class_a/  a_audio_1.wav  a_audio_2.wav
            class_b/  b_audio_1.wav  b_audio_2.wav

    Returns a ``PyDataset`` (a ``FileDataset``, as ``text_dataset_from_directory``) whose item ``i`` is
    ``(audio, labels)``: ``audio`` is float32 ``(batch, samples, channels)`` with values in ``[-1, 1]`` (see
    ``read_wav``); each batch is padded with zeros at the end to its longest file, unless
    ``output_sequence_length`` fixes the length. ``labels`` follows ``label_mode``: ``"int"`` gives int32
    ``(batch,)``, ``"categorical"`` float32 one-hot ``(batch, num_classes)``, ``"binary"`` float32
    ``(batch, 1)`` (exactly 2 classes), None no labels (items are the audio alone). Files are read when a batch
    is requested. The dataset has ``class_names`` and ``file_paths`` and ``map(fn)`` / ``cache()`` / ``take(n)``;
    ``fit`` consumes it directly.

    Args:
        directory, labels, label_mode, class_names, batch_size, shuffle, seed, validation_split, subset,
            follow_links, verbose: as in ``lamina.utils.text_dataset_from_directory`` (``subset="both"`` returns
            the ``(training, validation)`` pair).
        sampling_rate: resample every file to this many samples per second (band-limited Fourier
            interpolation; files already at this rate are unchanged). None (default): keep each file's rate.
        output_sequence_length: truncate or zero-pad every file to this many samples (after resampling).
            None: each batch is padded to its longest file.
        ragged: must be False. Keras's ``ragged=True`` gives ``tf.RaggedTensor`` batches, which lamina's
            engines do not have: a ValueError says what to use instead.

    Example:
    >>> import os, tempfile, wave, numpy as np, lamina
    >>> root = tempfile.mkdtemp()
    >>> for cls, length in (("no", 3), ("yes", 5)):
    ...     os.makedirs(os.path.join(root, cls))
    ...     with wave.open(os.path.join(root, cls, "a.wav"), "wb") as w:
    ...         w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
    ...         w.writeframes(np.full(length, 16384, "<i2").tobytes())
    >>> ds = lamina.utils.audio_dataset_from_directory(root, batch_size=2, shuffle=False)
    Found 2 files belonging to 2 classes.
    >>> audio, labels = ds[0]
    >>> ds.class_names, audio.shape, audio[:, :, 0].tolist(), labels.tolist()
    (['no', 'yes'], (2, 5, 1), [[0.5, 0.5, 0.5, 0.0, 0.0], [0.5, 0.5, 0.5, 0.5, 0.5]], [0, 1])
    """
    if ragged and output_sequence_length is not None:
        raise ValueError(f"{_WHO}: `ragged` and `output_sequence_length` cannot both be set (received ragged=True "
                         f"and output_sequence_length={output_sequence_length!r}).")
    if ragged:
        raise ValueError(f"{_WHO}: ragged=True is not supported: lamina's engines have no ragged tensors. Use "
                         "ragged=False (each batch is padded with zeros to its longest file), "
                         "output_sequence_length=N (every file truncated or padded to N samples), or "
                         "batch_size=None (one unpadded file at a time).")
    if sampling_rate is not None and (isinstance(sampling_rate, bool) or
                                      not isinstance(sampling_rate, (int, np.integer))):
        raise ValueError(f"{_WHO}: `sampling_rate` must be an int (samples per second) or None, but received "
                         f"sampling_rate={sampling_rate!r}.")
    _check_optional_positive_int("sampling_rate", sampling_rate)
    _check_optional_positive_int("output_sequence_length", output_sequence_length)
    load = _audio_loader(None if sampling_rate is None else int(sampling_rate),
                         None if output_sequence_length is None else int(output_sequence_length))
    return make_datasets(_WHO, directory, labels, label_mode, class_names, AUDIO_FORMATS, "audio files",
                         batch_size, shuffle, seed, validation_split, subset, follow_links, verbose, load, _pad_batch)

