"""``text_dataset_from_directory``: a dataset of ``(texts, labels)`` batches from a folder of ``.txt`` files."""

import numpy as np

from lamina.utils.directory_dataset import make_datasets

TEXT_FORMATS = (".txt",)


def _text_loader(max_length):
    def load(path):
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        return text if max_length is None else text[:max_length]
    return load


def _collate_texts(texts):
    out = np.empty(len(texts), dtype=object)
    out[:] = texts
    return out


def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                max_length=None, shuffle=True, seed=None, validation_split=None, subset=None,
                                follow_links=False, format=None, verbose=True):
    """Batches of texts (and labels) from ``directory``, which holds one sub-folder of ``.txt`` files per class.

    ::

        main_directory/
            class_a/  a_text_1.txt  a_text_2.txt
            class_b/  b_text_1.txt  b_text_2.txt

    Returns a ``PyDataset`` (a ``FileDataset``) whose item ``i`` is ``(texts, labels)``: ``texts`` is a NumPy
    object array of Python ``str`` of shape ``(batch,)`` (files are decoded as UTF-8, invalid bytes replaced),
    ``labels`` follows ``label_mode``: ``"int"`` gives int32 ``(batch,)``, ``"categorical"`` float32 one-hot
    ``(batch, num_classes)``, ``"binary"`` float32 ``(batch, 1)`` (exactly 2 classes), None no labels (items
    are the texts alone). Files are read when a batch is requested. The dataset has ``class_names`` and
    ``file_paths`` attributes and ``map(fn)`` / ``cache()`` / ``take(n)``; ``fit`` consumes it directly,
    e.g. after ``ds.map(lambda x, y: (vectorize_layer(x), y))``.

    Args:
        directory: the folder. With ``labels="inferred"`` its sub-folders (alphanumeric order) are the classes
            and their files are searched recursively; otherwise the whole tree is listed.
        labels: ``"inferred"``, None (no labels) or a list of int labels, one per file in sorted path order.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or None.
        class_names: with ``labels="inferred"``, the sub-folders to use, in label order.
        batch_size: samples per batch (None: single samples).
        max_length: keep at most this many characters of each text (Keras counts bytes; lamina counts
            characters, so a multi-byte character is never cut).
        shuffle: shuffle the files (with ``seed``) and reshuffle the batches every epoch.
        seed: the shuffling seed; needed with ``validation_split`` and ``shuffle``.
        validation_split: the fraction of the files kept for validation (the last files of the shuffled list,
            so calls with the same seed give disjoint and complete subsets).
        subset: ``"training"``, ``"validation"`` or ``"both"`` (returns the pair).
        follow_links: follow symbolic links to folders.
        format: accepted for Keras compatibility and ignored (the result is always a lamina ``PyDataset``).
        verbose: print ``Found N files belonging to K classes.`` (and the subset sizes).

    Example:
    >>> import os, tempfile, lamina
    >>> root = tempfile.mkdtemp()
    >>> for cls, words in (("neg", ["bad", "awful"]), ("pos", ["good"])):
    ...     os.makedirs(os.path.join(root, cls))
    ...     for i, w in enumerate(words):
    ...         with open(os.path.join(root, cls, f"{i}.txt"), "w") as f:
    ...             _ = f.write(w)
    >>> ds = lamina.utils.text_dataset_from_directory(root, batch_size=8, shuffle=False)
    Found 3 files belonging to 2 classes.
    >>> texts, labels = ds[0]
    >>> ds.class_names, texts.tolist(), labels.tolist()
    (['neg', 'pos'], ['bad', 'awful', 'good'], [0, 0, 1])
    """
    who = "text_dataset_from_directory"
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer))
                                   or max_length < 1):
        raise ValueError(f"{who}: `max_length` must be a positive int or None, but received max_length={max_length!r}.")
    return make_datasets(who, directory, labels, label_mode, class_names, TEXT_FORMATS, "text files", batch_size,
                         shuffle, seed, validation_split, subset, follow_links, verbose, _text_loader(max_length),
                         _collate_texts)
