"""Inception-ResNet v2 (Szegedy et al., 2017): ``lamina.applications.inception_resnet_v2.InceptionResNetV2``.

Stem as InceptionV3's (conv + BN without scale + ReLU units, two 3x3/2 max-pools), then ``mixed_5b``; ten
Inception-ResNet-A blocks (``block35_1``..``block35_10``, residual scale 0.17); reduction ``mixed_6a``; twenty
Inception-ResNet-B blocks (``block17_*``, scale 0.1); reduction ``mixed_7a``; ten Inception-ResNet-C blocks
(``block8_*``, scale 0.2, the last one with scale 1 and no activation); ``conv_7b`` (1536). Each residual block
concatenates its branches (``<block>_mixed``), projects them with a biased 1x1 convolution (``<block>_conv``) and
adds ``x + scale * residual`` with a ``CustomScaleLayer`` (a registered layer, so saved models load in safe mode).
Unnamed conv/BN/activation layers get Keras's automatic names in Keras's order, so Keras's weight files load.
Top: ``avg_pool`` -> ``predictions``. Default input 299x299, at least 75x75. ``preprocess_input`` is "tf" mode.

Example:
>>> from lamina.applications.inception_resnet_v2 import CustomScaleLayer
>>> import numpy as np
>>> CustomScaleLayer(0.5)([np.ones((1, 2), "float32"), np.full((1, 2), 4.0, "float32")]).tolist()
[[3.0, 3.0]]
"""

from lamina import config
from lamina.applications import imagenet_utils
from lamina.layers.layer import Layer
from lamina.saving.serialization import get_custom_objects, register_serializable

BASE_WEIGHT_URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_resnet_v2/"
# md5 hashes of (with top, without top), as published in Keras's applications source.
WEIGHTS_HASHES = ("e693bd0210a403b3192acc6073ad2e96", "d19885ff4a710c122648d3b5c3b684e4")
# block type: (number of blocks, residual scale)
BLOCKS = {"block35": (10, 0.17), "block17": (20, 0.1), "block8": (10, 0.2)}


