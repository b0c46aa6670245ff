"""The engine-independent part of ``lamina.Variable``."""

import numpy as np

from lamina.backend.common import scopes
from lamina.backend.common.dtypes import standardize_dtype
from lamina.backend.common.name_scope import scoped

ROLES = ("trainable", "non_trainable", "optimizer", "metric", "seed")

_NAME_COUNTS = {}
_FLOATS = ("float16", "bfloat16", "float32", "float64")


def _auto_name(base):
    n = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


class VariableBase:
    """A mutable tensor that holds state: weights, statistics, optimizer slots, counters.

    Args:
        initializer: an array-like initial value, or a callable
            ``initializer(shape, dtype)`` (with ``shape`` given).
        shape: the shape, needed when ``initializer`` is callable.
        dtype: the dtype (default: that of the value, or ``floatx()``).
        trainable: whether gradients update it (default True).
        role: one of ``"trainable"``, ``"non_trainable"``, ``"optimizer"``,
            ``"metric"``, ``"seed"``. Default: from ``trainable``.
        name: a name for messages and saving.

    Example:
    >>> import lamina
    >>> v = lamina.Variable([[1.0, 2.0]], name="w")
    >>> v.shape, v.dtype, v.trainable
    ((1, 2), 'float32', True)
    >>> _ = v.assign([[3.0, 4.0]]); v.numpy().tolist()
    [[3.0, 4.0]]
    """

    def __init__(self, initializer, shape=None, dtype=None, trainable=True, role=None,
                 name=None, autocast=True, aggregation="none", synchronization="auto"):
        if role is None:
            role = "trainable" if trainable else "non_trainable"
        if role not in ROLES:
            raise ValueError(f"Variable role must be one of {list(ROLES)}, but received role={role!r}.")
        self._role = role
        self._trainable = bool(trainable) and role == "trainable"
        self.name = name or _auto_name("variable")
        self.path = scoped(self.name)  # under the enclosing name_scope, if any
        self.autocast = autocast
        self.aggregation = aggregation
        self.regularizer = None
        self.constraint = None
        if callable(initializer):
            if shape is None:
                raise ValueError(
                    f"Variable '{self.name}': a callable initializer needs `shape`, but shape=None."
                )
            shape = tuple(int(d) for d in shape)
            dtype = standardize_dtype(dtype)
            # Outside any scope: an initial value is made once, for real, even when the Variable is created
            # inside a traced call (a sublayer built during symbolic shape inference), where scopes would
            # give the initializer's seed state a placeholder value and drop its advance.
            with scopes.suspended():
                value = self._run_initializer(initializer, shape, dtype)
        else:
            value = initializer
            if dtype is None and not hasattr(value, "dtype"):
                arr = np.asarray(value)
                dtype = standardize_dtype(None) if arr.dtype.kind == "f" else arr.dtype.name
            elif dtype is None:
                dtype = standardize_dtype(value.dtype)
            dtype = standardize_dtype(dtype)
        self._dtype = dtype
        self._initialize(self._to_engine(value, dtype))
        if shape is not None and tuple(self.shape) != tuple(shape):
            raise ValueError(
                f"Variable '{self.name}': the initial value has shape {tuple(self.shape)}, "
                f"but shape={tuple(shape)} was given."
            )

    # --- hooks each backend provides: _initialize, _direct_assign, _to_engine,
    #     _run_initializer, _storage, numpy, shape

    @property
    def value(self):
        if not scopes.ACTIVE[0]:  # no scope open anywhere: the storage itself
            return self._storage()
        scope = scopes.current_scope()
        value = None
        if scope is not None:
            value = scope.get(self)
        if value is None:
            value = self._storage()
        cast_to = scopes.autocast_dtype()
        if cast_to is not None and cast_to != self._dtype and self.autocast and self._dtype in _FLOATS:
            return self._cast(value, cast_to)
        return value

    def _cast(self, value, dtype):
        return self._to_engine(value, dtype)

    def assign(self, value):
        value = self._convert_assigned(value)
        scope = scopes.current_scope()
        if scope is not None:
            if isinstance(scope, scopes.SymbolicScope):
                return value
            scope.assign(self, value)
            return value
        self._direct_assign(value)
        return value

    def assign_add(self, value):
        return self.assign(self.value + self._convert_assigned(value))

    def assign_sub(self, value):
        return self.assign(self.value - self._convert_assigned(value))

    def _convert_assigned(self, value):
        value = self._to_engine(value, self._dtype)
        if tuple(value.shape) != tuple(self.shape):
            raise ValueError(
                f"Cannot assign a value of shape {tuple(value.shape)} to variable "
                f"'{self.path}' of shape {tuple(self.shape)}."
            )
        return value

    @property
    def dtype(self):
        return self._dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def role(self):
        return self._role

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        if self._role in ("trainable", "non_trainable"):
            self._role = "trainable" if value else "non_trainable"
        self._on_trainable_change()

    def _on_trainable_change(self):
        pass

    def __repr__(self):
        return f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={self.dtype}, role={self.role}>"

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr.astype(dtype) if dtype is not None else arr

    def __len__(self):
        return self.shape[0]

    # Arithmetic goes through lamina.ops so that it works in both engines and in graphs.
    def _op(self, name, *args):
        from lamina import ops

        return getattr(ops, name)(*args)

    def __add__(self, o): return self._op("add", self.value, o)
    def __radd__(self, o): return self._op("add", o, self.value)
    def __sub__(self, o): return self._op("subtract", self.value, o)
    def __rsub__(self, o): return self._op("subtract", o, self.value)
    def __mul__(self, o): return self._op("multiply", self.value, o)
    def __rmul__(self, o): return self._op("multiply", o, self.value)
    def __truediv__(self, o): return self._op("divide", self.value, o)
    def __rtruediv__(self, o): return self._op("divide", o, self.value)
    def __pow__(self, o): return self._op("power", self.value, o)
    def __matmul__(self, o): return self._op("matmul", self.value, o)
    def __rmatmul__(self, o): return self._op("matmul", o, self.value)
    def __neg__(self): return self._op("negative", self.value)
    def __getitem__(self, key): return self.value[key]
    def __lt__(self, o): return self._op("less", self.value, o)
    def __le__(self, o): return self._op("less_equal", self.value, o)
    def __gt__(self, o): return self._op("greater", self.value, o)
    def __ge__(self, o): return self._op("greater_equal", self.value, o)

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    def __float__(self):
        return float(self.numpy())

    def __int__(self):
        return int(self.numpy())
