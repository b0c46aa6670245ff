"""Shared helpers of the monitoring callbacks: which way a metric improves."""

import warnings

import numpy as np

_MAX_HINTS = ("acc", "auc", "precision", "recall", "f1", "fbeta", "iou", "r2", "cosine_similarity",
              "true_positives", "true_negatives", "specificity", "sensitivity", "fmeasure")
_MIN_HINTS = ("loss", "error", "mae", "mse", "mape", "msle", "crossentropy", "hinge", "kl_divergence",
              "poisson", "logcosh", "false_positives", "false_negatives", "huber")


def check_mode(mode, who):
    """Keras falls back to "auto" (with a warning) for an unknown mode; so do we."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{who} mode '{mode}' is unknown (expected 'auto', 'min' or 'max'), "
                      "fallback to auto mode.", stacklevel=3)
        return "auto"
    return mode


def infer_direction(monitor, model=None):
    """"max", "min", or None when the name says nothing (used by mode="auto")."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith("_loss"):
        return "min"
    if model is not None:
        for m in getattr(model, "metrics", []) or []:
            if getattr(m, "name", None) == name and getattr(m, "_direction", None) in ("up", "down"):
                return "max" if m._direction == "up" else "min"
    lowered = name.lower()
    if any(h in lowered for h in _MIN_HINTS):
        return "min"
    if any(h in lowered for h in _MAX_HINTS):
        return "max"
    return None


def resolve_mode(mode, monitor, model, who):
    """``mode`` with "auto" replaced by the direction the metric name implies; a clear error when it implies none."""
    if mode != "auto":
        return mode
    direction = infer_direction(monitor, model)
    if direction is None:
        raise ValueError(
            f"{who} callback received monitor={monitor}, but lamina isn't able to "
            "automatically determine whether that metric should be maximized or minimized. "
            "Pass `mode='max'` in order to monitor based on the highest metric value, or pass "
            "`mode='min'` in order to use the lowest value.")
    return direction


def monitor_value(logs, monitor, what, end=""):
    """The monitored value from ``logs`` or None, with Keras's warning when it is missing (``end``: what
    Keras's message ends with after the list of metrics)."""
    logs = logs or {}
    value = logs.get(monitor)
    if value is None:
        warnings.warn(f"{what} conditioned on metric `{monitor}` which is not available. "
                      f"Available metrics are: {','.join(list(logs.keys()))}{end}", stacklevel=3)
        return None
    return value


def to_float(value):
    return float(np.asarray(value))
