"""compile(jit_compile=True) on PyTorch, on the kinds of models Keras users train: every case trains, validates,
evaluates and predicts (with a short last batch) once eagerly and once through torch.compile from the same seed,
and the two must agree (history, weights, evaluate, predict); a second fit must not compile anything new."""

import logging

import numpy as np
import pytest

import lamina
from lamina import layers as L
from lamina import ops

pytestmark = pytest.mark.skipif(lamina.config.backend() != "torch", reason="torch.compile is PyTorch's")

if lamina.config.backend() == "torch":
    import torch
    from torch._dynamo.utils import counters

    from lamina.backend.torch import trainer as torch_trainer


def _graphs():
    return counters["stats"]["unique_graphs"]


def _head(struct, n):
    return None if struct is None else lamina.tree.map_structure(lambda a: a[:n], struct)


def _train(build, x, y, jit_compile, seed=1, batch_size=16, fit_samples=None, **fit_kwargs):
    """fit (on the first ``fit_samples``) with validation, evaluate and predict (on all: a short last batch),
    then all three again: that second round must compile nothing new."""
    lamina.utils.set_random_seed(seed)
    model = build(jit_compile)
    val = (_head(x, 16), _head(y, 16))
    n = fit_samples or len(x)
    fit_kwargs = {k: _head(v, n) if k == "sample_weight" else v for k, v in fit_kwargs.items()}
    x_fit, y_fit = _head(x, n), _head(y, n)
    hist = model.fit(x_fit, y_fit, batch_size=batch_size, epochs=2, verbose=0, validation_data=val, **fit_kwargs)
    ev = model.evaluate(x, y, batch_size=batch_size, verbose=0)
    pred = model.predict(x, batch_size=batch_size, verbose=0)
    before = _graphs()
    hist2 = model.fit(x_fit, y_fit, batch_size=batch_size, epochs=1, verbose=0, validation_data=val,
                      **fit_kwargs)
    model.evaluate(x, y, batch_size=batch_size, verbose=0)
    model.predict(x, batch_size=batch_size, verbose=0)
    return dict(model=model, hist=hist.history, hist2=hist2.history, ev=ev, pred=pred,
                new_graphs=_graphs() - before)


def _check_same(build, x, y, rtol=1e-5, atol=1e-6, **fit_kwargs):
    eager = _train(build, x, y, False, **fit_kwargs)
    start = _graphs()
    compiled = _train(build, x, y, True, **fit_kwargs)
    model = compiled["model"]
    fn = model._step_functions["train"]
    if isinstance(fn, torch_trainer.TrainFunction):  # the built-in steps really went through torch.compile
        assert isinstance(fn._forward, torch_trainer._Compiled) and fn._forward.compiled is not None
        assert model._step_functions["test"]._step.compiled is not None
        assert model._step_functions["predict"]._forward.compiled is not None
        assert _graphs() > start
    assert compiled["new_graphs"] == 0, "a second fit/evaluate/predict compiled again"
    assert sorted(compiled["hist"]) == sorted(eager["hist"])
    for key in eager["hist"]:
        np.testing.assert_allclose(compiled["hist"][key], eager["hist"][key], rtol=rtol, atol=atol, err_msg=key)
        np.testing.assert_allclose(compiled["hist2"][key], eager["hist2"][key], rtol=rtol, atol=atol, err_msg=key)
    np.testing.assert_allclose(compiled["ev"], eager["ev"], rtol=rtol, atol=atol)
    for a, b in zip(lamina.tree.flatten(compiled["pred"]), lamina.tree.flatten(eager["pred"])):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    weights_c, weights_e = model.get_weights(), eager["model"].get_weights()
    assert len(weights_c) == len(weights_e)
    for a, b in zip(weights_c, weights_e):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    return eager, compiled


class _ActivityLoss(L.Layer):
    """A layer that adds a loss from its inputs in ``call``."""

    def call(self, x):
        self.add_loss(0.01 * ops.mean(ops.square(x)))
        return x


