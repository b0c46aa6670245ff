"""Layer assets in a ``.keras`` archive: ``Layer.save_assets(dir_path)`` / ``Layer.load_assets(dir_path)``.

As in Keras 3, the files a layer writes go under ``assets/<layer path>/`` in the archive, where the
layer path is the one of ``weights_store`` (``layers/string_lookup``, ``layers/sub_model/layers/dense``;
the model itself writes directly under ``assets/``).

Safety rules kept here:

* Saving gives each layer an empty folder of its own. Only regular files inside it are archived: a
  link, or anything written next to the folder, is an error naming the layer; so is a file that would
  land in the folder of a layer nested inside it.
* Loading extracts only the members that belong to a layer overriding ``load_assets``, each into a
  fresh temporary folder for that layer. A member name is used only after every part of it is checked
  to be a plain name (letters, digits, ``_ - . + = , @`` and spaces, no leading dot), so no name can
  reach outside that folder; sizes are checked as for every member (``file_safety.member_info``).

Example:
>>> import os, tempfile, lamina
>>> class Vocab(lamina.layers.Layer):
...     def __init__(self, tokens=(), **kwargs):
...         super().__init__(**kwargs)
...         self.tokens = list(tokens)
...     def call(self, x):
...         return x
...     def save_assets(self, dir_path):
...         with open(os.path.join(dir_path, "vocab.txt"), "w") as f:
...             f.write("\\n".join(self.tokens))
...     def load_assets(self, dir_path):
...         with open(os.path.join(dir_path, "vocab.txt")) as f:
...             self.tokens = f.read().split("\\n")
>>> model = lamina.Sequential([lamina.Input((2,)), Vocab(["a", "b"])])
>>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
>>> model.save(path)
>>> lamina.saving.load_model(path, custom_objects={"Vocab": Vocab}).layers[-1].tokens
['a', 'b']
"""

import contextlib
import os
import re
import shutil
import tempfile

from lamina.saving.file_safety import copy_member_to_tempfile, file_error, member_info

PREFIX = "assets/"
MAX_FILES = 100_000
MAX_BYTES = 1 << 40
_PART = re.compile(r"^[\w+=,@-][\w .+=,@-]{0,254}$")


def _archive_name(path, rel):
    return PREFIX + (f"{path}/{rel}" if path else rel)


def _owner(name, paths):
    """The path of the layer whose folder holds archive member ``name`` (the deepest one)."""
    rest = name[len(PREFIX):]
    best = ""
    for path in paths:
        if path and rest.startswith(path + "/") and len(path) > len(best):
            best = path
    return best


def _files(folder, layer):
    """``[(relative name, full path)]`` of the regular files under ``folder`` (links are an error)."""
    out = []
    for root, dirs, files in os.walk(folder):
        for entry in sorted(dirs) + sorted(files):
            full = os.path.join(root, entry)
            rel = os.path.relpath(full, folder).replace(os.sep, "/")
            if os.path.islink(full) or not (os.path.isdir(full) or os.path.isfile(full)):
                raise ValueError(f"Layer '{layer.name}': save_assets created '{rel}', which is a link or a special "
                                 "file; only regular files and folders are saved.")
            if not _PART.match(entry):
                raise ValueError(f"Layer '{layer.name}': save_assets created '{rel}'; asset names must be plain "
                                 "names (letters, digits, '_', '-', '.', '+', '=', ',', '@', spaces; no leading "
                                 "'.').")
            if entry in files:
                out.append((rel, full))
    return out


