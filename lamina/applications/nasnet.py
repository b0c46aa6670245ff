"""NASNet-A (Zoph et al., 2018): ``lamina.applications.nasnet.NASNetMobile``, ``NASNetLarge`` and ``NASNet``.

A 3x3/2 stem convolution (``stem_conv1``/``stem_bn1``), two reduction cells (``stem_1``, ``stem_2``), then three
stacks of ``num_blocks`` normal cells separated by reduction cells (``reduce_<n>``). Every cell takes the two
previous cells' outputs: the older one is adjusted (``adjust_*``: a factorised stride-2 path when the spatial sizes
differ, a 1x1 projection when the channels do) and both feed separable-convolution blocks (ReLU, separable conv,
BN, twice; ``separable_conv_{1,2}[_bn]_<block>``) and pooling branches whose sums are concatenated. Layer names,
BN settings (momentum 0.9997, epsilon 1e-3) and layer order follow Keras, so Keras's weight files load.
NASNetMobile: 224x224 input, 1056 penultimate filters, 4 blocks; NASNetLarge: 331x331, 4032, 6 blocks. Only the
``channels_last`` data format is supported (as Keras). ``preprocess_input`` is "tf" mode.

Example:
>>> from lamina.applications.nasnet import NASNetMobile
>>> model = NASNetMobile(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3))
>>> model.output_shape, model.count_params()
((None, 1056), 4269716)
"""

from lamina import config
from lamina.applications import imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"
NASNET_MOBILE_WEIGHT_PATH = f"{BASE_WEIGHTS_PATH}NASNet-mobile.h5"
NASNET_MOBILE_WEIGHT_PATH_NO_TOP = f"{BASE_WEIGHTS_PATH}NASNet-mobile-no-top.h5"
NASNET_LARGE_WEIGHT_PATH = f"{BASE_WEIGHTS_PATH}NASNet-large.h5"
NASNET_LARGE_WEIGHT_PATH_NO_TOP = f"{BASE_WEIGHTS_PATH}NASNet-large-no-top.h5"
# default size: {include_top: (cache file name, url, md5)}, as published in Keras's applications source.
WEIGHTS = {
    224: {True: ("nasnet_mobile.h5", NASNET_MOBILE_WEIGHT_PATH, "020fb642bf7360b370c678b08e0adf61"),
          False: ("nasnet_mobile_no_top.h5", NASNET_MOBILE_WEIGHT_PATH_NO_TOP, "1ed92395b5b598bdda52abe5c0dbfd63")},
    331: {True: ("nasnet_large.h5", NASNET_LARGE_WEIGHT_PATH, "11577c9a518f0070763c2b964a382f17"),
          False: ("nasnet_large_no_top.h5", NASNET_LARGE_WEIGHT_PATH_NO_TOP, "d81d89dc07e6e56530c4e77faddd61b5")},
}


def _bn(x, name=None):
    from lamina import layers

    return layers.BatchNormalization(axis=-1, momentum=0.9997, epsilon=1e-3, name=name)(x)


def _conv1x1(x, filters, name):
    from lamina import layers

    return layers.Conv2D(filters, (1, 1), padding="same", use_bias=False, name=name,
                         kernel_initializer="he_normal")(x)


def _separable_conv_block(ip, filters, kernel_size=(3, 3), strides=(1, 1), block_id=None):
    """(ReLU -> SeparableConv2D -> BN) twice; the first convolution has ``strides`` (padded as TF's 'same')."""
    from lamina import layers

    x = layers.Activation("relu")(ip)
    padding = "same"
    if strides == (2, 2):
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                 name=f"separable_conv_1_pad_{block_id}")(x)
        padding = "valid"
    x = layers.SeparableConv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False,
                               name=f"separable_conv_1_{block_id}")(x)
    x = _bn(x, f"separable_conv_1_bn_{block_id}")
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(filters, kernel_size, padding="same", use_bias=False,
                               name=f"separable_conv_2_{block_id}")(x)
    return _bn(x, f"separable_conv_2_bn_{block_id}")


