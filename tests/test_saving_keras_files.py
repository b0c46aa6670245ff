"""Files written by Keras 3 and tf.keras 2 load in lamina (fixtures follow their exact layouts)."""

import json
import zipfile

import h5py
import numpy as np
import pytest
from saving_fixtures import (keras3_config, reference_predict, reference_weights, write_keras2_h5,
                             write_keras3_file)

import lamina


def _x():
    return np.random.default_rng(1).random((5, 4, 3)).astype("float32")


def test_keras3_file_loads_with_same_predictions_and_optimizer_state(tmp_path):
    weights, slots = reference_weights()
    write_keras3_file(tmp_path / "k.keras", weights, slots)
    model = lamina.models.load_model(tmp_path / "k.keras")
    assert [l.name for l in model.layers] == ["flatten", "dense", "dropout", "dense_1", "activation"]
    np.testing.assert_allclose(model.predict(_x(), verbose=0), reference_predict(weights, _x()), rtol=1e-5)
    opt = model.optimizer
    assert type(opt).__name__ == "Adam" and int(opt.iterations.numpy()) == 7
    # Keras interleaves Adam's slots per variable; lamina keeps them by slot kind.
    by_name = {v.name: np.asarray(v.numpy()) for v in opt.variables}
    for (shape, m, v), ref in zip(slots, ["dense_kernel", "dense_bias", "dense_1_kernel", "dense_1_bias"]):
        np.testing.assert_array_equal(by_name[f"adam/{ref}_momentum"], m)
        np.testing.assert_array_equal(by_name[f"adam/{ref}_velocity"], v)
    model.fit(_x(), np.array([0, 1, 2, 0, 1]), epochs=1, verbose=0)
    assert int(opt.iterations.numpy()) == 8


def test_lamina_file_uses_keras_layout(tmp_path):
    weights, slots = reference_weights()
    write_keras3_file(tmp_path / "k.keras", weights, slots)
    lamina.models.load_model(tmp_path / "k.keras").save(tmp_path / "l.keras") if hasattr(lamina.Model, "save") \
        else lamina.saving.save_model(lamina.models.load_model(tmp_path / "k.keras"), tmp_path / "l.keras")
    with zipfile.ZipFile(tmp_path / "l.keras") as zf:
        assert {"metadata.json", "config.json", "model.weights.h5"} == set(zf.namelist())
        config = json.loads(zf.read("config.json"))
        with h5py.File(zf.open("model.weights.h5"), "r") as f:
            np.testing.assert_array_equal(f["layers/dense/vars/0"][()], weights["dense"][0])
            np.testing.assert_array_equal(f["optimizer/vars/3"][()], slots[0][2])  # velocity of dense/kernel
    assert config["module"] == "keras" and config["config"]["layers"][2]["module"] == "keras.layers"
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"


def test_keras3_weights_file_loads(tmp_path):
    from saving_fixtures import keras3_weights_h5

    weights, slots = reference_weights()
    (tmp_path / "k.weights.h5").write_bytes(keras3_weights_h5(weights, slots))
    write_keras3_file(tmp_path / "k.keras", *reference_weights(seed=5))
    model = lamina.models.load_model(tmp_path / "k.keras")
    model.load_weights(tmp_path / "k.weights.h5") if hasattr(model, "load_weights") else \
        lamina.saving.load_weights(model, tmp_path / "k.weights.h5")
    np.testing.assert_allclose(model.predict(_x(), verbose=0), reference_predict(weights, _x()), rtol=1e-5)


def test_keras_setting_lamina_lacks_is_named(tmp_path):
    config = keras3_config()
    config["config"]["layers"][2]["config"]["quantization_config"] = {"mode": "int8"}
    write_keras3_file(tmp_path / "q.keras", *reference_weights(), config=config)
    with pytest.raises(ValueError, match=r"q\.keras.*'quantization_config'"):
        lamina.models.load_model(tmp_path / "q.keras")


def test_tf_keras2_h5_file_loads(tmp_path):
    weights, _ = reference_weights()
    weights = {k: list(v) for k, v in weights.items()}
    write_keras2_h5(tmp_path / "old.h5", weights)
    model = lamina.models.load_model(tmp_path / "old.h5")
    x = _x()
    np.testing.assert_allclose(model.predict(x, verbose=0), reference_predict(weights, x), rtol=1e-5)
    assert model.compiled and type(model.optimizer).__name__ == "Adam"
    assert model.evaluate(x, np.array([0, 1, 2, 0, 1]), verbose=0, return_dict=True).keys() >= {"loss"}
