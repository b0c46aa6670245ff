"""InceptionV3 (Szegedy et al., 2016): ``lamina.applications.inception_v3.InceptionV3``, ``preprocess_input`` ("tf").

Stem of five conv+BN+ReLU units (BN without scale, as Keras) and two 3x3/2 max-pools; Inception modules
``mixed0``..``mixed10`` (35x35, grid reduction ``mixed3``, 17x17 factorised 7x7 modules, reduction ``mixed8``,
8x8 modules with split 1x3/3x1 branches ``mixed9_0``/``mixed9_1``). The conv, BN and activation layers carry
Keras's automatic names (``conv2d``, ``batch_normalization``, ``activation``, ...), created in Keras's order, so
Keras's weight files load. Top: ``avg_pool`` -> ``predictions``. Default input 299x299, at least 75x75.

Example:
>>> from lamina.applications.inception_v3 import InceptionV3
>>> model = InceptionV3(weights=None, include_top=False, pooling="avg", input_shape=(75, 75, 3))
>>> model.output_shape, model.count_params()
((None, 2048), 21802784)
"""

from lamina import config
from lamina.applications import imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
# md5 hashes of (with top, without top), as published in Keras's applications source.
WEIGHTS_HASHES = ("9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63")


def _axis():
    return 3 if config.image_data_format() == "channels_last" else 1


def conv2d_bn(x, filters, num_row, num_col, padding="same", strides=(1, 1), name=None):
    """Conv2D (no bias) -> BatchNormalization (no scale) -> ReLU; ``name`` gives ``name_conv``/``name_bn``/``name``."""
    from lamina import layers

    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding, use_bias=False,
                      name=None if name is None else f"{name}_conv")(x)
    x = layers.BatchNormalization(axis=_axis(), scale=False, name=None if name is None else f"{name}_bn")(x)
    return layers.Activation("relu", name=name)(x)


def _chain(x, specs):
    """Apply conv2d_bn for each ``(filters, rows, cols[, strides, padding])`` in turn."""
    for spec in specs:
        filters, rows, cols = spec[:3]
        strides, padding = spec[3:] if len(spec) > 3 else ((1, 1), "same")
        x = conv2d_bn(x, filters, rows, cols, padding=padding, strides=strides)
    return x


def _avg_pool_branch(x, filters):
    from lamina import layers

    pooled = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(pooled, filters, 1, 1)


def _module_35(x, pool_filters, name):
    from lamina import layers

    b1 = _chain(x, [(64, 1, 1)])
    b5 = _chain(x, [(48, 1, 1), (64, 5, 5)])
    b3 = _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3)])
    bp = _avg_pool_branch(x, pool_filters)
    return layers.concatenate([b1, b5, b3, bp], axis=_axis(), name=name)


def _module_17(x, width, name):
    from lamina import layers

    b1 = _chain(x, [(192, 1, 1)])
    b7 = _chain(x, [(width, 1, 1), (width, 1, 7), (192, 7, 1)])
    b7d = _chain(x, [(width, 1, 1), (width, 7, 1), (width, 1, 7), (width, 7, 1), (192, 1, 7)])
    bp = _avg_pool_branch(x, 192)
    return layers.concatenate([b1, b7, b7d, bp], axis=_axis(), name=name)


def _module_8(x, i):
    from lamina import layers

    axis = _axis()
    b1 = _chain(x, [(320, 1, 1)])
    b3 = _chain(x, [(384, 1, 1)])
    b3 = layers.concatenate([_chain(b3, [(384, 1, 3)]), _chain(b3, [(384, 3, 1)])], axis=axis, name=f"mixed9_{i}")
    b3d = _chain(x, [(448, 1, 1), (384, 3, 3)])
    b3d = layers.concatenate([_chain(b3d, [(384, 1, 3)]), _chain(b3d, [(384, 3, 1)])], axis=axis)
    bp = _avg_pool_branch(x, 192)
    return layers.concatenate([b1, b3, b3d, bp], axis=axis, name=f"mixed{9 + i}")


def InceptionV3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="inception_v3"):
    """Instantiate the Inception v3 architecture.

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
    x = _chain(img_input, [(32, 3, 3, (2, 2), "valid"), (32, 3, 3, (1, 1), "valid"), (64, 3, 3)])
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _chain(x, [(80, 1, 1, (1, 1), "valid"), (192, 3, 3, (1, 1), "valid")])
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _module_35(x, 32, "mixed0")
    x = _module_35(x, 64, "mixed1")
    x = _module_35(x, 64, "mixed2")
    b3 = _chain(x, [(384, 3, 3, (2, 2), "valid")])
    b3d = _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3, (2, 2), "valid")])
    bp = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([b3, b3d, bp], axis=axis, name="mixed3")
    x = _module_17(x, 128, "mixed4")
    x = _module_17(x, 160, "mixed5")
    x = _module_17(x, 160, "mixed6")
    x = _module_17(x, 192, "mixed7")
    b3 = _chain(x, [(192, 1, 1), (320, 3, 3, (2, 2), "valid")])
    b7 = _chain(x, [(192, 1, 1), (192, 1, 7), (192, 7, 1), (192, 3, 3, (2, 2), "valid")])
    bp = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([b3, b7, bp], axis=axis, name="mixed8")
    x = _module_8(x, 0)
    x = _module_8(x, 1)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pooled_or_flat(x, pooling)
    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    file_name = f"inception_v3_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    return imagenet_utils.finish_model(model, weights, file_name, BASE_WEIGHTS_PATH + file_name,
                                        WEIGHTS_HASHES[0 if include_top else 1])


def preprocess_input(x, data_format=None):
    """TF-style preprocessing: pixels in [0, 255] scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """See ``lamina.applications.imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
