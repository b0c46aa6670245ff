"""Neural-network ops: activations, softmax, one_hot, crossentropies, moments."""

from lamina import backend
from lamina.ops._export import export_ops
from lamina.ops.ctc import ctc_decode, ctc_loss


def _doc(summary, call, result):
    return (f"{summary}\n\nExample:\n>>> from lamina import ops\n"
            f">>> [round(v, 4) for v in ops.convert_to_numpy({call}).tolist()]\n{result}\n")


_DOCS = {
    "relu": _doc("Rectified linear unit: ``max(x, 0)``.", "ops.relu([-1.0, 2.0])", "[0.0, 2.0]"),
    "relu6": _doc("ReLU capped at 6.", "ops.relu6([-1.0, 8.0])", "[0.0, 6.0]"),
    "sigmoid": _doc("Logistic sigmoid ``1 / (1 + exp(-x))``.", "ops.sigmoid([0.0])", "[0.5]"),
    "tanh": _doc("Hyperbolic tangent.", "ops.tanh([0.0])", "[0.0]"),
    "softplus": _doc("``log(1 + exp(x))``.", "ops.softplus([0.0])", "[0.6931]"),
    "softsign": _doc("``x / (1 + |x|)``.", "ops.softsign([1.0])", "[0.5]"),
    "silu": _doc("Sigmoid linear unit ``x * sigmoid(x)`` (also called swish).", "ops.silu([0.0, 1.0])", "[0.0, 0.7311]"),
    "log_sigmoid": _doc("``log(sigmoid(x))``, computed stably.", "ops.log_sigmoid([0.0])", "[-0.6931]"),
    "leaky_relu": _doc("``x`` if positive else ``negative_slope * x`` (default 0.2).", "ops.leaky_relu([-1.0, 1.0])", "[-0.2, 1.0]"),
    "hard_sigmoid": _doc("Piecewise-linear sigmoid ``clip(x / 6 + 0.5, 0, 1)``.", "ops.hard_sigmoid([0.0, 6.0])", "[0.5, 1.0]"),
    "hard_silu": _doc("``x * hard_sigmoid(x)`` (also called hard swish).", "ops.hard_silu([0.0, 6.0])", "[0.0, 6.0]"),
    "elu": _doc("Exponential linear unit.", "ops.elu([-1.0, 1.0])", "[-0.6321, 1.0]"),
    "selu": _doc("Scaled exponential linear unit.", "ops.selu([0.0, 1.0])", "[0.0, 1.0507]"),
    "celu": _doc("Continuously differentiable ELU.", "ops.celu([-1.0, 1.0])", "[-0.6321, 1.0]"),
    "gelu": _doc("Gaussian error linear unit (tanh approximation by default).", "ops.gelu([0.0, 1.0])", "[0.0, 0.8412]"),
    "softmax": _doc("Softmax over ``axis``.", "ops.softmax([0.0, 0.0])", "[0.5, 0.5]"),
    "log_softmax": _doc("Log of softmax over ``axis``, computed stably.", "ops.log_softmax([0.0, 0.0])", "[-0.6931, -0.6931]"),
    "one_hot": _doc("One-hot encode integer labels (out-of-range labels give all zeros).", "ops.one_hot([1], 3)[0]", "[0.0, 1.0, 0.0]"),
    "categorical_crossentropy": _doc("Crossentropy between one-hot ``target`` and ``output`` probabilities (or logits).", "ops.categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])", "[0.6931]"),
    "sparse_categorical_crossentropy": _doc("Crossentropy between integer ``target`` and ``output``.", "ops.sparse_categorical_crossentropy([1], [[0.5, 0.5]])", "[0.6931]"),
    "binary_crossentropy": _doc("Element-wise binary crossentropy.", "ops.binary_crossentropy([1.0], [0.5])", "[0.6931]"),
    "dense": ("``x @ kernel + bias`` (what a ``Dense`` layer computes), as one fused kernel where the "
              "engine has one (PyTorch's ``addmm``).\n\nExample:\n>>> from lamina import ops\n"
              ">>> ops.convert_to_numpy(ops.dense([[1.0, 2.0]], [[1.0], [1.0]], [0.5])).tolist()\n[[3.5]]\n"),
    "moments": ("Mean and variance of ``x`` over ``axes``.\n\nExample:\n>>> from lamina import ops\n"
                ">>> m, v = ops.moments([1.0, 3.0], axes=0)\n>>> float(m), float(v)\n(2.0, 1.0)\n"),
}

