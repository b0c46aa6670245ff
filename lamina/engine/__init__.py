"""``lamina.engine``: Keras 2's ``keras.engine`` import paths (``from keras.engine.topology import Layer``,
``keras.engine.base_layer``, ``keras.engine.training``, ``keras.engine.input_layer``), for tutorial code."""

from lamina._keras2_paths import forwarding as _forwarding

__getattr__, __all__ = _forwarding(__name__, "lamina", ["Layer", "InputSpec", "Input", "Model", "Sequential"])
