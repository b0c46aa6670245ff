"""Neural-network operations on PyTorch. Same function names as ``backend/jax/nn.py``."""

import torch
import torch.nn.functional as F

from lamina.backend.common.attention import check_attention_shapes
from lamina.backend.torch.core import convert_to_tensor, to_engine_dtype
from lamina.backend.torch.nn_ctc import ctc_decode, ctc_loss  # noqa: F401  (CTC loss and decoding)
from lamina.backend.torch.nn_conv import (  # noqa: F401  (convolution and pooling)
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
    if not x.is_floating_point():
        x = x.to(to_engine_dtype(None))
    return x


def relu(x):
    x = convert_to_tensor(x)
    if not x.is_floating_point() and not x.is_complex() and x.dtype != torch.bool:
        return torch.clamp(x, min=0)  # integers stay integers, as in Keras
    return torch.relu(_float(x))


def relu6(x):
    return F.relu6(_float(x))


def sigmoid(x):
    return torch.sigmoid(_float(x))


def tanh(x):
    return torch.tanh(_float(x))


def softplus(x):
    return F.softplus(_float(x))


def softsign(x):
    return F.softsign(_float(x))


def silu(x):
    return F.silu(_float(x))


def log_sigmoid(x):
    return F.logsigmoid(_float(x))


def leaky_relu(x, negative_slope=0.2):
    return F.leaky_relu(_float(x), negative_slope)


def hard_sigmoid(x):
    return F.hardsigmoid(_float(x))


def hard_silu(x):
    return F.hardswish(_float(x))


def elu(x, alpha=1.0):
    return F.elu(_float(x), alpha)


def selu(x):
    return F.selu(_float(x))


def celu(x, alpha=1.0):
    return F.celu(_float(x), alpha)


def gelu(x, approximate=True):
    return F.gelu(_float(x), approximate="tanh" if approximate else "none")


def softmax(x, axis=-1):
    x = _float(x)
    if isinstance(axis, (tuple, list)):
        m = torch.amax(x, dim=axis, keepdim=True)
        e = torch.exp(x - m)
        return e / torch.sum(e, dim=axis, keepdim=True)
    return torch.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    x = _float(x)
    if isinstance(axis, (tuple, list)):
        return x - torch.logsumexp(x, dim=axis, keepdim=True)
    return torch.log_softmax(x, dim=axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    # ``sparse``: Keras's switch for a sparse result; lamina's tensors are dense (same values), as multi_hot
    x = convert_to_tensor(x).long()
    valid = (x >= 0) & (x < num_classes)
    out = F.one_hot(torch.where(valid, x, 0), num_classes) * valid.unsqueeze(-1)
    out = out.to(to_engine_dtype(dtype))
    if axis != -1:
        out = torch.movedim(out, -1, axis)
    return out


def moments(x, axes, keepdims=False, synchronized=False):
    x = _float(x)
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    axes = tuple(a % x.ndim for a in axes)
    if synchronized:  # over every data-parallel process's batch (torch.distributed); one process: as below
        from lamina.backend.torch.distribution import synchronized_moments

        synced = synchronized_moments(x, axes)
        if synced is not None:
            keep = [1 if d in axes else x.shape[d] for d in range(x.ndim)]
            mean, var = synced[0].reshape(keep), synced[1].reshape(keep)
            if not keepdims:
                mean, var = mean.squeeze(axes), var.squeeze(axes)
            return mean, var
    mean = torch.mean(x, dim=axes, keepdim=True)
    var = torch.mean(torch.square(x - mean), dim=axes, keepdim=True)
    if not keepdims:
        mean, var = mean.squeeze(axes), var.squeeze(axes)
    return mean, var


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target, output = convert_to_tensor(target), _float(output)
    if target.shape != output.shape:
        raise ValueError(
            "categorical_crossentropy: `target` and `output` must have the same shape, but received "
            f"target.shape={tuple(target.shape)} and output.shape={tuple(output.shape)}."
        )
    target = target.to(output.dtype)
    if from_logits:
        log_prob = torch.log_softmax(output, dim=axis)
    else:
        output = output / torch.sum(output, dim=axis, keepdim=True)
        eps = 1e-7
        log_prob = torch.log(torch.clamp(output, eps, 1.0 - eps))
    return -torch.sum(target * log_prob, dim=axis)


_NO_IGNORE = -(2 ** 62)  # an ignore_index no label can have


def dense(x, kernel, bias=None):
    x, kernel = convert_to_tensor(x), convert_to_tensor(kernel)
    bias = None if bias is None else convert_to_tensor(bias)
    if (x.is_floating_point() and x.ndim >= 1 and kernel.ndim == 2 and kernel.dtype == x.dtype
            and (bias is None or (bias.ndim == 1 and bias.dtype == x.dtype))):
        # One fused kernel (addmm) for ``x @ kernel + bias``, as torch.nn.Linear runs it; the
        # transposed kernel is a view, not a copy.
        return F.linear(x, kernel.t(), bias)
    from lamina.backend.torch.numpy import add, matmul

    out = matmul(x, kernel)
    return out if bias is None else add(out, bias)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target, output = convert_to_tensor(target), _float(output)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = target.squeeze(-1)
    if axis != -1 and axis != output.ndim - 1:
        output = torch.movedim(output, axis, -1)
    target = target.long()
    fits = output.ndim >= 1 and target.shape == output.shape[:-1] and output.shape[-1] > 0
    if fits and not _FORCE_GUARDED and output.device.type == "cpu":
        # torch's fused kernels (log-softmax + NLL, as torch.nn.CrossEntropyLoss). On the CPU a label out
        # of range raises instead of a device assert, so only a bad batch pays for the guarded path below
        # (the default ignore_index=-100 is avoided: it would give 0 instead of NaN).
        try:
            if from_logits:
                return F.cross_entropy(output.reshape(-1, output.shape[-1]), target.reshape(-1), reduction="none",
                                       ignore_index=_NO_IGNORE).reshape(target.shape)
            return F.nll_loss(_log_probabilities(output).reshape(-1, output.shape[-1]), target.reshape(-1),
                              reduction="none", ignore_index=_NO_IGNORE).reshape(target.shape)
        except (RuntimeError, IndexError):
            pass
    if fits:
        # On a GPU a label out of range would be a device-side assert (the process's CUDA context is lost):
        # the same fused kernels on labels clamped into range, and NaN put back where a label was out of
        # range, as on JAX (three more kernels, not the six of a masked gather).
        classes = output.shape[-1]
        safe = target.clamp(0, classes - 1)
        flat, labels = output.reshape(-1, classes), safe.reshape(-1)
        nll = (F.cross_entropy(flat, labels, reduction="none") if from_logits else
               F.nll_loss(_log_probabilities(flat), labels, reduction="none")).reshape(target.shape)
        return torch.where(safe == target, nll, float("nan"))
    log_prob = torch.log_softmax(output, dim=-1) if from_logits else _log_probabilities(output)
    # Labels outside [0, num_classes) give NaN for their sample, as on JAX.
    valid = (target >= 0) & (target < log_prob.shape[-1])
    nll = -torch.gather(log_prob, -1, torch.where(valid, target, 0).unsqueeze(-1)).squeeze(-1)
    return torch.where(valid, nll, float("nan"))


_FORCE_GUARDED = False  # tests: take the GPU's guarded path on the CPU


def _log_probabilities(output):
    """The log of the normalised probabilities ``output``, clipped as Keras clips them."""
    output = output / torch.sum(output, dim=-1, keepdim=True)
    eps = 1e-7
    return torch.log(torch.clamp(output, eps, 1.0 - eps))


def binary_crossentropy(target, output, from_logits=False):
    target, output = convert_to_tensor(target), _float(output)
    target = target.to(output.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    eps = 1e-7
    output = torch.clamp(output, eps, 1.0 - eps)
    return -(target * torch.log(output) + (1.0 - target) * torch.log(1.0 - output))


def _eps(epsilon):
    if epsilon is None:
        from lamina import config

        return config.epsilon()
    return epsilon


def mish(x):
    return F.mish(_float(x))


def glu(x, axis=-1):
    x = _float(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} must have an even size, but received shape {tuple(x.shape)}.")
    a, b = torch.chunk(x, 2, dim=axis)
    return a * torch.sigmoid(b)


def hard_tanh(x):
    x = convert_to_tensor(x)
    if not x.is_floating_point() and not x.is_complex() and x.dtype != torch.bool:
        return torch.clamp(x, -1, 1)  # integers stay integers, as in Keras
    return torch.clamp(_float(x), -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    x = _float(x)
    return torch.where(torch.abs(x) > threshold, x, torch.zeros_like(x))


def soft_shrink(x, threshold=0.5):
    x = _float(x)
    return torch.where(x > threshold, x - threshold, torch.where(x < -threshold, x + threshold, torch.zeros_like(x)))


def tanh_shrink(x):
    x = _float(x)
    return x - torch.tanh(x)


def threshold(x, threshold, default_value):
    x = _float(x)
    return torch.where(x > threshold, x, torch.full_like(x, default_value))


def sparse_plus(x):
    x = _float(x)
    return torch.where(x <= -1.0, torch.zeros_like(x), torch.where(x >= 1.0, x, 0.25 * torch.square(x + 1.0)))


def sparse_sigmoid(x):
    x = _float(x)
    return torch.where(x <= -1.0, torch.zeros_like(x), torch.where(x >= 1.0, torch.ones_like(x), 0.5 * (x + 1.0)))


def squareplus(x, b=4):
    x = _float(x)
    return 0.5 * (x + torch.sqrt(torch.square(x) + b))


def sparsemax(x, axis=-1):
    x = _float(x)
    z = torch.movedim(x, axis, -1)
    z_sorted = torch.sort(z, dim=-1, descending=True).values
    k = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype, device=z.device)
    cum = torch.cumsum(z_sorted, dim=-1)
    support = (1.0 + k * z_sorted) > cum
    k_z = torch.sum(support.to(z.dtype), dim=-1, keepdim=True)
    tau = (torch.gather(cum, -1, k_z.long() - 1) - 1.0) / k_z
    return torch.movedim(torch.clamp(z - tau, min=0.0), -1, axis)


def normalize(x, axis=-1, order=2, epsilon=None):
    x = _float(x)
    eps = _eps(epsilon)
    if order == 2:
        inv = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
        return x * torch.clamp(inv, max=1.0 / eps)
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(norm, min=eps)


def multi_hot(inputs, num_classes, axis=-1, dtype=None, sparse=False):
    inputs = convert_to_tensor(inputs)
    reduction_axis = 1 if inputs.ndim > 1 else 0
    return torch.amax(one_hot(inputs, num_classes, axis=axis, dtype=dtype), dim=reduction_axis)


def fused_batch_norm(x, scale, offset, axis, epsilon):
    """Training-mode batch normalization over every axis but ``axis`` on torch's fused kernel.

    Returns ``(outputs, batch_mean, batch_variance)`` (biased variance, as Keras's moving
    statistics use), or None when the kernel does not apply (``axis`` 0, fewer than 2 dims).
    A channels-last input is handed to the kernel as a permuted view, without a copy.
    """
    if x.ndim < 2 or axis % x.ndim == 0 or not x.is_floating_point():
        return None
    axis = axis % x.ndim
    perm = [0, axis] + [i for i in range(1, x.ndim) if i != axis]
    back = [perm.index(i) for i in range(x.ndim)]
    weight = None if scale is None else scale.to(x.dtype)
    bias = None if offset is None else offset.to(x.dtype)
    out, mean, invstd = torch.native_batch_norm(x.permute(perm), weight, bias, None, None, True, 0.0, epsilon)
    variance = invstd.detach().pow(-2) - epsilon
    return out.permute(back), mean, variance


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    x = _float(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def prep(v):
        return convert_to_tensor(v).to(x.dtype).reshape(shape)

    inv = torch.rsqrt(prep(variance) + epsilon)
    if scale is not None:
        inv = inv * prep(scale)
    out = (x - prep(mean)) * inv
    if offset is not None:
        out = out + prep(offset)
    return out


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None):
    x = _float(x)
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    mean = torch.mean(x, dim=axes, keepdim=True)
    var = torch.mean(torch.square(x - mean), dim=axes, keepdim=True)
    out = (x - mean) * torch.rsqrt(var + _eps(epsilon))
    if gamma is not None:
        out = out * convert_to_tensor(gamma).to(x.dtype)
    if beta is not None:
        out = out + convert_to_tensor(beta).to(x.dtype)
    return out


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    x = _float(x)
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    out = x * torch.rsqrt(torch.mean(torch.square(x), dim=axes, keepdim=True) + _eps(epsilon))
    if scale is not None:
        out = out * convert_to_tensor(scale).to(x.dtype)
    return out


def psnr(x1, x2, max_val):
    x1, x2 = _float(x1), _float(x2)
    mse = torch.mean(torch.square(x1 - x2.to(x1.dtype)))
    return 20.0 * torch.log10(torch.as_tensor(max_val, dtype=x1.dtype)) - 10.0 * torch.log10(mse)


def polar(abs_, angle):
    abs_, angle = _float(abs_), _float(angle)
    return torch.polar(abs_, angle.to(abs_.dtype))


def _attention_mask_bias(qt, bias, mask, is_causal, T, S):
    """SDPA's ``attn_mask`` for query ``qt`` (B, N, T, H), and ``qt`` itself.

    A query row that may attend to nothing gets its query and bias zeroed and its mask opened,
    so it averages the values (as jax.nn does) with zero gradient to the query, instead of
    SDPA's NaN or zeros.
    """
    if mask is None:
        if bias is None:
            return qt, None, is_causal
        b = convert_to_tensor(bias).to(device=qt.device, dtype=qt.dtype)
        if is_causal:
            causal = torch.ones((T, S), dtype=torch.bool, device=qt.device).tril()
            b = torch.where(causal, b, float("-inf"))
        return qt, b, False
    m = convert_to_tensor(mask).to(device=qt.device, dtype=torch.bool)
    if is_causal:
        m = m & torch.ones((T, S), dtype=torch.bool, device=qt.device).tril()
    m = m.reshape((1,) * (4 - m.ndim) + tuple(m.shape))
    dead = ~m.any(dim=-1, keepdim=True)
    m = m | dead
    qt = qt.masked_fill(dead, 0)
    if bias is None:
        return qt, m, False
    b = torch.where(dead, 0.0, convert_to_tensor(bias).to(device=qt.device, dtype=qt.dtype))
    return qt, torch.where(m, b, float("-inf")), False


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None):
    q = _float(query)
    k = convert_to_tensor(key).to(q.dtype)
    v = convert_to_tensor(value).to(q.dtype)
    check_attention_shapes(q.shape, k.shape, v.shape)
    T, N = q.shape[1], q.shape[2]
    S, K = k.shape[1], k.shape[2]
    qt, kt, vt = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
    qt, attn, is_causal = _attention_mask_bias(qt, bias, mask, bool(is_causal), T, S)
    kwargs = {"attn_mask": attn, "is_causal": is_causal, "scale": scale}
    if K != N:
        kwargs["enable_gqa"] = True
    if flash_attention is None:
        out = F.scaled_dot_product_attention(qt, kt, vt, **kwargs)
    else:
        from torch.nn.attention import SDPBackend, sdpa_kernel

        if flash_attention:
            if q.device.type != "cuda" or attn is not None or q.dtype not in (torch.float16, torch.bfloat16):
                raise ValueError(
                    "dot_product_attention(flash_attention=True) needs a CUDA device, float16/bfloat16 "
                    f"inputs and no mask or bias, but received dtype {q.dtype} on {q.device.type} "
                    f"with {'a mask/bias' if attn is not None else 'no mask'}. Hint: pass "
                    "flash_attention=None to let lamina choose the kernel.")
            backends = [SDPBackend.FLASH_ATTENTION]
        else:
            backends = [SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
        with sdpa_kernel(backends):
            out = F.scaled_dot_product_attention(qt, kt, vt, **kwargs)
    return out.transpose(1, 2)


def argmax_matches(labels, scores):
    """Whether the arg-max of ``scores`` over the last axis equals the integer ``labels`` (boolean): the index
    stays torch's int64 and the labels their own integer dtype (the accuracy metrics, one kernel each)."""
    return torch.eq(torch.argmax(convert_to_tensor(scores), dim=-1), convert_to_tensor(labels))
