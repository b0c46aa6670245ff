"""Neural-network operations on JAX. Same function names as ``backend/torch/nn.py``."""

import functools

import jax
import jax.numpy as jnp

from lamina.backend.common.attention import check_attention_shapes
from lamina.backend.jax.core import convert_to_tensor, to_engine_dtype
from lamina.backend.jax.nn_ctc import ctc_decode, ctc_loss  # noqa: F401  (CTC loss and decoding)
from lamina.backend.jax.nn_conv import (  # noqa: F401  (convolution and pooling)
    adaptive_average_pool,
    adaptive_max_pool,
    average_pool,
    conv,
    conv_transpose,
    depthwise_conv,
    max_pool,
    separable_conv,
)


def _float(x):
    x = convert_to_tensor(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(to_engine_dtype(None))
    return x


def relu(x):
    x = convert_to_tensor(x)
    if jnp.issubdtype(x.dtype, jnp.integer):  # integers stay integers, as in Keras
        return jnp.maximum(x, 0)
    return jax.nn.relu(_float(x))


def relu6(x):
    return jax.nn.relu6(_float(x))


def sigmoid(x):
    return jax.nn.sigmoid(_float(x))


def tanh(x):
    return jnp.tanh(_float(x))


def softplus(x):
    return jax.nn.softplus(_float(x))


def softsign(x):
    return jax.nn.soft_sign(_float(x))


def silu(x):
    return jax.nn.silu(_float(x))


def log_sigmoid(x):
    return jax.nn.log_sigmoid(_float(x))


def leaky_relu(x, negative_slope=0.2):
    return jax.nn.leaky_relu(_float(x), negative_slope)


def hard_sigmoid(x):
    x = _float(x)
    return jnp.clip(x / 6.0 + 0.5, 0.0, 1.0)


def hard_silu(x):
    x = _float(x)
    return x * jnp.clip(x / 6.0 + 0.5, 0.0, 1.0)


def elu(x, alpha=1.0):
    return jax.nn.elu(_float(x), alpha)


def selu(x):
    return jax.nn.selu(_float(x))


def celu(x, alpha=1.0):
    return jax.nn.celu(_float(x), alpha)


def gelu(x, approximate=True):
    return jax.nn.gelu(_float(x), approximate=approximate)


def softmax(x, axis=-1):
    return jax.nn.softmax(_float(x), axis=tuple(axis) if isinstance(axis, list) else axis)


def log_softmax(x, axis=-1):
    return jax.nn.log_softmax(_float(x), axis=tuple(axis) if isinstance(axis, list) else axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    # ``sparse``: Keras's switch for a sparse result; lamina's tensors are dense (same values), as multi_hot
    return jax.nn.one_hot(convert_to_tensor(x), num_classes, axis=axis, dtype=to_engine_dtype(dtype))


def moments(x, axes, keepdims=False, synchronized=False):
    # ``synchronized``: a JAX batch sharded over devices is one array, so its moments are already global
    x = _float(x)
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    mean = jnp.mean(x, axis=axes, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=axes, keepdims=True)
    if not keepdims:
        mean, var = jnp.squeeze(mean, axes), jnp.squeeze(var, axes)
    return mean, var


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target, output = convert_to_tensor(target), _float(output)
    if target.shape != output.shape:
        raise ValueError(
            "categorical_crossentropy: `target` and `output` must have the same shape, but received "
            f"target.shape={tuple(target.shape)} and output.shape={tuple(output.shape)}."
        )
    target = target.astype(output.dtype)
    if from_logits:
        log_prob = jax.nn.log_softmax(output, axis=axis)
    else:
        output = output / jnp.sum(output, axis=axis, keepdims=True)
        eps = 1e-7
        log_prob = jnp.log(jnp.clip(output, eps, 1.0 - eps))
    return -jnp.sum(target * log_prob, axis=axis)


def dense(x, kernel, bias=None):
    from lamina.backend.jax.numpy import add, matmul

    out = matmul(x, kernel)
    return out if bias is None else add(out, bias)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target, output = convert_to_tensor(target), _float(output)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = jnp.squeeze(target, -1)
    if axis != -1 and axis != output.ndim - 1:
        output = jnp.moveaxis(output, axis, -1)
    target = target.astype(jnp.int32)
    if from_logits:
        log_prob = jax.nn.log_softmax(output, axis=-1)
    else:
        output = output / jnp.sum(output, axis=-1, keepdims=True)
        eps = 1e-7
        log_prob = jnp.log(jnp.clip(output, eps, 1.0 - eps))
    # Labels outside [0, num_classes) give NaN for their sample (no host check inside jit).
    valid = (target >= 0) & (target < log_prob.shape[-1])
    nll = -jnp.take_along_axis(log_prob, jnp.where(valid, target, 0)[..., None], axis=-1)[..., 0]
    return jnp.where(valid, nll, jnp.nan)


def binary_crossentropy(target, output, from_logits=False):
    target, output = convert_to_tensor(target), _float(output)
    target = target.astype(output.dtype)
    if from_logits:
        return jnp.maximum(output, 0) - output * target + jnp.log1p(jnp.exp(-jnp.abs(output)))
    eps = 1e-7
    output = jnp.clip(output, eps, 1.0 - eps)
    return -(target * jnp.log(output) + (1.0 - target) * jnp.log(1.0 - output))


def _eps(epsilon):
    if epsilon is None:
        from lamina import config

        return config.epsilon()
    return epsilon


def mish(x):
    x = _float(x)
    return x * jnp.tanh(jax.nn.softplus(x))


def glu(x, axis=-1):
    x = _float(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} must have an even size, but received shape {tuple(x.shape)}.")
    a, b = jnp.split(x, 2, axis=axis)
    return a * jax.nn.sigmoid(b)


def hard_tanh(x):
    x = convert_to_tensor(x)
    if jnp.issubdtype(x.dtype, jnp.integer):  # integers stay integers, as in Keras
        return jnp.clip(x, -1, 1)
    return jnp.clip(_float(x), -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    x = _float(x)
    return jnp.where(jnp.abs(x) > threshold, x, jnp.zeros_like(x))


def soft_shrink(x, threshold=0.5):
    x = _float(x)
    return jnp.where(x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold, jnp.zeros_like(x)))


def tanh_shrink(x):
    x = _float(x)
    return x - jnp.tanh(x)


def threshold(x, threshold, default_value):
    x = _float(x)
    return jnp.where(x > threshold, x, jnp.full_like(x, default_value))


def sparse_plus(x):
    x = _float(x)
    return jnp.where(x <= -1.0, jnp.zeros_like(x), jnp.where(x >= 1.0, x, 0.25 * jnp.square(x + 1.0)))


def sparse_sigmoid(x):
    x = _float(x)
    return jnp.where(x <= -1.0, jnp.zeros_like(x), jnp.where(x >= 1.0, jnp.ones_like(x), 0.5 * (x + 1.0)))


def squareplus(x, b=4):
    x = _float(x)
    return 0.5 * (x + jnp.sqrt(jnp.square(x) + b))


def sparsemax(x, axis=-1):
    x = _float(x)
    z = jnp.moveaxis(x, axis, -1)
    z_sorted = -jnp.sort(-z, axis=-1)
    k = jnp.arange(1, z.shape[-1] + 1, dtype=z.dtype)
    cum = jnp.cumsum(z_sorted, axis=-1)
    support = (1.0 + k * z_sorted) > cum
    k_z = jnp.sum(support.astype(z.dtype), axis=-1, keepdims=True)
    tau = (jnp.take_along_axis(cum, k_z.astype(jnp.int32) - 1, axis=-1) - 1.0) / k_z
    return jnp.moveaxis(jnp.maximum(z - tau, 0.0), -1, axis)


def normalize(x, axis=-1, order=2, epsilon=None):
    x = _float(x)
    eps = _eps(epsilon)
    if order == 2:
        inv = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
        return x * jnp.minimum(inv, 1.0 / eps)
    norm = jnp.linalg.vector_norm(x, ord=order, axis=axis, keepdims=True)
    return x / jnp.maximum(norm, eps)


def multi_hot(inputs, num_classes, axis=-1, dtype=None, sparse=False):
    inputs = convert_to_tensor(inputs)
    reduction_axis = 1 if inputs.ndim > 1 else 0
    return jnp.max(one_hot(inputs, num_classes, axis=axis, dtype=dtype), axis=reduction_axis)


def fused_batch_norm(x, scale, offset, axis, epsilon):
    """None: XLA fuses the layer's own formula (the torch backend has a fused kernel here)."""
    return None


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    x = _float(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def prep(v):
        return convert_to_tensor(v).astype(x.dtype).reshape(shape)

    inv = jax.lax.rsqrt(prep(variance) + epsilon)
    if scale is not None:
        inv = inv * prep(scale)
    out = (x - prep(mean)) * inv
    if offset is not None:
        out = out + prep(offset)
    return out


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None):
    x = _float(x)
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    mean = jnp.mean(x, axis=axes, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=axes, keepdims=True)
    out = (x - mean) * jax.lax.rsqrt(var + _eps(epsilon))
    if gamma is not None:
        out = out * convert_to_tensor(gamma).astype(x.dtype)
    if beta is not None:
        out = out + convert_to_tensor(beta).astype(x.dtype)
    return out


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    x = _float(x)
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    out = x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=axes, keepdims=True) + _eps(epsilon))
    if scale is not None:
        out = out * convert_to_tensor(scale).astype(x.dtype)
    return out