def test_functional_two_outputs_losses_weights_metrics_regularizer_add_loss_schedule():
    rng = np.random.default_rng(0)
    x = rng.random((70, 6)).astype("float32")
    y = {"cls": rng.integers(0, 3, 70), "reg": rng.random((70, 1)).astype("float32")}
    sw = rng.random(70).astype("float32")

    def build(jit_compile):
        inp = lamina.Input((6,))
        h = L.Dense(8, activation="relu", kernel_regularizer=lamina.regularizers.L2(1e-3))(inp)
        h = _ActivityLoss()(h)
        out = [L.Dense(3, activation="softmax", name="cls")(h), L.Dense(1, name="reg")(h)]
        model = lamina.Model(inp, out)
        schedule = lamina.optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)
        model.compile(optimizer=lamina.optimizers.SGD(schedule, momentum=0.9),
                      loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                      loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"], "reg": ["mae"]},
                      jit_compile=jit_compile)
        return model

    eager, _ = _check_same(build, x, y, sample_weight=sw)
    assert {"cls_loss", "reg_loss", "cls_accuracy", "reg_mae", "val_cls_accuracy"} <= set(eager["hist"])


class _Classifier(lamina.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = L.Dense(8, activation="relu")
        self.dropout = L.Dropout(0.2)
        self.out = L.Dense(3)

    def call(self, x, training=None):
        return self.out(self.dropout(self.hidden(x), training=training))


def test_subclassed_model_with_dropout_rmsprop_and_class_weight():
    rng = np.random.default_rng(1)
    x, y = rng.random((70, 6)).astype("float32"), rng.integers(0, 3, 70)

    def build(jit_compile):
        model = _Classifier()
        model.compile(optimizer=lamina.optimizers.RMSprop(0.01),
                      loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                      jit_compile=jit_compile)
        return model

    _check_same(build, x, y, fit_samples=64, class_weight={0: 1.0, 1: 2.0, 2: 0.5})


class _OwnTrainStep(lamina.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = L.Dense(8, activation="relu")
        self.out = L.Dense(1)

    def call(self, x):
        return self.out(self.hidden(x))

    def train_step(self, data):
        logs = super().train_step(data)
        return dict(logs, doubled_loss=2.0 * float(logs["loss"]))


def test_subclassed_model_with_its_own_train_step():
    rng = np.random.default_rng(2)
    x, y = rng.random((70, 6)).astype("float32"), rng.random((70, 1)).astype("float32")

    def build(jit_compile):
        model = _OwnTrainStep()
        model.compile(optimizer="adam", loss="mse", metrics=["mae"], jit_compile=jit_compile)
        return model

    eager, compiled = _check_same(build, x, y, fit_samples=64)
    np.testing.assert_allclose(eager["hist"]["doubled_loss"], 2 * np.asarray(eager["hist"]["loss"]), rtol=1e-6)
    # its validation and predict use the built-in steps, which are compiled
    assert compiled["model"]._step_functions["test"]._step.compiled is not None


def _dynamo_and_aot_autograd_only(monkeypatch):
    """torch.compile's "aot_eager" backend: the same graph capture, guards, recompilation and autograd graphs,
    without inductor's C++ code generation (minutes on a 2-core CPU for the models below, whose graph breaks
    make many small graphs; with inductor they also match eager, checked by hand)."""
    monkeypatch.setattr(torch_trainer, "_compile_options", lambda *args, **kwargs: {"backend": "aot_eager"})


def test_embedding_lstm_and_attention_with_padding_mask(monkeypatch):
    """Embedding(mask_zero=True) -> LSTM(return_sequences) -> a small Transformer block (MultiHeadAttention,
    residual, LayerNormalization) -> pooling -> Dense, the padding mask flowing through all of them."""
    _dynamo_and_aot_autograd_only(monkeypatch)
    rng = np.random.default_rng(3)
    x = rng.integers(1, 20, (50, 4)).astype("int32")
    x[::3, 2:] = 0
    y = rng.integers(0, 2, 50)

    def build(jit_compile):
        inp = lamina.Input((4,), dtype="int32")
        seq = L.LSTM(6, return_sequences=True)(L.Embedding(20, 6, mask_zero=True)(inp))
        att = L.MultiHeadAttention(num_heads=2, key_dim=3)(seq, seq)
        h = L.LayerNormalization()(L.Add()([seq, att]))
        model = lamina.Model(inp, L.Dense(2, activation="softmax")(L.GlobalAveragePooling1D()(h)))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      jit_compile=jit_compile)
        return model

    _check_same(build, x, y, fit_samples=48)


def test_conv_pool_batchnorm():
    rng = np.random.default_rng(4)
    x, y = rng.random((50, 8, 8, 1)).astype("float32"), rng.integers(0, 3, 50)

    def build(jit_compile):
        model = lamina.Sequential([lamina.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(),
                                   L.BatchNormalization(), L.Flatten(), L.Dense(3, activation="softmax")])
        # SGD, not Adam: here a conv bias's gradient is ~1e-8 (BatchNormalization cancels it), and Adam turns the
        # rounding noise of any reordered sum into full-size steps (eager CPU vs GPU would differ the same way)
        model.compile(optimizer=lamina.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=jit_compile)
        return model

    _check_same(build, x, y, fit_samples=48)


def test_mixed_float16_policy(monkeypatch):
    _dynamo_and_aot_autograd_only(monkeypatch)
    rng = np.random.default_rng(6)
    x, y = rng.random((70, 6)).astype("float32"), rng.integers(0, 3, 70)

    def build(jit_compile):
        lamina.mixed_precision.set_global_policy("mixed_float16")
        try:
            model = lamina.Sequential([lamina.Input((6,)), L.Dense(8, activation="relu"), L.Dense(3),
                                       L.Activation("softmax", dtype="float32")])
        finally:
            lamina.mixed_precision.set_global_policy("float32")
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      jit_compile=jit_compile)
        return model

    _, compiled = _check_same(build, x, y, fit_samples=64)
    assert compiled["model"].layers[0].compute_dtype == "float16"


