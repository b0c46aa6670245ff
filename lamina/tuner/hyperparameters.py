"""``HyperParameters``: a define-by-run search space, backed by a live Optuna trial or by defaults.

Each ``hp.Int``/``hp.Float``/``hp.Choice``/``hp.Boolean`` call records the hyperparameter in
the space and returns its value for the current trial: inside a search it asks the Optuna trial
(``trial.suggest_*``); outside one (``build(hp)`` in a notebook) it returns the default.
"""

import contextlib
import math


class HyperParameter:
    """One declared hyperparameter: its kind, range or values, default and activation conditions."""

    def __init__(self, kind, name, conditions=(), **config):
        self.kind = kind
        self.name = name
        self.conditions = tuple(conditions)
        self.config = config

    @property
    def default(self):
        c = self.config
        if self.kind == "fixed":
            return c["value"]
        if c.get("default") is not None:
            return c["default"]
        return {"int": c.get("min_value"), "float": c.get("min_value"), "boolean": False,
                "choice": (c.get("values") or [None])[0]}[self.kind]

    def _geometric(self):
        c = self.config
        out, v = [], c["min_value"]
        while v <= c["max_value"] * (1 + 1e-9):
            out.append(v)
            v = v * c["step"]
        return out

    def _is_geometric(self):
        return self.config.get("sampling") == "log" and self.config.get("step") not in (None, 1)

    def grid_values(self):
        """Every value this hyperparameter can take, for ``GridSearch``."""
        c = self.config
        if self.kind == "fixed":
            return [c["value"]]
        if self.kind == "boolean":
            return [False, True]
        if self.kind == "choice":
            return list(c["values"])
        if self._is_geometric():
            return self._geometric()
        if self.kind == "int":
            return list(range(c["min_value"], c["max_value"] + 1, c.get("step") or 1))
        if c.get("step") is None:
            raise ValueError(f"GridSearch cannot enumerate Float hyperparameter '{self.name}': it has no `step`. "
                             f"Give it one, e.g. hp.Float('{self.name}', {c['min_value']}, {c['max_value']}, "
                             "step=...), or use hp.Choice with the values to try.")
        n = int(math.floor((c["max_value"] - c["min_value"]) / c["step"] + 1e-9)) + 1
        return [c["min_value"] + i * c["step"] for i in range(n)]

    def suggest(self, trial):
        """Ask the Optuna ``trial`` for this hyperparameter's value."""
        c, name = self.config, self.name
        if self.kind == "fixed":
            return c["value"]
        if self.kind == "boolean":
            return trial.suggest_categorical(name, [False, True])
        if self.kind == "choice":
            return trial.suggest_categorical(name, list(c["values"]))
        if self._is_geometric():
            return trial.suggest_categorical(name, self._geometric())
        if c.get("sampling") == "reverse_log":
            # dense near max_value, as Keras Tuner: a log-sampled value mirrored in the range (the study holds
            # the log-sampled one, so a repeated trial gets the same value)
            lo, hi = c["min_value"], c["max_value"]
            if self.kind == "int":
                return lo + hi - trial.suggest_int(name, lo, hi, log=True)
            return lo + hi - trial.suggest_float(name, lo, hi, log=True)
        log = c.get("sampling") == "log"
        if self.kind == "int":
            return trial.suggest_int(name, c["min_value"], c["max_value"], step=1 if log else (c.get("step") or 1),
                                     log=log)
        return trial.suggest_float(name, c["min_value"], c["max_value"], step=None if log else c.get("step"),
                                   log=log)

    def describe(self):
        """A dict for ``search_space_summary``."""
        out = {k: v for k, v in self.config.items() if v is not None}
        if self.conditions:
            out["conditions"] = [{"parent_name": p, "parent_values": list(v)} for p, v in self.conditions]
        return out

    def get_config(self):
        return {"kind": self.kind, "name": self.name,
                "conditions": [[p, list(v)] for p, v in self.conditions], "config": dict(self.config)}

    def __repr__(self):
        return f"{self.kind.capitalize()}({self.name!r}, {self.describe()})"


def _check_name(kind, name):
    if not isinstance(name, str) or not name:
        raise TypeError(f"hp.{kind}: `name` must be a non-empty string, but received {name!r}.")


def _sampling(sampling):
    """Keras Tuner's sampling names, in any case ('LOG' is 'log'); None is 'linear'."""
    return "linear" if sampling is None else (sampling.lower() if isinstance(sampling, str) else sampling)