def _adjust_block(p, ip, filters, block_id=None):
    """Bring the previous-previous output ``p`` to ``ip``'s spatial size and to ``filters`` channels."""
    from lamina import layers

    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = _conv1x1(p1, filters // 2, f"adjust_conv_1_{block_id}")
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = _conv1x1(p2, filters // 2, f"adjust_conv_2_{block_id}")
        p = layers.concatenate([p1, p2], axis=-1)
        return _bn(p, f"adjust_bn_{block_id}")
    if p.shape[-1] != filters:
        p = layers.Activation("relu")(p)
        p = _conv1x1(p, filters, f"adjust_conv_projection_{block_id}")
        return _bn(p, f"adjust_bn_{block_id}")
    return p


def _cell_input(ip, p, filters, kind, block_id):
    """The adjusted ``p`` and ``h`` = BN(conv1x1(ReLU(ip))), shared by both cell kinds."""
    from lamina import layers

    p = _adjust_block(p, ip, filters, block_id)
    h = layers.Activation("relu")(ip)
    h = _conv1x1(h, filters, f"{kind}_conv_1_{block_id}")
    return p, _bn(h, f"{kind}_bn_1_{block_id}")


def _normal_a_cell(ip, p, filters, block_id=None):
    from lamina import layers

    p, h = _cell_input(ip, p, filters, "normal", block_id)
    b = f"_{block_id}"
    x1 = layers.add([_separable_conv_block(h, filters, (5, 5), block_id=f"normal_left1{b}"),
                     _separable_conv_block(p, filters, block_id=f"normal_right1{b}")], name=f"normal_add_1{b}")
    x2 = layers.add([_separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2{b}"),
                     _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2{b}")], name=f"normal_add_2{b}")
    x3 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=f"normal_left3{b}")(h)
    x3 = layers.add([x3, p], name=f"normal_add_3{b}")
    x4 = [layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=f"normal_{side}4{b}")(p)
          for side in ("left", "right")]
    x4 = layers.add(x4, name=f"normal_add_4{b}")
    x5 = layers.add([_separable_conv_block(h, filters, block_id=f"normal_left5{b}"), h], name=f"normal_add_5{b}")
    return layers.concatenate([p, x1, x2, x3, x4, x5], axis=-1, name=f"normal_concat{b}"), ip


def _reduction_a_cell(ip, p, filters, block_id=None):
    from lamina import layers

    p, h = _cell_input(ip, p, filters, "reduction", block_id)
    b = f"_{block_id}"
    h3 = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(h, 3), name=f"reduction_pad_1{b}")(h)
    x1 = layers.add([_separable_conv_block(h, filters, (5, 5), (2, 2), f"reduction_left1{b}"),
                     _separable_conv_block(p, filters, (7, 7), (2, 2), f"reduction_right1{b}")],
                    name=f"reduction_add_1{b}")
    x2 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid", name=f"reduction_left2{b}")(h3)
    x2 = layers.add([x2, _separable_conv_block(p, filters, (7, 7), (2, 2), f"reduction_right2{b}")],
                    name=f"reduction_add_2{b}")
    x3 = layers.AveragePooling2D((3, 3), strides=(2, 2), padding="valid", name=f"reduction_left3{b}")(h3)
    x3 = layers.add([x3, _separable_conv_block(p, filters, (5, 5), (2, 2), f"reduction_right3{b}")],
                    name=f"reduction_add3{b}")
    x4 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=f"reduction_left4{b}")(x1)
    x4 = layers.add([x2, x4])
    x5 = _separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4{b}")
    x5 = layers.add([x5, layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                                             name=f"reduction_right5{b}")(h3)], name=f"reduction_add4{b}")
    return layers.concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat{b}"), ip


