"""text_dataset_from_directory / image_dataset_from_directory on small folders written by the tests."""

import os

import numpy as np
import pytest

import lamina


def write_texts(root, spec):
    """spec: {class_name: [text, ...]}; files are named 000.txt, 001.txt, ... in each class folder."""
    for cls, texts in spec.items():
        folder = os.path.join(root, cls)
        os.makedirs(folder, exist_ok=True)
        for i, text in enumerate(texts):
            with open(os.path.join(folder, f"{i:03d}.txt"), "w", encoding="utf-8") as f:
                f.write(text)


def write_images(root, spec, size=(6, 8)):
    """spec: {class_name: count}; image k of class c is a flat RGB colour (10 * c_index + k)."""
    from PIL import Image

    for ci, (cls, count) in enumerate(spec.items()):
        folder = os.path.join(root, cls)
        os.makedirs(folder, exist_ok=True)
        for k in range(count):
            value = 10 * ci + k
            arr = np.full(size + (3,), value, dtype="uint8")
            ext = ("png", "bmp", "gif")[k % 3]
            Image.fromarray(arr, "RGB").save(os.path.join(folder, f"img{k}.{ext}"))


@pytest.fixture
def text_dir(tmp_path):
    root = str(tmp_path / "texts")
    write_texts(root, {"neg": [f"bad {i}" for i in range(7)], "pos": [f"good {i}" for i in range(5)]})
    with open(os.path.join(root, "neg", "notes.md"), "w") as f:  # not a .txt file: ignored
        f.write("ignored")
    os.makedirs(os.path.join(root, ".hidden"))  # hidden folders are not classes
    return root


def all_samples(ds):
    xs, ys = [], []
    for x, y in ds:
        xs.extend(np.asarray(x).tolist())
        ys.extend(np.asarray(y).tolist())
    return xs, ys


def test_text_dataset_counts_labels_and_message(text_dir, capsys):
    ds = lamina.utils.text_dataset_from_directory(text_dir, batch_size=5, shuffle=False)
    assert capsys.readouterr().out.strip() == "Found 12 files belonging to 2 classes."
    assert ds.class_names == ["neg", "pos"]
    assert len(ds) == 3 and len(ds.file_paths) == 12
    x, y = ds[0]
    assert x.shape == (5,) and isinstance(x[0], str) and y.dtype == np.int32
    texts, labels = all_samples(ds)
    assert texts == [f"bad {i}" for i in range(7)] + [f"good {i}" for i in range(5)]
    assert labels == [0] * 7 + [1] * 5
    assert isinstance(lamina.preprocessing.text_dataset_from_directory(text_dir, verbose=False),
                      lamina.utils.PyDataset)


def test_text_dataset_shuffle_is_seeded_and_complete(text_dir):
    a = lamina.utils.text_dataset_from_directory(text_dir, batch_size=4, seed=3, verbose=False)
    b = lamina.utils.text_dataset_from_directory(text_dir, batch_size=4, seed=3, verbose=False)
    texts_a, labels_a = all_samples(a)
    assert texts_a == all_samples(b)[0]
    assert sorted(texts_a) == sorted([f"bad {i}" for i in range(7)] + [f"good {i}" for i in range(5)])
    assert texts_a != [f"bad {i}" for i in range(7)] + [f"good {i}" for i in range(5)]
    assert all(lab == (t.startswith("good")) for t, lab in zip(texts_a, labels_a))  # labels follow their texts
    a.on_epoch_end()  # reshuffles for the next epoch, same samples
    assert sorted(all_samples(a)[0]) == sorted(texts_a)


