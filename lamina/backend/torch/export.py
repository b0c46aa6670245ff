"""Export a lamina model's inference function with PyTorch: ``torch.export`` programs and ONNX.

Lamina layers are not ``torch.nn.Module``s, so the model is wrapped in a small module
(``_InferenceModule``) that holds a copy of every variable's value as a buffer and runs the
model under a ``StatelessScope`` that maps each variable to its buffer. ``torch.export`` then
traces that module with a dynamic batch dimension shared by all inputs.

The JAX twin of this module (``lamina/backend/jax/export.py``) has the same public names.
"""

import logging
import os
import warnings

import numpy as np
import torch

from lamina import tree
from lamina.backend.common.scopes import StatelessScope
from lamina.backend.torch import core
from lamina.utils import io_utils

_FORMATS = ("torch", "onnx")


def native_formats():
    """The export formats this engine writes itself: ``("torch", "onnx")``."""
    return _FORMATS


class _InferenceModule(torch.nn.Module):
    """``forward(*inputs)`` = ``model(inputs, training=False)`` with the weights as buffers."""

    def __init__(self, model, single_input):
        super().__init__()
        self._lamina_model = [model]  # a list, so torch does not try to register it
        self._lamina_variables = list(model.variables)
        self._single_input = single_input
        for i, v in enumerate(self._lamina_variables):
            self.register_buffer(f"w{i}", v.value.detach().clone())

    def forward(self, *inputs):
        model = self._lamina_model[0]
        mapping = [(v, getattr(self, f"w{i}")) for i, v in enumerate(self._lamina_variables)]
        with StatelessScope(mapping):
            x = inputs[0] if self._single_input else list(inputs)
            out = model(x, training=False)
        if isinstance(out, dict):
            return dict(out)
        if isinstance(out, (list, tuple)):
            return tuple(tree.flatten(out))
        return out


def _examples(input_specs, batch, device):
    """Example tensors for tracing: batch ``batch``, other unknown axes 3 (made dynamic too)."""
    out = []
    for shape, dtype in input_specs:
        concrete = [batch if i == 0 else (3 if d is None else d) for i, d in enumerate(shape)]
        data = np.random.default_rng(0).uniform(0, 1, concrete)
        out.append(torch.as_tensor(data.astype(dtype), device=device))
    return tuple(out)


def _dynamic_shapes(input_specs):
    batch = torch.export.Dim("batch")
    shapes = []
    for j, (shape, _) in enumerate(input_specs):
        axes = {0: batch}
        for i, d in enumerate(shape[1:], start=1):
            if d is None:
                axes[i] = torch.export.Dim(f"input{j}_axis{i}")
        shapes.append(axes)
    return tuple(shapes)


def _trace(model, input_specs, single_input):
    module = _InferenceModule(model, single_input).eval()
    # Batch 2 (not 1): torch.export specializes axes whose example size is 0 or 1.
    # The inputs go where the weights are (the exported program runs on that device).
    device = next((b.device for b in module.buffers()), torch.device(core.DEFAULT_DEVICE))
    args = _examples(input_specs, 2, device)
    try:
        program = torch.export.export(module, args, dynamic_shapes=(_dynamic_shapes(input_specs),),
                                      strict=False)
    except Exception as e:  # torch raises many kinds of tracing errors
        free = [f"input {j} axis {i}" for j, (shape, _) in enumerate(input_specs)
                for i, d in enumerate(shape) if i and d is None]
        hint = (f" Hint: the unknown sizes of {free} may not stay dynamic on this engine; pass "
                f"`input_signature` with fixed sizes for them (only the batch axis stays dynamic), "
                f"e.g. lamina.InputSpec(shape=(None, 10, 3)).") if free else ""
        raise RuntimeError(
            f"export: torch.export could not trace model '{model.name}' with a dynamic batch "
            f"dimension for inputs {[s for s, _ in input_specs]}: {type(e).__name__}: {e}{hint}"
        ) from e
    return program


