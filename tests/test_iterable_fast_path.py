"""The fast path of iterable sources gives the same numbers as the plain path.

Plain NumPy batches skip the general conversion (``split_plain``), consecutive batches are
stacked into blocks and placed on the device in one transfer (JAX: one ``device_put`` for
all leaves of a block). These tests train the same model on arrays, on a PyDataset of the
same batches (short last batch included), on batches that take the general path, and batch
by batch with ``train_on_batch``, and compare weights and logs. Runs on the active engine.
"""

import collections

import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.training.data_adapters import batches as B

N, D, BS = 50, 6, 8            # 7 batches: 6 of 8 and a short one of 2
RNG = np.random.default_rng(3)
X = RNG.normal(size=(N, D)).astype("float32")
Y = (RNG.integers(0, 3, size=N)).astype("int64")
SW = np.linspace(0.5, 1.5, N).astype("float32")


def _model(steps_per_execution="auto"):
    lamina.utils.set_random_seed(11)
    m = lamina.Sequential([lamina.Input((D,)), layers.Dense(7, activation="relu"),
                           layers.Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
              steps_per_execution=steps_per_execution)
    return m


class Batches(lamina.utils.PyDataset):
    def __init__(self, parts, form=tuple):
        super().__init__()
        self.parts, self.form = parts, form

    def __len__(self):
        return -(-N // BS)

    def __getitem__(self, i):
        sl = slice(i * BS, min((i + 1) * BS, N))
        return self.form(p[sl] for p in self.parts)


def _weights(m):
    return [np.asarray(w) for w in m.get_weights()]


def _assert_same(a, b):
    wa, wb = _weights(a), _weights(b)
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-7)


def _assert_same_history(ha, hb):
    assert ha.history.keys() == hb.history.keys()
    for k in ha.history:
        np.testing.assert_allclose(ha.history[k], hb.history[k], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("spe", ["auto", 1, 3])
def test_pydataset_trains_like_arrays_with_a_short_last_batch(spe):
    a, p = _model(spe), _model(spe)
    ha = a.fit(X, Y, batch_size=BS, epochs=2, shuffle=False, verbose=0)
    hp = p.fit(Batches((X, Y)), epochs=2, verbose=0, shuffle=False)
    _assert_same(a, p)
    _assert_same_history(ha, hp)
    assert len(hp.history["loss"]) == 2
    ea = a.evaluate(X, Y, batch_size=BS, verbose=0, return_dict=True)
    ep = p.evaluate(Batches((X, Y)), verbose=0, return_dict=True)
    assert ea.keys() == ep.keys()
    for k in ea:
        np.testing.assert_allclose(ea[k], ep[k], rtol=1e-6)
    np.testing.assert_allclose(a.predict(X, batch_size=BS, verbose=0),
                               p.predict(Batches((X,)), verbose=0), rtol=1e-6, atol=1e-7)


def test_sample_weights_and_list_batches_take_the_fast_path_with_the_same_result():
    a, p = _model(), _model()
    a.fit(X, Y, sample_weight=SW, batch_size=BS, epochs=1, shuffle=False, verbose=0)
    p.fit(Batches((X, Y, SW), form=list), epochs=1, verbose=0, shuffle=False)
    _assert_same(a, p)


def test_fast_and_general_conversions_train_alike():
    """float64 inputs and Python-list targets go through the general conversion; plain float32 /
    integer arrays through the fast one: the same weights either way."""
    fast, general = _model(), _model()
    fast.fit(Batches((X, Y)), epochs=2, verbose=0, shuffle=False)
    general.fit(Batches((X.astype("float64"), Y)), epochs=2, verbose=0, shuffle=False)
    _assert_same(fast, general)


def test_steps_per_epoch_continues_across_epochs_like_train_on_batch():
    """With steps_per_epoch the source continues across epochs and starts over at its end: the same
    sequence of batches, one by one with train_on_batch, gives the same weights."""
    spe, epochs = 7, 3                     # 21 steps: three passes over the 7 batches
    p = _model()
    p.fit(Batches((X, Y)), steps_per_epoch=spe, epochs=epochs, verbose=0, shuffle=False)
    plain = _model()
    ds = Batches((X, Y))
    for step in range(spe * epochs):
        xb, yb = ds[step % len(ds)]
        plain.train_on_batch(xb, yb)
    _assert_same(p, plain)


def test_steps_per_epoch_shorter_than_the_source():
    """4 steps per epoch over 7 batches: 0-3, then 4-6 (the source runs out: the epoch ends early,
    with a warning), then the source starts over: 0-3."""
    p, plain = _model(), _model()
    with pytest.warns(UserWarning, match="ran out of data after 3 of 4 steps"):
        h = p.fit(Batches((X, Y)), steps_per_epoch=4, epochs=3, verbose=0, shuffle=False)
    assert len(h.history["loss"]) == 3
    ds = Batches((X, Y))
    for i in [0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3]:
        plain.train_on_batch(*ds[i])
    _assert_same(p, plain)


class _BatchLogs(lamina.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = collections.OrderedDict()

    def on_train_batch_end(self, batch, logs=None):
        self.seen[batch] = dict(logs)


def test_per_batch_callbacks_see_every_batch_with_the_same_logs():
    a, p = _model(), _model()
    ca, cp = _BatchLogs(), _BatchLogs()
    a.fit(X, Y, batch_size=BS, epochs=1, shuffle=False, verbose=0, callbacks=[ca])
    p.fit(Batches((X, Y)), epochs=1, verbose=0, shuffle=False, callbacks=[cp])
    assert list(cp.seen) == list(range(-(-N // BS)))
    assert list(ca.seen) == list(cp.seen)
    for k in ca.seen:
        assert ca.seen[k].keys() == cp.seen[k].keys()
        for name in ca.seen[k]:
            np.testing.assert_allclose(ca.seen[k][name], cp.seen[k][name], rtol=1e-6)
    _assert_same(a, p)


@pytest.mark.parametrize("batch", [
    X[:4],
    (X[:4],),
    (X[:4], Y[:4]),
    [X[:4], Y[:4]],
    (X[:4], Y[:4], SW[:4]),
    (X[:4], None, SW[:4]),
])
def test_split_plain_gives_what_split_batch_gives(batch):
    fast = B.split_plain(batch)
    assert fast is not None
    general = B.split_batch(batch, 0, "PyDataset")
    assert len(fast) == len(general) == 3
    for f, g in zip(fast, general):
        assert (f is None) == (g is None)
        if f is not None:
            assert f.dtype == g.dtype and f.shape == g.shape
            np.testing.assert_array_equal(f, g)


Pair = collections.namedtuple("Pair", "x y")


@pytest.mark.parametrize("batch", [
    X[:4].astype("float64"),                 # narrowed to float32 by the general path
    (X[:4], Y[:3]),                          # mismatched batch sizes: the general path's error
    (X[:4], Y[:4], SW[:4], SW[:4]),          # too many parts
    Pair(X[:4], Y[:4]),                      # namedtuple: ambiguous
    ({"a": X[:4]}, Y[:4]),                   # nested inputs
    (np.array([[1], ["a"]], dtype=object),),
    (np.float32(1.0),),                      # a scalar
    (None, Y[:4]),
])
def test_split_plain_leaves_everything_else_to_the_general_path(batch):
    assert B.split_plain(batch) is None


def test_bad_batches_still_get_the_general_errors():
    class Bad(lamina.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return (X[:4], Y[:4]) if i == 0 else (X[:4], Y[:3])

    m = _model()
    with pytest.raises(ValueError, match="same batch size"):
        m.fit(Bad(), epochs=1, verbose=0)


def test_shape_key_groups_equal_batches_only():
    a = B.shape_key((X[:8], Y[:8], None))
    assert a == B.shape_key((X[8:16], Y[8:16], None))
    assert a != B.shape_key((X[:2], Y[:2], None))                      # a short batch starts a new block
    assert a != B.shape_key((X[:8], Y[:8].astype("int32"), None))      # another dtype too
    assert B.shape_key(({"a": X[:8]}, Y[:8], None)) == B.shape_key(({"a": X[8:16]}, Y[8:16], None))
