import os

import numpy as np
import pytest

import lamina


@pytest.fixture(autouse=True, scope="session")
def _full_float32_session():
    """Full float32 arithmetic in matrix products, convolutions and RNN kernels, on any machine.

    On GPUs JAX (dots, convolutions) and cuDNN (convolutions, RNNs) use TensorFloat-32 by default,
    about 1e-4 relative error, while the suite compares float32 results with NumPy at rtol ~1e-5.
    On the CPU this changes nothing. Session-scoped, so module-scoped fixtures (models built and
    run once per file) see it too; the previous setting comes back at the end of the session.
    Child processes started by tests do not inherit it.
    """
    before = lamina.config.float32_matmul_precision()
    lamina.config.set_float32_matmul_precision("highest")
    yield
    lamina.config.set_float32_matmul_precision(before)


@pytest.fixture(autouse=True)
def _full_float32_precision(_full_float32_session):
    # A test may set another precision and leave it (test_gpu_paths ends on "default"): re-apply.
    if lamina.config.float32_matmul_precision() != "highest":
        lamina.config.set_float32_matmul_precision("highest")
    yield


@pytest.fixture(autouse=True)
def _fresh_state():
    lamina.utils.clear_session(free_memory=False)  # names only: a collection per test would cost minutes
    lamina.utils.set_random_seed(1337)
    yield


@pytest.fixture
def backend_name():
    return lamina.config.backend()


def pytest_report_header(config):
    return f"lamina backend: {lamina.config.backend()}; datasets: {os.environ.get('LAMINA_DATASETS_DIR')}"


np.set_printoptions(precision=5)
