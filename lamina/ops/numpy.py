"""NumPy-like ops: ``lamina.ops.add``, ``lamina.ops.matmul``, ``lamina.ops.mean`` ...

Each works eagerly on engine tensors, NumPy arrays and Python numbers, and
symbolically on ``KerasTensor``s (recording a Functional graph node).
Python scalars are weakly typed: ``ops.add(float32_tensor, 1)`` stays float32.
"""

from lamina import backend
from lamina.ops._export import export_ops


def _doc(summary, example):
    return f"{summary}\n\nExample:\n>>> from lamina import ops\n>>> {example}\n"


def _ex(call, result):
    return _doc_example(call, result)


def _exr(call, result):
    """An example whose float result is shown rounded to 4 decimals."""
    return f"ops.convert_to_numpy({call}).astype('float64').round(4).tolist()\n{result}"


def _doc_example(call, result):
    return f"ops.convert_to_numpy({call}).tolist()\n{result}"


_DOCS = {
    "add": _doc("Add arguments element-wise.", _ex("ops.add([1, 2], [3, 4])", "[4, 6]")),
    "subtract": _doc("Subtract arguments element-wise.", _ex("ops.subtract([5, 2], [3, 4])", "[2, -2]")),
    "multiply": _doc("Multiply arguments element-wise.", _ex("ops.multiply([1, 2], [3, 4])", "[3, 8]")),
    "divide": _doc("Divide arguments element-wise (always a float result).", _ex("ops.divide([1, 3], [2, 4])", "[0.5, 0.75]")),
    "true_divide": _doc("Alias of ``divide``.", _ex("ops.true_divide([1], [2])", "[0.5]")),
    "divide_no_nan": _doc("Divide, giving 0 where the divisor is 0.", _ex("ops.divide_no_nan([1.0, 1.0], [0.0, 2.0])", "[0.0, 0.5]")),
    "floor_divide": _doc("Floor-divide element-wise.", _ex("ops.floor_divide([7, -7], [2, 2])", "[3, -4]")),
    "mod": _doc("Remainder of division, with the sign of the divisor.", _ex("ops.mod([7, -7], [3, 3])", "[1, 2]")),
    "power": _doc("First argument raised to the second, element-wise.", _ex("ops.power([2, 3], [3, 2])", "[8, 9]")),
    "negative": _doc("Numerical negative, element-wise.", _ex("ops.negative([1, -2])", "[-1, 2]")),
    "abs": _doc("Absolute value, element-wise.", _ex("ops.abs([-1, 2])", "[1, 2]")),
    "absolute": _doc("Alias of ``abs``.", _ex("ops.absolute([-3])", "[3]")),
    "sign": _doc("Sign (-1, 0 or 1) element-wise.", _ex("ops.sign([-2, 0, 3])", "[-1, 0, 1]")),
    "square": _doc("Square element-wise.", _ex("ops.square([2, -3])", "[4, 9]")),
    "sqrt": _doc("Square root element-wise.", _ex("ops.sqrt([4.0, 9.0])", "[2.0, 3.0]")),
    "exp": _doc("Exponential element-wise.", _ex("ops.exp([0.0])", "[1.0]")),
    "expm1": _doc("``exp(x) - 1``, accurate near 0.", _ex("ops.expm1([0.0])", "[0.0]")),
    "log": _doc("Natural logarithm element-wise.", _ex("ops.log([1.0])", "[0.0]")),
    "log1p": _doc("``log(1 + x)``, accurate near 0.", _ex("ops.log1p([0.0])", "[0.0]")),
    "log2": _doc("Base-2 logarithm.", _ex("ops.log2([8.0])", "[3.0]")),
    "log10": _doc("Base-10 logarithm.", _ex("ops.log10([100.0])", "[2.0]")),
    "reciprocal": _doc("``1 / x`` element-wise.", _ex("ops.reciprocal([2.0])", "[0.5]")),
    "sin": _doc("Sine element-wise.", _ex("ops.sin([0.0])", "[0.0]")),
    "cos": _doc("Cosine element-wise.", _ex("ops.cos([0.0])", "[1.0]")),
    "tan": _doc("Tangent element-wise.", _ex("ops.tan([0.0])", "[0.0]")),
    "tanh": _doc("Hyperbolic tangent element-wise.", _ex("ops.tanh([0.0])", "[0.0]")),
    "sinh": _doc("Hyperbolic sine element-wise.", _ex("ops.sinh([0.0])", "[0.0]")),
    "cosh": _doc("Hyperbolic cosine element-wise.", _ex("ops.cosh([0.0])", "[1.0]")),
    "arctan": _doc("Inverse tangent element-wise.", _ex("ops.arctan([0.0])", "[0.0]")),
    "arcsin": _doc("Inverse sine element-wise.", _ex("ops.arcsin([0.0])", "[0.0]")),
    "arccos": _doc("Inverse cosine element-wise.", _ex("ops.arccos([1.0])", "[0.0]")),
    "arctan2": _doc("Element-wise arc tangent of ``x1 / x2``, choosing the quadrant.", _ex("ops.arctan2([0.0], [1.0])", "[0.0]")),
    "floor": _doc("Floor element-wise.", _ex("ops.floor([1.5, -1.5])", "[1.0, -2.0]")),
    "ceil": _doc("Ceiling element-wise.", _ex("ops.ceil([1.5, -1.5])", "[2.0, -1.0]")),
    "round": _doc("Round half to even, to ``decimals`` places.", _ex("ops.round([0.5, 1.5, 2.25])", "[0.0, 2.0, 2.0]")),
    "trunc": _doc("Round towards zero.", _ex("ops.trunc([1.7, -1.7])", "[1.0, -1.0]")),
    "clip": _doc("Limit values to ``[x_min, x_max]``.", _ex("ops.clip([-1, 5, 10], 0, 6)", "[0, 5, 6]")),
    "maximum": _doc("Element-wise maximum.", _ex("ops.maximum([1, 5], [3, 2])", "[3, 5]")),
    "minimum": _doc("Element-wise minimum.", _ex("ops.minimum([1, 5], [3, 2])", "[1, 2]")),
    "logaddexp": _doc("``log(exp(x1) + exp(x2))``, computed stably.", _ex("ops.logaddexp([0.0], [0.0])[0] > 0.69", "True")),
    "equal": _doc("``x1 == x2`` element-wise.", _ex("ops.equal([1, 2], [1, 3])", "[True, False]")),
    "not_equal": _doc("``x1 != x2`` element-wise.", _ex("ops.not_equal([1, 2], [1, 3])", "[False, True]")),
    "less": _doc("``x1 < x2`` element-wise.", _ex("ops.less([1, 2], [2, 2])", "[True, False]")),
    "less_equal": _doc("``x1 <= x2`` element-wise.", _ex("ops.less_equal([1, 2], [2, 2])", "[True, True]")),
    "greater": _doc("``x1 > x2`` element-wise.", _ex("ops.greater([1, 3], [2, 2])", "[False, True]")),
    "greater_equal": _doc("``x1 >= x2`` element-wise.", _ex("ops.greater_equal([1, 2], [2, 2])", "[False, True]")),
    "logical_and": _doc("Logical AND element-wise.", _ex("ops.logical_and([True, True], [True, False])", "[True, False]")),
    "logical_or": _doc("Logical OR element-wise.", _ex("ops.logical_or([True, False], [False, False])", "[True, False]")),
    "logical_xor": _doc("Logical XOR element-wise.", _ex("ops.logical_xor([True, True], [True, False])", "[False, True]")),
    "logical_not": _doc("Logical NOT element-wise.", _ex("ops.logical_not([True, False])", "[False, True]")),
    "isnan": _doc("True where ``x`` is NaN.", _ex("ops.isnan([1.0, float('nan')])", "[False, True]")),
    "isinf": _doc("True where ``x`` is infinite.", _ex("ops.isinf([1.0, float('inf')])", "[False, True]")),
    "isfinite": _doc("True where ``x`` is finite.", _ex("ops.isfinite([1.0, float('inf')])", "[True, False]")),
    "where": _doc("Choose from ``x1`` where ``condition`` holds, else from ``x2``.", _ex("ops.where([True, False], [1, 2], [3, 4])", "[1, 4]")),
    "sum": _doc("Sum over ``axis`` (all axes when None).", _ex("ops.sum([[1, 2], [3, 4]], axis=0)", "[4, 6]")),
    "mean": _doc("Mean over ``axis``.", _ex("ops.mean([[1.0, 2.0], [3.0, 4.0]], axis=1)", "[1.5, 3.5]")),
    "max": _doc("Maximum over ``axis``.", _ex("ops.max([[1, 5], [3, 2]], axis=1)", "[5, 3]")),
    "min": _doc("Minimum over ``axis``.", _ex("ops.min([[1, 5], [3, 2]], axis=1)", "[1, 2]")),
    "amax": _doc("Alias of ``max``.", _ex("ops.amax([1, 5, 3])", "5")),
    "amin": _doc("Alias of ``min``.", _ex("ops.amin([1, 5, 3])", "1")),
    "prod": _doc("Product over ``axis``.", _ex("ops.prod([[1, 2], [3, 4]], axis=1)", "[2, 12]")),
    "var": _doc("Variance (population) over ``axis``.", _ex("ops.var([1.0, 3.0])", "1.0")),
    "std": _doc("Standard deviation (population) over ``axis``.", _ex("ops.std([1.0, 3.0])", "1.0")),
    "all": _doc("True when every element along ``axis`` is true.", _ex("ops.all([[True, False], [True, True]], axis=1)", "[False, True]")),
    "any": _doc("True when some element along ``axis`` is true.", _ex("ops.any([[True, False], [False, False]], axis=1)", "[True, False]")),
    "argmax": _doc("Index of the maximum along ``axis``.", _ex("ops.argmax([[1, 5], [3, 2]], axis=1)", "[1, 0]")),
    "argmin": _doc("Index of the minimum along ``axis``.", _ex("ops.argmin([[1, 5], [3, 2]], axis=1)", "[0, 1]")),
    "cumsum": _doc("Cumulative sum along ``axis``.", _ex("ops.cumsum([1, 2, 3])", "[1, 3, 6]")),
    "cumprod": _doc("Cumulative product along ``axis``.", _ex("ops.cumprod([1, 2, 3])", "[1, 2, 6]")),
    "logsumexp": _doc("``log(sum(exp(x)))`` along ``axis``, computed stably.", "print(f'{float(ops.logsumexp([0.0, 0.0])):.4f}')\n0.6931"),
    "count_nonzero": _doc("Number of non-zero values along ``axis``.", _ex("ops.count_nonzero([0, 1, 2])", "2")),
    "matmul": _doc("Matrix product (batched over leading axes).", _ex("ops.matmul([[1, 2]], [[3], [4]])", "[[11]]")),
    "dot": _doc("Dot product as ``numpy.dot``.", _ex("ops.dot([1, 2], [3, 4])", "11")),
    "tensordot": _doc("Tensor contraction over ``axes``.", _ex("ops.tensordot([1, 2], [3, 4], axes=1)", "11")),
    "einsum": _doc("Einstein summation.", _ex("ops.einsum('ij,j->i', [[1, 2], [3, 4]], [1, 1])", "[3, 7]")),
    "outer": _doc("Outer product of two vectors.", _ex("ops.outer([1, 2], [3, 4])", "[[3, 4], [6, 8]]")),
    "trace": _doc("Sum along a diagonal.", _ex("ops.trace([[1, 2], [3, 4]])", "5")),
    "reshape": _doc("Give a new shape (one dimension may be -1).", _ex("ops.reshape([1, 2, 3, 4], (2, 2))", "[[1, 2], [3, 4]]")),
    "transpose": _doc("Permute axes (reverse them when ``axes`` is None).", _ex("ops.transpose([[1, 2]])", "[[1], [2]]")),
    "expand_dims": _doc("Insert an axis of size 1.", _ex("ops.expand_dims([1, 2], 0)", "[[1, 2]]")),
    "squeeze": _doc("Remove axes of size 1.", _ex("ops.squeeze([[1, 2]], 0)", "[1, 2]")),
    "ravel": _doc("Flatten to one dimension.", _ex("ops.ravel([[1, 2], [3, 4]])", "[1, 2, 3, 4]")),
    "broadcast_to": _doc("Broadcast to ``shape``.", _ex("ops.broadcast_to([1, 2], (2, 2))", "[[1, 2], [1, 2]]")),
    "moveaxis": _doc("Move axes to new positions.", _ex("ops.moveaxis([[1, 2]], 0, 1)", "[[1], [2]]")),
    "swapaxes": _doc("Swap two axes.", _ex("ops.swapaxes([[1, 2]], 0, 1)", "[[1], [2]]")),
    "concatenate": _doc("Join tensors along an existing axis.", _ex("ops.concatenate([[1], [2, 3]])", "[1, 2, 3]")),
    "stack": _doc("Join tensors along a new axis.", _ex("ops.stack([[1, 2], [3, 4]], axis=1)", "[[1, 3], [2, 4]]")),
    "split": _doc("Split into equal parts, or at indices; returns a list.", "[ops.convert_to_numpy(p).tolist() for p in ops.split([1, 2, 3, 4], 2)]\n[[1, 2], [3, 4]]"),
    "tile": _doc("Repeat the whole tensor ``repeats`` times per axis.", _ex("ops.tile([1, 2], 2)", "[1, 2, 1, 2]")),
    "repeat": _doc("Repeat each element.", _ex("ops.repeat([1, 2], 2)", "[1, 1, 2, 2]")),
    "flip": _doc("Reverse the order of elements along ``axis``.", _ex("ops.flip([1, 2, 3])", "[3, 2, 1]")),
    "pad": _doc("Pad with ``mode`` 'constant', 'reflect', 'symmetric' or 'edge'.", _ex("ops.pad([1, 2], (1, 1))", "[0, 1, 2, 0]")),
    "get_item": _doc("``x[key]``.", _ex("ops.get_item([1, 2, 3], 1)", "2")),
    "take": _doc("Take elements at ``indices`` along ``axis``.", _ex("ops.take([10, 20, 30], [2, 0])", "[30, 10]")),
    "take_along_axis": _doc("Take values at ``indices`` along ``axis`` (as numpy).", _ex("ops.take_along_axis([[10, 20], [30, 40]], [[1], [0]], axis=1)", "[[20], [30]]")),
    "sort": _doc("Sort along ``axis``.", _ex("ops.sort([3, 1, 2])", "[1, 2, 3]")),
    "argsort": _doc("Indices that sort along ``axis`` (stable).", _ex("ops.argsort([3, 1, 2])", "[1, 2, 0]")),
    "tril": _doc("Lower triangle (zero above diagonal ``k``).", _ex("ops.tril([[1, 2], [3, 4]])", "[[1, 0], [3, 4]]")),
    "triu": _doc("Upper triangle (zero below diagonal ``k``).", _ex("ops.triu([[1, 2], [3, 4]])", "[[1, 2], [0, 4]]")),
    "diag": _doc("Extract a diagonal, or build a diagonal matrix.", _ex("ops.diag([1, 2])", "[[1, 0], [0, 2]]")),
    "diagonal": _doc("Diagonal of a (batched) matrix.", _ex("ops.diagonal([[1, 2], [3, 4]])", "[1, 4]")),
    "size": _doc("Number of elements.", "ops.size([[1, 2], [3, 4]])\n4"),
    "ndim": _doc("Number of axes.", "ops.ndim([[1, 2]])\n2"),
    "copy": _doc("A copy of ``x``.", _ex("ops.copy([1, 2])", "[1, 2]")),
    "nan_to_num": _doc("Replace NaN and infinities by numbers.", _ex("ops.nan_to_num([float('nan'), 1.0])", "[0.0, 1.0]")),
    "zeros": _doc("A tensor of zeros.", _ex("ops.zeros((2,))", "[0.0, 0.0]")),
    "ones": _doc("A tensor of ones.", _ex("ops.ones((2,))", "[1.0, 1.0]")),
    "full": _doc("A tensor filled with ``fill_value`` (floatx for a Python number, as Keras; give ``dtype`` for others).", _ex("ops.full((2,), 7)", "[7.0, 7.0]")),
    "zeros_like": _doc("Zeros with the shape and dtype of ``x``.", _ex("ops.zeros_like([1, 2])", "[0, 0]")),
    "ones_like": _doc("Ones with the shape and dtype of ``x``.", _ex("ops.ones_like([1, 2])", "[1, 1]")),
    "full_like": _doc("``fill_value`` with the shape and dtype of ``x``.", _ex("ops.full_like([1, 2], 5)", "[5, 5]")),
    "arange": _doc("Evenly spaced values in ``[start, stop)``.", _ex("ops.arange(3)", "[0, 1, 2]")),
    "linspace": _doc("``num`` evenly spaced values from ``start`` to ``stop``.", _ex("ops.linspace(0, 1, 3)", "[0.0, 0.5, 1.0]")),
    "eye": _doc("A 2-D tensor with ones on diagonal ``k``.", _ex("ops.eye(2)", "[[1.0, 0.0], [0.0, 1.0]]")),
    "identity": _doc("The identity matrix.", _ex("ops.identity(2)", "[[1.0, 0.0], [0.0, 1.0]]")),
    "meshgrid": _doc("Coordinate grids from 1-D vectors.", "[ops.convert_to_numpy(g).tolist() for g in ops.meshgrid([1, 2], [3])]\n[[[1, 2]], [[3, 3]]]"),
}

