"""Builds the public op functions from the backend's functions of the same name."""

import functools

from lamina.ops.operation import op


def export_ops(namespace, backend_module, docs, module_name):
    """Define in ``namespace`` one public op per entry of ``docs``.

    ``docs`` maps an op name to its docstring. Each op calls the backend function
    of the same name eagerly, and records a graph node on symbolic inputs.
    """
    for name, doc in docs.items():
        impl = getattr(backend_module, name)
        public = op(impl, name)  # by its public name: a backend may define the op as a lambda
        functools.update_wrapper(public, impl)
        public.__name__ = public.__qualname__ = name
        public.__doc__ = doc
        public.__module__ = module_name
        namespace[name] = public
    return list(docs)
