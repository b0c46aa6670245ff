"""CIFAR-10: 60,000 32x32 colour images in 10 classes (50,000 train, 10,000 test)."""

import numpy as np

from lamina.datasets._cifar import load_batch, read_members, to_layout


def load_data():
    """Load CIFAR-10 as ``(x_train, y_train), (x_test, y_test)``, from the python-pickle batches tarball.

    ``x`` arrays are uint8 of shape (N, 32, 32, 3) (or (N, 3, 32, 32) with
    ``channels_first``); ``y`` arrays are uint8 of shape (N, 1), values 0-9. The
    batches are read from ``cifar-10-python.tar.gz`` (or the extracted
    ``cifar-10-batches-py/`` folder) in ``$LAMINA_DATASETS_DIR/cifar10/``, the
    caches, or downloaded; the pickles go through a restricted unpickler that
    accepts only dicts of strings, ints and uint8 arrays.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``.

    Example:
    >>> from lamina.datasets import cifar10
    >>> cifar10.load_data  # doctest: +ELLIPSIS
    <function load_data at ...>
    """
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    raw = read_members("cifar10", "cifar-10-python.tar.gz", "cifar-10-batches-py", names,
                       "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                       "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce")
    xs, ys = [], []
    for n in names[:5]:
        x, y = load_batch(raw[n], where=n)
        xs.append(x)
        ys.extend(y)
    x_test, y_test = load_batch(raw["test_batch"], where="test_batch")
    x_train = np.concatenate(xs)
    y_train = np.asarray(ys, dtype="uint8").reshape(-1, 1)
    y_test = np.asarray(y_test, dtype="uint8").reshape(-1, 1)
    return (to_layout(x_train), y_train), (to_layout(x_test), y_test)
