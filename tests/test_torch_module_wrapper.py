"""TorchModuleWrapper: a torch.nn.Module as a layer (PyTorch backend; on JAX it refuses clearly)."""

import numpy as np
import pytest

import lamina

ON_TORCH = lamina.backend.backend() == "torch"
torch_only = pytest.mark.skipif(not ON_TORCH, reason="wraps a torch.nn.Module (the PyTorch backend)")


def _net(seed=0):
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 1))


def _model(net):
    inp = lamina.Input((4,))
    return lamina.Model(inp, lamina.layers.TorchModuleWrapper(net, name="wrapped")(inp))


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 4)).astype("float32")
    return x, x.sum(1, keepdims=True)


@torch_only
def test_parameters_and_buffers_are_the_layers_variables_and_train():
    import torch

    net = _net()
    model = _model(net)
    layer = model.get_layer("wrapped")
    names = [w.path for w in model.weights]
    assert names[:6] == [f"wrapped/{n}" for n in ("0_weight", "0_bias", "1_weight", "1_bias", "3_weight", "3_bias")]
    assert [w.trainable for w in model.weights] == [True] * 6 + [False] * 3
    # the module computes with the variables' own tensors
    assert layer.weights[0]._storage() is net[0].weight and layer.weights[6]._storage() is net[1].running_mean
    model.compile(optimizer=lamina.optimizers.Adam(0.02), loss="mse")
    x, y = _data()
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    # training mode moved the BatchNorm statistics, which are the variables' values
    np.testing.assert_array_equal(layer.weights[6].numpy(), net[1].running_mean.detach().cpu().numpy())
    assert int(layer.weights[8].numpy()) == 15 * 4
    with torch.no_grad():
        expected = net.eval()(torch.tensor(x[:5], device=net[0].weight.device)).cpu().numpy()
    np.testing.assert_allclose(model.predict(x[:5], verbose=0), expected, rtol=1e-5, atol=1e-6)
    layer.weights[5].assign(layer.weights[5].numpy() + 1.0)  # assigning a variable changes the module
    with torch.no_grad():
        got = net.eval()(torch.tensor(x[:5], device=net[0].weight.device)).cpu().numpy()
        np.testing.assert_allclose(got, expected + 1.0, rtol=1e-5, atol=1e-5)


@torch_only
def test_weights_save_and_load_but_the_module_is_not_rebuilt_from_a_file(tmp_path):
    x, _ = _data()
    model = _model(_net(seed=1))
    model.compile("sgd", "mse")
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    model.save_weights(tmp_path / "w.weights.h5")
    fresh = _model(_net(seed=2))
    assert not np.allclose(fresh.predict(x[:4], verbose=0), model.predict(x[:4], verbose=0))
    fresh.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_allclose(fresh.predict(x[:4], verbose=0), model.predict(x[:4], verbose=0), rtol=1e-6)
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="TorchModuleWrapper 'wrapped' cannot be rebuilt from a config.*never "
                                         "unpickles code"):
        lamina.models.load_model(tmp_path / "m.keras")


@torch_only
def test_lazy_modules_and_output_shape():
    import torch

    lazy = lamina.Sequential([lamina.Input((5,)), lamina.layers.TorchModuleWrapper(torch.nn.LazyLinear(3))])
    assert [tuple(w.shape) for w in lazy.weights] == [(3, 5), (3,)] and lazy.output_shape == (None, 3)
    given = lamina.layers.TorchModuleWrapper(torch.nn.Flatten(), output_shape=(12,))
    assert given(lamina.Input((3, 4))).shape == (None, 12)
    with pytest.raises(ValueError, match="expected a torch.nn.Module, but received function"):
        lamina.layers.TorchModuleWrapper(lambda t: t)


@pytest.mark.skipif(ON_TORCH, reason="the refusal on the other backend")
def test_refused_clearly_on_jax():
    with pytest.raises(ValueError, match="needs the PyTorch backend.*but lamina runs on jax"):
        lamina.layers.TorchModuleWrapper(object())
