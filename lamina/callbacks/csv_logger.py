"""CSVLogger: stream the epoch results to a CSV file."""

import collections
import csv
import os

import numpy as np

from lamina.callbacks.callback import Callback


class CSVLogger(Callback):
    """Write one row per epoch (``epoch`` and every log value) to a CSV file.

    The columns are fixed at the first epoch (sorted log names; the ``val_``
    columns are added when the first epoch had no validation, as Keras).

    Args:
        filename: the CSV file, e.g. ``"run/log.csv"``.
        separator: the string that separates the fields.
        append: append to an existing file (its header is kept) instead of
            overwriting it.

    Example:
    >>> import os, tempfile, numpy as np, lamina
    >>> model = lamina.Sequential([lamina.Input((1,)), lamina.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> _ = model.fit(np.zeros((4, 1)), np.zeros((4, 1)), epochs=2, verbose=0,
    ...               callbacks=[lamina.callbacks.CSVLogger(path)])
    >>> with open(path) as f:
    ...     print(f.read().strip())
    epoch,loss,val_loss
    0,0.0,NA
    1,0.0,NA
    """

    _chief_only = True  # in a multi-process run only rank 0 writes

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, "r") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        dirname = os.path.dirname(self.filename)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        self.csv_file = open(self.filename, mode, newline="")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}

        def handle_value(k):
            is_zero_dim_ndarray = isinstance(k, np.ndarray) and k.ndim == 0
            if isinstance(k, str):
                return k
            if isinstance(k, collections.abc.Iterable) and not is_zero_dim_ndarray:
                return f"\"[{', '.join(map(str, k))}]\""
            return k

        if self.keys is None:
            self.keys = sorted(logs.keys())
            # With validation_freq > 1 the first epoch has no `val_` keys: add them so they get columns.
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys.extend(["val_" + k for k in self.keys])
        if self.writer is None:
            class CustomDialect(csv.excel):
                delimiter = self.sep

            fieldnames = ["epoch"] + (self.keys or [])
            self.writer = csv.DictWriter(self.csv_file, fieldnames=fieldnames, dialect=CustomDialect,
                                         extrasaction="ignore")
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict({"epoch": epoch})
        row.update((key, handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
            self.csv_file = None
        self.writer = None
