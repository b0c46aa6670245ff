"""Control flow and function transforms (scan, associative_scan, fori_loop, while_loop, switch, map,
vectorized_map, custom_gradient): values against plain Python, symbolic shapes, gradients, use inside a trained
model (a compiled step on JAX), and argument errors. Runs on the engine chosen by ``LAMINA_BACKEND``."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops

RNG = np.random.default_rng(0)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


# ---- scan -------------------------------------------------------------------------------------------------

def _py_scan(f, init, xs, reverse=False):
    carry, ys = init, []
    order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
    out = [None] * len(xs)
    for i in order:
        carry, y = f(carry, xs[i])
        out[i] = y
        ys.append(y)
    return carry, np.stack(out)


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_matches_a_python_loop(reverse):
    xs = RNG.normal(size=(6, 3)).astype("float32")

    def step(c, x):
        c = c * 0.5 + x
        return c, c * 2.0

    carry, ys = ops.scan(step, np.zeros(3, "float32"), xs, reverse=reverse)
    want_c, want_ys = _py_scan(step, np.zeros(3, "float32"), xs, reverse=reverse)
    np.testing.assert_allclose(_np(carry), want_c, rtol=1e-6)
    np.testing.assert_allclose(_np(ys), want_ys, rtol=1e-6)


def test_scan_with_nested_structures_and_length():
    xs = {"a": np.arange(4, dtype="float32"), "b": np.ones((4, 2), "float32")}

    def step(c, x):
        total, count = c
        return (total + x["a"] + ops.sum(x["b"]), count + 1), {"s": total, "p": x["b"] * x["a"]}

    (total, count), ys = ops.scan(step, (0.0, 0), xs)
    assert float(_np(total)) == pytest.approx(6.0 + 8.0) and int(_np(count)) == 4
    np.testing.assert_allclose(_np(ys["s"]), [0.0, 2.0, 5.0, 9.0])
    np.testing.assert_allclose(_np(ys["p"]), np.arange(4)[:, None] * np.ones((4, 2)))
    carry, ys = ops.scan(lambda c, _: (c * 2, c), ops.convert_to_tensor(1), None, length=5)
    assert int(_np(carry)) == 32 and _np(ys).tolist() == [1, 2, 4, 8, 16]


def test_scan_unroll_gives_the_same_values():
    xs = RNG.normal(size=(5, 2)).astype("float32")
    ref = ops.scan(lambda c, x: (c + x, c), np.zeros(2, "float32"), xs)
    for unroll in (2, True):
        got = ops.scan(lambda c, x: (c + x, c), np.zeros(2, "float32"), xs, unroll=unroll)
        np.testing.assert_allclose(_np(got[1]), _np(ref[1]), rtol=1e-6)


def test_scan_gradient_through_the_loop():
    w = lamina.Variable(np.array([0.5, 2.0], "float32"))
    xs = np.array([[1.0, 1.0], [2.0, 3.0], [4.0, 5.0]], "float32")

    def loss():
        carry, ys = ops.scan(lambda c, x: (c * w + x, c), ops.zeros((2,)), xs)
        return ops.sum(carry)

    value, (grad,) = ops.value_and_grad(loss, [w])()
    # carry = (x0 * w + x1) * w + x2  ->  d/dw = 2 * x0 * w + x1
    wn = np.array([0.5, 2.0])
    np.testing.assert_allclose(float(_np(value)), np.sum((xs[0] * wn + xs[1]) * wn + xs[2]), rtol=1e-6)
    np.testing.assert_allclose(_np(grad), 2 * xs[0] * wn + xs[1], rtol=1e-6)


def test_scan_symbolic_shapes():
    x = lamina.Input((5, 3))
    xs = ops.transpose(x, (1, 0, 2))
    carry, ys = ops.scan(lambda c, t: (c + t, ops.sum(t, axis=-1)), ops.zeros_like(xs[0]), xs)
    assert carry.shape == (None, 3) and carry.dtype == "float32"
    assert ys.shape == (5, None) and ys.dtype == "float32"
    model = lamina.Model(x, [carry, ys])
    data = RNG.normal(size=(2, 5, 3)).astype("float32")
    c, y = model.predict(data, verbose=0)
    np.testing.assert_allclose(c, data.sum(1), rtol=1e-5)
    np.testing.assert_allclose(y, data.sum(-1).T, rtol=1e-5)


# ---- associative_scan ------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 5, 8, 13])
def test_associative_scan_cumulative_sum_and_max(n):
    x = RNG.normal(size=(n, 3)).astype("float32")
    np.testing.assert_allclose(_np(ops.associative_scan(lambda a, b: a + b, x)), np.cumsum(x, 0), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(_np(ops.associative_scan(ops.maximum, x, reverse=True)),
                               np.maximum.accumulate(x[::-1], 0)[::-1])
    np.testing.assert_allclose(_np(ops.associative_scan(ops.multiply, x.T, axis=1)), np.cumprod(x.T, 1),
                               rtol=1e-5, atol=1e-6)


def test_associative_scan_on_a_structure():
    # A linear recurrence h_t = a_t * h_{t-1} + b_t as an associative scan over (a, b) pairs.
    a = RNG.uniform(0.1, 0.9, (7,)).astype("float32")
    b = RNG.normal(size=(7,)).astype("float32")

    def combine(left, right):
        return (left[0] * right[0], right[0] * left[1] + right[1])

    _, h = ops.associative_scan(combine, (a, b))
    want, acc = [], 0.0
    for ai, bi in zip(a, b):
        acc = ai * acc + bi
        want.append(acc)
    np.testing.assert_allclose(_np(h), want, rtol=1e-5, atol=1e-6)


def test_associative_scan_symbolic():
    x = lamina.Input((4,), dtype="int32")
    y = ops.associative_scan(lambda a, b: a + b, x, axis=1)
    assert y.shape == (None, 4) and y.dtype == "int32"
    out = lamina.Model(x, y).predict(np.array([[1, 2, 3, 4]], "int32"), verbose=0)
    assert out.tolist() == [[1, 3, 6, 10]]


# ---- loops and switch ----------------------------------------------------------------------------------

def test_fori_loop_and_while_loop_values():
    assert int(_np(ops.fori_loop(0, 10, lambda i, s: s + i, 0))) == 45
    v = ops.fori_loop(2, 5, lambda i, s: (s[0] * 2.0, s[1] + i), (ops.ones((2,)), 0))
    assert _np(v[0]).tolist() == [8.0, 8.0] and int(_np(v[1])) == 9
    assert int(_np(ops.while_loop(lambda i: i < 10, lambda i: i + 1, 0))) == 10
    out = ops.while_loop(lambda x, y: x < 10, lambda x, y: (x + 1, y + 2), (0, 1))
    assert isinstance(out, tuple) and [int(_np(t)) for t in out] == [10, 21]
    out = ops.while_loop(lambda x, y: x < 10, lambda x, y: [x + 1, y * 2], [0, 1], maximum_iterations=3)
    assert isinstance(out, list) and [int(_np(t)) for t in out] == [3, 8]
    x = ops.while_loop(lambda t: ops.sum(t) < 20.0, lambda t: t * 2.0, ops.ones((3,)))
    assert _np(x).tolist() == [8.0, 8.0, 8.0]


def test_switch_values_and_clamping():
    branches = [lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y]
    x, y = np.float32(2.0), np.float32(0.5)
    assert [float(_np(ops.switch(i, branches, x, y))) for i in (-3, 0, 1, 2, 9)] == [2.5, 2.5, 1.5, 1.0, 1.0]
    assert float(_np(ops.switch(ops.convert_to_tensor(1), branches, x, y))) == 1.5


def test_loops_symbolic_shapes():
    x = lamina.Input((3,))
    w = ops.while_loop(lambda t: ops.sum(t) < 100.0, lambda t: t * 2.0, x)
    f = ops.fori_loop(0, 4, lambda i, t: t + 1.0, x)
    s = ops.switch(1, [lambda t: t + 1.0, lambda t: t * 3.0], x)
    for t in (w, f, s):
        assert t.shape == (None, 3) and t.dtype == "float32" and t is not x
    model = lamina.Model(x, [w, f, s])
    data = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]], "float32")
    got_w, got_f, got_s = model.predict(data, verbose=0)
    np.testing.assert_allclose(got_w, data * 2.0)  # the loop runs on the whole batch: sum 66 -> 132
    np.testing.assert_allclose(got_f, data + 4.0)
    np.testing.assert_allclose(got_s, data * 3.0)


# ---- map and vectorized_map -------------------------------------------------------------------------

def test_map_values_with_nested_outputs():
    xs = np.arange(6, dtype="float32").reshape(3, 2)
    out = ops.map(lambda r: {"sq": r ** 2, "sum": ops.sum(r)}, xs)
    np.testing.assert_allclose(_np(out["sq"]), xs ** 2)
    np.testing.assert_allclose(_np(out["sum"]), xs.sum(1))
    np.testing.assert_array_equal(_np(ops.map(lambda t: t * 2, np.arange(5, dtype="int32"))), np.arange(5) * 2)
    got = ops.map(lambda pair: pair[0] * pair[1], (xs, xs + 1))
    np.testing.assert_allclose(_np(got), xs * (xs + 1))


def test_vectorized_map_values():
    x = RNG.normal(size=(4, 3, 2)).astype("float32")
    np.testing.assert_allclose(_np(ops.vectorized_map(lambda m: ops.matmul(ops.transpose(m), m), x)),
                               np.einsum("bij,bik->bjk", x, x), rtol=1e-5, atol=1e-6)
    got = ops.vectorized_map(lambda e: e[0] + ops.sum(e[1]), [x[:, 0, 0], x])
    np.testing.assert_allclose(_np(got), x[:, 0, 0] + x.sum((1, 2)), rtol=1e-5)


def test_vectorized_map_falls_back_for_data_dependent_functions():
    x = np.array([[1.0, -2.0], [-3.0, 4.0]], "float32")

    def pick(row):  # Python control flow on values: not batchable by vmap on PyTorch; fine in a loop
        return row * 2.0 if float(_np(ops.sum(row))) > 0 else row

    if lamina.config.backend() == "jax":
        pytest.skip("jax.vmap traces the function, as in Keras: Python control flow on values cannot run there")
    np.testing.assert_allclose(_np(ops.vectorized_map(pick, x)), [[1.0, -2.0], [-6.0, 8.0]])


def test_map_and_vectorized_map_symbolic():
    x = lamina.Input((4, 3))
    m = ops.map(lambda t: ops.sum(t, axis=0), x)
    v = ops.vectorized_map(lambda t: {"a": ops.max(t), "b": t}, x)
    assert m.shape == (None, 3)
    assert v["a"].shape == (None,) and v["b"].shape == (None, 4, 3)
    data = RNG.normal(size=(2, 4, 3)).astype("float32")
    got = lamina.Model(x, [m, v["a"]]).predict(data, verbose=0)
    np.testing.assert_allclose(got[0], data.sum(1), rtol=1e-5)
    np.testing.assert_allclose(got[1], data.max((1, 2)), rtol=1e-6)


# ---- custom_gradient -------------------------------------------------------------------------------

def _grad_of(fn, value):
    w = lamina.Variable(np.asarray(value, "float32"))
    out, (g,) = ops.value_and_grad(lambda: ops.sum(fn(w)), [w])()
    return _np(out), _np(g)


def _log1pexp_forward(x):
    e = ops.exp(x)
    return ops.log(1.0 + e), e


def test_custom_gradient_in_every_keras_convention():
    @ops.custom_gradient
    def jax_style(x):
        y, e = _log1pexp_forward(x)
        return y, lambda upstream: upstream * (1.0 - 1.0 / (1.0 + e)) * 10.0

    @ops.custom_gradient
    def torch_style(x):
        y, e = _log1pexp_forward(x)

        def grad(*args, upstream):
            return upstream * (1.0 - 1.0 / (1.0 + e)) * 10.0

        return y, grad

    @ops.custom_gradient
    def agnostic(x):
        y, e = _log1pexp_forward(x)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1.0, e)) * 10.0

        return y, grad

    x = np.array([-1.0, 0.0, 2.0], "float32")
    for fn in (jax_style, torch_style, agnostic):
        value, grad = _grad_of(fn, x)
        np.testing.assert_allclose(value, np.log1p(np.exp(x)).sum(), rtol=1e-6)
        np.testing.assert_allclose(grad, 10.0 / (1.0 + np.exp(-x)), rtol=1e-5)
        np.testing.assert_allclose(_np(fn(x)), np.log1p(np.exp(x)), rtol=1e-6)  # no gradient needed: a plain call


def test_custom_gradient_with_several_inputs_and_outputs():
    @ops.custom_gradient
    def two(x, y):
        def grad(upstream):
            gs, gd = upstream
            return gs + gd * 3.0, gs - gd * 3.0

        return (x + y, x - y), grad

    a = lamina.Variable(np.array([1.0, 2.0], "float32"))
    b = lamina.Variable(np.array([5.0, 7.0], "float32"))

    def loss():
        s, d = two(a, b)
        return ops.sum(s * 2.0) + ops.sum(d)

    value, (ga, gb) = ops.value_and_grad(loss, [a, b])()
    assert float(_np(value)) == pytest.approx(2 * 15.0 - 9.0)
    np.testing.assert_allclose(_np(ga), [5.0, 5.0])   # 2 + 1 * 3
    np.testing.assert_allclose(_np(gb), [-1.0, -1.0])  # 2 - 1 * 3


def test_custom_gradient_with_the_engines_own_autodiff():
    @ops.custom_gradient
    def straight_through_round(x):
        return ops.round(x), lambda upstream: upstream

    x = np.array([0.3, 1.7], "float32")
    if lamina.config.backend() == "torch":
        import torch

        t = torch.tensor(x, requires_grad=True)
        (straight_through_round(t) * 3.0).sum().backward()
        grad = t.grad.numpy()
    else:
        import jax

        grad = np.asarray(jax.jit(jax.grad(lambda t: (straight_through_round(t) * 3.0).sum()))(x))
    np.testing.assert_allclose(grad, [3.0, 3.0])


def test_custom_gradient_symbolic_and_in_a_trained_model():
    @ops.custom_gradient
    def scaled_grad(x):
        return x * 1.0, lambda upstream: upstream * 0.0  # blocks the gradient

    x = lamina.Input((2,))
    y = scaled_grad(x)
    assert y.shape == (None, 2) and y.dtype == "float32"
    dense = layers.Dense(1)
    model = lamina.Sequential([lamina.Input((2,)), dense, layers.Lambda(scaled_grad)])
    model.compile("sgd", "mse")
    before = [w.numpy().copy() for w in dense.weights]
    model.fit(np.ones((4, 2), "float32"), np.zeros((4, 1), "float32"), epochs=1, verbose=0)
    for w, b in zip(dense.weights, before):
        np.testing.assert_array_equal(w.numpy(), b)  # zero gradient: no update


# ---- inside a trained model (compiled step on JAX) -------------------------------------------------

class _Recurrent(layers.Layer):
    """A toy recurrence written with scan, fori_loop, while_loop, switch and associative_scan."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        xs = ops.transpose(x, (1, 0, 2))

        def step(c, xt):
            c = c * 0.5 + xt * self.w
            return c, c

        _, ys = ops.scan(step, ops.zeros_like(xs[0]), xs)
        k = ops.fori_loop(0, 3, lambda i, v: v + 1.0, ops.zeros(()))
        j = ops.while_loop(lambda v: v < 5.0, lambda v: v + 2.0, ops.zeros(()))
        s = ops.switch(1, [lambda t: t * 0.0, lambda t: t], ops.transpose(ys, (1, 0, 2)))
        return s + k + j + ops.associative_scan(lambda a, b: a + b, x, axis=1) * 0.0


