"""Keras 2-era training forms: fit_generator/evaluate_generator/predict_generator and the workers /
use_multiprocessing / max_queue_size arguments (Keras 3 removed them; lamina runs them with a warning)."""

import numpy as np
import pytest

import lamina

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-1.0], [0.5]], "float32")).astype("float32")


class Batches(lamina.utils.PyDataset):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return X[i * 8:(i + 1) * 8], Y[i * 8:(i + 1) * 8]


def _model():
    lamina.utils.set_random_seed(1)
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1)])
    model.compile(optimizer=lamina.optimizers.SGD(0.1), loss="mse")
    return model


def _generator():
    while True:
        for i in range(4):
            yield X[i * 8:(i + 1) * 8], Y[i * 8:(i + 1) * 8]


def test_generator_methods_are_fit_evaluate_predict():
    reference = _model()
    ref_history = reference.fit(Batches(), epochs=3, verbose=0, shuffle=False)
    model = _model()
    with pytest.warns(DeprecationWarning, match="Model.fit_generator is the Keras 2-era name; use Model.fit"):
        history = model.fit_generator(_generator(), steps_per_epoch=4, epochs=3, verbose=0)
    np.testing.assert_allclose(history.history["loss"], ref_history.history["loss"], rtol=1e-5)
    with pytest.warns(DeprecationWarning, match="evaluate_generator"):
        loss = model.evaluate_generator(_generator(), steps=4)
    assert loss == pytest.approx(reference.evaluate(Batches(), verbose=0), rel=1e-5)
    with pytest.warns(DeprecationWarning, match="predict_generator"):
        out = model.predict_generator(Batches(), steps=4)
    np.testing.assert_allclose(out, reference.predict(X, verbose=0), rtol=1e-5, atol=1e-6)


def test_reading_arguments_are_set_on_a_pydataset():
    model = _model()
    data = Batches()
    with pytest.warns(DeprecationWarning, match=r"fit\(workers=2, use_multiprocessing=False, max_queue_size=4\)"):
        model.fit(data, epochs=1, verbose=0, workers=2, use_multiprocessing=False, max_queue_size=4)
    assert (data.workers, data.use_multiprocessing, data.max_queue_size) == (2, False, 4)
    with pytest.warns(DeprecationWarning, match="the ndarray given is read without them"):
        model.predict(X, verbose=0, workers=3)
    with pytest.warns(DeprecationWarning):
        with pytest.raises(ValueError, match="evaluate: workers must be a positive int, but received workers=0"):
            model.evaluate(Batches(), verbose=0, workers=0)


def test_keras2_save_forms_round_trip(tmp_path):
    model = _model()
    model.fit(X, Y, epochs=1, verbose=0)
    expected = model.predict(X[:4], verbose=0)
    with pytest.warns(DeprecationWarning, match="Keras 2 wrote a TensorFlow SavedModel folder here"):
        model.save(tmp_path / "my_model")  # Keras 2's default: a folder
    assert (tmp_path / "my_model" / "model.keras").is_file()
    np.testing.assert_allclose(lamina.models.load_model(tmp_path / "my_model").predict(X[:4], verbose=0), expected,
                               rtol=1e-6)
    with pytest.warns(DeprecationWarning, match="save_format='h5'"):
        model.save(tmp_path / "weights_file", save_format="h5")  # Keras 2: HDF5 whatever the name
    np.testing.assert_allclose(lamina.models.load_model(tmp_path / "weights_file").predict(X[:4], verbose=0),
                               expected, rtol=1e-6)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="it is a folder without a 'model.keras'"):
        lamina.models.load_model(tmp_path / "empty")
    with pytest.raises(ValueError, match="save_format must be 'keras', 'h5' or \\(Keras 2\\) 'tf'"):
        model.save(tmp_path / "m.keras", save_format="onnx")
    with pytest.raises(ValueError, match="unsupported file name"):
        model.save(tmp_path / "m.txt")
