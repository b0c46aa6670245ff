"""``lamina.engine.input_layer``: Keras 2's ``keras.engine.input_layer`` import path, for tutorial code."""

from lamina._keras2_paths import forwarding as _forwarding

__getattr__, __all__ = _forwarding(__name__, "lamina", ["Layer", "InputSpec", "Input", "Model",
                                                      "Sequential"])
