"""Convolutions add their bias inside the engine's op (``backend.nn.conv(..., bias=)``: fused into torch's conv
kernel on PyTorch, conv + add on JAX): the results and gradients equal a convolution followed by an add, and
predictions follow every kind of weight update (a guard for any per-variable caching of kernel layouts).
"""

import numpy as np
import pytest

import lamina
from lamina import backend, layers, ops

RNG = np.random.default_rng(0)
TORCH = lamina.config.backend() == "torch"


def _np(x):
    return ops.convert_to_numpy(x)


def _reference(layer, x):
    """The layer's output computed as before the fusion: the convolution, then ``+ bias``, then the activation."""
    out = layer._convolve(ops.convert_to_tensor(x))
    if layer.bias is not None:
        bias = layer.bias.value
        if layer.data_format == "channels_first":
            bias = ops.reshape(bias, (1, -1) + (1,) * layer.rank)
        out = ops.add(out, bias)
    return layer.activation(out)


CASES = [
    (layers.Conv1D, {"filters": 4, "kernel_size": 3}, (2, 8, 3)),
    (layers.Conv1D, {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (2, 8, 3)),
    (layers.Conv1D, {"filters": 4, "kernel_size": 2, "data_format": "channels_first", "activation": "relu"},
     (2, 3, 7)),
    (layers.Conv2D, {"filters": 5, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 8, 7, 3)),
    (layers.Conv2D, {"filters": 4, "kernel_size": (2, 3), "groups": 2, "data_format": "channels_first"},
     (2, 4, 6, 6)),
    (layers.Conv2D, {"filters": 4, "kernel_size": 3, "dilation_rate": 2, "padding": "same", "activation": "relu"},
     (1, 9, 9, 2)),
    (layers.Conv2D, {"filters": 3, "kernel_size": 3, "use_bias": False}, (2, 6, 6, 2)),
    (layers.Conv3D, {"filters": 2, "kernel_size": 2}, (1, 3, 4, 5, 2)),
    (layers.Conv3D, {"filters": 2, "kernel_size": 2, "data_format": "channels_first"}, (1, 2, 3, 4, 5)),
    (layers.Conv1DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2}, (2, 5, 2)),
    (layers.Conv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 4, 4, 2)),
    (layers.Conv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2, "output_padding": 1,
                              "data_format": "channels_first"}, (2, 2, 4, 4)),
    # torch's op cannot crop these itself: the output is cropped or zero-extended, then the bias added
    (layers.Conv2DTranspose, {"filters": 3, "kernel_size": 1, "strides": 2}, (1, 3, 3, 2)),
    (layers.Conv2DTranspose, {"filters": 3, "kernel_size": 4, "padding": "same"}, (1, 4, 5, 2)),
    (layers.Conv3DTranspose, {"filters": 2, "kernel_size": 2, "strides": 2}, (1, 2, 2, 3, 2)),
    (layers.DepthwiseConv1D, {"kernel_size": 3, "depth_multiplier": 2}, (2, 6, 3)),
    (layers.DepthwiseConv2D, {"kernel_size": 3, "padding": "same", "depth_multiplier": 2}, (2, 5, 5, 3)),
    (layers.DepthwiseConv2D, {"kernel_size": 3, "data_format": "channels_first"}, (2, 3, 5, 5)),
    (layers.SeparableConv1D, {"filters": 4, "kernel_size": 3}, (2, 6, 3)),
    (layers.SeparableConv2D, {"filters": 4, "kernel_size": 3, "depth_multiplier": 2, "padding": "same"},
     (2, 5, 5, 3)),
]


def _built(cls, kwargs, shape):
    layer = cls(**kwargs)
    layer.build(shape)
    if layer.bias is not None:  # a non-zero bias, or the test shows nothing
        layer.bias.assign(RNG.standard_normal(layer.bias.shape).astype("float32"))
    return layer


@pytest.mark.parametrize("cls,kwargs,shape", CASES)
def test_layer_output_equals_conv_then_add(cls, kwargs, shape):
    layer = _built(cls, kwargs, shape)
    x = RNG.standard_normal(shape).astype("float32")
    want = _np(_reference(layer, x))
    np.testing.assert_allclose(_np(layer(x)), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_np(layer(x, training=True)), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.compute_output_shape(shape), want.shape)


