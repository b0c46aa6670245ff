"""Downloading, caching, checking and safely extracting files, without TensorFlow.

``get_file`` keeps Keras's signature. Files are looked up, in order, in the cache
(``$LAMINA_HOME/<cache_subdir>``, default ``~/.lamina``), in ``$LAMINA_DATASETS_DIR``
and in Keras's cache (``~/.keras/<cache_subdir>``); only then downloaded, from the
mirror base URL ``$LAMINA_DATASETS_URL`` (if set) and then the origin. A download
is written to a temporary file next to the cache, its size and hash are checked,
and only then is it moved (atomically) into place.
"""

import hashlib
import http.client
import os
import shutil
import stat
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile

from lamina.preprocessing.sequence import pad_sequences  # noqa: F401  (re-exported as lamina.utils.pad_sequences)
from lamina.utils import io_utils

_CHUNK = 1 << 16


class DownloadError(OSError):
    """A file could not be obtained, or what was obtained failed its checks."""


class ChecksumError(DownloadError):
    """A downloaded file's hash differs from the expected one (nothing was cached)."""


def _resolve_hasher(algorithm, file_hash=None):
    if algorithm == "auto":
        algorithm = "sha256" if file_hash is not None and len(file_hash) == 64 else "md5"
    if algorithm not in ("sha256", "md5"):
        raise ValueError(f"hash_algorithm must be 'auto', 'sha256' or 'md5', got {algorithm!r}.")
    return algorithm


def hash_file(fpath, algorithm="sha256", chunk_size=_CHUNK):
    """Return the hex digest of a file.

    Args:
        fpath: path of the file.
        algorithm: ``"sha256"``, ``"md5"`` or ``"auto"`` (SHA-256).
        chunk_size: bytes read at a time.

    Returns:
        The hex digest, a string.

    Example:
    >>> import os, tempfile
    >>> from lamina.utils.file_utils import hash_file
    >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"abc")
    >>> hash_file(path, "md5")
    '900150983cd24fb0d6963f7d28e17f72'
    """
    hasher = hashlib.new(_resolve_hasher("sha256" if algorithm == "auto" else algorithm))
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=_CHUNK):
    """Return whether the file's hash equals ``file_hash`` (SHA-256 for 64 hex digits, else MD5).

    Example:
    >>> import os, tempfile
    >>> from lamina.utils.file_utils import validate_file
    >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"abc")
    >>> validate_file(path, "900150983cd24fb0d6963f7d28e17f72")
    True
    """
    algorithm = _resolve_hasher(algorithm, file_hash)
    return hash_file(fpath, algorithm, chunk_size) == str(file_hash).lower()


def _is_within(directory, target):
    directory = os.path.realpath(directory)
    target = os.path.realpath(target)
    return os.path.commonpath([directory, target]) == directory


def _check_tar_members(archive, members, path):
    for m in members:
        name = m.name
        if os.path.isabs(name) or name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
            raise ValueError(f"Refusing to extract {archive}: member {name!r} escapes the target folder.")
        if not _is_within(path, os.path.join(path, name)):
            raise ValueError(f"Refusing to extract {archive}: member {name!r} escapes the target folder.")
        if m.issym() or m.islnk():
            raise ValueError(f"Refusing to extract {archive}: member {name!r} is a link.")
        if not (m.isfile() or m.isdir()):
            raise ValueError(f"Refusing to extract {archive}: member {name!r} is a device, FIFO or other special file.")


def _check_zip_members(archive, infos, path):
    for info in infos:
        name = info.filename
        if os.path.isabs(name) or name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
            raise ValueError(f"Refusing to extract {archive}: member {name!r} escapes the target folder.")
        if not _is_within(path, os.path.join(path, name)):
            raise ValueError(f"Refusing to extract {archive}: member {name!r} escapes the target folder.")
        ftype = stat.S_IFMT(info.external_attr >> 16)
        if ftype and ftype not in (stat.S_IFREG, stat.S_IFDIR):
            raise ValueError(f"Refusing to extract {archive}: member {name!r} is a link or special file.")


