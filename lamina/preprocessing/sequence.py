"""Sequence helpers: ``pad_sequences`` (also available as ``lamina.utils.pad_sequences``)."""

import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pad (or truncate) a list of sequences to a common length, as Keras's ``pad_sequences``.

    Args:
        sequences: a list of sequences (lists or arrays; elements may themselves be arrays of a common shape).
        maxlen: the length to pad to; default: the longest sequence.
        dtype: dtype of the result (``str``/``object`` allowed for string values).
        padding: ``"pre"`` or ``"post"``: pad before or after each sequence.
        truncating: ``"pre"`` or ``"post"``: drop values from the start or the end of longer sequences.
        value: the padding value.

    Returns:
        A NumPy array of shape ``(len(sequences), maxlen, ...)``.

    Example:
    >>> from lamina.utils import pad_sequences
    >>> pad_sequences([[1, 2, 3], [4, 5], [6]])
    array([[1, 2, 3],
           [0, 4, 5],
           [0, 0, 6]], dtype=int32)
    >>> pad_sequences([[1, 2, 3], [4, 5]], maxlen=2, padding="post", truncating="post", value=-1)
    array([[1, 2],
           [4, 5]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if padding not in ("pre", "post"):
        raise ValueError(f'`padding` must be "pre" or "post", got {padding!r}.')
    if truncating not in ("pre", "post"):
        raise ValueError(f'`truncating` must be "pre" or "post", got {truncating!r}.')
    num_samples = len(sequences)
    lengths = []
    sample_shape = ()
    flag = True
    for x in sequences:
        try:
            lengths.append(len(x))
            if flag and len(x):
                sample_shape = np.asarray(x).shape[1:]
                flag = False
        except TypeError as e:
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: {x!r}") from e
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    is_dtype_str = np.issubdtype(np.dtype(dtype), np.str_) or np.dtype(dtype) == np.object_
    if isinstance(value, str) and not is_dtype_str:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type {type(value)}; use dtype=object.")
    x = np.full((num_samples, maxlen) + sample_shape, value, dtype=dtype)
    for idx, s in enumerate(sequences):
        if not len(s) or not maxlen:
            continue
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {trunc.shape[1:]} of sequence at position {idx} is different from "
                             f"expected shape {sample_shape}.")
        if padding == "post":
            x[idx, : len(trunc)] = trunc
        else:
            x[idx, -len(trunc):] = trunc
    return x


from lamina.preprocessing.sequence_keras2 import TimeseriesGenerator, make_sampling_table, skipgrams  # noqa: E402,F401
