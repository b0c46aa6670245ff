"""``Layer``: the unit of computation and state, with Keras's lifecycle."""

import functools
import inspect

from lamina import backend, dtype_policies, tree
from lamina.backend.common.scopes import ACTIVE as _SCOPES_OPEN
from lamina.backend.common.scopes import COMPILING as _COMPILING
from lamina.backend.common.scopes import AutocastScope, autocast_dtype
from lamina.backend.common.keras_tensor import KerasTensor, any_symbolic
from lamina.backend.common.masking import get_keras_mask, set_keras_mask
from lamina.backend.common.name_scope import current_path, name_scope, scoped
from lamina.layers.call_context import TrainingContext, current_training
from lamina.layers import _init_args, remat
from lamina.layers.input_spec import check_input
from lamina.layers.layer_weights import LayerWeights
from lamina.layers.tracked_containers import TrackedDict, TrackedList, _set_by_user_code, _track_container
from lamina.ops.node import Node
from lamina.ops.operation import Operation
from lamina.random import SeedGenerator
from lamina.utils.naming import to_snake_case, uniquify
from lamina.utils.traceback_utils import filter_traceback

_SHORTCUT_KWARGS = ("input_shape", "batch_input_shape", "input_dim", "batch_size", "input_length")


# Bumped whenever an attribute that decides how a built layer is called is set (its dtype policy,
# rematerialization mode, activity regularizer, input_spec, call, built, autocast): models drop the direct-call
# plans they keep (lamina/models/_direct_calls.py), and layers their passed input checks, when it changes.
CALL_PLAN_GENERATION = [0]
_PLAN_ATTRS = frozenset(("_dtype_policy", "_remat_mode", "_activity_regularizer", "input_spec", "call", "built",
                         "autocast", "_has_training_arg", "_has_mask_arg"))


def _call_signature_flags(cls):
    params = inspect.signature(cls.call).parameters
    return "training" in params, "mask" in params


