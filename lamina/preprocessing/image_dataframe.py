"""Keras 2's ``DataFrameIterator``: batches of images listed in a dataframe (``flow_from_dataframe``)."""

import os
import warnings

import numpy as np

from lamina.preprocessing.image_iterators import Iterator, _BatchFromFiles, _check_format
from lamina.utils import io_utils


def _column(df, name, who):
    try:
        return list(df[name])
    except (KeyError, IndexError, TypeError):
        raise ValueError(f"{who}: the dataframe has no column {name!r}.") from None


class DataFrameIterator(_BatchFromFiles, Iterator):
    """Batches of images whose file names (and labels) are the columns of a dataframe (what
    ``ImageDataGenerator.flow_from_dataframe`` returns).

    ``dataframe`` is a ``pandas.DataFrame``, or any object where ``len(df)`` is the number of rows and
    ``df[column]`` iterates over a column's values (e.g. a dict of lists). File names are joined to
    ``directory`` when given. ``class_mode``: ``"categorical"`` (one-hot, or multi-hot when a label is a list
    of classes), ``"binary"``, ``"sparse"``, ``"input"``, ``"multi_output"`` (``y_col`` a list of columns: a
    list of arrays), ``"raw"`` (the ``y_col`` values as an array) or None.
    """

    allowed_class_modes = ("binary", "categorical", "input", "multi_output", "raw", "sparse", None)

    def __init__(self, dataframe, directory=None, image_data_generator=None, x_col="filename", y_col="class",
                 weight_col=None, target_size=(256, 256), color_mode="rgb", classes=None, class_mode="categorical",
                 batch_size=32, shuffle=True, seed=None, data_format="channels_last", save_to_dir=None,
                 save_prefix="", save_format="png", subset=None, interpolation="nearest", keep_aspect_ratio=False,
                 dtype="float32", validate_filenames=True, **kwargs):
        who = "DataFrameIterator"
        data_format, dtype = _check_format(data_format, dtype, who)
        self._set_processing_attrs(who, image_data_generator, target_size, color_mode, data_format, save_to_dir,
                                   save_prefix, save_format, subset, interpolation, keep_aspect_ratio, class_mode)
        self.directory = os.fspath(directory) if directory else ""
        self.dtype = dtype
        labelled = class_mode not in ("input", "multi_output", "raw", None)
        if labelled and not isinstance(y_col, str):
            raise TypeError(f"{who}: with class_mode={class_mode!r}, `y_col` must be one column name (str), but "
                            f"received y_col={y_col!r}.")
        if class_mode == "multi_output" and not isinstance(y_col, list):
            raise TypeError(f"{who}: with class_mode='multi_output', `y_col` must be a list of column names, but "
                            f"received {type(y_col).__name__}.")
        names = _column(dataframe, x_col, who)
        if not all(isinstance(v, str) for v in names):
            raise TypeError(f"{who}: every value of the x_col={x_col!r} column must be a file name (str).")
        ycols = y_col if isinstance(y_col, list) else [y_col]
        ys = {c: _column(dataframe, c, who) for c in ycols} if class_mode is not None and class_mode != "input" else {}
        labels = ys.get(y_col) if not isinstance(y_col, list) else None
        if class_mode in ("binary", "sparse") and not all(isinstance(v, str) for v in labels):
            raise TypeError(f"{who}: with class_mode={class_mode!r}, the values of the y_col={y_col!r} column must "
                            "be strings (class names).")
        if class_mode == "categorical" and not all(isinstance(v, (str, list, tuple)) for v in labels):
            raise TypeError(f"{who}: with class_mode='categorical', the values of the y_col={y_col!r} column must "
                            "be strings or lists/tuples of strings.")
        if class_mode == "binary":
            n = len(set(classes)) if classes else len(set(labels))
            if n != 2:
                raise ValueError(f"{who}: class_mode='binary' needs exactly 2 classes, but "
                                 f"{'`classes` holds' if classes else 'the labels hold'} {n}.")
        if classes and not labelled:
            warnings.warn(f"{who}: `classes` is ignored with class_mode={class_mode!r}.", stacklevel=3)
        weights = None
        if weight_col:
            weights = np.asarray(_column(dataframe, weight_col, who))
            if not np.issubdtype(weights.dtype, np.number):
                raise TypeError(f"{who}: the weight_col={weight_col!r} column must be numeric, but has dtype "
                                f"{weights.dtype}.")
        rows = list(range(len(names)))
        if validate_filenames:
            ok = [r for r in rows if names[r].lower().endswith(self.white_list_formats)
                  and os.path.isfile(os.path.join(self.directory, names[r]))]
            if len(ok) != len(rows):
                warnings.warn(f"{who}: found {len(rows) - len(ok)} invalid image file name(s) in x_col={x_col!r}; "
                              "they are skipped.", stacklevel=3)
            rows = ok
        if labelled:
            if classes:
                classes = list(dict.fromkeys(classes))
                keep = set(classes)
            else:
                found = set()
                for r in rows:
                    found.update(labels[r] if isinstance(labels[r], (list, tuple)) else [labels[r]])
                classes = sorted(found)
                keep = found
            kept = []
            filtered = {}
            for r in rows:
                lab = labels[r]
                if isinstance(lab, (list, tuple)):
                    lab = [c for c in lab if c in keep] or None
                elif lab not in keep:
                    lab = None
                if lab is not None:
                    kept.append(r)
                    filtered[r] = lab
            rows = kept
            self.class_indices = {c: i for i, c in enumerate(classes)}
        if self.split is not None:
            rows = rows[int(self.split[0] * len(rows)):int(self.split[1] * len(rows))]
        if labelled:
            lab = [filtered[r] for r in rows]
            self.classes = [[self.class_indices[c] for c in v] if isinstance(v, list) else self.class_indices[v]
                            for v in lab]
        self.filenames = [names[r] for r in rows]
        idx = np.asarray(rows, dtype="int64")
        self._sample_weight = weights[idx] if weights is not None else None
        if class_mode == "multi_output":
            self._targets = [np.asarray([ys[c][r] for r in rows]) for c in ycols]
        elif class_mode == "raw":
            cols = [np.asarray([ys[c][r] for r in rows]) for c in ycols]
            self._targets = np.stack(cols, axis=1) if isinstance(y_col, list) else cols[0]
        self.samples = len(self.filenames)
        checked = "validated" if validate_filenames else "non-validated"
        if labelled:
            io_utils.print_msg(f"Found {self.samples} {checked} image filenames belonging to {len(classes)} "
                               "classes.")
        else:
            io_utils.print_msg(f"Found {self.samples} {checked} image filenames.")
        self._filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed, **kwargs)

    @property
    def filepaths(self):
        """The full paths of the image files, in sample order."""
        return self._filepaths

    @property
    def labels(self):
        """The targets (``multi_output``/``raw``) or the class indices of every sample."""
        return self._targets if self.class_mode in ("multi_output", "raw") else self.classes

    @property
    def sample_weight(self):
        return self._sample_weight
