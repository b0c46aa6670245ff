"""``lamina.applications.resnet50``: ResNet50 with its ``preprocess_input`` and ``decode_predictions``."""

from lamina.applications.resnet import ResNet50, decode_predictions, preprocess_input  # noqa: F401
