"""Checking and converting the batches an iterable source yields (host side, engine-agnostic)."""

import numpy as np

from lamina import backend, tree

EXPECTED = "x, (x,), (x, y) or (x, y, sample_weight)"


def is_foreign_tensor(a):
    """A tensor of another engine (e.g. a torch tensor from a DataLoader while running on JAX)."""
    return hasattr(a, "detach") and hasattr(a, "cpu") and hasattr(a, "numpy") and not backend.is_tensor(a)


def is_pandas(a):
    return type(a).__module__.split(".")[0] == "pandas" and hasattr(a, "to_numpy")


def host_array(a, where):
    """One leaf of a batch as a NumPy array or an engine tensor, float64 narrowed to float32."""
    if a is None:
        return None
    if backend.is_tensor(a):
        if backend.standardize_dtype(a.dtype) == "float64":
            return backend.convert_to_tensor(a, dtype="float32")
        return a
    if isinstance(a, backend.VariableBase):
        return a.value
    if is_foreign_tensor(a):
        a = a.detach().cpu().numpy()
    elif is_pandas(a):
        a = a.to_numpy()
    arr = np.asarray(a)
    if arr.dtype == object:
        raise ValueError(
            f"{where} holds Python objects (dtype=object, e.g. ragged lists or strings), which cannot become "
            "a numeric tensor. Pad sequences to one length first (lamina.utils.pad_sequences)."
        )
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    return arr


_PLAIN_KINDS = frozenset("biuf")


def _plain(a):
    """A NumPy array that ``host_array`` would return as it is (numeric, not float64, not a scalar)."""
    return type(a) is np.ndarray and a.ndim > 0 and a.dtype.kind in _PLAIN_KINDS and a.dtype != np.float64


def split_plain(batch):
    """The fast form of ``split_batch`` for the common batch: a NumPy array or a plain tuple/list of one
    to three of them (None allowed after x) with one batch size; None for anything else, which
    ``split_batch`` then checks and converts. Gives exactly what ``split_batch`` would."""
    if type(batch) is np.ndarray:
        return (batch, None, None) if _plain(batch) else None
    if type(batch) is not tuple and type(batch) is not list:
        return None
    n = len(batch)
    if not 1 <= n <= 3:
        return None
    x = batch[0]
    if not _plain(x):
        return None
    rows = x.shape[0]
    for a in batch[1:]:
        if a is not None and not (_plain(a) and a.shape[0] == rows):
            return None
    if n == 3:
        return batch[0], batch[1], batch[2]
    return (x, batch[1], None) if n == 2 else (x, None, None)


def split_batch(batch, index, source):
    """``(x, y, sample_weight)`` of one batch; a clear error for a batch of the wrong form."""
    where = f"batch {index} from the {source}"
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        raise ValueError(
            f"{where} is a namedtuple ({type(batch).__name__}), which is ambiguous: it could be (x, y, ...) or "
            f"the several inputs of a model. Yield a plain tuple {EXPECTED}, or a dict of named inputs as x."
        )
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        batch = (batch,)
    if not 1 <= len(batch) <= 3:
        raise ValueError(
            f"{where} has {len(batch)} elements, but a batch must be {EXPECTED}."
        )
    x, y, sw = tuple(batch) + (None,) * (3 - len(batch))
    if x is None:
        raise ValueError(f"{where} has no inputs (x is None); a batch must be {EXPECTED}.")
    conv = lambda s, part: None if s is None else tree.map_structure(  # noqa: E731
        lambda a: host_array(a, f"{part} of {where}"), s)
    x, y, sw = conv(x, "x"), conv(y, "y"), conv(sw, "sample_weight")
    sizes = {}
    for part, s in (("x", x), ("y", y), ("sample_weight", sw)):
        if s is None:
            continue
        rows = {int(a.shape[0]) for a in tree.flatten(s) if a is not None and len(a.shape) > 0}
        if len(rows) > 1 or not rows:
            got = sorted(rows) if rows else "scalars"
            raise ValueError(
                f"{where}: the arrays of `{part}` must share their first (batch) dimension, but have {got}."
            )
        sizes[part] = rows.pop()
    if len(set(sizes.values())) > 1:
        detail = ", ".join(f"{k} has {v} rows" for k, v in sizes.items())
        raise ValueError(f"{where}: x, y and sample_weight must have the same batch size, but {detail}.")
    return x, y, sw


def signature(batch):
    """Structure and presence of a batch's parts (must stay the same from batch to batch)."""
    return tuple(None if s is None else (len(tree.flatten(s)), type(s).__name__) for s in batch)


def describe(sig):
    names = ("x", "y", "sample_weight")
    return "(" + ", ".join(n for n, s in zip(names, sig) if s is not None) + ")"


def shape_key(batch):
    """Shapes and dtypes of a batch: consecutive batches with the same key can be stacked."""
    if all(s is None or type(s) is np.ndarray for s in batch):  # the common case, without flattening
        return tuple(None if s is None else (s.shape, s.dtype) for s in batch)
    return tuple((tuple(a.shape), a.dtype) for s in batch if s is not None
                 for a in tree.flatten(s) if a is not None)
