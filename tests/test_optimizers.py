"""Optimizers: 3 steps on a quadratic vs NumPy re-implementations of Keras's update formulas."""

import math
import warnings

import numpy as np
import pytest

import lamina
from lamina import backend as K
from lamina import ops, optimizers
from lamina.optimizers import schedules

W0 = np.array([[1.0, -2.0], [0.5, 3.0]])
TARGET = np.array([[0.3, 0.2], [-0.4, 1.0]])
B0 = np.array([0.7, -0.1])


def _grad(w):
    return w - TARGET if w.shape == TARGET.shape else 2.0 * w  # d/dw of 0.5*|w-t|^2, |b|^2


# --- NumPy reference updates: (state dict, w, g, lr, t) -> new w (t is the 1-based step) ---------
def np_sgd(momentum=0.0, nesterov=False):
    def step(s, w, g, lr, t):
        if momentum == 0:
            return w - lr * g
        m = s.get("m", 0) * momentum - lr * g
        s["m"] = m
        return w + m * momentum - lr * g if nesterov else w + m
    return step


def np_adam(b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    def step(s, w, g, lr, t):
        s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - b1)
        s["v"] = s.get("v", 0) + (g * g - s.get("v", 0)) * (1 - b2)
        v = s["v"]
        if amsgrad:
            s["vh"] = np.maximum(s.get("vh", 0), v)
            v = s["vh"]
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return w - s["m"] * alpha / (np.sqrt(v) + eps)
    return step


def np_adamax(b1=0.9, b2=0.999, eps=1e-7):
    def step(s, w, g, lr, t):
        s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - b1)
        s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g))
        return w - lr * s["m"] / ((1 - b1 ** t) * (s["u"] + eps))
    return step


def np_nadam(b1=0.9, b2=0.999, eps=1e-7):
    def step(s, w, g, lr, t):
        u_t = b1 * (1 - 0.5 * 0.96 ** t)
        u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        if s["shared"].get("t") != t:  # the shared u_product advances once per step
            s["shared"]["u"] = s["shared"].get("u", 1.0) * u_t
            s["shared"]["t"] = t
        up = s["shared"]["u"]
        s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - b1)
        s["v"] = s.get("v", 0) + (g * g - s.get("v", 0)) * (1 - b2)
        m_hat = u_t1 * s["m"] / (1 - up * u_t1) + (1 - u_t) * g / (1 - up)
        v_hat = s["v"] / (1 - b2 ** t)
        return w - m_hat * lr / (np.sqrt(v_hat) + eps)
    return step


def np_rmsprop(rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    def step(s, w, g, lr, t):
        s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
        den = s["v"] + eps
        if centered:
            s["a"] = rho * s.get("a", 0) + (1 - rho) * g
            den = s["v"] - s["a"] ** 2 + eps
        inc = lr * g / np.sqrt(den)
        if momentum > 0:
            s["m"] = momentum * s.get("m", 0) + inc
            return w - s["m"]
        return w - inc
    return step


def np_adagrad(init=0.1, eps=1e-7):
    def step(s, w, g, lr, t):
        s["a"] = s.get("a", init) + g * g
        return w - lr * g / np.sqrt(s["a"] + eps)
    return step


def np_adadelta(rho=0.95, eps=1e-7):
    def step(s, w, g, lr, t):
        s["g"] = rho * s.get("g", 0) + (1 - rho) * g * g
        d = -np.sqrt(s.get("d", 0) + eps) * g / np.sqrt(s["g"] + eps)
        s["d"] = rho * s.get("d", 0) + (1 - rho) * d * d
        return w + lr * d
    return step


def np_ftrl(power=-0.5, init=0.1, l1=0.0, l2=0.0, l2s=0.0, beta=0.0):
    def step(s, w, g, lr, t):
        acc = s.get("acc", init)
        new_acc = acc + g * g
        l2r = l2 + beta / (2 * lr)
        gg = g + 2 * l2s * w
        s["lin"] = s.get("lin", 0) + gg - (new_acc ** -power - acc ** -power) / lr * w
        quad = new_acc ** -power / lr + 2 * l2r
        s["acc"] = new_acc
        return (np.clip(s["lin"], -l1, l1) - s["lin"]) / quad
    return step


def np_lion(b1=0.9, b2=0.99):
    def step(s, w, g, lr, t):
        m = s.get("m", 0)
        w = w - lr * np.sign(m * b1 + g * (1 - b1))
        s["m"] = m * b2 + g * (1 - b2)
        return w
    return step


def np_lamb(b1=0.9, b2=0.999, eps=1e-7):
    def step(s, w, g, lr, t):
        s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - b1)
        s["v"] = s.get("v", 0) + (g * g - s.get("v", 0)) * (1 - b2)
        upd = (s["m"] / (1 - b1 ** t)) / (np.sqrt(s["v"] / (1 - b2 ** t)) + eps)
        wn, gn = np.linalg.norm(w), np.linalg.norm(upd)
        ratio = wn / gn if wn > 0 and gn > 0 else 1.0
        return w - lr * ratio * upd
    return step


