"""ResNet50, ResNet101 and ResNet152 (``lamina.applications.resnet``) with ``preprocess_input`` ("caffe").

Example:
>>> from lamina.applications.resnet import ResNet50
>>> ResNet50(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3)).output_shape
(None, 2048)
"""

from lamina.applications import imagenet_utils
from lamina.applications._resnet import build_resnet, resnet_doc


@resnet_doc
def ResNet50(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet50"):
    return build_resnet(50, False, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


@resnet_doc
def ResNet101(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet101"):
    return build_resnet(101, False, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


@resnet_doc
def ResNet152(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet152"):
    return build_resnet(152, False, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


def preprocess_input(x, data_format=None):
    """Caffe-style preprocessing: RGB -> BGR and ImageNet mean subtraction (pixels in [0, 255] in)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """See ``lamina.applications.imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
