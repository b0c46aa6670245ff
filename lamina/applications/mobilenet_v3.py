"""MobileNetV3Small and MobileNetV3Large (Howard et al., 2019): ``lamina.applications.mobilenet_v3``.

As in Keras 3, the preprocessing is part of the model: with ``include_preprocessing=True`` (the default) a
``Rescaling(1/127.5, offset=-1)`` layer maps pixels in [0, 255] to [-1, 1], so ``preprocess_input`` returns its
input unchanged. Stem ``conv`` 3x3/2 (16) + ``conv_bn`` + activation; inverted-residual blocks ``expanded_conv_*``
(1x1 expand, depthwise 3x3/5x5, optional squeeze-and-excite with hard sigmoid, 1x1 projection, residual ``add``);
``conv_1`` 1x1 (6x channels) + ``conv_1_bn`` + activation. Top: global pool (kept 4D) -> ``conv_2`` (1024 for
Small, 1280 for Large) -> activation -> dropout -> ``logits`` 1x1 conv -> flatten -> ``predictions``. The
activation is hard-swish, or ReLU (with 3x3 kernels and no squeeze-and-excite) when ``minimalistic=True``.

Example:
>>> from lamina.applications.mobilenet_v3 import MobileNetV3Large
>>> model = MobileNetV3Large(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3))
>>> model.output_shape, model.count_params()
((None, 960), 2996352)
"""

import warnings

from lamina import config
from lamina.applications import imagenet_utils
from lamina.applications.mobilenet_v2 import make_divisible

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
# md5 hashes of (with top, without top), as published in Keras's applications source.
WEIGHTS_HASHES = {
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb", "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7", "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c", "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7", "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862", "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37", "cde8136e733e811080d9fcd8a252f7e4"),
}
# Block tables: (expansion, filters, kernel ("k" = the model's kernel, 5 or 3), stride, squeeze-excite, activation
# ("relu" or "act" = the model's activation)).
_SMALL = ((1, 16, 3, 2, True, "relu"), (72 / 16, 24, 3, 2, False, "relu"), (88 / 24, 24, 3, 1, False, "relu"),
          (4, 40, "k", 2, True, "act"), (6, 40, "k", 1, True, "act"), (6, 40, "k", 1, True, "act"),
          (3, 48, "k", 1, True, "act"), (3, 48, "k", 1, True, "act"), (6, 96, "k", 2, True, "act"),
          (6, 96, "k", 1, True, "act"), (6, 96, "k", 1, True, "act"))
_LARGE = ((1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"), (3, 24, 3, 1, False, "relu"),
          (3, 40, "k", 2, True, "relu"), (3, 40, "k", 1, True, "relu"), (3, 40, "k", 1, True, "relu"),
          (6, 80, 3, 2, False, "act"), (2.5, 80, 3, 1, False, "act"), (2.3, 80, 3, 1, False, "act"),
          (2.3, 80, 3, 1, False, "act"), (6, 112, 3, 1, True, "act"), (6, 112, 3, 1, True, "act"),
          (6, 160, "k", 2, True, "act"), (6, 160, "k", 1, True, "act"), (6, 160, "k", 1, True, "act"))


def _depth(value, divisor=8):
    return make_divisible(value, divisor)


def _relu(x):
    from lamina import layers

    return layers.ReLU()(x)


def _hard_sigmoid(x):
    from lamina import layers

    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def _hard_swish(x):
    from lamina import layers

    return layers.Activation("hard_swish")(x)


def _bn(name):
    from lamina import layers

    axis = -1 if config.image_data_format() == "channels_last" else 1
    return layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=name)


def _se_block(inputs, filters, se_ratio, prefix):
    """Squeeze-and-excite: global pool -> 1x1 conv (reduce) -> ReLU -> 1x1 conv -> hard sigmoid -> scale."""
    from lamina import layers

    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), 1, padding="same", name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", name=f"{prefix}squeeze_excite_conv_1")(x)
    x = _hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(x, expansion, filters, kernel_size, stride, se_ratio, activation, block_id):
    from lamina import layers

    channel_axis = -1 if config.image_data_format() == "channels_last" else 1
    shortcut = x
    infilters = x.shape[channel_axis]
    prefix = "expanded_conv_"
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(_depth(infilters * expansion), 1, padding="same", use_bias=False,
                          name=f"{prefix}expand")(x)
        x = _bn(f"{prefix}expand_bn")(x)
        x = activation(x)
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                 name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride, padding="same" if stride == 1 else "valid",
                               use_bias=False, name=f"{prefix}depthwise")(x)
    x = _bn(f"{prefix}depthwise_bn")(x)
    x = activation(x)
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = _bn(f"{prefix}project_bn")(x)
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def _input_shape(input_shape, input_tensor):
    data_format = config.image_data_format()
    if input_shape is not None and input_tensor is not None:
        given = tuple(input_tensor.shape[1:])
        if len(given) != len(input_shape) or any(a is not None and b is not None and a != b
                                                 for a, b in zip(given, input_shape)):
            raise ValueError(f"MobileNetV3: input_shape {tuple(input_shape)} and input_tensor of shape "
                             f"{tuple(input_tensor.shape)} do not match.")
    if input_shape is None and input_tensor is not None:
        input_shape = tuple(input_tensor.shape[1:])
    if input_shape is None:
        input_shape = (None, None, 3) if data_format == "channels_last" else (3, None, None)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape}")
    rows, cols = input_shape[:2] if data_format == "channels_last" else input_shape[1:]
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(f"Input size must be at least 32x32; Received `input_shape={input_shape}`")
    return input_shape, rows, cols


