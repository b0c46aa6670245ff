"""Adafactor, ScheduleFreeAdamW, Muon, MultiOptimizer and OptimizerMap (Keras 3.15 formulas).

Weights after a few steps are checked against NumPy re-implementations of Keras's update formulas;
each optimizer trains a model with ``fit`` (the compiled step on JAX), round-trips its config, is
found by name, saves and restores its state with a model, and rejects bad arguments clearly.
"""

import math
import re

import numpy as np
import pytest

import lamina
from lamina import ops, optimizers
from lamina.optimizers import schedules

SHAPES = {"bias": (3,), "kernel": (3, 4), "tall": (5, 2), "cube": (2, 3, 4), "embedding_table": (4, 3)}


def _init():
    rng = np.random.default_rng(0)
    return {n: rng.normal(size=s) for n, s in SHAPES.items()}


def _grad(name, w, t):
    rng = np.random.default_rng(1000 + 10 * t + list(SHAPES).index(name))
    return w - 0.25 + 0.5 * rng.normal(size=w.shape)


def _run(opt, steps=4, names=tuple(SHAPES)):
    w0 = _init()
    variables = [lamina.Variable(w0[n].astype("float32"), name=n) for n in names]
    for t in range(steps):
        grads = [_grad(n, v.numpy().astype("float64"), t) for n, v in zip(names, variables)]
        opt.apply([ops.convert_to_tensor(g.astype("float32")) for g in grads], variables)
    return {n: v.numpy() for n, v in zip(names, variables)}


def _run_np(step, lr, steps=4, names=tuple(SHAPES), wd=None, clip=None):
    ws = {n: w for n, w in _init().items() if n in names}
    states = {n: {"w0": ws[n].copy(), "name": n} for n in names}
    for t in range(1, steps + 1):
        grads = {n: _grad(n, ws[n], t - 1) for n in names}
        if clip is not None:
            grads = clip(grads)
        lr_t = lr(t - 1) if callable(lr) else lr
        if wd:
            ws = {n: w - w * wd * lr_t for n, w in ws.items()}
        ws = {n: step(states[n], ws[n], grads[n], lr_t, t) for n in names}
    return ws


def _clipnorm(c):
    return lambda gs: {n: g * c / max(np.linalg.norm(g), c) for n, g in gs.items()}


def _global_clipnorm(c):
    def clip(gs):
        norm = math.sqrt(sum(float((g ** 2).sum()) for g in gs.values()))
        return {n: g * c / max(norm, c) for n, g in gs.items()}
    return clip


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x))))


# --- NumPy references: (state, w, g, lr, t) -> new w; t is the 1-based step -----------------------
def np_adafactor(decay=-0.8, eps1=1e-30, eps2=1e-3, clip=1.0):
    def step(s, w, g, lr, t):
        step_size = min(lr, 1.0 / math.sqrt(t))
        scale = max(eps2, _rms(w))
        g2 = g * g + eps1
        beta = 1.0 - t ** decay
        if w.ndim >= 2:
            s["r"] = beta * s.get("r", 0.0) + (1 - beta) * g2.mean(axis=-1)
            s["c"] = beta * s.get("c", 0.0) + (1 - beta) * g2.mean(axis=-2)
            v = (s["r"] / s["r"].mean(axis=-1, keepdims=True))[..., :, None] * s["c"][..., None, :]
        else:
            s["v"] = beta * s.get("v", 0.0) + (1 - beta) * g2
            v = s["v"]
        u = g / np.sqrt(v)
        u = u / max(1.0, _rms(u) / clip)
        return w - scale * step_size * u
    return step


def np_schedule_free(b1=0.9, b2=0.999, eps=1e-8, warmup=0):
    def step(s, w, g, lr, t):
        if warmup:
            lr = lr * min(t / warmup, 1.0)
        z = s.get("z", s["w0"])  # z starts at the variable's initial value
        s["v"] = s.get("v", 0.0) + (g * g - s.get("v", 0.0)) * (1 - b2)
        x_old = (w - (1 - b1) * z) / b1
        z = z - lr * g / (np.sqrt(s["v"] / (1 - b2 ** t)) + eps)
        s["z"] = z
        x = (1 - 1 / t) * x_old + z / t
        return (1 - b1) * z + b1 * x
    return step