def _check_range(kind, name, min_value, max_value, step, sampling):
    who = f"{kind} hyperparameter '{name}'"
    number = int if kind == "Int" else (int, float)
    for arg, v in (("min_value", min_value), ("max_value", max_value)):
        if isinstance(v, bool) or not isinstance(v, number):
            raise TypeError(f"{who}: `{arg}` must be {'an int' if kind == 'Int' else 'a number'}, "
                            f"but received {v!r}.")
    if min_value > max_value:
        raise ValueError(f"{who}: min_value ({min_value}) must be <= max_value ({max_value}).")
    if sampling not in ("linear", "log", "reverse_log"):
        raise ValueError(f"{who}: `sampling` must be 'linear', 'log' or 'reverse_log', but received {sampling!r}.")
    if step is not None and (isinstance(step, bool) or not isinstance(step, number) or step <= 0):
        raise ValueError(f"{who}: `step` must be a positive {'int' if kind == 'Int' else 'number'}, "
                         f"but received {step!r}.")
    if sampling in ("log", "reverse_log"):
        if min_value <= 0:
            raise ValueError(f"{who}: log sampling needs min_value > 0, but received min_value={min_value}.")
        if step is not None and step != 1 and step <= 1:
            raise ValueError(f"{who}: with log sampling `step` is a multiplier and must be > 1, "
                             f"but received {step!r}.")


