"""Keras 2's ``K.*`` neural-network, loss, random, CTC and control-flow functions, with Keras 2's semantics.

Each warns once (``DeprecationWarning``) naming its modern form. Formulas follow Keras 2 where they
differ from Keras 3's ``ops``: ``K.binary_crossentropy`` clips to ``[eps, 1 - eps]`` and adds ``eps``
inside the logs, ``K.hard_sigmoid`` is ``clip(0.2 x + 0.5, 0, 1)``, ``K.relu`` takes ``alpha``,
``max_value`` and ``threshold``, ``K.ctc_batch_cost``/``K.ctc_decode`` take softmax outputs
with the blank as the last class. Arguments come in Keras 2's order (``target, output``).

Example:
>>> import warnings
>>> from lamina import backend as K
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     round(float(K.relu(K.constant(-2.0), alpha=0.1)), 4)
-0.2
"""

import numpy as _np

from lamina import config as _config
from lamina.backend._legacy_util import as_tensor as _t
from lamina.backend._legacy_util import deprecated as _deprecated
from lamina.backend._legacy_util import ops as _ops
from lamina.backend._legacy_util import rank as _rank


# -- activations -------------------------------------------------------------------------------------------------
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Keras 2's rectifier: ``max_value`` for ``x >= max_value``, ``x`` for ``threshold <= x < max_value``,
    else ``alpha * (x - threshold)``."""
    _deprecated("relu", "lamina.ops.relu / lamina.activations.relu")
    o, x = _ops(), _t(x)
    if alpha != 0.0 and max_value is None and threshold == 0:
        return o.leaky_relu(x, negative_slope=alpha)
    negative = o.relu(-x + threshold) if alpha != 0.0 else None
    if threshold != 0:
        x = x * o.cast(o.greater(x, threshold), x.dtype)
    else:
        x = o.relu(x)
    if max_value is not None:
        x = o.clip(x, 0.0, max_value)
    if negative is not None:
        x = x - alpha * negative
    return x


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    _deprecated("elu", "lamina.ops.elu")
    return _ops().elu(_t(x), alpha=alpha)


def softmax(x, axis=-1):
    """Softmax of ``x`` along ``axis``."""
    _deprecated("softmax", "lamina.ops.softmax")
    x = _t(x)
    if _rank(x) <= 1:
        raise ValueError(f"K.softmax cannot be applied to a tensor of rank {_rank(x)}; it needs rank >= 2.")
    return _ops().softmax(x, axis=axis)


def hard_sigmoid(x):
    """Keras 2's segment-wise sigmoid: ``clip(0.2 * x + 0.5, 0, 1)`` (Keras 3's uses slope 1/6)."""
    _deprecated("hard_sigmoid", "lamina.ops.hard_sigmoid (slope 1/6 in Keras 3)")
    return _ops().clip(0.2 * _t(x) + 0.5, 0.0, 1.0)


def _simple(name):
    def fn(x):
        _deprecated(name, f"lamina.ops.{name}")
        return getattr(_ops(), name)(_t(x))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Keras 2 ``K.{name}``: ``lamina.ops.{name}`` (warns once)."
    return fn


sigmoid = _simple("sigmoid")
tanh = _simple("tanh")
softplus = _simple("softplus")
softsign = _simple("softsign")


def l2_normalize(x, axis=None):
    """``x / sqrt(max(sum(x ** 2, axis), 1e-12))`` (TensorFlow's ``l2_normalize``)."""
    _deprecated("l2_normalize", "lamina.ops.normalize(x, axis)")
    o, x = _ops(), _t(x)
    return x * o.rsqrt(o.maximum(o.sum(o.square(x), axis=axis, keepdims=True), 1e-12))


def dropout(x, level, noise_shape=None, seed=None):
    """Zero each entry with probability ``level`` and scale the rest by ``1 / (1 - level)``."""
    _deprecated("dropout", "lamina.random.dropout (or the Dropout layer)")
    from lamina import random

    return random.dropout(_t(x), level, noise_shape=noise_shape, seed=seed)


def bias_add(x, bias, data_format=None):
    """Add ``bias`` (1-D, or of rank ``ndim(x) - 1``) along the channels axis of ``x``."""
    _deprecated("bias_add", "x + bias")
    data_format = data_format or _config.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"K.bias_add: data_format must be 'channels_first' or 'channels_last', "
                         f"but received {data_format!r}.")
    o, x, bias = _ops(), _t(x), _t(bias)
    nd, bs = _rank(x), tuple(bias.shape)
    if len(bs) not in (1, nd - 1):
        raise ValueError(f"K.bias_add: the bias must have 1 or {nd - 1} dimensions for an input of rank {nd}, "
                         f"but received a bias of shape {bs}.")
    if data_format == "channels_first" and nd > 2:
        shape = (1, bs[-1]) + (bs[:-1] if len(bs) > 1 else (1,) * (nd - 2))
        return x + o.reshape(bias, shape)
    return x + bias


