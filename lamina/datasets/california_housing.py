"""California housing prices: 20,640 census block groups of 8 features, the target is the median home value ($)."""

import numpy as np

from lamina.datasets._files import KERAS_ORIGIN, fetch

# Keras's published origin and checksum of ``california_housing.npz`` (arrays ``x`` (20640, 8) and ``y`` (20640,)).
ORIGIN = KERAS_ORIGIN + "california_housing.npz"
SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"
_SMALL = 600


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """Load the California housing regression dataset as ``(x_train, y_train), (x_test, y_test)`` (Keras semantics).

    The 8 features are, in order: MedInc, HouseAge, AveRooms, AveBedrms, Population, AveOccup, Latitude, Longitude.

    Args:
        version: ``"large"`` (all 20,640 samples) or ``"small"`` (the first 600, a stand-in for boston_housing).
        path: file name (looked up in ``$LAMINA_DATASETS_DIR/california_housing/``, the caches, else downloaded
            from Keras's origin with its SHA-256 checked), or an absolute path to an existing file.
        test_split: fraction of the data kept as the test set, in ``[0, 1)``.
        seed: shuffling seed (the data are shuffled before the split).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: float arrays of shape (N, 8) and (N,).

    Example:
    >>> import os, tempfile, numpy as np
    >>> from lamina.datasets import california_housing
    >>> path = os.path.join(tempfile.mkdtemp(), "california_housing.npz")
    >>> np.savez(path, x=np.zeros((1000, 8)), y=np.arange(1000.0))
    >>> (x_train, y_train), (x_test, y_test) = california_housing.load_data("small", path)
    >>> x_train.shape, y_test.shape
    ((480, 8), (120,))
    """
    if version not in ("small", "large"):
        raise ValueError(
            f"california_housing.load_data: version must be 'small' or 'large', got {version!r}.")
    if not 0 <= test_split < 1:
        raise ValueError(f"california_housing.load_data: test_split must be in [0, 1), got {test_split}.")
    fpath = fetch("california_housing", "california_housing.npz", ORIGIN, SHA256, path=path)
    with np.load(fpath, allow_pickle=False) as f:
        if "x" not in f or "y" not in f:
            raise ValueError(
                f"california_housing.load_data: {fpath} must hold arrays 'x' and 'y', found {sorted(f.keys())}.")
        x, y = f["x"], f["y"]
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(
            f"california_housing.load_data: {fpath} must hold x of shape (N, 8) and y of shape (N,), "
            f"found {x.shape} and {y.shape}.")
    if version == "small":
        x, y = x[:_SMALL], y[:_SMALL]
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    idx = int(len(x) * (1 - test_split))
    return (np.array(x[:idx]), np.array(y[:idx])), (np.array(x[idx:]), np.array(y[idx:]))
