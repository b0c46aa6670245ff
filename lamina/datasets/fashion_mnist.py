"""Fashion-MNIST: 70,000 28x28 grayscale images of 10 kinds of clothing."""

from lamina.datasets._files import KERAS_ORIGIN, load_idx_dataset

_SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}


def load_data():
    """Load Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)`` (uint8 arrays).

    The four original IDX ``.gz`` files are read from ``$LAMINA_DATASETS_DIR/fashion_mnist/``
    (or the lamina / Keras caches); otherwise they are downloaded (mirror, then Keras's
    origin) and checked against their published SHA-256 before they are cached.

    Example:
    >>> from lamina.datasets import fashion_mnist
    >>> (x_train, y_train), _ = fashion_mnist.load_data()
    >>> y_train.shape
    (60000,)
    """
    return load_idx_dataset("fashion_mnist", KERAS_ORIGIN + "fashion-mnist/", _SHA256)