def _grads(fn, arrays):
    """The gradients of the scalar ``fn(*tensors)`` with respect to each array, on the active engine."""
    if TORCH:
        import torch

        ts = [torch.tensor(a, requires_grad=True) for a in arrays]
        fn(*ts).backward()
        return [t.grad.numpy() for t in ts]
    import jax

    return [np.asarray(g) for g in jax.grad(fn, argnums=tuple(range(len(arrays))))(*arrays)]


def _op_case(name, data_format):
    """(op(x, kernels..., bias=...) -> tensor, [x, kernels..., bias] arrays)."""
    cl = data_format == "channels_last"
    x = RNG.standard_normal((2, 6, 7, 3) if cl else (2, 3, 6, 7)).astype("float32")
    kw = {"data_format": data_format}
    if name == "conv":
        arrays = [x, RNG.standard_normal((3, 2, 3, 4)).astype("float32")]
        return lambda x, k, bias=None: backend.nn.conv(x, k, 2, "same", bias=bias, **kw), arrays + [
            RNG.standard_normal(4).astype("float32")]
    if name == "depthwise_conv":
        arrays = [x, RNG.standard_normal((3, 3, 3, 2)).astype("float32")]
        return lambda x, k, bias=None: backend.nn.depthwise_conv(x, k, 1, "valid", bias=bias, **kw), arrays + [
            RNG.standard_normal(6).astype("float32")]
    if name == "separable_conv":
        arrays = [x, RNG.standard_normal((3, 3, 3, 2)).astype("float32"),
                  RNG.standard_normal((1, 1, 6, 5)).astype("float32")]
        return lambda x, d, p, bias=None: backend.nn.separable_conv(x, d, p, 1, "same", bias=bias, **kw), arrays + [
            RNG.standard_normal(5).astype("float32")]
    arrays = [x, RNG.standard_normal((3, 3, 4, 3)).astype("float32")]
    return lambda x, k, bias=None: backend.nn.conv_transpose(x, k, 2, "same", bias=bias, **kw), arrays + [
        RNG.standard_normal(4).astype("float32")]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("name", ["conv", "depthwise_conv", "separable_conv", "conv_transpose"])
