"""The engine's fused optimizer kernels give the same weights as the per-variable formulas."""

import numpy as np
import pytest

import lamina
from lamina import optimizers


def _run(make_opt, fused, steps=5):
    rng = np.random.default_rng(0)
    variables = [lamina.Variable(rng.standard_normal(s).astype("float32")) for s in [(3, 4), (4,), (2, 2, 2)]]
    opt = make_opt()
    if not fused:
        opt._fused_spec = lambda: None
    for i in range(steps):
        grads = [lamina.ops.convert_to_tensor(rng.standard_normal(v.shape).astype("float32")) for v in variables]
        opt.apply(grads, variables)
        if i == 2:
            opt.learning_rate = 0.05  # a change of learning rate mid-run is honoured by both paths
    return [v.numpy() for v in variables], [v.numpy() for v in opt.variables]


@pytest.mark.parametrize("make_opt", [
    lambda: optimizers.Adam(learning_rate=0.01),
    lambda: optimizers.AdamW(learning_rate=0.01, weight_decay=0.1),
    lambda: optimizers.SGD(learning_rate=0.1),
    lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9),
    lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
], ids=["adam", "adamw", "sgd", "sgd_momentum", "sgd_nesterov"])
def test_fused_update_matches_formula(make_opt):
    fused_w, fused_slots = _run(make_opt, fused=True)
    plain_w, plain_slots = _run(make_opt, fused=False)
    for a, b in zip(fused_w + fused_slots, plain_w + plain_slots):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_subclass_overriding_update_step_is_not_fused():
    class Custom(optimizers.Adam):
        def update_step(self, gradient, variable, learning_rate):
            variable.assign(variable.value * 0.0)

    v = lamina.Variable(np.ones((2,), "float32"))
    Custom().apply([lamina.ops.ones((2,))], [v])
    np.testing.assert_array_equal(v.numpy(), [0.0, 0.0])
