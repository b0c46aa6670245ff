"""Export a model's inference function as a standalone program: ONNX, ``torch.export`` or ``jax.export``.

Every format works from either backend. The formats the current engine writes itself
(``"torch"`` and ``"onnx"`` on PyTorch, ``"jax"`` on JAX) are written in this process; for the
others, the model is saved to a temporary ``.keras`` file and a child Python process running the
other engine (``python -m lamina.export._subprocess``) loads it and writes the export.

What each format gives you (the batch axis is always dynamic, shared by all inputs):

- ``"onnx"``: an ONNX model (recent opset, 18 by default):
  ``onnxruntime.InferenceSession(path).run(None, {name: x})``.
- ``"torch"``: a ``torch.export`` program in a ``.pt2`` file:
  ``torch.export.load(path).module()(x)`` (one positional tensor per model input).
- ``"jax"``: serialized ``jax.export`` StableHLO with the weights embedded as constants:
  ``jax.export.deserialize(open(path, "rb").read()).call(x)``.
"""

import importlib.util
import os
import sys

from lamina import backend
from lamina.export._signature import resolve_input_specs
from lamina.utils import io_utils

# Which engine writes each format.
FORMAT_ENGINES = {"onnx": "torch", "torch": "torch", "jax": "jax"}
_PACKAGES = {"onnx": ("onnx", "onnxscript")}


def export_model(model, filepath, format="onnx", verbose=True, input_signature=None, **kwargs):
    """Write ``model``'s inference function (``training=False``) to ``filepath``.

    Args:
        model: a built lamina model (Sequential, Functional, or a subclassed model with
            ``input_signature``).
        filepath: the file to write (``.pt2`` for ``format="torch"``).
        format: ``"onnx"``, ``"torch"`` or ``"jax"``.
        verbose: print where the file was written.
        input_signature: optional; one spec per model input (a ``lamina.InputSpec``, a
            ``lamina.Input``/KerasTensor, an array, or a shape tuple such as ``(None, 4)``), or a
            single spec for a one-input model. By default it comes from ``model.inputs``. The
            first axis is always exported as a dynamic batch axis.
        **kwargs: format options: ``opset_version`` (onnx, default 18), ``input_names`` /
            ``output_names`` (onnx), ``platforms`` (jax, e.g. ``("cpu", "cuda")``).

    Returns:
        ``filepath``.

    Raises:
        ValueError: unknown format, unbuilt model, or no way to tell the model's inputs.
        ImportError: a package the format needs (``onnx``, ``onnxscript``) is missing.
        RuntimeError: the engine could not trace the model (the engine's message is included).

    Example:
    >>> import os, tempfile, numpy as np, lamina
    >>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.bin")
    >>> fmt = lamina.backend.export.native_formats()[-1]  # "onnx" on torch, "jax" on jax
    >>> model.export(path, format=fmt, verbose=False) == path
    True
    """
    if format not in FORMAT_ENGINES:
        raise ValueError(f"export: unknown format {format!r}; expected one of {sorted(FORMAT_ENGINES)}.")
    filepath = os.fspath(filepath)
    if format == "torch" and not filepath.endswith(".pt2"):
        raise ValueError(f"export(format='torch'): the file name must end in '.pt2' (what "
                         f"torch.export.save writes); received {filepath!r}.")
    for package in _PACKAGES.get(format, ()):
        if _missing(package):
            raise ImportError(f"export(format={format!r}) needs the package `{package}`, which is not "
                              f"installed: pip install {' '.join(_PACKAGES[format])}")
    try:
        model_inputs = list(getattr(model, "inputs", None) or [])
    except (AttributeError, ValueError):
        model_inputs = []
    text = [t for t in model_inputs if str(getattr(t, "dtype", "")) == "string"]
    if text and input_signature is None:
        raise ValueError(
            f"export: model '{model.name}' takes strings (input "
            f"{', '.join(repr(getattr(t, 'name', '?')) for t in text)}), and exported programs take numbers "
            "only. Export the model that follows the text preprocessing (e.g. `lamina.Model(vectorizer.output, "
            "outputs)` from the TextVectorization/StringLookup output) and run that layer in Python before the "
            "program; `lamina serve` serves the whole text model as it is.")
    specs, single_input = resolve_input_specs(model, input_signature)
    if not model.built:
        _build(model, specs, single_input)
    directory = os.path.dirname(os.path.abspath(filepath))
    if not os.path.isdir(directory):
        raise ValueError(f"export: the folder {directory!r} for {filepath!r} does not exist.")
    if format in backend.export.native_formats():
        return _export_here(model, filepath, format, specs, single_input, verbose, kwargs)
    from lamina.export._subprocess import export_in_subprocess

    return export_in_subprocess(model, filepath, format, FORMAT_ENGINES[format], specs, single_input,
                                verbose, kwargs)


def _export_here(model, filepath, format, specs, single_input, verbose, kwargs):
    """Write to a temporary name next to ``filepath``, then rename (a crash leaves no half file)."""
    head, tail = os.path.split(filepath)
    tmp = os.path.join(head, f".{tail}.{os.getpid()}.tmp" + (".pt2" if format == "torch" else ""))
    try:
        backend.export.export_model(model, tmp, format, specs, single_input, verbose=False, **kwargs)
        os.replace(tmp, filepath)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    if verbose:
        io_utils.print_msg(f"Saved the {format} export of model '{model.name}' to: {filepath}")
    return filepath


def _build(model, specs, single_input):
    from lamina import ops

    xs = [ops.zeros([1] + [1 if d is None else d for d in shape[1:]], dtype=dtype) for shape, dtype in specs]
    model(xs[0] if single_input else xs, training=False)


def _missing(name):
    if name in sys.modules:
        return sys.modules[name] is None
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):
        return True


__all__ = ["export_model", "FORMAT_ENGINES"]
