"""Keras 2's sequence utilities that word2vec and forecasting tutorials use: ``skipgrams``,
``make_sampling_table`` and ``TimeseriesGenerator`` (re-exported by ``lamina.preprocessing.sequence``)."""

import random

import numpy as np


def make_sampling_table(size, sampling_factor=1e-5):
    """The probability of keeping the word of each rank (0 = most frequent) when sampling skip-grams, for a
    Zipf-distributed vocabulary of ``size`` words: ``min(1, sqrt(sampling_factor / frequency))``.

    Example:
    >>> from lamina.preprocessing.sequence import make_sampling_table
    >>> table = make_sampling_table(1000)
    >>> table.shape, bool(table[1] < table[999] <= 1.0)
    ((1000,), True)
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"make_sampling_table expected size to be a positive int, but received {size!r}.")
    gamma = 0.577  # the Euler-Mascheroni constant, in the approximation of harmonic numbers
    rank = np.arange(size, dtype="float64")
    rank[0] = 1
    inv_fq = rank * (np.log(rank) + gamma) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inv_fq
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1.0, shuffle=True, categorical=False,
              sampling_table=None, seed=None):
    """Word pairs for word2vec: ``(word, context)`` for every word within ``window_size`` of each word of
    ``sequence`` (label 1), plus ``negative_samples`` times as many ``(word, random word)`` pairs (label 0).
    Index 0 is skipped (padding); ``sampling_table[i]`` is the probability of keeping word ``i``.

    Returns:
        ``(couples, labels)``: lists of ``[word, context]`` and of labels (``[0, 1]`` / ``[1, 0]`` with
        ``categorical``).
    """
    rng = random.Random(seed) if seed is not None else random
    couples, labels = [], []
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < rng.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
                labels.append([0, 1] if categorical else 1)
    if negative_samples > 0 and couples:
        n = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        rng.shuffle(words)
        couples += [[words[i % len(words)], rng.randint(1, vocabulary_size - 1)] for i in range(n)]
        labels += [[1, 0] if categorical else 0] * n
    if shuffle:
        order = list(range(len(couples)))
        rng.shuffle(order)
        couples, labels = [couples[i] for i in order], [labels[i] for i in order]
    return couples, labels


def _py_dataset():
    from lamina.utils.py_dataset import PyDataset

    return PyDataset


class TimeseriesGenerator(_py_dataset()):
    """Batches of windows of a time series (Keras 2): sample ``i`` is ``data[t - length:t:sampling_rate]`` and its
    target ``targets[t]``, for ``t`` from ``start_index + length`` to ``end_index`` by ``stride``. Usable by
    ``fit``/``evaluate``/``predict`` (it is a ``PyDataset``).

    Example:
    >>> import numpy as np
    >>> from lamina.preprocessing.sequence import TimeseriesGenerator
    >>> series = np.arange(10)
    >>> batches = TimeseriesGenerator(series, series, length=3, batch_size=2)
    >>> len(batches), batches[0][0].tolist(), batches[0][1].tolist()
    (4, [[0, 1, 2], [1, 2, 3]], [3, 4])
    """

    def __init__(self, data, targets, length, sampling_rate=1, stride=1, start_index=0, end_index=None,
                 shuffle=False, reverse=False, batch_size=128, **kwargs):
        super().__init__(**kwargs)
        if len(data) != len(targets):
            raise ValueError(f"TimeseriesGenerator: data and targets must have the same length, but data has "
                             f"{len(data)} and targets {len(targets)}.")
        self.data, self.targets = data, targets
        self.length, self.sampling_rate, self.stride = length, sampling_rate, stride
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle, self.reverse, self.batch_size = shuffle, reverse, batch_size
        if self.start_index > self.end_index:
            raise ValueError(f"TimeseriesGenerator: start_index + length ({self.start_index}) is after end_index "
                             f"({self.end_index}): no window fits in the data.")

    def __len__(self):
        step = self.batch_size * self.stride
        return (self.end_index - self.start_index + step) // step

    def __getitem__(self, index):
        if self.shuffle:
            rows = np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        else:
            first = self.start_index + self.batch_size * self.stride * index
            rows = np.arange(first, min(first + self.batch_size * self.stride, self.end_index + 1), self.stride)
        samples = np.array([self.data[row - self.length:row:self.sampling_rate] for row in rows])
        targets = np.array([self.targets[row] for row in rows])
        return (samples[:, ::-1, ...] if self.reverse else samples), targets
