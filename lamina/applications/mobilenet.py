"""MobileNet (Howard et al., 2017): ``lamina.applications.mobilenet.MobileNet`` with ``preprocess_input`` ("tf").

Depthwise-separable convolutions: a 3x3/2 ``conv1`` stem, then 13 blocks ``conv_dw_<i>`` (3x3 depthwise) +
``conv_pw_<i>`` (1x1 pointwise), each followed by BatchNormalization and ReLU6; stride-2 blocks pad first
(``conv_pad_<i>``). The top is a 1x1 convolution ``conv_preds`` on globally pooled features.

Example:
>>> from lamina.applications.mobilenet import MobileNet
>>> MobileNet(weights=None, alpha=0.25, include_top=False, pooling="avg", input_shape=(32, 32, 3)).output_shape
(None, 256)
"""

import warnings

from lamina import config
from lamina.applications import imagenet_utils

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
# Keras publishes no checksums for the MobileNet files (its source downloads them without file_hash),
# so this table of file name -> hash is empty and the files are not checked.
WEIGHTS_HASHES = {}
_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}
# (pointwise filters, stride) for blocks 1..13.
_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
           (512, 1), (1024, 2), (1024, 1))


def _channel_axis():
    return -1 if config.image_data_format() == "channels_last" else 1


def _separable_block(x, pointwise_filters, alpha, depth_multiplier, stride, block_id):
    from lamina import layers

    if stride != 1:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if stride == 1 else "valid",
                               depth_multiplier=depth_multiplier, strides=(stride, stride), use_bias=False,
                               name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=_channel_axis(), name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(pointwise_filters * alpha), (1, 1), padding="same", use_bias=False, strides=(1, 1),
                      name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=_channel_axis(), name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def _input_size(input_shape, input_tensor):
    """Keras's default_size rule for MobileNets: the given square size when ImageNet has it, else 224."""
    if input_shape is None and input_tensor is not None:
        input_shape = tuple(input_tensor.shape[1:])
    return input_shape


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3, include_top=True, weights="imagenet",
              input_tensor=None, pooling=None, classes=1000, classifier_activation="softmax", name=None):
    """Instantiate the MobileNet architecture.

    Args:
        input_shape: optional shape tuple (default (224, 224, 3)); height and width at least 32.
        alpha: width multiplier (ImageNet weights: 0.25, 0.5, 0.75 or 1.0).
        depth_multiplier: depthwise convolution multiplier (ImageNet weights need 1).
        dropout: dropout rate before the classifier.
        include_top: whether to include the classifier top.
        weights: None, "imagenet" (Keras's published weights, input size 128, 160, 192 or 224) or a file path.
        input_tensor: optional output of ``lamina.Input()`` to use as the model's input.
        pooling: for ``include_top=False``: None, "avg" or "max".
        classes: number of classes, only without "imagenet" weights or with ``include_top=False``.
        classifier_activation: activation of the "predictions" layer (None or "softmax" with pretrained weights).
        name: the model's name (default ``mobilenet_<alpha>_<rows>``).

    Returns:
        A ``lamina.Model``.
    """
    from lamina import layers
    from lamina.models import Model

    imagenet_utils.check_weights_arg(weights, include_top, classes)
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
    imagenet_utils.check_pooling(pooling)
    data_format = config.image_data_format()
    input_shape = _input_size(input_shape, input_tensor)
    default_size = 224
    if input_shape is not None and len(input_shape) == 3:
        rows, cols = input_shape[:2] if data_format == "channels_last" else input_shape[1:]
        if rows == cols and rows in (128, 160, 192, 224):
            default_size = rows
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                                    data_format=data_format, require_flatten=include_top,
                                                    weights=weights)
    rows, cols = input_shape[:2] if data_format == "channels_last" else input_shape[1:]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError("If imagenet weights are being loaded, depth multiplier must be 1. Received "
                             f"depth_multiplier={depth_multiplier}")
        if alpha not in _ALPHA_TEXT:
            raise ValueError("If imagenet weights are being loaded, alpha can be one of `0.25`, `0.50`, `0.75` "
                             f"or `1.0` only. Received alpha={alpha}")
        if rows != cols or rows not in (128, 160, 192, 224):
            rows = 224
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in [128, 160, 192, 224]. "
                          "Weights for input shape (224, 224) will be loaded as the default.", stacklevel=2)
    img_input = imagenet_utils.make_input(input_tensor, input_shape)

    x = layers.Conv2D(int(32 * alpha), (3, 3), padding="same", use_bias=False, strides=(2, 2),
                      name="conv1")(img_input)
    x = layers.BatchNormalization(axis=_channel_axis(), name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, stride) in enumerate(_BLOCKS, start=1):
        x = _separable_block(x, filters, alpha, depth_multiplier, stride, block_id)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pooled_or_flat(x, pooling)
    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    file_name = None
    if weights == "imagenet":
        top = "" if include_top else "_no_top"
        file_name = f"mobilenet_{_ALPHA_TEXT[alpha]}_{rows}_tf{top}.h5"
    return imagenet_utils.finish_model(model, weights, file_name,
                                        BASE_WEIGHT_PATH + file_name if file_name else None,
                                        WEIGHTS_HASHES.get(file_name))


def preprocess_input(x, data_format=None):
    """TF-style preprocessing: pixels in [0, 255] scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """See ``lamina.applications.imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
