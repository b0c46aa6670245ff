"""The ``Optimizer`` base class: slots in ``role="optimizer"`` Variables, updates through ``assign``.

Every state read goes through ``variable.value`` and every write through
``variable.assign``, and no tensor value is read on the host, so
``apply`` runs unchanged inside the JAX trainer's ``StatelessScope`` (a pure,
jit-compiled step) and eagerly on PyTorch. Conditional behaviour (gradient
accumulation, EMA overwrite) is computed with ``ops.where``, not Python ``if``.
"""

import re
import warnings

from lamina import backend, config, ops
from lamina.backend import StatelessScope, Variable
from lamina.optimizers import schedules
from lamina.utils.naming import to_snake_case, uniquify


class Optimizer:
    """Base class of optimizers.

    Subclasses create their slot variables in ``build(var_list)`` (with
    ``add_variable_from_reference``) and implement
    ``update_step(gradient, variable, learning_rate)`` with ``lamina.ops`` and
    ``assign``.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` (evaluated at
            ``iterations``), or a callable taking no arguments.
        weight_decay: if set, decoupled weight decay: before each update
            ``variable -= variable * weight_decay * learning_rate``.
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together to this global L2 norm.
        use_ema: keep an exponential moving average of the weights.
        ema_momentum: the EMA momentum.
        ema_overwrite_frequency: every this many iterations, overwrite the
            weights with their moving average (None: only via
            ``finalize_variable_values``).
        loss_scale_factor: gradients are divided by this (the loss is expected
            to have been multiplied by it, see ``scale_loss``).
        gradient_accumulation_steps: if an int >= 2, gradients are accumulated
            and the weights updated every this many steps, with the mean gradient.
        name: the optimizer's name.
        **kwargs: the Keras 2 forms ``lr`` (use ``learning_rate``) and
            ``decay`` (ignored; use a schedule) are accepted with a warning.

    Raises:
        TypeError: for an unknown keyword argument.
        ValueError: for invalid clipping, EMA or accumulation settings.

    Example:
    >>> import lamina
    >>> from lamina import ops
    >>> class PlainSGD(lamina.optimizers.Optimizer):
    ...     def update_step(self, gradient, variable, learning_rate):
    ...         variable.assign(variable.value - ops.cast(learning_rate, variable.dtype) * gradient)
    >>> w = lamina.Variable([1.0, 2.0])
    >>> opt = PlainSGD(learning_rate=0.5)
    >>> opt.apply([ops.convert_to_tensor([1.0, 1.0])], [w])
    >>> w.numpy().tolist(), int(opt.iterations.numpy())
    ([0.5, 1.5], 1)
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        cls_name = type(self).__name__
        if "lr" in kwargs:
            warnings.warn(
                f"{cls_name}: the argument `lr` is deprecated (Keras 2); use `learning_rate` instead.",
                DeprecationWarning, stacklevel=3,
            )
            learning_rate = kwargs.pop("lr")
        # tf.keras 2.11+ configs carry these; they ask for nothing lamina does not already do.
        kwargs.pop("jit_compile", None)
        kwargs.pop("is_legacy_optimizer", None)
        if "decay" in kwargs and not kwargs["decay"]:
            kwargs.pop("decay")  # decay=0.0, in every tf.keras 2 legacy optimizer's config: nothing to do
        if "decay" in kwargs:
            kwargs.pop("decay")
            warnings.warn(
                f"{cls_name}: the argument `decay` is no longer supported and is ignored; use a "
                "learning-rate schedule (lamina.optimizers.schedules.InverseTimeDecay) instead.",
                UserWarning, stacklevel=3,
            )
        if kwargs:
            from lamina.utils.errors import UnexpectedArgumentError

            raise UnexpectedArgumentError(
                f"{cls_name}.__init__() got unexpected keyword argument(s) {sorted(kwargs)}. "
                "Accepted: learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, "
                "ema_momentum, ema_overwrite_frequency, loss_scale_factor, "
                "gradient_accumulation_steps, name, and the optimizer's own arguments."
            )
        set_clips = [(k, v) for k, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                          ("global_clipnorm", global_clipnorm)) if v is not None]
        if len(set_clips) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                + ", ".join(f"{k}={v}" for k, v in set_clips)
            )
        for k, v in set_clips:
            if not v > 0:
                raise ValueError(f"{cls_name}: `{k}` must be > 0, but received {k}={v}.")
        if use_ema and not 0.0 <= ema_momentum <= 1.0:
            raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
        if use_ema and ema_overwrite_frequency is not None and (
                not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1):
            raise ValueError(
                "`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                f"ema_overwrite_frequency={ema_overwrite_frequency}")
        if gradient_accumulation_steps is not None and (
                not isinstance(gradient_accumulation_steps, int) or gradient_accumulation_steps < 2):
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. Received: "
                f"gradient_accumulation_steps={gradient_accumulation_steps}")
        if weight_decay is not None and not isinstance(weight_decay, (int, float)):
            raise ValueError(f"{cls_name}: `weight_decay` must be a float. Received: weight_decay={weight_decay!r}")
        # Keras's rule: snake case, uniquified (``AdamW`` -> ``adam_w``, a second ``Adam()`` -> ``adam_1``)
        self.name = name or uniquify(to_snake_case(cls_name))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._var_index = {}
        self._exclude_ids = set()
        self._exclude_names = None
        self._iterations = self.add_variable((), initializer=0, dtype="int64", name="iteration")
        if isinstance(learning_rate, schedules.LearningRateSchedule) or (
                callable(learning_rate) and not hasattr(learning_rate, "assign")):
            self._learning_rate = learning_rate
        else:
            try:
                lr = float(learning_rate)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{cls_name}: `learning_rate` must be a float, a LearningRateSchedule or a callable, "
                    f"but received {learning_rate!r}.") from None
            self._learning_rate = self.add_variable((), initializer=lr, dtype=config.floatx(),
                                                    name="learning_rate")

    # --- variables --------------------------------------------------------------------
    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none", name=None):
        """Create an optimizer Variable (``role="optimizer"``) and track it."""
        dtype = dtype or config.floatx()
        shape = tuple(shape)
        if isinstance(initializer, (int, float)) and not isinstance(initializer, bool):
            fill = float(initializer)
            make = lambda shape_, dtype_: ops.full(shape_, fill, dtype=dtype_)  # noqa: E731
        elif initializer in ("zeros", None):
            make = lambda shape_, dtype_: ops.zeros(shape_, dtype=dtype_)  # noqa: E731
        elif initializer == "ones":
            make = lambda shape_, dtype_: ops.ones(shape_, dtype=dtype_)  # noqa: E731
        elif callable(initializer):
            make = initializer
        else:
            raise ValueError(f"{self.name}: unsupported initializer {initializer!r} for variable '{name}'.")
        # A callable initializer runs outside any trace (an optimizer built inside a compiled custom step)
        var = Variable(make, shape=shape, dtype=dtype, trainable=False, role="optimizer",
                       name=f"{self.name}/{name}" if name else None, aggregation=aggregation)
        self._variables.append(var)
        return var

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """Create a slot Variable with the shape and dtype of ``reference_variable``."""
        ref_name = str(getattr(reference_variable, "path", None) or reference_variable.name).replace("/", "_")
        slot = self.add_variable(tuple(reference_variable.shape), initializer=initializer,
                                 dtype=reference_variable.dtype, name=f"{ref_name}_{name}")
        slot._reference = reference_variable  # a distribution lays the slot out as its variable
        return slot

    @property
    def variables(self):
        """All optimizer Variables: ``iterations``, the learning rate, then the slots."""
        return list(self._variables)

    @property
    def iterations(self):
        """The number of updates so far: the int64 Variable counting ``apply`` calls, or with
        ``gradient_accumulation_steps`` the number of those calls that updated the variables (a tensor, as
        Keras returns it; learning-rate schedules still see every call, as in Keras)."""
        if self.gradient_accumulation_steps:
            return self._update_count()
        return self._iterations

    def _update_count(self):
        """The number of updates made so far: ``apply`` calls, or with gradient accumulation the calls that
        updated the variables (Keras's ``iterations`` in its formulas: bias corrections, schedules, EMA)."""
        if self.gradient_accumulation_steps:
            return ops.floor_divide(self._iterations.value, self.gradient_accumulation_steps)
        return self._iterations.value

    def build(self, var_list):
        """Create the state for ``var_list`` (subclasses add their slots after calling this)."""
        self._trainable_variables = list(var_list)
        self._var_index = {id(v): i for i, v in enumerate(self._trainable_variables)}
        if self.use_ema:
            self._model_variables_moving_average = [
                self.add_variable_from_reference(v, name="average") for v in var_list]
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = [
                self.add_variable_from_reference(v, name="gradient_accumulator") for v in var_list]
        self.built = True

    def _get_variable_index(self, variable):
        return self._var_index[id(variable)]

    # --- learning rate ----------------------------------------------------------------
    def _current_learning_rate(self):
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            # at the number of apply calls, as Keras evaluates schedules: with gradient accumulation too (the
            # bias corrections and moving averages count the updates, ``_update_count``)
            return ops.cast(lr(self._iterations.value), config.floatx())
        if hasattr(lr, "assign"):
            return lr.value
        return ops.cast(lr(), config.floatx())

    @property
    def learning_rate(self):
        """The current learning rate.

        For a float learning rate this is the learning-rate Variable itself (as in
        Keras), so ``float(opt.learning_rate)`` and ``opt.learning_rate.assign(x)``
        both work; for a schedule it is the schedule's value at ``iterations``.
        Assigning a number sets the Variable; assigning a schedule replaces it.
        """
        if hasattr(self._learning_rate, "assign"):
            return self._learning_rate
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, schedules.LearningRateSchedule) or (
                callable(value) and not hasattr(value, "assign")):
            self._learning_rate = value
            return
        if not hasattr(self._learning_rate, "assign"):
            raise TypeError(
                f"{self.name}: this optimizer was created with a LearningRateSchedule (or callable) as its "
                "`learning_rate`, so its learning rate cannot be set to a number. Create the optimizer "
                "with a float `learning_rate` to make it settable, or assign a new schedule."
            )
        self._learning_rate.assign(ops.cast(value, self._learning_rate.dtype))

    @property
    def lr(self):
        """Keras 2 alias of ``learning_rate`` (warns); returns the learning-rate Variable."""
        warnings.warn("`optimizer.lr` is deprecated (Keras 2); use `optimizer.learning_rate` instead.",
                      DeprecationWarning, stacklevel=2)
        return self.learning_rate

    @lr.setter
    def lr(self, value):
        warnings.warn("`optimizer.lr` is deprecated (Keras 2); use `optimizer.learning_rate` instead.",
                      DeprecationWarning, stacklevel=2)
        self.learning_rate = value

    # --- applying gradients -------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Apply ``(gradient, variable)`` pairs; see ``apply``."""
        pairs = list(grads_and_vars)
        return self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def apply(self, grads, trainable_variables=None):
        """Update ``trainable_variables`` with ``grads`` (one gradient per variable, None to skip).

        Raises:
            ValueError: on a length mismatch, an unknown variable, or when no
                gradient is given at all.
        """
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    f"{self.name}: when `trainable_variables` is not passed, the optimizer must already be "
                    "built; call `optimizer.build(variables)` first.")
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                self.build(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                f"{self.name}: received {len(grads)} gradients for {len(trainable_variables)} variables; "
                "pass one gradient per variable.")
        unknown = [v for v in trainable_variables if id(v) not in self._var_index]
        if unknown:
            raise ValueError(
                f"{self.name}: unknown variable '{getattr(unknown[0], 'path', unknown[0])}'. The optimizer "
                "was built for a different list of variables; call `optimizer.build(all_trainable_variables)` "
                "with every variable it will update, before training.")
        pairs = [(g, v) for g, v in zip(grads, trainable_variables) if g is not None]
        if not pairs:
            raise ValueError(
                f"{self.name}: no gradients provided for any variable (all gradients are None). Check that the "
                "loss depends on the trainable variables.")
        grads = [ops.convert_to_tensor(g) for g, _ in pairs]
        variables = [v for _, v in pairs]
        if self.loss_scale_factor is not None:
            grads = [g / self.loss_scale_factor for g in grads]
        if self.gradient_accumulation_steps:
            self._apply_with_accumulation(grads, variables)
        else:
            self._apply_now(grads, variables)
        if self.use_ema:
            self._update_moving_averages(variables)
        for v in variables:
            if getattr(v, "constraint", None) is not None:
                v.assign(v.constraint(v.value))
        self._iterations.assign_add(1)

    def _apply_now(self, grads, variables):
        grads = self._clip_gradients(grads)
        self._apply_weight_decay(variables)
        self._backend_update_step(grads, variables, self._current_learning_rate())

    def _backend_update_step(self, grads, variables, learning_rate):
        # The engine may run the same update as a few fused multi-tensor kernels (PyTorch's
        # foreach ops); it returns False when it cannot, and the per-variable loop runs.
        spec = self._fused_spec()
        if spec is not None and backend.engine.optimizers.fused_update(
                spec, grads, variables, [self._get_variable_index(v) for v in variables],
                learning_rate, self._update_count()):
            return
        for g, v in zip(grads, variables):
            self.update_step(g, v, learning_rate)

    def _fused_spec(self):
        """Describe this optimizer's update for the engine's fused kernels (None: no fused form).

        Returns a dict with ``kind`` (``"adam"`` or ``"sgd"``), the hyperparameters and the
        slot variables, one per built variable.
        """
        return None

    def _apply_with_accumulation(self, grads, variables):
        steps = self.gradient_accumulation_steps
        is_update = ops.equal(ops.mod(self._iterations.value + 1, steps), 0)
        accs = [self._accumulated_gradients[self._get_variable_index(v)] for v in variables]
        summed = [ops.cast(g, a.dtype) + a.value for g, a in zip(grads, accs)]
        tracked = variables + [v for v in self._variables if v is not self._iterations]
        before = [ops.copy(v.value) for v in tracked]  # a copy: torch assigns in place
        self._apply_now([s / steps for s in summed], variables)
        for v, old in zip(tracked, before):  # keep the old values on accumulation-only steps
            v.assign(ops.where(is_update, v.value, old))
        for a, s in zip(accs, summed):
            a.assign(ops.where(is_update, ops.zeros_like(s), s))

    def update_step(self, gradient, variable, learning_rate):
        """Update one variable from its gradient (subclasses implement this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement `update_step`.")

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        """Return ``(new_trainable_values, new_optimizer_values)`` without assigning anything.

        ``optimizer_variables`` and ``trainable_variables`` hold the current values, in the
        order of ``self.variables`` and of the variables the optimizer was built with.
        """
        mapping = list(zip(self._trainable_variables, trainable_variables))
        mapping += list(zip(self._variables, optimizer_variables))
        with StatelessScope(mapping) as scope:
            self.apply(grads, self._trainable_variables)
        return ([scope.get_current_value(v) for v in self._trainable_variables],
                [scope.get_current_value(v) for v in self._variables])

    def scale_loss(self, loss):
        """Multiply ``loss`` by ``loss_scale_factor`` (when set)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    # --- clipping, weight decay, EMA ----------------------------------------------------
    def _clip_gradients(self, grads):
        if self.clipnorm:
            return [self._clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue:
            return [ops.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    @staticmethod
    def _clip_by_norm(g, clipnorm):
        sq = ops.sum(ops.square(g))
        norm = ops.sqrt(ops.where(sq > 0, sq, ops.ones_like(sq)))
        norm = ops.where(sq > 0, norm, sq)
        return g * clipnorm / ops.maximum(norm, clipnorm)

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exclude variables (or variables whose path contains one of ``var_names``) from weight decay."""
        if self.built:
            raise ValueError(f"{self.name}: `exclude_from_weight_decay` must be called before the optimizer is built.")
        self._exclude_ids.update(id(v) for v in var_list or ())
        if var_names:
            self._exclude_names = re.compile("|".join(re.escape(n) for n in var_names))

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        if self._exclude_names is not None and self._exclude_names.search(str(variable.path)):
            return False
        return True

    def _apply_weight_decay(self, variables):
        if self.weight_decay is None:
            return
        lr = self._current_learning_rate()
        for v in variables:
            if self._use_weight_decay(v):
                wd_lr = ops.cast(lr, v.dtype) * self.weight_decay
                v.assign(v.value - v.value * wd_lr)

    def _update_moving_averages(self, variables):
        not_first = ops.not_equal(self._update_count(), 0)
        for v in variables:
            avg = self._model_variables_moving_average[self._get_variable_index(v)]
            momentum = ops.cast(not_first, v.dtype) * self.ema_momentum
            avg.assign(momentum * avg.value + (1.0 - momentum) * v.value)
        if self.ema_overwrite_frequency:
            overwrite = ops.equal(ops.mod(self._update_count() + 1, self.ema_overwrite_frequency), 0)
            for v in variables:
                avg = self._model_variables_moving_average[self._get_variable_index(v)]
                v.assign(ops.where(overwrite, avg.value, v.value))

    def finalize_variable_values(self, var_list):
        """Write the moving averages into the variables (when ``use_ema``), e.g. at the end of ``fit``."""
        if self.use_ema and self.built:
            for v in var_list:
                if id(v) in self._var_index:
                    # A copy: on JAX the variable and its average must not share a buffer (a compiled step
                    # donates both).
                    v.assign(ops.copy(self._model_variables_moving_average[self._get_variable_index(v)].value))

    # --- saving -------------------------------------------------------------------------
    def save_own_variables(self, store):
        """Write the optimizer's variables to ``store`` (keys ``"0"``, ``"1"``...)."""
        for i, v in enumerate(self._variables):
            store[str(i)] = v.numpy()

    def load_own_variables(self, store):
        """Load variables written by ``save_own_variables``."""
        if len(store.keys()) != len(self._variables):
            raise ValueError(
                f"{self.name}: the saved optimizer state has {len(store.keys())} variables, but this optimizer "
                f"has {len(self._variables)}. Build the optimizer on the same model before loading.")
        for i, v in enumerate(self._variables):
            v.assign(store[str(i)])

    def get_config(self):
        """Return the constructor arguments as a dict (schedules are serialized)."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif hasattr(lr, "assign"):
            lr = float(lr.numpy())
        return {
            "name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue, "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config_, custom_objects=None):
        """Create an optimizer from ``get_config()``'s dict."""
        config_ = dict(config_)
        if isinstance(config_.get("learning_rate"), dict):
            config_["learning_rate"] = schedules.deserialize(config_["learning_rate"], custom_objects)
        return cls(**config_)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def clip_by_global_norm(grads, clip_norm):
    """Scale all ``grads`` together so that their global L2 norm is at most ``clip_norm``.

    Example:
    >>> from lamina import ops
    >>> from lamina.optimizers.optimizer import clip_by_global_norm
    >>> [ops.convert_to_numpy(g).tolist() for g in clip_by_global_norm([ops.convert_to_tensor([3.0, 4.0])], 1.0)]
    [[0.6000000238418579, 0.800000011920929]]
    """
    norm = ops.sqrt(sum(ops.sum(ops.square(ops.cast(g, "float32"))) for g in grads))
    scale = clip_norm * ops.minimum(1.0 / norm, 1.0 / clip_norm)
    scale = scale + (norm - norm)  # keep NaN/inf norms visible
    return [g * ops.cast(scale, ops.dtype(g)) for g in grads]
