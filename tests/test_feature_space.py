"""lamina.utils.FeatureSpace: every feature kind against NumPy references, crosses, output modes, adapt sources,
the structured-data tutorial flow (fit, save, reload) and the errors."""

import os

import numpy as np
import pandas as pd
import pytest

import lamina
from lamina import layers, ops
from lamina.utils import FeatureSpace
from lamina.utils.dataset_utils import ArrayDataset

M64 = (1 << 64) - 1


def np_(x):
    return np.asarray(ops.convert_to_numpy(x))


def one_hot(indices, depth):
    out = np.zeros((len(indices), depth), "float32")
    for row, i in enumerate(indices):
        if 0 <= i < depth:
            out[row, i] = 1.0
    return out


def frequency_vocab(values):
    """Keras's adapted vocabulary: by decreasing count, ties by decreasing value."""
    uniq, counts = np.unique(np.asarray(values), return_counts=True)
    return [v.item() for v in uniq[np.lexsort((uniq, counts))[::-1]]]


# Independent references of lamina's stable hash (Hashing) and of TensorFlow's FingerprintCat64 (HashedCrossing).

def _mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def ref_hash(value):
    """A string's hash as Keras buckets it (FarmHash Fingerprint64, % n = TensorFlow's to_hash_bucket_fast; lamina's
    port is pinned against TensorFlow's values in test_preprocessing_layers), an integer's as lamina's tensor hash."""
    if isinstance(value, str):
        from lamina.layers.preprocessing._farmhash import fingerprint64

        return fingerprint64(value.encode("utf-8"))
    return _mix(int(value) & M64) & ((1 << 63) - 1)


def ref_cross(values, num_bins):
    mul = 0xC6A4A7935BD1E995

    def shift_mix(v):
        return v ^ (v >> 47)

    h = 0xDECAFCAFFE
    for v in values:
        fp = int(v) & M64
        r = h ^ mul
        r ^= (shift_mix((fp * mul) & M64) * mul) & M64
        r = (r * mul) & M64
        r = (shift_mix(r) * mul) & M64
        h = shift_mix(r)
    return h % num_bins


@pytest.fixture
def table():
    return {
        "price": np.array([1.0, 2.0, 4.0, 8.0, 5.0, 3.0, 7.0, 6.0]),
        "size": np.array([10, 20, 10, 30, 10, 20, 10, 40]),
        "color": np.array(["red", "blue", "red", "green", "red", "blue", "red", "blue"]),
    }


# ---- feature kinds ----------------------------------------------------------------------------------------


def test_float_kinds(table):
    fs = FeatureSpace({"a": "float", "b": FeatureSpace.float_rescaled(scale=2.0, offset=1.0), "c": "float_normalized"},
                      output_mode="dict")
    data = {"a": table["price"], "b": table["price"], "c": table["price"]}
    fs.adapt(data)
    out = fs(data)
    p = table["price"]
    np.testing.assert_allclose(np_(out["a"])[:, 0], p, rtol=1e-6)
    np.testing.assert_allclose(np_(out["b"])[:, 0], p * 2 + 1, rtol=1e-6)
    np.testing.assert_allclose(np_(out["c"])[:, 0], (p - p.mean()) / p.std(), rtol=1e-5)
    assert np_(out["c"]).dtype == np.float32 and np_(out["c"]).shape == (8, 1)


def test_float_discretized(table):
    p = table["price"]
    given = FeatureSpace({"p": FeatureSpace.float_discretized(num_bins=3, bin_boundaries=[2.5, 5.5])})
    np.testing.assert_array_equal(np_(given({"p": p})), one_hot(np.digitize(p, [2.5, 5.5]), 3))
    given.adapt({"p": np.arange(100.0)})  # the given boundaries are kept
    assert given.preprocessors["p"].bin_boundaries == [2.5, 5.5]
    fs = FeatureSpace({"p": FeatureSpace.float_discretized(num_bins=4)}, output_mode="dict")
    fs.adapt({"p": p})
    bounds = fs.preprocessors["p"].bin_boundaries
    # Discretization's documented quantiles: interpolate the sorted values at their cumulative fraction (i + 1) / n
    np.testing.assert_allclose(bounds, np.interp([0.25, 0.5, 0.75], np.arange(1, 9) / 8, np.sort(p)))
    indices = np.digitize(p, bounds)
    assert np.bincount(indices, minlength=4).tolist() == [1, 2, 2, 3]
    np.testing.assert_array_equal(np_(fs({"p": p})["p"]), one_hot(indices, 4))
    as_int = FeatureSpace({"p": FeatureSpace.float_discretized(num_bins=4, output_mode="int")}, output_mode="dict")
    as_int.adapt({"p": p})
    assert np_(as_int({"p": p})["p"])[:, 0].tolist() == indices.tolist()
    short = FeatureSpace({"p": "float_discretized"}, num_discretization_bins=5)
    short.adapt({"p": np.arange(20.0)})
    assert short.get_encoded_features().shape == (None, 5)


