"""ConvNeXt Tiny/Small/Base/Large/XLarge (Liu et al., 2022, "A ConvNet for the 2020s"):
``lamina.applications.convnext``.

As in Keras 3, the preprocessing is part of the model: with ``include_preprocessing=True`` a
``{name}_prestem_normalization`` layer (ImageNet mean and variance of [0, 255] pixels) comes first, so the models
take pixels in [0, 255] and ``preprocess_input`` returns its input unchanged. Then a stem (``{name}_stem``, a
Sequential of a 4x4/4 ``Conv2D`` and a ``LayerNormalization``) and four stages of ConvNeXt blocks
``{name}_stage_{i}_block_{j}_`` (7x7 depthwise conv, layernorm, two ``Dense`` "pointwise" convs around a GELU,
``LayerScale`` and a residual sum), with a Sequential ``{name}_downsampling_block_{i}`` (layernorm + 2x2/2 conv)
before stages 1 to 3. Top: ``{name}_head_gap`` -> ``{name}_head_layernorm`` -> ``{name}_head_dense``; without the
top, the optional pooling is followed by a ``LayerNormalization`` (as in Keras). Only ``channels_last`` is
supported.

Example:
>>> from lamina.applications.convnext import ConvNeXtTiny
>>> model = ConvNeXtTiny(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3))
>>> model.output_shape, model.count_params()
((None, 768), 27820128)
"""

