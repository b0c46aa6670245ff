"""Where training messages go: standard output (interactive logging, the default) or Python's ``logging``."""

import logging
import sys

_STATE = {"interactive": True}


def enable_interactive_logging():
    """Progress bars and callback messages print to standard output (the default)."""
    _STATE["interactive"] = True


def disable_interactive_logging():
    """Progress bars and callback messages go to the ``"lamina"`` logger of Python's ``logging`` (level INFO),
    one line per epoch and no live progress bar: for jobs whose output is collected by a logging system.

    Example:
    >>> import lamina
    >>> lamina.utils.disable_interactive_logging(); lamina.utils.is_interactive_logging_enabled()
    False
    >>> lamina.utils.enable_interactive_logging()
    """
    _STATE["interactive"] = False


def is_interactive_logging_enabled():
    """True when training messages print to standard output (see ``disable_interactive_logging``)."""
    return _STATE["interactive"]


def print_msg(message, line_break=True):
    """Show a training message: printed (interactive logging) or logged to the ``"lamina"`` logger."""
    if _STATE["interactive"]:
        sys.stdout.write(message + ("\n" if line_break else ""))
        sys.stdout.flush()
    else:
        logging.getLogger("lamina").info(message.strip("\n\r"))
