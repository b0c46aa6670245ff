"""lamina.utils dataset helpers: pack/unpack_x_y_sample_weight, timeseries_dataset_from_array, split_dataset."""

import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.utils import (
    pack_x_y_sample_weight,
    split_dataset,
    timeseries_dataset_from_array,
    unpack_x_y_sample_weight,
)

# ---- pack / unpack ------------------------------------------------------------------------------------


def test_pack_and_unpack_round_trip():
    x, y, sw = np.ones((2, 3)), np.zeros((2, 1)), np.ones(2)
    assert unpack_x_y_sample_weight(pack_x_y_sample_weight(x)) == (x, None, None)
    packed = pack_x_y_sample_weight(x, y)
    assert isinstance(packed, tuple) and len(packed) == 2
    assert unpack_x_y_sample_weight(pack_x_y_sample_weight(x, y, sw)) == (x, y, sw)
    # a list of inputs alone is wrapped, so that it is not read as (x, y)
    assert pack_x_y_sample_weight([x, x]) == ([x, x],)
    assert unpack_x_y_sample_weight(pack_x_y_sample_weight([x, x]))[1] is None
    assert unpack_x_y_sample_weight([x, y])[1] is y
    with pytest.raises(ValueError, match=r"format `x`, `\(x,\)`, `\(x, y\)`.*length 4"):
        unpack_x_y_sample_weight((x, y, sw, sw))


# ---- timeseries_dataset_from_array ----------------------------------------------------------------------


def _reference_windows(data, targets, length, stride, rate, start, end):
    """The windows, written out with plain loops."""
    xs, ys = [], []
    s = start
    while s + (length - 1) * rate < end:
        if targets is not None and s >= len(targets):
            break
        xs.append(np.stack([data[s + j * rate] for j in range(length)]))
        if targets is not None:
            ys.append(targets[s])
        s += stride
    return np.stack(xs), (np.stack(ys) if targets is not None else None)


def _collect(ds):
    parts = [ds[i] for i in range(len(ds))]
    if isinstance(parts[0], tuple):
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    return np.concatenate(parts), None


@pytest.mark.parametrize("length,stride,rate,batch,start,end", [
    (3, 1, 1, 4, None, None),
    (5, 2, 1, 3, None, None),
    (4, 3, 2, 128, None, None),
    (2, 1, 3, 5, 4, 40),
    (10, 7, 1, 1, 1, None),
])
def test_timeseries_windows_match_numpy_reference(length, stride, rate, batch, start, end):
    data = np.arange(50 * 2, dtype="float32").reshape(50, 2) * 0.5
    targets = np.arange(50) * 10
    ds = timeseries_dataset_from_array(data, targets, length, sequence_stride=stride, sampling_rate=rate,
                                       batch_size=batch, start_index=start, end_index=end)
    ref_x, ref_y = _reference_windows(data, targets, length, stride, rate, start or 0, end or 50)
    got_x, got_y = _collect(ds)
    np.testing.assert_array_equal(got_x, ref_x)
    np.testing.assert_array_equal(got_y, ref_y)
    assert len(ds) == -(-len(ref_x) // batch)
    assert all(len(ds[i][0]) == batch for i in range(len(ds) - 1))


def test_timeseries_without_targets_and_unbatched():
    data = np.arange(10)
    ds = timeseries_dataset_from_array(data, None, sequence_length=4, batch_size=None)
    assert len(ds) == 7
    np.testing.assert_array_equal(ds[6], [6, 7, 8, 9])
    ds = timeseries_dataset_from_array(data, None, sequence_length=4, batch_size=3)
    np.testing.assert_array_equal(_collect(ds)[0], _reference_windows(data, None, 4, 1, 1, 0, 10)[0])


def test_timeseries_shuffle_is_a_seeded_permutation_of_the_windows():
    data = np.arange(40, dtype="float32")[:, None]
    targets = np.arange(40)
    a = _collect(timeseries_dataset_from_array(data, targets, 5, batch_size=4, shuffle=True, seed=3))
    b = _collect(timeseries_dataset_from_array(data, targets, 5, batch_size=4, shuffle=True, seed=3))
    ref_x, ref_y = _reference_windows(data, targets, 5, 1, 1, 0, 40)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[1], ref_y)
    order = np.argsort(a[1])
    np.testing.assert_array_equal(a[0][order], ref_x)  # each window still pairs with its own target
    np.testing.assert_array_equal(a[1][order], ref_y)


def test_timeseries_with_fewer_targets_than_steps_makes_fewer_windows_as_keras():
    ds = timeseries_dataset_from_array(np.arange(100), np.arange(50), sequence_length=10, batch_size=64)
    x, y = next(iter(ds))
    assert x.shape == (50, 10)
    np.testing.assert_array_equal(y, np.arange(50))
    np.testing.assert_array_equal(x[:, 0], np.arange(50))


