"""Graph recording: each call of an operation on symbolic tensors leaves a Node."""

from lamina import tree
from lamina.backend.common.keras_tensor import KerasTensor


class KerasHistory:
    """Where a symbolic tensor came from: (operation, node_index, tensor_index)."""

    __slots__ = ("operation", "node_index", "tensor_index")

    def __init__(self, operation, node_index, tensor_index):
        self.operation = operation
        self.node_index = node_index
        self.tensor_index = tensor_index

    @property
    def node(self):
        return self.operation._inbound_nodes[self.node_index]

    def __iter__(self):
        return iter((self.operation, self.node_index, self.tensor_index))


class Node:
    """One call of ``operation``: its arguments (with symbolic tensors) and its outputs."""

    def __init__(self, operation, call_args=(), call_kwargs=None, outputs=None):
        self.operation = operation
        self.call_args = call_args
        self.call_kwargs = call_kwargs or {}
        self.input_tensors = [
            t for t in tree.flatten((call_args, self.call_kwargs)) if isinstance(t, KerasTensor)
        ]
        self.outputs = outputs
        self.output_tensors = [t for t in tree.flatten(outputs) if isinstance(t, KerasTensor)]
        node_index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for i, t in enumerate(self.output_tensors):
            t._history = KerasHistory(operation, node_index, i)

    @property
    def parent_nodes(self):
        return [t._history.node for t in self.input_tensors if t._history is not None]

    @property
    def is_input(self):
        return not self.input_tensors

    def arguments_with(self, tensor_map):
        """Return (args, kwargs) with symbolic tensors replaced by ``tensor_map[id(t)]``."""
        def fill(x):
            return tensor_map[id(x)] if isinstance(x, KerasTensor) else x

        return tree.map_structure(fill, self.call_args), tree.map_structure(fill, self.call_kwargs)
