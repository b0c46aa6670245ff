"""Depthwise, 1x1, grouped and transposed convolutions: values and exact gradients against NumPy on both engines, and
(JAX) the CPU fast paths (a depthwise convolution as shifted products, a 1x1 convolution as a matrix product,
a grouped convolution as one convolution per group, a transposed convolution's kernel gradient as the strided
convolution's) against XLA's own convolution:
values, reverse- and forward-mode derivatives."""

import numpy as np
import pytest

import lamina
from lamina import backend, ops
from np_conv_reference import np_conv, np_conv_transpose, np_depthwise_conv

RNG = np.random.default_rng(7)
JAX = lamina.config.backend() == "jax"


def _grads(fn, x, k, g):
    """Gradients of ``sum(fn(x, k) * g)`` with respect to ``x`` and ``k``, from the active engine."""
    if not JAX:
        import torch

        xt, kt = torch.tensor(x, requires_grad=True), torch.tensor(k, requires_grad=True)
        (fn(xt, kt) * torch.tensor(g)).sum().backward()
        return xt.grad.numpy(), kt.grad.numpy()
    import jax

    gx, gk = jax.grad(lambda a, b: (fn(a, b) * g).sum(), argnums=(0, 1))(x, k)
    return np.asarray(gx), np.asarray(gk)


def _exact_grads(ref, x, k, g):
    """The same gradients from a NumPy reference: the convolution is linear in each argument, so the
    gradient's entry i is ``sum(ref(basis_i) * g)``, computed in float64."""
    x64, k64, g64 = x.astype("float64"), k.astype("float64"), g.astype("float64")
    gx, gk = np.zeros_like(x64), np.zeros_like(k64)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x64)
        e[idx] = 1.0
        gx[idx] = np.sum(ref(e, k64) * g64)
    for idx in np.ndindex(k.shape):
        e = np.zeros_like(k64)
        e[idx] = 1.0
        gk[idx] = np.sum(ref(x64, e) * g64)
    return gx, gk


def _check_against_numpy(op, ref, x, k, kw):
    """``ops.<op>(x, k, **kw)`` and its gradients for the input and the kernel against the NumPy reference."""
    out = ops.convert_to_numpy(getattr(ops, op)(x, k, **kw))
    want = ref(x, k, **kw)
    assert out.shape == want.shape
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5)
    g = RNG.standard_normal(want.shape).astype("float32")
    got = _grads(lambda a, b: getattr(backend.nn, op)(a, b, **kw), x, k, g)
    exact = _exact_grads(lambda a, b: ref(a, b, **kw), x, k, g)
    for name, a, b in zip(("input", "kernel"), got, exact):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4, err_msg=f"gradient for the {name}")


def _input(n, data_format, channels, batch=2):
    spatial = (7, 6, 5)[:n]
    shape = (batch,) + spatial + (channels,) if data_format == "channels_last" else (batch, channels) + spatial
    return RNG.standard_normal(shape).astype("float32")


DEPTHWISE = [
    # n, data_format, kernel, strides, padding, dilation, multiplier
    (2, "channels_last", 3, 1, "same", 1, 1),
    (2, "channels_last", 3, 2, "same", 1, 2),
    (2, "channels_last", (2, 3), 1, "valid", (2, 1), 1),
    (2, "channels_first", 3, 2, "valid", 1, 1),
    (2, "channels_first", 5, 1, "same", 1, 3),
    (1, "channels_last", 3, 1, "same", 2, 1),
    (1, "channels_first", 4, 3, "valid", 1, 2),
    (3, "channels_last", 2, 1, "same", 1, 1),
]


@pytest.mark.parametrize("n,df,kernel,strides,padding,dilation,mult", DEPTHWISE)
def test_depthwise_conv_values_and_gradients_match_numpy(n, df, kernel, strides, padding, dilation, mult):
    c = 3
    x = _input(n, df, c)
    ks = (kernel,) * n if isinstance(kernel, int) else kernel
    k = RNG.standard_normal(ks + (c, mult)).astype("float32")
    kw = {"strides": strides, "padding": padding, "data_format": df, "dilation_rate": dilation}

    _check_against_numpy("depthwise_conv", np_depthwise_conv, x, k, kw)