CASES = [
    ("sgd", lambda: optimizers.SGD(learning_rate=0.1), np_sgd(), 0.1),
    ("sgd_momentum", lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9), np_sgd(0.9), 0.1),
    ("sgd_nesterov", lambda: optimizers.SGD(learning_rate=0.1, momentum=0.8, nesterov=True), np_sgd(0.8, True), 0.1),
    ("adam", lambda: optimizers.Adam(learning_rate=0.1), np_adam(), 0.1),
    ("adam_amsgrad", lambda: optimizers.Adam(learning_rate=0.1, amsgrad=True), np_adam(amsgrad=True), 0.1),
    ("adamax", lambda: optimizers.Adamax(learning_rate=0.1), np_adamax(), 0.1),
    ("nadam", lambda: optimizers.Nadam(learning_rate=0.1), np_nadam(), 0.1),
    ("rmsprop", lambda: optimizers.RMSprop(learning_rate=0.05), np_rmsprop(), 0.05),
    ("rmsprop_centered_momentum", lambda: optimizers.RMSprop(learning_rate=0.05, momentum=0.5, centered=True),
     np_rmsprop(momentum=0.5, centered=True), 0.05),
    ("adagrad", lambda: optimizers.Adagrad(learning_rate=0.1), np_adagrad(), 0.1),
    ("adadelta", lambda: optimizers.Adadelta(learning_rate=1.0), np_adadelta(), 1.0),
    ("ftrl", lambda: optimizers.Ftrl(learning_rate=0.1), np_ftrl(), 0.1),
    ("ftrl_regularized", lambda: optimizers.Ftrl(learning_rate=0.1, l1_regularization_strength=0.01,
                                                 l2_regularization_strength=0.1, beta=0.1,
                                                 l2_shrinkage_regularization_strength=0.05),
     np_ftrl(l1=0.01, l2=0.1, beta=0.1, l2s=0.05), 0.1),
    ("lion", lambda: optimizers.Lion(learning_rate=0.1), np_lion(), 0.1),
    ("lamb", lambda: optimizers.Lamb(learning_rate=0.1), np_lamb(), 0.1),
]


def _run(opt, steps=3, make_grads=None):
    w = lamina.Variable(W0.astype("float32"), name="w")
    b = lamina.Variable(B0.astype("float32"), name="b")
    for _ in range(steps):
        grads = [_grad(w.numpy().astype("float64")), _grad(b.numpy().astype("float64"))]
        if make_grads is not None:
            grads = make_grads(grads)
        opt.apply([ops.convert_to_tensor(g.astype("float32")) for g in grads], [w, b])
    return w.numpy(), b.numpy()


