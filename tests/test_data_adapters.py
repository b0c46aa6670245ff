"""fit/evaluate/predict on every input kind: PyDataset, generators, DataLoader, pandas, iterables.

Each source is cross-checked against the same data given as in-memory arrays (same batch
order, shuffle=False): the trained weights, the logs and the predictions must match.
Runs on whichever engine is active (``LAMINA_BACKEND=torch|jax``).
"""

import collections
import itertools
import warnings

import numpy as np
import pytest

import lamina
from lamina import layers

N, D, BS = 100, 4, 16          # 7 batches: 6 of 16 and a short one of 4
STEPS = -(-N // BS)


def _xy(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, D)).astype("float32")
    y = (x @ np.arange(1, D + 1, dtype="float32")[:, None] / D + 0.5).astype("float32")
    return x, y


X, Y = _xy()
SW = np.linspace(0.5, 2.0, N).astype("float32")


def _model(loss="mse", out=1, activation=None, steps_per_execution="auto", metrics=("mae",)):
    lamina.utils.set_random_seed(7)
    m = lamina.Sequential([lamina.Input((D,)), layers.Dense(5, activation="tanh"),
                           layers.Dense(out, activation=activation)])
    m.compile(optimizer="adam", loss=loss, metrics=list(metrics), steps_per_execution=steps_per_execution)
    return m


def _batch(i, *arrays):
    return tuple(a[i * BS:(i + 1) * BS] for a in arrays)


def _gen(*arrays, repeat=False):
    for i in itertools.count() if repeat else range(STEPS):
        yield _batch(i % STEPS, *arrays)


class _DS(lamina.utils.PyDataset):
    def __init__(self, *arrays, infinite=False, **kw):
        super().__init__(**kw)
        self.arrays = arrays
        self.infinite = infinite
        self.events = []

    @property
    def num_batches(self):
        return None if self.infinite else STEPS

    def __getitem__(self, i):
        return _batch(i % STEPS, *self.arrays)

    def on_epoch_begin(self):
        self.events.append("begin")

    def on_epoch_end(self):
        self.events.append("end")


class PicklableDS(lamina.utils.PyDataset):
    """Module level, so that spawned worker processes can import it."""

    def __init__(self, x, y, **kw):
        super().__init__(**kw)
        self.x, self.y = x, y

    def __len__(self):
        return STEPS

    def __getitem__(self, i):
        return _batch(i, self.x, self.y)


def _reference(epochs=2, sample_weight=None, class_weight=None, x=X, y=Y, **model_kw):
    m = _model(**model_kw)
    hist = m.fit(x, y, batch_size=BS, epochs=epochs, shuffle=False, verbose=0, sample_weight=sample_weight,
                 class_weight=class_weight)
    return m, hist


def _assert_same(m_ref, m, hist_ref=None, hist=None, atol=1e-5):
    for a, b in zip(m_ref.get_weights(), m.get_weights()):
        np.testing.assert_allclose(b, a, atol=atol, rtol=1e-5)
    if hist_ref is not None:
        assert set(hist.history) == set(hist_ref.history)
        for k in hist_ref.history:
            np.testing.assert_allclose(hist.history[k], hist_ref.history[k], rtol=1e-5, atol=1e-6)


# ---- each source kind gives the same training as the arrays -----------------------------------------


def test_pydataset_fit_evaluate_predict_match_arrays():
    ref, h_ref = _reference()
    ds = _DS(X, Y)
    m = _model()
    h = m.fit(ds, epochs=2, verbose=0, shuffle=False)  # shuffle=True (the default) would shuffle its batches
    _assert_same(ref, m, h_ref, h)
    assert ds.events[:4] == ["begin", "end", "begin", "end"]
    np.testing.assert_allclose(m.evaluate(_DS(X, Y), verbose=0), ref.evaluate(X, Y, batch_size=BS, verbose=0),
                               rtol=1e-5)
    np.testing.assert_allclose(m.predict(_DS(X), verbose=0), ref.predict(X, verbose=0), rtol=1e-5, atol=1e-6)


