"""Element-wise merges (Add, Subtract, Multiply, Average, Maximum, Minimum), Concatenate and Dot, with
their functional forms (``add([a, b])`` ...)."""

from lamina import ops
from lamina.layers.merging.base_merge import Merge


class Add(Merge):
    """Add a list of tensors element-wise (broadcasting as NumPy).

    Example:
    >>> import lamina
    >>> a, b = lamina.ops.ones((2, 3)), lamina.ops.full((2, 3), 2.0)
    >>> lamina.ops.convert_to_numpy(lamina.layers.Add()([a, b]))[0].tolist()
    [3.0, 3.0, 3.0]
    """

    def _merge(self, a, b):
        return ops.add(a, b)


class Subtract(Merge):
    """Subtract two tensors: ``inputs[0] - inputs[1]``.

    Example:
    >>> import lamina
    >>> a, b = lamina.ops.full((1, 2), 5.0), lamina.ops.ones((1, 2))
    >>> lamina.ops.convert_to_numpy(lamina.layers.Subtract()([a, b])).tolist()
    [[4.0, 4.0]]
    """

    _max_inputs = 2

    def _merge(self, a, b):
        return ops.subtract(a, b)


class Multiply(Merge):
    """Multiply a list of tensors element-wise.

    Example:
    >>> import lamina
    >>> a, b = lamina.ops.full((1, 2), 3.0), lamina.ops.full((1, 2), 2.0)
    >>> lamina.ops.convert_to_numpy(lamina.layers.Multiply()([a, b])).tolist()
    [[6.0, 6.0]]
    """

    def _merge(self, a, b):
        return ops.multiply(a, b)


