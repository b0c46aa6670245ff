"""MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28 pixels."""

from lamina.datasets._files import load_idx_dataset


def load_data(path="mnist.npz"):
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``.

    ``x`` arrays are uint8 of shape (N, 28, 28) with values 0-255; ``y`` arrays
    are uint8 labels 0-9. The original IDX files are read from
    ``$LAMINA_DATASETS_DIR/mnist/`` (or the lamina / Keras caches).

    Example:
    >>> from lamina.datasets import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()
    >>> x_train.shape
    (60000, 28, 28)
    """
    return load_idx_dataset("mnist")
