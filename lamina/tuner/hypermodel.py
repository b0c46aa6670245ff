"""``HyperModel``: builds (and optionally fits) a model from hyperparameters."""


class HyperModel:
    """Subclass and override ``build(hp)``; override ``fit(hp, model, *args, **kwargs)`` to tune fit arguments.

    Example:
    >>> import lamina
    >>> class MyHyperModel(HyperModel):
    ...     def build(self, hp):
    ...         model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(hp.Int("units", 1, 4))])
    ...         model.compile(loss="mse")
    ...         return model
    ...     def fit(self, hp, model, *args, **kwargs):
    ...         return model.fit(*args, batch_size=hp.Choice("batch_size", [8, 16]), **kwargs)
    """

    def __init__(self, name=None, tunable=True):
        self.name = name
        self.tunable = tunable

    def build(self, hp):
        """Return a compiled model for the hyperparameters ``hp``."""
        raise TypeError(f"{type(self).__name__} must override build(hp) to return a compiled model.")

    def fit(self, hp, model, *args, **kwargs):
        """Train ``model``; return its History, a dict of metrics or a float."""
        return model.fit(*args, **kwargs)


class FunctionHyperModel(HyperModel):
    """Wraps a plain ``build_model(hp)`` function."""

    def __init__(self, build_fn):
        super().__init__(name=getattr(build_fn, "__name__", None))
        self._build_fn = build_fn

    def build(self, hp):
        return self._build_fn(hp)


def as_hypermodel(hypermodel):
    if isinstance(hypermodel, HyperModel):
        return hypermodel
    if callable(hypermodel):
        return FunctionHyperModel(hypermodel)
    raise TypeError("hypermodel must be a HyperModel or a function build_model(hp) returning a compiled model, "
                    f"but received {hypermodel!r}.")