def export_model(model, filepath, format, input_specs, single_input, verbose=True, **kwargs):
    """Write ``model``'s inference function to ``filepath`` in ``format`` (``"torch"`` or ``"onnx"``).

    Args:
        model: a built lamina model.
        filepath: the file to write (``.pt2`` for ``"torch"``, ``.onnx`` for ``"onnx"``).
        format: ``"torch"`` or ``"onnx"``.
        input_specs: a list of ``(shape, dtype)`` pairs, one per model input; ``shape[0]``
            (the batch) and any other ``None`` axis are dynamic.
        single_input: call the model with one tensor (True) or with a list of tensors.
        verbose: print where the file was written.
        **kwargs: for ``"onnx"``: ``opset_version`` (default 18), ``input_names`` (default:
            the names of ``model.inputs``) and ``output_names``.

    Returns:
        The path written.
    """
    if format not in _FORMATS:
        raise ValueError(f"export: the torch engine writes the formats {_FORMATS}, not {format!r}.")
    if format == "torch":
        if kwargs:
            raise ValueError(f"export(format='torch') takes no extra options; received {sorted(kwargs)}.")
        program = _trace(model, input_specs, single_input)
        torch.export.save(program, filepath)
    else:
        _export_onnx(model, filepath, input_specs, single_input, **kwargs)
    if verbose:
        io_utils.print_msg(f"Saved the {format} export of model '{model.name}' to: {filepath}")
    return filepath


_ONNX_OPTIONS = ("opset_version", "input_names", "output_names")


def _export_onnx(model, filepath, input_specs, single_input, **options):
    """ONNX through ``torch.onnx.export(..., dynamo=True)`` of the ``torch.export`` program.

    (The TorchScript exporter is not used: it bakes the traced batch size into shapes that
    lamina computes in Python, such as an LSTM's zero initial state.)
    """
    unknown = sorted(set(options) - set(_ONNX_OPTIONS))
    if unknown:
        raise ValueError(f"export(format='onnx'): unknown options {unknown}; the options are "
                         f"{list(_ONNX_OPTIONS)}.")
    n_in = len(input_specs)
    input_names = list(options.get("input_names") or _input_names(model, n_in))
    if len(input_names) != n_in:
        raise ValueError(f"export(format='onnx'): expected {n_in} input_names, received {input_names}.")
    program = _trace(model, input_specs, single_input)
    n_out = len(program.graph_signature.user_outputs)
    output_names = list(options.get("output_names") or [f"output_{i}" for i in range(n_out)])
    if len(output_names) != n_out:
        raise ValueError(f"export(format='onnx'): expected {n_out} output_names, received {output_names}.")
    kwargs = dict(input_names=input_names, output_names=output_names,
                  opset_version=int(options.get("opset_version", 18)))
    onnx_logger = logging.getLogger("torch.onnx")  # quiet "torchvision is not installed" notes
    level = onnx_logger.level
    onnx_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            onnx_program = torch.onnx.export(program, dynamo=True, verbose=False,
                                             custom_translation_table=_onnx_translations(), **kwargs)
    except Exception as e:  # the ONNX exporter raises its own error kinds
        raise RuntimeError(f"export(format='onnx'): torch.onnx could not convert model '{model.name}': "
                           f"{type(e).__name__}: {e}") from e
    finally:
        onnx_logger.setLevel(level)
    onnx_program.save(os.fspath(filepath))
    _name_the_batch_axis(filepath)


def _onnx_translations():
    """ONNX for the aten ops torch.onnx has no translation of: ``aten._int_mm`` (the int8 x int8 -> int32 matrix
    product of ``model.quantize("int8")`` layers) is ONNX's ``MatMulInteger``."""
    from onnxscript import opset18 as op

    def int_mm(a, b):
        return op.MatMulInteger(a, b)

    return {torch.ops.aten._int_mm.default: int_mm}


def _name_the_batch_axis(filepath):
    """Call the shared batch axis "batch" in the ONNX file (the exporter names it like ``s21``)."""
    import onnx

    proto = onnx.load(os.fspath(filepath), load_external_data=False)
    graph = proto.graph
    symbol = graph.input[0].type.tensor_type.shape.dim[0].dim_param if graph.input else ""
    if not symbol:
        return
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param == symbol:
                dim.dim_param = "batch"
    onnx.save(proto, os.fspath(filepath))


def _input_names(model, n):
    names = [getattr(t, "name", None) for t in (getattr(model, "inputs", None) or [])]
    if len(names) == n and all(names) and len(set(names)) == n:
        return names
    return [f"input_{i}" for i in range(n)]
