"""``EinsumDense``: a dense layer whose product with the kernel is any einsum equation."""

import re

from lamina import activations, constraints, initializers, ops, quantizers, regularizers
from lamina.layers.layer import Layer
from lamina.quantizers import layer_support as quant

_PLAIN = re.compile(r"^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$")
_LEFT = re.compile(r"^\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$")
_RIGHT = re.compile(r"^([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]{2,})\.\.\.$")


def _split_equation(who, equation):
    """Return (input_spec, weight_spec, output_spec, elided) with elided in (None, "left", "right")."""
    equation = equation.replace(" ", "") if isinstance(equation, str) else equation
    for pattern, elided in ((_PLAIN, None), (_LEFT, "left"), (_RIGHT, "right")):
        match = pattern.match(equation) if isinstance(equation, str) else None
        if match:
            return match.group(1), match.group(2), match.group(3), elided
    raise ValueError(
        f"{who} expected an einsum equation of the form 'ab,bc->ac', '...b,bc->...c' or 'ab...,bc->ac...', "
        f"but received equation={equation!r}.")


def analyze_einsum(who, equation, bias_axes, input_shape, output_shape):
    """Return (kernel_shape, bias_shape or None, full_output_shape) for ``input_shape``."""
    input_spec, weight_spec, output_spec, elided_side = _split_equation(who, equation)
    input_shape = tuple(input_shape)
    partial = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    elided = len(input_shape) - len(input_spec)
    if elided < 0 or (elided > 0 and elided_side is None):
        raise ValueError(f"{who}: the equation {equation!r} needs inputs of rank {len(input_spec)}, but "
                         f"received input shape {input_shape}.")
    full = [input_shape[0]] + partial
    if elided_side == "left":
        full[1:1] = list(input_shape[1:elided])
        in_idx = {c: i + elided for i, c in enumerate(input_spec)}
        out_idx = {c: i + elided for i, c in enumerate(output_spec)}
    else:
        if elided_side == "right":
            full += list(input_shape[len(input_shape) - elided:])
        in_idx = {c: i for i, c in enumerate(input_spec)}
        out_idx = {c: i for i, c in enumerate(output_spec)}
    if len(full) != len(output_spec) + elided:
        raise ValueError(f"{who}: output_shape={output_shape!r} does not fit the equation {equation!r} "
                         f"(expected {len(output_spec) - 1} output dimensions after the batch).")
    for c in input_spec:
        if c in out_idx:
            given, have = full[out_idx[c]], input_shape[in_idx[c]]
            if given is not None and have is not None and given != have:
                raise ValueError(
                    f"{who}: output_shape puts {given} at dimension '{c}', but the input has {have} there "
                    f"(input shape {input_shape}, equation {equation!r}).")
            full[out_idx[c]] = have
    for c in output_spec:
        if c not in input_spec and c not in weight_spec:
            raise ValueError(f"{who}: output dimension '{c}' of equation {equation!r} is in neither the input "
                             "nor the weight.")
    kernel_shape = []
    for c in weight_spec:
        if c in in_idx:
            kernel_shape.append(input_shape[in_idx[c]])
        elif c in out_idx:
            kernel_shape.append(full[out_idx[c]])
        else:
            raise ValueError(f"{who}: weight dimension '{c}' of equation {equation!r} is in neither the input "
                             "nor the output.")
    if any(d is None for d in kernel_shape):
        raise ValueError(f"{who} needs known sizes for every kernel dimension, but the kernel would be "
                         f"{tuple(kernel_shape)} for input shape {input_shape}.")
    bias_shape = None
    if bias_axes:
        for c in bias_axes:
            if c not in output_spec:
                raise ValueError(f"{who}: bias_axes={bias_axes!r} names '{c}', which is not an output "
                                 f"dimension of {equation!r}.")
        first = min(output_spec.find(c) for c in bias_axes)
        bias_shape = [full[out_idx[c]] if c in bias_axes else 1 for c in output_spec[first:]]
        if elided_side == "right":
            bias_shape += [1] * elided
    return tuple(kernel_shape), (tuple(bias_shape) if bias_shape is not None else None), tuple(full)