@pytest.mark.parametrize("oov", [1, 0])
def test_integer_categorical(table, oov):
    fs = FeatureSpace({"size": FeatureSpace.integer_categorical(num_oov_indices=oov)})
    fs.adapt(table)
    vocab = frequency_vocab(table["size"])
    assert vocab == [10, 20, 40, 30]  # 30 and 40 once each: the higher first, as Keras
    indices = [vocab.index(v) + oov for v in table["size"]]
    np.testing.assert_array_equal(np_(fs(table)), one_hot(indices, len(vocab) + oov))
    if oov:  # an unseen value goes to the OOV index 0
        np.testing.assert_array_equal(np_(fs({"size": [99]})), one_hot([0], 5))


def test_string_categorical(table):
    fs = FeatureSpace({"color": FeatureSpace.string_categorical(max_tokens=3)}, output_mode="dict")
    fs.adapt(table)
    # max_tokens counts the OOV index: only the two most frequent strings are kept
    assert fs.preprocessors["color"].get_vocabulary() == ["[UNK]", "red", "blue"]
    colors = ["blue", "green", "red", "nope"]
    np.testing.assert_array_equal(np_(fs({"color": colors})["color"]), one_hot([2, 0, 1, 0], 3))
    as_int = FeatureSpace({"color": FeatureSpace.string_categorical(output_mode="int")}, output_mode="dict")
    as_int.adapt(table)
    assert np_(as_int({"color": colors})["color"])[:, 0].tolist() == [2, 3, 1, 0]


def test_hashed_features(table):
    fs = FeatureSpace({"color": FeatureSpace.string_hashed(num_bins=7), "size": "integer_hashed"}, hashing_dim=5,
                      output_mode="dict")
    out = fs(table)  # nothing to adapt
    np.testing.assert_array_equal(np_(out["color"]), one_hot([ref_hash(c) % 7 for c in table["color"]], 7))
    np.testing.assert_array_equal(np_(out["size"]), one_hot([ref_hash(s) % 5 for s in table["size"]], 5))
    as_int = FeatureSpace({"size": FeatureSpace.integer_hashed(num_bins=11, output_mode="int")}, output_mode="dict")
    assert np_(as_int(table)["size"])[:, 0].tolist() == [ref_hash(s) % 11 for s in table["size"]]


def test_custom_feature(table):
    text = layers.TextVectorization(output_mode="multi_hot")
    fs = FeatureSpace({"t": FeatureSpace.feature(dtype="string", preprocessor=text, output_mode="float")})
    docs = np.array(["a b", "b c b", "b"])
    fs.adapt({"t": docs})
    assert text.get_vocabulary() == ["[UNK]", "b", "c", "a"]
    np.testing.assert_array_equal(np_(fs({"t": docs})), [[0, 1, 0, 1], [0, 1, 1, 0], [0, 1, 0, 0]])


def test_crosses(table):
    fs = FeatureSpace({"size": FeatureSpace.integer_categorical(output_mode="int"),
                       "color": FeatureSpace.string_categorical(output_mode="int")},
                      crosses=[FeatureSpace.cross(("color", "size"), crossing_dim=16, output_mode="int"),
                               ("size", "color")], crossing_dim=8, output_mode="dict")
    fs.adapt(table)
    out = {k: np_(v)[:, 0] for k, v in fs(table).items()}
    assert sorted(out) == ["color", "color_X_size", "size", "size_X_color"]
    pairs = list(zip(out["color"], out["size"]))  # crosses hash the preprocessed (lookup) indices
    assert out["color_X_size"].tolist() == [ref_cross(p, 16) for p in pairs]
    fs_oh = FeatureSpace({"size": "integer_categorical", "color": "string_categorical"},
                         crosses=[("size", "color")], crossing_dim=8, output_mode="dict")
    fs_oh.adapt(table)
    expected = one_hot([ref_cross((s, c), 8) for c, s in pairs], 8)
    np.testing.assert_array_equal(np_(fs_oh(table)["size_X_color"]), expected)
    assert isinstance(fs_oh.crossers["size_X_color"], layers.HashedCrossing)


