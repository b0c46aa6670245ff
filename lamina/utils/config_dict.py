"""``Config``: a dict of named values with attribute access, freezing and JSON (``keras.utils.Config``)."""

import difflib
import json

_OWN = ("_values", "_frozen")


class Config:
    """Named values, read and set as attributes or as items; ``freeze()`` makes it read-only.

    Example:
    >>> from lamina.utils import Config
    >>> config = Config(learning_rate=0.1)
    >>> config.momentum = 0.9
    >>> config["seed"] = 3
    >>> config.learning_rate, config["momentum"], sorted(config)
    (0.1, 0.9, ['learning_rate', 'momentum', 'seed'])
    >>> config.freeze()
    >>> config.seed = 4
    Traceback (most recent call last):
        ...
    ValueError: Config is frozen: cannot set 'seed' (call unfreeze() first).
    """

    def __init__(self, **kwargs):
        object.__setattr__(self, "_values", dict(kwargs))
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self):
        return self._frozen

    def freeze(self):
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self):
        object.__setattr__(self, "_frozen", False)

    def _check_mutable(self, what):
        if self._frozen:
            raise ValueError(f"Config is frozen: cannot {what} (call unfreeze() first).")

    def as_dict(self):
        """A shallow copy of the values as a plain dict."""
        return dict(self._values)

    def to_json(self):
        return json.dumps(self._values)

    def keys(self):
        return self._values.keys()

    def values(self):
        return self._values.values()

    def items(self):
        return self._values.items()

    def get(self, key, default=None):
        return self._values.get(key, default)

    def pop(self, *args):
        self._check_mutable(f"pop {args[0]!r}" if args else "pop")
        return self._values.pop(*args)

    def update(self, *args, **kwargs):
        self._check_mutable("update it")
        self._values.update(*args, **kwargs)

    def __getattr__(self, name):
        if name.startswith("__") or name in _OWN:
            raise AttributeError(name)
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        close = difflib.get_close_matches(name, list(values), n=1, cutoff=0.7)
        raise AttributeError(f"Config has no value named '{name}'." + (f" Did you mean '{close[0]}'?" if close else ""))

    def __setattr__(self, name, value):
        if name in _OWN or name in type(self).__dict__:
            raise AttributeError(f"Config: '{name}' is a method or property of Config, not a value; set it as an "
                                 f"item instead (config[{name!r}] = ...).")
        self._check_mutable(f"set {name!r}")
        self._values[name] = value

    def __delattr__(self, name):
        self._check_mutable(f"delete {name!r}")
        del self._values[name]

    def __getitem__(self, key):
        return self._values[key]

    def __setitem__(self, key, value):
        self._check_mutable(f"set {key!r}")
        self._values[key] = value

    def __delitem__(self, key):
        self._check_mutable(f"delete {key!r}")
        del self._values[key]

    def __contains__(self, key):
        return key in self._values

    def __iter__(self):
        return iter(sorted(self._values))

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        return f"<Config {self._values}>"
