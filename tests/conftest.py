import os

import numpy as np
import pytest

import lamina


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
