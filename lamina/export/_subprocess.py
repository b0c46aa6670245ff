"""Cross-backend export: write a format the current engine cannot, in a child process on the other engine.

The parent saves the model to a temporary ``.keras`` file and runs
``python -m lamina.export._subprocess REQUEST.json`` with ``LAMINA_BACKEND`` set to the engine
that writes the format. The child loads the model and exports it in-process. A failure in the
child is raised in the parent as a ``RuntimeError`` carrying the child's error message.

Models with custom layers must be loadable in the child: register their classes with
``lamina.saving.register_lamina_serializable`` in a module the child imports, or export from
the matching backend.
"""

import json
import os
import subprocess
import sys
import tempfile

_ERROR_MARK = "LAMINA_EXPORT_ERROR:"


def export_in_subprocess(model, filepath, format, engine, specs, single_input, verbose, kwargs):
    """Save ``model``, export it in a child process running ``engine``; return ``filepath``."""
    try:
        json.dumps(kwargs)
    except TypeError as e:
        raise TypeError(f"export(format={format!r}) from another backend passes its options to a child "
                        f"process as JSON; received options that are not JSON: {e}") from None
    with tempfile.TemporaryDirectory(prefix="lamina_export_") as tmp:
        model_path = os.path.join(tmp, "model.keras")
        try:
            model.save(model_path)
        except Exception as e:  # any saving failure: say why the file was needed
            raise ValueError(
                f"export(format={format!r}) runs on the {engine} engine in a child process, which needs "
                f"the model saved to a .keras file, but saving model '{model.name}' failed: {e}. Make "
                f"the model saveable (get_config) or export from LAMINA_BACKEND={engine}."
            ) from e
        request = {"model": model_path, "filepath": os.path.abspath(filepath), "format": format,
                   "specs": [[list(shape), dtype] for shape, dtype in specs],
                   "single_input": single_input, "verbose": bool(verbose), "kwargs": kwargs}
        request_path = os.path.join(tmp, "request.json")
        with open(request_path, "w") as f:
            json.dump(request, f)
        env = dict(os.environ, LAMINA_BACKEND=engine)
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [env.get("PYTHONPATH")] if p])
        proc = subprocess.run([sys.executable, "-m", "lamina.export._subprocess", request_path],
                              env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"export(format={format!r}): the child process on the {engine} engine failed "
            f"(exit code {proc.returncode}): {_child_message(proc.stderr)}"
        )
    if verbose and proc.stdout:
        print(proc.stdout, end="")
    return filepath


def _child_message(stderr):
    for line in stderr.splitlines():
        if line.startswith(_ERROR_MARK):
            return line[len(_ERROR_MARK):].strip()
    tail = "\n".join(stderr.strip().splitlines()[-15:])
    return tail or "(no error output)"


def _main(request_path):
    with open(request_path) as f:
        request = json.load(f)
    from lamina import backend
    from lamina.export import export_model
    from lamina.layers import InputSpec
    from lamina.saving import load_model

    if request["format"] not in backend.export.native_formats():  # never spawn another child
        raise RuntimeError(f"the child process runs the {backend.backend()} engine, which does not write "
                           f"format {request['format']!r}; is LAMINA_BACKEND overridden?")
    model = load_model(request["model"], compile=False)
    signature = [InputSpec(shape=tuple(shape), dtype=dtype) for shape, dtype in request["specs"]]
    export_model(model, request["filepath"], format=request["format"], verbose=request["verbose"],
                 input_signature=signature[0] if request["single_input"] else signature,
                 **request["kwargs"])


if __name__ == "__main__":
    try:
        _main(sys.argv[1])
    except Exception as e:  # report any failure to the parent in one line
        message = f"{type(e).__name__}: {e}".replace("\n", " ")
        print(f"{_ERROR_MARK} {message}", file=sys.stderr)
        sys.exit(1)
