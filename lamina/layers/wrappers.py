"""``lamina.layers.wrappers``: Keras 2's ``keras.layers.wrappers`` import path, for tutorial code
(see lamina/_keras2_paths.py)."""

from lamina._keras2_paths import forwarding as _forwarding

__getattr__, __all__ = _forwarding(__name__, "lamina.layers", [
    "Wrapper", "TimeDistributed", "Bidirectional"
])
