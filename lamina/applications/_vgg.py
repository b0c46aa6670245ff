"""The VGG builder shared by VGG16 and VGG19 (Simonyan & Zisserman, 2015), with Keras's layer names."""

from lamina import config
from lamina.applications import imagenet_utils

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/"


def build_vgg(convs_per_block, weights_name, hashes, include_top, weights, input_tensor, input_shape, pooling,
              classes, classifier_activation, name):
    """Five blocks of 3x3 ReLU convolutions (64, 128, 256, 512, 512 filters), each closed by a 2x2 max-pool;
    then ``flatten`` -> ``fc1`` (4096) -> ``fc2`` (4096) -> ``predictions`` when ``include_top``."""
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
    x = img_input
    for block, (filters, convs) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block), start=1):
        for i in range(1, convs + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pooled_or_flat(x, pooling)
    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    top = "" if include_top else "_notop"
    file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{top}.h5"
    return imagenet_utils.finish_model(model, weights, file_name, f"{_BASE}{weights_name}/{file_name}",
                                        hashes[0 if include_top else 1])


_DOC = """Instantiate the {name} architecture (default input 224x224x3; minimum 32x32).

    Args:
        include_top: whether to include the three fully-connected layers at the top.
        weights: None (random initialization), "imagenet" (Keras's published ImageNet weights, downloaded
            into the cache), or the path of a weights file to load.
        input_tensor: optional output of ``lamina.Input()`` to use as the model's input.
        input_shape: optional shape tuple, only when ``include_top=False`` (otherwise (224, 224, 3)).
        pooling: for ``include_top=False``: None (4D output), "avg" or "max" (global pooling, 2D output).
        classes: number of classes, only without "imagenet" weights or with ``include_top=False``.
        classifier_activation: activation of the "predictions" layer (None or "softmax" with pretrained weights).
        name: the model's name.

    Returns:
        A ``lamina.Model``.
    """


def vgg_doc(fn):
    """Give a VGG constructor the shared docstring."""
    fn.__doc__ = _DOC.format(name=fn.__name__)
    return fn
