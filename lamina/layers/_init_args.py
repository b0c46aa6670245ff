"""Automatic configs: a custom layer or model without its own ``get_config`` saves its constructor arguments.

As in Keras 3, ``Layer.__new__`` records the arguments a layer's constructor is called with, positional
ones bound to their parameter names and defaults filled in (``capture``). A class that does not override
``get_config`` (Layer's and Model's default, marked with ``default_config``) then returns them in its config
when they are all basic values (numbers, strings, booleans, None and lists/tuples/dicts of them), so the
layer saves and loads without code. When some are not (a layer, an array, a function), ``get_config``
raises ``NotImplementedError`` naming them and showing the ``get_config`` to write; saving calls it before
anything is written, so no file that cannot be read back is left behind.

Only classes using the default ``get_config`` pay for the recording (a signature bind per construction);
lamina's own layers define ``get_config`` and skip it. Nothing happens per call.

Example:
>>> import lamina
>>> class Scale(lamina.layers.Layer):
...     def __init__(self, factor, **kwargs):
...         super().__init__(**kwargs)
...         self.factor = factor
...     def call(self, x):
...         return x * self.factor
>>> config = Scale(3.0, name="scale").get_config()
>>> config["name"], config["factor"]
('scale', 3.0)
>>> Scale.from_config(config).factor
3.0
"""

import functools
import inspect
import weakref

_BASIC = (str, int, float, bool, type(None))
# Arguments the base Layer serializes itself (as objects) when a subclass passes them on, or applies without
# keeping them (Keras 2's initial ``weights``).
_BASE_OBJECTS = ("dtype", "activity_regularizer", "weights")
# Keras's input-shape shortcuts: the base config records them as ``batch_input_shape``.
_SHORTCUTS = ("input_shape", "batch_input_shape", "input_dim", "batch_size", "input_length")
_MARK = "_lamina_default_config"
_PLANS = weakref.WeakKeyDictionary()  # class -> _Plan, or None when the class writes its own get_config

_TEMPLATE = """
    class {cls}(keras.layers.Layer):
        def __init__(self, sublayer, units, **kwargs):
            super().__init__(**kwargs)
            self.sublayer = sublayer
            self.units = units

        def get_config(self):
            config = super().get_config()
            config.update({{"sublayer": keras.saving.serialize_keras_object(self.sublayer),
                           "units": self.units}})
            return config

        @classmethod
        def from_config(cls, config):
            config["sublayer"] = keras.saving.deserialize_keras_object(config["sublayer"])
            return cls(**config)"""


class _Plan:
    """What ``capture`` needs to know about a class's ``__init__`` (computed once per class)."""

    def __init__(self, cls):
        self.signature = inspect.signature(cls.__init__)
        params = list(self.signature.parameters.values())[1:]  # without self
        self.names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        self.varargs = next((p.name for p in params if p.kind == p.VAR_POSITIONAL), None)
        self.varkw = next((p.name for p in params if p.kind == p.VAR_KEYWORD), None)
        self.positional_only = [p.name for p in params if p.kind == p.POSITIONAL_ONLY]
        self.self_name = next(iter(self.signature.parameters), "self")

    def accepts(self, key):
        return self.varkw is not None or key in self.names


def default_config(get_config):
    """Mark ``get_config`` as a default one: a class inheriting it gets its constructor arguments added."""
    @functools.wraps(get_config)
    def wrapper(self):
        config = get_config(self)
        if getattr(type(self).get_config, _MARK, False):  # the class did not write its own get_config
            config = _with_init_args(self, config)
        return config

    setattr(wrapper, _MARK, True)
    return wrapper


def _plan(cls):
    try:
        return _PLANS[cls]
    except KeyError:
        plan = _Plan(cls) if getattr(cls.get_config, _MARK, False) else None
        _PLANS[cls] = plan
        return plan


def _copy_basic(value):
    """A copy of ``value`` if it is made of basic values only, else raise TypeError."""
    if isinstance(value, _BASIC):
        return value
    if type(value) in (list, tuple):
        return type(value)(_copy_basic(v) for v in value)
    if isinstance(value, (list, tuple)):  # a namedtuple or list subclass: written as a list
        return [_copy_basic(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, _BASIC) for k in value):
        return {k: _copy_basic(v) for k, v in value.items()}
    raise TypeError(type(value).__name__)


def capture(obj, cls, args, kwargs):
    """Record the arguments of ``cls(*args, **kwargs)`` on ``obj`` (called from ``Layer.__new__``)."""
    plan = _plan(cls)
    if plan is None:
        return
    try:
        bound = plan.signature.bind(None, *args, **kwargs)
    except TypeError:
        return  # __init__ will refuse these arguments itself (or the object is being copied)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.pop(plan.self_name, None)
    arguments.update(arguments.pop(plan.varkw, None) or {})
    arguments.pop("name", None)  # the base config holds the name
    problems = []
    if plan.positional_only:
        problems.append(f"positional-only parameters {plan.positional_only}")
    if plan.varargs is not None and arguments.pop(plan.varargs, ()):
        problems.append(f"variadic positional arguments (*{plan.varargs})")
    kept = {}
    for key, value in arguments.items():
        try:
            kept[key] = _copy_basic(value)
        except TypeError:
            if key not in _BASE_OBJECTS:  # (those the base Layer handles itself are left to it)
                problems.append(f"{key}={type(value).__name__}")
    object.__setattr__(obj, "_init_args", (kept, problems))


def _with_init_args(obj, base):
    """``base`` (the default config) with the recorded constructor arguments; see the module's doc."""
    plan = _plan(type(obj))
    if plan is None:
        return base
    kept, problems = obj.__dict__.get("_init_args", ({}, []))
    if problems:
        kind = "model" if hasattr(obj, "compile") else "layer"
        raise NotImplementedError(
            f"Cannot make the config of {kind} '{getattr(obj, 'name', '?')}' ({type(obj).__name__}): its "
            f"__init__ received arguments that are not numbers, strings, booleans, None or lists/dicts of them "
            f"({', '.join(problems)}), so they cannot be written to a file automatically. Give "
            f"{type(obj).__name__} a get_config() that returns its constructor arguments (serializing the "
            f"layers among them) and, if needed, a from_config() that rebuilds them, e.g.:\n"
            + _TEMPLATE.format(cls=type(obj).__name__))
    config = {"name": base["name"]} if "name" in base and plan.accepts("name") else {}
    config.update((k, v) for k, v in kept.items() if not ("batch_input_shape" in base and k in _SHORTCUTS))
    config.update((k, v) for k, v in base.items() if k != "name")  # the base's current values win
    if plan.varkw is None:  # pass back only what __init__ takes
        config = {k: v for k, v in config.items() if k in plan.names}
    return config