def psnr(x1, x2, max_val):
    x1, x2 = _float(x1), _float(x2)
    mse = jnp.mean(jnp.square(x1 - x2.astype(x1.dtype)))
    return 20.0 * jnp.log10(jnp.asarray(max_val, dtype=x1.dtype)) - 10.0 * jnp.log10(mse)


def polar(abs_, angle):
    abs_, angle = _float(abs_), _float(angle)
    return abs_ * jnp.exp(1j * angle.astype(abs_.dtype))


def _to_rank4(x):
    return jnp.reshape(x, (1,) * (4 - x.ndim) + tuple(x.shape)) if x.ndim < 4 else x


def _attention_einsum(q, k, v, bias, mask, scale, is_causal):
    """Plain attention (any value head_dim): logits and softmax in float32, as jax.nn does."""
    group = q.shape[2] // k.shape[2]
    if group > 1:
        k, v = jnp.repeat(k, group, axis=2), jnp.repeat(v, group, axis=2)
    logits = jnp.einsum("btnh,bsnh->bnts", q, k, preferred_element_type=jnp.float32) * scale
    if bias is not None:
        logits = logits + bias.astype(jnp.float32)
    neg = -0.7 * float(jnp.finfo(jnp.float32).max)
    if mask is not None:
        logits = jnp.where(mask, logits, neg)
    if is_causal:
        logits = jnp.where(jnp.tril(jnp.ones(logits.shape[-2:], bool)), logits, neg)
    probs = jax.nn.softmax(logits, axis=-1).astype(q.dtype)
    return jnp.einsum("bnts,bsnh->btnh", probs, v)


