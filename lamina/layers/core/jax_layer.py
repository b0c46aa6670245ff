"""``JaxLayer``: a JAX model (a pure function and its parameters) used as a lamina layer (JAX backend)."""

import importlib
import inspect

from lamina import backend, tree
from lamina.layers.layer import Layer
from lamina.random import SeedGenerator, draw_seed

_CALL_ARGS = ("params", "state", "rng", "inputs", "training")
_INIT_ARGS = ("rng", "inputs", "training")


def _engine():
    return importlib.import_module("lamina.backend.jax._jax_layer")


def _arguments(fn, fn_name, allowed, who):
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: cannot read the arguments of {fn_name} {fn!r}.") from None
    unknown = [n for n in names if n not in allowed]
    if unknown or "inputs" not in names:
        raise ValueError(f"{who}: {fn_name} must take arguments named among {list(allowed)}, `inputs` included, "
                         f"but it takes {names}.")
    return names


class JaxLayer(Layer):
    """Use a JAX model as a layer: ``call_fn`` computes the outputs from the model's parameters (trained by
    ``fit`` as the layer's variables) and inputs. JAX backend only.

    ``call_fn``'s arguments are named among ``params`` (the trainable parameters, a pytree), ``state``
    (non-trainable state: ``call_fn`` then returns ``(outputs, new_state)``), ``rng`` (a PRNG key, given in
    training, None in inference), ``inputs`` (required) and ``training``. The parameters come from ``params``
    / ``state``, or from ``init_fn(rng, inputs[, training])`` at build time (returning ``params``, or
    ``(params, state)`` when ``call_fn`` has ``state``), called on ones of the input shape. Haiku's
    ``transform(...).apply`` / ``.init`` have these signatures.

    Args:
        call_fn: the model function.
        init_fn: the initialization function (when ``params`` is not given).
        params: the initial trainable parameters (a pytree of arrays).
        state: the initial non-trainable state (a pytree of arrays).
        seed: seed of the PRNG keys given to ``init_fn`` and ``call_fn``.

    Example (JAX backend)::

        def call_fn(params, inputs):
            return inputs @ params["w"] + params["b"]

        layer = lamina.layers.JaxLayer(call_fn, params={"w": np.ones((4, 2)), "b": np.zeros(2)})
    """

    def __init__(self, call_fn, init_fn=None, params=None, state=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        who = f"JaxLayer '{self.name}'"
        if backend.backend() != "jax":
            raise ValueError(f"{who} wraps a JAX function: it needs the JAX backend (LAMINA_BACKEND=jax), but lamina "
                             f"runs on {backend.backend()}. On PyTorch, wrap a torch.nn.Module with "
                             "lamina.layers.TorchModuleWrapper instead.")
        if not callable(call_fn):
            raise ValueError(f"{who} expected call_fn to be a function, but received {call_fn!r}.")
        self.call_fn = call_fn
        self.init_fn = init_fn
        self.call_fn_arguments = _arguments(call_fn, "call_fn", _CALL_ARGS, who)
        self.init_fn_arguments = None if init_fn is None else _arguments(init_fn, "init_fn", _INIT_ARGS, who)
        has_params, has_state = "params" in self.call_fn_arguments, "state" in self.call_fn_arguments
        if init_fn is None and ((has_params and params is None) or (has_state and state is None)):
            raise ValueError(f"{who}: call_fn takes {self.call_fn_arguments}; give init_fn, or the initial "
                             f"{'params' if has_params and params is None else 'state'}.")
        self.seed = seed
        self.seed_generator = SeedGenerator(seed)
        self.params = self.state = None
        self._params_in, self._state_in = params, state
        if params is not None or state is not None:
            self._make_variables(params, state)

    def _variables_of(self, values, trainable):
        """The pytree ``values`` with a variable in place of each array, named by its path in the tree."""
        engine = _engine()
        prefix = "params" if trainable else "state"

        def make(value, path):
            if isinstance(value, dict):
                return type(value)((k, make(v, path + (str(k),))) for k, v in value.items())
            if isinstance(value, (list, tuple)):
                items = [make(v, path + (str(i),)) for i, v in enumerate(value)]
                return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
            if engine.is_array(value) or backend.is_tensor(value) or isinstance(value, (bool, int, float)):
                tensor = backend.convert_to_tensor(value)
                dtype = backend.standardize_dtype(tensor.dtype)
                return self.add_weight(shape=tuple(tensor.shape), initializer=lambda shape, dtype=None, t=tensor: t,
                                       dtype=None if backend.is_float_dtype(dtype) else dtype, trainable=trainable,
                                       name="_".join((prefix,) + path))
            return value  # configuration the model keeps (not an array)

        return None if values is None else make(values, ())

    def _make_variables(self, params, state):
        self.params = self._variables_of(params, True)
        self.state = self._variables_of(state, False)

    def build(self, input_shape):
        if self.params is None and self.state is None and self.init_fn is not None:
            engine = _engine()
            inputs = tree.map_shape_structure(
                lambda s: engine.ones([1 if d is None else d for d in s], backend.floatx()), input_shape)
            args = []
            for name in self.init_fn_arguments:
                args.append(engine.to_key(draw_seed(None)) if name == "rng" else
                            inputs if name == "inputs" else True)
            result = self.init_fn(*args)
            params, state = result if "state" in self.call_fn_arguments else (result, None)
            self._make_variables(params, state)
        self.built = True

    def call(self, inputs, training=False):
        args = []
        for name in self.call_fn_arguments:
            if name == "params":
                args.append(_values(self.params))
            elif name == "state":
                args.append(_values(self.state))
            elif name == "rng":
                args.append(_engine().to_key(self.seed_generator.next()) if training else None)
            elif name == "inputs":
                args.append(inputs)
            else:
                args.append(bool(training))
        if "state" not in self.call_fn_arguments:
            return self.call_fn(*args)
        outputs, new_state = self.call_fn(*args)
        flat_vars, flat_new = tree.flatten(self.state), tree.flatten(new_state)
        if len(flat_vars) != len(flat_new):
            raise ValueError(f"JaxLayer '{self.name}': call_fn returned a state of {len(flat_new)} leaves, but the "
                             f"state has {len(flat_vars)}; return the same structure as init_fn's.")
        for variable, value in zip(flat_vars, flat_new):
            if hasattr(variable, "assign"):
                variable.assign(value)
        return outputs

    def get_config(self):
        from lamina.saving.serialization import serialize_function

        config = super().get_config()
        config.update({"call_fn": serialize_function(self.call_fn),
                       "init_fn": None if self.init_fn is None else serialize_function(self.init_fn),
                       "seed": self.seed})
        if self.init_fn is None:  # the layout of the given params/state, so that a loaded model can hold them
            config["params_spec"] = _spec(self.params)
            config["state_spec"] = _spec(self.state)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from lamina.saving.serialization import resolve_function

        config = dict(config)
        who = f"JaxLayer '{config.get('name')}'"
        config["call_fn"] = resolve_function(config["call_fn"], custom_objects, who=who)
        if config.get("init_fn") is not None:
            config["init_fn"] = resolve_function(config["init_fn"], custom_objects, who=who)
        # Zeros in the saved layout; the saved weights are then loaded into them.
        config["params"] = _zeros(config.pop("params_spec", None))
        config["state"] = _zeros(config.pop("state_spec", None))
        return cls(**config)


def _values(structure):
    return None if structure is None else tree.map_structure(
        lambda v: v.value if hasattr(v, "assign") else v, structure)


def _spec(structure):
    """The layout of a structure of variables: ``{"shape", "dtype"}`` in place of each (JSON-able)."""
    if structure is None:
        return None
    return tree.map_structure(
        lambda v: {"shape": list(v.shape), "dtype": v.dtype} if hasattr(v, "assign") else v, structure)


def _zeros(spec):
    import numpy as np

    if spec is None:
        return None

    def leaf(value):
        if isinstance(value, dict) and set(value) == {"shape", "dtype"}:
            return np.zeros(value["shape"], value["dtype"])
        if isinstance(value, dict):
            return {k: leaf(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(leaf(v) for v in value)
        return value

    return leaf(spec)
