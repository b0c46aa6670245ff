"""ResNet (He et al., 2015) and ResNetV2 (pre-activation, 2016) builders with Keras's layer names.

Stem: ``conv1_pad`` (3 px) -> ``conv1_conv`` 7x7/2 (64) -> [v1: ``conv1_bn``, ``conv1_relu``] -> ``pool1_pad``
(1 px) -> ``pool1_pool`` 3x3/2 max. Four stacks ``conv2``..``conv5`` of bottleneck blocks (64, 128, 256, 512
filters, 4x wider outputs); v2 ends with ``post_bn``/``post_relu``. Top: ``avg_pool`` -> ``predictions``.
"""

from lamina import config
from lamina.applications import imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
# md5 hashes of (with top, without top), as published in Keras's applications source.
WEIGHTS_HASHES = {
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}

BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
_EPS = 1.001e-5


def _bn_axis():
    return 3 if config.image_data_format() == "channels_last" else 1


def _bn(name):
    from lamina import layers

    return layers.BatchNormalization(axis=_bn_axis(), epsilon=_EPS, name=name)


def bottleneck_v1(x, filters, stride=1, shortcut_conv=True, name=None):
    """1x1 -> 3x3 -> 1x1 (4x filters), each followed by BN; the sum with the shortcut goes through ReLU."""
    from lamina import layers

    if shortcut_conv:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = _bn(f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    y = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    y = _bn(f"{name}_1_bn")(y)
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(y)
    y = _bn(f"{name}_2_bn")(y)
    y = layers.Activation("relu", name=f"{name}_2_relu")(y)
    y = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(y)
    y = _bn(f"{name}_3_bn")(y)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.Activation("relu", name=f"{name}_out")(y)


def stack_v1(x, filters, blocks, stride1=2, name=None):
    x = bottleneck_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = bottleneck_v1(x, filters, shortcut_conv=False, name=f"{name}_block{i}")
    return x


def bottleneck_v2(x, filters, stride=1, shortcut_conv=False, name=None):
    """Pre-activation block: BN+ReLU first; the stride sits on the 3x3 convolution; no activation after the sum."""
    from lamina import layers

    pre = _bn(f"{name}_preact_bn")(x)
    pre = layers.Activation("relu", name=f"{name}_preact_relu")(pre)
    if shortcut_conv:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(pre)
    elif stride > 1:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x)
    else:
        shortcut = x
    y = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(pre)
    y = _bn(f"{name}_1_bn")(y)
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(y)
    y = layers.Conv2D(filters, 3, strides=stride, use_bias=False, name=f"{name}_2_conv")(y)
    y = _bn(f"{name}_2_bn")(y)
    y = layers.Activation("relu", name=f"{name}_2_relu")(y)
    y = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(y)
    return layers.Add(name=f"{name}_out")([shortcut, y])


def stack_v2(x, filters, blocks, stride1=2, name=None):
    """The first block widens (convolutional shortcut); the LAST block carries the stride (Keras's layout)."""
    x = bottleneck_v2(x, filters, shortcut_conv=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = bottleneck_v2(x, filters, name=f"{name}_block{i}")
    return bottleneck_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def build_resnet(depth, preact, include_top, weights, input_tensor, input_shape, pooling, classes,
                 classifier_activation, name):
    from lamina import layers
    from lamina.models import Model

    imagenet_utils.check_weights_arg(weights, include_top, classes)
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
    imagenet_utils.check_pooling(pooling)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.make_input(input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=True, name="conv1_conv")(x)
    if not preact:
        x = _bn("conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    counts = BLOCKS[depth]
    if preact:
        x = stack_v2(x, 64, counts[0], name="conv2")
        x = stack_v2(x, 128, counts[1], name="conv3")
        x = stack_v2(x, 256, counts[2], name="conv4")
        x = stack_v2(x, 512, counts[3], stride1=1, name="conv5")
        x = _bn("post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    else:
        x = stack_v1(x, 64, counts[0], stride1=1, name="conv2")
        x = stack_v1(x, 128, counts[1], name="conv3")
        x = stack_v1(x, 256, counts[2], name="conv4")
        x = stack_v1(x, 512, counts[3], name="conv5")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    else:
        x = imagenet_utils.pooled_or_flat(x, pooling)
    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    weights_name = f"resnet{depth}{'v2' if preact else ''}"
    top = "" if include_top else "_notop"
    file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{top}.h5"
    return imagenet_utils.finish_model(model, weights, file_name, BASE_WEIGHTS_PATH + file_name,
                                        WEIGHTS_HASHES[weights_name][0 if include_top else 1])


_DOC = """Instantiate the {name} architecture.

    Args:
        include_top: whether to include the global-average-pooling + "predictions" top.
        weights: None (random initialization), "imagenet" (Keras's published ImageNet weights, downloaded
            into the cache), or the path of a weights file to load.
        input_tensor: optional output of ``lamina.Input()`` to use as the model's input.
        input_shape: optional shape tuple, only when ``include_top=False`` (otherwise (224, 224, 3));
            height and width at least 32.
        pooling: for ``include_top=False``: None (4D output), "avg" or "max" (global pooling, 2D output).
        classes: number of classes, only without "imagenet" weights or with ``include_top=False``.
        classifier_activation: activation of the "predictions" layer (None or "softmax" with pretrained weights).
        name: the model's name.

    Returns:
        A ``lamina.Model``.
    """


def resnet_doc(fn):
    """Give a ResNet constructor the shared docstring (the constructors differ only in depth and version)."""
    fn.__doc__ = _DOC.format(name=fn.__name__)
    return fn