_DOCS.update({
    "mish": _doc("``x * tanh(softplus(x))``.", "ops.mish([0.0, 1.0])", "[0.0, 0.8651]"),
    "glu": _doc("Gated linear unit: ``a * sigmoid(b)`` for the two halves ``a, b`` of ``axis``.", "ops.glu([1.0, 0.0])", "[0.5]"),
    "hard_tanh": _doc("``clip(x, -1, 1)``.", "ops.hard_tanh([-2.0, 0.5, 2.0])", "[-1.0, 0.5, 1.0]"),
    "hard_shrink": _doc("``x`` where ``|x| > threshold``, else 0.", "ops.hard_shrink([-1.0, 0.2, 1.0])", "[-1.0, 0.0, 1.0]"),
    "soft_shrink": _doc("Shrink ``x`` towards 0 by ``threshold`` (0 inside ``[-threshold, threshold]``).", "ops.soft_shrink([-1.0, 0.2, 1.0])", "[-0.5, 0.0, 0.5]"),
    "tanh_shrink": _doc("``x - tanh(x)``.", "ops.tanh_shrink([0.0, 1.0])", "[0.0, 0.2384]"),
    "threshold": _doc("``x`` where ``x > threshold``, else ``default_value``.", "ops.threshold([-1.0, 2.0], 0.0, -5.0)", "[-5.0, 2.0]"),
    "sparse_plus": _doc("0 for x <= -1, ``x`` for x >= 1, ``(x + 1)**2 / 4`` between.", "ops.sparse_plus([-2.0, 0.0, 2.0])", "[0.0, 0.25, 2.0]"),
    "sparse_sigmoid": _doc("0 for x <= -1, 1 for x >= 1, ``(x + 1) / 2`` between.", "ops.sparse_sigmoid([-2.0, 0.0, 2.0])", "[0.0, 0.5, 1.0]"),
    "squareplus": _doc("``(x + sqrt(x**2 + b)) / 2``, a smooth ReLU.", "ops.squareplus([0.0])", "[1.0]"),
    "sparsemax": _doc("Euclidean projection onto the probability simplex along ``axis`` (sparse softmax).", "ops.sparsemax([0.0, 1.0, 3.0])", "[0.0, 0.0, 1.0]"),
    "normalize": _doc("``x`` divided by its ``order``-norm along ``axis``.", "ops.normalize([3.0, 4.0])", "[0.6, 0.8]"),
    "multi_hot": _doc("Multi-hot encode integer labels (a row of 0/1 per sample).", "ops.multi_hot([[0, 2]], 3)[0]", "[1.0, 0.0, 1.0]"),
    "batch_normalization": _doc("``(x - mean) / sqrt(variance + epsilon) * scale + offset`` over ``axis``.", "ops.batch_normalization([1.0, 3.0], [1.0, 1.0], [1.0, 4.0], axis=0, epsilon=0.0)", "[0.0, 1.0]"),
    "layer_normalization": _doc("Normalize to zero mean and unit variance over ``axis``, then scale and shift.", "ops.layer_normalization([1.0, 3.0], epsilon=0.0)", "[-1.0, 1.0]"),
    "rms_normalization": _doc("Divide by the root mean square over ``axis``, then scale.", "ops.rms_normalization([3.0, 4.0], epsilon=0.0)", "[0.8485, 1.1314]"),
    "psnr": ("Peak signal-to-noise ratio (dB) between two signals.\n\nExample:\n>>> from lamina import ops\n"
             ">>> round(float(ops.psnr([0.0, 1.0], [0.0, 0.9], max_val=1.0)), 2)\n23.01\n"),
    "polar": ("A complex tensor from magnitude ``abs_`` and ``angle``.\n\nExample:\n>>> from lamina import ops\n"
              ">>> ops.convert_to_numpy(ops.polar([2.0], [0.0])).tolist()\n[(2+0j)]\n"),
})

_CONV_NOTE = ("``data_format`` is ``\"channels_last\"`` (``(batch, spatial..., channels)``, the default from "
              "``lamina.config.image_data_format()``) or ``\"channels_first\"``. ``padding`` is ``\"valid\"`` "
              "(none) or ``\"same\"`` (output length ``ceil(length / stride)``; an odd padding pixel goes after, "
              "as in Keras). On PyTorch, channels_last data reaches torch's kernels as a permuted view "
              "(torch's channels_last memory format), not as a transposed copy.")


def _shape_doc(summary, call, result):
    return (f"{summary}\n\n{_CONV_NOTE}\n\nExample:\n>>> from lamina import ops\n"
            f">>> ops.shape({call})\n{result}\n")


