"""How many programs JAX compiles for training: one per batch shape (a train step, or on the CPU for a step without
convolutions a loop over a block's steps), whatever the length of a fit or of its last block of steps (a short fit
before a long one must not leave a compile for the long one)."""

import contextlib

import numpy as np
import pytest

import lamina

pytestmark = pytest.mark.skipif(lamina.config.backend() != "jax", reason="JAX's compiled step functions")


@contextlib.contextmanager
def xla_compiles():
    """The list of XLA compilations made inside the block (JAX's backend-compile events). Counting these rather
    than a jitted function's ``_cache_size()``: that C++ fast-path cache is process-wide and evicts functions
    once a long process (the whole test suite) has made enough of them."""
    import jax

    events = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            events.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield events
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def test_fits_of_any_length_share_one_compiled_train_step():
    rng = np.random.RandomState(0)
    x, y = rng.rand(50 * 32, 6).astype("float32"), rng.randint(0, 3, 50 * 32)
    model = lamina.Sequential([lamina.Input((6,)), lamina.layers.Dense(5, activation="relu"),
                               lamina.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x[:10 * 32], y[:10 * 32], batch_size=32, epochs=1, verbose=0)   # shorter than a block of 16
    fn = model._get_step("train")
    if not fn._pad_blocks:
        pytest.skip("steps run in one fused call per block here (an accelerator): each block length is a program")
    with xla_compiles() as compiles:
        history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)   # blocks of 16, 16, 16 and 2
        model.fit(x[:49 * 32], y[:49 * 32], batch_size=32, epochs=1, verbose=0)   # 16, 16, 16 and 1
    assert compiles == [] and len(history.history["loss"]) == 2
    with xla_compiles() as compiles:
        model.fit(x[:33], y[:33], batch_size=32, epochs=1, verbose=0)   # a 1-sample last batch: a new shape
    assert len(compiles) >= 1


def test_a_model_with_convolutions_shares_one_compiled_step_too():
    rng = np.random.RandomState(0)
    x, y = rng.rand(20 * 8, 6, 6, 1).astype("float32"), rng.randint(0, 3, 20 * 8)
    model = lamina.Sequential([lamina.Input((6, 6, 1)), lamina.layers.Conv2D(2, 3), lamina.layers.Flatten(),
                               lamina.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x[:24], y[:24], batch_size=8, epochs=1, verbose=0)
    fn = model._get_step("train")
    if not fn._pad_blocks:
        pytest.skip("steps run in one fused call per block here (an accelerator): each block length is a program")
    with xla_compiles() as compiles:
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)   # blocks of 16 and 4
    assert compiles == [] and not fn._fuse_blocks  # one step per call (_fn1) serves blocks of any length


def test_arrays_given_to_fit_on_the_cpu_are_batched_where_they_are_with_the_engine_dtypes():
    """On the CPU the batches are taken on the host: the data is not copied to the device and back for each fit.
    NumPy float64 data trains as its float32 cast, and JAX arrays train as the same NumPy data."""
    import jax
    import jax.numpy as jnp

    from lamina.training.data import ArrayData

    if jax.default_backend() != "cpu":
        pytest.skip("the host gather is the CPU's path")
    rng = np.random.RandomState(1)
    x64, y64 = rng.rand(96, 6), rng.randint(0, 3, 96).astype("int64")
    finals = []
    for x, y in ((x64, y64), (x64.astype("float32"), y64.astype("int32")), (jnp.asarray(x64), jnp.asarray(y64))):
        lamina.utils.set_random_seed(4)
        model = lamina.Sequential([lamina.Input((6,)), lamina.layers.Dense(5, activation="relu"),
                                   lamina.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=True)
        finals.append((model.get_weights(), history.history, model.evaluate(x, y, verbose=0)))
    for weights, history, evaluated in finals[1:]:
        for a, b in zip(finals[0][0], weights):
            np.testing.assert_array_equal(a, b)
        for key in history:  # the logged means may differ in the last bit (seen before this path existed too)
            np.testing.assert_allclose(history[key], finals[0][1][key], rtol=1e-6)
        np.testing.assert_allclose(evaluated, finals[0][2], rtol=1e-6)
    fn = model._get_step("train")
    x32 = x64.astype("float32")
    placed = fn.place(ArrayData(x32, y64.astype("int32")))
    assert isinstance(placed[0], np.ndarray) and np.shares_memory(placed[0], x32)  # read in place
    from lamina.backend.jax.trainer import _place

    data = ArrayData(x64, y64)
    for got, given in zip(fn.place(data), (data.x, data.y)):  # the dtypes the device copy had
        assert isinstance(got, np.ndarray) and got.dtype == _place(given).dtype


def test_predict_on_data_of_new_lengths_compiles_one_program_per_batch_shape():
    """On the CPU predict takes each batch on the host: its compiled program depends on the batch shape only,
    so data of a new length compiles nothing for its full batches (one program for a new last-batch size)."""
    rng = np.random.RandomState(2)
    x = rng.rand(200, 6).astype("float32")
    model = lamina.Sequential([lamina.Input((6,)), lamina.layers.Dense(5, activation="relu"),
                               lamina.layers.Dense(3, activation="softmax")])
    first = model.predict(x[:100], batch_size=32, verbose=0)  # batches of 32 and a last one of 4
    fn = model._get_step("predict")
    if not fn._host_gather:
        pytest.skip("an accelerator gathers the batches on the device")
    with xla_compiles() as compiles:
        second = model.predict(x[:132], batch_size=32, verbose=0)  # a new length, the same batch shapes
    assert compiles == [] and second.shape == (132, 3)
    with xla_compiles() as compiles:
        third = model.predict(x[:150], batch_size=32, verbose=0)  # a last batch of 22: one more program
    assert len(compiles) >= 1
    direct = lamina.ops.convert_to_numpy(model(x[:150]))
    np.testing.assert_allclose(third, direct, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(first, direct[:100], rtol=1e-6, atol=1e-7)