class Layer(LayerWeights, Operation):
    """Base class of all layers: state (weights) plus a computation (``call``).

    The lifecycle is Keras's: ``__init__`` stores arguments, ``build(input_shape)``
    creates weights with ``add_weight`` on the first call, ``call(inputs,
    training=None, mask=None)`` computes, ``compute_output_shape`` and
    ``get_config`` describe the layer.

    Args:
        trainable: whether the layer's weights are updated in training.
        dtype: the dtype of the weights and computation (default ``floatx()``).
        name: a unique name (default: from the class name, ``dense_1`` ...).
        activity_regularizer: a regularizer applied to the outputs.
        input_shape / input_dim / batch_size: shortcuts for the first layer of a
            ``Sequential`` model.

    Example:
    >>> import lamina
    >>> class Scale(lamina.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
    ...     def call(self, x):
    ...         return x * self.w
    >>> layer = Scale()
    >>> lamina.ops.convert_to_numpy(layer(lamina.ops.ones((1, 2)))).tolist()
    [[1.0, 1.0]]
    >>> [w.shape for w in layer.weights]
    [(2,)]
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and callable(build) and not getattr(build, "_lamina_scoped", False):
            # As in Keras: a layer's build runs inside its name scope, so the sublayers it builds have their
            # weights under its name ("block/inner/kernel").
            def scoped_build(self, *args, **kwargs):
                with self._open_name_scope():
                    out = build(self, *args, **kwargs)
                self._set_initial_weights()
                return out

            functools.update_wrapper(scoped_build, build)
            scoped_build._lamina_scoped = True
            cls.build = scoped_build

    def _open_name_scope(self):
        """The layer's name scope, under the path where it was first opened (its weights' paths start there)."""
        d = self.__dict__
        if d.get("_parent_path") is None:
            d["_parent_path"] = current_path()
        return name_scope(self.name, caller=self)

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        # Set before __init__ so a subclass that assigns attributes before calling
        # super().__init__() still works.
        object.__setattr__(obj, "_own_variables", [])
        object.__setattr__(obj, "_tracked", [])
        object.__setattr__(obj, "_init_called", False)
        _init_args.capture(obj, cls, args, kwargs)  # for the default get_config (see _init_args)
        return obj

    def __init__(self, *, activity_regularizer=None, trainable=True, dtype=None, autocast=True,
                 name=None, **kwargs):
        shortcut = {k: kwargs.pop(k) for k in list(kwargs) if k in _SHORTCUT_KWARGS}
        initial_weights = kwargs.pop("weights", None)  # Keras 2's initial weights: set when the layer is built
        if kwargs:
            from lamina.utils.errors import UnexpectedArgumentError

            raise UnexpectedArgumentError(
                f"{type(self).__name__}.__init__() got unexpected keyword argument(s) "
                f"{sorted(kwargs)}. Check the argument names against the documentation."
            )
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"Layer name must be a non-empty string, but received name={name!r}.")
        Operation.__init__(self, name=name or uniquify(to_snake_case(type(self).__name__)))
        self._init_called = True
        if initial_weights is not None:
            object.__setattr__(self, "_initial_weights", list(initial_weights))
        self.built = False
        self._trainable = bool(trainable)
        self._dtype_policy = dtype_policies.get(dtype)
        self._dtype = self._dtype_policy.variable_dtype
        self.autocast = autocast
        self.input_spec = None
        self.supports_masking = False
        self._activity_regularizer = None
        if activity_regularizer is not None:
            from lamina import regularizers

            self._activity_regularizer = regularizers.get(activity_regularizer)
        self._losses = []
        self._added_metrics = []  # (name, value, aggregation) from this call's add_metric
        self._metric_specs = {}  # every add_metric name this layer has used -> aggregation
        self._remat_mode = None  # set by lamina.RematScope (see lamina/layers/remat.py)
        if remat.ACTIVE[0]:
            remat.capture(self)
        self._build_shapes = None
        self._has_training_arg, self._has_mask_arg = _call_signature_flags(type(self))
        self._batch_input_shape = _batch_shape_from_shortcuts(self, shortcut)

    # ---- attribute tracking --------------------------------------------------

    def __setattr__(self, name, value):
        if type(value) in (list, dict) and not name.startswith("__") and _set_by_user_code():
            # As Keras's tracked containers: layers, variables and seed generators put into the list or dict
            # later (append, item assignment, nested containers...) are tracked like those it holds now.
            value = _track_container(value)
            if not any(t is value for t in self._tracked):
                self._tracked.append(value)
        elif getattr(type(value), "_lamina_metric", False):
            if not name.startswith("_"):  # private ones are the trainer's own (its loss tracker, ...)
                _track_metric(self, name, value)
        elif not name.startswith("__") and _is_trackable(value):
            if not self.__dict__.get("_init_called", True) and isinstance(value, Layer):
                raise RuntimeError(
                    f"In layer '{type(self).__name__}', you forgot to call `super().__init__()` "
                    "as the first statement in the `__init__()` method. Go add it!"
                )
            if value not in self._tracked:
                self._tracked.append(value)
        if name in _PLAN_ATTRS and self.__dict__.get("built"):  # plans hold built layers only
            CALL_PLAN_GENERATION[0] += 1
        object.__setattr__(self, name, value)

    def _flat_tracked(self):
        out = []
        for item in self._tracked:
            if isinstance(item, (TrackedList, TrackedDict)) and not item._lamina_holds:
                continue  # a container that has held nothing trackable (a list of numbers...) is not walked
            for leaf in (tree.flatten(item) if isinstance(item, (list, tuple, dict)) else [item]):
                if _is_trackable(leaf):
                    out.append(leaf)
        return out

    @property
    def _layers(self):
        seen, out = set(), []
        for t in self._flat_tracked():
            if isinstance(t, Layer) and id(t) not in seen and t is not self:
                seen.add(id(t))
                out.append(t)
        return out

    def _own_state(self):
        """Own variables (creation order), including those of seed generators."""
        out = list(self._own_variables)
        ids = {id(v) for v in out}
        for t in self._flat_tracked():
            v = t.state if isinstance(t, SeedGenerator) else t
            if isinstance(v, backend.VariableBase) and id(v) not in ids:
                ids.add(id(v))
                out.append(v)
        return out

    # ---- build ---------------------------------------------------------------

    def build(self, input_shape):
        """Create the layer's weights for inputs of ``input_shape`` (override this)."""
        self._build_shapes = input_shape
        self.built = True

    def _maybe_build(self, args):
        if self.built:
            return
        first = args[0] if args else None
        shapes = tree.map_structure(lambda t: tuple(t.shape) if hasattr(t, "shape") else None, first)
        if isinstance(shapes, list):
            shapes = list(shapes)
        if isinstance(self._dtype_policy, dtype_policies.DTypePolicyMap):  # its entry for this layer's path
            self._path_policy = self._dtype_policy[scoped(self.name, dedupe_first=True)]
            self._dtype = self._path_policy.variable_dtype
        if _overrides(type(self), "build"):
            self.build(shapes)
        self._build_shapes = shapes
        self.built = True
        self._set_initial_weights()

    def _set_initial_weights(self):
        """Set the ``weights=[...]`` given to the constructor (tf.keras 2's form, e.g. a pretrained embedding
        matrix: ``Embedding(n, d, weights=[matrix])``) once the layer has created its weights."""
        initial = self.__dict__.get("_initial_weights")
        if initial is not None and self.weights:
            del self.__dict__["_initial_weights"]
            self.set_weights(initial)

    # ---- call ----------------------------------------------------------------

    @filter_traceback
    def __call__(self, *args, **kwargs):
        if not self.__dict__.get("_init_called", False):
            raise RuntimeError(
                f"In layer '{type(self).__name__}', you forgot to call `super().__init__()` "
                "as the first statement in the `__init__()` method. Go add it!"
            )
        if args:
            args = (self._convert_input(args[0]),) + args[1:]
        elif "inputs" in kwargs:
            kwargs["inputs"] = self._convert_input(kwargs["inputs"])
        training = kwargs.get("training")
        if training is None:
            training = current_training()
        if self._has_training_arg:
            if training is not None:
                kwargs["training"] = training
        else:
            kwargs.pop("training", None)
        in_mask = kwargs.get("mask")
        if not self._has_mask_arg:
            kwargs.pop("mask", None)
        carried = False
        if in_mask is None and args:  # a mask the input carries (Embedding(mask_zero=True), Masking, ...)
            in_mask = _carried_mask(args[0])
            if in_mask is not None and self._has_mask_arg:
                kwargs["mask"] = in_mask
                carried = True
        if remat.ACTIVE[0]:
            remat.capture(self)
        if any_symbolic(args, kwargs):
            with self._open_name_scope():
                return self._symbolic_call(args, kwargs, in_mask, carried)
        if self.__dict__.get("_scope_settled"):
            return self._eager_call(args, kwargs, training, in_mask)
        # Until a first call has run, the layer's name scope is open around it: sublayers it builds in call
        # get their weights under its name, as in Keras (later calls create nothing and skip the scope).
        with self._open_name_scope():
            outputs = self._eager_call(args, kwargs, training, in_mask)
        self.__dict__["_scope_settled"] = True
        return outputs

    def _eager_call(self, args, kwargs, training, in_mask):
        self._maybe_build(args)
        if self.input_spec is not None:
            self._check_inputs(args)
        if self._losses:
            self._losses = []  # the losses of the previous call
        if self._added_metrics:
            self._added_metrics = []
        policy = self.__dict__.get("_path_policy") or self._dtype_policy  # a DTypePolicyMap's entry once built
        if policy.is_mixed or (_SCOPES_OPEN[0] and autocast_dtype() is not None):
            # A mixed-precision layer reads its float weights as its compute dtype; a float32
            # layer inside one (e.g. a float32 output layer) reads them as they are.
            with TrainingContext(training), AutocastScope(policy.compute_dtype if policy.is_mixed else None):
                outputs = self.call(*args, **kwargs) if self._remat_mode is None else self._remat_call(args, kwargs)
        else:
            with TrainingContext(training):
                outputs = self.call(*args, **kwargs) if self._remat_mode is None else self._remat_call(args, kwargs)
        if self._activity_regularizer is not None:
            for o in tree.flatten(outputs):
                self._losses.append(self._activity_regularizer(o) / o.shape[0])  # per sample, as Keras
        if in_mask is not None or type(self).compute_mask is not Layer.compute_mask:
            _attach_mask(outputs, self.compute_mask(args[0] if args else kwargs.get("inputs"), in_mask))
        return outputs

    def _remat_call(self, args, kwargs):
        """``self.call`` under the layer's rematerialization mode (see ``lamina.RematScope``)."""
        if remat.applies(self):
            return remat.call(self, args, kwargs)
        outputs = self.call(*args, **kwargs)
        if self._remat_mode == "larger_than" and self._remat_size is None:
            self._remat_size = remat.output_size(outputs)
        return outputs

    def _convert_input(self, x):
        if backend.is_tensor(x):  # the common case, without walking a structure
            name = backend.dtype_name(x)
            if not self.autocast or name == self.compute_dtype or not backend.is_float_dtype(name):
                return x
            return backend.convert_to_tensor(x, self.compute_dtype)

        def conv(t):
            if isinstance(t, (KerasTensor, backend.VariableBase)) or t is None:
                return t
            if not backend.is_tensor(t):
                if isinstance(t, (int, float, bool, str)):
                    return t
                t = backend.convert_to_tensor(t)
            if self.autocast and backend.is_float_dtype(backend.dtype_name(t)) and \
                    backend.dtype_name(t) != self.compute_dtype:
                t = backend.convert_to_tensor(t, self.compute_dtype)
            return t
        return tree.map_structure(conv, x)

    def _check_inputs(self, args):
        first = args[0] if args else None
        if backend.is_tensor(first) and not _COMPILING[0]:
            # The outcome depends on the shape and dtype only: one check per input signature (and input_spec).
            key = (first.shape, first.dtype, CALL_PLAN_GENERATION[0])
            if self.__dict__.get("_spec_passed") == key:
                return
            flat = [first]
        else:
            key = None
            flat = tree.flatten(first) if args else []
        specs = self.input_spec if isinstance(self.input_spec, (list, tuple)) else [self.input_spec]
        for i, (spec, x) in enumerate(zip(specs, flat)):
            check_input(self, spec, x, i)
        if key is not None:
            self.__dict__["_spec_passed"] = key  # not through __setattr__: no tracking, no plan generation

    def _symbolic_call(self, args, kwargs, in_mask=None, carried=False):
        self._maybe_build(args)
        if self.input_spec is not None:
            self._check_inputs(args)
        outputs = self.compute_output_spec(*args, **kwargs)
        if self._remat_mode == "larger_than":
            self._remat_size = remat.output_size(outputs)
        # The input's own mask, passed on to call here, is not a graph input: the model passes it when it runs.
        recorded = {k: v for k, v in kwargs.items() if k != "mask"} if carried else kwargs
        Node(self, call_args=args, call_kwargs=recorded, outputs=outputs)
        if in_mask is not None or type(self).compute_mask is not Layer.compute_mask:
            first = args[0] if args else kwargs.get("inputs")
            _attach_mask(outputs, backend.compute_output_spec(self.compute_mask, first, in_mask))
        return outputs

    def compute_output_spec(self, *args, **kwargs):
        if _overrides(type(self), "compute_output_shape"):
            first = args[0] if args else kwargs.get("inputs")
            shapes = tree.map_structure(lambda t: tuple(t.shape), first)
            out_shape = self.compute_output_shape(shapes)
            return _shapes_to_keras_tensors(out_shape, self.compute_dtype)
        return backend.compute_output_spec(self.call, *args, **kwargs)

    def compute_output_shape(self, input_shape):
        """Return the output shape for ``input_shape`` (default: traced from ``call``)."""
        kt = tree.map_structure(lambda s: KerasTensor(s, self.compute_dtype), input_shape,) \
            if not _is_shape(input_shape) else KerasTensor(input_shape, self.compute_dtype)
        out = backend.compute_output_spec(self.call, kt)
        return tree.map_structure(lambda t: t.shape, out)

    def compute_mask(self, inputs, previous_mask=None):
        """Return the output mask: the input mask when the layer supports masking."""
        if self.supports_masking:
            return previous_mask
        return None

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} does not implement call().")

    def stateless_call(self, trainable_variables, non_trainable_variables, *args, return_losses=False,
                       **kwargs):
        """Call the layer with the given variable values instead of its own; nothing is mutated.

        Returns ``(outputs, new_non_trainable_values)`` (and the losses when
        ``return_losses=True``). This is what compiled JAX steps use.

        Example:
        >>> import lamina
        >>> layer = lamina.layers.Dense(1, kernel_initializer="ones", use_bias=False)
        >>> layer.build((None, 2))
        >>> out, _ = layer.stateless_call([lamina.ops.full((2, 1), 2.0)], [], lamina.ops.ones((1, 2)))
        >>> lamina.ops.convert_to_numpy(out).tolist()
        [[4.0]]
        """
        tv, ntv = self.trainable_variables, self.non_trainable_variables
        if len(trainable_variables) != len(tv) or len(non_trainable_variables) != len(ntv):
            raise ValueError(
                f"Layer '{self.name}'.stateless_call expected {len(tv)} trainable and {len(ntv)} "
                f"non-trainable values, but received {len(trainable_variables)} and "
                f"{len(non_trainable_variables)}."
            )
        mapping = list(zip(tv, trainable_variables)) + list(zip(ntv, non_trainable_variables))
        with backend.StatelessScope(mapping) as scope:
            outputs = self(*args, **kwargs)
            losses = self.losses if return_losses else None
        new_ntv = [scope.get_current_value(v) for v in ntv]
        if return_losses:
            return outputs, new_ntv, losses
        return outputs, new_ntv

    # ---- config --------------------------------------------------------------

    @_init_args.default_config
    def get_config(self):
        """Return the constructor arguments as a JSON-serializable dict."""
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": dtype_policies.config_entry(self._dtype_policy, self.dtype)}
        if self._activity_regularizer is not None:  # as Keras 3's Layer.get_config
            from lamina import regularizers

            config["activity_regularizer"] = regularizers.serialize(self._activity_regularizer)
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        """Create a layer from the dict ``get_config`` returned."""
        config = dict(config)
        return cls(**config)

    def get_build_config(self):
        if self._build_shapes is not None:
            return {"input_shape": self._build_shapes}
        return None

    def build_from_config(self, config):
        if config and config.get("input_shape") is not None and not self.built:
            self.build(config["input_shape"])
            self._build_shapes = config["input_shape"]
            self.built = True

    # ---- saving hooks (called by lamina.saving for every layer; see docs/saving.md) -------

    def save_own_variables(self, store):
        """Write this layer's own weights to ``store`` under the keys ``"0"``, ``"1"``... (creation order).

        Override to save other arrays (the store takes arrays, tensors, variables, numbers and strings).
        """
        for i, v in enumerate(v for v in self._own_state() if v.role in ("trainable", "non_trainable")):
            store[str(i)] = v

    def load_own_variables(self, store):
        """Assign the weights written by ``save_own_variables`` (keys ``"0"``, ``"1"``...) from ``store``.

        Raises:
            ValueError: naming the layer when the number of stored weights or their shapes differ.
        """
        variables = [v for v in self._own_state() if v.role in ("trainable", "non_trainable")]
        keys = sorted((k for k in store.keys() if str(k).isdigit()), key=int)
        if keys != [str(i) for i in range(len(variables))]:
            raise ValueError(f"Layer '{self.name}' expected {len(variables)} saved weight arrays (keys "
                             f"{[str(i) for i in range(len(variables))]}, for {[v.path for v in variables]}), "
                             f"but the store holds the keys {sorted(store.keys())}.")
        values = [store[k] for k in keys]  # all read (and checked) before the first is assigned
        for key, v, value in zip(keys, variables, values):
            if tuple(getattr(value, "shape", ())) != tuple(v.shape):
                raise ValueError(f"Layer '{self.name}': the saved weight '{key}' has shape "
                                 f"{tuple(getattr(value, 'shape', ()))}, but variable '{v.path}' has shape "
                                 f"{tuple(v.shape)}.")
        for v, value in zip(variables, values):
            v.assign(value)

    def save_assets(self, dir_path):
        """Write files (vocabularies...) into ``dir_path``, this layer's own folder in the archive; default: none."""

    def load_assets(self, dir_path):
        """Read back the files ``save_assets`` wrote (``dir_path`` holds them); default: nothing to read."""

    # ---- graph helpers ---------------------------------------------------------

    @property
    def input(self):
        return self._single_node_attr("input_tensors", "input")

    @property
    def output(self):
        return self._single_node_attr("output_tensors", "output")

    def _single_node_attr(self, attr, what):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer '{self.name}' has never been called, so it has no {what}.")
        values = getattr(self._inbound_nodes[0], attr)
        return values[0] if len(values) == 1 else values

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


