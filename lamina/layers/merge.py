"""``lamina.layers.merge``: Keras 2's ``keras.layers.merge`` import path, for tutorial code
(see lamina/_keras2_paths.py)."""

from lamina._keras2_paths import forwarding as _forwarding

__getattr__, __all__ = _forwarding(__name__, "lamina.layers", [
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "add", "subtract",
    "multiply", "average", "maximum", "minimum", "concatenate", "dot"
])