def test_gradients_equal_conv_then_add(name, data_format):
    op, arrays = _op_case(name, data_format)
    ndim = arrays[0].ndim
    weights = ops.convert_to_tensor(RNG.standard_normal(_np(op(*arrays)).shape).astype("float32"))

    def fused(*a):
        return ops.sum(ops.multiply(op(*a[:-1], bias=a[-1]), weights))

    def unfused(*a):
        bias = a[-1] if data_format == "channels_last" else ops.reshape(a[-1], (-1,) + (1,) * (ndim - 2))
        return ops.sum(ops.multiply(ops.add(op(*a[:-1]), bias), weights))

    np.testing.assert_allclose(_np(fused(*arrays)), _np(unfused(*arrays)), rtol=1e-5, atol=1e-4)
    for got, want in zip(_grads(fused, arrays), _grads(unfused, arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def test_bias_of_another_dtype_is_added_with_the_usual_promotion():
    x = RNG.standard_normal((1, 5, 5, 2)).astype("float32")
    k = RNG.standard_normal((3, 3, 2, 4)).astype("float32")
    for bias in (RNG.standard_normal(4).astype("float16"), RNG.standard_normal((1, 1, 4)).astype("float32")):
        got = backend.nn.conv(x, k, bias=bias)
        want = ops.add(backend.nn.conv(x, k), bias)
        assert backend.dtype_name(got) == backend.dtype_name(want)
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-6, atol=1e-6)


class _UnfusedConv2D(layers.Conv2D):
    """Conv2D as it was: the convolution, then the bias added separately."""

    def call(self, inputs):
        return _reference(self, inputs)


def _cnn(conv_cls, seed):
    lamina.utils.set_random_seed(seed)
    return lamina.Sequential([lamina.Input((8, 8, 3)), conv_cls(4, 3, activation="relu"),
                              layers.DepthwiseConv2D(3, padding="same"), layers.Conv2DTranspose(3, 3, strides=2),
                              layers.SeparableConv2D(2, 3), layers.Flatten(), layers.Dense(3)])


def test_training_matches_the_unfused_layers():
    x = RNG.standard_normal((16, 8, 8, 3)).astype("float32")
    y = RNG.standard_normal((16, 3)).astype("float32")
    fused, unfused = _cnn(layers.Conv2D, 1), _cnn(_UnfusedConv2D, 1)
    unfused.set_weights(fused.get_weights())
    for m in (fused, unfused):
        m.compile(optimizer=lamina.optimizers.SGD(0.05), loss="mse")
        m.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for got, want in zip(fused.get_weights(), unfused.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fused.predict(x, verbose=0), unfused.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


def _fresh_predict(model, x):
    """The prediction of a new model (new variables: nothing cached) with ``model``'s weights."""
    twin = _cnn(layers.Conv2D, 7)
    twin.set_weights(model.get_weights())
    return twin.predict(x, verbose=0)


def test_predictions_follow_every_weight_update(tmp_path):
    x = RNG.standard_normal((4, 8, 8, 3)).astype("float32")
    y = RNG.standard_normal((4, 3)).astype("float32")
    model = _cnn(layers.Conv2D, 2)
    model.compile(optimizer="adam", loss="mse")
    conv = model.layers[0]

    def check():
        got = model.predict(x, verbose=0)
        np.testing.assert_allclose(got, _fresh_predict(model, x), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(_np(model(x)), got, rtol=1e-5, atol=1e-6)
        return got

    before = check()
    model.fit(x, y, epochs=1, verbose=0)  # optimizer steps: in-place updates
    after_fit = check()
    assert not np.allclose(before, after_fit)
    model.set_weights([w * 0.5 for w in model.get_weights()])
    check()
    conv.kernel.assign(RNG.standard_normal(conv.kernel.shape).astype("float32"))
    check()
    conv.kernel.assign_add(np.ones(conv.kernel.shape, "float32"))
    check()
    conv.bias.assign(np.full(conv.bias.shape, 3.0, "float32"))
    check()
    model.layers[2].kernel.assign(np.zeros(model.layers[2].kernel.shape, "float32"))  # Conv2DTranspose
    model.layers[1].kernel.assign(np.ones(model.layers[1].kernel.shape, "float32"))  # DepthwiseConv2D
    check()
    path = str(tmp_path / "w.weights.h5")
    saved = model.get_weights()
    model.save_weights(path)
    model.set_weights([w + 1.0 for w in saved])
    check()
    model.load_weights(path)
    np.testing.assert_allclose(check(), _fresh_predict(model, x), rtol=1e-5, atol=1e-6)
    model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=1, verbose=0)
    check()


def test_frozen_layers_train_after_predictions():
    x = RNG.standard_normal((8, 8, 8, 3)).astype("float32")
    y = RNG.standard_normal((8, 3)).astype("float32")
    model = _cnn(layers.Conv2D, 3)
    model.predict(x, verbose=0)
    for layer in model.layers[1:4]:
        layer.trainable = False
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), _fresh_predict(model, x), rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not TORCH, reason="torch.optim on the variables' storage")
def test_torch_optimizer_updates_are_seen():
    # torch's fused Adam kernel writes the weights without bumping their version counter: nothing may key
    # on ``_version`` alone to reuse a kernel's layout between calls.
    import torch

    model = _cnn(layers.Conv2D, 4)
    x = RNG.standard_normal((2, 8, 8, 3)).astype("float32")
    for options in ({"fused": True}, {"foreach": True}):
        model.predict(x, verbose=0)
        kernel = model.layers[0].kernel.value
        opt = torch.optim.Adam([kernel], lr=0.1, **options)
        kernel.grad = torch.ones_like(kernel)
        opt.step()
        kernel.grad = None
        np.testing.assert_allclose(model.predict(x, verbose=0), _fresh_predict(model, x), rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        kernel.copy_(torch.randn_like(kernel))
    np.testing.assert_allclose(model.predict(x, verbose=0), _fresh_predict(model, x), rtol=1e-5, atol=1e-6)
    want = _fresh_predict(model, x)
    with torch.inference_mode():
        np.testing.assert_allclose(_np(model(x)), want, rtol=1e-5, atol=1e-6)
