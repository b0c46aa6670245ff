"""VGG19: ``lamina.applications.vgg19.VGG19``, ``preprocess_input`` ("caffe" mode) and ``decode_predictions``.

Example:
>>> from lamina.applications.vgg19 import VGG19
>>> VGG19(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape
(None, 1, 1, 512)
"""

from lamina.applications._vgg import build_vgg, vgg_doc
from lamina.applications.vgg16 import decode_predictions, preprocess_input  # noqa: F401  (the same as VGG16)

# Keras's published weight files (md5 hashes as published in Keras's applications source).
WEIGHTS_HASHES = ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6")


@vgg_doc
def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg19"):
    return build_vgg((2, 2, 4, 4, 4), "vgg19", WEIGHTS_HASHES, include_top, weights, input_tensor,
                     input_shape, pooling, classes, classifier_activation, name)
