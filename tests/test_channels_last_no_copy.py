"""channels_last (NHWC) input costs no transposing copy on the PyTorch engine.

torch's convolution and pooling kernels are channels-first in their *shape*, but accept a tensor whose
*memory* is NHWC (torch's ``channels_last`` memory format) and then return their result in that format.
lamina's torch backend therefore only permutes NHWC -> NCHW as a view on the way in and back on the way
out. These tests watch every torch call made by lamina (a ``TorchFunctionMode``, so they see
``torch.nn.functional.conv2d`` however lamina refers to it) and check that the kernel is handed the
user's own storage in ``channels_last`` format, and that the NHWC result handed back is the kernel's
own output storage, not a copy.
"""

import numpy as np
import pytest

import lamina
from lamina import layers, ops

if lamina.config.backend() != "torch":
    pytest.skip("channels_last memory format without transposing copies is a property of the PyTorch engine's "
                "memory formats (torch.channels_last); the JAX engine has no memory formats to check",
                allow_module_level=True)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.overrides import TorchFunctionMode  # noqa: E402


class _Record(TorchFunctionMode):
    """Record each call of the watched torch functions: (input tensor, output tensor)."""

    def __init__(self, watched):
        super().__init__()
        self.watched = watched
        self.calls = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func in self.watched:
            self.calls.append((args[0], out))
        return out


def _nhwc(shape, seed=0):
    return torch.from_numpy(np.random.RandomState(seed).randn(*shape).astype("float32"))


def _is_nchw_view_of(t, base):
    """``t`` is ``base`` (NHWC, contiguous) seen as NCHW: same storage, channels_last strides."""
    return (t.data_ptr() == base.data_ptr() and t.is_contiguous(memory_format=torch.channels_last)
            and not t.is_contiguous() and tuple(t.shape) == (base.shape[0], base.shape[3], *base.shape[1:3]))


@pytest.mark.parametrize("kernel_size,strides,padding", [(3, 1, "valid"), (3, 1, "same"), (5, 2, "valid")])
def test_conv_op_passes_nhwc_storage_to_the_kernel_and_returns_its_output(kernel_size, strides, padding):
    x = _nhwc((4, 16, 16, 3))
    kernel = _nhwc((kernel_size, kernel_size, 3, 8), seed=1)
    with _Record({F.conv2d, torch.conv2d}) as rec:
        y = ops.conv(x, kernel, strides=strides, padding=padding)
    assert len(rec.calls) == 1, [tuple(a.shape) for a, _ in rec.calls]
    seen_in, seen_out = rec.calls[0]
    assert _is_nchw_view_of(seen_in, x), (seen_in.stride(), seen_in.data_ptr() == x.data_ptr())
    # The kernel answered in channels_last memory, and the NHWC result is that very storage.
    assert seen_out.is_contiguous(memory_format=torch.channels_last)
    assert y.data_ptr() == seen_out.data_ptr()
    assert y.is_contiguous()  # NHWC, plain row-major: nothing left for a later op to copy
    # ... and the numbers are those of the plain NCHW path.
    want = F.conv2d(x.permute(0, 3, 1, 2).contiguous(), kernel.permute(3, 2, 0, 1).contiguous(), stride=strides,
                    padding=padding).permute(0, 2, 3, 1)
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


def test_max_pool_op_passes_nhwc_storage_and_returns_its_output():
    x = _nhwc((4, 16, 16, 8))
    with _Record({F.max_pool2d, torch.max_pool2d}) as rec:
        y = ops.max_pool(x, 2, 2)
    assert rec.calls, "max_pool2d was not called"
    seen_in, seen_out = rec.calls[0]
    assert _is_nchw_view_of(seen_in, x)
    assert y.data_ptr() == seen_out.data_ptr() and y.is_contiguous()
    np.testing.assert_array_equal(y.numpy(), x.numpy().reshape(4, 8, 2, 8, 2, 8).max(axis=(2, 4)))


def test_conv2d_layer_forward_and_backward_stay_channels_last():
    layer = layers.Conv2D(8, 3, padding="same", activation="relu")
    layer.build((None, 12, 12, 3))
    # The input lives where the weights do (a GPU when there is one): lamina would otherwise move it
    # there first, and the kernel would see that copy rather than the user's storage.
    x = _nhwc((2, 12, 12, 3)).to(layer.kernel.value.device).requires_grad_(True)
    with _Record({F.conv2d, torch.conv2d}) as rec:
        y = layer(x)
    assert len(rec.calls) == 1
    seen_in, seen_out = rec.calls[0]
    assert _is_nchw_view_of(seen_in, x)
    assert seen_out.is_contiguous(memory_format=torch.channels_last)
    assert tuple(y.shape) == (2, 12, 12, 8) and y.is_contiguous()
    y.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape and x.grad.is_contiguous()


def test_fit_feeds_the_conv_kernels_channels_last_batches():
    """In a real training step (the tutorial CNN's first layers), every conv sees an NHWC view, none a copy."""
    model = lamina.Sequential([
        layers.Input((32, 32, 3)),
        layers.Conv2D(8, 3, padding="same", activation="relu"),
        layers.Conv2D(8, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    x = np.random.RandomState(0).rand(8, 32, 32, 3).astype("float32")
    y = np.arange(8) % 10
    with _Record({F.conv2d, torch.conv2d}) as rec:
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    # The step's two convs, and those of any forward pass fit runs before it (to build metrics): all NHWC views.
    assert len(rec.calls) >= 2 and len(rec.calls) % 2 == 0, [tuple(i.shape) for i, _ in rec.calls]
    for seen_in, seen_out in rec.calls:
        assert seen_in.is_contiguous(memory_format=torch.channels_last) and not seen_in.is_contiguous(), \
            seen_in.stride()
        assert seen_out.is_contiguous(memory_format=torch.channels_last)