class EinsumDense(Layer):
    """A dense layer defined by an einsum equation between the input and the kernel.

    Args:
        equation: ``"<input>,<kernel>-><output>"`` with one letter per axis, e.g. ``"ab,bc->ac"``
            (a Dense layer), ``"abc,cde->abde"`` (project to heads); ``...`` may stand for leading
            (``"...b,bc->...c"``) or trailing (``"ab...,bc->ac..."``) axes.
        output_shape: the output shape without the batch axis (an int for rank 2); ``None`` entries
            take the input's size.
        activation: activation applied to the result.
        bias_axes: letters of the output axes that get a bias (default: no bias).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: as ``Dense``.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 4), bias_axes="de")
    >>> lamina.ops.shape(layer(lamina.ops.ones((3, 5, 6))))
    (3, 5, 2, 4)
    >>> [w.shape for w in layer.weights]
    [(6, 2, 4), (2, 4)]
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 dtype=None, **kwargs):
        dtype, self.quantization_mode = quant.split_dtype_policy(dtype)
        super().__init__(activity_regularizer=activity_regularizer, dtype=dtype, **kwargs)
        who = f"Layer '{self.name}' (EinsumDense)"
        _split_equation(who, equation)
        if not isinstance(output_shape, int) and not (
                isinstance(output_shape, (list, tuple))
                and all(d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0)
                        for d in output_shape)):
            raise ValueError(f"{who} expected output_shape to be an int or a list of ints/None, but received "
                             f"output_shape={output_shape!r}.")
        if bias_axes is not None and not isinstance(bias_axes, str):
            raise ValueError(f"{who} expected bias_axes to be a string of output axis letters, but received "
                             f"bias_axes={bias_axes!r}.")
        self.equation = equation.replace(" ", "")
        self.partial_output_shape = output_shape if isinstance(output_shape, int) else tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.full_output_shape = None
        self.supports_masking = True

    def build(self, input_shape):
        who = f"Layer '{self.name}' (EinsumDense)"
        kernel_shape, bias_shape, full = analyze_einsum(who, self.equation, self.bias_axes, input_shape,
                                                        self.partial_output_shape)
        self.full_output_shape = full
        if self.quantization_mode:
            self.kernel = quant.add_int8_weight(self, "kernel", kernel_shape)
        else:
            self.kernel = self.add_weight(name="kernel", shape=kernel_shape, initializer=self.kernel_initializer,
                                          regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if bias_shape is not None:
            self.bias = self.add_weight(name="bias", shape=bias_shape, initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        if self.quantization_mode:
            axes = self._contracted_axes()[1]
            self.kernel_scale = quant.add_scale_weight(
                self, "kernel_scale", tuple(1 if i in axes else d for i, d in enumerate(kernel_shape)))
        self.built = True

    def _contracted_axes(self):
        """(input axes, kernel axes) whose letters do not reach the output: one int8 scale per rest."""
        input_spec, weight_spec, output_spec, elided = _split_equation(self.name, self.equation)
        shift = -len(input_spec) if elided == "left" else 0
        input_axes = tuple(i + shift for i, c in enumerate(input_spec) if c not in output_spec)
        return input_axes, tuple(i for i, c in enumerate(weight_spec) if c not in output_spec)

    def call(self, inputs):
        if self.quantization_mode:
            quant.check_not_training(self)
            x = quantizers.int8_einsum(self.equation, inputs, self.kernel.value, self.kernel_scale.value,
                                       self._contracted_axes()[0])
        else:
            x = ops.einsum(self.equation, inputs, self.kernel.value)
        if self.bias is not None:
            x = ops.add(x, self.bias.value)
        if self.activation is not activations.linear:
            x = self.activation(x)
        return x

    def compute_output_shape(self, input_shape):
        who = f"Layer '{self.name}' (EinsumDense)"
        return analyze_einsum(who, self.equation, self.bias_axes, input_shape, self.partial_output_shape)[2]

    def quantize(self, mode):
        """Replace the float kernel by an int8 ``kernel`` and a float ``kernel_scale`` (one scale per
        kernel slice along the contracted axes). ``mode="int8"``: inputs are then quantized at call
        time (see ``lamina.quantizers.int8_einsum``). Inference only.
        """
        quant.check_quantize(self, mode)
        axes = self._contracted_axes()[1]
        shape = tuple(1 if i in axes else d for i, d in enumerate(self.kernel.shape))
        quant.quantize_weight(self, "kernel", axis=axes, scale_name="kernel_scale", scale_shape=shape)
        self.quantization_mode = mode

    def get_config(self):
        return {
            **super().get_config(),
            "dtype": quant.policy_name(self, self.dtype),
            "output_shape": (self.partial_output_shape if isinstance(self.partial_output_shape, int)
                             else list(self.partial_output_shape)),
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }
