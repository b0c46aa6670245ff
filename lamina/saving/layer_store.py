"""The ``store`` a layer's ``save_own_variables`` / ``load_own_variables`` hooks receive.

As in Keras 3, the store is dict-like and keyed by strings: the default hooks on ``Layer``
write the layer's own weights under ``"0"``, ``"1"``...; a custom layer may write other keys (a
lookup table as an array, a renamed or reshaped weight). Each store is one HDF5 group
(``<layer path>/vars``) of ``model.weights.h5``.

``SaveStore`` converts what it is given (variables, tensors, arrays, numbers, strings) to NumPy
arrays; ``LoadStore`` reads one dataset per key lookup, checking its declared size against the bytes
present before reading, and raises ``MissingKeyError`` (naming the layer, the key and the keys
present) for a key the file lacks.

Example:
>>> import numpy as np, lamina
>>> from lamina.saving.layer_store import SaveStore
>>> layer = lamina.layers.Dense(2)
>>> layer.build((None, 3))
>>> store = SaveStore(layer)
>>> layer.save_own_variables(store)
>>> {k: v.shape for k, v in store.items()}
{'0': (3, 2), '1': (2,)}
"""

import numpy as np

from lamina import backend
from lamina.saving.file_safety import FileLoadError, file_error, read_dataset

_MAX_STRINGS = 1 << 28  # elements of one stored string array


class MissingKeyError(FileLoadError, KeyError):
    """``load_own_variables`` asked for a key its layer's saved group does not have."""

    __str__ = BaseException.__str__


def _layer_name(layer):
    return getattr(layer, "name", type(layer).__name__)


def to_array(value, who, key):
    """``value`` (a variable, tensor, array, number or string) as a NumPy array the HDF5 file can hold."""
    given = type(value).__name__
    if isinstance(value, backend.VariableBase):
        value = value.numpy()
    elif not isinstance(value, (np.ndarray, np.generic, list, tuple, int, float, bool, str, bytes)):
        value = backend.convert_to_numpy(value)
    array = np.asarray(value)
    if array.dtype.kind == "O":
        flat = array.reshape(-1).tolist()
        if all(isinstance(s, str) for s in flat):
            array = array.astype(str)
        elif all(isinstance(s, bytes) for s in flat):
            array = array.astype(bytes)
    if array.dtype.kind not in "biufSU":
        raise TypeError(f"Layer '{who}': save_own_variables stored a {given} under key {key!r}, "
                        f"which is not an array of numbers or strings (dtype {array.dtype}).")
    return array


class SaveStore(dict):
    """The write side: a dict of key -> NumPy array (insertion order is the file's order)."""

    def __init__(self, layer):
        super().__init__()
        self._who = _layer_name(layer)

    def __setitem__(self, key, value):
        if not isinstance(key, str) or not key or "/" in key or key in (".", ".."):
            raise ValueError(f"Layer '{self._who}': save_own_variables used the key {key!r}; keys must be "
                             "non-empty strings without '/' (the default hook uses '0', '1', ...).")
        super().__setitem__(key, to_array(value, self._who, key))

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key, value=None):
        if key not in self:
            self[key] = value
        return self[key]


def write_array(group, key, array):
    """Write ``array`` as dataset ``key`` of the h5py ``group`` (unicode strings as UTF-8 strings)."""
    import h5py

    if array.dtype.kind == "U":
        group.create_dataset(key, data=array.astype(object), dtype=h5py.string_dtype("utf-8"))
    else:
        group.create_dataset(key, data=array)


class LoadStore:
    """The read side: a read-only mapping over one layer's saved group (``None``: nothing saved).

    ``expected`` maps keys to the variables the default hook assigns them to, so their shapes are
    checked before anything is read (with the message lamina has always given).
    """

    def __init__(self, group, layer, source, where, expected=None):
        self._group = group
        self._who = _layer_name(layer)
        self._source = source
        self._where = where
        self._expected = expected or {}

    def keys(self):
        return [] if self._group is None else list(self._group.keys())

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def __contains__(self, key):
        return isinstance(key, str) and key in self.keys()

    def items(self):
        return [(k, self[k]) for k in self.keys()]

    def values(self):
        return [self[k] for k in self.keys()]

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __getitem__(self, key):
        if key not in self:
            raise MissingKeyError(
                f"Cannot load '{self._source}': layer '{self._who}' asked its saved state ('{self._where}') for "
                f"the key {key!r}, which the file does not have; it holds the keys {sorted(self.keys())}. "
                "The layer's load_own_variables does not match the save_own_variables that wrote the file.")
        where = f"{self._where}/{key}"
        dataset = self._group[key]
        variable = self._expected.get(key)
        if variable is not None:
            dtype = "float32" if str(variable.dtype) == "bfloat16" else str(variable.dtype)
            return read_dataset(dataset, self._source, where, tuple(variable.shape), np.dtype(dtype),
                                target=variable.path)
        return self._read_any(dataset, where)

    def _read_any(self, dataset, where):
        import h5py

        if not isinstance(dataset, h5py.Dataset):
            raise file_error(self._source, f"'{where}' is a {type(dataset).__name__}, not an array.")
        try:
            shape, dtype = tuple(dataset.shape or ()), dataset.dtype
        except (OSError, ValueError, KeyError, RuntimeError, TypeError) as e:
            raise file_error(self._source, f"'{where}' has a damaged header ({type(e).__name__}: {e}).") from None
        if h5py.check_string_dtype(dtype) is not None or dtype.kind == "S":
            count = int(np.prod(shape, dtype=np.int64))
            if count > _MAX_STRINGS:
                raise file_error(self._source, f"'{where}' declares {count} strings, more than {_MAX_STRINGS}.")
            try:
                if dtype.kind == "S":
                    return np.asarray(dataset[()])
                return np.asarray(dataset.asstr()[()], dtype=object).astype(str)
            except (OSError, ValueError, KeyError, RuntimeError, UnicodeError) as e:
                raise file_error(self._source, f"'{where}' cannot be read ({e}).") from None
        return read_dataset(dataset, self._source, where, shape)