POINTWISE = [
    # n, data_format, strides, padding, channels in -> out
    (2, "channels_last", 1, "same", 4, 5),
    (2, "channels_last", 2, "same", 3, 2),
    (2, "channels_last", (3, 2), "valid", 2, 4),
    (1, "channels_last", 2, "valid", 3, 3),
    (3, "channels_last", 1, "valid", 2, 3),
    (2, "channels_first", 2, "same", 3, 4),
]


@pytest.mark.parametrize("n,df,strides,padding,cin,cout", POINTWISE)
def test_pointwise_conv_values_and_gradients_match_numpy(n, df, strides, padding, cin, cout):
    x = _input(n, df, cin)
    k = RNG.standard_normal((1,) * n + (cin, cout)).astype("float32")
    kw = {"strides": strides, "padding": padding, "data_format": df}

    _check_against_numpy("conv", np_conv, x, k, kw)


GROUPED = [
    # n, data_format, kernel, strides, padding, groups
    (2, "channels_last", 3, 1, "same", 2),
    (2, "channels_first", 3, 2, "valid", 3),
    (2, "channels_last", 1, 1, "valid", 3),
    (1, "channels_last", 3, 2, "same", 2),
    (2, "channels_last", 3, 1, "same", 6),    # one input channel per group (ConvNeXt's depthwise Conv2D)
    (2, "channels_first", 3, 2, "valid", 6),
]


