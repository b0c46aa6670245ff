"""``Operation``: anything that can be a node of a Functional graph (ops and layers)."""

from lamina import backend
from lamina.backend.common.keras_tensor import any_symbolic
from lamina.ops.node import Node


class Operation:
    """Base of graph nodes: eager calls run ``call``; symbolic calls record a Node.

    Subclasses implement ``call``; ``compute_output_spec`` defaults to tracing
    ``call`` on the engine without computing anything.
    """

    def __init__(self, name=None):
        self.name = name or type(self).__name__.lower()
        self._inbound_nodes = []

    def __call__(self, *args, **kwargs):
        if any_symbolic(args, kwargs):
            return self.symbolic_call(*args, **kwargs)
        return self.call(*args, **kwargs)

    def symbolic_call(self, *args, **kwargs):
        outputs = self.compute_output_spec(*args, **kwargs)
        Node(self, call_args=args, call_kwargs=kwargs, outputs=outputs)
        return outputs

    def compute_output_spec(self, *args, **kwargs):
        return backend.compute_output_spec(self.call, *args, **kwargs)

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement call().")


class FunctionOperation(Operation):
    """An Operation that calls a plain op function (``lamina.ops.add`` and friends).

    ``function_name`` is the public op's name (``lamina.ops.<function_name>``), which saved configs record;
    by default the function's own name (a backend may define an op as a lambda).
    """

    def __init__(self, fn, name, function_name=None):
        super().__init__(name=name)
        self.fn = fn
        self.function_name = function_name or fn.__name__

    def call(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def get_config(self):
        return {"name": self.name, "function": self.function_name}


def op(fn, name=None):
    """Make ``fn`` (written with backend functions) a public op named ``name`` (default: ``fn``'s name) that
    also works symbolically."""
    name = name or fn.__name__

    def wrapper(*args, **kwargs):
        if any_symbolic(args, kwargs):
            from lamina.utils.naming import uniquify

            # Unique graph-node names (add, add_1, ...) as Keras's, so a model with several ops saves and loads.
            return FunctionOperation(fn, uniquify(name), name).symbolic_call(*args, **kwargs)
        return fn(*args, **kwargs)

    wrapper.__name__ = name
    wrapper.__qualname__ = name
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    wrapper.__module__ = fn.__module__
    return wrapper
