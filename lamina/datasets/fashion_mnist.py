"""Fashion-MNIST: 70,000 28x28 grayscale images of 10 kinds of clothing."""

from lamina.datasets._files import load_idx_dataset


def load_data():
    """Load Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)`` (uint8 arrays).

    Example:
    >>> from lamina.datasets import fashion_mnist
    >>> (x_train, y_train), _ = fashion_mnist.load_data()
    >>> y_train.shape
    (60000,)
    """
    return load_idx_dataset("fashion_mnist")