def _attention_parts(q, k, v, bias, mask, scale, is_causal):
    """The forward pass in (batch, heads, time, dim) layout: output, float32 probabilities, the kept positions
    (or None) and the transposed q, k, v."""
    qt, kt, vt = (x.transpose(0, 2, 1, 3) for x in (q, k, v))
    logits = jnp.matmul(qt, kt.swapaxes(-1, -2), preferred_element_type=jnp.float32) * scale
    if bias is not None:
        logits = logits + bias.astype(jnp.float32)
    keep = mask
    if is_causal:
        causal = jnp.tril(jnp.ones(logits.shape[-2:], bool))
        keep = causal if keep is None else jnp.logical_and(keep, causal)
    if keep is not None:
        logits = jnp.where(keep, logits, -0.7 * float(jnp.finfo(jnp.float32).max))
    probs = jax.nn.softmax(logits, axis=-1)
    out = jnp.matmul(probs.astype(v.dtype), vt).transpose(0, 2, 1, 3)
    return out, probs, keep, (qt, kt, vt)


@functools.partial(jax.custom_jvp, nondiff_argnums=(5, 6))
def _attention_cpu(q, k, v, bias, mask, scale, is_causal):
    """Attention as XLA runs it fastest on a CPU: batched matrix products in (batch, heads, time, dim) layout,
    with a hand-written tangent rule, which JAX transposes for the gradient (fwd+bwd of a (32, 200, 2, 32)
    self-attention: 9.8 ms here against 17.2 ms for jax.nn.dot_product_attention's autodiff)."""
    return _attention_parts(q, k, v, bias, mask, scale, is_causal)[0]