_DOCS.update({
    "conv": _shape_doc(
        "N-D convolution (1D, 2D or 3D) with a kernel in Keras's layout ``spatial... + (in / groups, out)``; "
        "the number of groups is ``in_channels // kernel.shape[-2]``. Arguments: ``strides``, ``padding``, "
        "``data_format``, ``dilation_rate``.",
        "ops.conv(ops.ones((1, 5, 5, 2)), ops.ones((3, 3, 2, 4)), padding=\"same\")", "(1, 5, 5, 4)"),
    "depthwise_conv": _shape_doc(
        "Depthwise convolution: each input channel convolved with its own ``multiplier`` filters; the kernel "
        "is ``spatial... + (in_channels, multiplier)`` and the output has ``in_channels * multiplier`` channels.",
        "ops.depthwise_conv(ops.ones((1, 5, 5, 2)), ops.ones((3, 3, 2, 3)))", "(1, 3, 3, 6)"),
    "separable_conv": _shape_doc(
        "Depthwise convolution followed by a pointwise (1x1) convolution with ``pointwise_kernel`` "
        "``(1,)*n + (in_channels * multiplier, out)``; strides, padding and dilation apply to the depthwise step.",
        "ops.separable_conv(ops.ones((1, 5, 5, 2)), ops.ones((3, 3, 2, 2)), ops.ones((1, 1, 4, 8)))",
        "(1, 3, 3, 8)"),
    "conv_transpose": _shape_doc(
        "Transposed convolution (the gradient of ``conv``), kernel ``spatial... + (out, in)`` as Keras. "
        "``output_padding`` (int or tuple, less than the stride) fixes the output length; by default it is "
        "``length * stride`` for \"same\" and ``length * stride + max(kernel - stride, 0)`` for \"valid\".",
        "ops.conv_transpose(ops.ones((1, 4, 4, 2)), ops.ones((3, 3, 5, 2)), strides=2, padding=\"same\")",
        "(1, 8, 8, 5)"),
    "max_pool": _shape_doc(
        "Max pooling over windows of ``pool_size`` moved by ``strides`` (default: ``pool_size``).",
        "ops.max_pool(ops.ones((1, 4, 4, 3)), 2)", "(1, 2, 2, 3)"),
    "average_pool": _shape_doc(
        "Average pooling over windows of ``pool_size`` moved by ``strides`` (default: ``pool_size``). With "
        "\"same\" padding the padded positions are not counted (as Keras), so edges are not darkened.",
        "ops.average_pool(ops.ones((1, 5, 3)), 2, padding=\"same\")", "(1, 3, 3)"),
    "adaptive_max_pool": _shape_doc(
        "Max pooling to a fixed spatial ``output_size`` (PyTorch's windows: ``floor(i*L/out)`` to "
        "``ceil((i+1)*L/out)``).",
        "ops.adaptive_max_pool(ops.ones((1, 7, 9, 3)), (2, 3))", "(1, 2, 3, 3)"),
    "adaptive_average_pool": _shape_doc(
        "Average pooling to a fixed spatial ``output_size`` (PyTorch's windows).",
        "ops.adaptive_average_pool(ops.ones((1, 3, 7, 9)), 1, data_format=\"channels_first\")", "(1, 3, 1, 1)"),
})

_DOCS["dot_product_attention"] = (
    "Scaled dot-product attention ``softmax(query @ key^T * scale + bias, masked) @ value``.\n\n"
    "``query`` is ``(batch, T, num_heads, head_dim)``, ``key`` ``(batch, S, K, head_dim)`` and ``value`` "
    "``(batch, S, K, value_dim)``, where ``K`` divides ``num_heads`` (grouped-query attention: query head "
    "``n`` reads key/value head ``n // (num_heads // K)``). ``bias`` (added to the logits) and the boolean "
    "``mask`` (True = attend) broadcast to ``(batch, num_heads, T, S)``; a row with nothing to attend to "
    "averages the values. ``scale`` defaults to ``1 / sqrt(head_dim)``; ``is_causal`` lets query ``i`` see "
    "keys ``j <= i``. ``flash_attention``: None picks the engine's fastest kernel (PyTorch's "
    "``scaled_dot_product_attention``, ``jax.nn.dot_product_attention``), True demands a flash kernel "
    "(GPU, float16/bfloat16, no mask), False rules it out. Returns ``(batch, T, num_heads, value_dim)``.\n\n"
    "Example:\n>>> from lamina import ops\n"
    ">>> q = ops.zeros((1, 3, 1, 2))\n"
    ">>> v = ops.reshape(ops.arange(6.0), (1, 3, 1, 2))\n"
    ">>> ops.convert_to_numpy(ops.dot_product_attention(q, q, v, is_causal=True)).ravel().tolist()\n"
    "[0.0, 1.0, 1.0, 2.0, 2.0, 3.0]\n")

__all__ = export_ops(globals(), backend.nn, _DOCS, __name__)

swish = globals()["silu"]
hard_swish = globals()["hard_silu"]
__all__ += ["swish", "hard_swish"]
# Written out in lamina/ops/ctc.py (argument checks and symbolic shapes of their own).
__all__ += ["ctc_loss", "ctc_decode"]
# Pixel shuffles and im2col (lamina/ops/nn_extra.py), with their own docs.
from lamina.ops.nn_extra import *  # noqa: F401,F403,E402
from lamina.ops.nn_extra import __all__ as _nn_extra_all  # noqa: E402

__all__ += _nn_extra_all
