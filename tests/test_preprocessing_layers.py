"""Numerical and categorical preprocessing layers against NumPy references, on the current backend."""

import os

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from tests.layer_test_utils import run_layer_test


def np_(x):
    return np.asarray(ops.convert_to_numpy(x))


def _save_load(model, tmp_path):
    path = os.path.join(str(tmp_path), "m.keras")
    model.save(path)
    return lamina.saving.load_model(path)


# ---- Normalization -------------------------------------------------------------------------------------

@pytest.mark.parametrize("axis,reduce", [(-1, (0, 1)), (None, None), ((1, 2), (0,)), (1, (0, 2))])
def test_normalization_adapt_matches_numpy(axis, reduce):
    data = np.random.default_rng(0).normal(3.0, 2.0, (50, 4, 3)).astype("float32")
    layer = layers.Normalization(axis=axis)
    layer.adapt(data)
    mean = data.mean(axis=reduce, keepdims=True)
    var = data.var(axis=reduce, keepdims=True)
    np.testing.assert_allclose(np_(layer(data)), (data - mean) / np.sqrt(var), rtol=1e-4, atol=1e-4)


def test_normalization_adapt_on_batches_equals_whole_array():
    data = np.random.default_rng(1).normal(size=(64, 5)).astype("float32")
    whole, batched = layers.Normalization(), layers.Normalization()
    whole.adapt(data)
    batched.adapt([data[i:i + 10] for i in range(0, 64, 10)])
    np.testing.assert_allclose(np_(batched.adapt_mean), data.mean(0), atol=1e-5)
    np.testing.assert_allclose(np_(batched.adapt_variance), data.var(0), atol=1e-5)
    np.testing.assert_allclose(np_(whole.adapt_variance), np_(batched.adapt_variance), atol=1e-5)


def test_normalization_given_statistics_and_invert():
    x = np.array([[1.0, 2.0], [3.0, 6.0]], "float32")
    layer = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 16.0])
    np.testing.assert_allclose(np_(layer(x)), [[0.0, 0.0], [1.0, 1.0]])
    inv = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 16.0], invert=True)
    np.testing.assert_allclose(np_(inv(layer(x))), x, atol=1e-6)
    assert layer.weights == []


def test_normalization_layer_test_and_weights():
    layer = run_layer_test(layers.Normalization, {"axis": -1}, (4, 3), expected_output_shape=(4, 3),
                           expected_num_non_trainable_weights=3)
    assert [w.name for w in layer.non_trainable_weights] == ["mean", "variance", "count"]  # as Keras 3
    run_layer_test(layers.Normalization, {"mean": 2.0, "variance": 4.0, "axis": None}, (4, 3),
                   expected_output_shape=(4, 3), expected_num_non_trainable_weights=0)


def test_normalization_errors_name_the_layer():
    with pytest.raises(ValueError, match="both mean and variance"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        layers.Normalization(axis=3, name="nrm")(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"'nrm2' \(Normalization\).*cannot be used when mean"):
        layers.Normalization(mean=0.0, variance=1.0, name="nrm2").adapt(np.ones((4, 2)))


def test_normalization_statistics_survive_save_load_and_training(tmp_path):
    data = np.random.default_rng(2).normal(5.0, 3.0, (32, 4)).astype("float32")
    norm = layers.Normalization()
    norm.adapt(data)
    inp = lamina.Input((4,))
    model = lamina.Model(inp, layers.Dense(1)(norm(inp)))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(data, np.zeros((32, 1), "float32"), epochs=2, batch_size=8, verbose=0)
    np.testing.assert_allclose(np_(norm.adapt_mean), data.mean(0), rtol=1e-5)  # training leaves them
    loaded = _save_load(model, tmp_path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0), atol=1e-5)
    lnorm = [layer for layer in loaded.layers if isinstance(layer, layers.Normalization)][0]
    np.testing.assert_allclose(np_(lnorm.adapt_variance), data.var(0), rtol=1e-4)


# ---- Discretization --------------------------------------------------------------------------------------

def test_discretization_int_matches_digitize():
    x = np.random.default_rng(3).normal(size=(6, 5)).astype("float32")
    bounds = [-1.0, -0.25, 0.0, 0.75]  # exact in float32
    x[0, :4] = bounds  # values on a boundary go to the upper bin
    out = np_(layers.Discretization(bin_boundaries=bounds)(x))
    np.testing.assert_array_equal(out, np.digitize(x, bounds))
    assert out.dtype == np.int64


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_discretization_encodings(mode):
    x = np.array([[-2.0, 0.5, 0.6], [3.0, 3.0, -2.0]], "float32")
    bounds = [0.0, 1.0]
    idx = np.digitize(x, bounds)
    out = np_(layers.Discretization(bin_boundaries=bounds, output_mode=mode)(x[:, :1] if mode == "one_hot" else x))
    if mode == "one_hot":
        expected = np.eye(3)[idx[:, 0]]
    else:
        expected = np.stack([np.bincount(r, minlength=3) for r in idx]).astype("float32")
        if mode == "multi_hot":
            expected = np.minimum(expected, 1)
    np.testing.assert_array_equal(out, expected)