@register_serializable(package="lamina.applications")
class CustomScaleLayer(Layer):
    """``[x, residual] -> x + scale * residual``: the scaled residual sum of the Inception-ResNet blocks.

    Args:
        scale: float, the factor applied to the second input.
        **kwargs: base layer arguments (``name``, ``dtype``, ...).
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)):
            raise TypeError(f"CustomScaleLayer: scale must be a number, but received {scale!r}.")
        self.scale = float(scale)

    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            got = f"{len(inputs)} inputs" if isinstance(inputs, (list, tuple)) else type(inputs).__name__
            raise ValueError(f"Layer '{self.name}' (CustomScaleLayer) must be called on a list of two tensors "
                             f"[x, residual], but received {got}.")

    def call(self, inputs):
        self._check(inputs)
        return inputs[0] + inputs[1] * self.scale

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        a, b = (tuple(s) for s in input_shape)
        if len(a) != len(b) or any(x is not None and y is not None and x != y for x, y in zip(a, b)):
            raise ValueError(f"Layer '{self.name}' (CustomScaleLayer) needs two inputs of the same shape, but "
                             f"received shapes {a} and {b}.")
        return tuple(x if x is not None else y for x, y in zip(a, b))

    def get_config(self):
        config_ = super().get_config()
        config_["scale"] = self.scale
        return config_


# Keras saves this (unregistered there) class under its bare name: let such files load too.
get_custom_objects().setdefault("CustomScaleLayer", CustomScaleLayer)


def _axis():
    return 1 if config.image_data_format() == "channels_first" else 3


def conv2d_bn(x, filters, kernel_size, strides=1, padding="same", activation="relu", use_bias=False, name=None):
    """Conv2D -> BatchNormalization (no scale; only without bias) -> activation, as Keras's helper.

    ``name`` names the convolution; the others become ``name_bn`` and ``name_ac``.
    """
    from lamina import layers

    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias, name=name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=_axis(), scale=False, name=None if name is None else f"{name}_bn")(x)
    if activation is not None:
        x = layers.Activation(activation, name=None if name is None else f"{name}_ac")(x)
    return x


def _chain(x, specs):
    """conv2d_bn for each ``(filters, kernel[, strides, padding])`` in turn."""
    for spec in specs:
        strides, padding = spec[2:] if len(spec) > 2 else (1, "same")
        x = conv2d_bn(x, spec[0], spec[1], strides=strides, padding=padding)
    return x


def inception_resnet_block(x, scale, block_type, block_idx, activation="relu"):
    """One Inception-ResNet block: ``activation(x + scale * conv1x1(concat(branches(x))))``.

    Args:
        x: input tensor.
        scale: the residual's scale.
        block_type: ``"block35"``, ``"block17"`` or ``"block8"``.
        block_idx: the block's number (layer names are ``<block_type>_<block_idx>_...``).
        activation: final activation (None for none).
    """
    from lamina import layers

    if block_type == "block35":
        branches = [_chain(x, [(32, 1)]), _chain(x, [(32, 1), (32, 3)]), _chain(x, [(32, 1), (48, 3), (64, 3)])]
    elif block_type == "block17":
        branches = [_chain(x, [(192, 1)]), _chain(x, [(128, 1), (160, (1, 7)), (192, (7, 1))])]
    elif block_type == "block8":
        branches = [_chain(x, [(192, 1)]), _chain(x, [(192, 1), (224, (1, 3)), (256, (3, 1))])]
    else:
        raise ValueError('inception_resnet_block: block_type must be "block35", "block17" or "block8", but '
                         f"received {block_type!r}.")
    name = f"{block_type}_{block_idx}"
    mixed = layers.Concatenate(axis=_axis(), name=f"{name}_mixed")(branches)
    up = conv2d_bn(mixed, x.shape[_axis()], 1, activation=None, use_bias=True, name=f"{name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}_ac")(x)
    return x


def InceptionResNetV2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                      classes=1000, classifier_activation="softmax", name="inception_resnet_v2"):
    """Instantiate the Inception-ResNet v2 architecture.

    Args:
        include_top: whether to include the global-average-pooling + "predictions" top.
        weights: None (random initialization), "imagenet" (Keras's published ImageNet weights, downloaded
            into the cache), or the path of a weights file to load.
        input_tensor: optional output of ``lamina.Input()`` to use as the model's input.
        input_shape: optional shape tuple, only when ``include_top=False`` (otherwise (299, 299, 3));
            height and width at least 75.
        pooling: for ``include_top=False``: None (4D output), "avg" or "max" (global pooling, 2D output).
        classes: number of classes, only without "imagenet" weights or with ``include_top=False``.
        classifier_activation: activation of the "predictions" layer (None or "softmax" with pretrained weights).
        name: the model's name.

    Returns:
        A ``lamina.Model``.
    """
    from lamina import layers
    from lamina.models import Model

    imagenet_utils.check_weights_arg(weights, include_top, classes)
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
    imagenet_utils.check_pooling(pooling)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=299, min_size=75,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.make_input(input_tensor, input_shape)
    axis = _axis()
    x = _chain(img_input, [(32, 3, 2, "valid"), (32, 3, 1, "valid"), (64, 3)])
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = _chain(x, [(80, 1, 1, "valid"), (192, 3, 1, "valid")])
    x = layers.MaxPooling2D(3, strides=2)(x)
    branches = [_chain(x, [(96, 1)]), _chain(x, [(48, 1), (64, 5)]), _chain(x, [(64, 1), (96, 3), (96, 3)])]
    pooled = layers.AveragePooling2D(3, strides=1, padding="same")(x)
    x = layers.Concatenate(axis=axis, name="mixed_5b")(branches + [_chain(pooled, [(64, 1)])])
    x = _repeat(x, "block35")
    branches = [_chain(x, [(384, 3, 2, "valid")]), _chain(x, [(256, 1), (256, 3), (384, 3, 2, "valid")]),
                layers.MaxPooling2D(3, strides=2, padding="valid")(x)]
    x = layers.Concatenate(axis=axis, name="mixed_6a")(branches)
    x = _repeat(x, "block17")
    branches = [_chain(x, [(256, 1), (384, 3, 2, "valid")]), _chain(x, [(256, 1), (288, 3, 2, "valid")]),
                _chain(x, [(256, 1), (288, 3), (320, 3, 2, "valid")]),
                layers.MaxPooling2D(3, strides=2, padding="valid")(x)]
    x = layers.Concatenate(axis=axis, name="mixed_7a")(branches)
    x = _repeat(x, "block8")
    x = conv2d_bn(x, 1536, 1, name="conv_7b")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pooled_or_flat(x, pooling)
    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    file_name = f"inception_resnet_v2_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    return imagenet_utils.finish_model(model, weights, file_name, BASE_WEIGHT_URL + file_name,
                                        WEIGHTS_HASHES[0 if include_top else 1])


def _repeat(x, block_type):
    """The repeated residual blocks of one kind; the very last block8 has scale 1 and no activation."""
    count, scale = BLOCKS[block_type]
    for idx in range(1, count + 1):
        last = block_type == "block8" and idx == count
        x = inception_resnet_block(x, 1.0 if last else scale, block_type, idx, activation=None if last else "relu")
    return x


def preprocess_input(x, data_format=None):
    """TF-style preprocessing: pixels in [0, 255] scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """See ``lamina.applications.imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
