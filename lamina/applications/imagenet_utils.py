"""Helpers shared by the ImageNet models: ``preprocess_input``, ``decode_predictions`` and argument checks.

``preprocess_input`` has Keras's three modes:

- ``"caffe"``: RGB -> BGR, then subtract the ImageNet channel means (no scaling);
- ``"tf"``: scale pixels from [0, 255] to [-1, 1];
- ``"torch"``: scale to [0, 1], then normalise with the ImageNet mean and standard deviation.

Example:
>>> import numpy as np
>>> from lamina.applications import imagenet_utils
>>> imagenet_utils.preprocess_input(np.array([[[0.0, 127.5, 255.0]]]), mode="tf").tolist()
[[[-1.0, 0.0, 1.0]]]
"""

import json
import os
import warnings

import numpy as np

from lamina import config

CLASS_INDEX_PATH = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"  # md5, as published with Keras
CLASS_INDEX = None

_MODES = {
    # mode: (mean, std, scale, flip RGB->BGR)
    "caffe": ((103.939, 116.779, 123.68), None, 1.0, True),
    "tf": (None, None, None, False),
    "torch": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 255.0, False),
}


def _data_format(data_format):
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("preprocess_input: data_format must be 'channels_last' or 'channels_first', "
                         f"but received {data_format!r}.")
    return data_format


def _channel_shape(ndim, data_format):
    """The shape a per-channel vector broadcasts with for images of rank ``ndim``."""
    if data_format == "channels_last":
        return (3,)
    return (3,) + (1,) * (ndim - (1 if ndim == 3 else 2))


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocess a batch of images (NumPy array or tensor, pixels in [0, 255]) for an ImageNet model.

    Args:
        x: images, shape ``(..., H, W, 3)`` (channels_last) or ``(..., 3, H, W)`` (channels_first), RGB.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: ``image_data_format()``).
        mode: ``"caffe"``, ``"tf"`` or ``"torch"`` (see the module docstring).

    Returns:
        The preprocessed images, a float array (a NumPy input gives a NumPy output; the input is not modified).
    """
    if mode not in _MODES:
        raise ValueError(f"preprocess_input: mode must be one of 'caffe', 'tf' or 'torch', but received {mode!r}.")
    data_format = _data_format(data_format)
    if isinstance(x, np.ndarray) or not hasattr(x, "shape"):
        return _preprocess_numpy(np.asarray(x), data_format, mode)
    return _preprocess_tensor(x, data_format, mode)


def _check_channels(shape, data_format):
    if len(shape) < 3:
        raise ValueError(f"preprocess_input expects images of rank 3 or more, but received shape {tuple(shape)}.")
    axis = -1 if data_format == "channels_last" else (0 if len(shape) == 3 else 1)
    if shape[axis] is not None and shape[axis] != 3:
        raise ValueError(f"preprocess_input expects 3 color channels on axis {axis} ({data_format}), but "
                         f"received shape {tuple(shape)}.")
    return axis


def _preprocess_numpy(x, data_format, mode):
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(config.floatx())
    axis = _check_channels(x.shape, data_format)
    mean, std, scale, flip = _MODES[mode]
    if mode == "tf":
        return x / x.dtype.type(127.5) - x.dtype.type(1.0)
    if flip:
        x = np.flip(x, axis=axis)
    x = x / x.dtype.type(scale)
    shape = _channel_shape(x.ndim, data_format)
    x = x - np.asarray(mean, x.dtype).reshape(shape)
    if std is not None:
        x = x / np.asarray(std, x.dtype).reshape(shape)
    return x


def _preprocess_tensor(x, data_format, mode):
    from lamina import ops

    dtype = str(getattr(x, "dtype", ""))
    if "float" not in dtype:
        x = ops.cast(x, config.floatx())
    axis = _check_channels(tuple(x.shape), data_format)
    mean, std, scale, flip = _MODES[mode]
    if mode == "tf":
        return x / 127.5 - 1.0
    if flip:
        x = ops.flip(x, axis=axis)
    if scale != 1.0:
        x = x / scale
    shape = _channel_shape(len(x.shape), data_format)
    x = x - ops.reshape(ops.convert_to_tensor(np.asarray(mean, np.float32)), shape)
    if std is not None:
        x = x / ops.reshape(ops.convert_to_tensor(np.asarray(std, np.float32)), shape)
    return x


def _class_index():
    global CLASS_INDEX
    if CLASS_INDEX is None:
        from lamina.utils.file_utils import get_file

        path = get_file("imagenet_class_index.json", CLASS_INDEX_PATH, cache_subdir="models",
                        file_hash=CLASS_INDEX_HASH)
        with open(path, encoding="utf8") as f:
            CLASS_INDEX = json.load(f)
    return CLASS_INDEX


def decode_predictions(preds, top=5):
    """Turn ImageNet model outputs into ``[(class_id, class_name, score), ...]`` per sample, best first.

    The class index (``imagenet_class_index.json``) is downloaded once with ``lamina.utils.get_file``
    (checked against its published hash) into the ``models`` cache folder.

    Args:
        preds: array or tensor of shape ``(samples, 1000)``.
        top: how many classes to return per sample.
    """
    from lamina import ops

    preds = ops.convert_to_numpy(preds) if not isinstance(preds, np.ndarray) else preds
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError("decode_predictions expects a batch of ImageNet predictions, a 2D array of shape "
                         f"(samples, 1000), but received an array of shape {preds.shape}.")
    index = _class_index()
    results = []
    for row in preds:
        best = np.argsort(row, kind="stable")[::-1][:top]
        results.append([tuple(index[str(int(i))]) + (row[i],) for i in best])
    return results


# ----------------------------------------------------------------------------------------------------------------
# Argument checks and graph helpers used by every constructor.


def check_weights_arg(weights, include_top, classes):
    """Raise Keras's errors for a bad ``weights``/``classes`` combination."""
    if not (weights in ("imagenet", None) or (isinstance(weights, (str, os.PathLike))
                                                 and os.path.exists(weights))):
        raise ValueError("The `weights` argument should be either `None` (random initialization), 'imagenet' "
                         "(pre-training on ImageNet), or the path to the weights file to be loaded. "
                         f"Received: weights={weights!r}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError('If using `weights="imagenet"` with `include_top=True`, `classes` should be 1000. '
                         f"Received classes={classes}")


