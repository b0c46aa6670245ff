"""``KerasFileEditor``: look inside a ``.keras`` or ``.weights.h5`` file, edit its weights, write them back.

For adapting a saved checkpoint after the model's architecture changed: delete the weights of a layer that
is gone, add those of a new one, rename a layer whose path moved, then ``save`` a ``.weights.h5`` file that
the new model's ``load_weights`` reads. Files written by lamina and by Keras 3 have the same layout, so
either can be edited.
"""

import json
import os

import numpy as np

from lamina.saving.file_safety import (
    atomic_write,
    copy_member_to_tempfile,
    file_error,
    h5_errors,
    open_h5,
    open_zip,
    parse_json,
    read_member,
)

_WHO = "KerasFileEditor"


def _read_tree(f, source):
    """The weights of an open Keras-layout h5 file as nested dicts: ``{"layers": {"dense": {"0": array}}}``.

    A ``<path>/vars`` group's arrays become the weights of ``<path>``; groups holding no weights anywhere
    below are left out (as in the file's summary)."""
    import h5py

    def visit(group, where):
        out = {}
        for key in group:
            item = group[key]
            path = f"{where}/{key}" if where else key
            if key == "vars" and isinstance(item, h5py.Group):
                for name in sorted(item, key=_weight_order):
                    data = item[name]
                    if not isinstance(data, h5py.Dataset):
                        raise file_error(source, f"'{path}/{name}' is a group, not a weight array.")
                    if data.dtype.kind not in "biuf":
                        raise file_error(source, f"weight '{path}/{name}' has dtype {data.dtype}, not numeric.")
                    out[name] = np.asarray(data[()])
            elif isinstance(item, h5py.Group):
                child = visit(item, path)
                if child:
                    if key in out:
                        raise file_error(source, f"'{path}' is both a weight and an object.")
                    out[key] = child
        return out

    with h5_errors(source):
        return visit(f, "")


def _weight_order(name):
    """Weights "0", "1", ..., "10" in number order (h5py lists names alphabetically), other names after."""
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


def _is_weights(node):
    return isinstance(node, np.ndarray)


def _objects(tree, prefix=""):
    """``[(path, weights dict)]`` of every object that holds weights (arrays) directly."""
    out = []
    own = {k: v for k, v in tree.items() if _is_weights(v)}
    if own and prefix:
        out.append((prefix, own))
    for k, v in tree.items():
        if isinstance(v, dict):
            out.extend(_objects(v, f"{prefix}/{k}" if prefix else k))
    return out


def _all_paths(tree, prefix=""):
    out = []
    for k, v in tree.items():
        if isinstance(v, dict):
            path = f"{prefix}/{k}" if prefix else k
            out.append(path)
            out.extend(_all_paths(v, path))
    return out


def _as_array(who, name, value):
    try:
        arr = np.asarray(value.numpy() if hasattr(value, "numpy") and not isinstance(value, np.ndarray) else value)
    except Exception as e:  # noqa: BLE001 - any conversion failure is the caller's bad value
        raise ValueError(f"{who}: weight {name!r} must be an array (NumPy, a tensor or nested lists), but "
                         f"received {type(value).__name__} ({e}).") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{who}: weight {name!r} must hold numbers, but received dtype {arr.dtype}.")
    return arr


def _weights_arg(who, weights):
    """A dict ``{name: array}`` from a dict or a list (a list's weights are named "0", "1", ...)."""
    if isinstance(weights, (list, tuple)):
        weights = {str(i): w for i, w in enumerate(weights)}
    if not isinstance(weights, dict) or not weights:
        raise ValueError(f"{who}: weights must be a non-empty dict mapping weight names to arrays (e.g. "
                         f"{{'0': kernel, '1': bias}}) or a list of arrays, but received {weights!r}.")
    out = {}
    for name, value in weights.items():
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"{who}: weight names must be non-empty strings without '/', but received {name!r}.")
        out[name] = _as_array(who, name, value)
    return out


