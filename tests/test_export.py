"""model.export / lamina.export.export_model: ONNX, torch.export and jax.export programs (#13).

Formats native to the current engine are exported in-process; the others go through a child
process on the other engine (one test per direction, since each costs an engine import).
"""

import sys

import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.export import FORMAT_ENGINES

NATIVE = list(lamina.backend.export.native_formats())
FOREIGN = [f for f in sorted(FORMAT_ENGINES) if f not in NATIVE]
SUFFIX = {"onnx": ".onnx", "torch": ".pt2", "jax": ".jaxexport"}


def _randomize(model, seed=0):
    """Random (positive, for BatchNorm's variance) weights, so that every variable matters."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(0.1, 1.0, w.shape).astype(w.dtype) for w in model.get_weights()])
    return model


def _mlp():
    return lamina.Sequential([lamina.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(3)])


def _cnn():
    return lamina.Sequential([
        lamina.Input((8, 8, 2)), layers.Conv2D(4, 3, activation="relu"), layers.BatchNormalization(),
        layers.MaxPooling2D(), layers.Flatten(), layers.Dense(3),
    ])


def _lstm():
    return lamina.Sequential([lamina.Input((5, 3)), layers.LSTM(4), layers.Dense(2)])


MODELS = {"mlp": (_mlp, (4,)), "cnn": (_cnn, (8, 8, 2)), "lstm": (_lstm, (5, 3))}


def _program_device(module):
    """The device a loaded torch.export program computes on: that of its weights (a GPU when it was
    exported from a model on a GPU), where its inputs must go; the CPU when it holds no tensor."""
    import torch

    for t in list(module.parameters()) + list(module.buffers()):
        return t.device
    return torch.device("cpu")


def _run(fmt, path, xs):
    """Run an exported file with the format's own runtime; return a list of NumPy outputs."""
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feeds = {i.name: x for i, x in zip(session.get_inputs(), xs)}
        return session.run(None, feeds)
    if fmt == "torch":
        import torch

        module = torch.export.load(str(path)).module()
        device = _program_device(module)
        # Full float32 on a GPU, as lamina's own predict computes (tests/conftest.py), also when this
        # process runs lamina on JAX and torch is only the program's runtime (cuDNN defaults to TF32).
        flags = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
        try:
            out = module(*[torch.as_tensor(x, device=device) for x in xs])
        finally:
            torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = flags
        out = list(out) if isinstance(out, (list, tuple)) else [out]
        return [o.detach().cpu().numpy() for o in out]
    import jax

    with open(path, "rb") as f:
        out = jax.export.deserialize(f.read()).call(*xs)
    out = list(out) if isinstance(out, (list, tuple)) else [out]
    return [np.asarray(o) for o in out]


def _check_matches_predict(model, fmt, path, xs_full):
    for batch in (5, 1):  # neither is the size used while tracing: the batch axis is dynamic
        xs = [x[:batch] for x in xs_full]
        expected = model.predict(xs[0] if len(xs) == 1 else xs, verbose=0)
        expected = list(expected) if isinstance(expected, (list, tuple)) else [expected]
        got = _run(fmt, path, xs)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("fmt", NATIVE)
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_native_export_matches_predict(kind, fmt, tmp_path):
    build, shape = MODELS[kind]
    model = _randomize(build())
    path = tmp_path / f"{kind}{SUFFIX[fmt]}"
    assert model.export(path, format=fmt, verbose=False) == str(path)
    x = np.random.default_rng(1).uniform(-1, 1, (5,) + shape).astype("float32")
    _check_matches_predict(model, fmt, path, [x])


@pytest.mark.parametrize("fmt", FOREIGN)
def test_cross_backend_export_through_a_child_process(fmt, tmp_path, capsys):
    model = _randomize(_cnn())
    path = tmp_path / f"cnn{SUFFIX[fmt]}"
    model.export(path, format=fmt)
    assert str(path) in capsys.readouterr().out  # verbose=True: the child's message is shown
    x = np.random.default_rng(2).uniform(-1, 1, (5, 8, 8, 2)).astype("float32")
    _check_matches_predict(model, fmt, path, [x])


def test_error_in_the_child_process_is_raised_with_its_message(tmp_path):
    model = _mlp()
    expected = r"child process on the \w+ engine failed.*unknown options \['no_such_option'\]"
    with pytest.raises(RuntimeError, match=expected):
        model.export(tmp_path / f"m{SUFFIX[FOREIGN[0]]}", format=FOREIGN[0], verbose=False,
                     no_such_option=1)