_DOCS.update({
    # element-wise math
    "arccosh": _doc("Inverse hyperbolic cosine element-wise.", _ex("ops.arccosh([1.0])", "[0.0]")),
    "arcsinh": _doc("Inverse hyperbolic sine element-wise.", _ex("ops.arcsinh([0.0])", "[0.0]")),
    "arctanh": _doc("Inverse hyperbolic tangent element-wise.", _ex("ops.arctanh([0.0])", "[0.0]")),
    "cbrt": _doc("Cube root element-wise (real, also for negative inputs).", _exr("ops.cbrt([8, -8])", "[2.0, -2.0]")),
    "exp2": _doc("``2 ** x`` element-wise.", _ex("ops.exp2([3])", "[8.0]")),
    "rsqrt": _doc("``1 / sqrt(x)`` element-wise.", _ex("ops.rsqrt([4.0])", "[0.5]")),
    "erf": _doc("Gauss error function element-wise.", _ex("ops.erf([0.0])", "[0.0]")),
    "erfinv": _doc("Inverse of ``erf`` element-wise.", _ex("ops.erfinv([0.0])", "[0.0]")),
    "fabs": _doc("Absolute value as a float tensor.", _ex("ops.fabs([-2, 3])", "[2.0, 3.0]")),
    "deg2rad": _doc("Degrees to radians.", _exr("ops.deg2rad([180])", "[3.1416]")),
    "rad2deg": _doc("Radians to degrees.", _ex("ops.rad2deg([0.0])", "[0.0]")),
    "sinc": _doc("Normalized sinc ``sin(pi x) / (pi x)``.", _ex("ops.sinc([0.0])", "[1.0]")),
    "signbit": _doc("True where the sign bit is set (negative numbers, -0.0).", _ex("ops.signbit([-1.0, 0.0, 2.0])", "[True, False, False]")),
    "conj": _doc("Complex conjugate (the input itself for real tensors).", _ex("ops.conj([1.0])", "[1.0]")),
    "conjugate": _doc("Alias of ``conj``.", _ex("ops.conjugate([1.0])", "[1.0]")),
    "real": _doc("Real part.", _ex("ops.real([1.5])", "[1.5]")),
    "imag": _doc("Imaginary part (zeros for real tensors).", _ex("ops.imag([1.5])", "[0.0]")),
    "angle": _doc("Argument of complex numbers (0 or pi for reals).", _exr("ops.angle([-1.0, 1.0])", "[3.1416, 0.0]")),
    "fmod": _doc("Remainder of division, with the sign of the dividend (C ``fmod``).", _ex("ops.fmod([7, -7], [3, 3])", "[1, -1]")),
    "hypot": _doc("``sqrt(x1**2 + x2**2)`` element-wise.", _ex("ops.hypot([3.0], [4.0])", "[5.0]")),
    "logaddexp2": _doc("``log2(2**x1 + 2**x2)``, computed stably.", _ex("ops.logaddexp2([1.0], [1.0])", "[2.0]")),
    "heaviside": _doc("Heaviside step: 0 for x1 < 0, ``x2`` at 0, 1 for x1 > 0.", _ex("ops.heaviside([-1.0, 0.0, 2.0], 0.5)", "[0.0, 0.5, 1.0]")),
    "fmax": _doc("Element-wise maximum, ignoring NaNs.", _ex("ops.fmax([1.0, float('nan')], [2.0, 3.0])", "[2.0, 3.0]")),
    "fmin": _doc("Element-wise minimum, ignoring NaNs.", _ex("ops.fmin([1.0, float('nan')], [2.0, 3.0])", "[1.0, 3.0]")),
    "isneginf": _doc("True where ``x`` is negative infinity.", _ex("ops.isneginf([-float('inf'), 1.0])", "[True, False]")),
    "isposinf": _doc("True where ``x`` is positive infinity.", _ex("ops.isposinf([float('inf'), 1.0])", "[True, False]")),
    "isclose": _doc("True where ``|x1 - x2| <= atol + rtol * |x2|``.", _ex("ops.isclose([1.0, 1.0], [1.0, 1.1])", "[True, False]")),
    "allclose": _doc("True when ``isclose`` holds everywhere (a 0-d boolean tensor).", _ex("ops.allclose([1.0, 2.0], [1.0, 2.0])", "True")),
    "isin": _doc("True where an element of ``x1`` occurs in ``x2``.", _ex("ops.isin([1, 2, 3], [2, 3])", "[False, True, True]")),
    "bitwise_and": _doc("Bitwise AND of integers.", _ex("ops.bitwise_and([12], [10])", "[8]")),
    "bitwise_or": _doc("Bitwise OR of integers.", _ex("ops.bitwise_or([12], [10])", "[14]")),
    "bitwise_xor": _doc("Bitwise XOR of integers.", _ex("ops.bitwise_xor([12], [10])", "[6]")),
    "bitwise_not": _doc("Bitwise NOT of integers.", _ex("ops.bitwise_not([0, 1])", "[-1, -2]")),
    "bitwise_invert": _doc("Alias of ``bitwise_not``.", _ex("ops.bitwise_invert([0])", "[-1]")),
    "left_shift": _doc("Shift the bits of ``x1`` left by ``x2``.", _ex("ops.left_shift([1, 3], 2)", "[4, 12]")),
    "right_shift": _doc("Shift the bits of ``x1`` right by ``x2``.", _ex("ops.right_shift([4, 12], 2)", "[1, 3]")),
    "bitwise_left_shift": _doc("Alias of ``left_shift``.", _ex("ops.bitwise_left_shift([1], 3)", "[8]")),
    "bitwise_right_shift": _doc("Alias of ``right_shift``.", _ex("ops.bitwise_right_shift([8], 3)", "[1]")),
    "gcd": _doc("Greatest common divisor element-wise.", _ex("ops.gcd([12, 7], [8, 5])", "[4, 1]")),
    "lcm": _doc("Least common multiple element-wise.", _ex("ops.lcm([4, 3], [6, 5])", "[12, 15]")),
    # reductions and statistics
    "nansum": _doc("Sum over ``axis``, treating NaN as zero.", _ex("ops.nansum([1.0, float('nan'), 2.0])", "3.0")),
    "nanmean": _doc("Mean over ``axis``, ignoring NaNs.", _ex("ops.nanmean([1.0, float('nan'), 3.0])", "2.0")),
    "nanmax": _doc("Maximum over ``axis``, ignoring NaNs.", _ex("ops.nanmax([1.0, float('nan'), 3.0])", "3.0")),
    "nanmin": _doc("Minimum over ``axis``, ignoring NaNs.", _ex("ops.nanmin([1.0, float('nan'), 3.0])", "1.0")),
    "ptp": _doc("Range (maximum minus minimum) over ``axis``.", _ex("ops.ptp([[1, 5], [3, 2]], axis=1)", "[4, 1]")),
    "average": _doc("Weighted average over ``axis``.", _ex("ops.average([1.0, 3.0], weights=[3.0, 1.0])", "1.5")),
    "median": _doc("Median over ``axis`` (mean of the two middle values for even sizes).", _ex("ops.median([3, 1, 4, 2])", "2.5")),
    "quantile": _doc("``q``-th quantile(s), ``q`` in [0, 1], with ``method`` 'linear', 'lower', 'higher', 'midpoint' or 'nearest'.", _ex("ops.quantile([1.0, 2.0, 3.0, 4.0, 5.0], [0.25, 0.5])", "[2.0, 3.0]")),
    "percentile": _doc("``q``-th percentile(s), ``q`` in [0, 100].", _ex("ops.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50)", "3.0")),
    "corrcoef": _doc("Pearson correlation coefficients of the rows of ``x``.", _exr("ops.corrcoef([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])", "[[1.0, 1.0], [1.0, 1.0]]")),
    "bincount": _doc("Count (or sum ``weights`` of) each non-negative integer value (eager only).", _ex("ops.bincount([0, 1, 1, 3])", "[1, 2, 0, 1]")),
    "diff": _doc("``n``-th discrete difference along ``axis``.", _ex("ops.diff([1, 4, 9, 16])", "[3, 5, 7]")),
    "searchsorted": _doc("Indices where ``values`` would be inserted to keep the 1-D ``sorted_sequence`` sorted.", _ex("ops.searchsorted([1, 3, 5], [0, 3, 6])", "[0, 1, 3]")),
    "digitize": _doc("Index of the bin (given by increasing ``bins``) each value falls in.", _ex("ops.digitize([0.5, 1.5, 3.0], [1.0, 2.0, 3.0])", "[0, 1, 3]")),
    "trapezoid": _doc("Integral along ``axis`` by the trapezoidal rule.", _ex("ops.trapezoid([1.0, 2.0, 3.0])", "4.0")),
    "vdot": _doc("Dot product of flattened inputs (conjugating the first).", _ex("ops.vdot([[1, 2], [3, 4]], [[1, 1], [1, 1]])", "10")),
    "inner": _doc("Inner product over the last axes.", _ex("ops.inner([1, 2], [3, 4])", "11")),
    "kron": _doc("Kronecker product.", _ex("ops.kron([1, 2], [1, 10])", "[1, 10, 2, 20]")),
    "cross": _doc("Cross product of 3-vectors along an axis.", _ex("ops.cross([1, 0, 0], [0, 1, 0])", "[0, 0, 1]")),
    "slogdet": ("Sign and natural log of the absolute determinant: ``(sign, logabsdet)``.\n\nExample:\n>>> from lamina import ops\n"
                ">>> sign, logdet = ops.slogdet([[2.0, 0.0], [0.0, -1.0]])\n>>> print(float(sign), f'{float(logdet):.4f}')\n-1.0 0.6931\n"),
    # shapes and indexing
    "hstack": _doc("Stack horizontally (along axis 1, axis 0 for 1-D inputs).", _ex("ops.hstack([[1, 2], [3]])", "[1, 2, 3]")),
    "vstack": _doc("Stack vertically (rows).", _ex("ops.vstack([[1, 2], [3, 4]])", "[[1, 2], [3, 4]]")),
    "dstack": _doc("Stack along the third axis.", _ex("ops.dstack([[1, 2], [3, 4]])", "[[[1, 3], [2, 4]]]")),
    "append": _doc("Append ``x2`` to ``x1`` (flattened when ``axis`` is None).", _ex("ops.append([1, 2], [[3]])", "[1, 2, 3]")),
    "array_split": _doc("Split into ``n`` nearly equal parts (or at indices).", "[ops.convert_to_numpy(p).tolist() for p in ops.array_split([1, 2, 3], 2)]\n[[1, 2], [3]]"),
    "hsplit": _doc("Split horizontally (axis 1, axis 0 for 1-D).", "[ops.convert_to_numpy(p).tolist() for p in ops.hsplit([[1, 2]], 2)]\n[[[1]], [[2]]]"),
    "vsplit": _doc("Split vertically (axis 0).", "[ops.convert_to_numpy(p).tolist() for p in ops.vsplit([[1], [2]], 2)]\n[[[1]], [[2]]]"),
    "fliplr": _doc("Reverse the order of columns (axis 1).", _ex("ops.fliplr([[1, 2]])", "[[2, 1]]")),
    "flipud": _doc("Reverse the order of rows (axis 0).", _ex("ops.flipud([[1], [2]])", "[[2], [1]]")),
    "rot90": _doc("Rotate by 90 degrees ``k`` times in the plane of ``axes``.", _ex("ops.rot90([[1, 2], [3, 4]])", "[[2, 4], [1, 3]]")),
    "roll": _doc("Roll elements by ``shift`` along ``axis`` (flattened when None).", _ex("ops.roll([1, 2, 3], 1)", "[3, 1, 2]")),
    "unstack": _doc("Split along ``axis`` into a list of tensors of one rank less.", "[ops.convert_to_numpy(p).tolist() for p in ops.unstack([[1, 2], [3, 4]])]\n[[1, 2], [3, 4]]"),
    "nonzero": _doc("Indices of non-zero elements, one tensor per axis (eager only).", "[ops.convert_to_numpy(i).tolist() for i in ops.nonzero([0, 3, 0, 5])]\n[[1, 3]]"),
    "select": _doc("Values from ``choicelist`` where the first matching ``condlist`` entry holds, else ``default``.", _ex("ops.select([[True, False, False], [False, True, False]], [[1, 1, 1], [2, 2, 2]], 0)", "[1, 2, 0]")),
    "diagflat": _doc("A 2-D tensor with the flattened input on diagonal ``k``.", _ex("ops.diagflat([[1, 2]])", "[[1, 0], [0, 2]]")),
    "unique": _doc("Sorted unique values (eager only; with ``size`` it is traceable), optionally the inverse indices and counts.", "[ops.convert_to_numpy(t).tolist() for t in ops.unique([3, 1, 3, 2], return_counts=True)]\n[[1, 2, 3], [1, 1, 2]]"),
    "top_k": _doc("The ``k`` largest values along the last axis and their indices.", "[ops.convert_to_numpy(t).tolist() for t in ops.top_k([1, 5, 3], 2)]\n[[5, 3], [1, 2]]"),
    "in_top_k": _doc("True where ``targets[i]`` is among the ``k`` largest ``predictions[i]``.", _ex("ops.in_top_k([0, 1], [[0.1, 0.9], [0.2, 0.8]], 1)", "[False, True]")),
    "segment_sum": _doc("Sum of ``data`` rows per segment id.", _ex("ops.segment_sum([1, 2, 3], [0, 0, 1])", "[3, 3]")),
    "segment_max": _doc("Maximum of ``data`` rows per segment id.", _ex("ops.segment_max([1, 2, 3], [0, 0, 1])", "[2, 3]")),
    "slice": _doc("The block of ``shape`` starting at ``start_indices`` (starts are clamped to stay inside).", _ex("ops.slice([[1, 2, 3], [4, 5, 6]], (0, 1), (2, 2))", "[[2, 3], [5, 6]]")),
    "slice_update": _doc("``inputs`` with the block at ``start_indices`` replaced by ``updates``.", _ex("ops.slice_update([1, 2, 3, 4], (1,), [8, 9])", "[1, 8, 9, 4]")),
    "scatter": _doc("A zero tensor of ``shape`` with ``values`` added at ``indices`` (each an index tuple).", _ex("ops.scatter([[0], [2], [0]], [1, 2, 3], (3,))", "[4, 0, 2]")),
    "scatter_update": _doc("``inputs`` with the elements at ``indices`` set to ``updates``.", _ex("ops.scatter_update([[0, 0], [0, 0]], [[1, 0]], [5])", "[[0, 0], [5, 0]]")),
    # creation
    "array": _doc("A tensor from array-like data.", _ex("ops.array([1, 2])", "[1, 2]")),
    "empty": _doc("A tensor of ``shape`` (filled with zeros in lamina).", _ex("ops.empty((2,))", "[0.0, 0.0]")),
    "empty_like": _doc("A tensor with the shape and dtype of ``x`` (filled with zeros).", _ex("ops.empty_like([1, 2])", "[0, 0]")),
    "tri": _doc("Ones at and below diagonal ``k``, zeros above.", _ex("ops.tri(2)", "[[1.0, 0.0], [1.0, 1.0]]")),
    "logspace": _doc("``num`` values spaced evenly on a log scale, ``base**start`` to ``base**stop``.", _ex("ops.logspace(0, 2, 3)", "[1.0, 10.0, 100.0]")),
    "geomspace": _doc("``num`` values spaced evenly on a log scale from ``start`` to ``stop``.", _ex("ops.geomspace(1, 100, 3)", "[1.0, 10.0, 100.0]")),
})

__all__ = export_ops(globals(), backend.numpy, _DOCS, __name__)

# Contractions whose shapes do not fit get a ValueError naming the dimensions (checked only after a failure).
from lamina.ops._shape_checks import explain_errors as _explain_errors  # noqa: E402

for _name in ("matmul", "dot", "tensordot", "einsum"):
    globals()[_name] = _explain_errors(globals()[_name])

# More NumPy-like ops (lamina/ops/numpy_extra.py), with their own docs table.
from lamina.ops.numpy_extra import *  # noqa: F401,F403,E402
from lamina.ops.numpy_extra import __all__ as _extra_all  # noqa: E402

__all__ += _extra_all
