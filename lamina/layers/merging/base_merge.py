"""``Merge``: the base of the layers that combine a list of tensors element-wise (with broadcasting)."""

from lamina import ops
from lamina.layers.layer import Layer


def broadcast_shapes(who, shapes):
    """NumPy broadcasting of the non-batch dimensions (None broadcasts as unknown)."""
    rank = max(len(s) for s in shapes)
    out = []
    for dims in zip(*[(1,) * (rank - len(s)) + tuple(s) for s in shapes]):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f"{who}: inputs with shapes {[tuple(s) for s in shapes]} cannot be broadcast together.")
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


class Merge(Layer):
    """Combine a list of at least two tensors. Subclasses implement ``_merge(a, b)`` (a pairwise reduction)
    or override ``_merge_all(inputs)``."""

    _min_inputs = 2
    _max_inputs = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _who(self):
        return f"Layer '{self.name}' ({type(self).__name__})"

    def _check_list(self, inputs):
        is_shape = isinstance(inputs, (list, tuple)) and all(d is None or isinstance(d, int) for d in inputs)
        if not isinstance(inputs, (list, tuple)) or (is_shape and inputs):
            raise ValueError(f"{self._who()} must be called on a list of tensors, but received a single input "
                             f"({type(inputs).__name__}).")
        n = len(inputs)
        if n < self._min_inputs or (self._max_inputs is not None and n > self._max_inputs):
            want = f"exactly {self._max_inputs}" if self._max_inputs == self._min_inputs else \
                f"at least {self._min_inputs}"
            raise ValueError(f"{self._who()} must be called on {want} inputs, but received {n} inputs.")

    def build(self, input_shape):
        self._check_list(input_shape)
        self._check_shapes(input_shape)
        self.built = True

    def _check_shapes(self, shapes):
        batch = {s[0] for s in shapes if s and s[0] is not None}
        if len(batch) > 1:
            raise ValueError(f"{self._who()}: the inputs have different batch sizes: {[tuple(s) for s in shapes]}.")
        broadcast_shapes(self._who(), [s[1:] for s in shapes])

    def call(self, inputs):
        self._check_list(inputs)
        return self._merge_all(list(inputs))

    def _merge_all(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = self._merge(out, x)
        return out

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        batch = next((s[0] for s in input_shape if s[0] is not None), None)
        return (batch,) + broadcast_shapes(self._who(), [tuple(s)[1:] for s in input_shape])

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        masks = [m for m in mask if m is not None]
        out = masks[0]
        for m in masks[1:]:
            out = ops.logical_and(out, m)
        return out
