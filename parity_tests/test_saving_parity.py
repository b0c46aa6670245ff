"""Cross-backend saving: a ``.keras`` file saved on torch loads on jax (and back) with the same predictions."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parent
BACKENDS = ("torch", "jax")


def _run(backend, mode, path, out):
    env = dict(os.environ, LAMINA_BACKEND=backend)
    proc = subprocess.run([sys.executable, str(HERE / "saving_parity_script.py"), mode, str(path), str(out)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{mode} on {backend} failed:\n{proc.stderr[-3000:]}"
    return dict(np.load(out))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saving_parity")
    out = {}
    for saver in BACKENDS:
        path = folder / f"{saver}.keras"
        out[(saver, "saved")] = _run(saver, "save", path, folder / f"{saver}_saved.npz")
        for loader in BACKENDS:
            out[(saver, loader)] = _run(loader, "load", path, folder / f"{saver}_by_{loader}.npz")
    return out


@pytest.mark.parametrize("saver,loader", [("torch", "jax"), ("jax", "torch"), ("torch", "torch"), ("jax", "jax")])
def test_predictions_identical_after_loading_on_another_backend(results, saver, loader):
    saved, loaded = results[(saver, "saved")], results[(saver, loader)]
    np.testing.assert_allclose(loaded["predict"], saved["predict"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("saver,loader", [("torch", "jax"), ("jax", "torch")])
def test_weights_and_optimizer_state_carried_exactly(results, saver, loader):
    saved, loaded = results[(saver, "saved")], results[(saver, loader)]
    assert sorted(saved) == sorted(loaded)
    assert any(k.startswith("optimizer_") for k in saved)
    for key in saved:
        if key != "predict":
            np.testing.assert_array_equal(loaded[key], saved[key], err_msg=key)


def test_the_saved_models_were_trained(results):
    # Adam's moment slots are non-zero after fit, so the optimizer state the files carry is real.
    for saver in BACKENDS:
        saved = results[(saver, "saved")]
        slots = [v for k, v in saved.items() if k.startswith("optimizer_") and v.ndim > 0]
        assert slots and any(np.abs(v).max() > 0 for v in slots)
