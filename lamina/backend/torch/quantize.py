"""Integer kernels for ``lamina.quantizers`` (PyTorch): int8 x int8 -> int32 matrix products."""

import torch

from lamina.backend.torch.core import convert_to_tensor


def int8_matmul(x, kernel):
    """``x @ kernel`` for 2-D int8 tensors, accumulated exactly in int32.

    On CPU this is ``torch._int_mm`` (oneDNN/FBGEMM int8 GEMM); on CUDA too when the shapes
    meet its constraints. Elsewhere the int8 values are multiplied in float32 and rounded back,
    which is exact while ``kernel.shape[0] * 127 * 127 < 2**24`` (contraction size < 1040).
    """
    x, kernel = convert_to_tensor(x), convert_to_tensor(kernel)
    m, k = x.shape
    n = kernel.shape[1]
    int_mm = getattr(torch, "_int_mm", None)
    if int_mm is not None and x.dtype == torch.int8 and kernel.dtype == torch.int8:
        # A symbolic batch size (torch.export) must not be compared: that would pin the exported
        # program's batch range to one side of the test. It takes the float path on CUDA.
        if x.device.type == "cpu" or (x.device.type == "cuda" and isinstance(m, int) and m > 16
                                      and k % 8 == 0 and n % 8 == 0):
            return int_mm(x.contiguous(), kernel.contiguous())
    out = torch.matmul(x.to(torch.float32), kernel.to(torch.float32))
    return torch.round(out).to(torch.int32)
