"""load_weights(..., by_name=True) on a Keras 2 '.h5' file: tf.keras's transfer-learning form. Only the model's layers
whose names the file has are loaded; the others keep their weights (they were filled by position before)."""

import warnings

import numpy as np
import pytest

import lamina

L = lamina.layers


def _source(tmp_path):
    src = lamina.Sequential([lamina.Input((5,)), L.Dense(4, name="a"), L.Dense(3, name="b")])
    path = str(tmp_path / "old.h5")
    src.save(path)
    return src, path


def test_by_name_loads_the_layers_with_matching_names_only(tmp_path):
    src, path = _source(tmp_path)
    new = lamina.Sequential([lamina.Input((5,)), L.Dense(4, name="a"), L.Dense(3, name="new_head")])
    head_before = [w.copy() for w in new.get_layer("new_head").get_weights()]
    new.load_weights(path, by_name=True)
    for w, expected in zip(new.get_layer("a").get_weights(), src.get_layer("a").get_weights()):
        np.testing.assert_array_equal(w, expected)
    for w, before in zip(new.get_layer("new_head").get_weights(), head_before):
        np.testing.assert_array_equal(w, before)


def test_by_name_with_skip_mismatch_skips_shapes_that_differ(tmp_path):
    src, path = _source(tmp_path)
    i = lamina.Input((5,))
    h = L.Dense(4, name="a")(i)
    model = lamina.Model(i, [L.Dense(7, name="b")(h), L.Dense(2, name="extra")(h)])
    b_before = [w.copy() for w in model.get_layer("b").get_weights()]
    with pytest.raises(ValueError):
        model.load_weights(path, by_name=True)   # 'b' is (4, 7) here, (4, 3) in the file
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.load_weights(path, by_name=True, skip_mismatch=True)
    assert any("'b'" in str(w.message) for w in caught)
    np.testing.assert_array_equal(model.get_layer("a").get_weights()[0], src.get_layer("a").get_weights()[0])
    np.testing.assert_array_equal(model.get_layer("b").get_weights()[0], b_before[0])


def test_by_name_on_a_keras3_weights_file_is_refused(tmp_path):
    src, _ = _source(tmp_path)
    path = str(tmp_path / "w.weights.h5")
    src.save_weights(path)
    with pytest.raises(ValueError, match="by_name=True"):
        src.load_weights(path, by_name=True)
