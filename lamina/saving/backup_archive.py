"""The training backups of ``BackupAndRestore``: one zip archive per backup, written atomically.

Members (read only by these fixed names; nothing is ever extracted to a path):

* ``model.weights.h5``: the model's weights and its optimizer's variables, in the layout of
  ``weights_store`` (so ``model.load_weights(<backup>)`` reads the weights of a backup);
* ``resume_state.h5``: the seed-generator states of the model (``seeds/0``, ``seeds/1``...) and
  its metric accumulators (``metrics/0``...), each checked against its variable's shape on load;
* ``training_state.json``: the position in training (``epoch``, ``step`` in the epoch), the state
  of the host random generator that shuffles, the state of lamina's global seed generator, and the
  states of the other callbacks (``callbacks``: class, occurrence, JSON state), whose arrays (e.g.
  EarlyStopping's best weights) are in ``resume_state.h5`` under ``callbacks/<i>/<key>/<j>``.

Loading never runs code from the file: it reads numbers and JSON and checks them.

Example:
>>> import os, tempfile, lamina
>>> from lamina.saving import backup_archive
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> path = os.path.join(tempfile.mkdtemp(), "latest.backup.zip")
>>> backup_archive.write_backup(model, path, {"epoch": 1, "step": 0, "host_rng": None})
>>> backup_archive.read_backup(model, path)["epoch"]
1
"""

import datetime
import json
import os
import shutil
import tempfile
import zipfile

import numpy as np

from lamina import backend
from lamina.saving import weights_store
from lamina.saving.file_safety import (atomic_write, copy_member_to_tempfile, file_error, h5_errors, open_h5,
                                       open_zip, parse_json, read_dataset, read_member)

WEIGHTS = "model.weights.h5"
STATE = "resume_state.h5"
TRAINING = "training_state.json"
FORMAT = "lamina.BackupAndRestore"
VERSION = 1
MAX_BYTES = 1 << 40


def seed_variables(model):
    """The model's seed-generator states (role ``"seed"``), in a fixed order."""
    return [v for v in model.variables if v.role == "seed"]


def _global_seed_state():
    from lamina.random.random import global_seed_generator

    return global_seed_generator().state


def _h5_bytes(write):
    """Run ``write(h5_file)`` on an anonymous temporary HDF5 file; return the open file, rewound."""
    tmp = tempfile.TemporaryFile()
    with open_h5(tmp, "<backup>", "w") as f:
        write(f)
    tmp.seek(0)
    return tmp


def _split_callback_states(callback_states):
    """JSON parts and array lists of ``[{"class", "index", "state"}, ...]`` (lists of arrays come out)."""
    json_parts, arrays = [], {}
    for i, entry in enumerate(callback_states or ()):
        plain = {}
        for key, value in entry["state"].items():
            if isinstance(value, (list, tuple)) and value and all(isinstance(a, np.ndarray) for a in value):
                arrays[(i, key)] = value
                plain[key] = {"arrays": len(value)}
            else:
                plain[key] = value
        json_parts.append({"class": entry["class"], "index": entry["index"], "state": plain})
    return json_parts, arrays


def _write_state(model, f, callback_arrays=None):
    for (i, key), values in (callback_arrays or {}).items():
        group = f.require_group(f"callbacks/{i}/{key}")
        for j, a in enumerate(values):
            group.create_dataset(str(j), data=a)
    for group_name, variables in (("seeds", seed_variables(model)),
                                  ("metrics", list(getattr(model, "metrics_variables", [])))):
        group = f.create_group(group_name)
        for i, v in enumerate(variables):
            group.create_dataset(str(i), data=np.asarray(backend.convert_to_numpy(v.value)))


