"""The int8 math shared by the quantized layers: abs-max quantization and int8 products.

Conventions follow Keras 3 (``keras.quantizers``): ``scale = 127 / max(|x|)`` along the
reduced axes, ``q = round(x * scale)`` clipped to ``[-127, 127]``, and ``x ~= q / scale``.
"""

import importlib

from lamina import backend, ops

QUANTIZATION_MODES = ("int8", "int4")  # what lamina's layers implement (Keras 3 also has float8, gptq, awq)


def _int_kernels():
    """The engine's integer kernels (``lamina/backend/<engine>/quantize.py``)."""
    return importlib.import_module(backend.engine.__name__ + ".quantize")


def _normalize_axes(who, axis, ndim):
    axes = (axis,) if isinstance(axis, int) and not isinstance(axis, bool) else axis
    if not isinstance(axes, (tuple, list)) or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in axes):
        raise TypeError(f"{who} expected `axis` to be an int or a tuple of ints, but received axis={axis!r}.")
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{who}: axis {a} is out of range for an input of rank {ndim}.")
        out.append(a % ndim)
    return tuple(sorted(set(out)))


def abs_max_quantize(inputs, axis, value_range=(-127, 127), dtype="int8", epsilon=None, to_numpy=False):
    """Quantize ``inputs`` with one abs-max scale per slice along ``axis`` (as ``keras.quantizers``).

    Args:
        inputs: a float tensor (or array).
        axis: int or tuple of ints, the axes reduced to compute each scale (kept with size 1).
        value_range: ``(low, high)`` of the quantized values (default ``(-127, 127)``).
        dtype: the dtype of the quantized values (default ``"int8"``).
        epsilon: added to the abs-max so an all-zero slice gets a finite scale
            (default ``lamina.config.epsilon()``).
        to_numpy: return NumPy arrays instead of tensors.

    Returns:
        ``(quantized, scale)``: ``quantized`` of ``dtype``, and the float ``scale`` with
        ``inputs ~= quantized / scale``; ``scale`` has the shape of ``inputs`` with the ``axis``
        dimensions set to 1.

    Example:
    >>> import lamina
    >>> q, scale = lamina.quantizers.abs_max_quantize(lamina.ops.convert_to_tensor([[1.0, -2.0, 0.5]]), axis=-1)
    >>> lamina.ops.convert_to_numpy(q).tolist(), lamina.ops.dtype(q)
    ([[64, -127, 32]], 'int8')
    >>> round(float(lamina.ops.convert_to_numpy(scale)[0, 0]), 3)
    63.5
    """
    from lamina import config

    inputs = ops.convert_to_tensor(inputs)
    if not backend.is_float_dtype(ops.dtype(inputs)):
        inputs = ops.cast(inputs, "float32")
    axes = _normalize_axes("abs_max_quantize", axis, len(ops.shape(inputs)))
    low, high = value_range
    eps = config.epsilon() if epsilon is None else epsilon
    scale = ops.divide(float(high), ops.add(ops.max(ops.abs(inputs), axis=axes, keepdims=True), eps))
    quantized = ops.round(ops.multiply(inputs, scale))
    if low != -high:  # symmetric ranges need no clip: |x| * high / (max|x| + eps) < high
        quantized = ops.clip(quantized, low, high)
    quantized = ops.cast(quantized, dtype)
    if to_numpy:
        return ops.convert_to_numpy(quantized), ops.convert_to_numpy(scale)
    return quantized, scale


