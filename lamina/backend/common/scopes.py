"""Scopes that redirect Variable reads and writes (for pure JAX steps and shape tracing)."""

import threading

_STATE = threading.local()
# Scopes (stateless or autocast) open in any thread. Zero (the common case: eager code outside any scope) lets
# Variable.value return its storage without looking at the thread-local state.
ACTIVE = [0]
# > 0 while an engine's compiler traces lamina code (PyTorch's torch.compile): the per-call shortcuts that keep
# state between calls (models' direct-call plans, layers' passed input checks) stay off, since torch.compile
# would guard on that state and compile again when it changes.
COMPILING = [0]
_COUNT_LOCK = threading.Lock()


def _count(delta):
    with _COUNT_LOCK:  # enters and exits in several threads must not lose an update
        ACTIVE[0] += delta


def _stack():
    s = getattr(_STATE, "stack", None)
    if s is None:
        s = _STATE.stack = []
    return s


def current_scope():
    s = _stack()
    return s[-1] if s else None


def raw_value(variable, scope):
    """``variable``'s value in ``scope`` (None: no scope), else its storage; never autocast."""
    value = scope.get(variable) if scope is not None else None
    return variable._storage() if value is None else value


class StatelessScope:
    """Inside this scope Variables read from, and assign to, a mapping, not their storage.

    ``state_mapping`` is a list of ``(variable, value)`` pairs. ``fallback`` (optional)
    gives the value of a variable that is not in the mapping. After the scope,
    ``get_current_value(variable)`` returns what was assigned inside it.

    Example:
    >>> import lamina
    >>> v = lamina.Variable([1.0, 2.0])
    >>> with lamina.StatelessScope([(v, lamina.ops.zeros((2,)))]) as scope:
    ...     _ = v.assign(v + 1.0)
    >>> lamina.ops.convert_to_numpy(scope.get_current_value(v)).tolist()
    [1.0, 1.0]
    >>> v.numpy().tolist()
    [1.0, 2.0]
    """

    def __init__(self, state_mapping=None, fallback=None, collect_losses=False):
        self._values = {}
        self._assigned = {}
        self._assigned_variables = {}
        self.fallback = fallback
        self.collect_losses = collect_losses
        self.losses = []
        for var, value in state_mapping or ():
            self._values[id(var)] = var._convert_assigned(value)

    def get(self, variable):
        key = id(variable)
        if key in self._assigned:
            return self._assigned[key]
        if key in self._values:
            return self._values[key]
        if self.fallback is not None:
            return self.fallback(variable)
        return None

    def assign(self, variable, value):
        self._assigned[id(variable)] = value
        self._assigned_variables[id(variable)] = variable

    def assigned(self):
        """``[(variable, value)]`` for every variable assigned inside the scope."""
        return [(var, self._assigned[key]) for key, var in self._assigned_variables.items()]

    def get_current_value(self, variable):
        key = id(variable)
        if key in self._assigned:
            return self._assigned[key]
        return self._values.get(key)

    def __enter__(self):
        _stack().append(self)
        _count(1)
        return self

    def __exit__(self, *exc):
        _stack().pop()
        _count(-1)
        return False


class SymbolicScope(StatelessScope):
    """Scope active while lamina traces a function for shapes only; writes are dropped."""


def in_symbolic_scope():
    """True while lamina traces a function for shapes only (the innermost scope is a ``SymbolicScope``)."""
    return isinstance(current_scope(), SymbolicScope)


class suspended:
    """No scope is open in this thread inside this context: Variables read and assign their storage.

    For host-side state that must advance whatever is being traced around it (the global SeedGenerator's
    counter, from which objects constructed inside a traced call draw their seeds)."""

    def __enter__(self):
        stack = _stack()
        self._saved = stack[:]
        stack.clear()
        return self

    def __exit__(self, *exc):
        _stack()[:] = self._saved
        return False


# ---- autocast: inside a mixed-precision layer's call, float weights read as its compute dtype ----

def autocast_dtype():
    """The dtype float Variables read as right now (``None``: their own)."""
    return getattr(_STATE, "autocast", None)


class AutocastScope:
    """Inside this scope, float Variables with ``autocast=True`` read as ``dtype`` (or as their own
    dtype with ``dtype=None``), as a mixed-precision layer's weights do inside its ``call``."""

    def __init__(self, dtype):
        self.dtype = dtype

    def __enter__(self):
        self._previous = getattr(_STATE, "autocast", None)
        _STATE.autocast = self.dtype
        _count(1)
        return self

    def __exit__(self, *exc):
        _STATE.autocast = self._previous
        _count(-1)
