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
    """The error for dataset files found nowhere locally, saying where lamina looked."""
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


_IDX_NAMES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def load_idx_dataset(dataset, origin=None, hashes=None):
    """Load the four IDX files of ``dataset``: local files as they are, else checked downloads from ``origin``."""
    paths = [find_local(dataset, n) for n in _IDX_NAMES]
    if any(p is None for p in paths) and origin is None:
        raise missing(dataset, [n for n, p in zip(_IDX_NAMES, paths) if p is None])
    hashes = hashes or {}
    paths = [p or fetch(dataset, n, origin + n, hashes.get(n)) for n, p in zip(_IDX_NAMES, paths)]
    x_train, y_train, x_test, y_test = (read_idx(p) for p in paths)
    return (x_train, y_train), (x_test, y_test)


# --------------------------------------------------------------------------------------------------
# Fetching: local files first, then lamina.utils.get_file (cache, Keras cache, mirror, origin).

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def fetch(dataset, fname, origin, file_hash=None, path=None):
    """Return a local path for ``dataset/fname``: a user-placed file (used as is) or a checked download."""
    if path is not None and os.path.isabs(os.fspath(path)) and os.path.isfile(path):
        return os.fspath(path)
    name = os.path.basename(os.fspath(path)) if path is not None else fname
    local = find_local(dataset, name)
    if local is not None:
        return local
    from lamina.utils.file_utils import get_file

    return get_file(name, origin=origin, file_hash=file_hash if name == fname else None,
                    cache_subdir=os.path.join("datasets", dataset), verbose=1)


# --------------------------------------------------------------------------------------------------
# Reading pickled NumPy data without running arbitrary code.

import io  # noqa: E402
import pickle  # noqa: E402
import zipfile  # noqa: E402


def _latin1_encode(text, encoding="latin1"):
    if encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refused codec {encoding!r} in a data pickle")
    return text.encode("latin-1")


def _reconstruct(subtype, shape, dtype):
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError("refused ndarray subclass in a data pickle")
    return np.ndarray.__new__(np.ndarray, shape, dtype)


def _make_dtype(spec, align=False, copy=True):
    if isinstance(spec, bytes):  # Python 2 pickles (the real CIFAR batches) name the dtype with a byte string
        spec = spec.decode("latin-1")
    if not isinstance(spec, str) or spec.lstrip("<>|=") not in {
            "O8", "O4", "u1", "i1", "i2", "i4", "i8", "u2", "u4", "u8", "f4", "f8", "b1"}:
        raise pickle.UnpicklingError(f"refused dtype {spec!r} in a data pickle")
    return np.dtype(spec, align, copy)


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _make_dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds only NumPy arrays (of ints, floats or objects), lists, dicts, bytes, strings, numbers.

    Any other global (``os.system``, ``builtins.eval``, ``subprocess.Popen`` ...) is refused with
    ``pickle.UnpicklingError``; the loaded objects are then validated by the caller.
    """

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refused global {module}.{name} in a data pickle") from None


def restricted_loads(data, encoding="ASCII"):
    """Unpickle ``data`` with :class:`RestrictedUnpickler`."""
    return RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _check_int_lists(arr, where):
    if not isinstance(arr, np.ndarray) or arr.dtype != object or arr.ndim != 1:
        raise ValueError(f"{where}: expected a 1-D object array of lists of ints.")
    for item in arr:
        if not isinstance(item, list) or not all(type(w) is int for w in item):
            raise ValueError(f"{where}: expected a 1-D object array of lists of ints, found {type(item).__name__}.")
    return arr


def read_npy(data, where="array"):
    """Parse one ``.npy`` file's bytes; object arrays go through the restricted unpickler and must be lists of ints."""
    f = io.BytesIO(data)
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"{where}: unsupported .npy version {version}")
    if dtype.hasobject:
        arr = restricted_loads(data[f.tell():], encoding="latin1")
        arr = _check_int_lists(arr, where)
        if arr.shape != tuple(shape):
            raise ValueError(f"{where}: header shape {shape} does not match the data {arr.shape}.")
        return arr
    count = int(np.prod(shape)) if shape else 1
    payload = data[f.tell():]
    if len(payload) != count * dtype.itemsize:
        raise ValueError(f"{where}: truncated (expected {count * dtype.itemsize} bytes, found {len(payload)}).")
    arr = np.frombuffer(payload, dtype=dtype, count=count)
    order = "F" if fortran else "C"
    return arr.reshape(shape, order=order).copy()


def load_npz(path):
    """Load every array of an ``.npz`` file as a dict; object arrays must be lists of ints (restricted unpickler)."""
    out = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if not name.endswith(".npy"):
                continue
            out[name[:-4]] = read_npy(z.read(name), where=f"{path}:{name}")
    return out