@_attention_cpu.defjvp
def _attention_cpu_jvp(scale, is_causal, primals, tangents):
    q, k, v, bias, mask = primals
    tq, tk, tv, tbias, _ = tangents
    out, probs, keep, (qt, kt, vt) = _attention_parts(q, k, v, bias, mask, scale, is_causal)
    tqt, tkt, tvt = (x.transpose(0, 2, 1, 3) for x in (tq, tk, tv))
    dlogits = (jnp.matmul(tqt, kt.swapaxes(-1, -2), preferred_element_type=jnp.float32)
               + jnp.matmul(qt, tkt.swapaxes(-1, -2), preferred_element_type=jnp.float32)) * scale
    if bias is not None:
        dlogits = dlogits + tbias.astype(jnp.float32)
    if keep is not None:
        dlogits = jnp.where(keep, dlogits, 0.0)
    dprobs = probs * (dlogits - jnp.sum(dlogits * probs, axis=-1, keepdims=True))
    tout = (jnp.matmul(dprobs.astype(v.dtype), vt) + jnp.matmul(probs.astype(v.dtype), tvt)).transpose(0, 2, 1, 3)
    return out, tout


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None):
    q = _float(query)
    k = convert_to_tensor(key).astype(q.dtype)
    v = convert_to_tensor(value).astype(q.dtype)
    check_attention_shapes(q.shape, k.shape, v.shape)
    if scale is None:
        scale = 1.0 / float(q.shape[-1]) ** 0.5
    mask = None if mask is None else _to_rank4(jnp.asarray(convert_to_tensor(mask), bool))
    bias = None if bias is None else _to_rank4(convert_to_tensor(bias).astype(q.dtype))
    implementation = None
    if flash_attention:
        if jax.default_backend() != "gpu" or q.dtype not in (jnp.float16, jnp.bfloat16):
            raise ValueError(
                "dot_product_attention(flash_attention=True) needs a GPU and float16/bfloat16 inputs, but "
                f"received dtype {q.dtype} on {jax.default_backend()}. Hint: pass flash_attention=None "
                "to let lamina choose the kernel.")
        implementation = "cudnn"
    elif jax.default_backend() == "cpu":
        group = q.shape[2] // k.shape[2]
        if group > 1:
            k, v = jnp.repeat(k, group, axis=2), jnp.repeat(v, group, axis=2)
        return _attention_cpu(q, k, v, bias, mask, float(scale), bool(is_causal))
    elif v.shape[-1] != q.shape[-1]:  # jax.nn.dot_product_attention needs one head_dim for all three
        return _attention_einsum(q, k, v, bias, mask, scale, is_causal)
    if flash_attention is False:
        implementation = "xla"
    return jax.nn.dot_product_attention(q, k, v, bias=bias, mask=mask, scale=scale, is_causal=is_causal,
                                        implementation=implementation)


def argmax_matches(labels, scores):
    """Whether the arg-max of ``scores`` over the last axis equals the integer ``labels`` (boolean), in the
    engine's own index dtype (the accuracy metrics)."""
    return jnp.argmax(convert_to_tensor(scores), axis=-1) == convert_to_tensor(labels)
