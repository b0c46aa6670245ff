"""Post-training quantization (``model.quantize("int8")``), as ``keras.quantizers``.

* ``abs_max_quantize(inputs, axis)``: int8 values and their abs-max scale.
* ``quantize_model(model, mode)``: what ``Model.quantize`` calls.
* The layers with a ``quantize(mode)`` method: Dense, EinsumDense, Embedding, Conv1D/2D/3D.
"""

from lamina.quantizers.quantize_model import quantize_model, quantizable_layers  # noqa: F401
from lamina.quantizers.quantizers import (  # noqa: F401
    QUANTIZATION_MODES,
    abs_max_quantize,
    dequantize,
    int8_dense,
    int8_einsum,
)