def np_newton_schulz(x, steps, a=3.4445, b=-4.7750, c=2.0315):
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    x = x / (np.linalg.norm(x) + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


def np_muon(wd=0.004, adam_wd=0.004, b1=0.9, b2=0.999, eps=1e-7, lr_ratio=1.0, momentum=0.95, ns_steps=5,
            nesterov=True, rms_rate=0.2, exclude=(), exclude_embeddings=True, abc=(3.4445, -4.7750, 2.0315)):
    def step(s, w, g, lr, t):
        name = s["name"]
        adam = (w.ndim != 2 or (exclude_embeddings and "embedding" in name.lower())
                or any(re.search(k, name) for k in exclude))
        decay = adam_wd if adam else wd
        if decay is not None:
            w = w - w * decay * lr
        if adam:
            s["m"] = s.get("m", 0.0) + (g - s.get("m", 0.0)) * (1 - b1)
            s["v"] = s.get("v", 0.0) + (g * g - s.get("v", 0.0)) * (1 - b2)
            alpha = lr * lr_ratio * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            return w - s["m"] * alpha / (np.sqrt(s["v"]) + eps)
        s["m"] = momentum * s.get("m", 0.0) + g
        direction = g + momentum * s["m"] if nesterov else s["m"]
        update = lr * np_newton_schulz(direction, ns_steps, *abc)
        if rms_rate is not None:
            update = update * math.sqrt(max(w.shape)) * rms_rate
        return w - update
    return step


def _sched():
    return schedules.ExponentialDecay(0.2, decay_steps=1, decay_rate=0.7)


def _sched_np(step):
    return 0.2 * 0.7 ** step


# (id, optimizer factory, reference step, learning rate, generic weight decay, gradient transform)
CASES = [
    ("adafactor", lambda: optimizers.Adafactor(learning_rate=0.1), np_adafactor(), 0.1, None, None),
    ("adafactor_default", lambda: optimizers.Adafactor(), np_adafactor(), 0.001, None, None),
    ("adafactor_args", lambda: optimizers.Adafactor(learning_rate=0.3, beta_2_decay=-0.5, epsilon_1=1e-20,
                                                    epsilon_2=0.1, clip_threshold=0.5, relative_step=False),
     np_adafactor(decay=-0.5, eps1=1e-20, eps2=0.1, clip=0.5), 0.3, None, None),
    ("adafactor_schedule_wd_clipnorm",
     lambda: optimizers.Adafactor(learning_rate=_sched(), weight_decay=0.05, clipnorm=1.0),
     np_adafactor(), _sched_np, 0.05, _clipnorm(1.0)),
    ("adafactor_global_clipnorm", lambda: optimizers.Adafactor(learning_rate=0.1, global_clipnorm=2.0),
     np_adafactor(), 0.1, None, _global_clipnorm(2.0)),
    ("schedule_free", lambda: optimizers.ScheduleFreeAdamW(learning_rate=0.1), np_schedule_free(), 0.1, None, None),
    ("schedule_free_default", lambda: optimizers.ScheduleFreeAdamW(), np_schedule_free(), 0.0025, None, None),
    ("schedule_free_args", lambda: optimizers.ScheduleFreeAdamW(learning_rate=0.05, beta_1=0.5, beta_2=0.9,
                                                                epsilon=1e-3, warmup_steps=3, weight_decay=0.1),
     np_schedule_free(b1=0.5, b2=0.9, eps=1e-3, warmup=3), 0.05, 0.1, None),
    ("schedule_free_schedule_clipvalue",
     lambda: optimizers.ScheduleFreeAdamW(learning_rate=_sched(), clipvalue=0.5),
     np_schedule_free(), _sched_np, None, lambda gs: {n: np.clip(g, -0.5, 0.5) for n, g in gs.items()}),
    ("muon", lambda: optimizers.Muon(learning_rate=0.05), np_muon(), 0.05, None, None),
    ("muon_default", lambda: optimizers.Muon(), np_muon(), 0.001, None, None),
    ("muon_args", lambda: optimizers.Muon(
        learning_rate=0.05, nesterov=False, rms_rate=None, exclude_layers=["ta.l"], exclude_embeddings=False,
        adam_lr_ratio=0.5, weight_decay=None, adam_weight_decay=0.1, ns_steps=3, momentum=0.8, adam_beta_1=0.8,
        adam_beta_2=0.99, epsilon=1e-5, muon_a=3.0, muon_b=-3.2, muon_c=1.2),
     np_muon(wd=None, adam_wd=0.1, b1=0.8, b2=0.99, eps=1e-5, lr_ratio=0.5, momentum=0.8, ns_steps=3,
             nesterov=False, rms_rate=None, exclude=("ta.l",), exclude_embeddings=False, abc=(3.0, -3.2, 1.2)),
     0.05, None, None),
    ("muon_schedule_global_clipnorm",
     lambda: optimizers.Muon(learning_rate=_sched(), weight_decay=0.1, adam_weight_decay=None, global_clipnorm=2.0),
     np_muon(wd=0.1, adam_wd=None), _sched_np, None, _global_clipnorm(2.0)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_steps_match_numpy(case):
    _, factory, step, lr, wd, clip = case
    opt = factory()
    got = _run(opt)
    expected = _run_np(step, lr, wd=wd, clip=clip)
    for name in SHAPES:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-4, atol=1e-5, err_msg=name)
    assert int(opt.iterations.numpy()) == 4
    assert all(v.role == "optimizer" for v in opt.variables)


def test_adafactor_factors_rank_two_and_higher_variables():
    opt = optimizers.Adafactor(learning_rate=0.1)
    variables = [lamina.Variable(np.ones(s, "float32"), name=f"v{i}") for i, s in enumerate([(3,), (3, 4), (2, 3, 4)])]
    opt.build(variables)
    assert [tuple(r.shape) for r in opt._r] == [(), (3,), (2, 3)]
    assert [tuple(c.shape) for c in opt._c] == [(), (4,), (2, 4)]
    assert [tuple(v.shape) for v in opt._v] == [(3,), (3, 4), (2, 3, 4)]
    # In a saved file the state is listed as Keras lists it: per variable r, c, then the velocity.
    from lamina.saving.keras_compat import optimizer_keras_order

    shapes = [tuple(opt.variables[j].shape) for j in optimizer_keras_order(opt)]
    assert shapes == [(), (), (), (), (3,), (3,), (4,), (3, 4), (2, 3), (2, 4), (2, 3, 4)]


def test_gradient_accumulation_counts_updates():
    # With accumulation the formulas' step counter counts updates (as Keras's ``iterations`` does).
    rng = np.random.default_rng(3)
    grads = [rng.normal(size=(3, 4)).astype("float32") for _ in range(4)]
    for make in (lambda **k: optimizers.Adafactor(learning_rate=0.1, **k),
                 lambda **k: optimizers.ScheduleFreeAdamW(learning_rate=0.1, **k),
                 lambda **k: optimizers.Muon(learning_rate=0.1, exclude_layers=["w"], **k)):
        w_acc, w_ref = (lamina.Variable(np.ones((3, 4), "float32"), name="w") for _ in range(2))
        acc, ref = make(gradient_accumulation_steps=2), make()
        for g in grads:
            acc.apply([ops.convert_to_tensor(g)], [w_acc])
        for a, b in ((0, 1), (2, 3)):
            ref.apply([ops.convert_to_tensor((grads[a] + grads[b]) / 2)], [w_ref])
        np.testing.assert_allclose(w_acc.numpy(), w_ref.numpy(), rtol=1e-5, atol=1e-6)
        assert int(ops.convert_to_numpy(acc.iterations)) == 2 and int(acc._iterations.numpy()) == 4


def test_schedule_free_starts_z_at_the_weights_and_keeps_y_between():
    w = lamina.Variable(np.array([1.0, -2.0], "float32"), name="w")
    opt = optimizers.ScheduleFreeAdamW(learning_rate=0.1)
    opt.build([w])
    np.testing.assert_array_equal(opt._momentums[0].numpy(), [1.0, -2.0])
    np.testing.assert_array_equal(opt._velocities[0].numpy(), [0.0, 0.0])
    opt.apply([ops.convert_to_tensor([1.0, -1.0])], [w])
    np.testing.assert_allclose(w.numpy(), [0.9, -1.9], rtol=1e-6)  # step 1: y = z
    np.testing.assert_allclose(opt._momentums[0].numpy(), [0.9, -1.9], rtol=1e-6)


def test_muon_chooses_adamw_for_non_matrices_embeddings_and_excluded_layers():
    opt = optimizers.Muon(exclude_layers=["head"])
    variables = {n: lamina.Variable(np.zeros(s, "float32"), name=n) for n, s in [
        ("bias", (3,)), ("kernel", (3, 4)), ("cube", (2, 2, 2)), ("Embedding_table", (4, 3)), ("head_kernel", (4, 2))]}
    assert {n: opt._should_use_adamw(v) for n, v in variables.items()} == {
        "bias": True, "kernel": False, "cube": True, "Embedding_table": True, "head_kernel": True}
    opt.build(list(variables.values()))
    assert [v is None for v in opt.adam_velocities] == [False, True, False, False, False]
    assert optimizers.Muon(exclude_embeddings=False)._should_use_adamw(variables["Embedding_table"]) is False


def test_muon_newton_schulz_nearly_orthogonalizes():
    rng = np.random.default_rng(1)
    opt = optimizers.Muon()
    for shape in [(4, 6), (6, 4)]:
        g = rng.normal(size=shape)
        out = ops.convert_to_numpy(opt.zeropower_via_newtonschulz5(ops.convert_to_tensor(g.astype("float32")), 5))
        np.testing.assert_allclose(out, np_newton_schulz(g, 5), rtol=1e-4, atol=1e-5)
        singular = np.linalg.svd(out, compute_uv=False)
        assert singular.min() > 0.5 and singular.max() < 1.3
    with pytest.raises(ValueError, match="rank >= 2"):
        opt.zeropower_via_newtonschulz5(ops.ones((3,)), 5)


def test_stateless_apply_matches_apply():
    for make in (lambda: optimizers.Adafactor(learning_rate=0.1, use_ema=True),
                 lambda: optimizers.ScheduleFreeAdamW(learning_rate=0.1, warmup_steps=2),
                 lambda: optimizers.Muon(learning_rate=0.1),
                 lambda: optimizers.MultiOptimizer(optimizers.OptimizerMap(
                     optimizers.Adafactor(learning_rate=0.1), {"kernel": optimizers.Muon(learning_rate=0.1)}))):
        w0 = _init()
        variables = [lamina.Variable(w0[n].astype("float32"), name=n) for n in ("bias", "kernel", "cube")]
        opt = make()
        opt.build(variables)
        grads = [ops.convert_to_tensor(_grad(n, w0[n], 0).astype("float32")) for n in ("bias", "kernel", "cube")]
        new_w, new_opt = opt.stateless_apply([v.value for v in opt.variables], grads, [v.value for v in variables])
        np.testing.assert_array_equal(variables[1].numpy(), w0["kernel"].astype("float32"))  # untouched
        opt.apply(grads, variables)
        for value, v in zip(new_w, variables):
            np.testing.assert_allclose(ops.convert_to_numpy(value), v.numpy(), rtol=1e-6, atol=1e-7)
        for value, v in zip(new_opt, opt.variables):
            np.testing.assert_allclose(ops.convert_to_numpy(value), v.numpy(), rtol=1e-6, atol=1e-7)


# --- MultiOptimizer / OptimizerMap --------------------------------------------------------------
def test_optimizer_map_lookup():
    adam, sgd, rms = optimizers.Adam(), optimizers.SGD(), optimizers.RMSprop()
    m = optimizers.OptimizerMap(rms)
    m["encoder/layer_0/dense"] = adam
    m["encoder/.*"] = sgd
    m["decoder"] = adam
    assert m["decoder"] is adam and m["encoder/layer_0/dense"] is adam  # exact keys first
    assert m["encoder/layer_0/attention/query"] is sgd
    assert m["decoder/layer_0/dense"] is rms and m.default_optimizer is rms  # fullmatch only
    assert len(m) == 3 and list(m) == ["encoder/layer_0/dense", "encoder/.*", "decoder"]
    assert m(lamina.Variable([1.0], name="decoder")) is adam
    del m["decoder"]
    assert len(m) == 2
    m["enc.*"] = optimizers.Lion()
    with pytest.raises(ValueError, match="OptimizerMap: the variable 'encoder/x' matches several keys"):
        m["encoder/x"]


def test_multi_optimizer_dispatches_like_separate_optimizers():
    a, b, c = (lamina.Variable(np.array([1.0, -2.0], "float32"), name=n) for n in ("fast", "slow", "other"))
    a2, b2, c2 = (lamina.Variable(np.array([1.0, -2.0], "float32"), name=n) for n in ("fast", "slow", "other"))
    adam, sgd = optimizers.Adam(learning_rate=0.1), optimizers.SGD(learning_rate=0.1, momentum=0.5)
    multi = optimizers.MultiOptimizer(optimizers.OptimizerMap(sgd, {"fast": adam}))
    ref_adam, ref_sgd = optimizers.Adam(learning_rate=0.1), optimizers.SGD(learning_rate=0.1, momentum=0.5)
    g = [ops.convert_to_tensor([0.5, 1.0]), ops.convert_to_tensor([-1.0, 2.0]), ops.convert_to_tensor([3.0, 0.1])]
    for _ in range(3):
        multi.apply(g, [a, b, c])
        ref_adam.apply(g[:1], [a2])
        ref_sgd.apply(g[1:], [b2, c2])
    for x, y in ((a, a2), (b, b2), (c, c2)):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-6)
    assert multi.optimizers == [adam, sgd]
    assert int(multi.iterations.numpy()) == 3 and int(adam.iterations.numpy()) == 3
    assert len(multi.variables) == 2 + len(adam.variables) + len(sgd.variables)
    # A None gradient skips its variable; an optimizer whose variables all have None is skipped.
    multi.apply([None, g[1], g[2]], [a, b, c])
    np.testing.assert_allclose(a.numpy(), a2.numpy(), rtol=1e-6)
    assert int(adam.iterations.numpy()) == 3 and int(multi.iterations.numpy()) == 4
    with pytest.raises(ValueError, match="no gradients"):
        multi.apply([None, None, None], [a, b, c])
    with pytest.raises(ValueError, match="received 2 gradients for 3 variables"):
        multi.apply(g[:2], [a, b, c])
    with pytest.raises(ValueError, match="unknown variable 'fast'"):
        multi.apply(g[:1], [lamina.Variable([0.0, 0.0], name="fast")])


def test_multi_optimizer_callable_loss_scale_and_learning_rate():
    matrices, vectors = optimizers.Muon(learning_rate=0.1), optimizers.Adam(learning_rate=0.1)
    multi = optimizers.MultiOptimizer(lambda v: matrices if len(v.shape) == 2 else vectors, loss_scale_factor=4.0)
    assert multi.optimizers == []
    w, b = lamina.Variable(np.eye(2, dtype="float32"), name="w"), lamina.Variable([1.0, 1.0], name="b")
    multi.build([w, b])
    assert multi.optimizers == [matrices, vectors]
    assert matrices.loss_scale_factor == 4.0 and vectors.loss_scale_factor == 4.0
    multi.loss_scale_factor = 2.0
    assert vectors.loss_scale_factor == 2.0
    assert float(ops.convert_to_numpy(multi.scale_loss(ops.convert_to_tensor(3.0)))) == 6.0
    ref = optimizers.Adam(learning_rate=0.1)
    b2 = lamina.Variable([1.0, 1.0], name="b")
    multi.apply([ops.ones((2, 2)) * 2.0, ops.convert_to_tensor([2.0, 4.0])], [w, b])
    ref.apply([ops.convert_to_tensor([1.0, 2.0])], [b2])
    np.testing.assert_allclose(b.numpy(), b2.numpy(), rtol=1e-6)
    with pytest.raises(AttributeError, match="inner optimizers"):
        multi.learning_rate
    with pytest.raises(AttributeError, match="inner optimizers"):
        multi.learning_rate = 0.1
    assert [round(float(o.learning_rate), 4) for o in multi.optimizers] == [0.1, 0.1]


@lamina.saving.register_serializable(package="optimizers_more")
def _pick_optimizer(variable):
    return _PICKED[0] if len(variable.shape) == 2 else _PICKED[1]


_PICKED = [optimizers.SGD(learning_rate=0.1), optimizers.Adam(learning_rate=0.1)]


def test_multi_optimizer_config_round_trip():
    multi = optimizers.MultiOptimizer(optimizers.OptimizerMap(
        optimizers.SGD(learning_rate=0.1), {"out/.*": optimizers.Adafactor(learning_rate=0.05)}), name="multi")
    cfg = optimizers.serialize(multi)
    assert cfg["class_name"] == "MultiOptimizer"
    assert cfg["config"]["optimizer_map"]["class_name"] == "OptimizerMap"
    assert set(cfg["config"]) == {"optimizer_map", "loss_scale_factor", "name"}
    restored = optimizers.deserialize(cfg)
    assert type(restored) is optimizers.MultiOptimizer and restored.get_config() == multi.get_config()
    assert [type(o).__name__ for o in restored.optimizers] == ["Adafactor", "SGD"]
    # Keras's layout (module "keras.optimizers", class names) deserializes too.
    keras_cfg = {"module": "keras.optimizers", "class_name": "MultiOptimizer", "registered_name": None, "config": {
        "name": "multi_optimizer", "loss_scale_factor": None, "optimizer_map": {
            "module": "keras.optimizers", "class_name": "OptimizerMap", "registered_name": None, "config": {
                "default_optimizer": {"module": "keras.optimizers", "class_name": "SGD", "config": {
                    "name": "sgd", "learning_rate": 0.1}, "registered_name": None},
                "optimizer_map": {"encoder/.*": {"module": "keras.optimizers", "class_name": "Adam",
                                                 "config": {"learning_rate": 0.01}, "registered_name": None}}}}}}
    from_keras = optimizers.deserialize(keras_cfg)
    assert [type(o) for o in from_keras.optimizers] == [optimizers.Adam, optimizers.SGD]
    # A registered function is saved by name and found again.
    by_fn = optimizers.MultiOptimizer(_pick_optimizer)
    cfg = optimizers.serialize(by_fn)
    assert cfg["config"]["optimizer_map"]["config"] == "optimizers_more>_pick_optimizer"
    assert optimizers.deserialize(cfg)._optimizer_map is _pick_optimizer
    cfg["config"]["optimizer_map"] = {"class_name": "function", "config": "not_registered", "registered_name": None}
    with pytest.raises(ValueError, match="not_registered.*not a registered object"):
        optimizers.deserialize(cfg)


def test_multi_optimizer_and_map_errors():
    with pytest.raises(TypeError, match=r"MultiOptimizer: `optimizer_map` must be an OptimizerMap.*Wrap a dict"):
        optimizers.MultiOptimizer({"a": optimizers.SGD()})
    with pytest.raises(TypeError, match="OptimizerMap: `default_optimizer` must be an Optimizer.*'adam'"):
        optimizers.OptimizerMap("adam")
    with pytest.raises(TypeError, match="OptimizerMap: `optimizer_map` must be a dict"):
        optimizers.OptimizerMap(optimizers.SGD(), [("a", optimizers.SGD())])
    m = optimizers.OptimizerMap(optimizers.SGD(), {"a": optimizers.Adam()})
    with pytest.raises(ValueError, match="OptimizerMap: the key 'a' is already mapped"):
        m["a"] = optimizers.SGD()
    with pytest.raises(ValueError, match="OptimizerMap: a key must be a string.*key=3"):
        m[3] = optimizers.SGD()
    with pytest.raises(ValueError, match="OptimizerMap: the value for 'b' must be an Optimizer.*'sgd'"):
        m["b"] = "sgd"
    with pytest.raises(ValueError, match="cannot be a LossScaleOptimizer"):
        m["b"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    with pytest.raises(ValueError, match="not a valid regular expression"):
        m["("] = optimizers.SGD()
    w = lamina.Variable([1.0], name="w")
    with pytest.raises(ValueError, match="MultiOptimizer: the optimizer for variable 'w' must be an Optimizer.*'sgd'"):
        optimizers.MultiOptimizer(lambda v: "sgd").build([w])
    with pytest.raises(ValueError, match="variable 'w' cannot be a LossScaleOptimizer"):
        optimizers.MultiOptimizer(lambda v: optimizers.LossScaleOptimizer(optimizers.SGD())).build([w])
    with pytest.raises(ValueError, match="must already be built"):
        optimizers.MultiOptimizer(m).apply([ops.ones((1,))])


# --- names, configs, defaults, errors -------------------------------------------------------------
# Keras 3.15.1's get_config() of each optimizer made with no arguments.
KERAS_DEFAULTS = {
    "Adafactor": dict(name="adafactor", learning_rate=0.001, weight_decay=None, beta_2_decay=-0.8, epsilon_1=1e-30,
                      epsilon_2=0.001, clip_threshold=1.0, relative_step=True),
    "ScheduleFreeAdamW": dict(name="schedule_free_adam_w", learning_rate=0.0025, weight_decay=None, beta_1=0.9,
                              beta_2=0.999, epsilon=1e-08, warmup_steps=0),
    "Muon": dict(name="muon", learning_rate=0.001, weight_decay=0.004, adam_beta_1=0.9, adam_beta_2=0.999,
                 epsilon=1e-07, exclude_layers=[], muon_a=3.4445, muon_b=-4.775, muon_c=2.0315, adam_lr_ratio=1,
                 momentum=0.95, ns_steps=5, nesterov=True, exclude_embeddings=True, adam_weight_decay=0.004,
                 rms_rate=0.2),
}
COMMON = dict(clipnorm=None, global_clipnorm=None, clipvalue=None, use_ema=False, ema_momentum=0.99,
              ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None)


@pytest.mark.parametrize("class_name", list(KERAS_DEFAULTS))
def test_defaults_names_and_config_round_trip(class_name):
    cls = getattr(optimizers, class_name)
    cfg, expected = cls().get_config(), dict(KERAS_DEFAULTS[class_name], **COMMON)
    assert cfg.pop("learning_rate") == pytest.approx(expected.pop("learning_rate"))
    assert cfg == expected
    for name in (class_name, class_name.lower(), class_name.upper()):
        assert type(optimizers.get(name)) is cls
    opt = cls(learning_rate=schedules.CosineDecay(0.1, 100), clipnorm=0.5, use_ema=True, name="mine")
    restored = optimizers.deserialize(optimizers.serialize(opt))
    assert type(restored) is cls and restored.get_config() == opt.get_config()
    assert isinstance(restored._learning_rate, schedules.CosineDecay)
    assert type(optimizers.get({"class_name": class_name, "config": {}})) is cls


def test_lookup_knows_the_new_names():
    assert optimizers.ALL_OBJECTS_DICT["multioptimizer"] is optimizers.MultiOptimizer
    assert optimizers.ALL_OBJECTS_DICT["optimizermap"] is optimizers.OptimizerMap
    with pytest.raises(ValueError, match="Did you mean .*'adafactor'"):
        optimizers.get("adafactr")


@pytest.mark.parametrize("make, message", [
    (lambda: optimizers.Adafactor(beta_2_decay=0.5), r"Adafactor: `beta_2_decay` must be a float <= 0\. Received: "
                                                     r"beta_2_decay=0\.5"),
    (lambda: optimizers.Adafactor(clip_threshold=0.0), r"Adafactor: `clip_threshold` must be a float > 0\. "
                                                       r"Received: clip_threshold=0\.0"),
    (lambda: optimizers.Adafactor(epsilon_1=-1e-30), r"Adafactor: `epsilon_1` must be a float >= 0"),
    (lambda: optimizers.Adafactor(epsilon_2="small"), r"Adafactor: `epsilon_2` must be a float >= 0\. Received: "
                                                      r"epsilon_2='small'"),
    (lambda: optimizers.Adafactor(learning_rate="fast"), r"Adafactor: `learning_rate` must be a float"),
    (lambda: optimizers.ScheduleFreeAdamW(beta_1=0.0), r"ScheduleFreeAdamW: `beta_1` must be a float in \(0, 1\]\. "
                                                       r"Received: beta_1=0\.0"),
    (lambda: optimizers.ScheduleFreeAdamW(beta_2=1.0), r"ScheduleFreeAdamW: `beta_2` must be a float in \[0, 1\)"),
    (lambda: optimizers.ScheduleFreeAdamW(warmup_steps=2.5), r"ScheduleFreeAdamW: `warmup_steps` must be an int "
                                                             r">= 0\. Received: warmup_steps=2\.5"),
    (lambda: optimizers.ScheduleFreeAdamW(epsilon=-1.0), r"ScheduleFreeAdamW: `epsilon` must be a float >= 0"),
    (lambda: optimizers.Muon(ns_steps=-1), r"Muon: `ns_steps` must be an int >= 0\. Received: ns_steps=-1"),
    (lambda: optimizers.Muon(momentum=1.5), r"Muon: `momentum` must be a float in \[0, 1\]\. Received: momentum=1\.5"),
    (lambda: optimizers.Muon(exclude_layers="output"), r"Muon: `exclude_layers` must be a list of strings.*"
                                                       r"Received: exclude_layers='output'"),
    (lambda: optimizers.Muon(exclude_layers=["dense("]), r"Muon: `exclude_layers` holds 'dense\(', which is not a "
                                                          r"valid regular expression"),
    (lambda: optimizers.Muon(rms_rate=0), r"Muon: `rms_rate` must be a float > 0 or None\. Received: rms_rate=0"),
    (lambda: optimizers.Muon(adam_beta_2=1.2), r"Muon: `adam_beta_2` must be a float in \[0, 1\)"),
    (lambda: optimizers.Muon(weight_decay="a lot"), r"Muon: `weight_decay` must be a float"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_unknown_keyword_argument():
    with pytest.raises(TypeError, match=r"Adafactor.__init__\(\) got unexpected keyword argument\(s\) "
                                        r"\['beta2_decay'\]"):
        optimizers.Adafactor(beta2_decay=-0.8)
    with pytest.raises(TypeError, match="Muon.__init__"):
        optimizers.Muon(beta_1=0.9)


# --- training with fit, saving and loading -----------------------------------------------------------
def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = (x @ rng.normal(size=(4, 1)) + 0.1 * rng.normal(size=(96, 1))).astype("float32")
    return x, y


def _model():
    return lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(8, activation="tanh", name="hidden"),
                              lamina.layers.Dense(1, name="out")])


FIT_CASES = [
    ("adafactor", lambda: optimizers.Adafactor(learning_rate=0.05)),
    ("adafactor_ema_clipnorm_wd_schedule", lambda: optimizers.Adafactor(
        learning_rate=schedules.ExponentialDecay(0.05, 10, 0.9), use_ema=True, clipnorm=1.0, weight_decay=0.01)),
    ("schedule_free", lambda: optimizers.ScheduleFreeAdamW(learning_rate=0.02, warmup_steps=4, weight_decay=0.01)),
    ("schedule_free_global_clipnorm_ema", lambda: optimizers.ScheduleFreeAdamW(
        learning_rate=0.02, global_clipnorm=1.0, use_ema=True)),
    ("muon", lambda: optimizers.Muon(learning_rate=0.02)),
    ("muon_exclude_clipvalue", lambda: optimizers.Muon(learning_rate=0.02, exclude_layers=["out"], clipvalue=1.0)),
    ("multi_map", lambda: optimizers.MultiOptimizer(optimizers.OptimizerMap(
        optimizers.Adam(learning_rate=0.02), {"(.*/)?out/.*": optimizers.Adafactor(learning_rate=0.05)}))),
    ("adafactor_accumulation", lambda: optimizers.Adafactor(learning_rate=0.05, gradient_accumulation_steps=2)),
]


@pytest.mark.parametrize("make", [c[1] for c in FIT_CASES], ids=[c[0] for c in FIT_CASES])
def test_fit_lowers_the_loss(make):
    x, y = _data()
    model = _model()
    model.compile(optimizer=make(), loss="mse")
    before = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert after < 0.8 * before, (before, after)


def test_fit_compiled_step_matches_eager_step():
    x, y = _data()
    weights = []
    for eager in (False, True):
        lamina.utils.set_random_seed(7)
        model = _model()
        model.compile(optimizer=optimizers.MultiOptimizer(optimizers.OptimizerMap(
            optimizers.ScheduleFreeAdamW(learning_rate=0.02), {"(.*/)?hidden/kernel": optimizers.Muon(0.02),
                                                               "(.*/)?out/kernel": optimizers.Adafactor(0.05)})),
                      loss="mse", run_eagerly=eager)
        model.fit(x, y, epochs=2, batch_size=32, verbose=0, shuffle=False)
        weights.append([w.numpy() for w in model.weights])
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


SAVE_CASES = [FIT_CASES[0], FIT_CASES[1], FIT_CASES[2], FIT_CASES[4], FIT_CASES[6]]


@pytest.mark.parametrize("make", [c[1] for c in SAVE_CASES], ids=[c[0] for c in SAVE_CASES])
def test_save_and_load_model_with_optimizer_state(make, tmp_path):
    x, y = _data()
    model = _model()
    model.compile(optimizer=make(), loss="mse")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    saved_state = [v.numpy() for v in model.optimizer.variables]
    loaded_state = [v.numpy() for v in loaded.optimizer.variables]
    assert len(saved_state) == len(loaded_state)
    for a, b in zip(saved_state, loaded_state):
        np.testing.assert_array_equal(a, b)
    for m in (model, loaded):  # training goes on from the same state
        m.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_gradient_accumulation_counts_updates_in_the_formulas():
    """With gradient_accumulation_steps, Adam's bias corrections count the updates (Keras's ``iterations``)
    while a learning-rate schedule sees every ``apply`` call, as Keras 3.15 evaluates it (``_iterations``;
    checked against Keras on JAX: the same weights to float precision)."""
    grads = [np.array(g, "float32") for g in ([1.0, 2.0], [3.0, -2.0], [0.5, 0.5], [1.5, -0.5])]
    schedule = lamina.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    acc_opt = lamina.optimizers.Adam(learning_rate=schedule, gradient_accumulation_steps=2)
    w_acc = lamina.Variable([1.0, 1.0])
    for g in grads:
        acc_opt.apply([ops.convert_to_tensor(g)], [w_acc])
    # NumPy: Adam with t = 1, 2 on the averaged pairs; the updates happen at the 2nd and 4th calls, when the
    # schedule's step (calls made before) is 1 and 3
    w, m, v = np.ones(2), np.zeros(2), np.zeros(2)
    for t, (a, b) in enumerate(((grads[0], grads[1]), (grads[2], grads[3])), start=1):
        g = (a + b) / 2
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        lr = 0.1 * 0.5 ** (2 * t - 1) * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        w = w - lr * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(ops.convert_to_numpy(w_acc.value), w, rtol=1e-5)
    assert int(ops.convert_to_numpy(acc_opt.iterations)) == 2
    np.testing.assert_allclose(float(ops.convert_to_numpy(acc_opt.learning_rate)), 0.1 * 0.5 ** 4, rtol=1e-6)


def test_fit_ends_with_the_moving_averages_when_use_ema():
    """As Keras, fit writes the EMA of the weights into the model at its end (finalize_variable_values)."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")

    def model(opt):
        m = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1, kernel_initializer="ones")])
        m.compile(optimizer=opt, loss="mse")
        return m

    seen = []
    plain = model(optimizers.SGD(0.1))
    record = lamina.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append([ops.convert_to_numpy(w.value) for w in plain.weights]))
    plain.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0, callbacks=[record])
    avg = None
    for ws in seen:
        avg = ws if avg is None else [0.5 * a + 0.5 * w for a, w in zip(avg, ws)]
    ema = model(optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5))
    ema.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)
    for w, expected in zip(ema.weights, avg):
        np.testing.assert_allclose(ops.convert_to_numpy(w.value), expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(avg[0], seen[-1][0])  # the averages differ from the last weights