def _run_np(update, lr, steps=3, wd=None, transform=None):
    shared = {}
    ws = [W0.copy(), B0.copy()]
    states = [{"shared": shared}, {"shared": shared}]
    for t in range(1, steps + 1):
        grads = [_grad(w) for w in ws]
        if transform is not None:
            grads = transform(grads)
        lr_t = lr(t - 1) if callable(lr) else lr
        if wd:
            ws = [w - w * wd * lr_t for w in ws]
        ws = [update(s, w, g, lr_t, t) for s, w, g in zip(states, ws, grads)]
    return ws


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_three_steps_match_numpy(case):
    _, factory, update, lr = case
    opt = factory()
    w, b = _run(opt)
    ew, eb = _run_np(update, lr)
    np.testing.assert_allclose(w, ew, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(b, eb, rtol=1e-4, atol=1e-5)
    assert int(opt.iterations.numpy()) == 3
    assert all(v.role == "optimizer" for v in opt.variables)
    assert opt.iterations.dtype == "int64"


def test_adamw_weight_decay_is_decoupled():
    w, b = _run(optimizers.AdamW(learning_rate=0.1, weight_decay=0.2))
    ew, eb = _run_np(np_adam(), 0.1, wd=0.2)
    np.testing.assert_allclose(w, ew, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(b, eb, rtol=1e-4, atol=1e-5)
    assert optimizers.AdamW().weight_decay == 0.004
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)


def test_weight_decay_on_sgd_and_exclusion():
    w, b = _run(optimizers.SGD(learning_rate=0.1, weight_decay=0.5))
    np.testing.assert_allclose(w, _run_np(np_sgd(), 0.1, wd=0.5)[0], rtol=1e-5)
    opt = optimizers.SGD(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["b"])
    w2, b2 = _run(opt)
    np.testing.assert_allclose(w2, w, rtol=1e-6)
    np.testing.assert_allclose(b2, _run_np(np_sgd(), 0.1)[1], rtol=1e-5)


def test_clipping():
    def clipnorm(gs):
        return [g * 0.5 / max(np.linalg.norm(g), 0.5) for g in gs]

    def clipglobal(gs):
        n = math.sqrt(sum((g ** 2).sum() for g in gs))
        return [g * 0.5 / max(n, 0.5) for g in gs]

    for opt, tf in ((optimizers.SGD(0.1, clipnorm=0.5), clipnorm),
                    (optimizers.SGD(0.1, global_clipnorm=0.5), clipglobal),
                    (optimizers.SGD(0.1, clipvalue=0.3), lambda gs: [np.clip(g, -0.3, 0.3) for g in gs])):
        w, b = _run(opt)
        ew, eb = _run_np(np_sgd(), 0.1, transform=tf)
        np.testing.assert_allclose(w, ew, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b, eb, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_schedule_learning_rate_is_evaluated_at_iterations():
    sched = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = optimizers.SGD(learning_rate=sched)
    w, _ = _run(opt)
    ew, _ = _run_np(np_sgd(), lambda step: 0.1 * 0.5 ** step)
    np.testing.assert_allclose(w, ew, rtol=1e-5)
    np.testing.assert_allclose(float(ops.convert_to_numpy(opt.learning_rate)), 0.1 * 0.5 ** 3, rtol=1e-6)
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.01


def test_learning_rate_assignment_and_keras2_compat():
    opt = optimizers.Adam(learning_rate=0.01)
    assert abs(float(opt.learning_rate) - 0.01) < 1e-9
    opt.learning_rate = 0.005
    assert abs(float(opt.learning_rate) - 0.005) < 1e-9
    with pytest.warns(DeprecationWarning, match="learning_rate"):
        lr_var = opt.lr
    assert lr_var is opt.learning_rate and lr_var.role == "optimizer"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        K.set_value(opt.lr, 0.001)
        assert abs(float(K.get_value(opt.lr)) - 0.001) < 1e-9
    with pytest.warns(DeprecationWarning):
        opt.lr = 0.02
    assert abs(float(opt.learning_rate) - 0.02) < 1e-9
    opt.learning_rate = schedules.InverseTimeDecay(0.1, 1, 1.0)
    assert abs(float(ops.convert_to_numpy(opt.learning_rate)) - 0.1) < 1e-7


def test_lr_and_decay_kwargs():
    with pytest.warns(DeprecationWarning, match="learning_rate"):
        opt = optimizers.Adam(lr=0.05)
    assert abs(float(opt.learning_rate) - 0.05) < 1e-9
    with pytest.warns(UserWarning, match="decay"):
        optimizers.SGD(learning_rate=0.1, decay=1e-4)
    with pytest.raises(TypeError, match="beta1"):
        optimizers.Adam(beta1=0.5)


def test_learning_rate_change_applies_to_next_step():
    opt = optimizers.SGD(learning_rate=0.1)
    w = lamina.Variable([1.0])
    opt.apply([ops.convert_to_tensor([1.0])], [w])
    opt.learning_rate = 0.5
    opt.apply([ops.convert_to_tensor([1.0])], [w])
    np.testing.assert_allclose(w.numpy(), [0.4], rtol=1e-6)


def test_gradient_accumulation():
    opt = optimizers.SGD(learning_rate=0.1, gradient_accumulation_steps=2)
    w = lamina.Variable([1.0, 1.0])
    for g in ([1.0, 2.0], [3.0, 0.0], [1.0, 1.0]):
        opt.apply([ops.convert_to_tensor(g)], [w])
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.1 * 2.0, 1.0 - 0.1 * 1.0], rtol=1e-6)
    acc = [v for v in opt.variables if "gradient_accumulator" in v.name][0]
    np.testing.assert_allclose(acc.numpy(), [1.0, 1.0])
    # as Keras: ``iterations`` counts the updates (1 of 3 calls), the variable behind it every call
    assert int(ops.convert_to_numpy(opt.iterations)) == 1 and int(opt._iterations.numpy()) == 3
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        optimizers.SGD(gradient_accumulation_steps=1)