class Average(Merge):
    """Average a list of tensors element-wise.

    Example:
    >>> import lamina
    >>> a, b = lamina.ops.full((1, 2), 3.0), lamina.ops.ones((1, 2))
    >>> lamina.ops.convert_to_numpy(lamina.layers.Average()([a, b])).tolist()
    [[2.0, 2.0]]
    """

    def _merge_all(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.add(out, x)
        return ops.divide(out, float(len(inputs)))


class Maximum(Merge):
    """Element-wise maximum of a list of tensors.

    Example:
    >>> import lamina
    >>> a, b = lamina.ops.convert_to_tensor([[1.0, 5.0]]), lamina.ops.convert_to_tensor([[3.0, 2.0]])
    >>> lamina.ops.convert_to_numpy(lamina.layers.Maximum()([a, b])).tolist()
    [[3.0, 5.0]]
    """

    def _merge(self, a, b):
        return ops.maximum(a, b)


class Minimum(Merge):
    """Element-wise minimum of a list of tensors.

    Example:
    >>> import lamina
    >>> a, b = lamina.ops.convert_to_tensor([[1.0, 5.0]]), lamina.ops.convert_to_tensor([[3.0, 2.0]])
    >>> lamina.ops.convert_to_numpy(lamina.layers.Minimum()([a, b])).tolist()
    [[1.0, 2.0]]
    """

    def _merge(self, a, b):
        return ops.minimum(a, b)


class Concatenate(Merge):
    """Concatenate a list of tensors along ``axis``; the other dimensions must match.

    Args:
        axis: the axis to join along (default -1).

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.Concatenate()([lamina.ops.ones((2, 3)), lamina.ops.ones((2, 4))]))
    (2, 7)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"{self._who()}: axis must be an int, but received axis={axis!r}.")
        self.axis = axis
        self._min_inputs = 1

    def _check_shapes(self, shapes):
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1:
            raise ValueError(f"{self._who()} requires inputs of the same rank, but received shapes "
                             f"{[tuple(s) for s in shapes]}.")
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(f"{self._who()}: axis {self.axis} is out of range for inputs of rank {rank}.")
        axis = self.axis % rank
        for i in range(rank):
            if i == axis:
                continue
            known = {s[i] for s in shapes if isinstance(s[i], int)}  # traced sizes are not hashable
            if len(known) > 1:
                raise ValueError(f"{self._who()} requires inputs with matching shapes except on the concatenation "
                                 f"axis {self.axis}, but received shapes {[tuple(s) for s in shapes]}.")

    def _merge_all(self, inputs):
        self._check_shapes([tuple(x.shape) for x in inputs])
        return ops.concatenate(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        shapes = [tuple(s) for s in input_shape]
        self._check_shapes(shapes)
        axis = self.axis % len(shapes[0])
        out = []
        for i in range(len(shapes[0])):
            dims = [s[i] for s in shapes]
            if i == axis:
                out.append(None if any(d is None for d in dims) else sum(dims))
            else:
                out.append(next((d for d in dims if d is not None), None))
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        full = []
        for x, m in zip(inputs, mask):
            if m is None:
                m = ops.ones(tuple(x.shape)[:len(x.shape) - 1], dtype="bool")
            full.append(ops.expand_dims(m, -1) if len(m.shape) < len(x.shape) else m)
        return ops.any(ops.concatenate(full, axis=self.axis), axis=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(Merge):
    """Dot product of two tensors along ``axes`` for each sample (Keras's batch dot).

    Args:
        axes: int or pair of ints (non-batch axes of the two inputs).
        normalize: L2-normalize both inputs along ``axes`` first (the result is the cosine similarity).

    Example:
    >>> import lamina
    >>> a, b = lamina.ops.ones((2, 3)), lamina.ops.full((2, 3), 2.0)
    >>> lamina.ops.convert_to_numpy(lamina.layers.Dot(axes=1)([a, b])).tolist()
    [[6.0], [6.0]]
    """

    _max_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        pair = (axes, axes) if isinstance(axes, int) else tuple(axes)
        if len(pair) != 2 or any(isinstance(a, bool) or not isinstance(a, int) for a in pair):
            raise ValueError(f"{self._who()}: axes must be an int or a pair of ints, but received axes={axes!r}.")
        self.axes = axes if isinstance(axes, int) else list(pair)
        self._pair = pair
        self.normalize = bool(normalize)
        self.supports_masking = False

    def _resolve(self, shapes):
        a1, a2 = (a % len(s) for a, s in zip(self._pair, shapes))
        if 0 in (a1, a2):
            raise ValueError(f"{self._who()}: cannot take the dot product over the batch axis (axes={self.axes}).")
        d1, d2 = shapes[0][a1], shapes[1][a2]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(f"{self._who()}: dimension mismatch on axes {self.axes}: {d1} != {d2} (input shapes "
                             f"{[tuple(s) for s in shapes]}).")
        return a1, a2

    def _check_shapes(self, shapes):
        self._resolve([tuple(s) for s in shapes])

    def _merge_all(self, inputs):
        x, y = inputs
        a1, a2 = self._resolve([tuple(x.shape), tuple(y.shape)])
        if self.normalize:
            x, y = ops.normalize(x, axis=a1), ops.normalize(y, axis=a2)
        x = ops.moveaxis(x, a1, -1)
        y = ops.moveaxis(y, a2, 1)
        xs, ys = tuple(x.shape), tuple(y.shape)
        out = ops.matmul(ops.reshape(x, (xs[0], -1, xs[-1])), ops.reshape(y, (ys[0], ys[1], -1)))
        out = ops.reshape(out, (xs[0],) + xs[1:-1] + ys[2:])
        return ops.expand_dims(out, 1) if len(out.shape) == 1 else out

    def compute_output_shape(self, input_shape):
        s1, s2 = (tuple(s) for s in input_shape)
        a1, a2 = self._resolve([s1, s2])
        rest = tuple(d for i, d in enumerate(s1) if i not in (0, a1)) + tuple(d for i, d in enumerate(s2)
                                                                                if i not in (0, a2))
        return (s1[0],) + (rest if rest else (1,))

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _functional(cls, doc):
    def fn(inputs, **kwargs):
        return cls(**kwargs)(inputs)

    fn.__name__ = cls.__name__.lower()
    fn.__doc__ = doc
    return fn


add = _functional(Add, "Functional form of ``Add``: ``add([a, b])``.\n\nExample:\n>>> import lamina\n"
                       ">>> lamina.ops.shape(lamina.layers.add([lamina.ops.ones((2, 3)), lamina.ops.ones((2, 3))]))\n"
                       "(2, 3)\n")
subtract = _functional(Subtract, "Functional form of ``Subtract``: ``subtract([a, b])``.\n\nExample:\n"
                                 ">>> import lamina\n>>> lamina.ops.shape(lamina.layers.subtract([lamina.ops.ones((2, 3)), "
                                 "lamina.ops.ones((2, 3))]))\n(2, 3)\n")
multiply = _functional(Multiply, "Functional form of ``Multiply``.\n\nExample:\n>>> import lamina\n"
                                 ">>> lamina.ops.shape(lamina.layers.multiply([lamina.ops.ones((2, 3)), "
                                 "lamina.ops.ones((2, 3))]))\n(2, 3)\n")
average = _functional(Average, "Functional form of ``Average``.\n\nExample:\n>>> import lamina\n"
                               ">>> lamina.ops.shape(lamina.layers.average([lamina.ops.ones((2, 3)), "
                               "lamina.ops.ones((2, 3))]))\n(2, 3)\n")
maximum = _functional(Maximum, "Functional form of ``Maximum``.\n\nExample:\n>>> import lamina\n"
                               ">>> lamina.ops.shape(lamina.layers.maximum([lamina.ops.ones((2, 3)), "
                               "lamina.ops.ones((2, 3))]))\n(2, 3)\n")
minimum = _functional(Minimum, "Functional form of ``Minimum``.\n\nExample:\n>>> import lamina\n"
                               ">>> lamina.ops.shape(lamina.layers.minimum([lamina.ops.ones((2, 3)), "
                               "lamina.ops.ones((2, 3))]))\n(2, 3)\n")


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of ``Concatenate``: ``concatenate([a, b], axis=-1)``.

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.concatenate([lamina.ops.ones((2, 3)), lamina.ops.ones((2, 1))]))
    (2, 4)
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Functional form of ``Dot``: ``dot([a, b], axes)``.

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.dot([lamina.ops.ones((2, 3, 4)), lamina.ops.ones((2, 5, 4))], axes=2))
    (2, 3, 5)
    """
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