def test_discretization_adapt_quantiles_and_config():
    data = np.arange(100, dtype="float32")
    layer = layers.Discretization(num_bins=4)
    layer.adapt(data)
    cum = np.arange(1, 101) / 100
    np.testing.assert_allclose(layer.bin_boundaries, np.interp([0.25, 0.5, 0.75], cum, data))
    counts = np.bincount(np_(layer(data)), minlength=4)
    assert counts.min() >= 24 and counts.max() <= 26  # equal-frequency bins
    clone = layers.Discretization.from_config(layer.get_config())
    np.testing.assert_array_equal(np_(clone(data)), np_(layer(data)))
    run_layer_test(layers.Discretization, {"bin_boundaries": [-0.5, 0.5]}, (3, 4), expected_output_shape=(3, 4))


def test_discretization_errors():
    with pytest.raises(ValueError, match="bin_boundaries, or num_bins"):
        layers.Discretization()
    with pytest.raises(ValueError, match="must be sorted"):
        layers.Discretization(bin_boundaries=[1.0, 0.0])
    with pytest.raises(ValueError, match=r"'disc' \(Discretization\).*call adapt"):
        layers.Discretization(num_bins=3, name="disc")(np.ones((2,), "float32"))
    with pytest.raises(ValueError, match="output_mode must be one of"):
        layers.Discretization(bin_boundaries=[0.0], output_mode="binary")


# ---- CategoryEncoding ---------------------------------------------------------------------------------------

def test_category_encoding_modes_match_numpy():
    ids = np.array([[0, 1, 1], [3, 3, 2]])
    one_hot = np_(layers.CategoryEncoding(4, output_mode="one_hot")(np.array([3, 0, 2])))
    np.testing.assert_array_equal(one_hot, np.eye(4)[[3, 0, 2]])
    assert np_(layers.CategoryEncoding(4, output_mode="one_hot")(ids)).shape == (2, 3, 4)
    counts = np.stack([np.bincount(r, minlength=4) for r in ids]).astype("float32")
    np.testing.assert_array_equal(np_(layers.CategoryEncoding(4, output_mode="count")(ids)), counts)
    np.testing.assert_array_equal(np_(layers.CategoryEncoding(4)(ids)), np.minimum(counts, 1))
    weights = np.array([[0.5, 1.0, 2.0], [1.0, 1.0, 4.0]], "float32")
    weighted = np_(layers.CategoryEncoding(4, output_mode="count")(ids, count_weights=weights))
    np.testing.assert_allclose(weighted, [[0.5, 3.0, 0, 0], [0, 0, 4.0, 2.0]])
    run_layer_test(layers.CategoryEncoding, {"num_tokens": 5}, (3, 2), expected_output_shape=(3, 5),
                   input_dtype="int32")


def test_category_encoding_errors():
    with pytest.raises(ValueError, match=r"'enc' \(CategoryEncoding\) expected inputs in the range \[0, 3\)"):
        layers.CategoryEncoding(3, name="enc")(np.array([0, 5]))
    with pytest.raises(ValueError, match="num_tokens must be set"):
        layers.CategoryEncoding()
    with pytest.raises(ValueError, match="rank 1 or 2"):
        layers.CategoryEncoding(3)(np.zeros((2, 2, 2), "int32"))
    with pytest.raises(ValueError, match="sparse=True is not supported"):
        layers.CategoryEncoding(3, sparse=True)


# ---- Hashing -----------------------------------------------------------------------------------------------

_M64 = (1 << 64) - 1


def _ref_mix(z):  # an independent, pure-Python splitmix64 finalizer
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & _M64
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB & _M64
    return (z ^ (z >> 31)) & ((1 << 63) - 1)


def test_hashing_ints_match_reference_and_are_pinned():
    x = np.array([0, 1, 2, -7, 10**12], "int64")
    out = np_(layers.Hashing(num_bins=1000)(x))
    expected = [_ref_mix(v & _M64) % 1000 for v in x.tolist()]
    np.testing.assert_array_equal(out, expected)
    assert out.tolist() == [0, 789, 922, 883, 471]  # pinned: the same on every run and backend