def test_ema_and_overwrite():
    opt = optimizers.SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.5)
    w = lamina.Variable([1.0])
    ws, avg = [], None
    for i in range(3):
        opt.apply([ops.convert_to_tensor([1.0])], [w])
        cur = float(w.numpy()[0])
        avg = cur if i == 0 else 0.5 * avg + 0.5 * cur
        ws.append(cur)
    opt.finalize_variable_values([w])
    np.testing.assert_allclose(w.numpy(), [avg], rtol=1e-6)
    opt2 = optimizers.SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    w2 = lamina.Variable([1.0])
    opt2.apply([ops.convert_to_tensor([1.0])], [w2])  # 0.9, avg 0.9
    opt2.apply([ops.convert_to_tensor([1.0])], [w2])  # 0.8, avg 0.85 -> overwritten
    np.testing.assert_allclose(w2.numpy(), [0.85], rtol=1e-6)


def test_constraint_applied_after_update():
    w = lamina.Variable([1.0, -1.0])
    w.constraint = lambda x: ops.maximum(x, 0.0)
    optimizers.SGD(learning_rate=0.1).apply([ops.convert_to_tensor([-1.0, 1.0])], [w])
    np.testing.assert_allclose(w.numpy(), [1.1, 0.0], rtol=1e-6)


def test_apply_gradients_none_grads_and_errors():
    opt = optimizers.SGD(learning_rate=0.1)
    w, b = lamina.Variable([1.0]), lamina.Variable([2.0])
    opt.apply_gradients([(ops.convert_to_tensor([1.0]), w), (None, b)])
    np.testing.assert_allclose(w.numpy(), [0.9])
    np.testing.assert_allclose(b.numpy(), [2.0])
    with pytest.raises(ValueError, match="unknown variable"):
        opt.apply([ops.convert_to_tensor([1.0])], [lamina.Variable([0.0])])
    with pytest.raises(ValueError, match="no gradients"):
        opt.apply([None], [w])
    with pytest.raises(ValueError, match="2 gradients for 1 variables"):
        opt.apply([ops.convert_to_tensor([1.0])] * 2, [w])


def test_stateless_apply_matches_apply():
    opt = optimizers.Adam(learning_rate=0.1)
    w = lamina.Variable(W0.astype("float32"))
    opt.build([w])
    g = ops.convert_to_tensor(_grad(W0).astype("float32"))
    new_w, new_opt = opt.stateless_apply([v.value for v in opt.variables], [g], [w.value])
    np.testing.assert_allclose(w.numpy(), W0.astype("float32"))  # untouched
    assert int(opt.iterations.numpy()) == 0
    opt.apply([g], [w])
    # A few float32 ulps apart at most: on a GPU `apply` runs the engine's fused Adam kernel, whose
    # rounding differs from the op-by-op formula of `stateless_apply` (seen: 1.6e-6 relative on CUDA).
    np.testing.assert_allclose(ops.convert_to_numpy(new_w[0]), w.numpy(), rtol=1e-5)
    assert int(ops.convert_to_numpy(new_opt[0])) == 1


def test_loss_scale_factor():
    opt = optimizers.SGD(learning_rate=0.1, loss_scale_factor=4.0)
    w = lamina.Variable([1.0])
    opt.apply([ops.convert_to_tensor([4.0])], [w])
    np.testing.assert_allclose(w.numpy(), [0.9], rtol=1e-6)
    assert float(ops.convert_to_numpy(opt.scale_loss(ops.convert_to_tensor(2.0)))) == 8.0


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_get_serialize_round_trip(case):
    opt = case[1]()
    restored = optimizers.deserialize(optimizers.serialize(opt))
    assert type(restored) is type(opt) and restored.get_config() == opt.get_config()


