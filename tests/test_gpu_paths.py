"""The code paths lamina takes on a GPU, checked on whatever machine runs the tests: each path is forced
where it can be (the device-side batch indices, the exact integer products CUDA lacks) and must compute what
the plain path computes. The GPU run itself is scripts/gpu_check.sh (BENCHMARKS.md records it)."""

import numpy as np
import pytest

import lamina

torch_only = pytest.mark.skipif(lamina.config.backend() != "torch", reason="PyTorch's GPU paths")


def _train(seed=3):
    lamina.utils.set_random_seed(seed)
    rng = np.random.RandomState(0)
    x, y = rng.rand(200, 6).astype("float32"), rng.randint(0, 3, 200)
    model = lamina.Sequential([lamina.Input((6,)), lamina.layers.Dense(8, activation="relu"),
                               lamina.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, batch_size=32, epochs=2, verbose=0)  # shuffled, with a short last batch
    return [w.copy() for w in model.get_weights()], hist.history


@torch_only
def test_device_side_batch_indices_train_like_per_step_uploads(monkeypatch):
    from lamina.backend.torch import core, trainer

    want_w, want_h = _train()
    seen = []
    original = trainer._StepFunction._device_index

    def spy(self, idx):
        out = original(self, idx)
        seen.append(self._order is not None and out.data_ptr() >= self._order[1].data_ptr())
        return out

    monkeypatch.setattr(core, "_ON_CUDA", True)  # the GPU's path, with the CPU as the device
    monkeypatch.setattr(trainer._StepFunction, "_device_index", spy)
    got_w, got_h = _train()
    assert seen and all(seen)  # every batch was a slice of the epoch's uploaded order
    for a, b in zip(want_w, got_w):
        np.testing.assert_array_equal(a, b)
    assert want_h == got_h


@torch_only
@pytest.mark.parametrize("shapes", [((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((4,), (4, 5)),
                                    ((2, 3, 4), (4,)), ((4,), (4,)), ((1, 3, 4), (5, 4, 2))])
def test_exact_integer_matmul_matches_numpy(shapes):
    import torch

    from lamina.backend.torch.numpy_linalg_like import _int_matmul

    rng = np.random.RandomState(1)
    a, b = (rng.randint(-2 ** 20, 2 ** 20, s).astype("int64") for s in shapes)
    got = _int_matmul(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_array_equal(got, np.matmul(a, b))  # exact: no float round trip


@torch_only
def test_integer_dot_inner_matrix_power_through_the_gpu_branch(monkeypatch):
    import torch

    from lamina.backend.torch import linalg, numpy_linalg_like as nl

    monkeypatch.setattr(nl, "_no_int_kernel", lambda x: not x.is_floating_point())
    rng = np.random.RandomState(2)
    a, c, d = rng.randint(-9, 9, (2, 3, 4)), rng.randint(-9, 9, (3, 4, 5)), rng.randint(-9, 9, (6, 4))
    t = torch.from_numpy
    np.testing.assert_array_equal(nl.dot(t(a), t(c)).numpy(), np.dot(a, c))
    np.testing.assert_array_equal(nl.inner(t(a), t(d)).numpy(), np.inner(a, d))
    np.testing.assert_array_equal(nl.matmul(t(a), t(c[0])).numpy(), np.matmul(a, c[0]))
    sq = rng.randint(-3, 3, (2, 3, 3))
    for n in (0, 1, 5):
        np.testing.assert_array_equal(lamina.ops.convert_to_numpy(linalg.matrix_power(t(sq), n)),
                                      np.linalg.matrix_power(sq, n))


def test_float32_matmul_precision_setting_reaches_the_engine():
    try:
        lamina.config.set_float32_matmul_precision("highest")
        assert lamina.config.float32_matmul_precision() == "highest"
        if lamina.config.backend() == "torch":
            import torch

            assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
            lamina.config.set_float32_matmul_precision("high")
            assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        else:
            import jax

            assert jax.config.jax_default_matmul_precision == "float32"
            lamina.config.set_float32_matmul_precision("high")
            assert jax.config.jax_default_matmul_precision == "tensorfloat32"
        x = np.ones((2, 4), "float32")
        model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(3, kernel_initializer="ones")])
        np.testing.assert_allclose(model.predict(x, verbose=0), np.full((2, 3), 4.0))
    finally:
        lamina.config.set_float32_matmul_precision("default")
    assert lamina.config.float32_matmul_precision() == "default"
    with pytest.raises(ValueError, match=r"set_float32_matmul_precision expected one of .*received 'fast'"):
        lamina.config.set_float32_matmul_precision("fast")


@torch_only
def test_device_scope_places_created_tensors_and_moves_converted_ones():
    import torch

    from lamina.backend import device_scope

    cpu = torch.ones(3)
    with device_scope("meta"):  # a device with no data: where each kind of new tensor goes shows
        assert lamina.ops.zeros((2,)).device.type == "meta"
        assert lamina.ops.arange(3).device.type == "meta"
        assert lamina.ops.convert_to_tensor(np.ones(2)).device.type == "meta"
    home = "cuda" if torch.cuda.is_available() else "cpu"  # where lamina puts tensors by default
    assert lamina.ops.zeros((2,)).device.type == home
    assert lamina.ops.convert_to_tensor(cpu).device.type == home  # a CPU tensor joins the weights' device


@pytest.mark.parametrize("m,k,n", [(5, 10, 6), (3, 6, 4), (17, 16, 8), (32, 40, 24), (1, 7, 3)])
def test_int8_matmul_is_exact_for_unaligned_shapes(m, k, n):
    # Quantized models on a GPU (seen on an H200: JAX's int8 product 2-3.5x off for inner sizes 6 and 10,
    # right for 16): every shape, aligned or not, must give NumPy's integer product.
    from lamina.quantizers.quantizers import _int_kernels

    rng = np.random.RandomState(m * 100 + k)
    a = rng.randint(-127, 128, (m, k)).astype("int8")
    b = rng.randint(-127, 128, (k, n)).astype("int8")
    got = lamina.ops.convert_to_numpy(_int_kernels().int8_matmul(a, b))
    np.testing.assert_array_equal(got, a.astype(np.int64) @ b.astype(np.int64))
    assert got.dtype == np.int32


@torch_only
@pytest.mark.parametrize("schedule", [False, True])
def test_adam_step_and_rate_are_read_once_not_every_step(monkeypatch, schedule):
    # On a GPU Adam's bias-corrected rate is computed on the host from remembered copies of the step count
    # and the learning rate (each read once; reread only after an outside assignment). Forced here on the CPU.
    from lamina.backend.torch import optimizers as topt

    def train(forced):
        if forced:
            monkeypatch.setattr(topt, "_FREE_READS", ())
            monkeypatch.setattr(topt, "_device_reads", 0)
        lamina.utils.set_random_seed(5)
        rng = np.random.RandomState(0)
        x, y = rng.rand(96, 5).astype("float32"), rng.randint(0, 3, 96)
        model = lamina.Sequential([lamina.Input((5,)), lamina.layers.Dense(7, activation="relu"),
                                   lamina.layers.Dense(3, activation="softmax")])
        lr = lamina.optimizers.schedules.ExponentialDecay(0.01, 3, 0.5) if schedule else 0.01
        model.compile(optimizer=lamina.optimizers.Adam(lr), loss="sparse_categorical_crossentropy")

        class Jump(lamina.callbacks.Callback):  # outside assignments mid-training: must be seen
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 0:
                    self.model.optimizer.iterations.assign(100)
                    if not schedule:
                        self.model.optimizer.learning_rate.assign(0.002)

        model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False, callbacks=[Jump()])
        assert int(lamina.ops.convert_to_numpy(model.optimizer.iterations)) == 112
        return model.get_weights(), (topt._device_reads if forced else None)

    plain, _ = train(False)
    remembered, reads = train(True)
    for a, b in zip(plain, remembered):
        if schedule:  # the device computes the schedule's corrected rate in float32 tensors: within an ulp
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        else:  # the same host arithmetic as on the CPU: identical
            np.testing.assert_array_equal(a, b)
    # 18 steps: step count read at the start and after the jump; the rate likewise (a schedule's rate is
    # a fresh tensor each step, computed on the device instead, never read)
    assert reads == (2 if schedule else 4)


@torch_only
def test_dropout_seeds_are_read_back_once_not_every_draw():
    """A SeedGenerator's draws carry their ints: a Dropout layer reads its state back (a device sync on a GPU)
    on its first draw and after an outside assignment only, with the same numbers as reading every time."""
    from lamina.backend.torch import random as torch_random

    layer = lamina.layers.Dropout(0.5, seed=7)
    x = np.ones((4, 64), "float32")
    before = torch_random._seed_reads
    masks = [_np_(layer(x, training=True)) for _ in range(6)]
    assert torch_random._seed_reads - before == 1
    state = layer.seed_generator.state
    for k, mask in enumerate(masks):  # draw k used the seed [7, k]; read from a plain tensor, as before
        seed = lamina.ops.convert_to_tensor([7, k], "int64")
        expected = torch_random.dropout(lamina.ops.ones((4, 64)), 0.5, seed=seed)
        np.testing.assert_array_equal(mask, _np_(expected))
    state.assign(np.array([11, 3], "int64"))  # e.g. loading weights
    reads = torch_random._seed_reads
    after_load = _np_(layer(x, training=True))
    assert torch_random._seed_reads - reads == 1
    seed = lamina.ops.convert_to_tensor([11, 3], "int64")
    expected = torch_random.dropout(lamina.ops.ones((4, 64)), 0.5, seed=seed)
    np.testing.assert_array_equal(after_load, _np_(expected))
    assert _np_(state.value).tolist() == [11, 4]



@torch_only
def test_a_seed_state_restored_after_a_stateless_draw_is_the_one_used():
    """A draw in a stateless scope assigns its next state to the scope, not the storage: the ints the storage
    remembers stay tied to its own version, so an assignment after it is read back, not mistaken for ours."""
    layer = lamina.layers.Dropout(0.5, seed=3)
    model = lamina.Sequential([lamina.Input((64,)), layer])
    x = np.ones((2, 64), "float32")
    state = layer.seed_generator.state
    saved = _np_(state.value).copy()
    model(x, training=True)  # an eager draw: [3, 0] -> [3, 1], remembered
    model.stateless_call([v.value for v in model.trainable_variables],
                         [v.value for v in model.non_trainable_variables], x, training=True)
    state.assign(saved)  # back to [3, 0]
    fresh = lamina.layers.Dropout(0.5, seed=3)
    np.testing.assert_array_equal(_np_(model(x, training=True)), _np_(fresh(x, training=True)))


def _np_(x):
    return lamina.ops.convert_to_numpy(x)
