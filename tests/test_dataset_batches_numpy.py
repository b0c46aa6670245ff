"""A Python loop over a dataset from a directory (or timeseries_dataset_from_array) gets batches with ``.numpy()``, as
the tutorials written against ``tf.data`` call it (``images[i].numpy().astype("uint8")``); they train as arrays."""

import os

import numpy as np
from PIL import Image

import lamina


def _image_dir(tmp_path):
    rng = np.random.RandomState(0)
    for c in ("cats", "dogs"):
        os.makedirs(tmp_path / c)
        for i in range(3):
            Image.fromarray((rng.rand(8, 8, 3) * 255).astype("uint8")).save(str(tmp_path / c / f"{i}.png"))
    return str(tmp_path)


def test_batches_of_a_python_loop_have_numpy(tmp_path):
    ds = lamina.utils.image_dataset_from_directory(_image_dir(tmp_path), image_size=(8, 8), batch_size=4,
                                                   shuffle=False)
    images, labels = next(iter(ds.take(1)))
    assert images[0].numpy().astype("uint8").shape == (8, 8, 3)
    assert type(images.numpy()) is np.ndarray
    assert labels[0].numpy() == 0 and ds.class_names[labels[0]] == "cats" and int(labels[3]) == 1
    model = lamina.Sequential([lamina.Input((8, 8, 3)), lamina.layers.Flatten(), lamina.layers.Dense(2)])
    model.compile(optimizer="sgd", loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert np.isfinite(model.train_on_batch(images, labels))
    np.testing.assert_allclose(model.predict(images, verbose=0), model.predict(images.numpy(), verbose=0))


def test_timeseries_batches_have_numpy():
    ds = lamina.utils.timeseries_dataset_from_array(np.arange(20, dtype="float32"), None, sequence_length=5,
                                                    batch_size=8)
    for batch in ds:
        assert batch.numpy().shape[1:] == (5,)


def test_a_list_of_labels_names_its_classes_as_keras(tmp_path):
    folder = _image_dir(tmp_path)
    ds = lamina.utils.image_dataset_from_directory(folder, labels=[0, 2, 0, 2, 0, 2], image_size=(8, 8),
                                                   label_mode="categorical", shuffle=False)
    assert ds.class_names == ["0", "2"]
    _, labels = next(iter(ds))
    assert labels.shape[1] == 3   # classes 0..2, as the labels say


def test_sixteen_bit_png_images_are_read_as_eight_bit_as_tensorflow(tmp_path):
    os.makedirs(tmp_path / "c")
    Image.fromarray(np.array([[60242, 50134], [1000, 65535]], np.uint16)).save(str(tmp_path / "c" / "g16.png"))
    for mode in ("grayscale", "rgb"):
        ds = lamina.utils.image_dataset_from_directory(str(tmp_path), image_size=(2, 2), color_mode=mode,
                                                       batch_size=None, verbose=False)
        x, _ = next(iter(ds))
        assert x[..., 0].ravel().tolist() == [235, 195, 3, 255]   # TensorFlow's decode_image (uint16 >> 8)