def test_text_dataset_label_modes_and_max_length(text_dir):
    cat = lamina.utils.text_dataset_from_directory(text_dir, label_mode="categorical", shuffle=False,
                                                   verbose=False)
    x, y = cat[0]
    assert y.dtype == np.float32 and y.shape == (12, 2)
    np.testing.assert_array_equal(y.argmax(1), [0] * 7 + [1] * 5)
    binary = lamina.utils.text_dataset_from_directory(text_dir, label_mode="binary", shuffle=False,
                                                      max_length=3, verbose=False)
    x, y = binary[0]
    assert y.shape == (12, 1) and y.dtype == np.float32 and x[0] == "bad" and x[-1] == "goo"
    only_x = lamina.utils.text_dataset_from_directory(text_dir, label_mode=None, shuffle=False, verbose=False)
    assert isinstance(only_x[0], np.ndarray) and only_x[0].shape == (12,)
    unbatched = lamina.utils.text_dataset_from_directory(text_dir, batch_size=None, shuffle=False, verbose=False)
    assert len(unbatched) == 12 and unbatched[8] == ("good 1", 1)


def test_text_dataset_class_names_and_explicit_labels(text_dir, capsys):
    flipped = lamina.utils.text_dataset_from_directory(text_dir, class_names=["pos", "neg"], shuffle=False,
                                                       verbose=False)
    texts, labels = all_samples(flipped)
    assert flipped.class_names == ["pos", "neg"] and texts[0] == "good 0" and labels[:5] == [0] * 5
    only_pos = lamina.utils.text_dataset_from_directory(text_dir, class_names=["pos"], verbose=False)
    assert len(all_samples(only_pos)[0]) == 5
    explicit = lamina.utils.text_dataset_from_directory(text_dir, labels=list(range(12)), shuffle=False)
    assert capsys.readouterr().out.strip() == "Found 12 files."
    assert all_samples(explicit)[1] == list(range(12))
    with pytest.raises(ValueError, match="len\\(labels\\)=3 while 12 text files"):
        lamina.utils.text_dataset_from_directory(text_dir, labels=[0, 1, 0], verbose=False)
    with pytest.raises(ValueError, match="Expected \\['neg', 'pos'\\] \\(or a subset of it\\)"):
        lamina.utils.text_dataset_from_directory(text_dir, class_names=["neg", "other"], verbose=False)


def test_text_dataset_validation_split_disjoint_and_complete(text_dir, capsys):
    train, val = lamina.utils.text_dataset_from_directory(text_dir, validation_split=0.25, subset="both",
                                                          seed=11, batch_size=3)
    out = capsys.readouterr().out
    assert "Using 9 files for training." in out and "Using 3 files for validation." in out
    t_train, t_val = all_samples(train)[0], all_samples(val)[0]
    assert len(t_train) == 9 and len(t_val) == 3 and not set(t_train) & set(t_val)
    assert len(set(t_train) | set(t_val)) == 12
    # Separate calls with the same seed give the same split.
    again = lamina.utils.text_dataset_from_directory(text_dir, validation_split=0.25, subset="validation",
                                                     seed=11, verbose=False)
    assert sorted(all_samples(again)[0]) == sorted(t_val)
    other_seed = lamina.utils.text_dataset_from_directory(text_dir, validation_split=0.25, subset="validation",
                                                          seed=12, verbose=False)
    assert len(all_samples(other_seed)[0]) == 3