@pytest.mark.parametrize("fmt", NATIVE)
def test_two_inputs_two_outputs(fmt, tmp_path):
    a, b = lamina.Input((3,), name="a"), lamina.Input((2,), name="b")
    h = layers.Concatenate()([layers.Dense(4)(a), layers.Dense(3)(b)])
    model = _randomize(lamina.Model([a, b], [layers.Dense(2)(h), layers.Dense(1, activation="sigmoid")(h)]))
    path = tmp_path / f"two{SUFFIX[fmt]}"
    model.export(path, format=fmt, verbose=False)
    rng = np.random.default_rng(3)
    xs = [rng.normal(size=(5, 3)).astype("float32"), rng.normal(size=(5, 2)).astype("float32")]
    _check_matches_predict(model, fmt, path, xs)
    if fmt == "onnx":  # the inputs keep their names; one named, shared batch axis
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        assert [(i.name, i.shape) for i in session.get_inputs()] == [("a", ["batch", 3]), ("b", ["batch", 2])]
        assert [(o.name, o.shape) for o in session.get_outputs()] == [("output_0", ["batch", 2]),
                                                                       ("output_1", ["batch", 1])]


class _Subclassed(lamina.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(2)

    def call(self, x):
        return self.dense(x) * 2.0


@pytest.mark.parametrize("signature", [lamina.InputSpec(shape=(None, 3), dtype="float32"), (None, 3),
                                       [lamina.Input((3,))]])
def test_subclassed_model_with_an_input_signature(signature, tmp_path):
    model = _Subclassed()  # not built: export builds it from the signature
    fmt = NATIVE[0]
    path = tmp_path / f"sub{SUFFIX[fmt]}"
    model.export(path, format=fmt, verbose=False, input_signature=signature)
    x = np.random.default_rng(4).normal(size=(5, 3)).astype("float32")
    _check_matches_predict(model, fmt, path, [x])


def test_subclassed_model_without_a_signature_asks_for_one(tmp_path):
    with pytest.raises(ValueError, match="not built.*input_signature"):
        _Subclassed().export(tmp_path / "m.onnx", verbose=False)
    model = _Subclassed()
    model(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="subclassed model.*input_signature"):
        model.export(tmp_path / "m.onnx", verbose=False)


def test_unknown_format_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match=r"unknown format 'tflite'.*\['jax', 'onnx', 'torch'\]"):
        _mlp().export(tmp_path / "m", format="tflite")


def test_bad_signature_and_file_name_are_explained(tmp_path):
    with pytest.raises(TypeError, match=r"input_signature\[0\] is 'x'"):
        _mlp().export(tmp_path / "m.onnx", input_signature=["x"], verbose=False)
    with pytest.raises(ValueError, match=r"must end in '\.pt2'"):
        _mlp().export(tmp_path / "m.torch", format="torch", verbose=False)
    with pytest.raises(ValueError, match="does not exist"):
        _mlp().export(tmp_path / "nowhere" / "m.onnx", verbose=False)


def test_missing_onnx_package_is_explained(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # makes the package look absent
    with pytest.raises(ImportError, match="needs the package `onnxscript`.*pip install onnx onnxscript"):
        _mlp().export(tmp_path / "m.onnx", format="onnx", verbose=False)
    assert not (tmp_path / "m.onnx").exists()


def _variable_length_lstm():
    return _randomize(lamina.Sequential([lamina.Input((None, 3)), layers.LSTM(4), layers.Dense(2)]))


def test_a_fixed_signature_pins_an_unknown_time_axis(tmp_path):
    model = _variable_length_lstm()
    fmt = NATIVE[0]
    path = tmp_path / f"seq{SUFFIX[fmt]}"
    model.export(path, format=fmt, verbose=False, input_signature=lamina.InputSpec(shape=(None, 6, 3)))
    x = np.random.default_rng(5).normal(size=(5, 6, 3)).astype("float32")
    _check_matches_predict(model, fmt, path, [x])


@pytest.mark.skipif(lamina.backend.backend() != "jax", reason="JAX-specific: symbolic non-batch axes")
def test_jax_keeps_an_unknown_time_axis_symbolic(tmp_path):
    model = _variable_length_lstm()
    model.export(tmp_path / "seq.jaxexport", format="jax", verbose=False)
    for steps in (4, 7):
        x = np.random.default_rng(steps).normal(size=(5, steps, 3)).astype("float32")
        _check_matches_predict(model, "jax", tmp_path / "seq.jaxexport", [x])


@pytest.mark.skipif(lamina.backend.backend() != "torch", reason="torch-specific: the time axis specializes")
def test_torch_explains_an_unknown_time_axis_that_cannot_stay_dynamic(tmp_path):
    with pytest.raises(RuntimeError, match=r"Hint: the unknown sizes of \['input 0 axis 1'\].*input_signature"):
        _variable_length_lstm().export(tmp_path / "seq.pt2", format="torch", verbose=False)
