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


class MAP_TO_NONE:
    """Returned by a ``traverse`` function: put ``None`` in place of the visited sub-structure."""


def _children(s):
    """(key, child) pairs of a list, tuple or dict (dicts in sorted key order)."""
    if isinstance(s, dict):
        return [(k, s[k]) for k in sorted(s, key=_sort_key)]
    return list(enumerate(s))


def _rebuild(like, values):
    """A container of ``like``'s type holding ``values`` (in ``_children`` order)."""
    if isinstance(like, dict):
        keys = sorted(like, key=_sort_key)
        by_key = dict(zip(keys, values))
        return type(like)((k, by_key[k]) for k in like)
    return type(like)(*values) if hasattr(like, "_fields") else type(like)(values)


def flatten_with_path(structure):
    """The leaves of ``structure`` with their paths: ``[(path, leaf), ...]``, a path being the tuple of list
    indices and dict keys that leads to the leaf.

    Example:
    >>> from lamina import tree
    >>> tree.flatten_with_path([{"foo": 42}, 7])
    [((0, 'foo'), 42), ((1,), 7)]
    """
    out = []

    def visit(s, path):
        if is_nested(s):
            for k, child in _children(s):
                visit(child, path + (k,))
        else:
            out.append((path, s))

    visit(structure, ())
    return out


def _structure_error(a, b, why):
    return ValueError(f"The two structures don't have the same nested structure: {why}.\nFirst structure: {a!r}"
                      f"\nSecond structure: {b!r}")


def assert_same_structure(a, b, check_types=None):
    """Raise ``ValueError`` unless ``a`` and ``b`` are nested in the same way: the same container types
    (dict types are interchangeable; a list is not a tuple; namedtuples must be the same class), the same
    lengths and keys. Leaves may differ. ``check_types`` is accepted for compatibility and has no effect.

    Example:
    >>> from lamina import tree
    >>> tree.assert_same_structure([(0, 1)], [(2, 3)])
    >>> tree.assert_same_structure([0, 1], (0, 1))
    Traceback (most recent call last):
        ...
    ValueError: The two structures don't have the same nested structure: list vs tuple at path ().
    First structure: [0, 1]
    Second structure: (0, 1)
    """
    def check(x, y, path):
        if is_nested(x) != is_nested(y):
            raise _structure_error(a, b, f"{type(x).__name__} vs {type(y).__name__} at path {path}")
        if not is_nested(x):
            return
        same_type = (isinstance(x, dict) and isinstance(y, dict)) or type(x) is type(y)
        if not same_type:
            raise _structure_error(a, b, f"{type(x).__name__} vs {type(y).__name__} at path {path}")
        if isinstance(x, dict) and set(x) != set(y):
            raise _structure_error(a, b, f"keys {sorted(x, key=_sort_key)} vs {sorted(y, key=_sort_key)} at "
                                         f"path {path}")
        if len(x) != len(y):
            raise _structure_error(a, b, f"lengths {len(x)} vs {len(y)} at path {path}")
        for (k, cx), (_, cy) in zip(_children(x), _children(y)):
            check(cx, cy, path + (k,))

    check(a, b, ())


def assert_same_paths(a, b):
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same leaf paths (container types are not compared:
    a list matches a tuple of the same length).

    Example:
    >>> from lamina import tree
    >>> tree.assert_same_paths([0, 1], (2, 3))
    """
    pa = {p for p, _ in flatten_with_path(a)}
    pb = {p for p, _ in flatten_with_path(b)}
    if pa != pb:
        raise ValueError(f"The two structures don't have the same paths: only in the first: "
                         f"{sorted(pa - pb, key=repr)}; only in the second: {sorted(pb - pa, key=repr)}.")


def map_structure_up_to(shallow_structure, func, *structures):
    """``map_structure`` that goes only as deep as ``shallow_structure``: ``func`` receives the sub-structures
    found where ``shallow_structure`` has leaves.

    Example:
    >>> from lamina import tree
    >>> tree.map_structure_up_to([None, None], len, [[1, 1], [2, 2, 2]])
    [2, 3]
    """
    if not structures:
        raise TypeError("map_structure_up_to expected at least one structure to map, but received none.")

    def walk(shallow, values, path):
        if not is_nested(shallow):
            return func(*values)
        for v in values:
            if not is_nested(v):
                raise ValueError(f"map_structure_up_to: the structure is shallower than shallow_structure at "
                                 f"path {path}: it has the leaf {v!r} where a {type(shallow).__name__} is expected.")
            if isinstance(shallow, dict) != isinstance(v, dict) or len(v) != len(shallow) or (
                    isinstance(shallow, dict) and set(v) != set(shallow)):
                raise ValueError(f"map_structure_up_to: at path {path} the structure has {v!r}, which does not "
                                 f"match shallow_structure's {shallow!r}.")
        out = []
        for k, child in _children(shallow):
            out.append(walk(child, [v[k] for v in values], path + (k,)))
        return _rebuild(shallow, out)

    return walk(shallow_structure, list(structures), ())


def _is_shape(x):
    return isinstance(x, (tuple, list)) and all(d is None or (isinstance(d, int) and not isinstance(d, bool))
                                                for d in x)


def map_shape_structure(func, structure):
    """``map_structure`` for structures of shapes: a tuple or list of ints and Nones is one leaf.

    Example:
    >>> from lamina import tree
    >>> tree.map_shape_structure(lambda s: (None,) + tuple(s), {"a": (2, 3), "b": [(4,)]})
    {'a': (None, 2, 3), 'b': [(None, 4)]}
    """
    if _is_shape(structure) or not is_nested(structure):
        return func(structure)
    return _rebuild(structure, [map_shape_structure(func, child) for _, child in _children(structure)])


def traverse(func, structure, top_down=True):
    """Visit every sub-structure and leaf of ``structure``, depth first, calling ``func`` on each.

    Top down (parents before children): where ``func`` returns something other than None, that value
    replaces the sub-structure and its children are not visited. Bottom up: ``func`` sees each node after
    its children, and a value other than None replaces it. Return ``MAP_TO_NONE`` to put None in place.

    Example:
    >>> from lamina import tree
    >>> seen = []
    >>> tree.traverse(seen.append, [(1, 2), {"a": 3}])
    [(1, 2), {'a': 3}]
    >>> seen
    [[(1, 2), {'a': 3}], (1, 2), 1, 2, {'a': 3}, 3]
    >>> tree.traverse(lambda x: x * 10 if isinstance(x, int) else None, [1, (2,)], top_down=False)
    [10, (20,)]
    """
    if not callable(func):
        raise TypeError(f"traverse expected a callable func, but received {func!r}.")

    def result(value, original):
        if value is None:
            return original
        return None if value is MAP_TO_NONE else value

    def visit(s):
        if top_down:
            replaced = func(s)
            if replaced is not None:
                return None if replaced is MAP_TO_NONE else replaced
            if not is_nested(s):
                return s
            return _rebuild(s, [visit(child) for _, child in _children(s)])
        rebuilt = _rebuild(s, [visit(child) for _, child in _children(s)]) if is_nested(s) else s
        return result(func(rebuilt), rebuilt)

    return visit(structure)
