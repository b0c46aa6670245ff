"""Core layers: Input, Dense, Activation, Flatten, Reshape, Dropout, Identity, Lambda, Masking."""

# Keras 2's ``from keras.layers.core import ...`` names (see lamina/_keras2_paths.py).
from lamina._keras2_paths import forwarding as _forwarding  # noqa: E402

__getattr__, _KERAS2_NAMES = _forwarding(__name__, "lamina.layers", [
    "Activation", "ActivityRegularization", "Dense", "Dropout", "Flatten", "Lambda", "Masking", "Permute",
    "RepeatVector", "Reshape", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"
])