def test_generator_matches_arrays_and_keeps_its_iterator_across_epochs():
    ref, h_ref = _reference(epochs=3)
    m = _model()
    h = m.fit(_gen(X, Y, repeat=True), steps_per_epoch=STEPS, epochs=3, verbose=0)
    _assert_same(ref, m, h_ref, h)
    # predict on a generator of bare x batches and of (x,) tuples
    np.testing.assert_allclose(m.predict((X[i * BS:(i + 1) * BS] for i in range(STEPS)), verbose=0),
                               ref.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.predict(((b,) for b in np.split(X, [50])), verbose=0),
                               ref.predict(X, verbose=0), rtol=1e-5, atol=1e-6)


def test_finite_generator_one_epoch_then_exhausted_stops_with_warning():
    ref, h_ref = _reference(epochs=1)
    m = _model()
    with pytest.warns(UserWarning, match="produced no batches in this epoch"):
        h = m.fit(_gen(X, Y), epochs=3, verbose=0)
    _assert_same(ref, m, h_ref, h)  # one epoch: the second found the generator exhausted
    assert len(h.history["loss"]) == 1


def test_generator_running_out_before_steps_per_epoch_ends_the_epoch():
    m_ref = _model()
    m_ref.fit(X[:3 * BS], Y[:3 * BS], batch_size=BS, epochs=1, shuffle=False, verbose=0)
    m = _model()
    gen = (_batch(i, X, Y) for i in range(3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = m.fit(gen, steps_per_epoch=5, epochs=2, verbose=0)
    messages = [str(w.message) for w in caught]
    assert any("ran out of data after 3 of 5 steps" in t for t in messages), messages
    assert any("produced no batches in this epoch" in t for t in messages), messages  # epoch 2: training stops
    _assert_same(m_ref, m)
    assert len(h.history["loss"]) == 1


def test_sample_weight_and_class_weight_in_batches():
    ref, h_ref = _reference(sample_weight=SW)
    m = _model()
    h = m.fit(_gen(X, Y, SW, repeat=True), steps_per_epoch=STEPS, epochs=2, verbose=0)
    _assert_same(ref, m, h_ref, h)

    yc = (Y > np.median(Y)).astype("float32")
    cw = {0: 0.3, 1: 2.0}
    ref, h_ref = _reference(class_weight=cw, y=yc, loss="binary_crossentropy", activation="sigmoid",
                            metrics=("accuracy",))
    m = _model(loss="binary_crossentropy", activation="sigmoid", metrics=("accuracy",))
    h = m.fit(_DS(X, yc), epochs=2, verbose=0, shuffle=False, class_weight=cw)
    _assert_same(ref, m, h_ref, h)


def test_infinite_pydataset_needs_steps_per_epoch():
    ref, h_ref = _reference(epochs=2)
    m = _model()
    h = m.fit(_DS(X, Y, infinite=True), steps_per_epoch=STEPS, epochs=2, verbose=0, shuffle=False)
    _assert_same(ref, m, h_ref, h)
    with pytest.raises(ValueError, match="infinite.*steps_per_epoch"):
        _model().fit(_DS(X, Y, infinite=True), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="infinite.*`steps` is required"):
        m.evaluate(_DS(X, Y, infinite=True), verbose=0)
    loss = m.evaluate(_DS(X, Y, infinite=True), steps=STEPS, verbose=0)
    np.testing.assert_allclose(loss, ref.evaluate(X, Y, batch_size=BS, verbose=0), rtol=1e-5)


def test_pydataset_steps_per_epoch_continues_then_starts_over():
    # 7 batches, 4 per epoch: epoch 1 reads 0-3, epoch 2 reads 4-6 (runs out: warning), epoch 3 reads 0-3.
    order = [0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3]
    xs = np.concatenate([_batch(i, X)[0] for i in order])
    ys = np.concatenate([_batch(i, Y)[0] for i in order])
    m_ref = _model()
    for a, b in ((0, 64), (64, 100), (100, 164)):
        m_ref.fit(xs[a:b], ys[a:b], batch_size=BS, epochs=1, shuffle=False, verbose=0)
    m = _model()
    with pytest.warns(UserWarning, match="ran out of data after 3 of 4 steps"):
        h = m.fit(_DS(X, Y), steps_per_epoch=4, epochs=3, verbose=0, shuffle=False)
    assert len(h.history["loss"]) == 3
    _assert_same(m_ref, m)


def test_pydataset_with_worker_threads():
    ref, h_ref = _reference()
    ds = _DS(X, Y, workers=3, max_queue_size=4)
    m = _model()
    h = m.fit(ds, epochs=2, verbose=0, shuffle=False)
    _assert_same(ref, m, h_ref, h)


def test_pydataset_with_worker_processes():
    ref, h_ref = _reference(epochs=1)
    m = _model()
    h = m.fit(PicklableDS(X, Y, workers=2, use_multiprocessing=True), epochs=1, verbose=0, shuffle=False)
    _assert_same(ref, m, h_ref, h)


def test_multiprocessing_pydataset_that_cannot_be_pickled():
    ds = _DS(X, Y, use_multiprocessing=True)
    ds.hook = lambda: None  # a lambda cannot be pickled
    with pytest.raises(ValueError, match="cannot be pickled"):
        _model().fit(ds, epochs=1, verbose=0)


def test_torch_dataloader_on_either_backend():
    torch = pytest.importorskip("torch")
    data = torch.utils.data
    loader = data.DataLoader(data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)), batch_size=BS)
    ref, h_ref = _reference()
    m = _model()
    h = m.fit(loader, epochs=2, verbose=0)
    _assert_same(ref, m, h_ref, h)
    np.testing.assert_allclose(m.evaluate(loader, verbose=0), ref.evaluate(X, Y, batch_size=BS, verbose=0),
                               rtol=1e-5)
    np.testing.assert_allclose(m.predict(loader, verbose=0), ref.predict(X, verbose=0), rtol=1e-5, atol=1e-6)

    class Stream(data.IterableDataset):  # no __len__: the epoch ends when the stream does
        def __iter__(self):
            for i in range(N):
                yield torch.from_numpy(X[i]).double(), torch.from_numpy(Y[i])  # float64 is narrowed

    ref1, h_ref1 = _reference(epochs=1)
    m = _model()
    h = m.fit(data.DataLoader(Stream(), batch_size=BS), epochs=1, verbose=0)
    _assert_same(ref1, m, h_ref1, h)


