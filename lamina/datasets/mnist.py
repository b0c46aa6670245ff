"""MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28 pixels."""

import os

import numpy as np

from lamina.datasets._files import _IDX_NAMES, KERAS_ORIGIN, fetch, find_local, load_idx_dataset


def load_data(path="mnist.npz"):
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``.

    ``x`` arrays are uint8 of shape (N, 28, 28) with values 0-255; ``y`` arrays
    are uint8 labels 0-9. The original IDX files are read from
    ``$LAMINA_DATASETS_DIR/mnist/`` (or the lamina / Keras caches); failing those,
    Keras's ``mnist.npz`` (``path``) found there; failing that, ``mnist.npz`` is
    downloaded and checked against Keras's SHA-256 before it is cached.

    Example:
    >>> from lamina.datasets import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()
    >>> x_train.shape
    (60000, 28, 28)
    """
    if all(find_local("mnist", n) for n in _IDX_NAMES):
        return load_idx_dataset("mnist")
    fpath = fetch("mnist", "mnist.npz", KERAS_ORIGIN + "mnist.npz",
                  "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1", path=path)
    with np.load(os.fspath(fpath), allow_pickle=False) as f:
        x_train, y_train, x_test, y_test = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    return (x_train, y_train), (x_test, y_test)
