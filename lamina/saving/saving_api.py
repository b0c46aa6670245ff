"""``save_model`` / ``load_model`` / ``save_weights`` / ``load_weights``: the public saving API.

Formats, chosen by the file name:

* ``.keras``: a zip archive in Keras 3's layout (config, compile settings,
  weights and optimizer state). The default and recommended format.
* ``.h5`` / ``.hdf5``: tf.keras 2's HDF5 layout, for programs written for Keras 2.
* ``.weights.h5``: weights (and optimizer state) in Keras 3's layout.
* ``.weights.json``: sharded weights (``max_shard_size``): an index plus ``.weights.h5`` shards.

Loading is safe by default: no code from the file is run, only registered classes
are created, shapes are checked before reading, and a damaged or foreign file
gives a ``ValueError`` naming the file and the problem.

Example:
>>> import os, tempfile, numpy as np, lamina
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
>>> model.compile(optimizer="adam", loss="mse")
>>> folder = tempfile.mkdtemp()
>>> lamina.saving.save_model(model, os.path.join(folder, "m.keras"))
>>> loaded = lamina.models.load_model(os.path.join(folder, "m.keras"))
>>> x = np.ones((1, 3), "float32")
>>> bool(np.allclose(model.predict(x, verbose=0), loaded.predict(x, verbose=0)))
True
"""

import os
import warnings

from lamina.saving import keras_archive, legacy_h5, sharded_weights, weights_store
from lamina.saving.file_safety import atomic_write, file_error, h5_errors, open_h5

_ZIP_MAGIC = b"PK\x03\x04"
_H5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _path(filepath, who):
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"{who}: filepath must be a str or os.PathLike, but received {type(filepath).__name__}.")
    return os.fspath(filepath)


def _check_overwrite(filepath, overwrite, who):
    if not overwrite and os.path.exists(filepath):
        raise ValueError(f"{who}: '{filepath}' already exists and overwrite=False. Pass overwrite=True to "
                         "replace it.")


# Keras 2's model.save("my_model") wrote a TensorFlow SavedModel folder; lamina writes its archive inside such a
# folder under this name, so that the tutorials' save-then-load round trip works.
_FOLDER_ARCHIVE = "model.keras"


def _sniff(filepath):
    if os.path.isdir(filepath):
        if os.path.isfile(os.path.join(filepath, _FOLDER_ARCHIVE)):
            return "folder"
        raise ValueError(f"Cannot load '{filepath}': it is a folder without a '{_FOLDER_ARCHIVE}' (lamina's "
                         "archive for Keras 2's model.save('name')). TensorFlow SavedModel folders are not "
                         "supported; save the model as '.keras' with Keras and load that file.")
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"No file or directory found at '{filepath}'.")
    with open(filepath, "rb") as f:
        head = f.read(8)
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head == _H5_MAGIC:
        return "h5"
    return None