class Quantizer:
    """Base class of quantizers: ``quantizer(x)`` returns the quantized values (and, for
    subclasses, their scale). Subclasses implement ``__call__`` and ``get_config``.

    Args:
        output_dtype: the dtype of the quantized values (default ``"int8"``).
    """

    def __init__(self, output_dtype="int8"):
        self.output_dtype = output_dtype

    def __call__(self, x):
        return x

    @classmethod
    def from_config(cls, config):
        """Create the quantizer from the dict ``get_config`` returned."""
        return cls(**config)

    def get_config(self):
        """The constructor arguments as a JSON-serializable dict (subclasses must implement it)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config().")


class AbsMaxQuantizer(Quantizer):
    """Symmetric abs-max quantizer: ``quantizer(x, axis)`` returns ``abs_max_quantize(x, axis, ...)``.

    Args:
        axis: default axis (int or tuple) reduced for each scale; ``__call__``'s ``axis`` overrides
            it, and with neither the last axis is used.
        value_range: ``(low, high)`` of the quantized values (default ``(-127, 127)``).
        epsilon: added to the abs-max (default ``lamina.config.epsilon()``).
        output_dtype: dtype of the quantized values (default ``"int8"``).

    Example:
    >>> import lamina
    >>> quantizer = lamina.quantizers.AbsMaxQuantizer(axis=0, value_range=(-8, 7))
    >>> q, scale = quantizer(lamina.ops.convert_to_tensor([[1.0, -4.0], [-2.0, 2.0]]))
    >>> lamina.ops.convert_to_numpy(q).tolist()
    [[4, -7], [-7, 4]]
    >>> quantizer.get_config()["value_range"]
    (-8, 7)
    """

    def __init__(self, axis=None, value_range=(-127, 127), epsilon=None, output_dtype="int8"):
        from lamina import config

        super().__init__(output_dtype=output_dtype)
        if axis is not None:
            axis = (axis,) if isinstance(axis, int) and not isinstance(axis, bool) else axis
            if not isinstance(axis, (tuple, list)) or not all(
                    isinstance(a, int) and not isinstance(a, bool) for a in axis):
                raise TypeError(f"AbsMaxQuantizer expected axis to be None, an int or a tuple of ints, but "
                                f"received axis={axis!r}.")
            axis = tuple(axis)
        self.axis = axis
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or \
                not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value_range) or \
                value_range[0] >= value_range[1]:
            raise ValueError(f"AbsMaxQuantizer expected value_range to be a pair (low, high) with low < high, but "
                             f"received value_range={value_range!r}.")
        self.value_range = tuple(value_range)
        if output_dtype == "int8" and (self.value_range[0] < -128 or self.value_range[1] > 127):
            raise ValueError(f"AbsMaxQuantizer with output_dtype='int8' requires value_range within [-128, 127], "
                             f"but received value_range={self.value_range}.")
        self.epsilon = config.epsilon() if epsilon is None else float(epsilon)

    def __call__(self, x, axis=None, to_numpy=False):
        """Return ``(quantized, scale)`` for ``x``, reducing ``axis`` (else the constructor's, else -1)."""
        axis = self.axis if axis is None else axis
        return abs_max_quantize(x, -1 if axis is None else axis, self.value_range, self.output_dtype,
                                self.epsilon, to_numpy)

    def get_config(self):
        config = {"value_range": self.value_range, "epsilon": self.epsilon, "output_dtype": self.output_dtype}
        if self.axis is not None:
            config["axis"] = self.axis
        return config


def int8_dense(inputs, kernel, kernel_scale, quantizer="default"):
    """``inputs @ dequantize(kernel)`` for an int8 ``(in, units)`` kernel and its ``(units,)`` scale.

    ``quantizer``: how the inputs are quantized per row at call time - ``"default"`` (abs-max
    int8) or a quantizer such as ``AbsMaxQuantizer(value_range=...)``; the product then runs as
    int8 x int8 -> int32 (``lamina/backend/<engine>/quantize.py``) and is rescaled by
    ``1 / (input_scale * kernel_scale)``. ``None``: weight-only, the float inputs multiply the
    int8 values and the result is divided by ``kernel_scale``.
    """
    if quantizer is None:
        dtype = ops.dtype(inputs) if backend.is_float_dtype(ops.dtype(inputs)) else "float32"
        return ops.divide(ops.matmul(inputs, ops.cast(kernel, dtype)), ops.cast(kernel_scale, dtype))
    return int8_products(inputs, kernel, kernel_scale, None if isinstance(quantizer, str) else quantizer)


def int8_products(inputs, kernel, kernel_scale, quantizer=None):
    """Quantize ``inputs`` per row (``quantizer``, default abs-max int8), multiply by the integer
    ``kernel`` ``(in, units)`` exactly, and rescale by ``1 / (input_scale * kernel_scale)``."""
    shape = ops.shape(inputs)
    x_q, x_scale = abs_max_quantize(inputs, axis=-1) if quantizer is None else quantizer(inputs, axis=-1)
    flat = ops.reshape(x_q, (-1, shape[-1]))
    if ops.dtype(flat) == "int8" and ops.dtype(kernel) == "int8":
        acc = _int_kernels().int8_matmul(flat, kernel)
    else:
        acc = ops.matmul(ops.cast(flat, "float32"), ops.cast(kernel, "float32"))
    out = ops.divide(ops.cast(acc, ops.dtype(x_scale)),
                     ops.multiply(ops.reshape(x_scale, (-1, 1)), ops.cast(kernel_scale, ops.dtype(x_scale))))
    return ops.reshape(out, tuple(shape[:-1]) + (ops.shape(kernel)[-1],))


def int8_einsum(equation, inputs, kernel, kernel_scale, input_axes, quantizer="default"):
    """``einsum(equation, inputs, dequantize(kernel))`` with inputs quantized at call time.

    ``input_axes`` are the input axes that do not reach the output (each input slice gets its own
    scale); ``kernel_scale`` has the kernel's shape with its contracted axes set to 1. The einsum
    itself runs on the int8 values held in float32, which is exact while the contraction size is
    below 1040 (``size * 127 * 127 < 2**24``) and otherwise rounds like any float32 sum. The
    combined scale is ``einsum(equation, input_scale, kernel_scale)``: the contracted axes have
    size 1 there, so the einsum is an outer product laid out like the output. ``quantizer``:
    ``"default"`` (abs-max int8), a quantizer such as ``AbsMaxQuantizer(...)``, or None
    (weight-only: the float inputs multiply the int8 kernel).
    """
    if quantizer is None or not input_axes:
        dtype = ops.dtype(inputs) if backend.is_float_dtype(ops.dtype(inputs)) else "float32"
        x_q, x_scale = ops.cast(inputs, dtype), ops.ones_like(ops.cast(inputs, dtype))
        if input_axes:
            x_scale = ops.max(x_scale, axis=input_axes, keepdims=True)
    elif isinstance(quantizer, str):
        x_q, x_scale = abs_max_quantize(inputs, axis=input_axes)
    else:
        x_q, x_scale = quantizer(inputs, axis=input_axes)
    dtype = ops.dtype(x_scale)
    acc = ops.einsum(equation, ops.cast(x_q, dtype), ops.cast(kernel, dtype))
    return ops.divide(acc, ops.einsum(equation, x_scale, ops.cast(kernel_scale, dtype)))


def dequantize(quantized, scale, dtype="float32"):
    """Return ``quantized / scale`` as ``dtype`` (``scale`` broadcasts against ``quantized``)."""
    return ops.divide(ops.cast(quantized, dtype), ops.cast(scale, dtype))
