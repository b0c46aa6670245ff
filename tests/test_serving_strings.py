"""Text models served and exported: a model that takes raw strings (Input(dtype="string") into
TextVectorization) answers TF Serving requests of strings, and export says clearly what it cannot do."""

import numpy as np
import pytest
from test_serving import http

import lamina
from lamina.serving import ServerThread, build_app


@pytest.fixture(scope="module")
def text_model(tmp_path_factory):
    lamina.utils.set_random_seed(2)
    vec = lamina.layers.TextVectorization(max_tokens=20, output_sequence_length=5)
    vec.adapt(["the cat sat", "the dog ran far", "a cat ran"])
    inp = lamina.Input((), dtype="string", name="text")
    x = lamina.layers.Embedding(20, 3)(vec(inp))
    out = lamina.layers.Dense(2, activation="softmax", name="p")(lamina.layers.GlobalAveragePooling1D()(x))
    model = lamina.Model(inp, out)
    path = str(tmp_path_factory.mktemp("text") / "text.keras")
    model.save(path)
    return lamina.models.load_model(path)


def test_string_requests_are_served_as_predict_answers(text_model):
    texts = ["the cat", "dog far away", "", "a cat ran"]
    want = text_model.predict(np.array(texts), verbose=0)
    app = build_app(text_model, model_name="text", max_batch_size=8, batch_timeout_ms=5)
    with ServerThread(app) as srv:
        status, meta = http(srv.url + "/v1/models/text/metadata")
        assert status == 200
        sig = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
        assert sig["inputs"]["text"]["dtype"] == "DT_STRING"
        status, body = http(srv.url + "/v1/models/text:predict", {"instances": texts[:3]})  # padded to 4 rows
        assert status == 200
        np.testing.assert_allclose(np.array(body["predictions"]), want[:3], rtol=1e-5, atol=1e-6)
        status, body = http(srv.url + "/v1/models/text:predict", {"inputs": {"text": texts}})
        assert status == 200
        np.testing.assert_allclose(np.array(body["outputs"]), want, rtol=1e-5, atol=1e-6)
        status, body = http(srv.url + "/v1/models/text:predict", {"instances": [1.5, 2.0]})
        assert status == 400 and "expected strings" in body["error"] and "numbers" in body["error"]


def test_export_of_a_text_model_names_the_string_input(text_model, tmp_path):
    with pytest.raises(ValueError, match=r"export.*'text'.*string.*TextVectorization|export.*string"):
        text_model.export(str(tmp_path / "out"), format="onnx")