def save_model(model, filepath, overwrite=True, zipped=None, include_optimizer=True, **kwargs):
    """Save a model (architecture, weights, compile settings, optimizer state) to ``filepath``.

    Args:
        model: the model.
        filepath: a path ending in ``.keras`` (recommended) or ``.h5``/``.hdf5``
            (tf.keras 2's layout).
        overwrite: whether to replace an existing file.
        zipped: Keras 3's argument; only zipped ``.keras`` files are written.
        include_optimizer: also save the optimizer's state.

    Raises:
        ValueError: for another file extension, or an existing file with
            ``overwrite=False``.
    """
    filepath = _path(filepath, "save_model")
    save_format = kwargs.pop("save_format", None)
    if save_format not in (None, "keras", "h5", "tf"):
        raise ValueError(f"save_model: save_format must be 'keras', 'h5' or (Keras 2) 'tf', but received "
                         f"{save_format!r}.")
    if kwargs:
        raise TypeError(f"save_model got unexpected keyword argument(s) {sorted(kwargs)}.")
    if zipped is False:
        raise ValueError("save_model: zipped=False (an unzipped folder) is not supported yet; use zipped=True.")
    _check_overwrite(filepath, overwrite, "save_model")
    if save_format == "h5" and not filepath.endswith((".h5", ".hdf5")):
        # Keras 2: save_format="h5" writes its HDF5 layout whatever the name
        warnings.warn(f"save_model(save_format='h5'): writing the legacy Keras 2 HDF5 format to '{filepath}'; "
                      "prefer a '.keras' file name.", DeprecationWarning, stacklevel=2)
        legacy_h5.save_legacy(model, filepath, include_optimizer=include_optimizer)
    elif save_format == "tf" or (not filepath.endswith((".keras", ".h5", ".hdf5")) and
                                 not os.path.splitext(filepath)[1]):
        # Keras 2: a name without an extension (or save_format="tf") was a TensorFlow SavedModel folder.
        warnings.warn(f"save_model('{filepath}'): Keras 2 wrote a TensorFlow SavedModel folder here; lamina writes "
                      f"its '.keras' archive into the folder ('{os.path.join(filepath, _FOLDER_ARCHIVE)}'), which "
                      "load_model reads back. Use a '.keras' file name (and model.export(...) for serving).",
                      DeprecationWarning, stacklevel=2)
        if os.path.isfile(filepath):
            raise ValueError(f"save_model: '{filepath}' is a file; Keras 2's name without an extension names a "
                             "folder. Use a '.keras' file name.")
        os.makedirs(filepath, exist_ok=True)
        keras_archive.save_keras(model, os.path.join(filepath, _FOLDER_ARCHIVE), include_optimizer=include_optimizer)
    elif filepath.endswith(".keras"):
        keras_archive.save_keras(model, filepath, include_optimizer=include_optimizer)
    elif filepath.endswith((".h5", ".hdf5")):
        if filepath.endswith(".weights.h5"):
            raise ValueError(f"save_model: '{filepath}' ends in '.weights.h5', the suffix of weights-only files. "
                             "Use model.save_weights() for weights, or a '.keras' name for the whole model.")
        warnings.warn("Saving to '.h5' writes the legacy Keras 2 HDF5 format; prefer a '.keras' file name "
                      "(model.save('my_model.keras')).", DeprecationWarning, stacklevel=2)
        legacy_h5.save_legacy(model, filepath, include_optimizer=include_optimizer)
    else:
        raise ValueError(f"save_model: unsupported file name '{filepath}'. Use a name ending in '.keras' (or "
                         "'.h5' for the legacy Keras 2 format).")


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved with ``save_model`` (lamina or Keras 3 ``.keras``, tf.keras 2 ``.h5``).

    Args:
        filepath: the file.
        custom_objects: a dict mapping names in the file to your classes and
            functions (see also ``register_serializable``).
        compile: restore the compile settings and optimizer state, if saved.
        safe_mode: refuse files that hold code: a Lambda layer loads only
            when its function is registered (``register_serializable``) under
            the name in the file. With ``safe_mode=False`` a Lambda's function
            may also come from ``custom_objects``; code stored in a file is
            never run.

    Returns:
        The model.

    Raises:
        ValueError: naming the file, for a corrupt, truncated, foreign or unsafe
            file, or a class that cannot be found.
    """
    filepath = _path(filepath, "load_model")
    kind = _sniff(filepath)
    if kind == "folder":  # Keras 2's model.save("name"), as lamina writes it
        filepath = os.path.join(filepath, _FOLDER_ARCHIVE)
        kind = _sniff(filepath)
    if kind == "zip":
        return keras_archive.load_keras(filepath, custom_objects=custom_objects, compile=compile,
                                        safe_mode=safe_mode)
    if kind == "h5":
        return legacy_h5.load_legacy(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
    raise file_error(filepath, "it is neither a '.keras' zip archive nor an HDF5 file (the first bytes do not "
                     "match either format); the file is corrupt or in another format.")


def save_weights(model, filepath, overwrite=True, max_shard_size=None):
    """Save the model's weights (and optimizer state) to ``filepath``.

    ``*.weights.h5`` gets Keras 3's layout; another ``.h5``/``.hdf5`` name gets
    tf.keras 2's weights-only layout. With ``max_shard_size`` (in GB) the name
    must end in ``.weights.json``: a JSON index plus ``<name>_NNNNN.weights.h5``
    shards next to it, as Keras 3 writes (see ``sharded_weights``).
    """
    filepath = _path(filepath, "save_weights")
    _check_overwrite(filepath, overwrite, "save_weights")
    if filepath.endswith(".weights.json"):
        sharded_weights.save_sharded(model, filepath, 5 if max_shard_size is None else max_shard_size)
    elif max_shard_size is not None:
        raise ValueError(f"save_weights: with max_shard_size the file name must end in '.weights.json' (an index "
                         f"of '.weights.h5' shards), but received '{filepath}'.")
    elif filepath.endswith(".weights.h5"):
        with atomic_write(filepath) as tmp:
            with open_h5(tmp, filepath, "w") as f:
                weights_store.save_to_h5(model, f)
    elif filepath.endswith((".h5", ".hdf5")):
        legacy_h5.save_weights_legacy(model, filepath)
    else:
        raise ValueError(f"save_weights: the file name must end in '.weights.h5' (or '.weights.json' with "
                         f"max_shard_size), but received '{filepath}'.")


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    """Load weights into ``model`` from a ``.weights.h5``, ``.keras``, Keras 2 ``.h5`` or sharded ``.weights.json`` file.

    Args:
        model: the (built) model to fill.
        filepath: the file.
        skip_mismatch: skip, with a warning, layers whose weight count or shapes
            differ from the file's, instead of raising.

    Raises:
        ValueError: naming the file when it does not fit the model.
    """
    filepath = _path(filepath, "load_weights")
    by_name = bool(kwargs.pop("by_name", False))
    if kwargs:
        raise TypeError(f"load_weights got unexpected keyword argument(s) {sorted(kwargs)}.")
    if not getattr(model, "built", True):
        raise ValueError(f"load_weights: model '{model.name}' is not built yet, so it has no weights to load "
                         "into. Call it on data or call model.build(input_shape) first.")
    if by_name and not filepath.endswith((".h5", ".hdf5")) or by_name and filepath.endswith(".weights.h5"):
        raise ValueError(f"load_weights: by_name=True matches layers by name in a Keras 2 '.h5'/'.hdf5' weights "
                         f"file only (as Keras), but received '{filepath}'. Load it without by_name, or use "
                         "skip_mismatch=True to pass over layers whose shapes differ.")
    if filepath.endswith(".json"):
        if not os.path.isfile(filepath):
            raise FileNotFoundError(f"No file or directory found at '{filepath}'.")
        return sharded_weights.load_sharded(model, filepath, skip_mismatch=skip_mismatch)
    kind = _sniff(filepath)
    if kind == "zip":
        return keras_archive.load_weights_from_keras(model, filepath, skip_mismatch=skip_mismatch)
    if kind != "h5":
        raise file_error(filepath, "it is not an HDF5 weights file or a '.keras' archive.")
    with open_h5(filepath, filepath) as f, h5_errors(filepath):
        if "layer_names" in f.attrs:
            legacy_h5.load_weights_legacy(model, f, filepath, skip_mismatch=skip_mismatch, by_name=by_name)
        elif "model_weights" in f:
            legacy_h5.load_weights_legacy(model, f["model_weights"], filepath, skip_mismatch=skip_mismatch,
                                          by_name=by_name)
        elif by_name:
            raise ValueError(f"load_weights: by_name=True needs a Keras 2 HDF5 weights file (with 'layer_names'), "
                             f"but '{filepath}' is in the Keras 3 layout; load it without by_name.")
        else:
            weights_store.load_from_h5(model, f, filepath, skip_mismatch=skip_mismatch)
