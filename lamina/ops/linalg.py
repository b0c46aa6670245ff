"""Linear-algebra ops: norm, inv, det, solve, cholesky, qr, svd, eigh."""

from lamina import backend
from lamina.ops._export import export_ops


def _doc(summary, call, result):
    return (f"{summary}\n\nExample:\n>>> from lamina import ops\n"
            f">>> ops.convert_to_numpy({call}).round(4).tolist()\n{result}\n")


_DOCS = {
    "norm": _doc("Vector or matrix norm (``ord``, ``axis`` as numpy.linalg.norm).", "ops.norm([3.0, 4.0])", "5.0"),
    "inv": _doc("Inverse of a square matrix.", "ops.inv([[2.0, 0.0], [0.0, 4.0]])", "[[0.5, 0.0], [0.0, 0.25]]"),
    "det": _doc("Determinant of a square matrix.", "ops.det([[2.0, 0.0], [0.0, 4.0]])", "8.0"),
    "solve": _doc("Solve ``a @ x = b`` for ``x``.", "ops.solve([[2.0, 0.0], [0.0, 4.0]], [2.0, 4.0])", "[1.0, 1.0]"),
    "cholesky": _doc("Cholesky factor (lower) of a positive-definite matrix.", "ops.cholesky([[4.0, 0.0], [0.0, 9.0]])", "[[2.0, 0.0], [0.0, 3.0]]"),
    "qr": ("QR decomposition: ``(q, r)``.\n\nExample:\n>>> from lamina import ops\n"
           ">>> q, r = ops.qr([[1.0, 0.0], [0.0, 1.0]]); abs(ops.convert_to_numpy(r)).tolist()\n[[1.0, 0.0], [0.0, 1.0]]\n"),
    "svd": _doc("Singular value decomposition; with ``compute_uv=False`` only the singular values.", "ops.svd([[3.0, 0.0], [0.0, 2.0]], compute_uv=False)", "[3.0, 2.0]"),
    "eigh": ("Eigenvalues and eigenvectors of a symmetric matrix.\n\nExample:\n>>> from lamina import ops\n"
             ">>> w, v = ops.eigh([[2.0, 0.0], [0.0, 1.0]]); ops.convert_to_numpy(w).tolist()\n[1.0, 2.0]\n"),
}

_DOCS.update({
    "lstsq": _doc("Least-squares solution of ``a @ x = b``.", "ops.lstsq([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]], [1.0, 2.0, 0.0])", "[1.0, 1.0]"),
    "pinv": _doc("Moore-Penrose pseudo-inverse.", "ops.pinv([[2.0, 0.0], [0.0, 0.0]])", "[[0.5, 0.0], [0.0, 0.0]]"),
    "matrix_rank": _doc("Rank of a matrix (number of singular values above ``tol``).", "ops.matrix_rank([[1.0, 2.0], [2.0, 4.0]])", "1"),
    "solve_triangular": _doc("Solve ``a @ x = b`` for triangular ``a`` (upper unless ``lower=True``).", "ops.solve_triangular([[2.0, 0.0], [1.0, 1.0]], [2.0, 3.0], lower=True)", "[1.0, 2.0]"),
    "cholesky_inverse": _doc("Inverse of ``A`` from its Cholesky factor (lower unless ``upper=True``).", "ops.cholesky_inverse([[1.0, 0.0], [1.0, 1.0]])", "[[2.0, -1.0], [-1.0, 1.0]]"),
    "lu_factor": ("LU factorization with partial pivoting: ``(lu, pivots)`` with 0-based pivots (as SciPy).\n\nExample:\n>>> from lamina import ops\n"
                  ">>> lu, piv = ops.lu_factor([[1.0, 2.0], [3.0, 4.0]]); ops.convert_to_numpy(piv).tolist()\n[1, 1]\n"),
    "eig": ("Eigenvalues and right eigenvectors of a square matrix (complex; eager only on JAX/CPU).\n\nExample:\n>>> from lamina import ops\n"
            ">>> w, v = ops.eig([[2.0, 0.0], [0.0, 3.0]]); ops.convert_to_numpy(w).real.tolist()\n[2.0, 3.0]\n"),
    "eigvals": _doc("Eigenvalues of a square matrix (complex).", "ops.real(ops.eigvals([[2.0, 0.0], [0.0, 3.0]]))", "[2.0, 3.0]"),
    "eigvalsh": _doc("Eigenvalues of a symmetric matrix, ascending.", "ops.eigvalsh([[2.0, 0.0], [0.0, 1.0]])", "[1.0, 2.0]"),
    "logdet": _doc("Log-determinant of a symmetric positive-definite matrix.", "ops.logdet([[1.0, 0.0], [0.0, 1.0]])", "0.0"),
    "matrix_power": _doc("Integer power ``n`` of a square matrix.", "ops.matrix_power([[1, 1], [0, 1]], 3)", "[[1, 3], [0, 1]]"),
})

__all__ = export_ops(globals(), backend.linalg, _DOCS, __name__)
