"""``Input(sparse=True)`` and SciPy sparse matrices as data (bag-of-words features): the symbolic input says it is
sparse, and fit/evaluate/predict take the matrices (made dense: lamina's tensors are), with the numbers of the dense
arrays."""

import numpy as np
import pytest

import lamina

sp = pytest.importorskip("scipy.sparse")


def test_sparse_input_and_scipy_matrices():
    inp = lamina.Input(shape=(5,), sparse=True, name="sp")
    assert inp.sparse
    model = lamina.Model(inp, lamina.layers.Dense(2, kernel_initializer="ones")(inp))
    dense = np.eye(4, 5, dtype="float32")
    x = sp.csr_matrix(dense)
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(dense, verbose=0))
    model.compile(optimizer="sgd", loss="mse")
    y = np.zeros((4, 2), "float32")
    assert model.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(dense, y, verbose=0))
    history = model.fit(x, y, epochs=2, batch_size=2, verbose=0).history["loss"]
    assert history[1] < history[0]
