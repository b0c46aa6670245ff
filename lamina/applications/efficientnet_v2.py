"""EfficientNetV2 B0/B1/B2/B3/S/M/L (Tan & Le, 2021): ``lamina.applications.efficientnet_v2``.

As in Keras 3, the preprocessing is part of the model (``include_preprocessing=True``): the B variants start with
``Rescaling(1/255)`` and a fixed ImageNet ``Normalization``, the S/M/L variants with ``Rescaling(1/128, offset=-1)``,
so the models take pixels in [0, 255] and ``preprocess_input`` returns its input unchanged. Stem ``stem_conv``
3x3/2 + ``stem_bn`` + ``stem_activation`` (swish); stages of Fused-MBConv blocks (a full ``expand_conv`` instead
of expand + depthwise) then MBConv blocks ``block{stage}{a,b,..}_`` (``expand_conv``, ``dwconv2``,
squeeze-and-excite ``se_*``, ``project_conv``, ``drop`` and residual ``add``); ``top_conv`` 1x1 + ``top_bn`` +
``top_activation``. Top: ``avg_pool`` -> ``top_dropout`` -> ``predictions``. Batch norms use momentum 0.9.

Example:
>>> from lamina.applications.efficientnet_v2 import EfficientNetV2B0
>>> model = EfficientNetV2B0(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3))
>>> model.output_shape, model.count_params()
((None, 1280), 5919312)
"""

import math

from lamina import config
from lamina.applications import imagenet_utils
from lamina.applications.efficientnet import _bn_axis, _conv_init

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
# md5 hashes of (with top, without top), as published in Keras's applications source.
WEIGHTS_HASHES = {
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}
# Per stage: (repeats, filters_in, filters_out, expand_ratio, se_ratio, strides, fused); every kernel is 3x3.
_B_BLOCKS = ((1, 32, 16, 1, 0, 1, True), (2, 16, 32, 4, 0, 2, True), (2, 32, 48, 4, 0, 2, True),
             (3, 48, 96, 4, 0.25, 2, False), (5, 96, 112, 6, 0.25, 1, False), (8, 112, 192, 6, 0.25, 2, False))
BLOCKS_ARGS = {
    "b": _B_BLOCKS,
    "s": ((2, 24, 24, 1, 0, 1, True), (4, 24, 48, 4, 0, 2, True), (4, 48, 64, 4, 0, 2, True),
          (6, 64, 128, 4, 0.25, 2, False), (9, 128, 160, 6, 0.25, 1, False), (15, 160, 256, 6, 0.25, 2, False)),
    "m": ((3, 24, 24, 1, 0, 1, True), (5, 24, 48, 4, 0, 2, True), (5, 48, 80, 4, 0, 2, True),
          (7, 80, 160, 4, 0.25, 2, False), (14, 160, 176, 6, 0.25, 1, False), (18, 176, 304, 6, 0.25, 2, False),
          (5, 304, 512, 6, 0.25, 1, False)),
    "l": ((4, 32, 32, 1, 0, 1, True), (7, 32, 64, 4, 0, 2, True), (7, 64, 96, 4, 0, 2, True),
          (10, 96, 192, 4, 0.25, 2, False), (19, 192, 224, 6, 0.25, 1, False), (25, 224, 384, 6, 0.25, 2, False),
          (7, 384, 640, 6, 0.25, 1, False)),
}
# variant: (width_coefficient, depth_coefficient, default_size); every variant has top dropout 0.2.
SCALING = {"b0": (1.0, 1.0, 224), "b1": (1.0, 1.1, 240), "b2": (1.1, 1.2, 260), "b3": (1.2, 1.4, 300),
           "s": (1.0, 1.0, 384), "m": (1.0, 1.0, 480), "l": (1.0, 1.0, 480)}
KERNEL_SIZE = 3
BN_MOMENTUM = 0.9
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)