@contextlib.contextmanager
def collected(model):
    """Call every layer's ``save_assets``; yield ``[(archive name, file path)]`` of what they wrote."""
    from lamina.saving.weights_store import walk

    layers = [(path, layer) for path, layer in walk(model) if hasattr(layer, "save_assets")]
    paths = [path for path, _ in layers]
    out, names = [], {}
    with tempfile.TemporaryDirectory(prefix="lamina_assets_") as tmp:
        for i, (path, layer) in enumerate(layers):
            box = os.path.join(tmp, str(i))
            folder = os.path.join(box, "assets")
            os.makedirs(folder)
            layer.save_assets(folder)
            outside = sorted(set(os.listdir(box)) - {"assets"}) + sorted(
                set(os.listdir(tmp)) - {str(j) for j in range(i + 1)})
            if outside or os.path.islink(folder) or not os.path.isdir(folder):
                raise ValueError(f"Layer '{layer.name}': save_assets wrote {outside or ['its folder']} outside the "
                                 "folder it was given (dir_path); a layer's assets must stay inside its folder.")
            for rel, full in _files(folder, layer):
                name = _archive_name(path, rel)
                owner = _owner(name, paths)
                if owner != path:
                    raise ValueError(f"Layer '{layer.name}': its asset '{rel}' would fall inside the assets folder "
                                     f"of the layer at '{owner}' nested in it; choose another file name.")
                if name in names:
                    raise ValueError(f"Layer '{layer.name}': its asset '{rel}' clashes with one of layer "
                                     f"'{names[name]}'.")
                names[name] = layer.name
                out.append((name, full))
        yield out


def _plan(zf, filepath, paths, wanted):
    """``{layer path: [(member name, [name parts])]}`` for the layers at ``wanted`` paths, names checked."""
    members = [n for n in zf.namelist() if n.startswith(PREFIX) and not n.endswith("/")]
    if len(members) > MAX_FILES:
        raise file_error(filepath, f"it holds {len(members)} asset files, more than the limit of {MAX_FILES}.")
    plan, total = {}, 0
    for name in members:
        owner = _owner(name, paths)
        if owner not in wanted:
            continue
        rel = name[len(PREFIX) + (len(owner) + 1 if owner else 0):]
        parts = rel.split("/")
        if not all(_PART.match(p) for p in parts):
            raise file_error(filepath, f"the asset {name[:200]!r} has an unsafe name (each part must be a plain "
                             "name with no leading '.', no '\\\\' or ':'); it is not extracted.")
        total += member_info(zf, filepath, name, MAX_BYTES).file_size
        if total > MAX_BYTES:
            raise file_error(filepath, f"its assets declare more than {MAX_BYTES} bytes.")
        plan.setdefault(owner, []).append((name, parts))
    return plan


def load(model, zf, filepath):
    """Call ``load_assets`` of every layer that overrides it, with a folder holding its files from ``zf``."""
    from lamina.layers.layer import Layer
    from lamina.saving.weights_store import walk

    walked = walk(model)
    layers = [(path, layer) for path, layer in walked
              if getattr(type(layer), "load_assets", Layer.load_assets) is not Layer.load_assets]
    if not layers:
        return
    plan = _plan(zf, filepath, [path for path, _ in walked], {path for path, _ in layers})
    if any(path not in plan for path, _ in layers):  # files lamina wrote before it followed Keras's paths
        legacy = {id(obj): p for p, obj in walk(model, legacy=True)}
        old = _plan(zf, filepath, list(legacy.values()), {legacy.get(id(layer)) for path, layer in layers
                                                           if path not in plan})
        plan.update({path: old[legacy[id(layer)]] for path, layer in layers
                     if path not in plan and legacy.get(id(layer)) in old})
    with tempfile.TemporaryDirectory(prefix="lamina_assets_") as tmp:
        for i, (path, layer) in enumerate(layers):
            folder = os.path.realpath(os.path.join(tmp, str(i)))
            os.makedirs(folder)
            for name, parts in plan.get(path, []):
                _extract(zf, filepath, name, folder, parts)
            layer.load_assets(folder)


def _extract(zf, filepath, name, folder, parts):
    """Copy member ``name`` to ``folder/<parts>`` (checked names; never outside ``folder``, never over a file)."""
    target = os.path.realpath(os.path.join(folder, *parts))
    if os.path.commonpath([target, folder]) != folder or os.path.lexists(target):
        raise file_error(filepath, f"the asset {name[:200]!r} appears twice or does not fit in its layer's folder.")
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with copy_member_to_tempfile(zf, filepath, name, MAX_BYTES) as src, open(target, "xb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except (FileExistsError, NotADirectoryError, IsADirectoryError) as e:
        raise file_error(filepath, f"the asset {name[:200]!r} clashes with another asset of its layer "
                         f"({type(e).__name__}).") from None
