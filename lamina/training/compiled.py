"""What a compiled model computes: ``compile``, its losses and metrics, their logs, and the default steps.

``Trainer`` (``lamina.training.trainer``) runs these steps in its loops (``fit``, ``evaluate``, ``predict``);
a model that overrides ``train_step``/``test_step``/``predict_step`` replaces the steps here, not the loops.
"""

import warnings

from lamina import backend, ops, tree
from lamina.distribution import _loop as distribution_loop
from lamina.training.compile_utils import CompiledLoss, CompiledMetrics, _output_names


class Compiled:
    """Mixin of ``Trainer``: the state ``compile`` configures, and the steps that use it."""

    # ---- compile -------------------------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution="auto", jit_compile="auto", auto_scale_loss=True):
        """Configure the model for training.

        Args:
            optimizer: an optimizer name (``"adam"``) or instance.
            loss: a loss name, instance or function; a list or dict for several outputs.
            loss_weights: weights of the per-output losses (list or dict).
            metrics: metric names/instances (``"accuracy"`` is resolved from the loss and shapes).
            weighted_metrics: metrics that use ``sample_weight``/``class_weight``.
            run_eagerly: on JAX, run steps without compiling (for debugging).
            steps_per_execution: training steps per compiled call (JAX), or ``"auto"``.
            jit_compile: ``"auto"``/True/False. JAX always compiles its steps (unless ``run_eagerly``).
                On PyTorch, True runs the step's forward pass, loss and metric updates through
                ``torch.compile`` (the first step compiles: seconds on a CPU); ``"auto"`` and False run
                eagerly, as in Keras.

        Example:
        >>> import lamina
        >>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2, activation="softmax")])
        >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        >>> model.compiled
        True
        """
        from lamina import metrics as metrics_mod
        from lamina import optimizers

        self.optimizer = optimizers.get(optimizer)
        policy = getattr(self, "dtype_policy", None)
        if policy is not None and policy.name == "mixed_float16" and \
                not isinstance(self.optimizer, optimizers.LossScaleOptimizer):
            # float16 gradients underflow without loss scaling (as Keras, wrapped automatically)
            self.optimizer = optimizers.LossScaleOptimizer(self.optimizer)
        names = _output_names(self)
        self.loss = loss
        dict_outputs = isinstance(getattr(self, "_outputs_struct", None), dict)
        self.compiled_loss = CompiledLoss(loss, loss_weights, names, dict_outputs) if loss is not None else None
        previous = self.__dict__.get("compiled_metrics")
        if metrics is None and weighted_metrics is None and previous is not None and \
                (previous._metrics_spec is not None or previous._weighted_spec is not None):
            # As Keras: compiling again without metrics keeps the metrics of the previous compile (Keras
            # replaces its CompileMetrics only when metrics or weighted_metrics are given).
            self.compiled_metrics = previous
        else:
            self.compiled_metrics = CompiledMetrics(metrics, weighted_metrics, names, self.compiled_loss)
        self._loss_tracker = metrics_mod.Mean(name="loss")
        self._output_loss_trackers = [metrics_mod.Mean(name=n) for n in
                                      (self.compiled_loss.output_loss_names() if self.compiled_loss else [])]
        self.run_eagerly = bool(run_eagerly)
        if steps_per_execution == "auto":
            steps_per_execution = 0
        if isinstance(steps_per_execution, bool) or not isinstance(steps_per_execution, int) or steps_per_execution < 0:
            raise ValueError(
                f"compile: steps_per_execution must be a positive int or 'auto', but received {steps_per_execution!r}."
            )
        self.steps_per_execution = steps_per_execution
        if jit_compile is None:  # tf.keras 2's default (and in its saved compile configs)
            jit_compile = "auto"
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"compile: jit_compile must be True, False or 'auto', but received {jit_compile!r}.")
        if not isinstance(jit_compile, str):
            jit_compile = bool(jit_compile)
        if jit_compile is True and self.run_eagerly:
            warnings.warn("compile: run_eagerly=True and jit_compile=True were both given; steps run eagerly "
                          "(jit_compile is set to False).", UserWarning, stacklevel=2)
            jit_compile = False
        self.jit_compile = jit_compile
        self._step_functions = {}
        self._loss_sources = None
        self._losses_built = False
        self.compiled = True

    @property
    def metrics(self):
        """Keras's order: the loss tracker, the compiled metrics, the per-output loss trackers (several
        outputs), then the metrics that layers add and the metrics set as attributes."""
        out = []
        if self._loss_tracker is not None:
            out.append(self._loss_tracker)
        if self.compiled_metrics is not None:
            out.extend(m for _, m, _ in self.compiled_metrics.metrics)
        out.extend(self._output_loss_trackers)
        out.extend(self.__dict__.get("_added_metric_trackers", {}).values())
        for m in self._attribute_metrics_of_layers():
            if all(m is not o for o in out):
                out.append(m)
        return out

    def _attribute_metrics_of_layers(self):
        """The metrics set as attributes of this model (``self.loss_tracker = metrics.Mean(...)``) and of its
        sub-layers that are not models themselves, as Keras lists them in ``Model.metrics``."""
        from lamina.layers.layer import SUBLAYER_METRICS

        out = list(self.__dict__.get("_attribute_metrics", {}).values())
        if SUBLAYER_METRICS[0]:
            for layer in self._flatten_layers()[1:]:
                if not isinstance(layer, Compiled):
                    out.extend(layer.__dict__.get("_attribute_metrics", {}).values())
        return out

    @property
    def output_names(self):
        """The names of the model's outputs, in the order of its flat outputs (a dict's keys sorted), as Keras
        lists them: what ``loss``/``metrics`` dicts and dict targets are keyed by.

        Example:
        >>> import lamina
        >>> inp = lamina.Input((3,))
        >>> out = [lamina.layers.Dense(1, name="reg")(inp), lamina.layers.Dense(2, name="cls")(inp)]
        >>> lamina.Model(inp, out).output_names
        ['reg', 'cls']
        """
        override = self.__dict__.get("_output_names_set")
        return list(override) if override is not None else _output_names(self)

    @output_names.setter
    def output_names(self, names):
        self.__dict__["_output_names_set"] = list(names)

    @property
    def metrics_names(self):
        """The names of the values ``evaluate()`` returns, in the same order, so
        ``dict(zip(model.metrics_names, model.evaluate(x, y)))`` pairs them (Keras 2's contract). Keras 3 lists
        ``["loss", "compile_metrics", ...]`` instead, which no longer matches its own ``evaluate()`` (keras-team/
        keras#21487); lamina keeps the names usable.
        """
        names = [m.name for m in self.metrics]
        order = self._keras_metric_order()
        listed = [k for k in order if k in names]
        known = set(order)
        return listed + sorted(k for k in names if k not in known)

    @property
    def metrics_variables(self):
        out = []
        for m in self.metrics:
            out.extend(m.variables)
        return out

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The loss of one batch: the compiled loss plus the layers' added losses."""
        total = None
        self._last_output_losses = []
        if self.compiled_loss is not None and y is not None:
            total = self.compiled_loss(y, y_pred, sample_weight)
            self._last_output_losses = list(self.compiled_loss.last_values)
        extra = self._step_losses()
        if extra:
            reg = extra[0]
            for t in extra[1:]:
                reg = reg + t
            total = reg if total is None else total + reg
        if total is None:
            raise ValueError(
                f"Model '{self.name}' has no loss to minimize: pass `loss=` to compile() and targets `y` "
                "to fit(), or add losses in the model with `self.add_loss`."
            )
        return total

    def _pop_output_losses(self):
        """The per-output loss values of the last ``compute_loss`` (for the "<output>_loss" trackers), followed
        (when layers use ``add_metric``) by this step's added metric values in tracker order (None where a layer
        did not report one this step). Called where the forward pass's tensors are live (inside the JAX loss
        function), so the values can leave it as auxiliary outputs."""
        values, self._last_output_losses = self._last_output_losses, []
        trackers = self._added_metric_trackers
        if not trackers:
            return values
        values = (list(values) + [None] * len(self._output_loss_trackers))[:len(self._output_loss_trackers)]
        return values + self._step_added_metrics()

    def _step_added_metrics(self):
        reported = {}
        for layer in self._step_layers():
            for name, value, aggregation in layer._added_metrics:
                reported[name] = value
                if name not in self._added_metric_trackers:
                    self._new_added_metric(layer, name, aggregation)
        return [reported.get(name) for name in self._added_metric_trackers]

    def _new_added_metric(self, layer, name, aggregation):
        from lamina.backend.common.scopes import current_scope

        if current_scope() is not None:  # inside a compiled (JAX) step: no new state can be made here
            raise ValueError(
                f"Layer '{layer.name}' called add_metric(name={name!r}) for the first time inside a compiled "
                f"step of model '{self.name}', so its metric could not be created before compiling. Call the "
                "model once on a batch in the same mode first (e.g. `model(x[:1], training=True)`), or report "
                "the metric on every call.")
        self._sync_added_metrics()

    def _sync_added_metrics(self):
        """Create a tracker for every ``add_metric`` name the layers have used (before steps are compiled)."""
        from lamina import metrics as metrics_mod

        trackers = self._added_metric_trackers
        reserved = {m.name for m in self.metrics if all(m is not t for t in trackers.values())}
        added = False
        for layer in self._flatten_layers():
            for name, aggregation in layer._metric_specs.items():
                if name in trackers:
                    continue
                if name in reserved:
                    raise ValueError(
                        f"Layer '{layer.name}' reports add_metric(name={name!r}), but model '{self.name}' already "
                        f"has a metric named {name!r} (its loss or a compiled metric); choose another name.")
                cls = metrics_mod.Sum if aggregation == "sum" else metrics_mod.Mean
                trackers[name] = cls(name=name)
                trackers[name]._add_metric_aggregation = aggregation
                added = True
        if added:
            self._step_functions = {}  # compiled steps hold the metric variables they update
        return added

    def _step_layers(self):
        if self.__dict__.get("_loss_sources") is None:
            self._step_losses()
        return self._loss_sources[0]

    def _step_losses(self):
        """``self.losses`` without walking the model each step: the layers and regularized
        weights are found once per compile."""
        sources = self.__dict__.get("_loss_sources")
        if sources is None:
            regularized = [v for v in self.trainable_weights if v.regularizer is not None]
            sources = self._loss_sources = (self._flatten_layers(), regularized)
        layers, regularized = sources
        out = [loss for layer in layers for loss in layer._losses]
        out += [v.regularizer(v.value) for v in regularized]
        return out

    def _update_metrics(self, y, y_pred, sample_weight, loss, batch_size, output_losses=None):
        self._loss_tracker.update_state(loss, sample_weight=batch_size)
        output_losses = output_losses or ()
        for tracker, value in zip(self._output_loss_trackers, output_losses):
            tracker.update_state(value, sample_weight=batch_size)
        if self._added_metric_trackers:
            added = output_losses[len(self._output_loss_trackers):]
            for tracker, value in zip(self._added_metric_trackers.values(), added):
                if value is None:
                    continue
                value = ops.mean(ops.cast(value, "float32"))
                if tracker._add_metric_aggregation == "sum":
                    tracker.update_state(value)
                else:
                    tracker.update_state(value, sample_weight=batch_size)
        if y is not None and self.compiled_metrics is not None:
            self.compiled_metrics.update_state(y, y_pred, sample_weight)

    def _current_logs(self, aggregate=False):
        """Fetch metric results from the device (the only place logs are synchronised).

        ``aggregate``: epoch and evaluation logs of a multi-process run are over all
        processes' batches (every process must ask at the same point)."""
        if aggregate:
            with distribution_loop.summed_metrics(self):
                return self._read_logs()
        return self._read_logs()

    def _read_logs(self):
        """The logs as Keras hands them out (to callbacks, and from ``evaluate(return_dict=True)``,
        ``train_on_batch``...): Python floats, keys sorted (Keras's ``pythonify_logs``)."""
        custom = self.__dict__.get("_custom_logs")
        if custom is not None:  # the dict the model's own train_step/test_step returned last
            return dict(sorted(custom.items()))
        logs = {}
        for m in self.metrics:
            result = m.result()
            if isinstance(result, dict):
                for k, v in result.items():
                    logs[k] = float(backend.convert_to_numpy(v))
            else:
                logs[m.name] = float(backend.convert_to_numpy(result))
        return dict(sorted(logs.items()))

    def _keras_metric_order(self):
        """The names Keras's ``evaluate()`` lists its values by (``Trainer._flatten_metrics_in_order``): the
        loss tracker, the compiled metrics by their own names (not prefixed with the output name, so for a
        multi-output model they match no log key), the per-output losses, then the other metrics."""
        names = [self._loss_tracker.name] if self._loss_tracker is not None else []
        cm = self.compiled_metrics
        compiled = set()
        if cm is not None:
            names.extend(cm.compile_names())
            compiled = {id(m) for _, m, _ in cm.metrics}
        names.extend(t.name for t in self._output_loss_trackers)
        skip = compiled | {id(t) for t in self._output_loss_trackers} | {id(self._loss_tracker)}
        # (a custom tracker named like one listed above, e.g. "loss", is that one: Keras lists it once)
        listed = set(names)
        names.extend(m.name for m in self.metrics if id(m) not in skip and m.name not in listed)
        return names

    # ---- the steps, for models that customize them ------------------------------

    def train_step(self, data):
        """One training step on ``data`` (``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``); returns the logs.

        Override it to customize ``fit`` (call ``super().train_step(data)`` for the default). Written with
        ``lamina.ops.value_and_grad`` the same override runs on both backends; see docs/custom_training.md.
        This default is what the compiled training step computes.

        Example:
        >>> import lamina, numpy as np
        >>> from lamina import ops
        >>> class Scaled(lamina.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.dense = lamina.layers.Dense(1)
        ...     def call(self, x):
        ...         return self.dense(x)
        ...     def train_step(self, data):
        ...         x, y = data
        ...         def loss_fn():
        ...             return self.compute_loss(x, y, self(x, training=True))
        ...         loss, grads = ops.value_and_grad(loss_fn, self.trainable_variables)()
        ...         self.optimizer.apply(grads, self.trainable_variables)
        ...         return {"loss": loss}
        >>> model = Scaled()
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> history = model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=2, verbose=0)
        >>> sorted(history.history)
        ['loss']
        """
        from lamina.utils.dataset_utils import unpack_x_y_sample_weight

        x, y, sample_weight = unpack_x_y_sample_weight(data)
        variables = self.trainable_variables

        def loss_fn():
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
            return self.optimizer.scale_loss(loss), (loss, y_pred, self._pop_output_losses())

        (_, (loss, y_pred, output_losses)), grads = ops.value_and_grad(loss_fn, variables, has_aux=True)()
        self.optimizer.apply(grads, variables)
        self._update_metrics(y, y_pred, sample_weight, loss, _batch_size(x), output_losses)
        return self._metrics_result()

    def test_step(self, data):
        """One evaluation step on ``data``; returns the logs (override to customize ``evaluate``).

        Example:
        >>> import lamina, numpy as np
        >>> model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1, kernel_initializer="zeros")])
        >>> model.compile(loss="mse")
        >>> logs = model.test_step((lamina.ops.ones((4, 2)), lamina.ops.ones((4, 1))))
        >>> float(logs["loss"])
        1.0
        """
        from lamina.utils.dataset_utils import unpack_x_y_sample_weight

        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = ops.stop_gradient(self(x, training=False))
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        self._update_metrics(y, y_pred, sample_weight, loss, _batch_size(x), self._pop_output_losses())
        return self._metrics_result()

    def predict_step(self, data):
        """The outputs for one batch ``data`` (``(x,)``); override to customize ``predict``.

        Example:
        >>> import lamina
        >>> model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(3)])
        >>> lamina.ops.shape(model.predict_step((lamina.ops.ones((4, 2)),)))
        (4, 3)
        """
        from lamina.utils.dataset_utils import unpack_x_y_sample_weight

        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with one batch and return every metric's result (Keras's hook for a
        custom ``train_step``/``test_step``: ``return self.compute_metrics(x, y, y_pred, sample_weight)``).

        The loss tracker is updated by ``compute_loss``, not here (as in Keras).

        Example:
        >>> import lamina, numpy as np
        >>> model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1, kernel_initializer="zeros")])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        >>> x, y = np.ones((4, 2), "float32"), np.full((4, 1), 2.0, "float32")
        >>> float(model.compute_metrics(x, y, model(x))["mae"])
        2.0
        """
        if self.compiled_metrics is not None and y is not None:
            if not self.compiled_metrics.built:
                self.compiled_metrics.build(y, y_pred)
            self.compiled_metrics.update_state(y, y_pred, sample_weight)
        return self._metrics_result()

    def parameters(self, recurse=True):
        """PyTorch backend: the ``torch.nn.Parameter`` of every weight (trainable or not), as
        ``torch.nn.Module.parameters()`` - for a torch optimizer (``torch.optim.Adam(model.parameters())``)
        in a hand-written PyTorch training loop. Other backends raise AttributeError saying what to use."""
        from lamina import backend

        return iter(backend.engine.trainer.module_parameters(self.weights))

    def zero_grad(self, set_to_none=True):
        """PyTorch backend: clear the gradients of every weight, as ``torch.nn.Module.zero_grad()`` (the
        "customizing fit() with PyTorch" guide calls ``self.zero_grad()`` before ``loss.backward()``)."""
        from lamina import backend

        backend.engine.trainer.module_zero_grad(self.weights, set_to_none)

    def get_metrics_result(self):
        """The current result of every metric in ``self.metrics`` as a dict sorted by name, each scalar as a
        Python float (as Keras returns them; inside a traced step, where no value exists yet, the tensors
        themselves). A step returns the tensors without reading them back from the device.

        Example:
        >>> import lamina, numpy as np
        >>> model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        >>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
        >>> result = model.get_metrics_result()
        >>> sorted(result), type(result["loss"]).__name__
        (['loss', 'mae'], 'float')
        """
        logs = {}
        for key, value in sorted(self._metrics_result().items()):
            try:
                value = float(value)
            except Exception:  # a tracer inside a compiled step, or a non-scalar result: kept as it is
                pass
            logs[key] = value
        return logs

    def _metrics_result(self):
        """The current result of every metric in ``self.metrics``, as a dict of tensors (what the built-in
        steps return: no read-back from the device)."""
        logs = {}
        for m in self.metrics:
            result = m.result()
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[m.name] = result
        return logs


def _batch_size(x):
    first = tree.flatten(x)[0]
    return int(first.shape[0])
