"""Cross-backend parity: the same weights give the same outputs and gradients on torch and jax."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = {}
    for backend in ("torch", "jax"):
        path = tmp_path_factory.mktemp(backend) / "r.npz"
        env = dict(os.environ, LAMINA_BACKEND=backend)
        proc = subprocess.run([sys.executable, str(HERE / "parity_script.py"), str(path)], env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{backend} run failed:\n{proc.stderr[-3000:]}"
        out[backend] = dict(np.load(path))
    return out


def test_same_keys(results):
    assert sorted(results["torch"]) == sorted(results["jax"])


@pytest.mark.parametrize("key", ["two_tower_out1", "two_tower_out2", "mlp_predict"])
def test_outputs_match(results, key):
    np.testing.assert_allclose(results["torch"][key], results["jax"][key], rtol=1e-5, atol=1e-6)


def test_gradients_match(results):
    keys = [k for k in results["torch"] if k.startswith("two_tower_grad_")]
    assert len(keys) == 6
    for k in keys:
        assert np.abs(results["torch"][k]).max() > 0, f"{k}: no gradient reached this weight"
        np.testing.assert_allclose(results["torch"][k], results["jax"][k], rtol=1e-4, atol=1e-6)


def test_summary_is_identical(results):
    assert str(results["torch"]["two_tower_summary"]) == str(results["jax"]["two_tower_summary"])
