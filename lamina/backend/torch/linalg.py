"""Linear algebra on PyTorch. Same function names as ``backend/jax/linalg.py``."""

import torch

from lamina.backend.torch.core import convert_to_tensor, to_engine_dtype


def _float(x):
    x = convert_to_tensor(x)
    if not x.is_floating_point() and not x.is_complex():
        x = x.to(to_engine_dtype(None))
    return x


def norm(x, ord=None, axis=None, keepdims=False):
    x = _float(x)
    if axis is None and ord is None:
        out = torch.sqrt(torch.sum(x * x))
        return out.reshape((1,) * x.ndim) if keepdims else out
    if isinstance(axis, (list, tuple)) and len(axis) == 2 or (axis is None and x.ndim == 2 and ord is not None):
        return torch.linalg.matrix_norm(x, ord="fro" if ord is None else ord, dim=tuple(axis or (-2, -1)), keepdim=keepdims)
    return torch.linalg.vector_norm(x, ord=2 if ord is None else ord, dim=axis, keepdim=keepdims)


def inv(x):
    return torch.linalg.inv(_float(x))


def det(x):
    return torch.linalg.det(_float(x))


def solve(a, b):
    return torch.linalg.solve(_float(a), _float(b))


def cholesky(x, upper=False):
    try:
        return torch.linalg.cholesky(_float(x), upper=upper)
    except RuntimeError as e:  # torch's linalg error
        raise ValueError(f"cholesky: the decomposition failed; the input is not a (numerically) positive definite "
                         f"matrix ({e}).") from None


def qr(x, mode="reduced"):
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: `mode` must be 'reduced' or 'complete', but received mode={mode!r}.")
    q, r = torch.linalg.qr(_float(x), mode=mode)
    return q, r


def svd(x, full_matrices=True, compute_uv=True):
    x = _float(x)
    if not compute_uv:
        return torch.linalg.svdvals(x)
    return torch.linalg.svd(x, full_matrices=full_matrices)


def eigh(x):
    return torch.linalg.eigh(_float(x))


def _default_rtol(x):
    return max(x.shape[-2:]) * torch.finfo(x.dtype).eps


def lstsq(a, b, rcond=None):
    a, b = _float(a), _float(b)
    vec = b.ndim == 1
    # gelsd (SVD) handles rank-deficient `a` like NumPy/JAX; CUDA only offers gels (full rank).
    driver = "gelsd" if a.device.type == "cpu" else None
    sol = torch.linalg.lstsq(a, b[:, None] if vec else b, rcond=rcond, driver=driver).solution
    return sol[:, 0] if vec else sol


def pinv(x, rtol=None, hermitian=False):
    x = _float(x)
    return torch.linalg.pinv(x, rtol=_default_rtol(x) if rtol is None else rtol, hermitian=hermitian)


def matrix_rank(x, tol=None):
    x = _float(x)
    s = torch.linalg.svdvals(x)
    if tol is None:
        tol = torch.amax(s, dim=-1, keepdim=True) * _default_rtol(x)
    else:
        tol = torch.as_tensor(tol, dtype=s.dtype, device=s.device)[..., None]
    return torch.sum((s > tol).to(torch.int64), dim=-1)


def solve_triangular(a, b, lower=False):
    a, b = _float(a), _float(b)
    vec = b.ndim == a.ndim - 1
    out = torch.linalg.solve_triangular(a, b[..., None] if vec else b, upper=not lower)
    return out[..., 0] if vec else out


def cholesky_inverse(x, upper=False):
    return torch.cholesky_inverse(_float(x), upper=upper)


def lu_factor(x):
    lu, pivots = torch.linalg.lu_factor(_float(x))
    return lu, (pivots - 1).to(torch.int32)


def eig(x):
    return torch.linalg.eig(_float(x))


def eigvals(x):
    return torch.linalg.eigvals(_float(x))


def eigvalsh(x):
    return torch.linalg.eigvalsh(_float(x))


def logdet(x):
    chol = torch.linalg.cholesky(_float(x))
    return 2.0 * torch.sum(torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)), dim=-1)


def matrix_power(x, n):
    x = convert_to_tensor(x)
    if n < 0 and not x.is_floating_point():
        x = _float(x)
    from lamina.backend.torch import numpy_linalg_like as nl

    if n >= 0 and nl._no_int_kernel(x):
        _int_matmul = nl._int_matmul
        out = torch.eye(x.shape[-1], dtype=x.dtype, device=x.device).expand(x.shape).clone()
        base = x
        while n:  # binary powering with exact integer products (CUDA has no integer matmul)
            if n & 1:
                out = _int_matmul(out, base)
            n >>= 1
            if n:
                base = _int_matmul(base, base)
        return out
    return torch.linalg.matrix_power(x, n)