def test_concat_is_dict_in_sorted_order(table):
    feats = {"size": "integer_categorical", "price": "float_normalized", "color": "string_categorical"}
    as_dict = FeatureSpace(dict(feats), crosses=[("size", "color")], output_mode="dict")
    concat = FeatureSpace(dict(feats), crosses=[("size", "color")], output_mode="concat")
    as_dict.adapt(table)
    concat.adapt(table)
    parts = as_dict(table)
    order = ["color", "price", "size", "size_X_color"]
    np.testing.assert_allclose(np_(concat(table)), np.concatenate([np_(parts[k]) for k in order], axis=-1))
    assert concat.get_encoded_features().shape == (None, 4 + 1 + 5 + 32)
    assert sorted(as_dict.get_encoded_features()) == order


def test_single_sample_and_lists(table):
    fs = FeatureSpace({"size": "integer_categorical", "price": "float_normalized", "color": "string_categorical"})
    fs.adapt(table)
    batch = np_(fs(table))
    one = fs({"size": 20, "price": 2.0, "color": "blue"})
    assert tuple(one.shape) == (batch.shape[1],)
    np.testing.assert_allclose(np_(one), batch[1], rtol=1e-6)
    lists = fs({k: v.tolist() for k, v in table.items()})
    np.testing.assert_allclose(np_(lists), batch, rtol=1e-6)
    frame = fs(pd.DataFrame(table))
    np.testing.assert_allclose(np_(frame), batch, rtol=1e-6)
    with_label = fs(dict(table, target=np.arange(8)))  # keys that are not features are ignored
    np.testing.assert_allclose(np_(with_label), batch, rtol=1e-6)
    dict_fs = FeatureSpace({"size": "integer_categorical"}, output_mode="dict")
    dict_fs.adapt(table)
    assert tuple(dict_fs({"size": 10})["size"].shape) == (5,)


def test_adapt_again_rebuilds_the_encoding(table):
    fs = FeatureSpace({"color": "string_categorical"})
    fs.adapt({"color": ["red", "red", "blue"]})
    assert fs.get_encoded_features().shape == (None, 3)
    fs.adapt(table)  # a third color: one more column
    assert fs.get_encoded_features().shape == (None, 4)
    np.testing.assert_array_equal(np_(fs({"color": ["green"]})), one_hot([3], 4))


# ---- adapt sources ----------------------------------------------------------------------------------------


def test_adapt_sources_agree(table):
    def fitted(source):
        fs = FeatureSpace({"price": "float_normalized", "color": "string_categorical"})
        fs.adapt(source)
        return np_(fs.preprocessors["price"].adapt_mean), fs.preprocessors["color"].get_vocabulary()

    ref_mean, ref_vocab = fitted(table)
    np.testing.assert_allclose(ref_mean, [table["price"].mean()], rtol=1e-6)
    labels = np.arange(8)
    batched = ArrayDataset((table, labels), batch_size=3)
    sources = [pd.DataFrame(table), batched, batched.map(lambda x, y: x), ArrayDataset(table),
               [{k: v[:5] for k, v in table.items()}, {k: v[5:] for k, v in table.items()}],
               lamina.utils.split_dataset((table, labels), left_size=8 - 1, right_size=1)[0].batch(4).take(1)]
    for source in sources[:-1]:
        mean, vocab = fitted(source)
        np.testing.assert_allclose(mean, ref_mean, rtol=1e-6)
        assert vocab == ref_vocab
    mean, _ = fitted(sources[-1])  # the first 4 samples only
    np.testing.assert_allclose(mean, [table["price"][:4].mean()], rtol=1e-6)


# ---- the tutorial flow --------------------------------------------------------------------------------------