def test_hashing_strings_mask_and_salt():
    words = np.array([["cat"], ["dog"], [""], ["cat"]])
    out = np_(layers.Hashing(num_bins=5, mask_value="")(words))
    assert out[2, 0] == 0 and out[0, 0] == out[3, 0] and out[:, 0].tolist().count(0) == 1
    # Keras's buckets (TensorFlow's to_hash_bucket_fast: FarmHash Fingerprint64), pinned from TensorFlow 2.21
    assert np_(layers.Hashing(num_bins=1000)(np.array(["cat", "dog"]))).tolist() == [96, 112]
    a = np_(layers.Hashing(num_bins=10**6, salt=1)(np.arange(20)))
    b = np_(layers.Hashing(num_bins=10**6, salt=2)(np.arange(20)))
    assert (a != b).any()
    ints = np_(layers.Hashing(num_bins=7, mask_value=0)(np.array([0, 3, 0, 9])))
    assert ints[0] == ints[2] == 0 and (ints[[1, 3]] > 0).all()
    onehot = np_(layers.Hashing(num_bins=4, output_mode="one_hot")(np.array([5, 6])))
    np.testing.assert_array_equal(onehot, np.eye(4)[np_(layers.Hashing(num_bins=4)(np.array([5, 6])))])


# Buckets TensorFlow 2.21 gives (what Keras's Hashing and StringLookup use): to_hash_bucket_fast (FarmHash
# Fingerprint64) and, salted, to_hash_bucket_strong (SipHash-2-4); strings of 0-70 bytes, non-ASCII included.
_WORDS = ["a", "b", "c", "", "hello", "h\u00e9llo w\u00f6rld", "x" * 70]


def test_hashing_strings_as_keras_buckets_them():
    words = np.array(_WORDS)
    assert np_(layers.Hashing(num_bins=5)(words)).tolist() == [4, 2, 2, 3, 1, 2, 0]
    assert np_(layers.Hashing(num_bins=5, salt=[7, 9])(words)).tolist() == [1, 0, 1, 4, 3, 4, 4]
    # with a mask value: bucket 0 is the mask's, the others are 1 + the bucket among num_bins - 1
    masked = np_(layers.Hashing(num_bins=5, mask_value="")(words)).tolist()
    assert masked == [4, 3, 1, 0, 1, 4, 2]  # to_hash_bucket_fast(.., 4) = [3, 2, 0, _, 0, 3, 1], plus 1


def test_lookup_oov_indices_as_keras_spreads_them():
    strings = layers.StringLookup(vocabulary=["a", "b"], num_oov_indices=3)
    assert np_(strings(np.array(["a", "zz", "hello", "b", "q"]))).tolist() == [3, 1, 1, 4, 2]
    ints = layers.IntegerLookup(vocabulary=[10, 20], num_oov_indices=3)  # token % 3
    assert np_(ints(np.array([10, 7, 8, 20, 9, -1]))).tolist() == [3, 1, 2, 4, 0, 2]


def test_hashing_inside_a_model_matches_eager():
    inp = lamina.Input((3,), dtype="int64")
    hashed = layers.Hashing(num_bins=6, output_mode="count")(inp)
    model = lamina.Model(inp, layers.Dense(1)(hashed))
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(4).integers(0, 100, (16, 3))
    model.fit(x, np.zeros((16, 1)), epochs=1, batch_size=8, verbose=0)
    sub = lamina.Model(inp, hashed)
    np.testing.assert_array_equal(sub.predict(x, verbose=0), np_(layers.Hashing(6, output_mode="count")(x)))
    run_layer_test(layers.Hashing, {"num_bins": 3, "salt": [1, 2]}, (3, 2), expected_output_shape=(3, 2),
                   input_dtype="int64")


def test_hashing_errors():
    with pytest.raises(ValueError, match=r"'h' \(Hashing\) expected integer or string inputs.*float32"):
        layers.Hashing(3, name="h")(np.ones((2,), "float32"))
    with pytest.raises(ValueError, match="num_bins must be a positive int"):
        layers.Hashing(0)
    with pytest.raises(ValueError, match="salt must be"):
        layers.Hashing(3, salt="x")


# ---- StringLookup / IntegerLookup ------------------------------------------------------------------------------

