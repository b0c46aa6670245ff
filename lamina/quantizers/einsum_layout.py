"""Where EinsumDense keeps its int8 ``kernel_scale``: Keras 3's output-aligned layout.

lamina computes with the scale laid out like the kernel, its contracted axes set to 1 (``"kernel
layout"``). Keras 3 stores it permuted into the output's axis order with size-1 axes added where
the output has axes the kernel lacks (and, when the kernel has more contracted axes than there are
such output axes, some dropped). Files hold Keras's layout; ``to_file`` / ``from_file`` convert.
"""

import string

import numpy as np


def _specs(equation, input_ndim):
    """``(input, kernel, output)`` letters with ``...`` replaced by fresh letters (as many as it stands for)."""
    eq = equation.replace(" ", "")
    left, output = eq.split("->")
    inputs, kernel = left.split(",")
    if "..." not in inputs:
        return inputs, kernel, output
    fresh = sorted(set(string.ascii_letters) - set(inputs + kernel + output))
    elided = input_ndim - len(inputs.replace("...", ""))
    letters = "".join(fresh[:elided])
    return inputs.replace("...", letters), kernel, output.replace("...", letters)


def _place_reduced(reduced, expand, transpose, index):
    """Insert each contracted axis into ``transpose`` at the next free output position (Keras's rule)."""
    squeeze = []
    for axis in reduced:
        if expand:
            index = expand.pop(0)
        else:
            squeeze.append(axis)
        transpose.insert(index, axis)
    return squeeze, index


def layout(equation, input_ndim, kernel_shape):
    """``(permutation, keras_shape)``: the file layout is ``transpose(scale, permutation)`` reshaped to
    ``keras_shape``, for a kernel-layout scale of a kernel of ``kernel_shape``."""
    inputs, kernel, output = _specs(equation, input_ndim)
    in_reduced = [i for i, c in enumerate(inputs) if c not in output]
    k_reduced = [i for i, c in enumerate(kernel) if c not in output]
    in_expand = [i for i, c in enumerate(output) if c not in inputs]
    k_expand = [i for i, c in enumerate(output) if c not in kernel]
    in_transpose = [inputs.index(c) for c in output if c in inputs]
    k_transpose = [kernel.index(c) for c in output if c in kernel]
    # The insert position carried over from one loop to the next follows Keras's rule exactly.
    index = output.find(kernel[-1]) if kernel else -1
    _, index = _place_reduced(in_reduced, in_expand, in_transpose, index)
    squeeze, _ = _place_reduced(k_reduced, k_expand, k_transpose, index)
    shape = [1 if i in k_reduced else d for i, d in enumerate(kernel_shape)]
    shape = [shape[a] for a in k_transpose]
    for a in sorted(k_expand):
        shape.insert(a, 1)
    for a in sorted(squeeze, reverse=True):
        shape.pop(a)
    return tuple(k_transpose), tuple(shape)


def kernel_layout_shape(equation, input_ndim, kernel_shape):
    inputs, kernel, output = _specs(equation, input_ndim)
    return tuple(1 if c not in output else d for c, d in zip(kernel, kernel_shape))


def _keras_layout(equation, input_ndim, kernel_shape):
    """Keras's ``(permutation, shape)``, or None when it does not hold the scale's values (odd equations)."""
    perm, shape = layout(equation, input_ndim, kernel_shape)
    ours = kernel_layout_shape(equation, input_ndim, kernel_shape)
    if int(np.prod(shape)) != int(np.prod(ours)) or sorted(perm) != list(range(len(ours))):
        return None
    return perm, shape


def file_shape(equation, input_ndim, kernel_shape):
    """The shape of ``kernel_scale`` in the file (Keras's), or lamina's kernel layout if Keras's does not fit."""
    keras = _keras_layout(equation, input_ndim, kernel_shape)
    return keras[1] if keras else kernel_layout_shape(equation, input_ndim, kernel_shape)


def to_kernel_layout(scale, equation, input_ndim, kernel_shape):
    """A scale in the file layout -> kernel layout (a tensor, through ``lamina.ops``)."""
    from lamina import ops

    ours = kernel_layout_shape(equation, input_ndim, kernel_shape)
    keras = _keras_layout(equation, input_ndim, kernel_shape)
    if keras is None or keras[0] == tuple(range(len(ours))):
        return ops.reshape(scale, ours)
    perm = keras[0]
    permuted = tuple(ours[a] for a in perm)
    inverse = tuple(int(i) for i in np.argsort(perm))
    return ops.transpose(ops.reshape(scale, permuted), inverse)


def to_file_layout(scale, equation, input_ndim, kernel_shape):
    """A NumPy scale in kernel layout -> the file layout (``file_shape``)."""
    ours = kernel_layout_shape(equation, input_ndim, kernel_shape)
    keras = _keras_layout(equation, input_ndim, kernel_shape)
    scale = np.asarray(scale).reshape(ours)
    if keras is None:
        return scale
    return np.transpose(scale, keras[0]).reshape(keras[1])
