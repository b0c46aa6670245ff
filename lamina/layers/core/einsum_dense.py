"""``EinsumDense``: a dense layer whose product with the kernel is any einsum equation."""

import re

import numpy as np

from lamina import activations, constraints, initializers, ops, quantizers, regularizers
from lamina.layers.layer import Layer
from lamina.quantizers import einsum_layout, int4_layers
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
        quantization_config: the ``lamina.quantizers.QuantizationConfig`` of a quantized layer
            (set by ``quantize``; read back from a saved config).

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
                 dtype=None, quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, dtype=dtype, **kwargs)
        quant.init_quantization(self, quantization_config, ("int8", "int4"))
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
        self._input_ndim = len(input_shape)
        self._kernel_shape = tuple(kernel_shape)
        quant.resolve_build_policy(self)
        if self.quantization_mode == "int8":
            self.kernel = quant.add_int8_weight(self, "kernel", kernel_shape)
        elif self.quantization_mode == "int4":  # (rows, ceil(columns / 2)), rows = contracted dimensions
            rows, columns = self._int4_matrix_shape()
            self.kernel = quant.add_int8_weight(self, "kernel", (rows, (columns + 1) // 2))
        else:
            self.kernel = self.add_weight(name="kernel", shape=kernel_shape, initializer=self.kernel_initializer,
                                          regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if bias_shape is not None:
            self.bias = self.add_weight(name="bias", shape=bias_shape, initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        if self.quantization_mode == "int8":
            self.kernel_scale = quant.add_scale_weight(self, "kernel_scale", self._scale_file_shape())
        elif self.quantization_mode == "int4":
            int4_layers.add_int4_extras(self, "kernel", *self._int4_matrix_shape())
        self.inputs_quantizer = quant.inputs_quantizer(self)
        self.built = True

    def _scale_file_shape(self):
        return einsum_layout.file_shape(self.equation, self._input_ndim, self._kernel_shape)

    def _int4_matrix_shape(self):
        """(rows, columns) of the kernel seen as a matrix: contracted dimensions x the others (Keras's)."""
        axes = self._contracted_axes()[1]
        rows = columns = 1
        for i, d in enumerate(self._kernel_shape):
            if i in axes:
                rows *= d
            else:
                columns *= d
        return rows, columns

    def _float_kernel(self):
        """The int4 kernel dequantized to its einsum shape."""
        columns = self._int4_matrix_shape()[1]
        matrix = int4_layers.dequantize_int4(self, self.kernel.value, columns, dtype=self.compute_dtype)
        return ops.reshape(matrix, self._kernel_shape)

    def _contracted_axes(self):
        """(input axes, kernel axes) whose letters do not reach the output: one int8 scale per rest."""
        input_spec, weight_spec, output_spec, elided = _split_equation(self.name, self.equation)
        shift = -len(input_spec) if elided == "left" else 0
        input_axes = tuple(i + shift for i, c in enumerate(input_spec) if c not in output_spec)
        return input_axes, tuple(i for i, c in enumerate(weight_spec) if c not in output_spec)

    def call(self, inputs):
        if self.quantization_mode:
            quant.check_not_training(self)
            if self.quantization_mode == "int4":
                x = self._int4_call(inputs)
            else:
                scale = einsum_layout.to_kernel_layout(self.kernel_scale.value, self.equation, self._input_ndim,
                                                       self._kernel_shape)
                x = quantizers.int8_einsum(self.equation, inputs, self.kernel.value, scale,
                                           self._contracted_axes()[0], self.inputs_quantizer)
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

    def _int4_call(self, inputs):
        kernel = self._float_kernel()
        if self.inputs_quantizer is None or self._int4_block_size is not None:
            return ops.einsum(self.equation, inputs, kernel)
        # Per-channel int4 with quantized inputs: the einsum of the int values, divided by the input scale.
        unit = ops.ones(tuple(1 if i in self._contracted_axes()[1] else d for i, d in enumerate(self._kernel_shape)))
        return quantizers.int8_einsum(self.equation, inputs, kernel, unit, self._contracted_axes()[0],
                                      self.inputs_quantizer)

    def quantize(self, mode=None, type_check=True, config=None):
        """Replace the float kernel by a quantized one (as Keras 3's ``EinsumDense.quantize``).

        ``mode="int8"``: an int8 ``kernel`` and a float ``kernel_scale`` (one scale per kernel slice
        along the contracted axes, stored in Keras's output-aligned layout); inputs are then quantized
        at call time (see ``lamina.quantizers.int8_einsum``) unless the config's
        ``activation_quantizer`` is None. ``mode="int4"``: the kernel reshaped to ``(rows, columns)``
        (rows = contracted dimensions) and packed to ``(rows, ceil(columns / 2))``, with per-column
        scales or, in groups of ``block_size`` rows (default 128), scales and zero points
        ``(groups, columns)``. Inference only.
        """
        config = quant.begin_quantize(self, mode, config)
        axes = self._contracted_axes()[1]
        if config.mode == "int8":
            shape = tuple(1 if i in axes else d for i, d in enumerate(self.kernel.shape))
            quant.quantize_int8_weight(self, "kernel", axis=axes, scale_name="kernel_scale", scale_shape=shape,
                                       quantizer=config.weight_quantizer)
            stored = einsum_layout.to_file_layout(self.kernel_scale.numpy(), self.equation, self._input_ndim,
                                                  self._kernel_shape)
            if stored.shape != tuple(self.kernel_scale.shape):
                quant.replace_weight(self, "kernel_scale", stored, "float32")
        else:
            block = quantizers.block_size_of(config)
            matrix = ops.reshape(self.kernel.value, self._int4_matrix_shape())
            packed, scale, zero = int4_layers.quantize_int4(matrix, block, config.weight_quantizer)
            quant.replace_weight(self, "kernel", packed, "int8")
            self._int4_block_size = block
            int4_layers.set_int4_extras(self, "kernel", scale, zero, self._int4_matrix_shape()[0])
        quant.finish_quantize(self, config)
        self.inputs_quantizer = quant.inputs_quantizer(self)

    def load_own_variables(self, store):
        # Files of lamina before it used Keras's layout hold an int8 kernel_scale laid out like the kernel.
        if self.quantization_mode == "int8":
            key = str(1 if self.bias is None else 2)
            ours = einsum_layout.kernel_layout_shape(self.equation, self._input_ndim, self._kernel_shape)
            if key in store.keys() and ours != tuple(self.kernel_scale.shape) and \
                    tuple(getattr(store[key], "shape", ())) == ours:
                store = {**{k: store[k] for k in store.keys()}, key: einsum_layout.to_file_layout(
                    np.asarray(store[key]), self.equation, self._input_ndim, self._kernel_shape)}
        super().load_own_variables(store)

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
            **quant.config_entries(self),
        }
