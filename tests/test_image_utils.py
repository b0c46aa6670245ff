"""load_img / img_to_array / array_to_img / save_img (Pillow), also under lamina.preprocessing.image."""

import io
import pathlib

import numpy as np
import pytest

import lamina
from lamina.preprocessing import image as legacy_image
from lamina.utils import array_to_img, img_to_array, load_img, save_img


def gradient(h=4, w=6):
    """An RGB uint8 image whose red channel encodes the column and green the row."""
    x = np.zeros((h, w, 3), "uint8")
    x[..., 0] = np.arange(w)[None, :] * 40
    x[..., 1] = np.arange(h)[:, None] * 60
    x[..., 2] = 7
    return x


def test_save_and_load_round_trip(tmp_path):
    path = str(tmp_path / "g.png")
    save_img(path, gradient(), scale=False)
    img = load_img(path)
    assert img.mode == "RGB" and img.size == (6, 4)
    arr = img_to_array(img)
    assert arr.dtype == np.float32 and arr.shape == (4, 6, 3)
    np.testing.assert_array_equal(arr, gradient().astype("float32"))
    # pathlib and an in-memory file give the same pixels
    np.testing.assert_array_equal(img_to_array(load_img(pathlib.Path(path))), arr)
    with open(path, "rb") as f:
        np.testing.assert_array_equal(img_to_array(load_img(io.BytesIO(f.read()))), arr)


def test_color_modes_and_target_size(tmp_path):
    path = str(tmp_path / "g.png")
    save_img(path, gradient(), scale=False)
    gray = load_img(path, color_mode="grayscale")
    assert gray.mode == "L" and img_to_array(gray).shape == (4, 6, 1)
    assert img_to_array(load_img(path, color_mode="rgba")).shape == (4, 6, 4)
    small = img_to_array(load_img(path, target_size=(2, 3)))  # nearest: every other row/column
    assert small.shape == (2, 3, 3)
    np.testing.assert_array_equal(small, gradient()[1::2, 1::2])  # nearest: the centre pixel of each 2x2 cell
    # keep_aspect_ratio: a 4x6 image to 2x2 keeps the central 4x4 square (columns 1..4)
    square = img_to_array(load_img(path, target_size=(2, 2), keep_aspect_ratio=True))
    np.testing.assert_array_equal(square[0, :, 0], [80, 160])
    bilinear = img_to_array(load_img(path, target_size=(4, 3), interpolation="bilinear"))
    assert bilinear.shape == (4, 3, 3)


def test_img_to_array_formats_and_dtype():
    img = array_to_img(gradient(), scale=False)
    first = img_to_array(img, data_format="channels_first", dtype="uint8")
    assert first.shape == (3, 4, 6) and first.dtype == np.uint8
    np.testing.assert_array_equal(first.transpose(1, 2, 0), gradient())


def test_array_to_img_scaling_and_channels():
    x = np.linspace(-1.0, 1.0, 12, dtype="float32").reshape(2, 2, 3)
    scaled = np.asarray(array_to_img(x))
    assert scaled.min() == 0 and scaled.max() == 255
    gray = array_to_img(np.full((2, 3, 1), 9.0), scale=False)
    assert gray.mode == "L" and np.asarray(gray).tolist() == [[9, 9, 9], [9, 9, 9]]
    assert array_to_img(np.full((2, 2, 1), 1000.0), scale=False).mode == "I"
    assert array_to_img(np.zeros((2, 2, 4))).mode == "RGBA"
    chw = array_to_img(gradient().transpose(2, 0, 1), data_format="channels_first", scale=False)
    np.testing.assert_array_equal(np.asarray(chw), gradient())
    with pytest.raises(ValueError, match="expected one image of rank 3.*\\(2, 2\\)"):
        array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="unsupported number of channels 2"):
        array_to_img(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="`data_format` must be"):
        array_to_img(np.zeros((2, 2, 3)), data_format="nhwc")


def test_save_img_jpeg_drops_alpha_with_warning(tmp_path):
    path = str(tmp_path / "a.jpg")
    with pytest.warns(UserWarning, match="JPEG has no alpha channel"):
        save_img(path, np.full((4, 4, 4), 200, "uint8"), scale=False)
    assert load_img(path).size == (4, 4)
    out = str(tmp_path / "b.bin")
    save_img(out, gradient(), file_format="png", scale=False)
    np.testing.assert_array_equal(img_to_array(load_img(out), dtype="uint8"), gradient())


def test_errors_and_legacy_path(tmp_path):
    with pytest.raises(ValueError, match="load_img: no file at"):
        load_img(str(tmp_path / "missing.png"))
    with pytest.raises(TypeError, match="`path` must be a file path"):
        load_img(123)
    path = str(tmp_path / "g.png")
    save_img(path, gradient(), scale=False)
    with pytest.raises(ValueError, match="`color_mode` must be one of"):
        load_img(path, color_mode="cmyk")
    with pytest.raises(ValueError, match="`interpolation` must be one of"):
        load_img(path, target_size=(2, 2), interpolation="cubic-ish")
    with pytest.raises(ValueError, match="`target_size` must be a tuple of two positive ints"):
        load_img(path, target_size=(0, 2))
    assert legacy_image.load_img is load_img and legacy_image.img_to_array is img_to_array
    assert legacy_image.array_to_img is array_to_img and legacy_image.save_img is save_img
    assert lamina.preprocessing.image is legacy_image
