"""EfficientNetB0 to B7 (Tan & Le, 2019): ``lamina.applications.efficientnet``.

As in Keras 3, the preprocessing is part of the model: a ``Rescaling(1/255)`` and a ``Normalization`` layer (whose
mean and variance come with the ImageNet weights; with ``weights="imagenet"`` a further ``Rescaling`` by
``1/sqrt(std)`` follows, as Keras does), so the models take pixels in [0, 255] and ``preprocess_input`` returns its
input unchanged. Stem ``stem_conv`` 3x3/2 + ``stem_bn`` + ``stem_activation`` (swish); seven stages of MBConv
blocks ``block{stage}{a,b,..}_`` (1x1 ``expand_conv``, ``dwconv``, squeeze-and-excite ``se_*``, 1x1
``project_conv``, stochastic-depth ``drop`` and residual ``add``); ``top_conv`` 1x1 + ``top_bn`` +
``top_activation``. Top: ``avg_pool`` -> ``top_dropout`` -> ``predictions``. B0..B7 scale width, depth and the
default input size.

Example:
>>> from lamina.applications.efficientnet import EfficientNetB0
>>> EfficientNetB0(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3)).output_shape
(None, 1280)
"""

import math

from lamina import config
from lamina.applications import imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"
# md5 hashes of (with top, without top), as published in Keras's applications source.
WEIGHTS_HASHES = {
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}
# (kernel_size, repeats, filters_in, filters_out, expand_ratio, strides) per stage; every block uses
# squeeze-and-excite with ratio 0.25 and an identity skip where the shapes allow.
DEFAULT_BLOCKS_ARGS = ((3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2), (3, 3, 40, 80, 6, 2),
                       (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2), (3, 1, 192, 320, 6, 1))
# (width_coefficient, depth_coefficient, default_size, dropout_rate) of B0..B7.
SCALING = {"b0": (1.0, 1.0, 224, 0.2), "b1": (1.0, 1.1, 240, 0.2), "b2": (1.1, 1.2, 260, 0.3),
           "b3": (1.2, 1.4, 300, 0.3), "b4": (1.4, 1.8, 380, 0.4), "b5": (1.6, 2.2, 456, 0.4),
           "b6": (1.8, 2.6, 528, 0.5), "b7": (2.0, 3.1, 600, 0.5)}
IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)


def _conv_init():
    from lamina import initializers

    return initializers.VarianceScaling(scale=2.0, mode="fan_out", distribution="truncated_normal")


def _bn_axis():
    return 3 if config.image_data_format() == "channels_last" else 1


def block(inputs, activation="swish", drop_rate=0.0, name="", filters_in=32, filters_out=16, kernel_size=3,
          strides=1, expand_ratio=1, se_ratio=0.25, id_skip=True):
    """One MBConv block: expand (1x1), depthwise conv, squeeze-and-excite, project (1x1), drop + residual add."""
    from lamina import layers

    bn_axis = _bn_axis()
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False, kernel_initializer=_conv_init(),
                          name=f"{name}expand_conv")(x)
        x = layers.BatchNormalization(axis=bn_axis, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    if strides == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size), name=f"{name}dwconv_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding="valid" if strides == 2 else "same",
                               use_bias=False, depthwise_initializer=_conv_init(), name=f"{name}dwconv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        filters_se = max(1, int(filters_in * se_ratio))
        se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
        se_shape = (filters, 1, 1) if bn_axis == 1 else (1, 1, filters)
        se = layers.Reshape(se_shape, name=f"{name}se_reshape")(se)
        se = layers.Conv2D(filters_se, 1, padding="same", activation=activation, kernel_initializer=_conv_init(),
                           name=f"{name}se_reduce")(se)
        se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid", kernel_initializer=_conv_init(),
                           name=f"{name}se_expand")(se)
        x = layers.Multiply(name=f"{name}se_excite")([x, se])
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False, kernel_initializer=_conv_init(),
                      name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.Add(name=f"{name}add")([x, inputs])
    return x


