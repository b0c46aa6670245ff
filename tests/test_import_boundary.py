"""Only lamina/backend/ may import an engine (ARCHITECTURE.md rule 1)."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "lamina"
ENGINES = {"torch", "jax", "jaxlib", "flax", "tensorflow"}


def _engine_imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for n in names:
            if n.split(".")[0] in ENGINES:
                found.append((node.lineno, n))
    return found


def test_no_engine_import_outside_backend():
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "backend":
            continue
        offenders += [f"{rel}:{line} imports {name}" for line, name in _engine_imports(path)]
    assert not offenders, "engine imports outside lamina/backend/:\n" + "\n".join(offenders)


def test_no_backend_name_checks_outside_backend():
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "backend" or rel.name == "config.py":
            continue
        text = path.read_text()
        for pattern in ('backend() == "torch"', 'backend() == "jax"', "backend() == 'torch'",
                        "backend() == 'jax'"):
            if pattern in text:
                offenders.append(f"{rel}: {pattern}")
    assert not offenders, "engine checks outside lamina/backend/:\n" + "\n".join(offenders)


def test_the_boundary_test_detects_an_engine_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy\nfrom jax import numpy as jnp\nimport torch.nn\n")
    assert [n for _, n in _engine_imports(bad)] == ["jax", "torch.nn"]
