"""Both engines export the same backend interface, and every public op has an implementation in each.

This test imports both engines' backend modules directly (tests may import engines).
"""

import importlib
import inspect
import pkgutil

import pytest

import lamina.backend.jax
import lamina.backend.torch


def _module_names(package):
    return {m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")}


MODULES = sorted(_module_names(lamina.backend.torch) | _module_names(lamina.backend.jax))


def test_engines_have_the_same_modules():
    assert _module_names(lamina.backend.torch) == _module_names(lamina.backend.jax)


def _public_names(module):
    """Functions and classes defined in (or assigned as aliases in) ``module``, not private ones."""
    names = set()
    for name, obj in vars(module).items():
        if name.startswith("_"):
            continue
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
            names.add(name)
    return names


def _engine_module(engine, name):
    return importlib.import_module(f"lamina.backend.{engine}.{name}")


@pytest.mark.parametrize("name", MODULES)
def test_engines_export_the_same_names(name):
    torch_names = _public_names(_engine_module("torch", name))
    jax_names = _public_names(_engine_module("jax", name))
    assert torch_names, f"lamina.backend.torch.{name} exports nothing"
    assert torch_names == jax_names, (
        f"lamina.backend.{{torch,jax}}.{name} differ: only in torch: {sorted(torch_names - jax_names)}, "
        f"only in jax: {sorted(jax_names - torch_names)}"
    )


def _op_tables():
    from lamina.ops import linalg, nn, numpy

    return {"numpy": numpy._DOCS, "nn": nn._DOCS, "linalg": linalg._DOCS}


@pytest.mark.parametrize("engine", ["torch", "jax"])
@pytest.mark.parametrize("module_name", ["numpy", "nn", "linalg"])
def test_every_documented_op_exists_in_both_engines(engine, module_name):
    module = _engine_module(engine, module_name)
    missing = [op for op in _op_tables()[module_name] if not callable(getattr(module, op, None))]
    assert not missing, f"lamina.backend.{engine}.{module_name} lacks ops {missing}"


def test_every_documented_op_is_public_and_documented():
    from lamina import ops

    for module_name, table in _op_tables().items():
        for name, doc in table.items():
            assert callable(getattr(ops, name, None)), f"ops.{name} is missing from the flat namespace"
            fn = getattr(getattr(ops, module_name), name)
            assert fn.__doc__ == doc and ">>>" in doc, f"ops.{name} has no runnable example"


def test_ops_count_covers_the_common_keras_ops():
    # keras.ops has ~337 names; lamina aims at the most used ones. Guards against accidental removal.
    assert sum(len(t) for t in _op_tables().values()) >= 200
