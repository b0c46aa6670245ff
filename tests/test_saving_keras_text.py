"""A text model written by Keras 3 itself (TensorFlow backend; tests/fixtures_keras_text/make_fixtures.py):
Keras keeps adapted vocabularies (TextVectorization, StringLookup, IntegerLookup) in the archive's assets,
not in the config. lamina reads them there and predicts what Keras predicted."""

import pathlib

import numpy as np

import lamina

HERE = pathlib.Path(__file__).parent / "fixtures_keras_text"


def test_keras_text_model_loads_its_vocabularies_from_the_assets():
    exp = np.load(HERE / "expected.npz")
    model = lamina.models.load_model(HERE / "text.keras")
    by_class = {type(layer).__name__: layer for layer in model.layers}
    assert by_class["TextVectorization"].get_vocabulary() == exp["vec_vocab"].tolist()
    assert by_class["StringLookup"].get_vocabulary() == exp["words_vocab"].tolist()
    assert by_class["IntegerLookup"].get_vocabulary() == exp["codes_vocab"].tolist()
    pred = model.predict([exp["text"], exp["word"], exp["code"]], verbose=0)
    np.testing.assert_allclose(pred, exp["pred"], rtol=1e-5, atol=1e-6)


def test_lamina_files_keep_their_vocabularies_in_the_config(tmp_path):
    vec = lamina.layers.TextVectorization(max_tokens=10, output_sequence_length=3)
    vec.adapt(["a b c", "a b", "a"])
    inp = lamina.Input((), dtype="string")
    model = lamina.Model(inp, vec(inp))
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(np.array(["c a", "z"]), verbose=0),
                                  model.predict(np.array(["c a", "z"]), verbose=0))
