"""Export a lamina model's inference function with JAX: serialized StableHLO from ``jax.export``.

The function exported is ``model(inputs, training=False)`` with the weights **closed over
as constants** (they are embedded in the serialized program), so the loaded program takes
only the model inputs: ``jax.export.deserialize(data).call(x)``. The batch axis is the
symbolic dimension ``b``, shared by all inputs; other unknown axes get their own symbols.

The PyTorch twin of this module (``lamina/backend/torch/export.py``) has the same public names.
"""


import jax
import jax.numpy as jnp

from lamina.backend.common.scopes import StatelessScope
from lamina.utils import io_utils

_FORMATS = ("jax",)


def native_formats():
    """The export formats this engine writes itself: ``("jax",)``."""
    return _FORMATS


def _symbolic_specs(input_specs):
    names = ["b"]
    for j, (shape, _) in enumerate(input_specs):
        names += [f"d{j}_{i}" for i, d in enumerate(shape[1:], start=1) if d is None]
    symbols = dict(zip(names, jax.export.symbolic_shape(", ".join(names))))
    specs = []
    for j, (shape, dtype) in enumerate(input_specs):
        dims = [symbols["b"]] + [symbols[f"d{j}_{i}"] if d is None else int(d)
                                 for i, d in enumerate(shape[1:], start=1)]
        specs.append(jax.ShapeDtypeStruct(tuple(dims), jnp.dtype(dtype)))
    return specs


def export_model(model, filepath, format, input_specs, single_input, verbose=True, **kwargs):
    """Write ``model``'s inference function to ``filepath`` as serialized ``jax.export`` bytes.

    Args:
        model: a built lamina model.
        filepath: the file to write.
        format: ``"jax"``.
        input_specs: a list of ``(shape, dtype)`` pairs, one per model input; ``shape[0]``
            (the batch) and any other ``None`` axis are symbolic.
        single_input: call the model with one array (True) or with a list of arrays.
        verbose: print where the file was written.
        **kwargs: ``platforms`` (default: the current one), e.g. ``("cpu", "cuda")``.

    Returns:
        The path written.
    """
    if format not in _FORMATS:
        raise ValueError(f"export: the jax engine writes the formats {_FORMATS}, not {format!r}.")
    platforms = kwargs.pop("platforms", None)
    if kwargs:
        raise ValueError(f"export(format='jax'): unknown options {sorted(kwargs)}; the only option is "
                         f"'platforms'.")
    variables = list(model.variables)
    values = [jnp.asarray(v.value) for v in variables]

    def inference(*inputs):
        with StatelessScope(list(zip(variables, values))):
            return model(inputs[0] if single_input else list(inputs), training=False)

    options = {} if platforms is None else {"platforms": tuple(platforms)}
    try:
        exported = jax.export.export(jax.jit(inference), **options)(*_symbolic_specs(input_specs))
    except Exception as e:  # jax raises several kinds of tracing / shape-polymorphism errors
        raise RuntimeError(
            f"export: jax.export could not trace model '{model.name}' with a symbolic batch "
            f"dimension for inputs {[s for s, _ in input_specs]}: {type(e).__name__}: {e}"
        ) from e
    with open(filepath, "wb") as f:
        f.write(exported.serialize())
    if verbose:
        io_utils.print_msg(f"Saved the jax export of model '{model.name}' to: {filepath}")
    return filepath