def heart_table(n=96, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age": rng.integers(30, 77, n), "sex": rng.integers(0, 2, n), "cp": rng.integers(0, 5, n),
        "ca": rng.integers(0, 4, n), "thal": rng.choice(["fixed", "normal", "reversible"], n),
        "trestbps": rng.normal(130, 15, n), "chol": rng.normal(240, 40, n), "oldpeak": rng.exponential(1.0, n),
    })
    target = ((df["thal"] == "reversible") | (df["ca"] > 1)).astype("int64").to_numpy()
    return df, target


def heart_feature_space():
    return FeatureSpace(
        features={
            "sex": FeatureSpace.integer_categorical(num_oov_indices=0),
            "cp": FeatureSpace.integer_categorical(num_oov_indices=0),
            "ca": FeatureSpace.integer_categorical(num_oov_indices=0),
            "thal": FeatureSpace.string_categorical(),
            "age": FeatureSpace.float_discretized(num_bins=10),
            "trestbps": FeatureSpace.float_normalized(), "chol": "float_normalized", "oldpeak": "float_rescaled",
        },
        crosses=[FeatureSpace.cross(feature_names=("sex", "age"), crossing_dim=16),
                 FeatureSpace.cross(feature_names=("thal", "ca"), crossing_dim=8)],
        output_mode="concat")


def test_tutorial_flow(tmp_path):
    lamina.utils.set_random_seed(1)
    df, target = heart_table()
    train, val = lamina.utils.split_dataset((dict(df), target), left_size=0.75, shuffle=True, seed=2)
    train_ds, val_ds = train.batch(24), val.batch(24)
    fs = heart_feature_space()
    fs.adapt(train_ds.map(lambda x, _: x))
    preprocessed_train = train_ds.map(lambda x, y: (fs(x), y))
    x0, _ = train_ds[0]
    assert tuple(preprocessed_train[0][0].shape) == (24, 2 + 5 + 4 + 4 + 10 + 3 + 16 + 8)

    inputs, encoded = fs.get_inputs(), fs.get_encoded_features()
    hidden, head = layers.Dense(8, activation="relu"), layers.Dense(1, activation="sigmoid")
    predictions = head(layers.Dropout(0.5)(hidden(encoded)))
    model = lamina.Model(inputs, predictions)  # takes the raw columns (the strings run on the host)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(train_ds, epochs=2, validation_data=val_ds, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["val_loss"]).all()

    # the model's graph computes what the FeatureSpace computes in the input pipeline
    encoded_in = lamina.Input(shape=encoded.shape[1:])
    on_encoded = lamina.Model(encoded_in, head(hidden(encoded_in)))
    np.testing.assert_allclose(model.predict(x0, verbose=0), on_encoded.predict(np_(fs(x0)), verbose=0),
                               rtol=1e-5, atol=1e-6)
    on_encoded.compile(optimizer="adam", loss="binary_crossentropy")
    on_encoded.fit(preprocessed_train, epochs=1, verbose=0)  # the tutorial's training on preprocessed batches

    sample = {"age": 60, "sex": 1, "cp": 1, "ca": 0, "thal": "fixed", "trestbps": 145, "chol": 233, "oldpeak": 2.3}
    raw = {k: np.array([v]) for k, v in sample.items()}
    before = model.predict(raw, verbose=0)
    np.testing.assert_allclose(model.predict({k: [v] for k, v in sample.items()}, verbose=0), before, rtol=1e-6)
    path = os.path.join(tmp_path, "heart.keras")
    model.save(path)
    reloaded = lamina.saving.load_model(path)
    np.testing.assert_allclose(reloaded.predict(raw, verbose=0), before, rtol=1e-6)
    np.testing.assert_allclose(reloaded.predict(val_ds, verbose=0), model.predict(val_ds, verbose=0), rtol=1e-6)
    assert before.shape == (1, 1) and 0.0 < float(before[0, 0]) < 1.0


def test_save_feature_space_alone(tmp_path, table):
    fs = FeatureSpace({"size": "integer_categorical", "price": "float_normalized", "color": "string_categorical",
                       "p": FeatureSpace.float_discretized(num_bins=3)},
                      crosses=[("size", "color")], name="my_space")
    data = dict(table, p=table["price"])
    fs.adapt(data)
    path = os.path.join(tmp_path, "fs.keras")
    fs.save(path)
    loaded = lamina.saving.load_model(path)
    assert isinstance(loaded, FeatureSpace) and loaded.name == "my_space"
    np.testing.assert_allclose(np_(loaded(data)), np_(fs(data)), rtol=1e-6)
    assert loaded.get_config() == fs.get_config()
    assert loaded.get_encoded_features().shape == fs.get_encoded_features().shape
    with pytest.raises(ValueError, match=r"FeatureSpace.save expected a file path ending in '.keras'"):
        fs.save(os.path.join(tmp_path, "fs.h5"))


