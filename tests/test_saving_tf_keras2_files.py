"""Files written by tf.keras 2 itself (TensorFlow 2.21 + tf_keras, tests/fixtures_tf_keras2/make_fixtures.py):
a Conv1D-BatchNormalization-Dense model trained 3 steps with Adam, in both optimizer layouts tf.keras 2
wrote. lamina loads each with its optimizer state, predicts what tf.keras predicted, and one more training
step lands on the weights tf.keras's next step gave."""

import pathlib
import warnings

import numpy as np
import pytest

import lamina

HERE = pathlib.Path(__file__).parent / "fixtures_tf_keras2"
EXPECTED = np.load(HERE / "expected.npz")


@pytest.mark.parametrize("name", ["adam", "legacy_adam"])
def test_tf_keras2_file_predicts_and_training_continues_as_in_tf_keras(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "optimizer state was not loaded" warning
        model = lamina.models.load_model(HERE / f"{name}.h5")
    x, y = EXPECTED[f"{name}_x"], EXPECTED[f"{name}_y"]
    np.testing.assert_allclose(model.predict(x, verbose=0), EXPECTED[f"{name}_pred"], rtol=1e-5, atol=1e-6)
    assert type(model.optimizer).__name__ == "Adam"
    assert int(lamina.ops.convert_to_numpy(model.optimizer.iterations)) == int(EXPECTED[f"{name}_iterations"])
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    after = model.get_weights()
    want = [EXPECTED[f"{name}_after_{i}"] for i in range(len(after))]
    assert [w.shape for w in after] == [w.shape for w in want]
    for got, exp in zip(after, want):
        np.testing.assert_allclose(got, exp, rtol=1e-4, atol=1e-6)