def extract_archive(file_path, path=".", archive_format="auto"):
    """Extract a tar (optionally compressed) or zip archive into ``path``, refusing hostile members.

    Every member is checked before anything is written: absolute paths, ``..``
    components, symbolic and hard links, devices and FIFOs make the whole
    archive refused with ``ValueError``. The archive is extracted into a
    temporary folder next to ``path`` and its contents then moved into place.

    Args:
        file_path: the archive.
        path: destination folder (created if needed).
        archive_format: ``"auto"``, ``"tar"``, ``"zip"``, a list of them, or None (extract nothing).

    Returns:
        True if the file was an archive of an accepted format and was extracted, else False.

    Example:
    >>> import io, os, tarfile, tempfile
    >>> from lamina.utils.file_utils import extract_archive
    >>> d = tempfile.mkdtemp()
    >>> with tarfile.open(os.path.join(d, "a.tar.gz"), "w:gz") as t:
    ...     info = tarfile.TarInfo("hello.txt"); info.size = 2
    ...     t.addfile(info, io.BytesIO(b"hi"))
    >>> extract_archive(os.path.join(d, "a.tar.gz"), os.path.join(d, "out"))
    True
    >>> open(os.path.join(d, "out", "hello.txt")).read()
    'hi'
    """
    if archive_format is None:
        return False
    if archive_format == "auto":
        archive_format = ["tar", "zip"]
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    file_path = os.fspath(file_path)
    path = os.fspath(path)
    for fmt in archive_format:
        if fmt == "tar" and tarfile.is_tarfile(file_path):
            opener = tarfile.open
        elif fmt == "zip" and zipfile.is_zipfile(file_path):
            opener = zipfile.ZipFile
        else:
            continue
        os.makedirs(path, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".extract-", dir=os.path.dirname(os.path.abspath(path)))
        try:
            with opener(file_path) as archive:
                if fmt == "tar":
                    members = archive.getmembers()
                    _check_tar_members(file_path, members, tmp)
                    for m in members:
                        if m.isdir():
                            os.makedirs(os.path.join(tmp, m.name), exist_ok=True)
                            continue
                        dest = os.path.join(tmp, m.name)
                        os.makedirs(os.path.dirname(dest), exist_ok=True)
                        with archive.extractfile(m) as src, open(dest, "wb") as dst:
                            shutil.copyfileobj(src, dst)
                else:
                    infos = archive.infolist()
                    _check_zip_members(file_path, infos, tmp)
                    for info in infos:
                        dest = os.path.join(tmp, info.filename)
                        if info.is_dir():
                            os.makedirs(dest, exist_ok=True)
                            continue
                        os.makedirs(os.path.dirname(dest), exist_ok=True)
                        with archive.open(info) as src, open(dest, "wb") as dst:
                            shutil.copyfileobj(src, dst)
            for entry in os.listdir(tmp):
                dest = os.path.join(path, entry)
                if os.path.isdir(dest) and not os.path.islink(dest):
                    shutil.rmtree(dest)
                elif os.path.lexists(dest):
                    os.remove(dest)
                os.replace(os.path.join(tmp, entry), dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return True
    return False


def _mirror_url(fname, cache_subdir):
    base = os.environ.get("LAMINA_DATASETS_URL")
    if not base:
        return None
    rel = fname
    sub = (cache_subdir or "").replace("\\", "/").strip("/")
    if sub.startswith("datasets/"):
        rel = sub[len("datasets/"):] + "/" + fname
    return base.rstrip("/") + "/" + urllib.parse.quote(rel)


def _download(url, dest_dir, fname, file_hash, hash_algorithm, verbose, retries, timeout):
    """Download ``url`` to a temporary file in ``dest_dir``; check it; return the temporary path."""
    last_error = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(min(0.2 * 2 ** (attempt - 1), 5.0))
        fd, tmp = tempfile.mkstemp(prefix=f".{fname}.", suffix=".part", dir=dest_dir)
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "lamina"})
            with urllib.request.urlopen(request, timeout=timeout) as response, os.fdopen(fd, "wb") as out:
                fd = None
                total = response.headers.get("Content-Length")
                total = int(total) if total and total.isdigit() else None
                bar = None
                if verbose:
                    from lamina.utils.progbar import Progbar

                    io_utils.print_msg(f"Downloading data from {url}")
                    bar = Progbar(total, unit_name="B")
                seen = 0
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    seen += len(chunk)
                    if bar is not None:
                        bar.update(seen)
                if bar is not None:
                    bar.update(seen, finalize=True)
            if total is not None and seen != total:
                raise DownloadError(f"truncated download of {url}: got {seen} of {total} bytes")
            if file_hash is not None and not validate_file(tmp, file_hash, hash_algorithm):
                algorithm = _resolve_hasher(hash_algorithm, file_hash)
                raise ChecksumError(
                    f"The file downloaded from {url} has a different {algorithm} hash ({hash_file(tmp, algorithm)}) "
                    f"than expected ({file_hash}); it may be corrupt or tampered with. Nothing was cached."
                )
            return tmp
        except urllib.error.HTTPError as e:
            last_error = e
            _remove(tmp)
            if e.code in (401, 403, 404, 410):  # not worth retrying
                break
        except ChecksumError:
            _remove(tmp)
            raise
        except DownloadError as e:
            last_error = e
            _remove(tmp)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            last_error = e
            _remove(tmp)
        finally:
            if fd is not None:
                os.close(fd)
    raise DownloadError(f"Could not download {url}: {last_error}")


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
    verbose=1,
    retries=3,
    timeout=60,
):
    """Return the path of a file, downloading it into the cache if it is not there yet (Keras's ``get_file``).

    Look-up order: ``<cache_dir>/<cache_subdir>/<fname>`` (default ``cache_dir``:
    ``$LAMINA_HOME``, else ``~/.lamina``), ``$LAMINA_DATASETS_DIR/<fname>``, then
    Keras's cache ``~/.keras/<cache_subdir>/<fname>`` (used where it is). A found
    file with a ``file_hash`` that does not match is ignored (and, in the cache,
    re-downloaded). Downloads try ``$LAMINA_DATASETS_URL`` first when set, then
    ``origin``, each with ``retries`` retries; the size and hash are checked before
    the file is atomically moved into the cache.

    Args:
        fname: file name; if None, the last part of ``origin``'s path.
        origin: the URL to download from.
        untar: deprecated; same as ``extract=True`` with ``archive_format="tar"``.
        md5_hash: deprecated; same as ``file_hash`` with ``hash_algorithm="md5"``.
        file_hash: expected SHA-256 (64 hex digits) or MD5 hex digest, or None.
        cache_subdir: folder under ``cache_dir`` (an absolute path is used as is).
        hash_algorithm: ``"auto"``, ``"sha256"`` or ``"md5"``.
        extract: if True, extract the archive into ``<fname without extension>`` next to it and
            return that folder's path.
        archive_format: ``"auto"``, ``"tar"``, ``"zip"`` or a list of them.
        cache_dir: root of the cache (default ``$LAMINA_HOME`` or ``~/.lamina``).
        force_download: download even if the file is cached.
        verbose: 1 to print a progress bar while downloading, 0 for silence.
        retries: extra attempts after a failed download.
        timeout: socket timeout in seconds.

    Returns:
        The path of the file (or of the extracted folder when ``extract``).

    Raises:
        DownloadError: the file is not available locally and cannot be downloaded, or fails its checks.

    Example:
    >>> import os, tempfile
    >>> from lamina.utils import get_file
    >>> cache = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(cache, "datasets"))
    >>> with open(os.path.join(cache, "datasets", "data.txt"), "w") as f:
    ...     _ = f.write("cached")
    >>> path = get_file("data.txt", origin="http://127.0.0.1:9/data.txt", cache_dir=cache)
    >>> open(path).read()
    'cached'
    """
    if origin is None and fname is None:
        raise ValueError("get_file needs fname or origin.")
    if fname is None:
        fname = os.path.basename(urllib.parse.urlparse(origin).path)
        if not fname:
            raise ValueError(f"Cannot infer a file name from origin {origin!r}; pass fname.")
    fname = os.fspath(fname)
    if untar:
        extract, archive_format = True, "tar"
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if cache_dir is None:
        from lamina.config import lamina_home

        cache_dir = lamina_home()
    cache_dir = os.path.expanduser(os.fspath(cache_dir))
    datadir = os.path.join(cache_dir, cache_subdir) if cache_subdir else cache_dir
    os.makedirs(datadir, exist_ok=True)
    fpath = os.path.join(datadir, fname)

    def ok(path):
        return os.path.isfile(path) and (file_hash is None or validate_file(path, file_hash, hash_algorithm))

    found = None
    if not force_download:
        if ok(fpath):
            found = fpath
        else:
            candidates = []
            if os.environ.get("LAMINA_DATASETS_DIR"):
                local_dir = os.environ["LAMINA_DATASETS_DIR"]
                sub = (cache_subdir or "").replace("\\", "/").strip("/")
                if sub.startswith("datasets/"):
                    candidates.append(os.path.join(local_dir, sub[len("datasets/"):], fname))
                candidates.append(os.path.join(local_dir, fname))
            keras_sub = cache_subdir if cache_subdir and not os.path.isabs(cache_subdir) else "datasets"
            candidates.append(os.path.join(os.path.expanduser("~"), ".keras", keras_sub, fname))
            candidates.append(os.path.join(os.path.expanduser("~"), ".keras", "datasets", os.path.basename(fname)))
            found = next((c for c in candidates if ok(c)), None)

    if found is None:
        urls = [u for u in (_mirror_url(fname, cache_subdir), origin) if u]
        if not urls:
            raise DownloadError(_missing_message(fname, fpath, origin))
        os.makedirs(os.path.dirname(fpath), exist_ok=True)
        errors = []
        for url in urls:
            try:
                tmp = _download(url, os.path.dirname(fpath), os.path.basename(fname), file_hash, hash_algorithm,
                                verbose, retries, timeout)
            except ChecksumError:
                raise
            except DownloadError as e:
                errors.append(str(e))
                continue
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, fpath)
            found = fpath
            break
        if found is None:
            raise DownloadError(_missing_message(fname, fpath, origin) + " Errors: " + "; ".join(errors))

    if extract:
        base = os.path.basename(found)
        for ext in (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip"):
            if base.endswith(ext):
                base = base[: -len(ext)]
                break
        else:
            base = base + "_extracted"
        target = os.path.join(datadir, base)
        if force_download or not os.path.isdir(target) or not os.listdir(target):
            if not extract_archive(found, target, archive_format):
                raise ValueError(f"{found} is not an archive of format {archive_format!r}.")
        return target
    return found


def _missing_message(fname, fpath, origin):
    mirror = os.environ.get("LAMINA_DATASETS_URL")
    return (
        f"Could not obtain {fname!r}: it is not cached at {fpath} and could not be downloaded from "
        f"{origin or '(no origin given)'}"
        + (f" or the mirror LAMINA_DATASETS_URL={mirror}" if mirror else "")
        + ". Provide it in one of three ways: place the file in a folder named by LAMINA_DATASETS_DIR "
        "(as <LAMINA_DATASETS_DIR>/<dataset>/<file> for lamina.datasets), put it in the cache at "
        f"{fpath}, or set LAMINA_DATASETS_URL to a mirror base URL that serves it."
    )