def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=1e-3):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta``; 1-D statistics broadcast along ``axis``."""
    _deprecated("batch_normalization", "lamina.ops.batch_normalization")
    o, x = _ops(), _t(x)
    nd = _rank(x)
    axis = axis % nd

    def shaped(p):
        if p is None:
            return None
        p = _t(p)
        if _rank(p) == 1 and axis != nd - 1:
            return o.reshape(p, tuple(-1 if i == axis else 1 for i in range(nd)))
        return p

    mean, var, beta, gamma = (shaped(p) for p in (mean, var, beta, gamma))
    inv = o.rsqrt(var + epsilon)
    if gamma is not None:
        inv = inv * gamma
    y = (x - mean) * inv
    return y + beta if beta is not None else y


def normalize_batch_in_training(x, gamma, beta, reduction_axes, epsilon=1e-3):
    """Normalize ``x`` with its batch statistics over ``reduction_axes``; returns ``(normed, mean, variance)``."""
    _deprecated("normalize_batch_in_training", "lamina.ops.moments + lamina.ops.batch_normalization")
    o, x = _ops(), _t(x)
    mean, variance = o.moments(x, axes=list(reduction_axes))
    keep = [1 if i in reduction_axes else d for i, d in enumerate(x.shape)]
    keep = [-1 if d is None else d for d in keep]

    def b(p):
        return None if p is None else o.reshape(_t(p), keep)

    inv = o.rsqrt(b(variance) + epsilon)
    if gamma is not None:
        inv = inv * b(gamma)
    normed = (x - b(mean)) * inv
    return (normed + b(beta) if beta is not None else normed), mean, variance


def in_top_k(predictions, targets, k):
    """Whether each ``targets[i]`` is among the ``k`` largest ``predictions[i]`` (Keras 2's argument order)."""
    _deprecated("in_top_k", "lamina.ops.in_top_k(targets, predictions, k)")
    return _ops().in_top_k(_t(targets), _t(predictions), k)


# -- losses (per sample, Keras 2's argument order: target, output) -----------------------------------------------
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy of one-hot ``target`` and ``output`` (probabilities renormalized to sum 1, clipped to eps)."""
    _deprecated("categorical_crossentropy", "lamina.losses.categorical_crossentropy")
    o, target, output = _ops(), _t(target), _t(output)
    if from_logits:
        return -o.sum(target * o.log_softmax(output, axis=axis), axis=axis)
    output = output / o.sum(output, axis=axis, keepdims=True)
    eps = _config.epsilon()
    return -o.sum(target * o.log(o.clip(output, eps, 1.0 - eps)), axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1, ignore_class=None):
    """Crossentropy of integer ``target`` and ``output``; entries equal to ``ignore_class`` give 0."""
    _deprecated("sparse_categorical_crossentropy", "lamina.losses.sparse_categorical_crossentropy")
    o, target, output = _ops(), _t(target), _t(output)
    nd = _rank(output)
    axis = axis % nd
    if axis != nd - 1:
        output = o.moveaxis(output, axis, -1)
    if not from_logits:
        eps = _config.epsilon()
        output = o.log(o.clip(output, eps, 1.0 - eps))
    target = o.cast(target, "int32")
    out_shape = tuple(output.shape)
    if _rank(target) != nd - 1:
        target = o.reshape(target, (-1,))
        output = o.reshape(output, (-1, out_shape[-1]))
    valid = None
    if ignore_class is not None:
        valid = o.not_equal(target, ignore_class)
        target = o.where(valid, target, 0)
    picked = o.take_along_axis(output, o.expand_dims(target, -1), axis=-1)[..., 0]
    res = o.logsumexp(output, axis=-1) - picked
    if valid is not None:
        res = o.where(valid, res, 0.0)
    if _rank(res) != len(out_shape) - 1 and (nd >= 3 or valid is not None):
        res = o.reshape(res, tuple(-1 if d is None else d for d in out_shape[:-1]))
    return res


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary crossentropy (Keras 2: output clipped to ``[eps, 1 - eps]``, ``+ eps`` in the logs)."""
    _deprecated("binary_crossentropy", "lamina.losses.binary_crossentropy")
    o, target, output = _ops(), _t(target), _t(output)
    if from_logits:
        return o.relu(output) - output * target + o.log1p(o.exp(-o.abs(output)))
    eps = _config.epsilon()
    output = o.clip(output, eps, 1.0 - eps)
    return -(target * o.log(output + eps) + (1.0 - target) * o.log(1.0 - output + eps))


# -- random ------------------------------------------------------------------------------------------------------
def _random(name, fn_name, shape, dtype, seed, **kwargs):
    _deprecated(name, f"lamina.random.{fn_name}")
    from lamina import random

    return getattr(random, fn_name)(tuple(shape), dtype=dtype or _config.floatx(), seed=seed, **kwargs)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of a normal distribution (``dtype`` defaults to ``floatx()``)."""
    return _random("random_normal", "normal", shape, dtype, seed, mean=mean, stddev=stddev)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of a uniform distribution on ``[minval, maxval)``."""
    return _random("random_uniform", "uniform", shape, dtype, seed, minval=minval, maxval=maxval)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of a normal distribution, redrawn beyond two standard deviations."""
    return _random("truncated_normal", "truncated_normal", shape, dtype, seed, mean=mean, stddev=stddev)


def random_bernoulli(shape, p=0.0, dtype=None, seed=None):
    """1 with probability ``p``, else 0."""
    u = _random("random_bernoulli", "uniform", shape, dtype, seed)
    return _ops().cast(_ops().less_equal(u, p), dtype or _config.floatx())


def random_binomial(shape, p=0.0, dtype=None, seed=None):
    """Deprecated alias of ``random_bernoulli`` (as in Keras 2)."""
    return random_bernoulli(shape, p=p, dtype=dtype, seed=seed)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """A Variable holding normal samples."""
    from lamina.backend.legacy import variable

    return variable(random_normal(shape, mean, scale, dtype, seed), dtype=dtype, name=name)


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """A Variable holding uniform samples on ``[low, high)``."""
    from lamina.backend.legacy import variable

    return variable(random_uniform(shape, low, high, dtype, seed), dtype=dtype, name=name)


# -- CTC (softmax outputs, blank = last class, as Keras 2) -------------------------------------------------------
def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    """CTC loss per sample, shape ``(samples, 1)``.

    Args:
        y_true: ``(samples, max_label_length)`` integer labels.
        y_pred: ``(samples, time_steps, num_categories)`` softmax output; the last category is the blank.
        input_length: ``(samples, 1)`` sequence lengths of ``y_pred``.
        label_length: ``(samples, 1)`` lengths of the labels.
    """
    _deprecated("ctc_batch_cost", "lamina.ops.ctc_loss (or lamina.losses.CTC)")
    o, y_pred = _ops(), _t(y_pred)
    label_length = o.cast(o.reshape(_t(label_length), (-1,)), "int32")
    input_length = o.cast(o.reshape(_t(input_length), (-1,)), "int32")
    logits = o.log(y_pred + _config.epsilon())
    loss = o.ctc_loss(o.cast(_t(y_true), "int32"), logits, label_length, input_length,
                      mask_index=int(y_pred.shape[-1]) - 1)
    return o.expand_dims(loss, 1)


def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1):
    """Decode a CTC softmax output; returns ``([decoded, ...], log_prob)`` with blanks/padding as -1.

    Each decoded tensor has shape ``(samples, time_steps)``; the last category is the blank.
    """
    _deprecated("ctc_decode", "lamina.ops.ctc_decode")
    o, y_pred = _ops(), _t(y_pred)
    logits = o.log(y_pred + _config.epsilon())
    decoded, log_prob = o.ctc_decode(logits, o.cast(o.reshape(_t(input_length), (-1,)), "int32"),
                                     strategy="greedy" if greedy else "beam_search", beam_width=beam_width,
                                     top_paths=1 if greedy else top_paths, mask_index=int(y_pred.shape[-1]) - 1)
    steps = int(y_pred.shape[1])
    paths = []
    for i in range(int(decoded.shape[0])):
        d = decoded[i]
        width = int(d.shape[-1])
        if width < steps:
            d = o.pad(d, [[0, 0], [0, steps - width]], constant_values=-1)
        paths.append(d[:, :steps])
    return paths, log_prob


# -- control flow ------------------------------------------------------------------------------------------------
def _value(expr):
    return expr() if callable(expr) else expr


def switch(condition, then_expression, else_expression):
    """``then_expression`` where ``condition`` holds, else ``else_expression`` (either may be a callable).

    A scalar condition picks one branch; a tensor condition selects element-wise, its shape extended with
    trailing length-1 axes to the branches' rank.
    """
    _deprecated("switch", "lamina.ops.cond / lamina.ops.where")
    o = _ops()
    if isinstance(condition, (bool, int, _np.bool_, _np.integer)):
        return _value(then_expression) if condition else _value(else_expression)
    condition = _t(condition)
    if _rank(condition) == 0:
        return o.cond(o.cast(condition, "bool"), lambda: _value(then_expression), lambda: _value(else_expression))
    then_expression, else_expression = _t(_value(then_expression)), _t(_value(else_expression))
    diff = _rank(then_expression) - _rank(condition)
    if diff < 0:
        raise ValueError(f"K.switch: the condition's rank ({_rank(condition)}) must not exceed the "
                         f"expressions' rank ({_rank(then_expression)}).")
    condition = o.cast(condition, "bool")
    for _ in range(diff):
        condition = o.expand_dims(condition, -1)
    return o.where(condition, then_expression, else_expression)


def in_train_phase(x, alt, training=None):
    """``x`` in training, ``alt`` otherwise (callables are called); ``training`` defaults to the current call's
    ``training`` flag, then to ``K.learning_phase()``."""
    _deprecated("in_train_phase", "the `training` argument of call()")
    if training is None:
        from lamina.layers.call_context import current_training

        training = current_training()
    if training is None:
        from lamina.backend.legacy import _PHASE

        training = _PHASE["value"]
    if isinstance(training, (bool, int, _np.bool_, _np.integer)):
        return _value(x) if training else _value(alt)
    return switch(training, x, alt)


def in_test_phase(x, alt, training=None):
    """``x`` outside training, ``alt`` in training."""
    return in_train_phase(alt, x, training=training)


def map_fn(fn, elems, name=None, dtype=None):
    """``fn`` applied to each slice ``elems[i]``, stacked (``lamina.ops.map``)."""
    _deprecated("map_fn", "lamina.ops.map")
    return _ops().map(fn, _t(elems))


def foldl(fn, elems, initializer=None, name=None):
    """Reduce ``elems`` along axis 0 from the left: ``acc = fn(acc, elems[i])``."""
    _deprecated("foldl", "lamina.ops.fori_loop")
    elems = _t(elems)
    items = [elems[i] for i in range(int(elems.shape[0]))]
    acc = items.pop(0) if initializer is None else initializer
    for item in items:
        acc = fn(acc, item)
    return acc


def foldr(fn, elems, initializer=None, name=None):
    """Reduce ``elems`` along axis 0 from the right: ``acc = fn(acc, elems[i])``."""
    _deprecated("foldr", "lamina.ops.fori_loop")
    elems = _t(elems)
    items = [elems[i] for i in range(int(elems.shape[0]))][::-1]
    acc = items.pop(0) if initializer is None else initializer
    for item in items:
        acc = fn(acc, item)
    return acc


# -- convolutions and pooling ------------------------------------------------------------------------------------
def _conv(name, x, kernel, strides, padding, data_format, dilation_rate, depthwise=False):
    _deprecated(name, "lamina.ops.depthwise_conv" if depthwise else "lamina.ops.conv")
    o, x = _ops(), _t(x)
    data_format = data_format or _config.image_data_format()
    if padding == "causal":
        k = int(kernel.shape[0])
        d = dilation_rate if isinstance(dilation_rate, int) else dilation_rate[0]
        pad = [[0, 0], [d * (k - 1), 0], [0, 0]]
        if data_format == "channels_first":
            pad = [[0, 0], [0, 0], [d * (k - 1), 0]]
        x, padding = o.pad(x, pad), "valid"
    fn = o.depthwise_conv if depthwise else o.conv
    return fn(x, _t(kernel), strides=strides, padding=padding, data_format=data_format, dilation_rate=dilation_rate)


def conv1d(x, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """1-D convolution (``padding`` may be ``"causal"``)."""
    return _conv("conv1d", x, kernel, strides, padding, data_format, dilation_rate)


def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1)):
    """2-D convolution."""
    return _conv("conv2d", x, kernel, strides, padding, data_format, dilation_rate)


def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", data_format=None, dilation_rate=(1, 1, 1)):
    """3-D convolution."""
    return _conv("conv3d", x, kernel, strides, padding, data_format, dilation_rate)


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    """2-D depthwise convolution."""
    return _conv("depthwise_conv2d", x, depthwise_kernel, strides, padding, data_format, dilation_rate, True)


def _pool(name, x, pool_size, strides, padding, data_format, pool_mode):
    _deprecated(name, "lamina.ops.max_pool / lamina.ops.average_pool")
    if pool_mode not in ("max", "avg"):
        raise ValueError(f"K.{name}: pool_mode must be 'max' or 'avg', but received {pool_mode!r}.")
    o = _ops()
    fn = o.max_pool if pool_mode == "max" else o.average_pool
    return fn(_t(x), pool_size, strides=strides, padding=padding,
              data_format=data_format or _config.image_data_format())


def pool2d(x, pool_size, strides=(1, 1), padding="valid", data_format=None, pool_mode="max"):
    """2-D max (``pool_mode="max"``) or average (``"avg"``) pooling."""
    return _pool("pool2d", x, pool_size, strides, padding, data_format, pool_mode)


def pool3d(x, pool_size, strides=(1, 1, 1), padding="valid", data_format=None, pool_mode="max"):
    """3-D max or average pooling."""
    return _pool("pool3d", x, pool_size, strides, padding, data_format, pool_mode)
