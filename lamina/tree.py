"""Nested structures (lists, tuples, dicts of tensors): flatten, map, pack.

Dicts are visited in sorted key order, as in Keras. ``None`` is a leaf.

Example:
>>> from lamina import tree
>>> tree.flatten({"b": 1, "a": [2, 3]})
[2, 3, 1]
>>> tree.map_structure(lambda x: x * 10, (1, [2]))
(10, [20])
"""


def is_nested(x):
    """Return True for a list, tuple or dict."""
    return isinstance(x, (list, tuple, dict))


def flatten(structure):
    """Return the leaves of ``structure`` in order."""
    out = []
    _flatten_into(structure, out)
    return out


def _flatten_into(s, out):
    if isinstance(s, dict):
        for k in sorted(s, key=_sort_key):
            _flatten_into(s[k], out)
    elif isinstance(s, (list, tuple)):
        for v in s:
            _flatten_into(v, out)
    else:
        out.append(s)


def _sort_key(k):
    return (type(k).__name__, k) if not isinstance(k, str) else ("str", k)


def map_structure(fn, *structures):
    """Apply ``fn`` to the leaves of one or more structures of the same shape."""
    first = structures[0]
    if isinstance(first, dict):
        return type(first)((k, map_structure(fn, *[s[k] for s in structures])) for k in first)
    if isinstance(first, (list, tuple)):
        for s in structures[1:]:
            if not isinstance(s, (list, tuple)) or len(s) != len(first):
                raise ValueError(
                    f"map_structure: structures differ: {type(first).__name__} of length "
                    f"{len(first)} vs {type(s).__name__}."
                )
        items = [map_structure(fn, *vals) for vals in zip(*structures)]
        if hasattr(first, "_fields"):
            return type(first)(*items)
        return type(first)(items)
    return fn(*structures)


def pack_sequence_as(structure, flat_sequence):
    """Rebuild ``structure`` with the leaves taken in order from ``flat_sequence``."""
    it = iter(flat_sequence)

    def build(s):
        if isinstance(s, dict):
            built = {k: build(s[k]) for k in sorted(s, key=_sort_key)}
            return type(s)((k, built[k]) for k in s)
        if isinstance(s, (list, tuple)):
            items = [build(v) for v in s]
            return type(s)(*items) if hasattr(s, "_fields") else type(s)(items)
        return next(it)

    return build(structure)


def lists_to_tuples(structure):
    """Return ``structure`` with every list turned into a tuple."""
    if isinstance(structure, dict):
        return {k: lists_to_tuples(v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return tuple(lists_to_tuples(v) for v in structure)
    return structure
