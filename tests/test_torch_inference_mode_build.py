"""A model first built (or predicted with) under ``torch.inference_mode()`` - common in PyTorch serving code -
creates ordinary parameters: it predicts, draws dropout seeds and later trains (inference tensors cannot)."""

import numpy as np
import pytest

import lamina
from lamina import backend


@pytest.mark.skipif(backend.backend() != "torch", reason="torch.inference_mode is PyTorch's")
def test_a_model_built_under_inference_mode_trains_afterwards():
    import torch

    lamina.utils.set_random_seed(0)
    with torch.inference_mode():
        model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(3), lamina.layers.Dropout(0.5)])
        first = model.predict(np.ones((2, 4), "float32"), verbose=0)
        noisy = model(torch.ones(2, 4), training=True)
    assert first.shape == (2, 3) and tuple(noisy.shape) == (2, 3)
    assert all(not w.value.is_inference() for w in model.weights)
    model.compile(optimizer="adam", loss="mse")
    before = model.get_weights()[0].copy()
    history = model.fit(np.ones((8, 4), "float32"), np.ones((8, 3), "float32"), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert not np.allclose(before, model.get_weights()[0])