def validate_activation(classifier_activation, weights):
    """Pretrained weights need ``classifier_activation`` None or ``"softmax"`` (as Keras)."""
    if weights is None:
        return
    if classifier_activation not in (None, "softmax"):
        raise ValueError("Only `None` and `softmax` activations are allowed for the `classifier_activation` "
                         "argument when using pretrained weights, with `include_top=True`; Received: "
                         f"classifier_activation={classifier_activation!r}")


def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten, weights=None):
    """Work out (and check) a model's input shape, as Keras's ``obtain_input_shape``."""
    if input_shape is not None:
        input_shape = tuple(input_shape)
    channels_last = data_format == "channels_last"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[-1] if channels_last else input_shape[0]
        if channels not in (1, 3):
            warnings.warn(f"This model usually expects 1 or 3 input channels. However, it was passed an "
                          f"input_shape with {channels} input channels.", stacklevel=3)
        default_shape = (default_size, default_size, channels) if channels_last else \
            (channels, default_size, default_size)
    else:
        default_shape = (default_size, default_size, 3) if channels_last else (3, default_size, default_size)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError("When setting `include_top=True` and loading `imagenet` weights, `input_shape` "
                             f"should be {default_shape}. Received: input_shape={input_shape}")
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError(f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape}")
        channels = input_shape[-1] if channels_last else input_shape[0]
        spatial = input_shape[:2] if channels_last else input_shape[1:]
        if channels != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
        if any(s is not None and s < min_size for s in spatial):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: "
                             f"input_shape={input_shape}")
    else:
        if require_flatten:
            input_shape = default_shape
        else:
            input_shape = (None, None, 3) if channels_last else (3, None, None)
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static `input_shape`. Received: "
                         f"input_shape={input_shape}")
    return input_shape


def correct_pad(inputs, kernel_size):
    """The ZeroPadding2D padding that makes a stride-2 'valid' convolution match TF's 'same' (Keras's rule)."""
    spatial = inputs.shape[1:3] if config.image_data_format() == "channels_last" else inputs.shape[2:4]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if spatial[0] is None else (1 - spatial[0] % 2, 1 - spatial[1] % 2)
    half = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((half[0] - adjust[0], half[0]), (half[1] - adjust[1], half[1]))


def get_source_inputs(tensor):
    """The model inputs (``lamina.Input`` tensors) that ``tensor`` was computed from, in first-seen order."""
    out, seen, stack = [], set(), [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        history = getattr(t, "_history", None)
        if history is None:
            out.append(t)
            continue
        node = history.node
        if node.is_input:
            out.append(t)
        else:
            stack.extend(reversed(node.input_tensors))
    return out


def make_input(input_tensor, input_shape):
    """The input tensor a model is built on (Keras's rule for ``input_tensor``)."""
    from lamina.backend import is_keras_tensor
    from lamina.layers import Input

    if input_tensor is None:
        return Input(shape=input_shape)
    if not is_keras_tensor(input_tensor):
        raise TypeError("input_tensor must be a symbolic tensor from lamina.Input() (or a layer's output), "
                        f"but received {type(input_tensor).__name__}.")
    return input_tensor


def model_inputs(input_tensor, img_input):
    return get_source_inputs(input_tensor) if input_tensor is not None else img_input


def check_pooling(pooling):
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"pooling must be None, 'avg' or 'max', but received {pooling!r}.")


def pooled_or_flat(x, pooling):
    """Apply ``pooling`` (None, "avg" or "max") to a headless model's features."""
    from lamina import layers

    if pooling == "avg":
        return layers.GlobalAveragePooling2D()(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D()(x)
    return x


def finish_model(model, weights, file_name=None, origin=None, file_hash=None):
    """Load ``weights`` into ``model``: ``"imagenet"`` downloads ``origin`` (cached under ``models/``,
    checked against ``file_hash`` when Keras publishes one)."""
    if weights == "imagenet":
        from lamina.utils.file_utils import get_file

        weights = get_file(file_name, origin, cache_subdir="models", file_hash=file_hash)
    if weights is not None:
        model.load_weights(weights)
    return model