def test_string_lookup_basic_oov_and_invert_round_trip():
    vocab = ["a", "b", "c", "d"]
    layer = layers.StringLookup(vocabulary=vocab)
    data = np.array([["a", "c", "d"], ["d", "z", "b"]])
    ids = np_(layer(data))
    np.testing.assert_array_equal(ids, [[1, 3, 4], [4, 0, 2]])
    assert layer.get_vocabulary() == ["[UNK]"] + vocab and layer.vocabulary_size() == 5
    inverse = layers.StringLookup(vocabulary=vocab, invert=True)
    np.testing.assert_array_equal(inverse(ids), [["a", "c", "d"], ["d", "[UNK]", "b"]])
    np.testing.assert_array_equal(np_(layer([b"b", b"zz"])), [2, 0])  # bytes and lists


def test_string_lookup_mask_and_several_oov_indices():
    layer = layers.StringLookup(vocabulary=["x", "y"], mask_token="", num_oov_indices=3)
    assert layer.get_vocabulary() == ["", "[UNK]", "[UNK]", "[UNK]", "x", "y"]
    ids = np_(layer(np.array(["", "x", "y", "q", "q", "r"])))
    assert ids[:3].tolist() == [0, 4, 5]
    assert 1 <= ids[3] <= 3 and ids[3] == ids[4] and 1 <= ids[5] <= 3
    inv = layers.StringLookup(vocabulary=["x", "y"], mask_token="", invert=True)
    assert inv(np.array([0, 1, 2, 3, 9])).tolist() == ["", "[UNK]", "x", "y", "[UNK]"]


def test_string_lookup_adapt_orders_by_frequency_and_respects_max_tokens():
    data = np.array(["b", "a", "c", "c", "b", "c", "d", "[UNK]"])
    layer = layers.StringLookup(max_tokens=3)
    layer.adapt(data)
    assert layer.get_vocabulary() == ["[UNK]", "c", "b"]
    full = layers.StringLookup()
    full.adapt([data[:4], data[4:]])  # an iterable of batches
    # ties (a and d once each) from high to low, as Keras
    assert full.get_vocabulary(include_special_tokens=False) == ["c", "b", "d", "a"]


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count", "tf_idf"])
def test_string_lookup_output_modes(mode):
    vocab = ["a", "b", "c"]
    kwargs = {"idf_weights": [0.5, 1.0, 2.0]} if mode == "tf_idf" else {}
    layer = layers.StringLookup(vocabulary=vocab, output_mode=mode, **kwargs)
    data = np.array([["a"], ["c"], ["q"]]) if mode == "one_hot" else np.array([["a", "c", "c"], ["q", "b", "a"]])
    out = np_(layer(data))
    if mode == "one_hot":
        np.testing.assert_array_equal(out, np.eye(4)[[1, 3, 0]])
        return
    counts = np.array([[0, 1, 0, 2], [1, 1, 1, 0]], "float32")
    expected = {"multi_hot": np.minimum(counts, 1), "count": counts,
                "tf_idf": counts * np.array([np.mean([0.5, 1.0, 2.0]), 0.5, 1.0, 2.0])}[mode]
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_string_lookup_tf_idf_adapt():
    docs = np.array([["a", "a", "b"], ["a", "c", "c"]])
    layer = layers.StringLookup(output_mode="tf_idf")
    layer.adapt(docs)
    assert layer.get_vocabulary() == ["[UNK]", "a", "c", "b"]
    idf = np.log1p(2 / (1 + np.array([2.0, 1.0, 1.0])))  # document frequencies of a, c, b
    np.testing.assert_allclose(np_(layer(np.array([["a", "c"]]))), [[0, idf[0], idf[1], 0]], rtol=1e-5)


