"""Shorter tracebacks: the frames inside lamina's own code are left out of errors raised through its public
entry points (``fit``, ``evaluate``, ``predict``, a layer call, ...), so a traceback shows the user's code and
the error message, which names what went wrong. ``lamina.config.disable_traceback_filtering()`` (or
``LAMINA_TRACEBACK_FILTERING=0`` in the environment) keeps every frame, for debugging lamina itself."""

import functools
import os
import types

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # lamina's package folder
_STATE = {"enabled": os.environ.get("LAMINA_TRACEBACK_FILTERING", "1").strip().lower() not in ("0", "false", "no")}


def enable_traceback_filtering():
    """Leave lamina's internal frames out of the tracebacks of errors (the default)."""
    _STATE["enabled"] = True


def disable_traceback_filtering():
    """Show every frame of an error's traceback, lamina's internal ones included.

    Example:
    >>> import lamina
    >>> lamina.config.disable_traceback_filtering(); lamina.config.is_traceback_filtering_enabled()
    False
    >>> lamina.config.enable_traceback_filtering()
    """
    _STATE["enabled"] = False


def is_traceback_filtering_enabled():
    """True when tracebacks leave lamina's internal frames out (see ``disable_traceback_filtering``)."""
    return _STATE["enabled"]


def _filtered(tb):
    """``tb`` without the frames of files inside lamina's package (the others keep their order)."""
    kept = []
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_ROOT):
            kept.append(tb)
        tb = tb.tb_next
    out = None
    for t in reversed(kept):
        out = types.TracebackType(out, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return out


def filter_traceback(fn):
    """Wrap a public entry point: an error raised through it keeps its message, type and cause, and loses
    the traceback frames inside lamina."""

    @functools.wraps(fn)
    def entry_point(*args, **kwargs):
        if not _STATE["enabled"]:
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            tb = _filtered(e.__traceback__)
            try:
                raise e.with_traceback(tb)  # the same exception: its __cause__ and __context__ stay
            finally:
                del tb, e

    return entry_point
