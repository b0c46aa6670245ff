"""String inputs in Functional models: ``Input(dtype="string")`` -> TextVectorization / StringLookup, run on the
host, then the numeric graph; fit / evaluate / predict on raw strings, save/load, and clear errors."""

import numpy as np
import pytest

import lamina
from lamina import layers

GOOD = ["good", "great", "fun", "nice", "superb"]
BAD = ["bad", "awful", "boring", "poor", "dull"]
FILL = ["the", "movie", "was", "a", "plot", "film"]


def _texts(n, seed=0):
    rng = np.random.RandomState(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = list(rng.choice(FILL, 3)) + list(rng.choice(GOOD if label else BAD, 2))
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + "!")
        labels.append(label)
    return np.array(texts)[:, None], np.array(labels, dtype="float32")[:, None]


def _text_model(texts):
    vectorize = layers.TextVectorization(max_tokens=30, output_sequence_length=6, name="vectorize")
    vectorize.adapt(texts)
    inp = lamina.Input(shape=(1,), dtype="string", name="text")
    x = layers.Embedding(30, 8, name="embed")(vectorize(inp))
    x = layers.GlobalAveragePooling1D()(x)
    out = layers.Dense(1, activation="sigmoid")(x)
    model = lamina.Model(inp, out)
    model.compile(optimizer=lamina.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def test_string_input_symbolic_graph():
    inp = lamina.Input(shape=(1,), dtype="string")
    assert inp.dtype == "string" and inp.shape == (None, 1)
    vectorize = layers.TextVectorization(output_sequence_length=4, vocabulary=["a", "b"])
    ids = vectorize(inp)
    assert ids.shape == (None, 4) and ids.dtype == "int64"
    multi_hot = layers.TextVectorization(output_mode="multi_hot")(inp)  # no vocabulary yet: width unknown
    assert multi_hot.shape == (None, None) and multi_hot.dtype == "float32"
    model = lamina.Model(inp, ids)
    assert model.input_shape == (None, 1) and model.output_shape == (None, 4)
    np.testing.assert_array_equal(lamina.ops.convert_to_numpy(model(np.array([["a b c"], ["b"]]))),
                                  [[2, 3, 1, 0], [3, 0, 0, 0]])
    # Numeric models keep the plain path.
    numeric = lamina.Model(a := lamina.Input((2,)), layers.Dense(1)(a))
    assert numeric._string_plan is None and numeric._run_steps is numeric._steps


def test_fit_predict_evaluate_save_load_on_raw_strings(tmp_path):
    texts, labels = _texts(64)
    model = _text_model(texts)
    history = model.fit(texts, labels, epochs=12, batch_size=16, verbose=0, validation_split=0.25)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert "val_loss" in history.history
    test_x, test_y = _texts(20, seed=1)
    loss, acc = model.evaluate(test_x, test_y, verbose=0)
    assert acc >= 0.9, (loss, acc)
    pred = model.predict(test_x, batch_size=8, verbose=0)
    assert pred.shape == (20, 1) and pred.dtype == np.float32
    # Eager calls on raw strings (a list of str, rank 1 or rank 2; bytes too) agree with predict.
    eager = lamina.ops.convert_to_numpy(model(test_x))
    np.testing.assert_allclose(eager, pred, rtol=1e-5, atol=1e-6)
    as_bytes = np.array([[t.encode()] for t in test_x[:, 0]], dtype=object)
    np.testing.assert_allclose(model.predict(as_bytes, verbose=0), pred, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(list(test_x[:, 0]), verbose=0), pred, rtol=1e-5, atol=1e-6)
    assert model.predict(np.array([["Great fun!"], ["Awful, boring."]]), verbose=0)[:, 0].round().tolist() == [1, 0]
    # save / load: the vocabulary travels in the file, the predictions are the same.
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = lamina.models.load_model(path)
    assert loaded.get_layer("vectorize").get_vocabulary() == model.get_layer("vectorize").get_vocabulary()
    assert loaded.inputs[0].dtype == "string"
    np.testing.assert_allclose(loaded.predict(test_x, verbose=0), pred, rtol=1e-5, atol=1e-6)
    # The loaded model trains further on raw strings.
    loaded.compile(optimizer="adam", loss="binary_crossentropy")
    assert np.isfinite(loaded.fit(texts, labels, epochs=1, verbose=0, validation_data=(test_x, test_y))
                       .history["val_loss"][0])


def test_on_batch_methods_take_raw_strings():
    texts, labels = _texts(16)
    model = _text_model(texts)
    first = model.train_on_batch(texts, labels)[0]
    for _ in range(5):
        last = model.train_on_batch(texts, labels)[0]
    assert last < first
    out = model.predict_on_batch(texts[:3])
    assert out.shape == (3, 1)
    assert np.isfinite(model.test_on_batch(texts, labels)[0])


def test_string_lookup_and_numeric_inputs_together(tmp_path):
    colours = lamina.Input(shape=(2,), dtype="string", name="colours")
    size = lamina.Input(shape=(1,), name="size")
    hot = layers.StringLookup(vocabulary=["red", "green", "blue"], output_mode="multi_hot", name="lookup")(colours)
    assert hot.shape == (None, 4) and hot.dtype == "float32"
    out = layers.Dense(1)(layers.Concatenate()([hot, size]))
    model = lamina.Model({"colours": colours, "size": size}, out)
    rng = np.random.RandomState(0)
    words = np.array(["red", "green", "blue", "pink"])[rng.randint(0, 4, (40, 2))]
    sizes = rng.rand(40, 1).astype("float32")
    target = (words == "red").any(1, keepdims=True) * 2.0 + sizes
    model.compile(optimizer=lamina.optimizers.Adam(0.1), loss="mse")
    hist = model.fit({"colours": words, "size": sizes}, target, epochs=20, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < 0.2 * hist.history["loss"][0]
    pred = model.predict({"colours": words, "size": sizes}, verbose=0)
    path = str(tmp_path / "lookup.keras")
    model.save(path)
    np.testing.assert_allclose(lamina.models.load_model(path).predict({"colours": words, "size": sizes}, verbose=0),
                               pred, rtol=1e-5, atol=1e-6)


def test_numbers_into_a_string_input_are_refused():
    texts, labels = _texts(8)
    model = _text_model(texts)
    with pytest.raises(ValueError, match=r"Model '.*': its input 'text' has dtype 'string' and expects strings.*float"):
        model.predict(np.ones((4, 1)), verbose=0)
    with pytest.raises(ValueError, match="expects strings"):
        model(np.ones((4, 1), "float32"))
    with pytest.raises(ValueError, match="expects strings"):
        model.fit(np.arange(8)[:, None], labels, verbose=0)
    with pytest.raises(ValueError, match=r"expected shape \(None, 1\).*\(1, 2, 2\)"):
        model.predict(np.array([[["a", "b"], ["c", "d"]]]), verbose=0)
    with pytest.raises(ValueError, match=r"TextVectorization\) expected strings of shape \(batch,\) or \(batch, 1\)"):
        model.predict(np.array([["a", "b"], ["c", "d"]]), verbose=0)


def test_string_input_misuse_is_refused_clearly():
    inp = lamina.Input(shape=(1,), dtype="string")
    with pytest.raises(ValueError, match="cannot take strings"):
        lamina.Model(inp, layers.Identity(name="ident")(inp))
    numeric = lamina.Input(shape=(1,))
    with pytest.raises(ValueError, match=r"TextVectorization\) received a symbolic tensor.*dtype=\"string\""):
        layers.TextVectorization()(numeric)
    with pytest.raises(ValueError, match="integer ids to turn into strings"):
        layers.StringLookup(vocabulary=["a"], invert=True)(lamina.Input(shape=(1,), dtype="int64"))
    model = _text_model(_texts(8)[0])
    with pytest.raises(ValueError, match=r"has string inputs.*cannot be called on the symbolic tensor"):
        model(lamina.Input(shape=(1,), dtype="string"))
    with pytest.raises(ValueError, match=r"Sequential model .* feeds the layer 'dense'.*cannot take strings"):
        lamina.Sequential([lamina.Input(shape=(1,), dtype="string"), layers.Dense(2, name="dense")])


def test_sequential_with_a_string_input(tmp_path):
    texts, labels = _texts(48)
    vectorize = layers.TextVectorization(max_tokens=30, output_mode="multi_hot", name="vectorize")
    vectorize.adapt(texts)
    model = lamina.Sequential([lamina.Input(shape=(1,), dtype="string"), vectorize,
                               layers.Dense(1, activation="sigmoid")])
    assert model.output_shape == (None, 1)
    model.compile(optimizer=lamina.optimizers.Adam(0.1), loss="binary_crossentropy")
    losses = model.fit(texts, labels, epochs=8, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    pred = model.predict(texts[:6], verbose=0)
    np.testing.assert_allclose(lamina.ops.convert_to_numpy(model(texts[:6, 0])), pred, rtol=1e-5, atol=1e-6)
    path = str(tmp_path / "seq.keras")
    model.save(path)
    loaded = lamina.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(texts[:6], verbose=0), pred, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="expects strings"):
        model.predict(np.zeros((2, 1)), verbose=0)


def test_datasets_and_generators_of_raw_strings(tmp_path):
    texts, labels = _texts(40)
    for i, (text, label) in enumerate(zip(texts[:, 0], labels[:, 0])):
        folder = tmp_path / "reviews" / ("pos" if label else "neg")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i}.txt").write_text(text)
    train = lamina.utils.text_dataset_from_directory(str(tmp_path / "reviews"), batch_size=8, seed=1, verbose=False)
    model = _text_model(texts)
    losses = model.fit(train, epochs=8, verbose=0, validation_data=train).history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert model.evaluate(train, verbose=0)[1] >= 0.9
    pred = model.predict(train, verbose=0)
    assert pred.shape == (40, 1)

    def generator():
        for start in range(0, 40, 10):
            yield texts[start:start + 10], labels[start:start + 10]

    np.testing.assert_allclose(model.predict((b[0] for b in generator()), verbose=0), model.predict(texts, verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert np.isfinite(model.fit(generator(), epochs=1, verbose=0).history["loss"][0])


def test_keras_export_pattern_sequential_of_vectorizer_and_trained_model(tmp_path):
    # Keras's text-classification tutorial: train on integer ids, then wrap the vectorizer and the model.
    texts, labels = _texts(48)
    vectorize = layers.TextVectorization(max_tokens=30, output_sequence_length=6)
    vectorize.adapt(texts)
    ids = lamina.Input(shape=(6,), dtype="int64")
    logits = layers.Dense(1)(layers.GlobalAveragePooling1D()(layers.Embedding(30, 8)(ids)))
    model = lamina.Model(ids, logits)
    model.compile(optimizer=lamina.optimizers.Adam(0.05), loss=lamina.losses.BinaryCrossentropy(from_logits=True))
    model.fit(vectorize(texts), labels, epochs=12, batch_size=16, verbose=0)
    export = lamina.Sequential([vectorize, model, layers.Activation("sigmoid")])
    assert export.input_shape == (None,)
    # An un-adapted vector-mode vectorizer has no output width yet: the model stays unbuilt (no error).
    assert not lamina.Sequential([layers.TextVectorization(output_mode="multi_hot"), layers.Dense(1)]).built
    export.compile(loss="binary_crossentropy", metrics=["accuracy"])
    assert export.evaluate(texts[:, 0], labels, verbose=0)[1] >= 0.9
    probs = export.predict(texts[:8], verbose=0)  # (batch, 1) strings are accepted too
    expected = 1 / (1 + np.exp(-model.predict(vectorize(texts[:8]), verbose=0)))
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
    path = str(tmp_path / "export.keras")
    export.save(path)
    np.testing.assert_allclose(lamina.models.load_model(path).predict(texts[:8, 0], verbose=0), probs,
                               rtol=1e-5, atol=1e-6)


def test_converting_text_to_a_tensor_says_how_to_pass_strings():
    with pytest.raises(ValueError, match=r"lamina has no string tensors: keep strings as NumPy arrays or lists"):
        lamina.ops.convert_to_tensor(["fixed"])
