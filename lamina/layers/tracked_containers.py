"""Lists and dicts set as attributes of a user's layer or model, which track what is added to them later (Keras's
TrackedList / TrackedDict): layers, variables and seed generators appended, inserted or assigned, nested
containers included."""

import os
import sys

_LAMINA_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _set_by_user_code():
    """Whether the attribute assignment being made comes from code outside lamina's files (a user's layer or
    model): only those containers are tracked as they change, lamina's own attributes keep their fixed contents."""
    return not sys._getframe(2).f_code.co_filename.startswith(_LAMINA_DIR)


_TYPES = ()


def _may_hold_trackable(value):
    """Whether ``value`` is, or may come to hold (a nested container), a layer, variable or seed generator."""
    global _TYPES
    if not _TYPES:  # imported on first use: lamina.layers.layer imports this module
        from lamina import backend
        from lamina.layers.layer import Layer
        from lamina.random import SeedGenerator

        _TYPES = (Layer, backend.VariableBase, SeedGenerator, list, tuple, dict)
    return isinstance(value, _TYPES)


def _track_container(value):
    if type(value) is list:
        return TrackedList(value)
    if type(value) is dict:
        return TrackedDict(value)
    return value


class TrackedList(list):
    """A list set as an attribute of a user's layer or model: what is added to it later is tracked.

    Example:
    >>> import lamina
    >>> class Stack(lamina.layers.Layer):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.blocks = []
    ...         self.blocks.append(lamina.layers.Dense(2))
    ...     def call(self, x):
    ...         return self.blocks[0](x)
    >>> layer = Stack()
    >>> type(layer.blocks).__name__, len(layer._layers)
    ('TrackedList', 1)
    """

    def __init__(self, items=()):
        super().__init__(_track_container(v) for v in items)
        self._lamina_holds = any(_may_hold_trackable(v) for v in self)

    def _add(self, value):
        value = _track_container(value)
        if not self._lamina_holds and _may_hold_trackable(value):
            self._lamina_holds = True
        return value

    def append(self, value):
        super().append(self._add(value))

    def insert(self, index, value):
        super().insert(index, self._add(value))

    def extend(self, values):
        super().extend([self._add(v) for v in values])

    def __iadd__(self, values):
        self.extend(values)
        return self

    def __setitem__(self, index, value):
        if isinstance(index, slice):
            value = [self._add(v) for v in value]
        else:
            value = self._add(value)
        super().__setitem__(index, value)

    def __reduce_ex__(self, protocol):
        return (list, (list(self),))  # pickles and copies as a plain list


class TrackedDict(dict):
    """A dict set as an attribute of a user's layer or model: what is added to it later is tracked.

    Example:
    >>> import lamina
    >>> class Heads(lamina.layers.Layer):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.heads = {}
    ...         self.heads["out"] = lamina.layers.Dense(1)
    ...     def call(self, x):
    ...         return self.heads["out"](x)
    >>> layer = Heads()
    >>> type(layer.heads).__name__, len(layer._layers)
    ('TrackedDict', 1)
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for k, v in dict.items(self):
            dict.__setitem__(self, k, _track_container(v))
        self._lamina_holds = any(_may_hold_trackable(v) for v in self.values())

    def _add(self, value):
        value = _track_container(value)
        if not self._lamina_holds and _may_hold_trackable(value):
            self._lamina_holds = True
        return value

    def __setitem__(self, key, value):
        super().__setitem__(key, self._add(value))

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args, **kwargs):
        for k, v in dict(*args, **kwargs).items():
            self[k] = v

    def __ior__(self, other):
        self.update(other)
        return self

    def __reduce_ex__(self, protocol):
        return (dict, (dict(self),))
