"""``lamina.saving.KerasFileEditor``: reading ``.keras`` / ``.weights.h5`` files (lamina's and Keras 3's), the
edits, ``compare`` against a model, and resaving a file that ``load_weights`` reads."""

import os

import h5py
import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.saving import KerasFileEditor

HERE = os.path.dirname(__file__)


def _old_model():
    return lamina.Sequential([lamina.Input((3,)), layers.Dense(4, name="a"), layers.BatchNormalization(),
                              layers.Dropout(0.2), layers.Dense(2, name="b")])


def _new_model():
    return lamina.Sequential([lamina.Input((3,)), layers.Dense(4), layers.Dropout(0.2), layers.Dense(2),
                              layers.Dense(5)])


def test_reads_a_keras_archive_with_the_models_weights(tmp_path):
    model = _old_model()
    model.save(tmp_path / "m.keras")
    editor = KerasFileEditor(tmp_path / "m.keras")
    tree = editor.weights_dict["layers"]
    assert sorted(tree) == ["batch_normalization", "dense", "dense_1"]  # Dropout has no weights
    np.testing.assert_array_equal(tree["dense"]["0"], model.layers[0].kernel.numpy())
    np.testing.assert_array_equal(tree["batch_normalization"]["3"], model.layers[1].moving_variance.numpy())
    assert editor.config["class_name"] == "Sequential" and "lamina_version" in editor.metadata
    assert editor.compare(model, verbose=False) == {"status": "success", "error_count": 0, "match_count": 8}


def test_edit_an_old_checkpoint_for_a_changed_architecture(tmp_path):
    old = _old_model()
    old.save_weights(tmp_path / "old.weights.h5")
    new = _new_model()
    editor = KerasFileEditor(tmp_path / "old.weights.h5")
    before = editor.compare(new, verbose=False)
    assert before["status"] == "error" and before["error_count"] == 4 + 2  # BN's 4 extra, dense_2's 2 missing
    editor.delete_object("batch_normalization")
    extra = {"0": np.full((2, 5), 0.5, "float32"), "1": np.arange(5, dtype="float32")}
    editor.add_object("layers/dense_2", extra)
    assert editor.compare(new, verbose=False) == {"status": "success", "error_count": 0, "match_count": 6}
    editor.save(tmp_path / "new.weights.h5")
    new.load_weights(tmp_path / "new.weights.h5")
    np.testing.assert_array_equal(new.layers[0].kernel.numpy(), old.layers[0].kernel.numpy())
    np.testing.assert_array_equal(new.layers[2].kernel.numpy(), old.layers[3].kernel.numpy())
    np.testing.assert_array_equal(new.layers[3].kernel.numpy(), extra["0"])
    np.testing.assert_array_equal(new.layers[3].bias.numpy(), extra["1"])


def test_rename_delete_and_add_weights(tmp_path):
    _old_model().save_weights(tmp_path / "m.weights.h5")
    editor = KerasFileEditor(tmp_path / "m.weights.h5")
    editor.rename_object("layers/dense_1", "dense_7")
    assert sorted(editor.weights_dict["layers"]) == ["batch_normalization", "dense", "dense_7"]
    editor.delete_weight("dense_7", "1")
    assert list(editor.weights_dict["layers"]["dense_7"]) == ["0"]
    editor.add_weights("dense_7", {"1": np.ones(2, "float32")})
    np.testing.assert_array_equal(editor.weights_dict["layers"]["dense_7"]["1"], np.ones(2))
    editor.delete_weight("dense", "0")
    editor.delete_weight("dense", "1")
    assert "dense" not in editor.weights_dict["layers"]  # an object left empty goes
    editor.resave_weights(tmp_path / "out.weights.h5")
    with h5py.File(tmp_path / "out.weights.h5", "r") as f:
        assert sorted(f["layers"]) == ["batch_normalization", "dense_7"]
        assert sorted(f["layers/dense_7/vars"]) == ["0", "1"]


def test_reads_a_file_written_by_keras3():
    path = os.path.join(HERE, "fixtures_keras_ops", "residual_ops.keras")
    editor = KerasFileEditor(path)
    assert editor.metadata["keras_version"].startswith("3.")
    assert editor.weights_dict["layers"]["depthwise_conv2d"]["0"].shape == (3, 3, 4, 1)
    model = lamina.models.load_model(path)
    assert editor.compare(model, verbose=False)["status"] == "success"
    lines = []
    editor.summary(print_fn=lines.append)
    assert lines[0] == f"Keras model file '{path}'" and lines[1].startswith("Saved with Keras 3.")
    assert "      │   ├─ 0: shape=(4, 8), dtype=float32" in lines
    optimizer = [l for l in lines[lines.index("  > optimizer"):]]
    assert [l.split(":")[0].split("─ ")[1] for l in optimizer[1:4]] == ["0", "1", "2"]  # number order


def test_compare_reports_each_mismatch(tmp_path, capsys):
    _old_model().save_weights(tmp_path / "m.weights.h5")
    editor = KerasFileEditor(tmp_path / "m.weights.h5")
    other = lamina.Sequential([lamina.Input((3,)), layers.Dense(6), layers.BatchNormalization(),
                               layers.Dense(2)])
    result = editor.compare(other)
    out = capsys.readouterr().out
    assert result == {"status": "error", "error_count": 7, "match_count": 1}  # BN 4, dense 2, dense_1 kernel
    assert "Weight 'layers/dense/0' has shape (3, 4) in the saved file but (3, 6) in the reference model" in out
    assert "Found 7 error(s)" in out


def test_bad_usage_is_named(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2), lamina.Sequential([layers.Dense(2)])])
    model.save_weights(tmp_path / "m.weights.h5")
    editor = KerasFileEditor(tmp_path / "m.weights.h5")
    with pytest.raises(ValueError, match=r"delete_object: the name 'dense' is ambiguous; it ends the paths"):
        editor.delete_object("dense")
    with pytest.raises(ValueError, match=r"rename_object: no object 'nope' in the file"):
        editor.rename_object("nope", "x")
    with pytest.raises(ValueError, match=r"add_object: the file already has an object at 'layers/dense'"):
        editor.add_object("layers/dense", [np.zeros(2)])
    with pytest.raises(ValueError, match=r"delete_weight: object 'layers/dense' has no weight '7'"):
        editor.delete_weight("layers/dense", "7")
    with pytest.raises(ValueError, match=r"add_weights: object 'layers/dense' already has weights \['0'\]"):
        editor.add_weights("layers/dense", {"0": np.zeros(1)})
    with pytest.raises(ValueError, match=r"weight 'k' must hold numbers, but received dtype <U1"):
        editor.add_weights("layers/dense", {"k": np.array(["a"])})
    with pytest.raises(ValueError, match=r"save: filepath must end in '.weights.h5'"):
        editor.save(tmp_path / "x.h5")
    with pytest.raises(ValueError, match=r"filepath must be a '.keras' archive or a '.weights.h5' file"):
        KerasFileEditor(tmp_path / "m.txt")
    with pytest.raises(FileNotFoundError):
        KerasFileEditor(tmp_path / "missing.keras")
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"Cannot load .*junk.keras.*not a zip archive"):
        KerasFileEditor(tmp_path / "junk.keras")