def write_backup(model, path, training_state, before_replace=None, callback_states=None):
    """Write a backup of ``model`` to ``path`` atomically (a temporary file, then ``os.replace``).

    Args:
        model: the model being trained (weights, optimizer, seeds and metrics are saved).
        path: the archive's path; its folder must exist.
        training_state: a JSON-serializable dict with at least ``epoch`` and ``step``.
        before_replace: called once the new archive is complete, just before it replaces ``path``
            (``BackupAndRestore`` keeps the previous backup there).
        callback_states: ``[{"class", "index", "state"}, ...]`` of the callbacks with a state.
    """
    callbacks_json, callback_arrays = _split_callback_states(callback_states)
    state = dict(training_state, format=FORMAT, version=VERSION, callbacks=callbacks_json,
                 global_seed=[int(s) for s in backend.convert_to_numpy(_global_seed_state().value)])
    state_json = json.dumps(state)
    metadata = json.dumps({"lamina_version": _version(), "backend": _backend_name(),
                           "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    with _h5_bytes(lambda f: weights_store.save_to_h5(model, f, include_optimizer=True)) as weights_tmp, \
            _h5_bytes(lambda f: _write_state(model, f, callback_arrays)) as state_tmp:
        with atomic_write(path) as tmp:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
                zf.writestr("metadata.json", metadata)
                zf.writestr(TRAINING, state_json)
                for name, src in ((WEIGHTS, weights_tmp), (STATE, state_tmp)):
                    with zf.open(name, "w", force_zip64=True) as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
            if before_replace is not None:
                before_replace()


def _version():
    import lamina

    return lamina.__version__


def _backend_name():
    import lamina

    return lamina.config.backend()


def _check_training_state(state, path):
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise file_error(path, f"'{TRAINING}' is not a {FORMAT} training state (format={found!r}).")
    if state.get("version") != VERSION:
        raise file_error(path, f"'{TRAINING}' has format version {state.get('version')!r}; this lamina reads "
                         f"version {VERSION}.")
    for key in ("epoch", "step"):
        value = state.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise file_error(path, f"'{TRAINING}' has {key}={value!r}; expected a non-negative int.")
    seed = state.get("global_seed")
    if not (isinstance(seed, list) and len(seed) == 2 and all(isinstance(s, int) and not isinstance(s, bool)
                                                              for s in seed)):
        raise file_error(path, f"'{TRAINING}' has global_seed={seed!r}; expected two ints.")
    rng = state.get("host_rng")
    if rng is not None:
        # The state of the shuffling generator fit uses (NumPy's default bit generator), checked by
        # NumPy on a throw-away instance.
        probe = np.random.default_rng(0).bit_generator
        try:
            if not isinstance(rng, dict) or rng.get("bit_generator") != type(probe).__name__:
                raise ValueError(f"expected the state of a {type(probe).__name__} generator")
            probe.state = rng
        except (ValueError, TypeError, KeyError, OverflowError) as e:
            raise file_error(path, f"'{TRAINING}' has an invalid host_rng state ({e}).") from None


def _read_group(f, name, variables, path):
    import h5py

    group = f.get(name)
    if not isinstance(group, h5py.Group):
        raise file_error(path, f"'{STATE}' has no '{name}' group.")
    keys = sorted((k for k in group.keys() if k.isdigit()), key=int)
    if keys != [str(i) for i in range(len(variables))]:
        raise file_error(path, f"'{STATE}' holds {len(keys)} '{name}' arrays, but the model has "
                         f"{len(variables)} ({[str(v.path) for v in variables][:10]}).")
    return [read_dataset(group[str(i)], path, f"{name}/{i}", tuple(v.shape), target=v.path)
            for i, v in enumerate(variables)]


def read_backup(model, path):
    """Restore a backup written by ``write_backup`` into ``model``; return its training state.

    The weights, optimizer variables, seed-generator states and lamina's global seed are
    assigned; the metric accumulators are returned (``state["metric_values"]``, NumPy arrays) for
    the training loop to restore after it resets the metrics. Everything is read and checked
    before the first variable is assigned, except the weights, which ``weights_store`` checks
    layer by layer.

    Raises:
        FileLoadError: naming ``path`` when the archive is corrupt, truncated, foreign, or does
            not fit the model.
        FileNotFoundError: when ``path`` does not exist.
    """
    path = os.fspath(path)
    with open_zip(path) as zf:
        state = parse_json(path, TRAINING, read_member(zf, path, TRAINING, limit=1 << 20))
        _check_training_state(state, path)
        with copy_member_to_tempfile(zf, path, STATE, MAX_BYTES) as tmp:
            with open_h5(tmp, path) as f, h5_errors(path):
                seeds = _read_group(f, "seeds", seed_variables(model), path)
                metrics = _read_group(f, "metrics", list(getattr(model, "metrics_variables", [])), path)
                callbacks = _read_callback_states(f, state.get("callbacks", []), path)
        with copy_member_to_tempfile(zf, path, WEIGHTS, MAX_BYTES) as tmp:
            with open_h5(tmp, path) as f, h5_errors(path):
                weights_store.load_from_h5(model, f, path, load_optimizer=True, optimizer_required=True)
    for v, value in zip(seed_variables(model), seeds):
        v.assign(value)
    _global_seed_state().assign(np.asarray(state["global_seed"], dtype="int64"))
    state["metric_values"] = metrics
    state["callbacks"] = callbacks
    return state


def _read_callback_states(f, entries, path):
    """The callbacks' states, with their arrays read back from ``resume_state.h5``."""
    import h5py

    if not isinstance(entries, list):
        raise file_error(path, f"'{TRAINING}' has callbacks={entries!r:.80}; expected a list.")
    out = []
    for i, entry in enumerate(entries):
        if not (isinstance(entry, dict) and isinstance(entry.get("class"), str)
                and isinstance(entry.get("index"), int) and isinstance(entry.get("state"), dict)):
            raise file_error(path, f"'{TRAINING}' has an invalid callback entry {entry!r:.80}.")
        state = {}
        for key, value in entry["state"].items():
            if isinstance(value, dict) and set(value) == {"arrays"}:
                group = f.get(f"callbacks/{i}/{key}")
                if not isinstance(group, h5py.Group) or len(group) != value["arrays"]:
                    raise file_error(path, f"'{STATE}' lacks the arrays of callback {entry['class']} ({key}).")
                # The callback checks the shapes against the model (EarlyStopping's best weights).
                value = [read_dataset(group[str(j)], path, f"callbacks/{i}/{key}/{j}",
                                      tuple(getattr(group[str(j)], "shape", None) or ()), target=key)
                         for j in range(value["arrays"])]
            state[key] = value
        out.append({"class": entry["class"], "index": entry["index"], "state": state})
    return out
