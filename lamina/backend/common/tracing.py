"""Engine-independent parts of shape tracing (``compute_output_spec``).

Each engine runs the traced function twice, with every unknown (None) dimension
set to a different size in each run; dimensions whose sizes differ between the
two runs are unknown in the result.
"""

from lamina import tree
from lamina.backend.common.dtypes import standardize_dtype
from lamina.backend.common.keras_tensor import KerasTensor

# Sizes given to unknown dimensions in trial 0 and trial 1: (batch axis, other axes). Trial 2 (size 1) runs when
# trial 1 fails: an unknown dimension broadcast against a known size (ops.add of (None, 1, 4) and (2, 3, 1)) fits
# one trial's size only, and takes the known size, as in Keras.
UNKNOWN_SIZES = ((2, 7), (3, 11), (1, 1))


def trial_shape(kt, trial):
    """The concrete shape a KerasTensor takes in trial ``trial``."""
    return tuple(
        (UNKNOWN_SIZES[trial][0 if axis == 0 else 1] if d is None else d)
        for axis, d in enumerate(kt.shape)
    )


def replace_keras_tensors(struct, fn):
    """``struct`` with each KerasTensor ``t`` replaced by ``fn(t)``."""
    return tree.map_structure(lambda t: fn(t) if isinstance(t, KerasTensor) else t, struct)


def run_trials(run):
    """KerasTensors for the outputs of ``run(trial)`` (an engine's traced call with the sizes of ``trial``):
    trials 0 and 1 merged; trial 2 stands in for a failing trial 1 (see UNKNOWN_SIZES), whose error is raised
    when trial 2 fails as well."""
    first = run(0)
    try:
        second = run(1)
    except Exception:
        second = _attempt(run, 2)
        if second is _FAILED:
            raise  # trial 1's error
    return merge_trials(first, second)


_FAILED = object()


def _attempt(run, trial):
    try:
        return run(trial)
    except Exception:
        return _FAILED


def merge_trials(a, b):
    """KerasTensors from the outputs of the two trials (None where their sizes differ)."""
    if isinstance(a, (list, tuple)):
        items = [merge_trials(x, y) for x, y in zip(a, b)]
        return tuple(items) if hasattr(a, "_fields") else type(a)(items)  # a namedtuple (jax's QRResult...)
    if isinstance(a, dict):
        return {k: merge_trials(a[k], b[k]) for k in a}
    if hasattr(a, "shape") and hasattr(a, "dtype"):
        shape = tuple(x if x == y else None for x, y in zip(a.shape, b.shape))
        return KerasTensor(shape, dtype=standardize_dtype(a.dtype))
    return a
