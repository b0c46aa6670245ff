"""``name_scope``: a prefix for the paths of the variables created inside it (``keras.name_scope``)."""

import threading

_STATE = threading.local()


def _stack():
    stack = getattr(_STATE, "stack", None)
    if stack is None:
        stack = _STATE.stack = []
        _STATE.callers = []
    return stack


def _callers():
    _stack()
    return _STATE.callers


def current_path():
    """The path of the innermost ``name_scope`` (``"outer/inner"``), or ``""`` outside every scope."""
    return "/".join(_stack())


class name_scope:
    """Inside the block, variables (and layers' weights) created get paths under ``name``:
    ``block/dense/kernel`` for a Dense layer built inside ``name_scope("block")``.

    Layers open one around their ``build`` and their first calls (as Keras's), so a layer built inside a model
    or another layer has its weights under their names: ``sequential/dense/kernel``, ``lstm/lstm_cell/kernel``.

    Args:
        name: the scope's name (a non-empty string without ``/``).
        caller: the object that opens the scope (a layer). With ``deduplicate``, a scope the same caller
            opens again directly inside its own adds nothing, and a caller that has a ``_parent_path`` (where
            it was first opened) always opens its scope there, wherever it is entered from.
        deduplicate: see ``caller``.
        override_parent: a path that replaces the enclosing scopes for the duration of the block.

    Example:
    >>> import lamina
    >>> with lamina.name_scope("encoder"):
    ...     v = lamina.Variable(1.0, name="scale")
    >>> v.path
    'encoder/scale'
    """

    def __init__(self, name, caller=None, deduplicate=True, override_parent=None):
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"name_scope expected a non-empty name without '/', but received {name!r}.")
        if override_parent is not None and not isinstance(override_parent, str):
            raise ValueError(f"name_scope expected override_parent to be a path string or None, but received "
                             f"{override_parent!r}.")
        if override_parent is None and deduplicate and caller is not None:
            override_parent = caller.__dict__.get("_parent_path") if hasattr(caller, "__dict__") else None
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        self.override_parent = override_parent
        self._pushed = False
        self._saved = None

    def __enter__(self):
        stack, callers = _stack(), _callers()
        if self.deduplicate and self.caller is not None and stack and callers[-1] is self.caller \
                and stack[-1] == self.name:
            return self  # the caller's own scope is already the innermost
        if self.override_parent is not None:
            self._saved = (list(stack), list(callers))
            stack[:] = [part for part in self.override_parent.split("/") if part]
            callers[:] = [None] * len(stack)
        stack.append(self.name)
        callers.append(self.caller)
        self._pushed = True
        return self

    def __exit__(self, *exc):
        if self._pushed:
            stack, callers = _stack(), _callers()
            stack.pop()
            callers.pop()
            if self._saved is not None:
                stack[:], callers[:] = self._saved
        return False


def scoped(*parts, dedupe_first=False):
    """``parts`` joined under the current scope; with ``dedupe_first`` the first part is left out when the
    innermost scope already has its name (a layer's scope entered twice, as Keras's name_scope)."""
    stack = _stack()
    if dedupe_first and stack and parts and stack[-1] == parts[0]:
        parts = parts[1:]
    return "/".join(stack + list(parts))