def test_config_round_trip(table):
    fs = FeatureSpace({"size": FeatureSpace.integer_categorical(max_tokens=4), "price": "float_normalized"},
                      crosses=[FeatureSpace.cross(("size", "size"), crossing_dim=4, output_mode="int")],
                      output_mode="dict", hashing_dim=7)
    config = fs.get_config()
    again = FeatureSpace.from_config(config)
    assert again.get_config()["crosses"] == config["crosses"] and again.hashing_dim == 7
    assert again.preprocessors["size"].max_tokens == 4 and again.output_mode == "dict"
    fs.adapt(table)
    again.adapt(table)
    for key, value in fs(table).items():
        np.testing.assert_allclose(np_(again(table)[key]), np_(value))
    clone = lamina.saving.deserialize_keras_object(lamina.saving.serialize_keras_object(fs))
    assert isinstance(clone, FeatureSpace) and sorted(clone.features) == ["price", "size"]


def test_keras_feature_space_layer_names_load():
    def keras_entry(name):
        return {"module": "keras.src.layers.preprocessing.feature_space", "class_name": name,
                "config": {"name": name.lower(), "trainable": True, "dtype": "float32"}, "registered_name": name}

    concat = lamina.saving.deserialize_keras_object(keras_entry("TFDConcat"))
    identity = lamina.saving.deserialize_keras_object(keras_entry("TFDIdentity"))
    assert isinstance(concat, layers.Concatenate) and concat.axis == -1 and isinstance(identity, layers.Identity)
    spec = {"module": "keras.src.layers.preprocessing.feature_space", "class_name": "Feature",
            "registered_name": "Feature",
            "config": {"dtype": "float32", "output_mode": "float", "preprocessor": keras_entry("TFDIdentity")}}
    fs = FeatureSpace.from_config({"features": {"x": spec}, "output_mode": "concat", "crosses": []})
    np.testing.assert_allclose(np_(fs({"x": [1.5, 2.5]})), [[1.5], [2.5]])


# ---- errors -------------------------------------------------------------------------------------------------


def test_errors(table):
    with pytest.raises(ValueError, match=r"FeatureSpace: unknown type 'floaty' for feature 'x'. Expected one of"):
        FeatureSpace({"x": "floaty"})
    with pytest.raises(ValueError, match=r"FeatureSpace: the cross \('a', 'zz'\) names unknown feature\(s\) \['zz'\]"):
        FeatureSpace({"a": "integer_categorical"}, crosses=[("a", "zz")])
    with pytest.raises(ValueError, match=r"FeatureSpace: `features` must be a non-empty dict"):
        FeatureSpace({})
    with pytest.raises(ValueError, match=r"FeatureSpace: output_mode must be one of \['concat', 'dict'\]"):
        FeatureSpace({"a": "float"}, output_mode="stack")
    with pytest.raises(ValueError, match=r"FeatureSpace.feature: output_mode must be one of"):
        FeatureSpace.feature("float32", layers.Identity(), "multi_hot")
    with pytest.raises(TypeError, match=r"FeatureSpace.feature: preprocessor must be a lamina layer"):
        FeatureSpace.feature("float32", lambda x: x, "float")
    shared = FeatureSpace.float_normalized()
    with pytest.raises(ValueError, match=r"features 'a' and 'b' share one preprocessor layer"):
        FeatureSpace({"a": shared, "b": shared})
    fs = FeatureSpace({"size": "integer_categorical", "color": "string_categorical"})
    with pytest.raises(ValueError, match=r"FeatureSpace 'feature_space\w*' is not adapted: call "
                                         r"feature_space.adapt\(data\) first"):
        fs(table)
    with pytest.raises(ValueError, match=r"is not adapted"):
        fs.get_inputs()
    with pytest.raises(ValueError, match=r"FeatureSpace.adapt expected a dict of feature columns .* but received "
                                         r"ndarray"):
        fs.adapt(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"FeatureSpace.adapt: the data lacks the feature\(s\) \['color'\]"):
        fs.adapt({"size": table["size"]})
    with pytest.raises(ValueError, match=r"FeatureSpace.adapt received an empty dataset"):
        fs.adapt([])
    with pytest.raises(ValueError, match=r"item 0 is a ndarray"):
        fs.adapt(iter([np.zeros(3)]))
    fs.adapt(table)
    with pytest.raises(ValueError, match=r"FeatureSpace: the input lacks the feature\(s\) \['color'\] \(expected "
                                         r"the keys \['size', 'color'\], received \['price', 'size'\]\)"):
        fs({"size": table["size"], "price": table["price"]})
    with pytest.raises(ValueError, match=r"FeatureSpace must be called on a dict of feature columns .* but "
                                         r"received ndarray"):
        fs(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"feature 'color' holds strings \(dtype 'string'\), but received values "
                                         r"of dtype int64"):
        fs({"size": [10], "color": np.array([3])})
    with pytest.raises(ValueError, match=r"feature 'size' is numeric \(dtype 'int32'\), but received values of dtype"):
        fs({"size": ["ten"], "color": ["red"]})
    with pytest.raises(ValueError, match=r"every feature must have the same number of samples"):
        fs({"size": [10, 20], "color": ["red"]})