# Set once a layer that is not a model holds a metric as an attribute: a model's ``metrics`` then also looks for
# metrics in its sub-layers (as Keras's); until then it need not walk them.
SUBLAYER_METRICS = [False]


def _track_metric(layer, name, metric):
    """Remember ``metric``, set as the public attribute ``name`` of ``layer`` (a tracker a custom
    ``compute_loss`` updates): the model lists it in ``metrics``, so it is reset each epoch, reported in the
    logs and, on JAX, its state is threaded through the compiled steps. Assigning the attribute again
    replaces it."""
    tracked = layer.__dict__.get("_attribute_metrics")
    if tracked is None:
        tracked = {}
        object.__setattr__(layer, "_attribute_metrics", tracked)
    tracked[name] = metric
    from lamina.training.trainer import Trainer

    if not isinstance(layer, Trainer):
        SUBLAYER_METRICS[0] = True


def _is_trackable(value):
    if isinstance(value, (Layer, backend.VariableBase, SeedGenerator)):
        return True
    if isinstance(value, (list, tuple)) and value and any(
            isinstance(v, (Layer, backend.VariableBase, SeedGenerator)) for v in value):
        return True
    if isinstance(value, dict) and value and any(
            isinstance(v, (Layer, backend.VariableBase, SeedGenerator)) for v in value.values()):
        return True
    return False