def _np_recurrent(x, w):
    c = np.zeros((x.shape[0], x.shape[2]), "float32")
    out = []
    for t in range(x.shape[1]):
        c = c * 0.5 + x[:, t] * w
        out.append(c)
    return np.stack(out, 1) + 3.0 + 6.0


def test_control_flow_in_a_trained_model():
    inp = lamina.Input((4, 3))
    rec = _Recurrent()
    model = lamina.Model(inp, rec(inp))
    x = RNG.normal(size=(8, 4, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), _np_recurrent(x, np.ones(3, "float32")), rtol=1e-5)
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((8, 4, 3), "float32"), epochs=2, batch_size=4, verbose=0)
    w = rec.w.numpy()
    assert not np.allclose(w, 1.0)  # the gradient reached the weight through scan
    np.testing.assert_allclose(model.predict(x, verbose=0), _np_recurrent(x, w), rtol=1e-4, atol=1e-5)


# ---- argument errors ---------------------------------------------------------------------------------

def test_errors_name_the_op_and_the_argument():
    xs = np.ones((3, 2), "float32")
    with pytest.raises(ValueError, match=r"scan: expected `xs` to loop over or an integer `length`"):
        ops.scan(lambda c, x: (c, x), 0.0)
    with pytest.raises(TypeError, match=r"scan: expected `f` to be a callable, but received int"):
        ops.scan(3, 0.0, xs)
    with pytest.raises(ValueError, match=r"scan: expected `unroll` to be a positive integer or a bool.*0"):
        ops.scan(lambda c, x: (c, x), 0.0, xs, unroll=0)
    with pytest.raises(ValueError, match=r"scan: `length`=5 does not match the leading dimension 3"):
        ops.scan(lambda c, x: (c, x), 0.0, xs, length=5)
    with pytest.raises(ValueError, match=r"scan: expected every tensor in `xs` to have the same leading"):
        ops.scan(lambda c, x: (c, x), 0.0, [xs, np.ones((4,))])
    with pytest.raises(ValueError, match=r"associative_scan: expected every tensor in `elems` to have the same"):
        ops.associative_scan(lambda a, b: a, [xs, np.ones((4,))])
    with pytest.raises(ValueError, match=r"associative_scan: `axis`=2 is out of range"):
        ops.associative_scan(lambda a, b: a, xs, axis=2)
    with pytest.raises(TypeError, match=r"fori_loop: expected `body_fun` to be a callable"):
        ops.fori_loop(0, 3, None, 0)
    with pytest.raises(TypeError, match=r"fori_loop: expected `upper` to be an integer, but received 2.5"):
        ops.fori_loop(0, 2.5, lambda i, v: v, 0)
    with pytest.raises(TypeError, match=r"while_loop: expected `cond` to be a callable"):
        ops.while_loop(True, lambda v: v, 0)
    with pytest.raises(ValueError, match=r"while_loop: expected `maximum_iterations` to be None or a non-negative"):
        ops.while_loop(lambda v: v < 3, lambda v: v + 1, 0, maximum_iterations=-1)
    with pytest.raises(ValueError, match=r"switch: expected `branches` to be a non-empty list"):
        ops.switch(0, [], 1.0)
    with pytest.raises(TypeError, match=r"switch: expected `branches\[1\]` to be a callable"):
        ops.switch(0, [lambda x: x, 2], 1.0)
    with pytest.raises(ValueError, match=r"map: expected every tensor in `xs` to have a leading axis"):
        ops.map(lambda x: x, np.float32(1.0))
    with pytest.raises(ValueError, match=r"vectorized_map: expected every tensor in `elements` to have the same"):
        ops.vectorized_map(lambda e: e, [xs, np.ones((4,))])

    @ops.custom_gradient
    def bad(x):
        return x * 2.0

    with pytest.raises(ValueError, match=r"custom_gradient: expected the decorated function 'bad' to return a pair "
                                         r"\(output, grad_fn\)"):
        bad(np.ones(2, "float32"))
    with pytest.raises(TypeError, match=r"custom_gradient: expected `f` to be a callable"):
        ops.custom_gradient("not a function")