def test_timeseries_argument_errors():
    data = np.arange(20)
    with pytest.raises(ValueError, match="`sequence_length` must be a positive integer.*0"):
        timeseries_dataset_from_array(data, None, 0)
    with pytest.raises(ValueError, match="`sampling_rate` must be a positive integer"):
        timeseries_dataset_from_array(data, None, 3, sampling_rate=-1)
    with pytest.raises(ValueError, match="`start_index` must be an int in \\[0, 20\\)"):
        timeseries_dataset_from_array(data, None, 3, start_index=20)
    with pytest.raises(ValueError, match="`end_index` must be an int in \\(5, 20\\]"):
        timeseries_dataset_from_array(data, None, 3, start_index=5, end_index=5)


def test_fit_consumes_a_timeseries_dataset_like_the_window_arrays():
    rng = np.random.default_rng(0)
    series = rng.normal(size=(60, 2)).astype("float32")
    targets = series[:, :1] * 2.0
    ds = timeseries_dataset_from_array(series, targets, sequence_length=4, batch_size=8)
    wx, wy = _reference_windows(series, targets, 4, 1, 1, 0, 60)

    def model():
        lamina.utils.set_random_seed(5)
        m = lamina.Sequential([lamina.Input((4, 2)), layers.Flatten(), layers.Dense(1)])
        m.compile(optimizer="adam", loss="mse")
        return m

    m_ref, m = model(), model()
    h_ref = m_ref.fit(wx, wy, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h = m.fit(ds, epochs=2, verbose=0)
    np.testing.assert_allclose(h.history["loss"], h_ref.history["loss"], rtol=1e-5)
    for a, b in zip(m_ref.get_weights(), m.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


# ---- split_dataset ------------------------------------------------------------------------------------


def test_split_arrays_by_fraction_and_count():
    x = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    left, right = split_dataset((x, y), left_size=0.8)
    assert (len(left), len(right)) == (8, 2)
    np.testing.assert_array_equal(left.data[0], x[:8])
    np.testing.assert_array_equal(right.data[1], y[8:])
    lx, ly = left[3]
    np.testing.assert_array_equal(lx, x[3])
    assert ly == 3
    left, right = split_dataset(x, right_size=3)
    assert (len(left), len(right)) == (7, 3)
    left, right = split_dataset(x, left_size=2, right_size=5)
    assert (len(left), len(right)) == (2, 5)
    np.testing.assert_array_equal(right.data, x[2:7])
    left, right = split_dataset(list(range(10)), left_size=0.5)
    np.testing.assert_array_equal(left.data, np.arange(5))


def test_split_with_shuffle_is_a_seeded_partition():
    x = np.arange(30)
    a = split_dataset(x, left_size=0.6, shuffle=True, seed=1)
    b = split_dataset(x, left_size=0.6, shuffle=True, seed=1)
    np.testing.assert_array_equal(a[0].data, b[0].data)
    assert not np.array_equal(a[0].data, x[:18])
    np.testing.assert_array_equal(np.sort(np.concatenate([a[0].data, a[1].data])), x)


def test_split_a_pydataset_splits_its_samples_and_batch_feeds_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)

    class DS(lamina.utils.PyDataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return x[i * 10:(i + 1) * 10], y[i * 10:(i + 1) * 10]

    left, right = split_dataset(DS(), left_size=40)
    np.testing.assert_array_equal(left.data[0], x[:40])
    np.testing.assert_array_equal(right.data[1], y[40:])
    train = left.batch(16)
    assert len(train) == 3 and len(train[2][0]) == 8

    def model():
        lamina.utils.set_random_seed(2)
        m = lamina.Sequential([lamina.Input((3,)), layers.Dense(1)])
        m.compile(optimizer="sgd", loss="mse")
        return m

    m_ref, m = model(), model()
    m_ref.fit(x[:40], y[:40], batch_size=16, epochs=2, shuffle=False, verbose=0)
    h = m.fit(train, validation_data=right.batch(16), epochs=2, verbose=0)
    for a, b in zip(m_ref.get_weights(), m.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.history["val_loss"][-1], m.evaluate(x[40:], y[40:], verbose=0), rtol=1e-5)


def test_split_dataset_errors():
    x = np.arange(10)
    with pytest.raises(ValueError, match="give `left_size` or `right_size`"):
        split_dataset(x)
    with pytest.raises(ValueError, match="float `left_size` must be in \\(0, 1\\)"):
        split_dataset(x, left_size=1.5)
    with pytest.raises(ValueError, match="right_size=11 is larger than the dataset \\(10 samples\\)"):
        split_dataset(x, right_size=11)
    with pytest.raises(ValueError, match="ask for 12 samples, but the dataset has 10"):
        split_dataset(x, left_size=6, right_size=6)
    with pytest.raises(ValueError, match="leave one side empty"):
        split_dataset(x, left_size=0.01)
    with pytest.raises(ValueError, match="different numbers of samples: \\[4, 5\\]"):
        split_dataset((np.zeros(4), np.zeros(5)), left_size=0.5)
    with pytest.raises(TypeError, match="`dataset` must be an array.*received object"):
        split_dataset(object(), left_size=0.5)