class HyperParameters:
    """A search space and the values chosen for one trial.

    Example:
    >>> from lamina.tuner import HyperParameters
    >>> hp = HyperParameters()
    >>> hp.Int("units", 32, 128, step=32)
    32
    >>> hp.values
    {'units': 32}
    """

    def __init__(self):
        self._space = {}
        self.values = {}
        self._trial = None
        self._scopes = []
        self._prefix = []
        self._preset = {}
        self._known = None  # with a user-given space: the names in it
        self._tune_new = True
        self._allow_new = True
        self._closed = None  # GridSearch: the names in its grid

    @classmethod
    def _for_trial(cls, trial):
        hp = cls()
        hp._trial = trial
        return hp

    @classmethod
    def from_values(cls, values):
        """HyperParameters whose calls return ``values`` (defaults for names not in it)."""
        hp = cls()
        hp._preset = dict(values)
        return hp

    # ---- declaring -------------------------------------------------------------------------

    def _register(self, kind, name, parent_name, parent_values, **config):
        name = "/".join(self._prefix + [name])
        conditions = list(self._scopes)
        if parent_name is not None:
            conditions.append(self._condition(parent_name, parent_values))
        spec = self._space.get(name)
        if spec is None:
            spec = HyperParameter(kind, name, conditions, **config)
            self._space[name] = spec
        if not self._active(spec.conditions):
            self.values.pop(name, None)
            return None
        new_entry = self._known is not None and name not in self._known
        if new_entry and not self._allow_new:
            raise ValueError(f"Hyperparameter '{name}' is not in the given `hyperparameters` and "
                             "allow_new_entries=False; add it to the given HyperParameters or allow new entries.")
        if self._closed is not None and self._trial is not None and name not in self._closed:
            from lamina.tuner.errors import FatalValueError

            raise FatalValueError(f"Hyperparameter '{name}' was not declared when GridSearch built its grid from "
                                  "build(hp) with default values. Declare it in build, or pass it in "
                                  "`hyperparameters=` to the tuner.")
        if name not in self.values:
            if name in self._preset:
                self.values[name] = self._preset[name]
            elif self._trial is not None and not (new_entry and not self._tune_new):
                self.values[name] = spec.suggest(self._trial)
            else:
                self.values[name] = spec.default
        return self.values[name]

    def Int(self, name, min_value, max_value, step=None, sampling="linear", default=None, parent_name=None,
            parent_values=None):
        """An integer in ``[min_value, max_value]``; ``step`` spaces it (a multiplier under log sampling)."""
        _check_name("Int", name)
        sampling = _sampling(sampling)
        _check_range("Int", name, min_value, max_value, step, sampling)
        if default is not None and not min_value <= default <= max_value:
            raise ValueError(f"Int hyperparameter '{name}': default {default} is outside "
                             f"[{min_value}, {max_value}].")
        return self._register("int", name, parent_name, parent_values, min_value=int(min_value),
                              max_value=int(max_value), step=step, sampling=sampling, default=default)

    def Float(self, name, min_value, max_value, step=None, sampling="linear", default=None, parent_name=None,
              parent_values=None):
        """A float in ``[min_value, max_value]``, linear or log sampled, optionally on a ``step`` grid."""
        _check_name("Float", name)
        sampling = _sampling(sampling)
        _check_range("Float", name, min_value, max_value, step, sampling)
        if default is not None and not min_value <= default <= max_value:
            raise ValueError(f"Float hyperparameter '{name}': default {default} is outside "
                             f"[{min_value}, {max_value}].")
        return self._register("float", name, parent_name, parent_values, min_value=float(min_value),
                              max_value=float(max_value), step=step, sampling=sampling, default=default)

    def Choice(self, name, values, ordered=None, default=None, parent_name=None, parent_values=None):
        """One of ``values`` (all ints, floats, strings or bools)."""
        _check_name("Choice", name)
        values = list(values) if isinstance(values, (list, tuple)) else values
        if not isinstance(values, list) or not values:
            raise ValueError(f"Choice hyperparameter '{name}': `values` must be a non-empty list, "
                             f"but received {values!r}.")
        kinds = {bool if isinstance(v, bool) else (float if isinstance(v, (int, float)) else type(v))
                 for v in values}
        if len(kinds) > 1 or not kinds <= {bool, float, str}:
            raise TypeError(f"Choice hyperparameter '{name}': the values must all be ints/floats, all strings or "
                            f"all bools, but received {values!r}.")
        if len(set(values)) != len(values):
            raise ValueError(f"Choice hyperparameter '{name}': `values` has duplicates: {values!r}.")
        if default is not None and default not in values:
            raise ValueError(f"Choice hyperparameter '{name}': default {default!r} is not one of {values!r}.")
        if ordered is None:
            ordered = kinds == {float}
        return self._register("choice", name, parent_name, parent_values, values=values, ordered=bool(ordered),
                              default=default)

    def Boolean(self, name, default=False, parent_name=None, parent_values=None):
        """True or False."""
        _check_name("Boolean", name)
        return self._register("boolean", name, parent_name, parent_values, default=bool(default))

    def Fixed(self, name, value, parent_name=None, parent_values=None):
        """A value that is not tuned but is recorded with the trial."""
        _check_name("Fixed", name)
        return self._register("fixed", name, parent_name, parent_values, value=value)

    # ---- conditions and scopes ---------------------------------------------------------------

    def _condition(self, parent_name, parent_values):
        if parent_name not in self._space:
            raise ValueError(f"Conditional hyperparameter: parent '{parent_name}' is not declared yet; declare it "
                             f"(e.g. hp.Choice('{parent_name}', ...)) before hyperparameters that depend on it.")
        if parent_values is None:
            raise ValueError(f"Conditional hyperparameter: `parent_values` is required with "
                             f"parent_name='{parent_name}'.")
        if not isinstance(parent_values, (list, tuple, set)):
            parent_values = [parent_values]
        return parent_name, tuple(parent_values)

    def _active(self, conditions):
        return all(p in self.values and self.values[p] in vals for p, vals in conditions)

    @contextlib.contextmanager
    def conditional_scope(self, parent_name, parent_values):
        """Hyperparameters declared inside are active only when ``parent_name`` takes one of ``parent_values``.

        Example:
        >>> hp = HyperParameters()
        >>> kind = hp.Choice("kind", ["mlp", "cnn"])
        >>> with hp.conditional_scope("kind", ["cnn"]):
        ...     filters = hp.Int("filters", 8, 32)
        >>> filters is None, "filters" in hp.values
        (True, False)
        """
        self._scopes.append(self._condition(parent_name, parent_values))
        try:
            yield
        finally:
            self._scopes.pop()

    @contextlib.contextmanager
    def name_scope(self, name):
        """Prefix the names declared inside with ``name/``."""
        self._prefix.append(name)
        try:
            yield
        finally:
            self._prefix.pop()

    def is_active(self, hp):
        """Whether the hyperparameter (a name or a ``HyperParameter``) is active for the current values."""
        name = hp if isinstance(hp, str) else hp.name
        spec = self._space.get(name)
        return spec is not None and self._active(spec.conditions)

    # ---- reading -----------------------------------------------------------------------------

    def get(self, name):
        """The value of ``name`` (None when it is declared but inactive)."""
        if name in self.values:
            return self.values[name]
        if name in self._space:
            return None
        raise KeyError(f"Hyperparameter '{name}' does not exist; declared: {sorted(self._space) or 'none'}.")

    def __getitem__(self, name):
        return self.get(name)

    def __contains__(self, name):
        return name in self._space or name in self.values

    @property
    def space(self):
        """The declared hyperparameters, in declaration order."""
        return list(self._space.values())

    def copy(self):
        out = HyperParameters()
        out._space = dict(self._space)
        out.values = dict(self.values)
        return out

    def get_config(self):
        return {"space": [s.get_config() for s in self._space.values()], "values": dict(self.values)}

    @classmethod
    def from_config(cls, config):
        hp = cls()
        for s in config.get("space", []):
            hp._space[s["name"]] = HyperParameter(s["kind"], s["name"], [(p, tuple(v)) for p, v in s["conditions"]],
                                                  **s["config"])
        hp.values = dict(config.get("values", {}))
        return hp

    def __repr__(self):
        return f"HyperParameters({self.values})"
