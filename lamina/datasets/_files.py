"""Finding dataset files locally, and reading the IDX format of MNIST-style datasets."""

import gzip
import os
import struct

import numpy as np


def find_local(dataset, filename):
    """Return the path of ``dataset/filename`` in ``$LAMINA_DATASETS_DIR``, the lamina cache or Keras's cache."""
    roots = []
    if os.environ.get("LAMINA_DATASETS_DIR"):
        roots.append(os.environ["LAMINA_DATASETS_DIR"])
    from lamina.config import lamina_home

    roots.append(os.path.join(lamina_home(), "datasets"))
    roots.append(os.path.join(os.path.expanduser("~"), ".keras", "datasets"))
    for root in roots:
        for path in (os.path.join(root, dataset, filename), os.path.join(root, filename)):
            if os.path.isfile(path):
                return path
    return None


def missing(dataset, files):
    where = os.environ.get("LAMINA_DATASETS_DIR") or "(LAMINA_DATASETS_DIR is not set)"
    return FileNotFoundError(
        f"lamina.datasets.{dataset}: could not find {files} locally. Looked in LAMINA_DATASETS_DIR={where}, "
        f"the lamina cache and ~/.keras/datasets. Place the files in <dir>/{dataset}/ and set "
        "LAMINA_DATASETS_DIR=<dir>."
    )


def read_idx(path):
    """Read an IDX file (optionally gzipped) into a NumPy array, checking its header against its size."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError(f"{path} is not an IDX file: it is only {len(data)} bytes long.")
    zero, dtype_code, ndim = data[0] << 8 | data[1], data[2], data[3]
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (magic bytes {data[:4].hex()}).")
    header = 4 + 4 * ndim
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(dims)) if dims else 0
    if len(data) - header != expected:
        raise ValueError(
            f"{path} is truncated or corrupt: its header declares shape {dims} ({expected} bytes), "
            f"but {len(data) - header} bytes follow."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def load_idx_dataset(dataset):
    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    paths = [find_local(dataset, n) for n in names]
    if any(p is None for p in paths):
        raise missing(dataset, [n for n, p in zip(names, paths) if p is None])
    x_train, y_train, x_test, y_test = (read_idx(p) for p in paths)
    return (x_train, y_train), (x_test, y_test)
