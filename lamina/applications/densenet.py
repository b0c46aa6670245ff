"""DenseNet121, DenseNet169 and DenseNet201 (Huang et al., 2017): ``lamina.applications.densenet``.

Stem: zero padding (3 px) -> ``conv1_conv`` 7x7/2 (64, no bias) -> ``conv1_bn`` -> ``conv1_relu`` -> zero padding
(1 px) -> ``pool1`` 3x3/2 max. Four dense blocks ``conv2``..``conv5`` of ``convN_blockI`` units (BN, ReLU, 1x1
conv to 128, BN, ReLU, 3x3 conv to 32, concatenated onto the input: growth rate 32), with transition blocks
``pool2``..``pool4`` (BN, ReLU, 1x1 conv halving the channels, 2x2 average pool) in between; then ``bn`` and
``relu``. Top: ``avg_pool`` -> ``predictions``. ``preprocess_input`` uses the "torch" mode.

Example:
>>> from lamina.applications.densenet import DenseNet121
>>> DenseNet121(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3)).output_shape
(None, 1024)
"""

from lamina import config
from lamina.applications import imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
# md5 hashes of (with top, without top), as published in Keras's applications source.
WEIGHTS_HASHES = {
    "densenet121": ("9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
    "densenet169": ("d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
    "densenet201": ("1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"),
}
BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32)}
_EPS = 1.001e-5
_GROWTH = 32


def _axis():
    return 3 if config.image_data_format() == "channels_last" else 1


def _bn(name):
    from lamina import layers

    return layers.BatchNormalization(axis=_axis(), epsilon=_EPS, name=name)


def conv_block(x, growth_rate, name):
    """One dense unit: BN-ReLU-1x1 conv (4 * growth_rate) -> BN-ReLU-3x3 conv (growth_rate), concatenated to x."""
    from lamina import layers

    y = _bn(f"{name}_0_bn")(x)
    y = layers.Activation("relu", name=f"{name}_0_relu")(y)
    y = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(y)
    y = _bn(f"{name}_1_bn")(y)
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    return layers.Concatenate(axis=_axis(), name=f"{name}_concat")([x, y])


def dense_block(x, blocks, name):
    for i in range(blocks):
        x = conv_block(x, _GROWTH, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction, name):
    """BN-ReLU, a 1x1 convolution keeping ``reduction`` of the channels, then a 2x2/2 average pool."""
    from lamina import layers

    x = _bn(f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[_axis()] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def build_densenet(depth, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                   name):
    from lamina import layers
    from lamina.models import Model

    if config.image_data_format() == "channels_first":
        raise ValueError("DenseNet does not support the `channels_first` image data format (as in Keras). Switch "
                         "to `channels_last` with lamina.config.set_image_data_format('channels_last').")
    imagenet_utils.check_weights_arg(weights, include_top, classes)
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
    imagenet_utils.check_pooling(pooling)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.make_input(input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _bn("conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    counts = BLOCKS[depth]
    for stage, blocks in enumerate(counts, start=2):
        x = dense_block(x, blocks, name=f"conv{stage}")
        if stage < 5:
            x = transition_block(x, 0.5, name=f"pool{stage}")
    x = _bn("bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    weights_name = f"densenet{depth}"
    top = "" if include_top else "_notop"
    file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{top}.h5"
    return imagenet_utils.finish_model(model, weights, file_name, BASE_WEIGHTS_PATH + file_name,
                                        WEIGHTS_HASHES[weights_name][0 if include_top else 1])


_DOC = """Instantiate the {name} architecture (channels_last only, as in Keras).

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


def _doc(fn):
    fn.__doc__ = _DOC.format(name=fn.__name__)
    return fn


@_doc
def DenseNet121(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="densenet121"):
    return build_densenet(121, include_top, weights, input_tensor, input_shape, pooling, classes,
                          classifier_activation, name)


@_doc
def DenseNet169(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="densenet169"):
    return build_densenet(169, include_top, weights, input_tensor, input_shape, pooling, classes,
                          classifier_activation, name)


@_doc
def DenseNet201(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="densenet201"):
    return build_densenet(201, include_top, weights, input_tensor, input_shape, pooling, classes,
                          classifier_activation, name)


def preprocess_input(x, data_format=None):
    """Torch-style preprocessing: pixels scaled to [0, 1], then normalised with the ImageNet mean and std."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


def decode_predictions(preds, top=5):
    """See ``lamina.applications.imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
