"""tf.keras 2 ``.h5`` model files with Adam's state: the slots map to lamina's and ``fit`` continues.

The files are crafted with h5py in the two layouts tf.keras 2 wrote (no TensorFlow
needed): TF 2.11+ optimizers (``iteration:0``, ``Adam/m/dense/kernel:0``...,
slots interleaved per variable) and the legacy ``optimizer_v2`` ones
(``Adam/iter:0``, hyper-parameters, ``Adam/dense/kernel/m:0``..., slots by kind).
"""

import warnings

import h5py
import numpy as np
import pytest
from saving_fixtures import reference_weights, write_keras2_h5

import lamina

_REFS = ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"]


def _x():
    return np.random.default_rng(1).random((5, 4, 3)).astype("float32")


def _optimizer_entries(layout, slots, iterations):
    """(name, value) pairs in the order tf.keras 2 writes them."""
    ms = {ref: m for ref, (_, m, _) in zip(_REFS, slots)}
    vs = {ref: v for ref, (_, _, v) in zip(_REFS, slots)}
    if layout == "tf2.11":
        entries = [("iteration:0", np.int64(iterations))]
        for ref in _REFS:
            entries += [(f"Adam/m/{ref}:0", ms[ref]), (f"Adam/v/{ref}:0", vs[ref])]
        return entries
    if layout == "tf2.11-unscoped":
        entries = [("iteration:0", np.int64(iterations))]
        for ref in _REFS:
            entries += [(f"m/{ref}:0", ms[ref]), (f"v/{ref}:0", vs[ref])]
        return entries
    entries = [("Adam/iter:0", np.int64(iterations)), ("Adam/beta_1:0", np.float32(0.9)),
               ("Adam/beta_2:0", np.float32(0.999)), ("Adam/decay:0", np.float32(0.0)),
               ("Adam/learning_rate:0", np.float32(0.005))]
    entries += [(f"Adam/{ref}/m:0", ms[ref]) for ref in _REFS]
    return entries + [(f"Adam/{ref}/v:0", vs[ref]) for ref in _REFS]


def _write(path, entries):
    weights, _ = reference_weights()
    write_keras2_h5(path, {k: list(v) for k, v in weights.items()})
    with h5py.File(path, "a") as f:
        g = f.create_group("optimizer_weights")
        g.attrs["weight_names"] = np.array([n.encode() for n, _ in entries])
        for name, value in entries:
            g.create_dataset(name, data=value)


@pytest.mark.parametrize("layout", ["tf2.11", "tf2.11-unscoped", "legacy"])
def test_tf_keras2_adam_state_is_restored_and_fit_continues(tmp_path, layout):
    _, slots = reference_weights(seed=3)
    _write(tmp_path / "old.h5", _optimizer_entries(layout, slots, iterations=7))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "optimizer state was not loaded" warning
        model = lamina.models.load_model(tmp_path / "old.h5")
    opt = model.optimizer
    assert type(opt).__name__ == "Adam" and int(opt.iterations.numpy()) == 7
    by_name = {str(v.name).split("/", 1)[1]: np.asarray(v.numpy()) for v in opt.variables}
    for ref, (_, m, v) in zip(_REFS, slots):
        key = ref.replace("/", "_")
        np.testing.assert_array_equal(by_name[f"{key}_momentum"], m)
        np.testing.assert_array_equal(by_name[f"{key}_velocity"], v)
    if layout == "legacy":
        assert float(np.asarray(opt.learning_rate.numpy())) == pytest.approx(0.005)
    model.fit(_x(), np.array([0, 1, 2, 0, 1]), epochs=1, verbose=0)
    assert int(opt.iterations.numpy()) == 8
    after = {str(v.name).split("/", 1)[1]: np.asarray(v.numpy()) for v in opt.variables}
    # One more Adam step from the file's moments: m' = 0.9 m + 0.1 g and v' = 0.999 v + 0.001 g^2 with
    # the same gradient g, which holds only if both moments were restored to the right variables.
    for i, ref in enumerate(_REFS):
        key = ref.replace("/", "_")
        _, m, v = slots[i]
        g = (after[f"{key}_momentum"] - 0.9 * m) / 0.1
        assert not np.allclose(after[f"{key}_momentum"], m)
        np.testing.assert_allclose(after[f"{key}_velocity"], 0.999 * v + 0.001 * g ** 2, rtol=1e-4, atol=1e-6)


def test_unmatched_optimizer_state_warns_and_names_why(tmp_path):
    _, slots = reference_weights(seed=3)
    entries = _optimizer_entries("tf2.11", slots, iterations=7)
    entries[1] = ("Adam/m/conv2d/kernel:0", entries[1][1])
    _write(tmp_path / "odd.h5", entries)
    with pytest.warns(UserWarning, match=r"odd\.h5.*not loaded.*'Adam/m/conv2d/kernel:0'.*fresh optimizer state"):
        model = lamina.models.load_model(tmp_path / "odd.h5")
    assert int(model.optimizer.iterations.numpy()) == 0
    assert all(not np.any(np.asarray(v.numpy())) for v in model.optimizer.variables
               if "momentum" in str(v.name) or "velocity" in str(v.name))
