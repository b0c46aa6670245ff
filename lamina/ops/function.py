"""``Function``: a graph of operations from symbolic inputs to outputs, callable on data (``keras.Function``)."""

from lamina import backend, tree
from lamina.backend.common.keras_tensor import KerasTensor
from lamina.ops.operation import Operation


class Function(Operation):
    """The computation from ``inputs`` to ``outputs`` (symbolic tensors, e.g. from ``lamina.Input``), as one
    operation: calling it on data runs every op and layer between them; calling it on symbolic tensors adds
    it to a new graph. Unlike a ``Model`` it has no weights of its own, no training and no saving.

    Args:
        inputs: a symbolic tensor, or a list / tuple / dict of them.
        outputs: a symbolic tensor, or a nested structure of them, computed from ``inputs``.
        name: the operation's name.

    Example:
    >>> import lamina, numpy as np
    >>> x = lamina.Input((3,))
    >>> y = lamina.ops.sum(lamina.ops.square(x), axis=-1)
    >>> f = lamina.Function(x, y)
    >>> lamina.ops.convert_to_numpy(f(np.array([[1.0, 2.0, 2.0]], "float32")))
    array([9.], dtype=float32)
    """

    def __init__(self, inputs, outputs, name=None):
        super().__init__(name=name or "function")
        from lamina.models.functional import _topological_steps

        self._inputs_struct = tree.map_structure(lambda t: t, inputs)
        self._outputs_struct = tree.map_structure(lambda t: t, outputs)
        self._inputs = tree.flatten(inputs)
        self._outputs = tree.flatten(outputs)
        for role, tensors in (("inputs", self._inputs), ("outputs", self._outputs)):
            wrong = [t for t in tensors if not isinstance(t, KerasTensor)]
            if wrong or not tensors:
                raise ValueError(f"Function '{self.name}': {role} must be symbolic tensors (from lamina.Input or "
                                 f"ops on them), but received {wrong[0] if wrong else 'nothing'!r}.")
        self._nodes = _topological_steps(self._inputs, self._outputs)

    @property
    def inputs(self):
        return self._inputs

    @property
    def outputs(self):
        return self._outputs

    @property
    def operations(self):
        """The operations and layers of the graph, in the order they run."""
        seen, out = set(), []
        for node in self._nodes:
            if id(node.operation) not in seen:
                seen.add(id(node.operation))
                out.append(node.operation)
        return out

    def _flatten_inputs(self, inputs):
        if isinstance(self._inputs_struct, dict):
            if not isinstance(inputs, dict) or set(inputs) != set(self._inputs_struct):
                got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
                raise ValueError(f"Function '{self.name}' expects a dict with keys {sorted(self._inputs_struct)}, "
                                 f"but received {got}.")
            return [inputs[k] for k in sorted(self._inputs_struct)]
        flat = tree.flatten(inputs)
        if len(flat) != len(self._inputs):
            raise ValueError(f"Function '{self.name}' expects {len(self._inputs)} input(s) with shapes "
                             f"{[t.shape for t in self._inputs]}, but received {len(flat)}.")
        return flat

    def call(self, inputs):
        from lamina.layers.layer import Layer

        values = {}
        for kt, x in zip(self._inputs, self._flatten_inputs(inputs)):
            values[id(kt)] = x if backend.is_tensor(x) or isinstance(x, KerasTensor) else \
                backend.convert_to_tensor(x, dtype=kt.dtype)
        for node in self._nodes:
            args, kwargs = node.arguments_with(values)
            op = node.operation
            out = op(*args, **kwargs) if isinstance(op, Layer) else op.call(*args, **kwargs)
            flat = tree.flatten(out) if isinstance(out, (list, tuple, dict)) else [out]
            for t, o in zip(node.output_tensors, flat):
                values[id(t)] = o
        return tree.pack_sequence_as(self._outputs_struct, [values[id(t)] for t in self._outputs])

    def __call__(self, inputs):
        return super().__call__(inputs)