class KerasFileEditor:
    """Inspect, edit and resave the weights of a ``.keras`` or ``.weights.h5`` file.

    Args:
        filepath: a ``.keras`` archive or a ``.weights.h5`` file (written by lamina or Keras 3).

    Attributes:
        weights_dict: the file's weights as nested dicts, ``{"layers": {"dense": {"0": kernel, "1": bias}}}``.
        config, metadata: the model config and metadata of a ``.keras`` archive (None for ``.weights.h5``).

    Objects are named by their path in the file (``"layers/dense_2"``) or by its last part (``"dense_2"``)
    when that is unambiguous.

    Example:
    >>> import os, tempfile, lamina
    >>> folder = tempfile.mkdtemp()
    >>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(4), lamina.layers.Dense(1)])
    >>> model.save(os.path.join(folder, "old.keras"))
    >>> editor = lamina.saving.KerasFileEditor(os.path.join(folder, "old.keras"))
    >>> sorted(editor.weights_dict["layers"])
    ['dense', 'dense_1']
    >>> editor.delete_object("dense_1")
    >>> editor.add_object("layers/dense_1", {"0": lamina.ops.zeros((4, 2)), "1": lamina.ops.zeros((2,))})
    >>> editor.save(os.path.join(folder, "new.weights.h5"))
    >>> new = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(4), lamina.layers.Dense(2)])
    >>> new.load_weights(os.path.join(folder, "new.weights.h5"))
    >>> editor.compare(new, verbose=False)["status"]
    'success'
    """

    def __init__(self, filepath):
        self.filepath = os.fspath(filepath)
        self.config = self.metadata = None
        if self.filepath.endswith(".keras"):
            with open_zip(self.filepath) as zf:
                names = zf.namelist()
                if "metadata.json" in names:
                    self.metadata = parse_json(self.filepath, "metadata.json",
                                               read_member(zf, self.filepath, "metadata.json", limit=1 << 20))
                if "config.json" in names:
                    self.config = parse_json(self.filepath, "config.json",
                                             read_member(zf, self.filepath, "config.json"))
                if "model.weights.h5" not in names:
                    raise file_error(self.filepath, "the archive has no 'model.weights.h5'.")
                from lamina.saving.keras_archive import MAX_WEIGHTS_BYTES

                with copy_member_to_tempfile(zf, self.filepath, "model.weights.h5", MAX_WEIGHTS_BYTES) as tmp:
                    with open_h5(tmp, self.filepath) as f:
                        self.weights_dict = _read_tree(f, self.filepath)
        elif self.filepath.endswith(".h5"):
            with open_h5(self.filepath, self.filepath) as f:
                self.weights_dict = _read_tree(f, self.filepath)
        else:
            raise ValueError(f"{_WHO}: filepath must be a '.keras' archive or a '.weights.h5' file, but received "
                             f"{self.filepath!r}.")

    # ---- finding objects ---------------------------------------------------------

    def _resolve(self, who, object_name, must_exist=True):
        """The path of ``object_name`` (a path, or the last part of exactly one path)."""
        if not isinstance(object_name, str) or not object_name.strip("/"):
            raise ValueError(f"{who}: the object name must be a non-empty string such as 'dense_2' or "
                             f"'layers/dense_2', but received {object_name!r}.")
        name = object_name.strip("/")
        paths = _all_paths(self.weights_dict)
        if name in paths:
            return name
        if "/" not in name:
            hits = [p for p in paths if p.rsplit("/", 1)[-1] == name]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise ValueError(f"{who}: the name {object_name!r} is ambiguous; it ends the paths {hits}. "
                                 "Give the whole path.")
        if must_exist:
            raise ValueError(f"{who}: no object {object_name!r} in the file. Its objects: "
                             f"{[p for p, _ in _objects(self.weights_dict)]}.")
        return None

    def _node(self, path):
        node = self.weights_dict
        for part in path.split("/"):
            node = node[part]
        return node

    def _parent(self, path):
        head, _, last = path.rpartition("/")
        return (self._node(head) if head else self.weights_dict), last

    # ---- edits ------------------------------------------------------------------

    def rename_object(self, object_name, new_name):
        """Rename an object (``new_name`` is its new last path part, e.g. ``"dense_3"``)."""
        who = f"{_WHO}.rename_object"
        path = self._resolve(who, object_name)
        if not isinstance(new_name, str) or not new_name or "/" in new_name:
            raise ValueError(f"{who}: new_name must be a non-empty name without '/', but received {new_name!r}.")
        parent, last = self._parent(path)
        if new_name in parent:
            raise ValueError(f"{who}: cannot rename {path!r} to {new_name!r}: an object of that name exists "
                             "next to it.")
        parent[new_name] = parent.pop(last)

    def delete_object(self, object_name):
        """Remove an object (e.g. a layer) and all its weights."""
        path = self._resolve(f"{_WHO}.delete_object", object_name)
        parent, last = self._parent(path)
        del parent[last]
        self._prune()

    def add_object(self, object_path, weights):
        """Add a new object at ``object_path`` (e.g. ``"layers/dense_2"``) with ``weights`` (a dict
        ``{"0": kernel, "1": bias}`` in the layer's weight order, or a list of arrays)."""
        who = f"{_WHO}.add_object"
        if not isinstance(object_path, str) or not object_path.strip("/"):
            raise ValueError(f"{who}: object_path must be a path such as 'layers/dense_2', but received "
                             f"{object_path!r}.")
        path = object_path.strip("/")
        weights = _weights_arg(who, weights)
        node = self.weights_dict
        parts = path.split("/")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"{who}: {path!r} passes through a weight, not an object.")
        if parts[-1] in node:
            raise ValueError(f"{who}: the file already has an object at {path!r}; delete it first or use "
                             "add_weights.")
        node[parts[-1]] = weights

    def delete_weight(self, object_name, weight_name):
        """Remove the weight ``weight_name`` (e.g. ``"1"``) of an object."""
        who = f"{_WHO}.delete_weight"
        path = self._resolve(who, object_name)
        node = self._node(path)
        if weight_name not in node or not _is_weights(node[weight_name]):
            raise ValueError(f"{who}: object {path!r} has no weight {weight_name!r}; its weights are "
                             f"{[k for k, v in node.items() if _is_weights(v)]}.")
        del node[weight_name]
        self._prune()

    def add_weights(self, object_name, weights):
        """Add weights (a dict ``{name: array}`` or a list, named "0", "1", ...) to an existing object."""
        who = f"{_WHO}.add_weights"
        path = self._resolve(who, object_name)
        node = self._node(path)
        weights = _weights_arg(who, weights)
        taken = [k for k in weights if k in node]
        if taken:
            raise ValueError(f"{who}: object {path!r} already has weights {taken}; delete them first.")
        node.update(weights)

    def _prune(self):
        def prune(tree):
            for k in list(tree):
                if isinstance(tree[k], dict):
                    prune(tree[k])
                    if not tree[k]:
                        del tree[k]
        prune(self.weights_dict)

    # ---- reading ----------------------------------------------------------------

    def _lines(self):
        lines = []

        def visit(tree, indent):
            items = list(tree.items())
            for i, (key, value) in enumerate(items):
                last = i == len(items) - 1
                branch, pad = ("└─ ", "    ") if last else ("├─ ", "│   ")
                if _is_weights(value):
                    lines.append(f"{indent}{branch}{key}: shape={value.shape}, dtype={value.dtype}")
                else:
                    lines.append(f"{indent}{branch}{key}")
                    visit(value, indent + pad)

        for key, value in self.weights_dict.items():
            lines.append(f"  > {key}")
            if isinstance(value, dict):
                visit(value, "      ")
        return lines

    def summary(self, print_fn=None):
        """Print the file's weights: one line per object and per weight (shape, dtype)."""
        print_fn = print_fn or print
        kind = "Keras model file" if self.filepath.endswith(".keras") else "Keras weights file"
        print_fn(f"{kind} '{self.filepath}'")
        if isinstance(self.metadata, dict):
            version = self.metadata.get("keras_version") or self.metadata.get("lamina_version")
            saved = self.metadata.get("date_saved")
            if version or saved:
                print_fn(f"Saved with {self._writer()} {version or '?'}" + (f" - date: {saved}" if saved else ""))
        print_fn("Weights structure")
        for line in self._lines():
            print_fn(line)

    def _writer(self):
        return "lamina" if "lamina_version" in (self.metadata or {}) else "Keras"

    weights_summary = summary

    def compare(self, reference_model, verbose=True):
        """List every difference between the file's weights and ``reference_model``'s: objects present in
        only one of them, weights missing or extra, shapes that differ.

        Returns:
            ``{"status": "success" or "error", "error_count": int, "match_count": int}``: the counts are of
            weights (a missing object counts each of its weights).
        """
        import h5py
        import io

        from lamina.saving import weights_store

        buf = io.BytesIO()
        with h5py.File(buf, "w") as f:
            weights_store.save_to_h5(reference_model, f, include_optimizer=False)
        buf.seek(0)
        with h5py.File(buf, "r") as f:
            reference = _read_tree(f, "<reference model>")
        file_objects = dict(_objects(self.weights_dict))
        ref_objects = dict(_objects(reference))
        report, errors, matches = [], 0, 0
        for path, ref in ref_objects.items():
            mine = file_objects.get(path)
            if mine is None:
                errors += len(ref)
                report.append(f"Object '{path}' of the reference model is missing from the saved file (it has "
                              f"the weights {sorted(ref)}).")
                continue
            for name, arr in ref.items():
                if name not in mine:
                    errors += 1
                    report.append(f"Weight '{path}/{name}' (shape {arr.shape}) is missing from the saved file.")
                elif mine[name].shape != arr.shape:
                    errors += 1
                    report.append(f"Weight '{path}/{name}' has shape {mine[name].shape} in the saved file but "
                                  f"{arr.shape} in the reference model.")
                else:
                    matches += 1
            extra = sorted(set(mine) - set(ref))
            if extra:
                errors += len(extra)
                report.append(f"Object '{path}' has weights {extra} in the saved file that the reference model "
                              "does not have.")
        for path, mine in file_objects.items():
            if path not in ref_objects and not path.startswith("optimizer"):
                errors += len(mine)
                report.append(f"Object '{path}' is in the saved file but not in the reference model (it holds "
                              f"the weights {sorted(mine)}).")
        if verbose:
            for line in report:
                print(line)
            if errors:
                print(f"Found {errors} error(s): the saved file is not compatible with the reference model.")
            else:
                print(f"The saved file is compatible with the reference model: {matches} weights match.")
        return {"status": "error" if errors else "success", "error_count": errors, "match_count": matches}

    # ---- writing ----------------------------------------------------------------

    def save(self, filepath):
        """Write the (edited) weights to a ``.weights.h5`` file, in the layout ``load_weights`` reads."""
        import h5py

        filepath = os.fspath(filepath)
        if not filepath.endswith(".weights.h5"):
            raise ValueError(f"{_WHO}.save: filepath must end in '.weights.h5', but received {filepath!r}.")

        def write(group, tree):
            own = {k: v for k, v in tree.items() if _is_weights(v)}
            if own:
                vars_group = group.create_group("vars")
                for name, value in own.items():
                    vars_group.create_dataset(name, data=value)
            for key, value in tree.items():
                if isinstance(value, dict):
                    write(group.create_group(key), value)

        with atomic_write(filepath) as tmp:
            with h5py.File(tmp, "w") as f:
                write(f, self.weights_dict)
                f.attrs["edited_from"] = json.dumps(os.path.basename(self.filepath))

    resave_weights = save
