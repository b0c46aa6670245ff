"""Permute and RepeatVector."""

from lamina import ops
from lamina.layers.core.dense import check_positive_int
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


class Permute(Layer):
    """Permute the non-batch dimensions: ``dims`` is a permutation of ``1..rank-1`` (the batch axis stays).

    Args:
        dims: tuple of ints, e.g. ``(2, 1)`` swaps the two non-batch axes of a 3D input.

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.Permute((2, 1))(lamina.ops.ones((4, 10, 64))))
    (4, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Layer '{self.name}' (Permute): dims must be a permutation of 1..{len(dims)} (the "
                             f"batch axis 0 is not permuted), but received dims={dims}.")
        self.dims = dims
        self.input_spec = InputSpec(ndim=len(dims) + 1)

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
    """Repeat a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``.

    Args:
        n: positive int.

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.RepeatVector(3)(lamina.ops.ones((2, 5))))
    (2, 3, 5)
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = check_positive_int(f"Layer '{self.name}' (RepeatVector)", "n", n)
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        return ops.repeat(ops.expand_dims(inputs, 1), self.n, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}