def NASNet(input_shape=None, penultimate_filters=4032, num_blocks=6, stem_block_filters=96, skip_reduction=True,
           filter_multiplier=2, include_top=True, weights="imagenet", input_tensor=None, pooling=None, classes=1000,
           default_size=None, classifier_activation="softmax", name="NASNet"):
    """Instantiate a NASNet-A model (``NASNetMobile``/``NASNetLarge`` fix its hyperparameters).

    Args:
        input_shape: optional shape tuple (channels_last), only when ``include_top=False`` (otherwise
            ``(default_size, default_size, 3)``); height and width at least 32.
        penultimate_filters: channels before the top, a multiple of ``24 * filter_multiplier ** 2``.
        num_blocks: normal cells per stack (three stacks).
        stem_block_filters: filters of the stem convolution.
        skip_reduction: whether the cell after a reduction cell takes the reduction cell's input (not the
            output of the cell before it) as its "previous" input.
        filter_multiplier: channel growth at each reduction.
        include_top: whether to include the global-average-pooling + "predictions" top.
        weights: None, "imagenet" (only for default sizes 224 and 331) or the path of a weights file.
        input_tensor: optional output of ``lamina.Input()`` to use as the model's input.
        pooling: for ``include_top=False``: None (4D output), "avg" or "max".
        classes: number of classes, only without "imagenet" weights or with ``include_top=False``.
        default_size: the default input size (331 when None).
        classifier_activation: activation of the "predictions" layer (None or "softmax" with pretrained weights).
        name: the model's name.

    Returns:
        A ``lamina.Model``.
    """
    from lamina import layers
    from lamina.models import Model

    if config.image_data_format() == "channels_first":
        raise ValueError("NASNet does not support the `channels_first` image data format. Switch to "
                         "`channels_last` with lamina.config.set_image_data_format('channels_last').")
    imagenet_utils.check_weights_arg(weights, include_top, classes)
    imagenet_utils.check_pooling(pooling)
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError("When specifying the input shape of a NASNet and loading `ImageNet` weights, the "
                         f"input_shape argument must be static (no None entries). Got: `input_shape={input_shape}`.")
    default_size = 331 if default_size is None else default_size
    if weights == "imagenet" and default_size not in WEIGHTS:
        raise ValueError("ImageNet weights can only be loaded with NASNetLarge or NASNetMobile (default_size "
                         f"331 or 224), but received default_size={default_size}.")
    if penultimate_filters % (24 * filter_multiplier ** 2) != 0:
        raise ValueError("For NASNet-A models, the `penultimate_filters` must be a multiple of 24 * "
                         f"(`filter_multiplier` ** 2). Current value: {penultimate_filters}")
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                                    data_format="channels_last", require_flatten=include_top,
                                                    weights=weights)
    img_input = imagenet_utils.make_input(input_tensor, input_shape)
    filters = penultimate_filters // 24
    x = layers.Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid", use_bias=False,
                      name="stem_conv1", kernel_initializer="he_normal")(img_input)
    x = _bn(x, "stem_bn1")
    x, p = _reduction_a_cell(x, None, filters // filter_multiplier ** 2, block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
    for stack in range(3):
        if stack:
            x, p0 = _reduction_a_cell(x, p, filters * filter_multiplier ** stack,
                                      block_id=f"reduce_{stack * num_blocks}")
            p = p if skip_reduction else p0
        for i in range(num_blocks):
            x, p = _normal_a_cell(x, p, filters * filter_multiplier ** stack,
                                  block_id=f"{stack * num_blocks + i + bool(stack)}")
    x = layers.Activation("relu")(x)
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pooled_or_flat(x, pooling)
    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    if weights == "imagenet":
        file_name, origin, file_hash = WEIGHTS[default_size][bool(include_top)]
        return imagenet_utils.finish_model(model, weights, file_name, origin, file_hash)
    return imagenet_utils.finish_model(model, weights)


def NASNetMobile(input_shape=None, include_top=True, weights="imagenet", input_tensor=None, pooling=None,
                 classes=1000, classifier_activation="softmax", name="nasnet_mobile"):
    """Instantiate a Mobile NASNet model (NASNet-A 4 @ 1056; default input 224x224).

    Args:
        input_shape: optional shape tuple, only when ``include_top=False`` (then (224, 224, 3) when None);
            height and width at least 32.
        include_top, weights, input_tensor, pooling, classes, classifier_activation, name: as for ``NASNet``.

    Returns:
        A ``lamina.Model``.
    """
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    return NASNet(input_shape, penultimate_filters=1056, num_blocks=4, stem_block_filters=32, skip_reduction=False,
                  filter_multiplier=2, include_top=include_top, weights=weights, input_tensor=input_tensor,
                  pooling=pooling, classes=classes, default_size=224, classifier_activation=classifier_activation,
                  name=name)


def NASNetLarge(input_shape=None, include_top=True, weights="imagenet", input_tensor=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="nasnet_large"):
    """Instantiate a Large NASNet model (NASNet-A 6 @ 4032; default input 331x331).

    Args:
        input_shape: optional shape tuple, only when ``include_top=False``; height and width at least 32.
        include_top, weights, input_tensor, pooling, classes, classifier_activation, name: as for ``NASNet``.

    Returns:
        A ``lamina.Model``.
    """
    return NASNet(input_shape, penultimate_filters=4032, num_blocks=6, stem_block_filters=96, skip_reduction=True,
                  filter_multiplier=2, include_top=include_top, weights=weights, input_tensor=input_tensor,
                  pooling=pooling, classes=classes, default_size=331, classifier_activation=classifier_activation,
                  name=name)


def preprocess_input(x, data_format=None):
    """TF-style preprocessing: pixels in [0, 255] scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """See ``lamina.applications.imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
