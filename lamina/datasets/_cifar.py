"""Reading the CIFAR python-pickle batches without running arbitrary code."""

import os
import tarfile

import numpy as np

from lamina.datasets._files import fetch, find_local, restricted_loads


def _text(v):
    return v.decode("latin-1") if isinstance(v, bytes) else v


def load_batch(data, label_key="labels", where="batch"):
    """Parse one CIFAR batch pickle (bytes); return ``(data (N, 3, 32, 32) uint8, labels int list)``.

    The pickle may hold only a dict of bytes/str keys mapping to bytes, str, ints, lists of them, and
    uint8 NumPy arrays; anything else is refused.
    """
    d = restricted_loads(data, encoding="bytes")
    if not isinstance(d, dict):
        raise ValueError(f"{where}: a CIFAR batch must be a dict, found {type(d).__name__}.")
    out = {}
    for k, v in d.items():
        if not isinstance(k, (bytes, str)):
            raise ValueError(f"{where}: non-string key {k!r}.")
        if isinstance(v, np.ndarray):
            if v.dtype != np.uint8:
                raise ValueError(f"{where}: array {k!r} has dtype {v.dtype}, expected uint8.")
        elif isinstance(v, list):
            if not all(isinstance(e, (bytes, str)) or type(e) is int for e in v):
                raise ValueError(f"{where}: list {k!r} holds values other than ints and strings.")
        elif not isinstance(v, (bytes, str, int)):
            raise ValueError(f"{where}: value of {k!r} is a {type(v).__name__}.")
        out[_text(k)] = v
    x, labels = out.get("data"), out.get(label_key)
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != 3072:
        raise ValueError(f"{where}: 'data' must be a uint8 array of shape (N, 3072).")
    if not isinstance(labels, list) or len(labels) != len(x) or not all(type(e) is int for e in labels):
        raise ValueError(f"{where}: {label_key!r} must be a list of {len(x)} ints.")
    return x.reshape(-1, 3, 32, 32), labels


def read_members(dataset, tar_name, folder, names, origin, file_hash):
    """Return ``{name: bytes}`` for the batch files, from an extracted folder or the tarball."""
    roots = []
    if os.environ.get("LAMINA_DATASETS_DIR"):
        roots.append(os.environ["LAMINA_DATASETS_DIR"])
    from lamina.config import lamina_home

    roots += [os.path.join(lamina_home(), "datasets"), os.path.join(os.path.expanduser("~"), ".keras", "datasets")]
    for root in roots:
        for d in (os.path.join(root, dataset, folder), os.path.join(root, folder)):
            if all(os.path.isfile(os.path.join(d, n)) for n in names):
                out = {}
                for n in names:
                    with open(os.path.join(d, n), "rb") as f:
                        out[n] = f.read()
                return out
    path = find_local(dataset, tar_name) or fetch(dataset, tar_name, origin, file_hash)
    out = {}
    with tarfile.open(path) as t:
        for m in t.getmembers():
            if not m.isfile():
                continue
            parts = m.name.replace("\\", "/").split("/")
            if len(parts) == 2 and parts[0] == folder and parts[1] in names:
                out[parts[1]] = t.extractfile(m).read()
    lacking = [n for n in names if n not in out]
    if lacking:
        raise ValueError(f"{path} lacks the members {[folder + '/' + n for n in lacking]}.")
    return out


def to_layout(x):
    from lamina.config import image_data_format

    return x.transpose(0, 2, 3, 1) if image_data_format() == "channels_last" else x
