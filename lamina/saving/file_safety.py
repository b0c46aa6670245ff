"""Safe file handling for saving: atomic writes, bounded zip and JSON reads, h5 checks.

Rules kept here (see ARCHITECTURE.md, "Safety of files"):

* Saving writes to a temporary file in the target's folder and renames it over
  the target (``os.replace``), so a crash leaves the previous file intact.
* Names inside archives are only ever used as keys: nothing is extracted to a
  path built from a member name.
* Every size read from a file is checked before memory is allocated for it.
* Any problem with a file is a ``ValueError`` that names the file and the problem.
"""

import contextlib
import json
import os
import tempfile
import zipfile

import numpy as np

MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
_CHUNK = 1 << 20


class FileLoadError(ValueError):
    """A file could not be loaded: it is corrupt, truncated, foreign or unsafe."""


def file_error(path, what):
    """Return a ``FileLoadError`` whose message names ``path`` and ``what`` is wrong."""
    return FileLoadError(f"Cannot load '{os.fspath(path)}': {what}")


@contextlib.contextmanager
def atomic_write(path):
    """Yield a temporary path next to ``path``; on success rename it over ``path``.

    If the body raises, the temporary file is removed and ``path`` is untouched.

    Example:
    >>> import os, tempfile
    >>> from lamina.saving.file_safety import atomic_write
    >>> target = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_write(target) as tmp:
    ...     _ = open(tmp, "w").write("hello")
    >>> open(target).read()
    'hello'
    """
    path = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise ValueError(f"Cannot save to '{path}': the folder '{folder}' does not exist.")
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def parse_json(path, what, data):
    """Parse JSON bytes ``data`` (member ``what`` of ``path``) with a clear error when invalid."""
    if len(data) > MAX_JSON_BYTES:
        raise file_error(path, f"{what} is {len(data)} bytes, larger than the {MAX_JSON_BYTES}-byte limit.")
    try:
        return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    except (ValueError, UnicodeDecodeError) as e:
        raise file_error(path, f"{what} is not valid JSON ({e}).") from None
    except RecursionError:
        raise file_error(path, f"{what} is nested too deeply to be a model config.") from None


def open_zip(path):
    """Open ``path`` as a zip archive, or raise a clear error for a corrupt or foreign file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No file or directory found at '{os.fspath(path)}'.")
    try:
        zf = zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile:
        raise file_error(path, "it is not a zip archive (a '.keras' file is a zip archive); the file is "
                         "corrupt, truncated or in another format.") from None
    except (OSError, EOFError, ValueError) as e:
        raise file_error(path, f"its zip structure cannot be read ({e}).") from None
    return zf


def member_info(zf, path, name, limit):
    """Return the ``ZipInfo`` of ``name`` after checking its declared sizes."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise file_error(path, f"the archive has no '{name}' (it holds {sorted(zf.namelist())[:10]}).") from None
    if info.file_size > limit:
        raise file_error(path, f"'{name}' declares {info.file_size} bytes, more than the limit of {limit}.")
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > 1 << 20 and \
            info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        raise file_error(path, f"'{name}' expands {info.file_size / max(info.compress_size, 1):.0f}-fold; "
                         "refusing a possible zip bomb.")
    return info


def read_member(zf, path, name, limit=MAX_JSON_BYTES):
    """Read the bytes of archive member ``name`` (at most ``limit`` bytes, CRC checked)."""
    info = member_info(zf, path, name, limit)
    out = bytearray()
    try:
        with zf.open(info) as f:
            while True:
                chunk = f.read(_CHUNK)
                if not chunk:
                    break
                out += chunk
                if len(out) > info.file_size:
                    raise file_error(path, f"'{name}' holds more bytes than it declares.")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        if isinstance(e, FileLoadError):
            raise
        raise file_error(path, f"'{name}' is corrupt or truncated ({e}).") from None
    return bytes(out)


def copy_member_to_tempfile(zf, path, name, limit):
    """Copy member ``name`` into an anonymous temporary file (never a path named by the archive)."""
    info = member_info(zf, path, name, limit)
    tmp = tempfile.TemporaryFile()
    written = 0
    try:
        with zf.open(info) as f:
            while True:
                chunk = f.read(_CHUNK)
                if not chunk:
                    break
                written += len(chunk)
                if written > info.file_size:
                    raise file_error(path, f"'{name}' holds more bytes than it declares.")
                tmp.write(chunk)
    except FileLoadError:
        tmp.close()
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        tmp.close()
        raise file_error(path, f"'{name}' is corrupt or truncated ({e}).") from None
    tmp.seek(0)
    return tmp


@contextlib.contextmanager
def h5_errors(path):
    """Turn the errors h5py raises on a damaged file (KeyError, OSError...) into a ``FileLoadError``."""
    try:
        yield
    except (KeyError, OSError, RuntimeError, TypeError, IndexError, UnicodeError) as e:
        if isinstance(e, (FileNotFoundError, FileLoadError)):  # FileLoadError: already names the problem
            raise
        raise file_error(path, f"its HDF5 structure is damaged ({type(e).__name__}: {e}).") from None


def open_h5(source, path, mode="r"):
    """Open an HDF5 file (a path or file object) with a clear error for a corrupt or foreign one."""
    import h5py

    if isinstance(source, (str, os.PathLike)) and "r" in mode and not os.path.isfile(source):
        raise FileNotFoundError(f"No file or directory found at '{os.fspath(source)}'.")
    try:
        return h5py.File(source, mode)
    except (OSError, ValueError) as e:
        raise file_error(path, f"it is not a readable HDF5 file ({e}); it is corrupt, truncated or in "
                         "another format.") from None


def read_dataset(dataset, path, where, expected_shape, expected_dtype=None, target=None):
    """Read an h5 dataset after checking its shape (and that its bytes are present).

    Raises:
        FileLoadError: when the dataset is not numeric, its shape differs from
            ``expected_shape``, or its stored bytes are missing.
    """
    import h5py

    if not isinstance(dataset, h5py.Dataset):
        raise file_error(path, f"'{where}' is a {type(dataset).__name__}, not a weight array.")
    try:  # a damaged header makes even the shape or dtype unreadable
        shape, dtype = tuple(dataset.shape or ()), dataset.dtype
    except (OSError, ValueError, KeyError, RuntimeError, TypeError) as e:
        raise file_error(path, f"weight '{where}' has a damaged header ({type(e).__name__}: {e}).") from None
    if shape != tuple(expected_shape):
        variable = f"variable '{target}'" if target else "variable"
        raise file_error(path, f"weight '{where}' has shape {shape}, but the model's {variable} has shape "
                         f"{tuple(expected_shape)}.")
    if dtype.kind not in "biuf":
        raise file_error(path, f"weight '{where}' has dtype {dtype}, which is not numeric.")
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    try:
        if nbytes and dataset.chunks is None and dataset.id.get_storage_size() < nbytes:
            raise file_error(path, f"weight '{where}' declares {nbytes} bytes but stores "
                             f"{dataset.id.get_storage_size()}; the file is truncated or corrupt.")
        value = dataset[()]
    except FileLoadError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise file_error(path, f"weight '{where}' cannot be read ({e}).") from None
    value = np.asarray(value)
    if expected_dtype is not None:
        value = value.astype(expected_dtype, copy=False)
    return value
