"""The `lamina` command: info, summary, export, serve's argument errors, and one-line error exits."""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import lamina
from lamina.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    inp = lamina.Input((3,), name="x")
    model = lamina.Model(inp, lamina.layers.Dense(2, name="head")(inp), name="tiny_cli")
    path = str(tmp_path_factory.mktemp("cli") / "tiny.keras")
    model.save(path)
    return path, model


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, fragment):
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert fragment in err


def test_info_names_versions_backend_and_device(capsys):
    code, out, _ = run(capsys, "info")
    assert code == 0
    fields = dict(line.split(None, 1) for line in out.strip().splitlines())
    assert fields["lamina"] == lamina.__version__
    assert fields["backend"] == lamina.backend.backend()
    assert {"torch", "jax", "numpy", "device", "python"} <= set(fields)


def test_python_dash_m_lamina_runs_the_command():
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, "-m", "lamina", "summary", "missing.keras"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == "lamina summary: no such file: missing.keras\n"


def test_summary_prints_the_model(capsys, model_file, tmp_path):
    code, out, _ = run(capsys, "summary", model_file[0])
    assert code == 0
    assert "tiny_cli" in out and "head (Dense)" in out and "Total params: 8" in out
    h5 = str(tmp_path / "tiny.h5")
    with pytest.warns(DeprecationWarning, match="legacy Keras 2 HDF5"):
        model_file[1].save(h5)
    code, out, _ = run(capsys, "summary", h5)
    assert code == 0 and "head (Dense)" in out


def test_summary_errors_exit_2_with_one_line(capsys, tmp_path):
    assert_one_line_error(*run(capsys, "summary", str(tmp_path / "nope.keras"))[::2], "no such file")
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a model at all")
    assert_one_line_error(*run(capsys, "summary", str(bad))[::2], f"cannot load {bad}")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert_one_line_error(*run(capsys, "summary", str(text))[::2], "expected a model file ending in .keras")
    assert_one_line_error(*run(capsys, "summary", str(tmp_path))[::2], "is a folder")


def test_argument_errors_exit_2(capsys):
    for argv in ([], ["nonsense"], ["export", "m.keras"], ["export", "m.keras", "--format", "tflite"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    capsys.readouterr()


def test_serve_errors_exit_2(capsys, model_file, tmp_path):
    assert_one_line_error(*run(capsys, "serve", str(tmp_path / "nope.keras"))[::2], "no such file")
    assert_one_line_error(*run(capsys, "serve", model_file[0], "--port", "70000")[::2], "--port must be")
    assert_one_line_error(*run(capsys, "serve", model_file[0], "--max-batch-size", "0")[::2],
                          "--max-batch-size must be")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_line_error(*run(capsys, "serve", model_file[0], "--port", str(port))[::2],
                              f"cannot listen on 127.0.0.1:{port}")


def test_export_writes_a_program_that_computes_the_model(capsys, model_file, tmp_path):
    # The format this engine writes itself (the others run a second engine in a child process).
    fmt = lamina.backend.export.native_formats()[0]
    out_path = str(tmp_path / ("m.pt2" if fmt == "torch" else "m.bin"))
    code, out, err = run(capsys, "export", model_file[0], "--format", fmt, "--output", out_path)
    assert code == 0, err
    assert f"wrote {fmt} program to {out_path}" in out
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    if fmt == "torch":
        import torch

        from test_export import _program_device

        program = torch.export.load(out_path).module()
        got = program(torch.as_tensor(x, device=_program_device(program))).detach().cpu().numpy()
    else:
        import jax

        with open(out_path, "rb") as f:
            got = np.asarray(jax.export.deserialize(bytearray(f.read())).call(x))
    np.testing.assert_allclose(got, model_file[1].predict(x, verbose=0), atol=1e-5)
    code, _, err = run(capsys, "export", model_file[0], "--format", fmt, "--output",
                       str(tmp_path / "no" / "such" / "dir" / "m.pt2"))
    assert_one_line_error(code, err, "lamina export:")
