"""ResNet50V2, ResNet101V2 and ResNet152V2 (``lamina.applications.resnet_v2``), ``preprocess_input`` ("tf").

Example:
>>> from lamina.applications.resnet_v2 import ResNet50V2
>>> ResNet50V2(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3)).output_shape
(None, 2048)
"""

from lamina.applications import imagenet_utils
from lamina.applications._resnet import build_resnet, resnet_doc


@resnet_doc
def ResNet50V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
               classifier_activation="softmax", name="resnet50v2"):
    return build_resnet(50, True, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


@resnet_doc
def ResNet101V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
               classifier_activation="softmax", name="resnet101v2"):
    return build_resnet(101, True, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


@resnet_doc
def ResNet152V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
               classifier_activation="softmax", name="resnet152v2"):
    return build_resnet(152, True, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


def preprocess_input(x, data_format=None):
    """TF-style preprocessing: pixels in [0, 255] scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """See ``lamina.applications.imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