def build_mobilenet_v3(blocks, last_point_ch, input_shape, alpha, model_type, minimalistic, include_top, weights,
                       input_tensor, classes, pooling, dropout_rate, classifier_activation, include_preprocessing,
                       name):
    from lamina import layers
    from lamina.models import Model

    imagenet_utils.check_weights_arg(weights, include_top, classes)
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
    imagenet_utils.check_pooling(pooling)
    input_shape, rows, cols = _input_shape(input_shape, input_tensor)
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError("If imagenet weights are being loaded, alpha can be one of `0.75`, `1.0` for non "
                             f"minimalistic or `1.0` for minimalistic only. Received alpha={alpha}")
        if rows != cols or rows != 224:
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not 224. Weights for input "
                          "shape (224, 224) will be loaded as the default.", stacklevel=3)
    img_input = imagenet_utils.make_input(input_tensor, input_shape)
    channel_axis = -1 if config.image_data_format() == "channels_last" else 1
    kernel, activation, se_ratio = (3, _relu, None) if minimalistic else (5, _hard_swish, 0.25)

    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, 3, strides=(2, 2), padding="same", use_bias=False, name="conv")(x)
    x = _bn("conv_bn")(x)
    x = activation(x)
    for block_id, (expansion, filters, k, stride, se, act) in enumerate(blocks):
        x = _inverted_res_block(x, expansion, _depth(filters * alpha), kernel if k == "k" else k, stride,
                                se_ratio if se else None, _relu if act == "relu" else activation, block_id)
    last_conv_ch = _depth(x.shape[channel_axis] * 6)
    if alpha > 1.0:
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, 1, padding="same", use_bias=False, name="conv_1")(x)
    x = _bn("conv_1_bn")(x)
    x = activation(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, 1, padding="same", use_bias=True, name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, 1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    file_name = file_hash = None
    if weights == "imagenet":
        model_name = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
        if include_top:
            file_name, file_hash = f"weights_mobilenet_v3_{model_name}.h5", WEIGHTS_HASHES[model_name][0]
        else:
            file_name, file_hash = f"weights_mobilenet_v3_{model_name}_no_top_v2.h5", WEIGHTS_HASHES[model_name][1]
    return imagenet_utils.finish_model(model, weights, file_name,
                                        BASE_WEIGHT_PATH + file_name if file_name else None, file_hash)


_DOC = """Instantiate the {name} architecture (the [-1, 1] input scaling is inside the model, as in Keras 3).

    Args:
        input_shape: optional shape tuple (default: any size, ``(None, None, 3)``); height and width at least 32.
        alpha: width multiplier (ImageNet weights: 0.75 or 1.0; 1.0 only when ``minimalistic``).
        minimalistic: use 3x3 kernels and ReLU, without squeeze-and-excite or hard-swish.
        include_top: whether to include the classifier top.
        weights: None (random initialization), "imagenet" (Keras's published ImageNet weights, downloaded
            into the cache), or the path of a weights file to load.
        input_tensor: optional output of ``lamina.Input()`` to use as the model's input.
        classes: number of classes, only without "imagenet" weights or with ``include_top=False``.
        pooling: for ``include_top=False``: None (4D output), "avg" or "max" (global pooling, 2D output).
        dropout_rate: dropout rate before the ``logits`` layer.
        classifier_activation: activation of the "predictions" layer (None or "softmax" with pretrained weights).
        include_preprocessing: whether the model starts with the ``Rescaling`` layer mapping [0, 255] to [-1, 1].
        name: the model's name.

    Returns:
        A ``lamina.Model``.
    """


def _doc(fn):
    fn.__doc__ = _DOC.format(name=fn.__name__)
    return fn


@_doc
def MobileNetV3Small(input_shape=None, alpha=1.0, minimalistic=False, include_top=True, weights="imagenet",
                     input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2,
                     classifier_activation="softmax", include_preprocessing=True, name="MobileNetV3Small"):
    return build_mobilenet_v3(_SMALL, 1024, input_shape, alpha, "small", minimalistic, include_top, weights,
                              input_tensor, classes, pooling, dropout_rate, classifier_activation,
                              include_preprocessing, name)


@_doc
def MobileNetV3Large(input_shape=None, alpha=1.0, minimalistic=False, include_top=True, weights="imagenet",
                     input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2,
                     classifier_activation="softmax", include_preprocessing=True, name="MobileNetV3Large"):
    return build_mobilenet_v3(_LARGE, 1280, input_shape, alpha, "large", minimalistic, include_top, weights,
                              input_tensor, classes, pooling, dropout_rate, classifier_activation,
                              include_preprocessing, name)


def preprocess_input(x, data_format=None):
    """Return ``x`` unchanged: MobileNetV3 models scale their input themselves (kept for API compatibility)."""
    return x


def decode_predictions(preds, top=5):
    """See ``lamina.applications.imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
