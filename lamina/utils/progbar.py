"""A Keras-style progress bar for training, evaluation and prediction."""

import sys
import time

from lamina.utils import io_utils


class Progbar:
    """Displays progress as ``12/1875 ━━━━━━━━━━━━━━━━━━━━ 3s 2ms/step - accuracy: 0.91 - loss: 0.29``.

    Args:
        target: total number of steps, or None if unknown.
        verbose: 1 for a live bar, 2 for one line at the end, 0 for silence.
        interval: minimum seconds between refreshes (metric values are read only then).

    Example:
    >>> from lamina.utils import Progbar
    >>> bar = Progbar(target=2, verbose=2)
    >>> bar.update(2, values={"loss": 0.5}, finalize=True)  # doctest: +ELLIPSIS
    2/2 - 0s - ...s/step - loss: 0.5000
    """

    def __init__(self, target, width=20, verbose=1, interval=0.25, stateful_metrics=None, unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.seen = 0
        self._start = time.time()
        self._last_update = 0.0
        self._dynamic = (io_utils.is_interactive_logging_enabled() and hasattr(sys.stdout, "isatty") and
                         sys.stdout.isatty())
        self._last_len = 0
        self._values = {}
        self._values_order = []  # as Keras: metrics are shown in the order they were first reported

    def register(self, names):
        """Reserve the display order of ``names`` (metrics that will be reported), as if they had been
        reported already (Keras's bar learns them from every batch's logs)."""
        for k in names:
            if k not in self._values_order:
                self._values_order.append(k)

    def update(self, current, values=None, finalize=False, logs_fn=None):
        """Record progress; redraw when due. ``finalize`` prints the final state of the bar."""
        self.seen = current
        self._record(values)
        now = time.time()
        if not finalize and (self.verbose != 1 or not self._dynamic or now - self._last_update < self.interval):
            return
        self._last_update = now
        if values is None and logs_fn is not None:
            self._record(logs_fn())
        elapsed = now - self._start
        per_step = elapsed / max(current, 1)
        metrics = "".join(f" - {k}: {_fmt(self._values[k], self.verbose == 2)}" for k in self._values_order
                          if k in self._values)
        if self.verbose == 2 or not self._dynamic:
            if finalize and self.verbose:
                line = f"{current}/{self.target or current} - {elapsed:.0f}s -{_rate(per_step, self.unit_name)}{metrics}"
                io_utils.print_msg(line)
            return
        bar = _bar(current, self.target, self.width)
        if finalize:
            eta = f" {elapsed:.0f}s"
        else:
            remaining = (self.target - current) * per_step if self.target else 0
            eta = f" {remaining:.0f}s" if self.target else ""
        line = f"\r{current}/{self.target or '?'} {bar}{eta}{_rate(per_step, self.unit_name)}{metrics}"
        pad = max(self._last_len - len(line), 0)
        self._last_len = len(line)
        sys.stdout.write(line + " " * pad + ("\n" if finalize else ""))
        sys.stdout.flush()

    def _record(self, values):
        pairs = values.items() if isinstance(values, dict) else (values or [])
        for k, v in pairs:
            if k not in self._values_order:
                self._values_order.append(k)
            self._values[k] = v


def _bar(current, target, width):
    if not target:
        return ""
    done = int(width * min(current / target, 1.0))
    return "\u2501" * done + "\u2500" * (width - done) if done < width else "\u2501" * width


def _rate(per_step, unit):
    if per_step >= 1:
        return f" {per_step:.0f}s/{unit}"
    if per_step >= 1e-3:
        return f" {per_step * 1e3:.0f}ms/{unit}"
    return f" {per_step * 1e6:.0f}us/{unit}"


def _fmt(v, line=False):
    """A value as Keras's progress bar prints it: 4 decimals above 1e-3 in size, else scientific (0 included:
    ``0.0000e+00``). With verbose=2 the value itself is compared, not its size, as Keras does (a negative
    value prints in scientific form there)."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{v:.4f}" if (v if line else abs(v)) > 1e-3 else f"{v:.4e}"
