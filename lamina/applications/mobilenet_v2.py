"""MobileNetV2 (Sandler et al., 2018): ``lamina.applications.mobilenet_v2.MobileNetV2``, ``preprocess_input`` ("tf").

Stem ``Conv1`` 3x3/2 + ``bn_Conv1`` + ``Conv1_relu`` (ReLU6); 17 inverted-residual blocks (``expanded_conv_*``,
then ``block_1_*`` .. ``block_16_*``: 1x1 expand, 3x3 depthwise, 1x1 linear projection, residual ``add`` when
shapes allow); ``Conv_1`` 1x1 (1280) + ``Conv_1_bn`` + ``out_relu``; top: global average pool + ``predictions``.

Example:
>>> from lamina.applications.mobilenet_v2 import MobileNetV2
>>> MobileNetV2(weights=None, alpha=0.35, include_top=False, pooling="avg", input_shape=(32, 32, 3)).output_shape
(None, 1280)
"""

import warnings

from lamina import config
from lamina.applications import imagenet_utils

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
# Keras publishes no checksums for the MobileNetV2 files (its source downloads them without file_hash),
# so this table of file name -> hash is empty and the files are not checked.
WEIGHTS_HASHES = {}
_ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)
_SIZES = (96, 128, 160, 192, 224)
# (filters, stride, expansion) for blocks 0..16.
_BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6), (64, 1, 6),
           (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6),
           (320, 1, 6))


def make_divisible(value, divisor, min_value=None):
    """Round ``value`` to a multiple of ``divisor`` (at least ``min_value``), never losing more than 10%."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _bn(name):
    from lamina import layers

    axis = -1 if config.image_data_format() == "channels_last" else 1
    return layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=name)


def _inverted_residual(inputs, expansion, stride, alpha, filters, block_id):
    from lamina import layers

    channel_axis = -1 if config.image_data_format() == "channels_last" else 1
    in_channels = inputs.shape[channel_axis]
    out_channels = make_divisible(int(filters * alpha), 8)
    x = inputs
    if block_id:
        prefix = f"block_{block_id}_"
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False,
                          name=prefix + "expand")(x)
        x = _bn(prefix + "expand_BN")(x)
        x = layers.ReLU(6.0, name=prefix + "expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name=prefix + "pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, use_bias=False,
                               padding="same" if stride == 1 else "valid", name=prefix + "depthwise")(x)
    x = _bn(prefix + "depthwise_BN")(x)
    x = layers.ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = layers.Conv2D(out_channels, kernel_size=1, padding="same", use_bias=False, name=prefix + "project")(x)
    x = _bn(prefix + "project_BN")(x)
    if in_channels == out_channels and stride == 1:
        return layers.Add(name=prefix + "add")([inputs, x])
    return x


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet", input_tensor=None, pooling=None,
                classes=1000, classifier_activation="softmax", name=None):
    """Instantiate the MobileNetV2 architecture.

    Args:
        input_shape: optional shape tuple (default (224, 224, 3)); height and width at least 32.
        alpha: width multiplier (ImageNet weights: 0.35, 0.5, 0.75, 1.0, 1.3 or 1.4).
        include_top: whether to include the classifier top.
        weights: None, "imagenet" (Keras's published weights, input size 96, 128, 160, 192 or 224) or a path.
        input_tensor: optional output of ``lamina.Input()`` to use as the model's input.
        pooling: for ``include_top=False``: None, "avg" or "max".
        classes: number of classes, only without "imagenet" weights or with ``include_top=False``.
        classifier_activation: activation of the "predictions" layer (None or "softmax" with pretrained weights).
        name: the model's name (default ``mobilenetv2_<alpha>_<rows>``).

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
    if input_shape is None and input_tensor is not None:
        input_shape = tuple(input_tensor.shape[1:])
    default_size = 224
    if input_shape is not None and len(input_shape) == 3:
        rows, cols = input_shape[:2] if data_format == "channels_last" else input_shape[1:]
        if rows == cols and rows in _SIZES:
            default_size = rows
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                                    data_format=data_format, require_flatten=include_top,
                                                    weights=weights)
    rows, cols = input_shape[:2] if data_format == "channels_last" else input_shape[1:]
    if weights == "imagenet":
        if alpha not in _ALPHAS:
            raise ValueError("If imagenet weights are being loaded, alpha must be one of `0.35`, `0.50`, `0.75`, "
                             f"`1.0`, `1.3` or `1.4` only. Received `alpha={alpha}`")
        if rows != cols or rows not in _SIZES:
            rows = 224
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in [96, 128, 160, 192, "
                          "224]. Weights for input shape (224, 224) will be loaded as the default.", stacklevel=2)
    img_input = imagenet_utils.make_input(input_tensor, input_shape)

    x = layers.Conv2D(make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same",
                      use_bias=False, name="Conv1")(img_input)
    x = _bn("bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_residual(x, expansion, stride, alpha, filters, block_id)
    last = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = _bn("Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pooled_or_flat(x, pooling)
    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    file_name = None
    if weights == "imagenet":
        top = "" if include_top else "_no_top"
        file_name = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}{top}.h5"
    return imagenet_utils.finish_model(model, weights, file_name,
                                        BASE_WEIGHT_PATH + file_name if file_name else None,
                                        WEIGHTS_HASHES.get(file_name))


def preprocess_input(x, data_format=None):
    """TF-style preprocessing: pixels in [0, 255] scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """See ``lamina.applications.imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
