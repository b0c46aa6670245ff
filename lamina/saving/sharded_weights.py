"""Sharded weights in Keras 3's layout: ``save_weights("w.weights.json", max_shard_size=...)``.

The ``.weights.json`` index holds ``{"metadata": {"total_size": <bytes>}, "weight_map": {"/layers/dense/vars":
"w_00000.weights.h5", ...}}``; each shard ``<base>_NNNNN.weights.h5`` (next to the index) holds whole variable
groups in the ``weights_store`` layout. ``max_shard_size`` is in GB, as in Keras. A group is never split
between shards; a single array larger than ``max_shard_size`` is an error.

Loading reads shard names only from the index and accepts only plain file names ending in ``.weights.h5``
in the index's own folder (never a path built from the file), and checks the declared ``total_size`` against
the bytes the shards hold before reading anything.

Example:
>>> import os, tempfile, lamina
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2), lamina.layers.Dense(1)])
>>> path = os.path.join(tempfile.mkdtemp(), "w.weights.json")
>>> model.save_weights(path, max_shard_size=3e-8)  # ~32 bytes: one Dense per shard
>>> sorted(f for f in os.listdir(os.path.dirname(path)))
['w.weights.json', 'w_00000.weights.h5', 'w_00001.weights.h5']
>>> model.load_weights(path)
"""

import json
import os
import re

from lamina.saving import weights_store
from lamina.saving.file_safety import atomic_write, file_error, h5_errors, open_h5, parse_json

_GB = 1024 ** 3
_SHARD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.weights\.h5$")


def _base_name(filepath):
    name = os.path.basename(filepath)
    return name[: -len(".weights.json")]


def _check_size(max_shard_size):
    if isinstance(max_shard_size, bool) or not isinstance(max_shard_size, (int, float)) or not max_shard_size > 0:
        raise ValueError(f"save_weights: max_shard_size must be a positive number of GB, but received "
                         f"{max_shard_size!r}.")
    return float(max_shard_size) * _GB


def plan_shards(groups, limit):
    """Split ``[(path, name, {key: array})]`` into shards of at most ``limit`` bytes (groups kept whole)."""
    shards, current, size = [], [], 0
    for path, name, arrays in groups:
        nbytes = 0
        for i, a in arrays.items():
            if a.nbytes > limit:
                raise ValueError(f"save_weights: the weight '{path}/{i}' is {a.nbytes} bytes, more than "
                                 f"max_shard_size ({limit / _GB:g} GB). Increase max_shard_size.")
            nbytes += a.nbytes
        if current and size + nbytes > limit:
            shards.append(current)
            current, size = [], 0
        current.append((path, name, arrays))
        size += nbytes
    if current or not shards:
        shards.append(current)
    return shards


def save_sharded(model, filepath, max_shard_size):
    """Write the weights as a ``.weights.json`` index plus ``.weights.h5`` shards (each written atomically)."""
    limit = _check_size(max_shard_size)
    folder = os.path.dirname(os.path.abspath(filepath))
    base = _base_name(filepath)
    weight_map, total = {}, 0
    for index, shard in enumerate(plan_shards(list(weights_store.entries(model)), limit)):
        shard_name = f"{base}_{index:05d}.weights.h5"
        target = os.path.join(folder, shard_name)
        with atomic_write(target) as tmp:
            with open_h5(tmp, target, "w") as f:
                for path, name, arrays in shard:
                    weights_store.write_entry(f, path, name, arrays)
                    weight_map["/" + path] = shard_name
                    total += sum(a.nbytes for a in arrays.values())
    index_json = json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=4)
    with atomic_write(filepath) as tmp:
        with open(tmp, "w") as f:
            f.write(index_json)


class _ShardedView:
    """Looks up ``weights_store`` group paths across the open shards (as one h5py File would)."""

    def __init__(self, weight_map, files):
        self.weight_map = weight_map
        self.files = files

    def get(self, key):
        shard = self.weight_map.get("/" + key.strip("/"))
        if shard is not None:
            return self.files[shard].get(key)
        for f in self.files.values():
            obj = f.get(key)
            if obj is not None:
                return obj
        return None


def _read_index(filepath):
    if os.path.getsize(filepath) > 64 * 1024 * 1024:
        raise file_error(filepath, "the sharded-weights index is larger than 64 MB; it is not a weights index.")
    with open(filepath, "rb") as f:
        index = parse_json(filepath, "the sharded-weights index", f.read())
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in weight_map.items()):
        raise file_error(filepath, "it is not a sharded-weights index (expected a JSON object with a "
                         "'weight_map' of variable paths to shard file names).")
    for shard in set(weight_map.values()):
        if not _SHARD_NAME.match(shard) or ".." in shard:
            raise file_error(filepath, f"the index names the shard {shard!r:.80}, which is not a plain file name "
                             "ending in '.weights.h5'; shards must sit next to the index.")
    metadata = index.get("metadata") if isinstance(index.get("metadata"), dict) else {}
    total = metadata.get("total_size", 0)
    if isinstance(total, bool) or not isinstance(total, (int, float)) or total < 0:
        raise file_error(filepath, f"its metadata.total_size {total!r:.40} is not a byte count.")
    return weight_map, total


def load_sharded(model, filepath, skip_mismatch=False):
    """Load weights saved by ``save_sharded`` (or by Keras 3 with ``max_shard_size``)."""
    weight_map, total = _read_index(filepath)
    folder = os.path.dirname(os.path.abspath(filepath))
    shards = sorted(set(weight_map.values()))
    present = 0
    for shard in shards:
        path = os.path.join(folder, shard)
        if not os.path.isfile(path):
            raise file_error(filepath, f"its shard '{shard}' is missing (expected it next to the index).")
        present += os.path.getsize(path)
    if total > present:
        raise file_error(filepath, f"the index declares {int(total)} bytes of weights, but its {len(shards)} "
                         f"shard(s) hold only {present} bytes; a shard is truncated or missing.")
    files = {}
    try:
        for shard in shards:
            path = os.path.join(folder, shard)
            files[shard] = open_h5(path, path)
        with h5_errors(filepath):
            weights_store.load_from_h5(model, _ShardedView(weight_map, files), filepath,
                                       skip_mismatch=skip_mismatch)
    finally:
        for f in files.values():
            f.close()
