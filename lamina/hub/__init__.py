"""``lamina.hub``: load a saved model, or weights into a model, from a local path or a URL.

``load(handle)`` accepts a file path or an ``http(s)://`` / ``file://`` URL of:

- a whole model: a lamina/Keras 3 ``.keras`` archive, or a tf.keras 2 ``.h5`` file with a model config; it is
  loaded with ``lamina.models.load_model`` (so the same safety rules hold: no code from the file is run);
- weights only (``.weights.h5``, a weights-only ``.h5``, or a ``.keras`` archive when ``model=`` is given): they
  are loaded into the model passed as ``model=``, which is returned.

A URL is downloaded once through ``lamina.utils.get_file`` into ``<cache>/hub/<hash of the URL>/<file name>``
(``$LAMINA_HOME`` or ``~/.lamina``), so two URLs with the same file name never share a cache entry; with
``file_hash`` (SHA-256 or MD5 hex digest) the download, or the local file, is checked and refused if different.

Example:
>>> import os, tempfile
>>> import lamina
>>> from lamina import hub
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
>>> path = os.path.join(tempfile.mkdtemp(), "tiny.keras")
>>> model.save(path)
>>> hub.load(path).output_shape
(None, 2)
"""

import hashlib
import os
import urllib.parse

__all__ = ["load", "resolve"]

_URL_SCHEMES = ("http", "https", "ftp")


def _is_url(handle):
    return urllib.parse.urlparse(handle).scheme in _URL_SCHEMES + ("file",)


def resolve(handle, file_hash=None, fname=None, cache_dir=None, force_download=False, verbose=0):
    """Return a local path for ``handle`` (a path or URL), downloading (and caching) a URL first.

    Args:
        handle: a local file path, or an ``http://``, ``https://``, ``ftp://`` or ``file://`` URL.
        file_hash: optional expected SHA-256 (64 hex digits) or MD5 digest of the file.
        fname: the cached file's name (default: the last part of the URL's path).
        cache_dir: root of the cache (default ``$LAMINA_HOME`` or ``~/.lamina``).
        force_download: download again even if the file is cached.
        verbose: 1 to show download progress.

    Returns:
        The path of the local file.

    Raises:
        TypeError: if ``handle`` is not a string or path.
        FileNotFoundError: for a local path that does not exist.
        lamina.utils.file_utils.ChecksumError: when the file's hash differs from ``file_hash``.
    """
    from lamina.utils.file_utils import ChecksumError, get_file, validate_file

    if not isinstance(handle, (str, os.PathLike)):
        raise TypeError(f"lamina.hub: handle must be a file path or a URL string, but received "
                        f"{type(handle).__name__} ({handle!r:.80}).")
    handle = os.fspath(handle)
    parsed = urllib.parse.urlparse(handle)
    if parsed.scheme == "file":
        handle = urllib.parse.unquote(parsed.path)
    elif parsed.scheme in _URL_SCHEMES:
        name = fname or os.path.basename(urllib.parse.unquote(parsed.path))
        if not name or name in (".", "..") or "/" in name or os.sep in name:
            raise ValueError(f"lamina.hub: cannot tell a file name from the URL {handle!r}; pass fname=.")
        subdir = os.path.join("hub", hashlib.sha256(handle.encode("utf8")).hexdigest()[:16])
        return get_file(name, handle, file_hash=file_hash, cache_subdir=subdir, cache_dir=cache_dir,
                        force_download=force_download, verbose=verbose)
    if not os.path.isfile(handle):
        raise FileNotFoundError(f"lamina.hub: no file found at '{handle}' (a local path, since it is not an "
                                "http(s)/ftp/file URL).")
    if file_hash is not None and not validate_file(handle, file_hash):
        raise ChecksumError(f"lamina.hub: the file '{handle}' has a different hash than the expected "
                            f"file_hash={file_hash!r}; it was not loaded.")
    return handle


def _holds_model_config(path):
    """True for a ``.keras`` archive or a tf.keras 2 ``.h5`` with a model config; False for weights only."""
    import zipfile

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return "config.json" in archive.namelist()
    with open(path, "rb") as f:
        head = f.read(8)
    if head != b"\x89HDF\r\n\x1a\n":
        raise ValueError(f"lamina.hub: '{path}' is neither a '.keras' archive nor an HDF5 ('.h5') file; it cannot "
                         "be loaded.")
    import h5py

    with h5py.File(path, "r") as f:
        return "model_config" in f.attrs


def load(handle, model=None, file_hash=None, fname=None, custom_objects=None, compile=True, safe_mode=True,
         skip_mismatch=False, cache_dir=None, force_download=False, verbose=0):
    """Load a saved model (or weights into ``model``) from a local path or a URL.

    Args:
        handle: a local file path or a URL (see ``resolve``) of a ``.keras`` / ``.h5`` model file or of a
            weights file.
        model: optional model to load weights into. Required for weights-only files; when given, a whole-model
            file also only gives its weights to ``model``.
        file_hash: optional expected SHA-256 or MD5 hex digest of the file (checked on download and for local
            files).
        fname: the cached file's name for a URL (default: from the URL).
        custom_objects: passed to ``lamina.models.load_model``.
        compile: passed to ``lamina.models.load_model``.
        safe_mode: passed to ``lamina.models.load_model`` (files never run code unless you allow it).
        skip_mismatch: when loading weights into ``model``, skip layers that do not fit instead of raising.
        cache_dir: root of the download cache (default ``$LAMINA_HOME`` or ``~/.lamina``).
        force_download: download again even if cached.
        verbose: 1 to show download progress.

    Returns:
        The loaded model (``model`` itself when it was given).

    Raises:
        ValueError: for a weights-only file without ``model``, or a file of another format.
    """
    path = resolve(handle, file_hash=file_hash, fname=fname, cache_dir=cache_dir, force_download=force_download,
                   verbose=verbose)
    if model is not None:
        if not hasattr(model, "load_weights"):
            raise TypeError(f"lamina.hub.load: model must be a lamina model, but received {type(model).__name__}.")
        model.load_weights(path, skip_mismatch=skip_mismatch)
        return model
    if not _holds_model_config(path):
        raise ValueError(f"lamina.hub.load: '{handle}' holds only weights (no model config). Build the model "
                         "first and pass it: lamina.hub.load(handle, model=my_model).")
    from lamina.models import load_model

    return load_model(path, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
