"""Boston housing prices: 506 samples of 13 features, the target is the median home value (k$)."""

import numpy as np

from lamina.datasets._files import KERAS_ORIGIN, fetch


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Load the Boston housing regression dataset as ``(x_train, y_train), (x_test, y_test)`` (Keras semantics).

    Args:
        path: file name (looked up in ``$LAMINA_DATASETS_DIR/boston_housing/``, the caches, else downloaded).
        test_split: fraction of the data kept as the test set.
        seed: shuffling seed.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: float arrays of shape (N, 13) and (N,).

    Example:
    >>> import os, tempfile, numpy as np
    >>> from lamina.datasets import boston_housing
    >>> path = os.path.join(tempfile.mkdtemp(), "boston_housing.npz")
    >>> np.savez(path, x=np.zeros((10, 13)), y=np.arange(10.0))
    >>> (x_train, y_train), (x_test, y_test) = boston_housing.load_data(path)
    >>> x_train.shape, x_test.shape
    ((8, 13), (2, 13))
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be in [0, 1), got {test_split}.")
    fpath = fetch("boston_housing", "boston_housing.npz", KERAS_ORIGIN + "boston_housing.npz",
                  "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5", path=path)
    with np.load(fpath, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    idx = int(len(x) * (1 - test_split))
    return (np.array(x[:idx]), np.array(y[:idx])), (np.array(x[idx:]), np.array(y[idx:]))