def round_filters(filters, width_coefficient, depth_divisor=8, min_depth=8):
    """Scale ``filters`` by the width coefficient, rounded to a multiple of ``depth_divisor`` (EfficientNetV2's
    rule: no upward correction, unlike EfficientNet)."""
    filters *= width_coefficient
    return int(max(min_depth or depth_divisor, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def _squeeze_excite(x, filters_in, filters, se_ratio, activation, name):
    from lamina import layers

    filters_se = max(1, int(filters_in * se_ratio))
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((filters, 1, 1) if _bn_axis() == 1 else (1, 1, filters), name=f"{name}se_reshape")(se)
    se = layers.Conv2D(filters_se, 1, padding="same", activation=activation, kernel_initializer=_conv_init(),
                       name=f"{name}se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid", kernel_initializer=_conv_init(),
                       name=f"{name}se_expand")(se)
    return layers.Multiply(name=f"{name}se_excite")([x, se])


def _conv_bn(x, filters, kernel_size, strides, activation, name, conv="conv", bn="bn"):
    """``{name}{conv}`` (no bias) + ``{name}{bn}`` (+ ``{name}{...}activation`` when ``activation`` is given)."""
    from lamina import layers

    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False,
                      kernel_initializer=_conv_init(), name=f"{name}{conv}")(x)
    x = layers.BatchNormalization(axis=_bn_axis(), momentum=BN_MOMENTUM, name=f"{name}{bn}")(x)
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}{bn.replace('bn', 'activation')}")(x)
    return x


def _residual(x, inputs, strides, filters_in, filters_out, drop_rate, name):
    from lamina import layers

    if strides == 1 and filters_in == filters_out:
        if drop_rate:
            # As in Keras, the block's stochastic-depth rate is used as a Dropout rate on whole samples.
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.Add(name=f"{name}add")([x, inputs])
    return x