def test_many_models_in_one_process_keep_compiling(monkeypatch):
    """Models of different widths: torch resumes after a graph break (here the kernel regularizer's) in frames
    all models share (the regularizer's ``__call__``, ...); the 9th model must still compile them, not silently
    run them eagerly after torch's recompile limit (8). The dynamo-only "eager" backend: the caching is
    dynamo's, whatever the backend."""
    monkeypatch.setattr(torch_trainer, "_compile_options", lambda *args, **kwargs: {"backend": "eager"})
    hits = []

    class Hits(logging.Handler):
        def emit(self, record):
            if "recompile_limit" in record.getMessage():
                hits.append(record.getMessage())

    handler = Hits()
    logging.getLogger("torch._dynamo").addHandler(handler)
    rng = np.random.default_rng(7)
    x, y = rng.random((64, 6)).astype("float32"), rng.integers(0, 3, 64)
    try:
        for i in range(10):
            results = []
            for jit_compile in (False, True):
                lamina.utils.set_random_seed(i)
                model = lamina.Sequential([
                    lamina.Input((6,)), L.Dense(4 + i, activation="relu", kernel_regularizer="l2"),
                    L.Dense(3, activation="softmax")])
                model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit_compile)
                before = _graphs()
                loss = model.fit(x, y, batch_size=32, epochs=1, verbose=0).history["loss"]
                results.append((loss, model.get_weights(), _graphs() - before))
            (loss_e, w_e, _), (loss_c, w_c, graphs) = results
            assert graphs > 0, f"model {i}: nothing compiled"
            np.testing.assert_allclose(loss_c, loss_e, rtol=1e-5)
            for a, b in zip(w_c, w_e):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    finally:
        logging.getLogger("torch._dynamo").removeHandler(handler)
    assert not hits, hits[0]
