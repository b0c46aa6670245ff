"""Lazy access to Optuna, the optimization engine behind ``lamina.tuner``."""

_optuna = None


def optuna():
    """Return the ``optuna`` module, importing it on first use.

    Raises:
        ImportError: naming the install command when Optuna is missing.
    """
    global _optuna
    if _optuna is None:
        try:
            import optuna as module
        except ImportError as e:
            raise ImportError(
                "lamina.tuner needs the Optuna package, which is not installed. "
                "Install it with `pip install lamina[tuner]` (or `pip install optuna`).") from e
        module.logging.set_verbosity(module.logging.WARNING)
        _optuna = module
    return _optuna