def test_directory_dataset_errors(tmp_path, text_dir):
    f = lamina.utils.text_dataset_from_directory
    with pytest.raises(ValueError, match="does not exist"):
        f(str(tmp_path / "missing"))
    empty = tmp_path / "empty" / "a"
    empty.mkdir(parents=True)
    with pytest.raises(ValueError, match="no text files found"):
        f(str(tmp_path / "empty"), verbose=False)
    with pytest.raises(ValueError, match="pass a `seed`"):
        f(text_dir, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="needs `subset`"):
        f(text_dir, validation_split=0.2, seed=1)
    with pytest.raises(ValueError, match="needs `validation_split`"):
        f(text_dir, subset="training")
    with pytest.raises(ValueError, match="`validation_split` must be a float between 0 and 1"):
        f(text_dir, validation_split=1.5, subset="training", seed=1)
    with pytest.raises(ValueError, match="`subset` must be"):
        f(text_dir, validation_split=0.2, subset="train", seed=1)
    with pytest.raises(ValueError, match="`label_mode` must be one of"):
        f(text_dir, label_mode="sparse")
    with pytest.raises(ValueError, match="`labels` must be 'inferred', None, or a list"):
        f(text_dir, labels="folders")
    with pytest.raises(ValueError, match="`class_names` can only be passed with labels='inferred'"):
        f(text_dir, labels=None, class_names=["a"])
    with pytest.raises(ValueError, match="`batch_size` must be a positive int"):
        f(text_dir, batch_size=0)
    with pytest.raises(ValueError, match="`max_length` must be a positive int"):
        f(text_dir, max_length=-1)
    write_texts(str(tmp_path / "three"), {"a": ["x"], "b": ["y"], "c": ["z"]})
    with pytest.raises(ValueError, match="label_mode='binary' needs exactly 2 classes, but found 3"):
        f(str(tmp_path / "three"), label_mode="binary", verbose=False)


def test_map_cache_take(text_dir):
    ds = lamina.utils.text_dataset_from_directory(text_dir, batch_size=4, shuffle=False, verbose=False)
    mapped = ds.map(lambda x, y: (np.array([len(t) for t in x]), y * 10))
    assert isinstance(mapped, lamina.utils.PyDataset) and mapped.class_names == ["neg", "pos"]
    lengths, ys = mapped[2]
    assert lengths.tolist() == [6, 6, 6, 6] and ys.tolist() == [10, 10, 10, 10]
    assert len(ds.map(lambda x, y: x).take(2)) == 2
    calls = []
    cached = ds.map(lambda x, y: (calls.append(1) or x, y)).cache()
    for _ in range(2):
        list(cached)
    assert len(calls) == len(ds)  # computed once per batch
    with pytest.raises(TypeError, match="expected a callable"):
        ds.map("not callable")


def test_image_dataset_shapes_dtypes_labels(tmp_path, capsys):
    root = str(tmp_path / "imgs")
    write_images(root, {"cats": 4, "dogs": 3})
    ds = lamina.utils.image_dataset_from_directory(root, image_size=(5, 7), batch_size=4, shuffle=False)
    assert capsys.readouterr().out.strip() == "Found 7 files belonging to 2 classes."
    assert ds.class_names == ["cats", "dogs"] and len(ds) == 2
    x, y = ds[0]
    assert x.shape == (4, 5, 7, 3) and x.dtype == np.float32 and y.dtype == np.int32
    # Flat-colour images survive resizing; class order then path order (img0.png, img1.bmp, img2.gif, ...).
    np.testing.assert_allclose(x[:, 0, 0, 0], [0, 1, 2, 3])
    x2, y2 = ds[1]
    np.testing.assert_allclose(x2[:, 2, 3, 1], [10, 11, 12])
    assert y.tolist() + y2.tolist() == [0, 0, 0, 0, 1, 1, 1]
    gray = lamina.utils.image_dataset_from_directory(root, image_size=(3, 3), color_mode="grayscale",
                                                     label_mode="categorical", verbose=False, seed=1)
    gx, gy = gray[0]
    assert gx.shape == (7, 3, 3, 1) and gy.shape == (7, 2)
    rgba = lamina.utils.image_dataset_from_directory(root, image_size=(3, 3), color_mode="rgba",
                                                     data_format="channels_first", verbose=False, seed=1)
    assert rgba[0][0].shape == (7, 4, 3, 3)
    np.testing.assert_allclose(rgba[0][0][:, 3], 255.0)