def _carried_mask(x):
    """The mask ``x`` carries (a list of them for a list of tensors; None when there is none)."""
    if isinstance(x, (list, tuple)):
        masks = [get_keras_mask(t) for t in x]
        return None if all(m is None for m in masks) else masks
    return get_keras_mask(x)


def _attach_mask(outputs, mask):
    """Attach the output ``mask`` (one, or one per output) to the output tensors."""
    if mask is None:
        return
    flat = [o for o in tree.flatten(outputs) if o is not None]
    if isinstance(mask, (list, tuple)):
        if len(mask) == len(flat):
            for o, m in zip(flat, mask):
                if m is not None:
                    set_keras_mask(o, m)
        return
    for o in flat:
        set_keras_mask(o, mask)


def _overrides(cls, method):
    return getattr(cls, method) is not getattr(Layer, method)


def _is_shape(s):
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)


def _shapes_to_keras_tensors(shape, dtype):
    if _is_shape(shape):
        return KerasTensor(tuple(shape), dtype)
    if isinstance(shape, dict):
        return {k: _shapes_to_keras_tensors(v, dtype) for k, v in shape.items()}
    return type(shape)(_shapes_to_keras_tensors(s, dtype) for s in shape)


def _batch_shape_from_shortcuts(layer, shortcut):
    if not shortcut:
        return None
    if "batch_input_shape" in shortcut:
        return tuple(shortcut["batch_input_shape"])
    batch = shortcut.get("batch_size")
    if "input_shape" in shortcut:
        shape = shortcut["input_shape"]
        if isinstance(shape, int):
            shape = (shape,)
        return (batch,) + tuple(shape)
    if "input_dim" in shortcut:
        dim = shortcut["input_dim"]
        if not isinstance(dim, int) or dim <= 0:
            raise ValueError(
                f"Layer '{layer.name}': input_dim must be a positive integer, but received input_dim={dim!r}."
            )
        if "input_length" in shortcut:
            return (batch, shortcut["input_length"], dim)
        return (batch, dim)
    if "input_length" in shortcut:
        return (batch, shortcut["input_length"])
    return None