def build_efficientnet(weights_name, include_top, weights, input_tensor, input_shape, pooling, classes,
                       classifier_activation, name, drop_connect_rate=0.2, depth_divisor=8, activation="swish"):
    from lamina import initializers, layers
    from lamina.models import Model

    width, depth, default_size, dropout_rate = SCALING[weights_name]
    imagenet_utils.check_weights_arg(weights, include_top, classes)
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
    imagenet_utils.check_pooling(pooling)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.make_input(input_tensor, input_shape)
    bn_axis = _bn_axis()

    def round_filters(filters):
        filters *= width
        rounded = max(depth_divisor, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor)
        return int(rounded + depth_divisor if rounded < 0.9 * filters else rounded)

    def round_repeats(repeats):
        return int(math.ceil(depth * repeats))

    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=bn_axis)(x)
    if weights == "imagenet":
        # Keras's ImageNet files store the variance as std (not std**2); this extra scaling makes up for it.
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(round_filters(32), 3, strides=2, padding="valid", use_bias=False,
                      kernel_initializer=_conv_init(), name="stem_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)
    total = float(sum(round_repeats(args[1]) for args in DEFAULT_BLOCKS_ARGS))
    b = 0
    for i, (kernel_size, repeats, filters_in, filters_out, expand_ratio, strides) in enumerate(DEFAULT_BLOCKS_ARGS):
        filters_in, filters_out = round_filters(filters_in), round_filters(filters_out)
        for j in range(round_repeats(repeats)):
            if j > 0:
                strides, filters_in = 1, filters_out
            x = block(x, activation, drop_connect_rate * b / total, name=f"block{i + 1}{chr(j + 97)}_",
                      filters_in=filters_in, filters_out=filters_out, kernel_size=kernel_size, strides=strides,
                      expand_ratio=expand_ratio, se_ratio=0.25, id_skip=True)
            b += 1
    x = layers.Conv2D(round_filters(1280), 1, padding="same", use_bias=False, kernel_initializer=_conv_init(),
                      name="top_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name="top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        dense_init = initializers.VarianceScaling(scale=1.0 / 3.0, mode="fan_out", distribution="uniform")
        x = layers.Dense(classes, activation=classifier_activation, kernel_initializer=dense_init,
                         name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    file_name = f"{name}{'.h5' if include_top else '_notop.h5'}"
    return imagenet_utils.finish_model(model, weights, file_name, BASE_WEIGHTS_PATH + file_name,
                                        WEIGHTS_HASHES[weights_name][0 if include_top else 1])


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
        name: the model's name (the ImageNet weight file is named after it, as in Keras).

    Returns:
        A ``lamina.Model``.
    """


def _constructor(variant):
    def constructor(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                    classes=1000, classifier_activation="softmax", name=f"efficientnet{variant}"):
        return build_efficientnet(variant, include_top, weights, input_tensor, input_shape, pooling, classes,
                                  classifier_activation, name)

    fn_name = f"EfficientNet{variant.upper()}"
    constructor.__name__ = constructor.__qualname__ = fn_name
    constructor.__doc__ = _DOC.format(name=fn_name, size=SCALING[variant][2])
    return constructor


EfficientNetB0 = _constructor("b0")
EfficientNetB1 = _constructor("b1")
EfficientNetB2 = _constructor("b2")
EfficientNetB3 = _constructor("b3")
EfficientNetB4 = _constructor("b4")
EfficientNetB5 = _constructor("b5")
EfficientNetB6 = _constructor("b6")
EfficientNetB7 = _constructor("b7")


def preprocess_input(x, data_format=None):
    """Return ``x`` unchanged: EfficientNet models scale their input themselves (kept for API compatibility)."""
    return x


def decode_predictions(preds, top=5):
    """See ``lamina.applications.imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