def test_get_names_and_errors():
    assert type(optimizers.get("adam")) is optimizers.Adam
    assert type(optimizers.get("SGD")) is optimizers.SGD
    assert type(optimizers.get("RMSprop")) is optimizers.RMSprop
    opt = optimizers.Nadam()
    assert optimizers.get(opt) is opt
    assert type(optimizers.get({"class_name": "Adagrad", "config": {}})) is optimizers.Adagrad
    with pytest.raises(ValueError, match="Did you mean .*'adam'"):
        optimizers.get("adma")
    sched_opt = optimizers.SGD(learning_rate=schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=5))
    restored = optimizers.deserialize(optimizers.serialize(sched_opt))
    assert isinstance(restored._learning_rate, schedules.CosineDecay)
    assert restored._learning_rate.get_config() == sched_opt._learning_rate.get_config()
    assert optimizers.SGD().get_config()["learning_rate"] == pytest.approx(0.01)
    assert optimizers.RMSprop().rho == 0.9 and optimizers.Adadelta().rho == 0.95
    assert optimizers.Lion().beta_2 == 0.99 and optimizers.Adam().epsilon == 1e-7


def _np_cosine(step, init, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0):
    if warmup_target is None:
        s = min(step, decay_steps)
        return init * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay_steps)) + alpha)
    s = min(step, decay_steps + warmup_steps)
    if s < warmup_steps:
        return (warmup_target - init) * s / warmup_steps + init
    return warmup_target * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * (s - warmup_steps) / decay_steps)) + alpha)


def _np_restarts(step, init, first, t_mul, m_mul, alpha):
    frac = step / first
    if t_mul == 1.0:
        i = math.floor(frac)
        frac -= i
    else:
        i = math.floor(math.log(1 - frac * (1 - t_mul)) / math.log(t_mul))
        frac = (frac - (1 - t_mul ** i) / (1 - t_mul)) / t_mul ** i
    return init * ((1 - alpha) * 0.5 * m_mul ** i * (1 + math.cos(math.pi * frac)) + alpha)


SCHEDULE_CASES = [
    (schedules.ExponentialDecay(0.1, 10, 0.5), lambda s: 0.1 * 0.5 ** (s / 10)),
    (schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True), lambda s: 0.1 * 0.5 ** (s // 10)),
    (schedules.InverseTimeDecay(0.1, 10, 0.5), lambda s: 0.1 / (1 + 0.5 * s / 10)),
    (schedules.InverseTimeDecay(0.1, 10, 0.5, staircase=True), lambda s: 0.1 / (1 + 0.5 * (s // 10))),
    (schedules.PiecewiseConstantDecay([5, 15], [0.3, 0.2, 0.1]), lambda s: 0.3 if s <= 5 else 0.2 if s <= 15 else 0.1),
    (schedules.PolynomialDecay(0.1, 20, end_learning_rate=0.01, power=2.0),
     lambda s: 0.09 * (1 - min(s, 20) / 20) ** 2 + 0.01),
    (schedules.PolynomialDecay(0.1, 20, end_learning_rate=0.01, cycle=True),
     lambda s: 0.09 * (1 - s / (20 * max(1, math.ceil(s / 20)))) + 0.01),
    (schedules.CosineDecay(0.1, 20, alpha=0.1), lambda s: _np_cosine(s, 0.1, 20, 0.1)),
    (schedules.CosineDecay(0.01, 20, warmup_target=0.1, warmup_steps=8),
     lambda s: _np_cosine(s, 0.01, 20, 0.0, 0.1, 8)),
    (schedules.CosineDecayRestarts(0.1, 10), lambda s: _np_restarts(s, 0.1, 10, 2.0, 1.0, 0.0)),
    (schedules.CosineDecayRestarts(0.1, 10, t_mul=1.0, m_mul=0.5, alpha=0.1),
     lambda s: _np_restarts(s, 0.1, 10, 1.0, 0.5, 0.1)),
]


@pytest.mark.parametrize("case", SCHEDULE_CASES, ids=[type(c[0]).__name__ + str(i) for i, c in enumerate(SCHEDULE_CASES)])
def test_schedules_match_numpy(case):
    sched, ref = case
    for step in (0, 1, 5, 7, 10, 13, 20, 31, 45):
        np.testing.assert_allclose(float(ops.convert_to_numpy(sched(step))), ref(step), rtol=1e-5, atol=1e-7)
    restored = schedules.deserialize(schedules.serialize(sched))
    assert type(restored) is type(sched) and restored.get_config() == sched.get_config()


def test_schedule_errors():
    with pytest.raises(ValueError, match="boundaries"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1])
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
