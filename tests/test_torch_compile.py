"""compile(jit_compile=...): validation on both backends; on PyTorch, True runs the steps through torch.compile
and must compute what the eager steps compute."""

import warnings

import numpy as np
import pytest

import lamina
from lamina import layers as L

torch_only = pytest.mark.skipif(lamina.config.backend() != "torch", reason="torch.compile is PyTorch's")


def _data():
    rng = np.random.default_rng(0)
    return rng.random((70, 6)).astype("float32"), rng.integers(0, 3, 70)


def _run(jit_compile, **compile_kwargs):
    lamina.utils.set_random_seed(1)
    model = lamina.Sequential([lamina.Input((6,)), L.Dense(8, activation="relu"), L.Dropout(0.3),
                               L.BatchNormalization(), L.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=jit_compile, **compile_kwargs)
    x, y = _data()
    # 70 samples in batches of 16: a short last batch (a second input shape) in every epoch
    hist = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    ev = model.evaluate(x, y, batch_size=16, verbose=0)
    pred = model.predict(x, batch_size=16, verbose=0)
    return model, hist.history, ev, pred


@torch_only
def test_jit_compile_computes_what_eager_computes():
    eager, h_e, ev_e, p_e = _run(False)
    compiled, h_c, ev_c, p_c = _run(True)
    # the compiled step functions really are compiled ones
    fn = compiled._step_functions["train"]
    from lamina.backend.torch.trainer import _Compiled

    assert isinstance(fn._forward, _Compiled) and fn._forward.compiled is not None
    assert not isinstance(eager._step_functions["train"]._forward, _Compiled)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(h_c[key], h_e[key], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ev_c, ev_e, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p_c, p_e, rtol=1e-5, atol=1e-6)
    for a, b in zip(compiled.get_weights(), eager.get_weights()):  # BatchNormalization's moving statistics too
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@torch_only
def test_a_step_torch_cannot_compile_runs_eagerly_with_a_warning(monkeypatch):
    from lamina.backend.torch import trainer

    def broken_backend(gm, example_inputs):
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(trainer, "_compile_options", lambda graphs=False: {"backend": broken_backend})
    _, h_e, ev_e, p_e = _run(False)
    with pytest.warns(RuntimeWarning, match=r"jit_compile=True.*could not compile.*runs eagerly instead"):
        model, h_c, ev_c, p_c = _run(True)
    assert model._step_functions["train"]._forward.compiled is None  # gave up once, not at every step
    np.testing.assert_allclose(h_c["loss"], h_e["loss"], rtol=1e-6)
    np.testing.assert_allclose(ev_c, ev_e, rtol=1e-6)
    np.testing.assert_allclose(p_c, p_e, rtol=1e-6)


def test_jit_compile_and_run_eagerly_together_run_eagerly_with_a_warning():
    model = lamina.Sequential([lamina.Input((6,)), L.Dense(3)])
    with pytest.warns(UserWarning, match="run_eagerly=True and jit_compile=True"):
        model.compile(optimizer="sgd", loss="mse", run_eagerly=True, jit_compile=True)
    assert model.jit_compile is False and model.run_eagerly is True


@pytest.mark.parametrize("value", ["yes", 2, "xla"])
def test_jit_compile_rejects_other_values(value):
    model = lamina.Sequential([lamina.Input((6,)), L.Dense(3)])
    with pytest.raises(ValueError, match="jit_compile must be True, False or 'auto'"):
        model.compile(optimizer="sgd", loss="mse", jit_compile=value)


def test_jit_compile_none_from_tf_keras_2_means_auto():
    model = lamina.Sequential([lamina.Input((6,)), L.Dense(3)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=None)
    assert model.jit_compile == "auto"


def test_jit_compile_default_is_auto_and_fits():
    model = lamina.Sequential([lamina.Input((6,)), L.Dense(3)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.compile(optimizer="sgd", loss="mse")
    assert model.jit_compile == "auto"
    x, _ = _data()
    model.fit(x, np.zeros((70, 3), "float32"), verbose=0)
