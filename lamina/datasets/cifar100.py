"""CIFAR-100: 60,000 32x32 colour images in 100 fine classes grouped into 20 coarse ones."""

import numpy as np

from lamina.datasets._cifar import load_batch, read_members, to_layout


def load_data(label_mode="fine"):
    """Load CIFAR-100 as ``(x_train, y_train), (x_test, y_test)``, from the python-pickle batches tarball.

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 super-classes).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape (N, 32, 32, 3) (or channels first)
        and int64 labels of shape (N, 1).

    Example:
    >>> from lamina.datasets import cifar100
    >>> cifar100.load_data(label_mode="medium")
    Traceback (most recent call last):
    ...
    ValueError: `label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode=medium.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.')
    raw = read_members("cifar100", "cifar-100-python.tar.gz", "cifar-100-python", ["train", "test"],
                       "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
                       "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7")
    key = label_mode + "_labels"
    x_train, y_train = load_batch(raw["train"], label_key=key, where="train")
    x_test, y_test = load_batch(raw["test"], label_key=key, where="test")
    y_train = np.asarray(y_train, dtype="int64").reshape(-1, 1)
    y_test = np.asarray(y_test, dtype="int64").reshape(-1, 1)
    return (to_layout(x_train), y_train), (to_layout(x_test), y_test)
