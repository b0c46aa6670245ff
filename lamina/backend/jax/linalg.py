"""Linear algebra on JAX. Same function names as ``backend/torch/linalg.py``."""

import jax
import jax.numpy as jnp

from lamina.backend.jax.core import convert_to_tensor, to_engine_dtype


def _float(x):
    x = convert_to_tensor(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(to_engine_dtype(None))
    return x


def norm(x, ord=None, axis=None, keepdims=False):
    x = _float(x)
    if axis is None and ord is None:
        out = jnp.sqrt(jnp.sum(x * x))
        return out.reshape((1,) * x.ndim) if keepdims else out
    return jnp.linalg.norm(x, ord=ord, axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=keepdims)


def inv(x):
    return jnp.linalg.inv(_float(x))


def det(x):
    return jnp.linalg.det(_float(x))


def solve(a, b):
    return jnp.linalg.solve(_float(a), _float(b))


def cholesky(x, upper=False):
    out = jnp.linalg.cholesky(_float(x))
    if not isinstance(out, jax.core.Tracer) and bool(jnp.any(jnp.isnan(out))):
        raise ValueError("cholesky: the decomposition failed; the input is not a (numerically) positive definite "
                         "matrix.")
    return jnp.swapaxes(out, -1, -2).conj() if upper else out


def qr(x, mode="reduced"):
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: `mode` must be 'reduced' or 'complete', but received mode={mode!r}.")
    q, r = jnp.linalg.qr(_float(x), mode=mode)
    return q, r


def svd(x, full_matrices=True, compute_uv=True):
    return jnp.linalg.svd(_float(x), full_matrices=full_matrices, compute_uv=compute_uv)


def eigh(x):
    return jnp.linalg.eigh(_float(x))


def _default_rtol(x):
    return max(x.shape[-2:]) * jnp.finfo(x.dtype).eps


def lstsq(a, b, rcond=None):
    return jnp.linalg.lstsq(_float(a), _float(b), rcond=rcond)[0]


def pinv(x, rtol=None, hermitian=False):
    x = _float(x)
    return jnp.linalg.pinv(x, rtol=_default_rtol(x) if rtol is None else rtol, hermitian=hermitian)


def matrix_rank(x, tol=None):
    x = _float(x)
    s = jnp.linalg.svd(x, compute_uv=False)
    if tol is None:
        tol = jnp.max(s, axis=-1, keepdims=True) * _default_rtol(x)
    else:
        tol = jnp.asarray(tol, dtype=s.dtype)[..., None]
    return jnp.sum(s > tol, axis=-1).astype(jnp.int64)


def solve_triangular(a, b, lower=False):
    return jax.scipy.linalg.solve_triangular(_float(a), _float(b), lower=lower)


def cholesky_inverse(x, upper=False):
    x = _float(x)
    eye = jnp.broadcast_to(jnp.eye(x.shape[-1], dtype=x.dtype), x.shape)
    return jax.scipy.linalg.cho_solve((x, not upper), eye)


def lu_factor(x):
    lu, piv = jax.scipy.linalg.lu_factor(_float(x))
    return lu, piv.astype(jnp.int32)


def eig(x):
    return jnp.linalg.eig(_float(x))


def eigvals(x):
    return jnp.linalg.eigvals(_float(x))


def eigvalsh(x):
    return jnp.linalg.eigvalsh(_float(x))


def logdet(x):
    chol = jnp.linalg.cholesky(_float(x))
    return 2.0 * jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)


def matrix_power(x, n):
    x = convert_to_tensor(x)
    if n < 0 and not jnp.issubdtype(x.dtype, jnp.inexact):
        x = _float(x)
    return jnp.linalg.matrix_power(x, n)