@pytest.mark.parametrize("n,df,kernel,strides,padding,groups", GROUPED)
def test_grouped_conv_values_and_gradients_match_numpy(n, df, kernel, strides, padding, groups):
    x = _input(n, df, 6)
    k = RNG.standard_normal((kernel,) * n + (6 // groups, 6)).astype("float32")
    kw = {"strides": strides, "padding": padding, "data_format": df}

    _check_against_numpy("conv", np_conv, x, k, kw)


TRANSPOSE = [
    # n, data_format, kernel, strides, padding, output_padding, dilation
    (2, "channels_last", 3, 2, "same", None, 1),
    (2, "channels_last", 4, 2, "valid", None, 1),
    (2, "channels_first", 3, 3, "same", 1, 1),
    (2, "channels_last", 3, 1, "same", None, 2),
    (1, "channels_last", 5, 2, "valid", 1, 1),
    (3, "channels_last", 2, 2, "same", None, 1),
]


@pytest.mark.parametrize("n,df,kernel,strides,padding,output_padding,dilation", TRANSPOSE)
def test_conv_transpose_values_and_gradients_match_numpy(n, df, kernel, strides, padding, output_padding,
                                                          dilation):
    x = _input(n, df, 3)
    k = RNG.standard_normal((kernel,) * n + (2, 3)).astype("float32")
    kw = {"strides": strides, "padding": padding, "output_padding": output_padding, "data_format": df,
          "dilation_rate": dilation}

    _check_against_numpy("conv_transpose", np_conv_transpose, x, k, kw)


# ---- JAX: the CPU fast paths against XLA's convolution ---------------------------------------------------

jax_only = pytest.mark.skipif(not JAX, reason="the JAX engine's CPU convolution paths")


def _xla_depthwise(x, k, strides, padding, df, dilation):
    from lamina.backend.jax import nn_conv

    x, k, df, n, _, strides, dilation, padding = nn_conv._prep(
        "depthwise_conv", x, k, df, strides, padding, dilation, depthwise=True)
    from jax import lax

    c = k.shape[-2]
    w = k.reshape(tuple(k.shape[:n]) + (1, c * k.shape[-1]))
    lengths = x.shape[1:1 + n] if df == "channels_last" else x.shape[2:]
    pads = ([nn_conv.cu.same_padding(L, kk, s, d) for L, kk, s, d in zip(lengths, k.shape[:n], strides, dilation)]
            if padding == "same" else [(0, 0)] * n)
    return lax.conv_general_dilated(x, w, strides, pads, rhs_dilation=dilation,
                                    dimension_numbers=nn_conv._dims(n, df), feature_group_count=c)


def _xla_conv(x, k, strides, padding, df):
    from jax import lax

    from lamina.backend.jax import nn_conv

    x, k, df, n, groups, strides, dilation, padding = nn_conv._prep("conv", x, k, df, strides, padding, 1)
    return lax.conv_general_dilated(x, k, strides, [(0, 0)] * n, dimension_numbers=nn_conv._dims(n, df))


def _compare_paths(fast, plain, x, k):
    import jax
    import jax.numpy as jnp

    np.testing.assert_allclose(np.asarray(fast(x, k)), np.asarray(plain(x, k)), rtol=1e-5, atol=1e-5)
    g = jnp.asarray(RNG.standard_normal(np.shape(plain(x, k))).astype("float32"))
    for argnum in (0, 1):
        a = jax.grad(lambda *v: (fast(*v) * g).sum(), argnums=argnum)(x, k)
        b = jax.grad(lambda *v: (plain(*v) * g).sum(), argnums=argnum)(x, k)
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-4)
    tx = jnp.asarray(RNG.standard_normal(x.shape).astype("float32"))
    tk = jnp.asarray(RNG.standard_normal(k.shape).astype("float32"))
    _, ja = jax.jvp(fast, (x, k), (tx, tk))
    _, jb = jax.jvp(plain, (x, k), (tx, tk))
    np.testing.assert_allclose(np.asarray(ja), np.asarray(jb), rtol=1e-4, atol=1e-4)


def _primitives(fn, *args):
    """The primitives ``fn`` traces to, those of nested (jitted) functions included."""
    import jax

    found = set()

    def walk(jaxpr):
        for e in jaxpr.eqns:
            found.add(str(e.primitive))
            for v in e.params.values():
                for sub in (v if isinstance(v, (list, tuple)) else [v]):
                    inner = getattr(sub, "jaxpr", sub)
                    if hasattr(inner, "eqns"):
                        walk(inner)

    walk(jax.make_jaxpr(fn)(*args).jaxpr)
    return found


@jax_only
@pytest.mark.parametrize("n,df,kernel,strides,padding,dilation,mult", DEPTHWISE)
def test_jax_depthwise_fast_path_equals_xla_convolution(n, df, kernel, strides, padding, dilation, mult):
    import jax.numpy as jnp

    x = jnp.asarray(_input(n, df, 3))
    ks = (kernel,) * n if isinstance(kernel, int) else kernel
    k = jnp.asarray(RNG.standard_normal(ks + (3, mult)).astype("float32"))
    args = (strides, padding, df, dilation)

    def fast(a, b):
        return backend.nn.depthwise_conv(a, b, strides, padding, df, dilation)

    _compare_paths(fast, lambda a, b: _xla_depthwise(a, b, *args), x, k)
    # The fast path is the one taken on a CPU: no convolution reaches XLA.
    assert "conv_general_dilated" not in _primitives(fast, x, k)


@jax_only
@pytest.mark.parametrize("n,df,strides,padding,cin,cout", [c for c in POINTWISE if c[1] == "channels_last"])
def test_jax_pointwise_fast_path_equals_xla_convolution(n, df, strides, padding, cin, cout):
    import jax.numpy as jnp

    x = jnp.asarray(_input(n, df, cin))
    k = jnp.asarray(RNG.standard_normal((1,) * n + (cin, cout)).astype("float32"))

    def fast(a, b):
        return backend.nn.conv(a, b, strides, padding, df)

    _compare_paths(fast, lambda a, b: _xla_conv(a, b, strides, padding, df), x, k)
    prims = _primitives(fast, x, k)
    assert "conv_general_dilated" not in prims and "dot_general" in prims


@jax_only
def test_jax_fast_paths_second_derivative():
    """Forward over reverse (a Hessian-vector product) works through both fast paths."""
    import jax
    import jax.numpy as jnp

    x = jnp.asarray(_input(2, "channels_last", 3))
    dk = jnp.asarray(RNG.standard_normal((3, 3, 3, 1)).astype("float32"))
    pk = jnp.asarray(RNG.standard_normal((1, 1, 3, 2)).astype("float32"))

    def loss(d, p, conv_dw):
        return jnp.sum(jnp.tanh(backend.nn.conv(conv_dw(x, d), p, 1, "same")) ** 2)

    def fast_dw(a, b):
        return backend.nn.depthwise_conv(a, b, 1, "same")

    def xla_dw(a, b):
        return _xla_depthwise(a, b, 1, "same", "channels_last", 1)

    v = jnp.asarray(RNG.standard_normal(dk.shape).astype("float32"))
    hvp = [jax.jvp(lambda d: jax.grad(loss)(d, pk, f), (dk,), (v,))[1] for f in (fast_dw, xla_dw)]
    np.testing.assert_allclose(np.asarray(hvp[0]), np.asarray(hvp[1]), rtol=1e-4, atol=1e-4)


@jax_only
def test_jax_fast_paths_keep_bfloat16_and_float64():
    """The dtype is kept; bfloat16 products are summed in float32 (as XLA's convolution sums them), so the
    result is the float32 result rounded once to bfloat16."""
    import jax.numpy as jnp

    x32 = jnp.asarray(RNG.standard_normal((2, 7, 6, 64)).astype("float32"))
    d32 = jnp.asarray(RNG.standard_normal((3, 3, 64, 2)).astype("float32"))
    p32 = jnp.asarray(RNG.standard_normal((1, 1, 64, 4)).astype("float32"))
    for dtype in ("bfloat16", "float64"):
        x, d, p = x32.astype(dtype), d32.astype(dtype), p32.astype(dtype)
        for out, want in ((backend.nn.depthwise_conv(x, d, 1, "same"),
                           backend.nn.depthwise_conv(x.astype("float32"), d.astype("float32"), 1, "same")),
                          (backend.nn.conv(x, p, 1, "same"),
                           backend.nn.conv(x.astype("float32"), p.astype("float32"), 1, "same"))):
            assert out.dtype == jnp.dtype(dtype) and out.shape == want.shape
            rtol = 2 ** -8 if dtype == "bfloat16" else 1e-6
            np.testing.assert_allclose(np.asarray(out.astype("float32")), np.asarray(want),
                                       rtol=rtol, atol=rtol * float(jnp.abs(want).max()))


@jax_only
def test_jax_depthwise_window_larger_than_input_gives_an_empty_output_as_xla():
    import jax.numpy as jnp

    for shape, kshape, want in (((2, 1, 1, 3), (3, 3, 3, 1), (2, 0, 0, 3)),
                                ((2, 1, 4, 3), (3, 3, 3, 2), (2, 0, 2, 6)),
                                ((2, 2, 9, 3), (3, 3, 3, 1), (2, 0, 4, 3))):
        x, k = jnp.ones(shape, "float32"), jnp.ones(kshape, "float32")
        strides = 2 if shape[2] == 9 else 1
        out = backend.nn.depthwise_conv(x, k, strides, "valid")
        assert out.shape == want == _xla_depthwise(x, k, strides, "valid", "channels_last", 1).shape


def _plain_conv_transpose(x, k, strides, padding, output_padding, df, dilation):
    from lamina.backend.jax import nn_conv

    x, k, df, n, _, strides, dilation, padding = nn_conv._prep(
        "conv_transpose", x, k, df, strides, padding, dilation, transpose=True)
    op = None if output_padding is None else (output_padding,) * n
    pads = [nn_conv.cu.conv_transpose_padding(k.shape[i], strides[i], dilation[i], padding,
                                              None if op is None else op[i]) for i in range(n)]
    return nn_conv._lhs_dilated(x, k, (df, n, strides, dilation, tuple(map(tuple, pads))))


@jax_only
@pytest.mark.parametrize("n,df,kernel,strides,padding,output_padding,dilation", TRANSPOSE)
def test_jax_conv_transpose_fast_gradient_equals_xla(n, df, kernel, strides, padding, output_padding, dilation):
    import jax
    import jax.numpy as jnp

    x = jnp.asarray(_input(n, df, 3))
    k = jnp.asarray(RNG.standard_normal((kernel,) * n + (2, 3)).astype("float32"))
    args = (strides, padding, output_padding, df, dilation)

    def fast(a, b):
        return backend.nn.conv_transpose(a, b, *args)

    _compare_paths(fast, lambda a, b: _plain_conv_transpose(a, b, *args), x, k)
    # The kernel's gradient is the strided convolution's: no stride-dilated convolution produces it.
    g = jnp.ones(np.shape(fast(x, k)), "float32")
    jaxpr = jax.make_jaxpr(jax.grad(lambda b: (fast(x, b) * g).sum()))(k)
    convs = [e for e in jaxpr.jaxpr.eqns if str(e.primitive) == "conv_general_dilated"
             and np.prod(e.outvars[0].aval.shape) == k.size]  # the one whose output is the kernel's gradient
    assert len(convs) == 1 and set(convs[0].params["lhs_dilation"]) == {1}


@jax_only
def test_jax_conv_transpose_second_derivative():
    import jax
    import jax.numpy as jnp

    x = jnp.asarray(_input(2, "channels_last", 3))
    k = jnp.asarray(RNG.standard_normal((3, 3, 2, 3)).astype("float32"))

    def loss(b, conv_t):
        return jnp.sum(jnp.tanh(conv_t(x, b)) ** 2)

    def fast(a, b):
        return backend.nn.conv_transpose(a, b, 2, "same")

    def plain(a, b):
        return _plain_conv_transpose(a, b, 2, "same", None, "channels_last", 1)

    v = jnp.asarray(RNG.standard_normal(k.shape).astype("float32"))
    hvp = [jax.jvp(lambda b: jax.grad(loss)(b, f), (k,), (v,))[1] for f in (fast, plain)]
    np.testing.assert_allclose(np.asarray(hvp[0]), np.asarray(hvp[1]), rtol=1e-4, atol=1e-4)


@jax_only
@pytest.mark.parametrize("n,df,kernel,strides,padding,groups", GROUPED)
def test_jax_grouped_fast_path_equals_xla_grouped_convolution(n, df, kernel, strides, padding, groups):
    import jax
    import jax.numpy as jnp
    from jax import lax

    from lamina.backend.common import conv_utils as cu
    from lamina.backend.jax import nn_conv

    x = jnp.asarray(_input(n, df, 6))
    k = jnp.asarray(RNG.standard_normal((kernel,) * n + (6 // groups, 6)).astype("float32"))
    st = (strides,) * n
    lengths = x.shape[1:1 + n] if df == "channels_last" else x.shape[2:]
    pads = [cu.same_padding(L, kernel, s) for L, s in zip(lengths, st)] if padding == "same" else [(0, 0)] * n

    def plain(a, b):
        return lax.conv_general_dilated(a, b, st, pads, dimension_numbers=nn_conv._dims(n, df),
                                        feature_group_count=groups)

    def fast(a, b):
        return backend.nn.conv(a, b, strides, padding, df)

    _compare_paths(fast, plain, x, k)
    jaxpr = jax.make_jaxpr(fast)(x, k)
    assert all(e.params["feature_group_count"] == 1 for e in jaxpr.jaxpr.eqns
               if str(e.primitive) == "conv_general_dilated")


@jax_only
def test_jax_grouped_convolution_of_many_groups_stays_one_convolution():
    import jax
    import jax.numpy as jnp

    from lamina.backend.jax import nn_conv

    groups = nn_conv.MAX_SPLIT_GROUPS + 2
    x = jnp.asarray(_input(2, "channels_last", 2 * groups))
    k = jnp.asarray(RNG.standard_normal((3, 3, 2, groups)).astype("float32"))
    out = backend.nn.conv(x, k, 1, "same")
    want = np_conv(np.asarray(x), np.asarray(k), 1, "same")
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-4, atol=1e-4)
    counts = [e.params["feature_group_count"] for e in jax.make_jaxpr(lambda a: backend.nn.conv(a, k, 1, "same"))(
        x).jaxpr.eqns if str(e.primitive) == "conv_general_dilated"]
    assert counts == [groups]