def test_encoding_errors():
    with pytest.raises(ValueError, match=r"feature 'n' has output_mode='one_hot', so its preprocessor must return "
                                         r"integer indices, but it returns float32"):
        FeatureSpace({"n": FeatureSpace.feature("float32", layers.Rescaling(2.0), "one_hot")}).get_inputs()
    with pytest.raises(ValueError, match=r"cannot concatenate feature 'c': it is not encoded"):
        FeatureSpace({"c": FeatureSpace.integer_hashed(4, output_mode="int")}).get_encoded_features()
    with pytest.raises(ValueError, match=r"the cross 'a_X_b' needs integer features, but feature 'a' is "
                                         r"preprocessed to float32"):
        FeatureSpace({"a": "float", "b": "integer_hashed"}, crosses=[("a", "b")]).get_inputs()
    with pytest.raises(ValueError, match=r"FeatureSpace.float_discretized: bin_boundaries must hold num_bins - 1"):
        FeatureSpace.float_discretized(num_bins=4, bin_boundaries=[1.0])
    with pytest.raises(ValueError, match=r"FeatureSpace.cross: feature_names must be a tuple of at least two"):
        FeatureSpace.cross("a", crossing_dim=4)


# ---- the layer changes FeatureSpace relies on -----------------------------------------------------------


def test_hashed_crossing_on_integer_tensors_in_compiled_model():
    rng = np.random.default_rng(3)
    a, b = rng.integers(-2 ** 62, 2 ** 62, (64, 1)), rng.integers(0, 50, (64, 1))
    layer = layers.HashedCrossing(num_bins=1000003)
    expected = [ref_cross((x, y), 1000003) for x, y in zip(a[:, 0], b[:, 0])]
    assert np_(layer((a, b)))[:, 0].tolist() == expected  # NumPy path
    assert np_(layer((ops.convert_to_tensor(a), ops.convert_to_tensor(b))))[:, 0].tolist() == expected  # tensors
    ia, ib = lamina.Input((1,), dtype="int64"), lamina.Input((1,), dtype="int64")
    model = lamina.Model([ia, ib], layers.HashedCrossing(num_bins=7, output_mode="one_hot")([ia, ib]))
    out = model.predict([a, b], verbose=0)  # compiled predict step (jit on JAX)
    np.testing.assert_array_equal(out, one_hot([e % 7 for e in [ref_cross((x, y), 1 << 64) for x, y in
                                                                 zip(a[:, 0], b[:, 0])]], 7))


def test_hashing_on_a_string_input_runs_on_the_host():
    inp = lamina.Input((1,), dtype="string")
    model = lamina.Model(inp, layers.Hashing(num_bins=5, output_mode="one_hot")(inp))
    words = np.array([["a"], ["bb"], ["a"], ["zz"]])
    np.testing.assert_array_equal(model.predict(words, verbose=0), one_hot([ref_hash(w) % 5 for w in words[:, 0]], 5))
