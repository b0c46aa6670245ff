"""VGG16: ``lamina.applications.vgg16.VGG16``, ``preprocess_input`` ("caffe" mode) and ``decode_predictions``.

Example:
>>> from lamina.applications.vgg16 import VGG16
>>> VGG16(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape
(None, 1, 1, 512)
"""

from lamina.applications import imagenet_utils
from lamina.applications._vgg import build_vgg, vgg_doc

# Keras's published weight files (md5 hashes as published in Keras's applications source).
WEIGHTS_HASHES = ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc")


@vgg_doc
def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg16"):
    return build_vgg((2, 2, 3, 3, 3), "vgg16", WEIGHTS_HASHES, include_top, weights, input_tensor,
                     input_shape, pooling, classes, classifier_activation, name)


def preprocess_input(x, data_format=None):
    """Caffe-style preprocessing: RGB -> BGR and ImageNet mean subtraction (pixels in [0, 255] in)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """See ``lamina.applications.imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