def mbconv_block(inputs, filters_in, filters_out, expand_ratio, se_ratio, strides, activation, drop_rate, name):
    """MBConv: 1x1 expand, 3x3 depthwise ``dwconv2``, squeeze-and-excite, 1x1 project, drop + residual add."""
    from lamina import layers

    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = _conv_bn(x, filters, 1, 1, activation, name, "expand_conv", "expand_bn")
    x = layers.DepthwiseConv2D(KERNEL_SIZE, strides=strides, padding="same", use_bias=False,
                               depthwise_initializer=_conv_init(), name=f"{name}dwconv2")(x)
    x = layers.BatchNormalization(axis=_bn_axis(), momentum=BN_MOMENTUM, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        x = _squeeze_excite(x, filters_in, filters, se_ratio, activation, name)
    x = _conv_bn(x, filters_out, 1, 1, None, name, "project_conv", "project_bn")
    return _residual(x, inputs, strides, filters_in, filters_out, drop_rate, name)


def fused_mbconv_block(inputs, filters_in, filters_out, expand_ratio, se_ratio, strides, activation, drop_rate,
                       name):
    """Fused-MBConv: a full 3x3 ``expand_conv`` (or, with expand ratio 1, a 3x3 ``project_conv`` + activation),
    optional squeeze-and-excite, 1x1 project, drop + residual add."""
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = _conv_bn(x, filters, KERNEL_SIZE, strides, activation, name, "expand_conv", "expand_bn")
    if 0 < se_ratio <= 1:
        x = _squeeze_excite(x, filters_in, filters, se_ratio, activation, name)
    if expand_ratio != 1:
        x = _conv_bn(x, filters_out, 1, 1, None, name, "project_conv", "project_bn")
    else:
        x = _conv_bn(x, filters_out, KERNEL_SIZE, strides, activation, name, "project_conv", "project_bn")
    return _residual(x, inputs, strides, filters_in, filters_out, drop_rate, name)


def _preprocessing(x, variant, channels):
    from lamina import layers

    if variant.startswith("b") and channels == 3:
        x = layers.Rescaling(1.0 / 255.0)(x)
        return layers.Normalization(mean=list(IMAGENET_MEAN_RGB), variance=[s ** 2 for s in IMAGENET_STDDEV_RGB],
                                    axis=_bn_axis())(x)
    return layers.Rescaling(1.0 / 128.0, offset=-1)(x)


def build_efficientnet_v2(variant, include_top, weights, input_tensor, input_shape, pooling, classes,
                          classifier_activation, include_preprocessing, name, dropout_rate=0.2,
                          drop_connect_rate=0.2, activation="swish", blocks_args=None, width_coefficient=None,
                          depth_coefficient=None):
    """Build an EfficientNetV2 ``variant`` (a key of ``SCALING``); the constructors' arguments, as Keras's.

    ``blocks_args`` (stages as in ``BLOCKS_ARGS``), ``width_coefficient`` and ``depth_coefficient`` override the
    variant's, as the arguments of Keras's ``EfficientNetV2`` function do (the variant still picks the default
    input size, the preprocessing and the weight file).
    """
    from lamina import initializers, layers
    from lamina.models import Model

    width, depth, default_size = SCALING[variant]
    width = width if width_coefficient is None else width_coefficient
    depth = depth if depth_coefficient is None else depth_coefficient
    imagenet_utils.check_weights_arg(weights, include_top, classes)
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
    imagenet_utils.check_pooling(pooling)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.make_input(input_tensor, input_shape)
    x = img_input
    if include_preprocessing:
        x = _preprocessing(x, variant, input_shape[_bn_axis() - 1])
    stages = BLOCKS_ARGS["b" if variant.startswith("b") else variant] if blocks_args is None else blocks_args
    if not stages or any(len(stage) != 7 or stage[0] <= 0 for stage in stages):
        raise ValueError("EfficientNetV2: blocks_args must be a non-empty list of (repeats > 0, filters_in, "
                         "filters_out, expand_ratio, se_ratio, strides, fused) tuples, but received "
                         f"{blocks_args!r}.")
    x = _conv_bn(x, round_filters(stages[0][1], width), KERNEL_SIZE, 2, activation, "stem_", "conv", "bn")
    repeats = [int(math.ceil(depth * stage[0])) for stage in stages]
    total, b = float(sum(stage[0] for stage in stages)), 0  # Keras divides by the unscaled number of blocks
    for i, (_, filters_in, filters_out, expand_ratio, se_ratio, strides, fused) in enumerate(stages):
        filters_in, filters_out = round_filters(filters_in, width), round_filters(filters_out, width)
        block = fused_mbconv_block if fused else mbconv_block
        for j in range(repeats[i]):
            if j > 0:
                strides, filters_in = 1, filters_out
            x = block(x, filters_in, filters_out, expand_ratio, se_ratio, strides, activation,
                      drop_connect_rate * b / total, name=f"block{i + 1}{chr(j + 97)}_")
            b += 1
    x = _conv_bn(x, round_filters(1280, width), 1, 1, activation, "top_", "conv", "bn")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        dense_init = initializers.VarianceScaling(scale=1.0 / 3.0, mode="fan_out", distribution="uniform")
        x = layers.Dense(classes, activation=classifier_activation, kernel_initializer=dense_init,
                         bias_initializer=initializers.Constant(0.0), name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    file_name = f"{name}{'.h5' if include_top else '_notop.h5'}"
    return imagenet_utils.finish_model(model, weights, file_name, BASE_WEIGHTS_PATH + file_name,
                                        WEIGHTS_HASHES[variant][0 if include_top else 1])


_DOC = """Instantiate the {name} architecture (input pixels in [0, 255]: the scaling is inside the model).

    Args:
        include_top: whether to include the global-average-pooling + dropout + "predictions" top.
        weights: None (random initialization), "imagenet" (Keras's published ImageNet weights, downloaded
            into the cache), or the path of a weights file to load.
        input_tensor: optional output of ``lamina.Input()`` to use as the model's input.
        input_shape: optional shape tuple, only when ``include_top=False`` (otherwise ({size}, {size}, 3));
            height and width at least 32.
        pooling: for ``include_top=False``: None (4D output), "avg" or "max" (global pooling, 2D output).
        classes: number of classes, only without "imagenet" weights or with ``include_top=False``.
        classifier_activation: activation of the "predictions" layer (None or "softmax" with pretrained weights).
        include_preprocessing: whether the model starts with its input scaling ({pre}).
        name: the model's name (the ImageNet weight file is named after it, as in Keras).

    Returns:
        A ``lamina.Model``.
    """


def _constructor(variant):
    def constructor(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                    classes=1000, classifier_activation="softmax", include_preprocessing=True,
                    name=f"efficientnetv2-{variant}"):
        return build_efficientnet_v2(variant, include_top, weights, input_tensor, input_shape, pooling, classes,
                                     classifier_activation, include_preprocessing, name)

    fn_name = f"EfficientNetV2{variant.upper()}"
    pre = "Rescaling(1/255) + ImageNet Normalization" if variant.startswith("b") else "Rescaling(1/128, offset=-1)"
    constructor.__name__ = constructor.__qualname__ = fn_name
    constructor.__doc__ = _DOC.format(name=fn_name, size=SCALING[variant][2], pre=pre)
    return constructor


EfficientNetV2B0 = _constructor("b0")
EfficientNetV2B1 = _constructor("b1")
EfficientNetV2B2 = _constructor("b2")
EfficientNetV2B3 = _constructor("b3")
EfficientNetV2S = _constructor("s")
EfficientNetV2M = _constructor("m")
EfficientNetV2L = _constructor("l")


def preprocess_input(x, data_format=None):
    """Return ``x`` unchanged: EfficientNetV2 models scale their input themselves (kept for API compatibility)."""
    return x


def decode_predictions(preds, top=5):
    """See ``lamina.applications.imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