def test_image_dataset_split_and_aspect_ratio(tmp_path):
    root = str(tmp_path / "imgs")
    write_images(root, {"a": 6, "b": 6}, size=(4, 8))
    train, val = lamina.preprocessing.image_dataset_from_directory(
        root, image_size=(4, 4), validation_split=0.25, subset="both", seed=5, batch_size=5, verbose=False)
    assert sorted(train.file_paths + val.file_paths) == sorted(
        os.path.join(root, c, f) for c in ("a", "b") for f in os.listdir(os.path.join(root, c)))
    assert len(val.file_paths) == 3 and not set(train.file_paths) & set(val.file_paths)
    # pad_to_aspect_ratio: a 4x8 white image padded to 8x8 with black rows above and below.
    white = str(tmp_path / "white" / "w")
    os.makedirs(white)
    from PIL import Image

    Image.fromarray(np.full((4, 8, 3), 255, "uint8")).save(os.path.join(white, "w.png"))
    padded = lamina.utils.image_dataset_from_directory(os.path.dirname(white), image_size=(8, 8),
                                                       pad_to_aspect_ratio=True, interpolation="nearest",
                                                       verbose=False, shuffle=False)[0][0][0]
    np.testing.assert_array_equal(padded[:, 0, 0], [0, 0, 255, 255, 255, 255, 0, 0])
    cropped = lamina.utils.image_dataset_from_directory(os.path.dirname(white), image_size=(2, 2),
                                                        crop_to_aspect_ratio=True, verbose=False)[0][0][0]
    np.testing.assert_allclose(cropped, 255.0)
    with pytest.raises(ValueError, match="only one of crop_to_aspect_ratio and pad_to_aspect_ratio"):
        lamina.utils.image_dataset_from_directory(root, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="`image_size` must be a tuple of two positive ints"):
        lamina.utils.image_dataset_from_directory(root, image_size=64)
    with pytest.raises(ValueError, match="`interpolation` must be one of"):
        lamina.utils.image_dataset_from_directory(root, interpolation="hamming")
    with pytest.raises(ValueError, match="`color_mode` must be one of"):
        lamina.utils.image_dataset_from_directory(root, color_mode="cmyk")
    os.makedirs(str(tmp_path / "noimg" / "c"))
    with pytest.raises(ValueError, match="no images found"):
        lamina.utils.image_dataset_from_directory(str(tmp_path / "noimg"), verbose=False)


def test_fit_on_text_and_image_directory_datasets(tmp_path):
    root = str(tmp_path / "texts")
    rng = np.random.default_rng(0)
    write_texts(root, {"neg": [" ".join(rng.choice(["awful", "hate", "the", "film"], 5)) + " bad"
                               for _ in range(40)],
                       "pos": [" ".join(rng.choice(["great", "love", "the", "film"], 5)) + " good"
                               for _ in range(40)]})
    train, val = lamina.utils.text_dataset_from_directory(root, batch_size=8, validation_split=0.25,
                                                          subset="both", seed=7, verbose=False)
    vectorize = lamina.layers.TextVectorization(output_mode="multi_hot")
    vectorize.adapt(train.map(lambda x, y: x))
    model = lamina.Sequential([lamina.Input((vectorize.vocabulary_size(),)),
                               lamina.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=lamina.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(train.map(lambda x, y: (vectorize(x), y)), epochs=6, verbose=0,
                        validation_data=val.map(lambda x, y: (vectorize(x), y)))
    assert history.history["val_accuracy"][-1] == 1.0

    images = str(tmp_path / "imgs")
    write_images(images, {"dark": 8, "light": 0})
    for k in range(8):  # light images: values 200+
        from PIL import Image

        Image.fromarray(np.full((6, 8, 3), 200 + k, "uint8")).save(os.path.join(images, "light", f"l{k}.png"))
    ds = lamina.utils.image_dataset_from_directory(images, image_size=(4, 4), batch_size=4, seed=2,
                                                   verbose=False)
    model = lamina.Sequential([lamina.Input((4, 4, 3)), lamina.layers.Rescaling(1 / 255.0),
                               lamina.layers.GlobalAveragePooling2D(), lamina.layers.Dense(2)])
    model.compile(optimizer=lamina.optimizers.Adam(0.1),
                  loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(ds, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
