"""The ``lamina`` command (also ``python -m lamina``).

Subcommands:

* ``lamina info``: lamina's version, the backend, engine versions, the device and Python.
* ``lamina summary FILE``: load a ``.keras``/``.h5`` model and print ``model.summary()``.
* ``lamina export FILE --format onnx|torch|jax [--output PATH]``: ``model.export(PATH, format=...)``.
* ``lamina serve FILE [--port 8501] [--host 127.0.0.1] [--model-name NAME] ...``: serve the model
  with TensorFlow Serving's REST API (see ``lamina.serving``).

A user error (missing file, unreadable model, bad option) prints one line to stderr and exits
with status 2.
"""

import argparse
import importlib.metadata
import os
import platform
import sys

EXPORT_SUFFIXES = {"onnx": ".onnx", "torch": ".pt2", "jax": ".jax"}
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


class CommandError(Exception):
    """A user error: printed as one line to stderr, exit status 2."""


def _version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def cmd_info(args):
    import lamina

    rows = [("lamina", lamina.__version__), ("backend", lamina.backend.backend())]
    rows += [(pkg, _version(pkg)) for pkg in ("torch", "jax", "jaxlib", "numpy")]
    rows += [("device", lamina.backend.core.device_name()),
             ("python", f"{platform.python_version()} ({sys.executable})"),
             ("platform", platform.platform())]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def _load(path, command):
    if not os.path.exists(path):
        raise CommandError(f"lamina {command}: no such file: {path}")
    if os.path.isdir(path):
        raise CommandError(f"lamina {command}: {path} is a folder; expected a model file "
                           f"({', '.join(MODEL_SUFFIXES)}).")
    if not path.lower().endswith(MODEL_SUFFIXES):
        raise CommandError(f"lamina {command}: cannot load {path}: expected a model file ending in "
                           f"{' or '.join(MODEL_SUFFIXES)}.")
    from lamina.models import load_model

    try:
        return load_model(path)
    except (ValueError, TypeError, OSError, KeyError) as exc:
        message = " ".join(str(exc).split())
        raise CommandError(f"lamina {command}: cannot load {path}: {message}") from None


def cmd_summary(args):
    _load(args.file, "summary").summary()
    return 0


def cmd_export(args):
    model = _load(args.file, "export")
    output = args.output or os.path.splitext(args.file)[0] + EXPORT_SUFFIXES[args.format]
    try:
        model.export(output, format=args.format, verbose=False)
    except (ValueError, TypeError, ImportError, RuntimeError, OSError) as exc:
        raise CommandError(f"lamina export: {' '.join(str(exc).split())}") from None
    print(f"lamina export: wrote {args.format} program to {output}")
    return 0


def cmd_serve(args):
    if not 0 <= args.port <= 65535:
        raise CommandError(f"lamina serve: --port must be in 0..65535, but received {args.port}.")
    if args.max_batch_size < 1:
        raise CommandError(f"lamina serve: --max-batch-size must be >= 1, but received {args.max_batch_size}.")
    if args.batch_timeout_ms < 0:
        raise CommandError(f"lamina serve: --batch-timeout-ms must be >= 0, but received {args.batch_timeout_ms}.")
    if args.max_request_mb <= 0:
        raise CommandError(f"lamina serve: --max-request-mb must be > 0, but received {args.max_request_mb}.")
    try:
        from lamina.serving import serve
    except ImportError as exc:
        raise CommandError(f"lamina serve: {exc}") from None
    model = _load(args.file, "serve")

    name = args.model_name or os.path.splitext(os.path.basename(args.file))[0]
    try:
        serve(model, host=args.host, port=args.port, model_name=name,
              max_batch_size=1 if args.no_batching else args.max_batch_size,
              batch_timeout_ms=args.batch_timeout_ms,
              max_request_bytes=int(args.max_request_mb * 1024 * 1024),
              shutdown_timeout=args.shutdown_timeout)
    except OSError as exc:  # e.g. the port is taken
        raise CommandError(f"lamina serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") \
            from None
    except ValueError as exc:
        raise CommandError(f"lamina serve: {' '.join(str(exc).split())}") from None
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="lamina", description="lamina: the Keras API on PyTorch and JAX.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("info", help="print versions, backend and device")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("summary", help="print a saved model's summary")
    p.add_argument("file", help="a .keras or .h5 model file")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("export", help="export a saved model as ONNX, torch.export or jax.export")
    p.add_argument("file", help="a .keras or .h5 model file")
    p.add_argument("--format", required=True, choices=sorted(EXPORT_SUFFIXES))
    p.add_argument("--output", "-o", help="the file to write (default: FILE with the format's suffix)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("serve", help="serve a saved model over HTTP (TensorFlow Serving's REST API)")
    p.add_argument("file", help="a .keras or .h5 model file")
    p.add_argument("--port", type=int, default=8501, help="port to listen on; 0 picks a free one (default 8501)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--model-name", help="NAME in /v1/models/NAME (default: the file name without suffix)")
    p.add_argument("--max-batch-size", type=int, default=32, help="most instances per model call (default 32)")
    p.add_argument("--batch-timeout-ms", type=float, default=2.0,
                   help="how long a request waits for others to batch with (default 2 ms)")
    p.add_argument("--no-batching", action="store_true", help="one model call per request")
    p.add_argument("--max-request-mb", type=float, default=16.0,
                   help="larger request bodies get 413 (default 16 MiB)")
    p.add_argument("--shutdown-timeout", type=float, default=30.0,
                   help="most seconds to finish in-flight requests after SIGTERM/SIGINT (default 30)")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv=None):
    """Run the ``lamina`` command line with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Example:
    >>> main(["summary", "no-such-file.keras"])  # the one-line message goes to stderr
    2
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CommandError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