def test_string_lookup_vocabulary_file_and_config_round_trip(tmp_path):
    path = os.path.join(str(tmp_path), "vocab.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("earth\nwind\nfire\n")
    layer = layers.StringLookup(vocabulary=path, mask_token="[MASK]")
    assert layer.get_vocabulary() == ["[MASK]", "[UNK]", "earth", "wind", "fire"]
    adapted = layers.StringLookup(num_oov_indices=2)
    adapted.adapt(np.array(["x", "y", "y"]))
    for lyr in (layer, adapted):
        config = lamina.saving.serialize_object(lyr)
        clone = lamina.saving.deserialize_object(config)
        assert clone.get_vocabulary() == lyr.get_vocabulary()
        assert clone.get_config() == lyr.get_config()
        words = np.array(["fire", "y", "nope", "[MASK]"])
        np.testing.assert_array_equal(np_(clone(words)), np_(lyr(words)))


def test_string_lookup_errors():
    layer = layers.StringLookup(vocabulary=["a"], name="lookup")
    with pytest.raises(ValueError, match=r"'lookup' \(StringLookup\) received a symbolic tensor.*NumPy arrays"):
        layer(lamina.Input((2,), dtype="int64"))
    with pytest.raises(ValueError, match="expected strings.*int64.*IntegerLookup"):
        layer(np.array([1, 2]))
    with pytest.raises(ValueError, match="each token once"):
        layers.StringLookup(vocabulary=["a", "b", "a"])
    with pytest.raises(ValueError, match="oov_token '\\[UNK\\]' at index 1"):
        layers.StringLookup(vocabulary=["a", "[UNK]"])
    with pytest.raises(ValueError, match="vocabulary is not set"):
        layers.StringLookup()(np.array(["a"]))
    with pytest.raises(ValueError, match="num_oov_indices=0.*'b'"):
        layers.StringLookup(vocabulary=["a"], num_oov_indices=0)(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="invert=True needs output_mode='int'"):
        layers.StringLookup(vocabulary=["a"], invert=True, output_mode="count")


def test_integer_lookup_lookup_mask_oov_and_invert():
    vocab = [12, 36, 1138, 42]
    layer = layers.IntegerLookup(vocabulary=vocab, mask_token=0)
    data = np.array([[12, 1138, 42], [0, 1000, 36]])
    ids = np_(layer(data))
    np.testing.assert_array_equal(ids, [[2, 4, 5], [0, 1, 3]])
    assert layer.get_vocabulary() == [0, -1] + vocab
    inv = layers.IntegerLookup(vocabulary=vocab, mask_token=0, invert=True)
    np.testing.assert_array_equal(np_(inv(ids)), [[12, 1138, 42], [0, -1, 36]])
    many = layers.IntegerLookup(vocabulary=vocab, num_oov_indices=4)
    oov = np_(many(np.array([7, 7, 8, 9, 10, 11, 12])))
    assert ((oov[:6] >= 0) & (oov[:6] < 4)).all() and oov[0] == oov[1] and oov[6] == 4
    assert len(set(oov[:6].tolist())) > 1  # OOV values are spread over the buckets


def test_integer_lookup_adapt_model_fit_and_save_load(tmp_path):
    data = np.array([[3, 3, 5], [5, 3, 8]])
    lookup = layers.IntegerLookup(output_mode="multi_hot")
    lookup.adapt(data)
    assert lookup.get_vocabulary() == [-1, 3, 5, 8]
    inp = lamina.Input((3,), dtype="int64")
    model = lamina.Model(inp, layers.Dense(1)(lookup(inp)))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(data, np.ones((2, 1)), epochs=2, verbose=0)
    x = np.array([[3, 9, 9], [8, 8, 5]])
    loaded = _save_load(model, tmp_path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    llookup = [layer for layer in loaded.layers if isinstance(layer, layers.IntegerLookup)][0]
    assert llookup.get_vocabulary() == [-1, 3, 5, 8]
    np.testing.assert_array_equal(np_(llookup(x)), [[1, 1, 0, 0], [0, 0, 1, 1]])
    run_layer_test(layers.IntegerLookup, {"vocabulary": [1, 2, 3]}, (4, 2), expected_output_shape=(4, 2),
                   input_dtype="int64")


def test_integer_lookup_errors():
    layer = layers.IntegerLookup(vocabulary=[1, 2], num_oov_indices=0, name="il")
    with pytest.raises(ValueError, match=r"'il' \(IntegerLookup\): num_oov_indices=0.*\[7\]"):
        layer(np.array([1, 7]))
    with pytest.raises(ValueError, match="expected integer tokens, but received strings"):
        layer(np.array(["a"]))
    with pytest.raises(ValueError, match="expected integer tokens.*float"):
        layers.IntegerLookup(vocabulary=[1])(np.array([1.5]))
    with pytest.raises(ValueError, match="max_tokens=2 leaves no room"):
        layers.IntegerLookup(max_tokens=2, mask_token=0)


def test_resizing_keeps_integer_images_in_their_dtype():
    # as Keras: rounded and saturated back to uint8, eagerly and in a model
    img = (np.random.default_rng(0).random((2, 12, 16, 3)) * 255).astype("uint8")
    for interpolation in ("bilinear", "nearest", "bicubic"):
        layer = layers.Resizing(7, 9, interpolation=interpolation)
        out = np_(layer(img))
        as_float = np_(layer(img.astype("float32")))
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out, np.clip(np.round(as_float), 0, 255).astype("uint8"))
    inp = lamina.Input((12, 16, 3), dtype="uint8")
    model = lamina.Model(inp, layers.Resizing(7, 9)(inp))
    assert model.output.dtype == "uint8" and model.predict(img, verbose=0).dtype == np.uint8