from lamina import config
from lamina.applications import imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
# sha256 hashes of (with top, without top), as published in Keras's applications source.
WEIGHTS_HASHES = {
    "convnext_tiny": ("8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
                      "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    "convnext_small": ("ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
                       "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
    "convnext_base": ("52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
                      "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
    "convnext_large": ("070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
                       "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
    "convnext_xlarge": ("c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
                        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
}
# variant: (blocks per stage, channels per stage); every variant's default input size is 224.
MODEL_CONFIGS = {
    "tiny": ((3, 3, 9, 3), (96, 192, 384, 768)),
    "small": ((3, 3, 27, 3), (96, 192, 384, 768)),
    "base": ((3, 3, 27, 3), (128, 256, 512, 1024)),
    "large": ((3, 3, 27, 3), (192, 384, 768, 1536)),
    "xlarge": ((3, 3, 27, 3), (256, 512, 1024, 2048)),
}
DEFAULT_SIZE = 224
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)


def convnext_block(x, projection_dim, drop_path_rate=0.0, layer_scale_init_value=1e-6, name=""):
    """One ConvNeXt block on ``x``: depthwise 7x7 conv, layernorm, Dense(4C) + GELU + Dense(C), layer scale, and
    a residual sum (through ``StochasticDepth`` when ``drop_path_rate`` > 0, else a linear ``identity``)."""
    from lamina import layers
    from lamina.applications._blocks import LayerScale, StochasticDepth

    inputs = x
    x = layers.Conv2D(projection_dim, 7, padding="same", groups=projection_dim, name=f"{name}_depthwise_conv")(x)
    x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_layernorm")(x)
    x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
    x = layers.Activation("gelu", name=f"{name}_gelu")(x)
    x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
    if layer_scale_init_value is not None:
        x = LayerScale(layer_scale_init_value, projection_dim, name=f"{name}_layer_scale")(x)
    if drop_path_rate:
        x = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")(x)
    else:
        x = layers.Activation("linear", name=f"{name}_identity")(x)
    return inputs + x


def _downsampling_layers(name, projection_dims):
    """The stem and the three downsampling Sequentials that start each stage."""
    from lamina import layers
    from lamina.models import Sequential

    stem = Sequential([layers.Conv2D(projection_dims[0], 4, strides=4, name=f"{name}_stem_conv"),
                       layers.LayerNormalization(epsilon=1e-6, name=f"{name}_stem_layernorm")],
                      name=f"{name}_stem")
    out = [stem]
    for i in range(3):
        out.append(Sequential([layers.LayerNormalization(epsilon=1e-6, name=f"{name}_downsampling_layernorm_{i}"),
                               layers.Conv2D(projection_dims[i + 1], 2, strides=2,
                                             name=f"{name}_downsampling_conv_{i}")],
                              name=f"{name}_downsampling_block_{i}"))
    return out


def build_convnext(variant, include_top, include_preprocessing, weights, input_tensor, input_shape, pooling,
                   classes, classifier_activation, name, drop_path_rate=0.0, layer_scale_init_value=1e-6,
                   depths=None, projection_dims=None):
    """Build a ConvNeXt ``variant`` (a key of ``MODEL_CONFIGS``); the constructors' arguments, as Keras's.

    ``drop_path_rate`` (the stochastic-depth rate of the last block, rising linearly from 0),
    ``layer_scale_init_value`` (None: no ``LayerScale``), ``depths`` and ``projection_dims`` (4 stages each;
    default: the variant's) are those of Keras's ``ConvNeXt`` function. Pretrained weights need the variant's own
    depths and widths.
    """
    import numpy as np

    from lamina import layers
    from lamina.models import Model

    weights_name = f"convnext_{variant}"
    if config.image_data_format() == "channels_first":
        raise ValueError("ConvNeXt does not support the `channels_first` image data format. Switch to "
                         "`channels_last` with lamina.config.set_image_data_format('channels_last').")
    imagenet_utils.check_weights_arg(weights, include_top, classes)
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
    imagenet_utils.check_pooling(pooling)
    if weights == "imagenet" and weights_name not in name:
        raise ValueError(f'Model name "{name}" does not match weights variant "{weights_name}". When using '
                         f'imagenet weights, the model name must contain "{weights_name}" (the weight file is '
                         "named after the model).")
    if weights == "imagenet" and (depths, projection_dims) != (None, None) and \
            (tuple(depths), tuple(projection_dims)) != MODEL_CONFIGS[variant]:
        raise ValueError(f"Architecture configuration does not match {weights_name}: pretrained weights need "
                         f"depths={MODEL_CONFIGS[variant][0]} and projection_dims={MODEL_CONFIGS[variant][1]}, but "
                         f"received depths={depths} and projection_dims={projection_dims}.")
    depths = tuple(depths or MODEL_CONFIGS[variant][0])
    projection_dims = tuple(projection_dims or MODEL_CONFIGS[variant][1])
    if len(depths) != 4 or len(projection_dims) != 4:
        raise ValueError(f"ConvNeXt needs 4 stages: depths and projection_dims must have 4 entries, but received "
                         f"depths={depths} and projection_dims={projection_dims}.")
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=DEFAULT_SIZE, min_size=32,
                                                    data_format="channels_last", require_flatten=include_top,
                                                    weights=weights)
    img_input = imagenet_utils.make_input(input_tensor, input_shape)
    x = img_input
    if include_preprocessing and input_shape[-1] == 3:
        x = layers.Normalization(mean=[m * 255 for m in IMAGENET_MEAN_RGB],
                                 variance=[(s * 255) ** 2 for s in IMAGENET_STDDEV_RGB],
                                 name=f"{name}_prestem_normalization")(x)
    drop_rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    first = 0
    for i, downsample in enumerate(_downsampling_layers(name, projection_dims)):
        x = downsample(x)
        for j in range(depths[i]):
            x = convnext_block(x, projection_dims[i], drop_rates[first + j], layer_scale_init_value,
                               name=f"{name}_stage_{i}_block_{j}")
        first += depths[i]
    if include_top:
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_head_layernorm")(x)
        x = layers.Dense(classes, activation=classifier_activation, name=f"{name}_head_dense")(x)
    else:
        x = imagenet_utils.pooled_or_flat(x, pooling)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    file_name = f"{name}{'.h5' if include_top else '_notop.h5'}"
    return imagenet_utils.finish_model(model, weights, file_name, BASE_WEIGHTS_PATH + file_name,
                                        WEIGHTS_HASHES[weights_name][0 if include_top else 1])


_DOC = """Instantiate the {name} architecture (input pixels in [0, 255]: the normalization is inside the model).

    Args:
        include_top: whether to include the "head" (global average pooling, layernorm and the Dense classifier).
        include_preprocessing: whether the model starts with the ImageNet ``Normalization`` of [0, 255] pixels
            (keep True with ``weights="imagenet"``).
        weights: None (random initialization), "imagenet" (Keras's published ImageNet-1k weights, downloaded
            into the cache), or the path of a weights file to load.
        input_tensor: optional output of ``lamina.Input()`` to use as the model's input.
        input_shape: optional shape tuple, only when ``include_top=False`` (otherwise (224, 224, 3)); height and
            width at least 32.
        pooling: for ``include_top=False``: None (4D output), "avg" or "max" (global pooling, 2D output); a
            ``LayerNormalization`` follows either way, as in Keras.
        classes: number of classes, only without "imagenet" weights or with ``include_top=False``.
        classifier_activation: activation of the head's Dense layer (None or "softmax" with pretrained weights).
        name: the model's name (the ImageNet weight file is named after it, as in Keras).

    Returns:
        A ``lamina.Model``.
    """


def _constructor(variant):
    def constructor(include_top=True, include_preprocessing=True, weights="imagenet", input_tensor=None,
                    input_shape=None, pooling=None, classes=1000, classifier_activation="softmax",
                    name=f"convnext_{variant}"):
        return build_convnext(variant, include_top, include_preprocessing, weights, input_tensor, input_shape,
                              pooling, classes, classifier_activation, name)

    fn_name = "ConvNeXt" + ("XLarge" if variant == "xlarge" else variant.capitalize())
    constructor.__name__ = constructor.__qualname__ = fn_name
    constructor.__doc__ = _DOC.format(name=fn_name)
    return constructor


ConvNeXtTiny = _constructor("tiny")
ConvNeXtSmall = _constructor("small")
ConvNeXtBase = _constructor("base")
ConvNeXtLarge = _constructor("large")
ConvNeXtXLarge = _constructor("xlarge")


def preprocess_input(x, data_format=None):
    """Return ``x`` unchanged: ConvNeXt models normalize their input themselves (kept for API compatibility)."""
    return x


def decode_predictions(preds, top=5):
    """See ``lamina.applications.imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
