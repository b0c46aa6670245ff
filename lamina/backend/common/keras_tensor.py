"""Symbolic tensors: a shape and a dtype, used to build Functional models."""

from lamina.backend.common.dtypes import standardize_dtype


class KerasTensor:
    """A symbolic tensor: it has a shape and a dtype, but no values.

    ``lamina.Input(shape=(3,))`` returns one; calling layers or ``lamina.ops``
    on it records the computation so that ``Model(inputs, outputs)`` can replay
    it on real data. The name is Keras's, so code that checks for it works.

    Example:
    >>> import lamina
    >>> x = lamina.Input(shape=(3,))
    >>> x.shape
    (None, 3)
    """

    __array_priority__ = 1000  # so numpy scalars defer to our operators

    def __init__(self, shape, dtype="float32", sparse=False, name=None, record_history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        # "string": a string Input of a Functional model (run on the host, see layers/preprocessing/_string_inputs).
        self.dtype = "string" if isinstance(dtype, str) and dtype in ("string", "str") else standardize_dtype(dtype)
        self.sparse = sparse
        self.name = name
        self._history = record_history  # (operation, node_index, tensor_index)

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        name = f", name={self.name}" if self.name else ""
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}{name}>"

    def __bool__(self):
        raise TypeError(
            "A symbolic KerasTensor has no value, so it cannot be used as a Python bool "
            "(in `if` or `while`). Use lamina.ops.cond / ops.where, or write a Layer."
        )

    def __len__(self):
        if not self.shape or self.shape[0] is None:
            raise TypeError(f"len() of a KerasTensor with unknown first dimension: shape {self.shape}.")
        return self.shape[0]

    def __iter__(self):
        raise TypeError("A symbolic KerasTensor cannot be iterated. Use lamina.ops.unstack.")

    # Operators route through lamina.ops so that they are recorded in the graph.
    def _op(self, name, *args):
        from lamina import ops

        return getattr(ops, name)(*args)

    def __add__(self, o): return self._op("add", self, o)
    def __radd__(self, o): return self._op("add", o, self)
    def __sub__(self, o): return self._op("subtract", self, o)
    def __rsub__(self, o): return self._op("subtract", o, self)
    def __mul__(self, o): return self._op("multiply", self, o)
    def __rmul__(self, o): return self._op("multiply", o, self)
    def __truediv__(self, o): return self._op("divide", self, o)
    def __rtruediv__(self, o): return self._op("divide", o, self)
    def __floordiv__(self, o): return self._op("floor_divide", self, o)
    def __rfloordiv__(self, o): return self._op("floor_divide", o, self)
    def __mod__(self, o): return self._op("mod", self, o)
    def __pow__(self, o): return self._op("power", self, o)
    def __rpow__(self, o): return self._op("power", o, self)
    def __matmul__(self, o): return self._op("matmul", self, o)
    def __rmatmul__(self, o): return self._op("matmul", o, self)
    def __neg__(self): return self._op("negative", self)
    def __abs__(self): return self._op("abs", self)
    def __lt__(self, o): return self._op("less", self, o)
    def __le__(self, o): return self._op("less_equal", self, o)
    def __gt__(self, o): return self._op("greater", self, o)
    def __ge__(self, o): return self._op("greater_equal", self, o)
    def __and__(self, o): return self._op("logical_and", self, o)
    def __or__(self, o): return self._op("logical_or", self, o)
    def __invert__(self): return self._op("logical_not", self)
    def __getitem__(self, key): return self._op("get_item", self, key)

    def __hash__(self):
        return id(self)


def is_keras_tensor(x):
    """Return True when ``x`` is a symbolic ``KerasTensor``."""
    return isinstance(x, KerasTensor)


_PLAIN = frozenset((int, float, str, bool, type(None)))  # argument types that are never symbolic


def any_symbolic(args, kwargs=None):
    """Cheap check (one level into lists, tuples and dicts) for symbolic tensors."""
    for a in args:
        if type(a) in _PLAIN:
            continue
        if isinstance(a, KerasTensor):
            return True
        if isinstance(a, (list, tuple)):
            for b in a:
                if isinstance(b, KerasTensor):
                    return True
        elif isinstance(a, dict):
            for b in a.values():
                if isinstance(b, KerasTensor):
                    return True
    if kwargs:
        return any_symbolic(kwargs.values())
    return False
