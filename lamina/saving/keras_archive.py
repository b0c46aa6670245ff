"""The ``.keras`` format: a zip archive in Keras 3's layout.

Members: ``metadata.json`` (versions, date), ``config.json`` (the model's object
config with ``compile_config`` and ``build_config``) and ``model.weights.h5``
(see ``weights_store``; each layer's ``save_own_variables`` fills its group), and
``assets/<layer path>/...``: the files each layer's ``save_assets`` wrote (see
``assets_io``). Members are read by these fixed names; an asset is extracted
only for a layer that overrides ``load_assets``, after its name is checked.

Example:
>>> import os, tempfile, lamina
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
>>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
>>> lamina.saving.save_model(model, path)
>>> lamina.saving.load_model(path).output_shape
(None, 2)
"""

import datetime
import json
import shutil
import tempfile
import zipfile

from lamina.saving import assets_io, weights_store
from lamina.saving.compile_config import compile_from_config, get_compile_config
from lamina.saving.config_loading import check_and_adapt, model_from_file_config
from lamina.saving.file_safety import (atomic_write, copy_member_to_tempfile, file_error, h5_errors, open_h5,
                                       open_zip, parse_json, read_member)
from lamina.saving.keras_layout import keras_compile_config, keras_layout
from lamina.saving.serialization import serialize_object

CONFIG = "config.json"
# metadata.json marks files whose Functional configs count a nested Functional model's nodes as Keras 3 does
# (from 1 in input_layers/output_layers); earlier lamina files counted from 0 (see graph_config.keras_io_indices).
NODE_INDICES = "keras"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
MAX_WEIGHTS_BYTES = 1 << 40


def model_config(model):
    """Return the config written to ``config.json``: the object config plus ``compile_config``."""
    config = keras_layout(serialize_object(model))
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Cannot save model '{model.name}': it has no object config.")
    compile_config = get_compile_config(model)
    if compile_config is not None:
        config["compile_config"] = keras_compile_config(compile_config)
    return config


def _config_json(model):
    try:
        return json.dumps(model_config(model))
    except TypeError as e:
        raise ValueError(
            f"Cannot save model '{model.name}': its config is not JSON-serializable ({e}). A custom layer's "
            "get_config() must return only numbers, strings, lists, dicts and serialized objects.") from None


def _metadata_json():
    import lamina

    return json.dumps({"lamina_version": lamina.__version__,
                       "backend": lamina.config.backend(),
                       "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
                       "node_indices": NODE_INDICES})


def save_keras(model, filepath, include_optimizer=True):
    """Write ``model`` to ``filepath`` as a ``.keras`` archive (atomically)."""
    config_json = _config_json(model)
    with tempfile.TemporaryFile() as h5_tmp, assets_io.collected(model) as assets:
        with open_h5(h5_tmp, filepath, "w") as f:
            weights_store.save_to_h5(model, f, include_optimizer=include_optimizer)
        h5_tmp.seek(0)
        with atomic_write(filepath) as tmp:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
                zf.writestr(METADATA, _metadata_json())
                zf.writestr(CONFIG, config_json)
                with zf.open(WEIGHTS, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(h5_tmp, dst, 1 << 20)
                for name, path in assets:
                    zf.write(path, name)


def read_config(zf, filepath):
    """Return the parsed ``config.json`` of an open archive (in Keras 3's node count, see ``NODE_INDICES``)."""
    metadata = {}
    if METADATA in zf.namelist():
        metadata = parse_json(filepath, METADATA, read_member(zf, filepath, METADATA, limit=1 << 20))
    config = parse_json(filepath, CONFIG, read_member(zf, filepath, CONFIG))
    if isinstance(metadata, dict) and "lamina_version" in metadata and "node_indices" not in metadata:
        from lamina.models.graph_config import keras_io_indices

        config = keras_io_indices(config)  # written by an earlier lamina
    return config


def load_keras(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved by ``save_keras`` or by Keras 3."""
    with open_zip(filepath) as zf:
        config = read_config(zf, filepath)
        compile_config = config.get("compile_config") if isinstance(config, dict) else None
        config = check_and_adapt(config, filepath, custom_objects, safe_mode)
        config.pop("compile_config", None)
        model = model_from_file_config(config, filepath, custom_objects, safe_mode)
        if compile and compile_config:
            compile_from_config(model, compile_config, custom_objects, f"'{filepath}'")
        with copy_member_to_tempfile(zf, filepath, WEIGHTS, MAX_WEIGHTS_BYTES) as h5_tmp:
            with open_h5(h5_tmp, filepath) as f, h5_errors(filepath):
                weights_store.load_from_h5(model, f, filepath, load_optimizer=bool(compile and compile_config),
                                           optimizer_required=True)
        assets_io.load(model, zf, filepath)
    return model


def load_weights_from_keras(model, filepath, skip_mismatch=False):
    """Load only the weights (and optimizer state, if compatible) of a ``.keras`` archive into ``model``."""
    with open_zip(filepath) as zf:
        if WEIGHTS not in zf.namelist():
            raise file_error(filepath, f"the archive has no '{WEIGHTS}'.")
        with copy_member_to_tempfile(zf, filepath, WEIGHTS, MAX_WEIGHTS_BYTES) as h5_tmp:
            with open_h5(h5_tmp, filepath) as f, h5_errors(filepath):
                weights_store.load_from_h5(model, f, filepath, skip_mismatch=skip_mismatch)