def test_pandas_dataframe_and_series():
    pd = pytest.importorskip("pandas", reason="pandas is not installed (pip install pandas)")
    df = pd.DataFrame(X.astype("float64"), columns=list("abcd"))
    ys = pd.Series(Y[:, 0].astype("float64"))
    ref, h_ref = _reference()
    m = _model()
    h = m.fit(df, ys.to_frame(), batch_size=BS, epochs=2, shuffle=False, verbose=0,
              validation_data=(df, ys.to_frame()))
    _assert_same(ref, m)
    np.testing.assert_allclose(h.history["loss"], h_ref.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(h.history["val_loss"][-1], m.evaluate(X, Y, verbose=0, batch_size=BS)[0],
                               rtol=1e-5)
    np.testing.assert_allclose(m.predict(df, verbose=0), ref.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    # A 1-D Series target works like a 1-D array target.
    m1, m2 = _model(), _model()
    m1.fit(X, Y[:, 0], batch_size=BS, epochs=1, shuffle=False, verbose=0)
    m2.fit(df, ys, batch_size=BS, epochs=1, shuffle=False, verbose=0)
    _assert_same(m1, m2)
    m2.train_on_batch(df.iloc[:BS], ys.iloc[:BS])


def test_any_iterable_of_batches_and_iterable_validation_data():
    batches = [_batch(i, X, Y) for i in range(STEPS)]

    class Batches:  # re-iterable, with no length
        def __iter__(self):
            return iter(batches)

    ref, h_ref = _reference()
    m = _model()
    h = m.fit(Batches(), epochs=2, verbose=0, validation_data=_DS(X, Y))
    np.testing.assert_allclose(h.history["loss"], h_ref.history["loss"], rtol=1e-5)
    _assert_same(ref, m)
    np.testing.assert_allclose(h.history["val_loss"][-1], m.evaluate(X, Y, batch_size=BS, verbose=0)[0],
                               rtol=1e-5)
    # a generator as validation data with validation_steps: its iterator continues across epochs
    m = _model()
    h = m.fit(X, Y, batch_size=BS, shuffle=False, epochs=2, verbose=0,
              validation_data=_gen(X, Y, repeat=True), validation_steps=STEPS)
    np.testing.assert_allclose(h.history["val_loss"][-1], m.evaluate(X, Y, batch_size=BS, verbose=0)[0],
                               rtol=1e-5)


def test_several_steps_per_call_with_a_short_last_batch():
    ref, h_ref = _reference(steps_per_execution=3)
    m = _model(steps_per_execution=3)
    h = m.fit(_DS(X, Y), epochs=2, verbose=0, shuffle=False)
    _assert_same(ref, m, h_ref, h)


def test_batch_callbacks_see_every_batch_and_early_stop_stops():
    seen = []

    class Stop(lamina.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((batch, round(logs["loss"], 6)))
            if batch == 2:
                self.model.stop_training = True

    m = _model()
    h = m.fit(_gen(X, Y, repeat=True), steps_per_epoch=STEPS, epochs=3, verbose=0, callbacks=[Stop()])
    assert [b for b, _ in seen] == [0, 1, 2]
    assert len(h.history["loss"]) == 1
    m_ref = _model()
    m_ref.fit(X[:3 * BS], Y[:3 * BS], batch_size=BS, epochs=1, shuffle=False, verbose=0)
    _assert_same(m_ref, m)


# ---- clear errors -------------------------------------------------------------------------------------


def test_unsupported_input_type_names_it_and_the_accepted_kinds():
    with pytest.raises(TypeError, match=r"received builtins\.object.*PyDataset.*generator.*DataLoader"):
        _model().fit(object(), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="validation_data.*received int"):
        _model().fit(X, Y, validation_data=3, verbose=0)
    with pytest.raises(TypeError, match="train_on_batch takes one batch"):
        _model().train_on_batch(_gen(X, Y))


def test_batch_of_the_wrong_form_names_the_batch():
    Pair = collections.namedtuple("Pair", "x y")
    with pytest.raises(ValueError, match="batch 0 from the generator is a namedtuple"):
        _model().fit((Pair(*_batch(i, X, Y)) for i in range(3)), epochs=1, verbose=0)

    def four_at_2():
        for i in range(4):
            yield _batch(i, X, Y) + ((SW[:BS], SW[:BS]) if i == 2 else ())

    with pytest.raises(ValueError, match=r"batch 2 from the generator has 4 elements.*\(x, y\) or \(x, y, sample_weight\)"):
        _model().fit(four_at_2(), epochs=1, verbose=0)

    def drops_y():
        yield _batch(0, X, Y)
        yield _batch(1, X, Y)
        yield _batch(2, X)

    with pytest.raises(ValueError, match=r"batch 2 from the generator has the form \(x\).*first batch had \(x, y\)"):
        _model().fit(drops_y(), epochs=1, verbose=0)

    with pytest.raises(ValueError, match="batch 3 from the PyDataset: x, y and sample_weight must have the same"):
        _model().fit(_DS(X, Y[:50]), epochs=1, verbose=0, shuffle=False)


def test_arguments_that_do_not_go_with_a_dataset():
    with pytest.raises(ValueError, match="`y` must not be given when `x` is a generator"):
        _model().fit(_gen(X, Y), Y, verbose=0)
    with pytest.raises(ValueError, match="`sample_weight` must not be given"):
        _model().fit(_DS(X, Y), sample_weight=SW, verbose=0)
    with pytest.raises(ValueError, match="validation_split is only supported for arrays"):
        _model().fit(_DS(X, Y), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="the generator produced no batches"):
        _model().fit(iter(()), verbose=0)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        _model().fit(_DS(X, Y), steps_per_epoch=0, verbose=0)


def test_error_raised_inside_the_source_reaches_the_caller():
    def broken():
        yield _batch(0, X, Y)
        yield _batch(1, X, Y)
        raise RuntimeError("disk went away at batch 2")

    with pytest.raises(RuntimeError, match="disk went away at batch 2"):
        _model().fit(broken(), epochs=1, verbose=0)


def test_pydataset_base_class_requires_len_and_getitem():
    class NoLen(lamina.utils.PyDataset):
        def __getitem__(self, i):
            return X[:BS], Y[:BS]

    with pytest.raises(TypeError, match="must define __len__"):
        _model().fit(NoLen(), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="workers must be a positive int"):
        lamina.utils.PyDataset(workers=0)
    assert lamina.utils.Sequence is lamina.utils.PyDataset
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(_DS(X, Y))) == STEPS


def test_dict_inputs_from_a_generator_match_arrays():
    def model():
        lamina.utils.set_random_seed(4)
        a, b = lamina.Input((2,), name="a"), lamina.Input((2,), name="b")
        out = layers.Dense(1)(layers.Concatenate()([a, b]))
        m = lamina.Model({"a": a, "b": b}, out)
        m.compile(optimizer="adam", loss="mse", steps_per_execution=2)
        return m

    xd = {"a": X[:, :2], "b": X[:, 2:]}
    m_ref, m = model(), model()
    h_ref = m_ref.fit(xd, Y, batch_size=BS, epochs=2, shuffle=False, verbose=0)
    batches = [({"a": _batch(i, X[:, :2])[0], "b": _batch(i, X[:, 2:])[0]}, _batch(i, Y)[0]) for i in range(STEPS)]
    h = m.fit(itertools.cycle(batches), steps_per_epoch=STEPS, epochs=2, verbose=0)
    _assert_same(m_ref, m, h_ref, h)


def test_validation_generator_with_validation_steps_loses_no_batch_between_epochs():
    # exactly 2 epochs of validation batches: any batch taken out of turn would make it run out
    m = _model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = m.fit(_DS(X, Y), epochs=2, verbose=0, validation_data=(_batch(i % STEPS, X, Y) for i in range(2 * STEPS)),
                  validation_steps=STEPS)
    np.testing.assert_allclose(h.history["val_loss"][-1], m.evaluate(X, Y, batch_size=BS, verbose=0)[0],
                               rtol=1e-5)
    # without validation_steps, a one-shot generator is exhausted after the first validation
    m = _model()
    with pytest.warns(UserWarning, match="fit\\(validation_data\\): the generator produced no batches.*validation_steps"):
        m.fit(_DS(X, Y), epochs=2, verbose=0, validation_data=_gen(X, Y))


def test_tensor_dataset_loader_batches_are_the_dataloaders_own():
    """A DataLoader over a TensorDataset is read by indexing its tensors once per batch (no per-sample
    collation): the batches, their order under shuffling and the random numbers drawn are the plain
    iteration's."""
    torch = pytest.importorskip("torch")
    from lamina.training.data_adapters import iterable_data as I

    data = torch.utils.data
    xs = torch.arange(45 * 3, dtype=torch.float32).reshape(45, 3)
    ys = torch.arange(45) % 4
    ds = data.TensorDataset(xs, ys)
    loaders = [
        lambda: data.DataLoader(ds, batch_size=8),
        lambda: data.DataLoader(ds, batch_size=8, shuffle=True),  # the global RNG draws the order
        lambda: data.DataLoader(ds, batch_size=8, shuffle=True, drop_last=True,
                                generator=torch.Generator().manual_seed(3)),
        lambda: data.DataLoader(ds, batch_size=5, sampler=data.SubsetRandomSampler(range(0, 45, 2))),
    ]
    for make in loaders:  # a new loader for each pass: a loader's own generator is advanced by a pass
        loader = make()
        assert I._tensor_loader(loader)
        torch.manual_seed(11)
        plain = list(loader)
        after_plain = torch.randint(0, 10 ** 6, (1,)).item()
        torch.manual_seed(11)
        fast = list(I.IterableSourceData(make())._new_iterator())
        after_fast = torch.randint(0, 10 ** 6, (1,)).item()
        assert len(fast) == len(plain) and after_fast == after_plain
        for (xa, ya), (xb, yb) in zip(plain, fast):
            assert torch.equal(xa, xb) and torch.equal(ya, yb) and xa.dtype == xb.dtype and ya.dtype == yb.dtype
    # Unshuffled, a batch is a slice of the dataset's tensors (no copy).
    first = next(iter(I.IterableSourceData(loaders[0]())._new_iterator()))
    assert first[0].data_ptr() == xs.data_ptr() and torch.equal(first[0], xs[:8])
    # Loaders that do something else per sample or per batch keep torch's own iteration.
    assert not I._tensor_loader(data.DataLoader(ds, batch_size=8, collate_fn=lambda b: b))
    assert not I._tensor_loader(data.DataLoader(ds, batch_size=None))
    assert not I._tensor_loader(data.DataLoader(ds, batch_size=8, num_workers=1))

    class Doubled(data.TensorDataset):
        def __getitem__(self, i):
            return tuple(2 * t for t in super().__getitem__(i))

    assert not I._tensor_loader(data.DataLoader(Doubled(xs, ys), batch_size=8))
