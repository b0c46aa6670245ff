"""What ``compile`` resolves: losses per output (with weights) and metrics per output."""

from lamina import ops, tree


def _output_names(model):
    outs = getattr(model, "_outputs_struct", None)
    if isinstance(outs, dict):
        return sorted(outs)
    outputs = getattr(model, "outputs", None) or []
    names = []
    for t in outputs:
        hist = getattr(t, "_history", None)
        names.append(hist.operation.name if hist is not None else None)
    return names


def _flat(struct, y_pred, names, what):
    """``struct`` (targets or sample weights) as a flat list in the order of the flat outputs ``y_pred`` (the
    outputs, or only whether they are a dict).

    A dict given for a model whose outputs are a list (or one tensor) is matched to the outputs by their
    names, as Keras matches it; flattening it would order it by key, which need not be the outputs' order.
    """
    if not isinstance(struct, (list, tuple, dict)):
        return [struct]
    if isinstance(struct, dict) and not isinstance(y_pred, dict) and len(struct) > 1 and names and all(names):
        missing = [n for n in names if n not in struct]
        if missing or len(struct) != len(names):
            raise ValueError(
                f"{what} is a dict with keys {sorted(struct)}, but the model's outputs are named {list(names)}: "
                "give one entry per output, keyed by the output's name (or a list in the outputs' order).")
        return [struct[n] for n in names]
    return tree.flatten(struct)


def _per_output(spec, names, what):
    """Expand a loss/metric spec to one entry per output (a list aligned with flat outputs)."""
    n = max(len(names), 1)
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(
                f"compile: {what} has keys {unknown} that are not output names; the model's outputs "
                f"are named {names}."
            )
        return [spec.get(name) for name in names]
    if isinstance(spec, (list, tuple)) and n > 1 and what != "metrics":
        if len(spec) != n:
            raise ValueError(
                f"compile: the model has {n} outputs {names}, but {what} is a list of {len(spec)} entries. "
                "Pass one per output, or a dict keyed by output name."
            )
        return list(spec)
    if isinstance(spec, (list, tuple)) and n == 1 and len(spec) == 1 and what != "metrics":
        return [spec[0]]  # loss=["mse"] for a model with one output, as Keras accepts
    if what == "metrics" and isinstance(spec, (list, tuple)) and n == 1 and len(spec) == 1 and \
            isinstance(spec[0], (list, tuple)):
        return [spec[0]]  # metrics=[["mae"]]: the one output's list
    if what == "metrics" and isinstance(spec, (list, tuple)) and n > 1 and spec and \
            all(isinstance(s, (list, tuple)) or s is None for s in spec):
        if len(spec) != n:
            raise ValueError(f"compile: metrics has {len(spec)} lists for {n} outputs {names}.")
        return list(spec)
    return [spec] * n


class CompiledLoss:
    """The model's total loss: the weighted sum of one loss per output.

    ``losses``/``weights`` are aligned with the flat outputs; ``order`` lists the outputs that have a loss in
    Keras's order of the per-output losses: the order of the ``loss`` dict's keys for a model with dict
    outputs, else the order of the flat outputs. The losses are computed and summed, and the "<output>_loss"
    values reported, in that order (as Keras's ``CompileLoss``)."""

    def __init__(self, loss, loss_weights, output_names, dict_outputs=False):
        from lamina import losses as losses_mod

        self.output_names = output_names
        entries = _per_output(loss, output_names, "loss")
        weights = _per_output(loss_weights, output_names, "loss_weights") if loss_weights is not None \
            else [1.0] * len(entries)
        self.losses = [_as_loss(losses_mod.get(e), losses_mod) if e is not None else None for e in entries]
        self.weights = [1.0 if w is None else float(w) for w in weights]
        present = [i for i, fn in enumerate(self.losses) if fn is not None]
        if dict_outputs and isinstance(loss, dict) and len(output_names) > 1:
            self.order = [output_names.index(k) for k in loss if self.losses[output_names.index(k)] is not None]
        else:
            self.order = present

    def __call__(self, y_true, y_pred, sample_weight=None):
        flat_true = _flat(y_true, y_pred, self.output_names, "y")
        flat_pred = tree.flatten(y_pred) if isinstance(y_pred, (list, tuple, dict)) else [y_pred]
        flat_sw = (_flat(sample_weight, y_pred, self.output_names, "sample_weight")
                   if isinstance(sample_weight, (list, tuple, dict)) else [sample_weight] * len(flat_pred))
        if len(flat_true) != len(flat_pred):
            raise ValueError(
                f"The model has {len(flat_pred)} outputs, but {len(flat_true)} target arrays were given as y."
            )
        total = None
        self.last_values = []
        for i in self.order:
            fn, w, yt, yp = self.losses[i], self.weights[i], flat_true[i], flat_pred[i]
            sw = flat_sw[i] if i < len(flat_sw) else None
            value = fn(yt, yp, sample_weight=sw)
            self.last_values.append(value)
            value = value * w if w != 1.0 else value
            total = value if total is None else total + value
        return total

    def output_loss_names(self):
        """Keras's per-output loss keys (``"<output>_loss"``, in ``order``), only when several outputs have a
        loss (as Keras: one loss of a multi-output model reports no per-output loss)."""
        named = [self.output_names[i] if i < len(self.output_names) else None for i in self.order]
        if len(named) < 2 or not all(named):
            return []
        return [f"{name}_loss" for name in named]

    def loss_names(self):
        return [getattr(fn, "name", None) or getattr(fn, "__name__", "loss") for fn in self.losses]


def _as_loss(fn, losses_mod):
    """Loss functions become Loss objects, so that sample weights and reductions apply."""
    if isinstance(fn, losses_mod.Loss):
        return fn
    return losses_mod.LossFunctionWrapper(fn, name=getattr(fn, "__name__", None))


class CompiledMetrics:
    """Metrics per output, resolved lazily once the shapes of y and y_pred are known."""

    def __init__(self, metrics, weighted_metrics, output_names, compiled_loss):
        self.output_names = output_names
        self._metrics_spec = metrics
        self._weighted_spec = weighted_metrics
        self._compiled_loss = compiled_loss
        self.metrics = []          # flat list of (output_index, metric, weighted)
        self.built = False

    def build(self, y_true, y_pred):
        from lamina import metrics as metrics_mod

        flat_true = _flat(y_true, y_pred, self.output_names, "y")
        flat_pred = tree.flatten(y_pred) if isinstance(y_pred, (list, tuple, dict)) else [y_pred]
        multi = len(flat_pred) > 1
        taken = set()
        for spec, weighted in ((self._metrics_spec, False), (self._weighted_spec, True)):
            if not spec:
                continue
            per_out = _per_output(spec, self.output_names or [None] * len(flat_pred), "metrics")
            for i, entry in enumerate(per_out):
                if entry is None:
                    continue
                for m in (entry if isinstance(entry, (list, tuple)) else [entry]):
                    loss = self._compiled_loss.losses[i] if self._compiled_loss and i < len(self._compiled_loss.losses) else None
                    metric = _resolve_metric(m, loss, flat_true[i], flat_pred[i], metrics_mod)
                    # Keras's own name of the metric (its log key without the output prefix or a suffix that
                    # makes it unique): what Keras's evaluate() matches to order the values it returns
                    metric._compile_name = metric.name
                    prefix = f"{self.output_names[i]}_" if multi and self.output_names and self.output_names[i] else ""
                    name = prefix + metric.name
                    if weighted and name in taken:   # as Keras: "weighted_" only when the name is taken
                        name = f"{prefix}weighted_{metric.name}"
                    base, k = name, 1
                    while name in taken:
                        name, k = f"{base}_{k}", k + 1
                    metric.name = name
                    taken.add(name)
                    self.metrics.append((i, metric, weighted))
        self.built = True

    def compile_names(self):
        """Keras's names of the compiled metrics (``CompileMetrics.metrics``), in order."""
        return [getattr(m, "_compile_name", m.name) for _, m, _ in self.metrics]

    def update_state(self, y_true, y_pred, sample_weight=None):
        flat_true = _flat(y_true, y_pred, self.output_names, "y")
        flat_pred = tree.flatten(y_pred) if isinstance(y_pred, (list, tuple, dict)) else [y_pred]
        flat_sw = (_flat(sample_weight, y_pred, self.output_names, "sample_weight")
                   if isinstance(sample_weight, (list, tuple, dict)) else [sample_weight] * len(flat_pred))
        for i, metric, weighted in self.metrics:
            metric.update_state(flat_true[i], flat_pred[i], sample_weight=flat_sw[i] if weighted else None)


def _resolve_metric(m, loss, y_true, y_pred, metrics_mod):
    if isinstance(m, str) and m.lower() in ("accuracy", "acc"):
        metric = metrics_mod.resolve_accuracy(loss, tuple(ops.shape(y_true)), tuple(ops.shape(y_pred)))
        metric.name = m.lower() if m.lower() == "acc" else "accuracy"
        return metric
    if isinstance(m, str) and m.lower() in ("crossentropy", "ce"):
        # Keras 2's alias: the crossentropy that goes with the loss and the shapes, as "accuracy" picks its
        # accuracy (binary, sparse or categorical), on logits where the loss takes logits
        kind = type(metrics_mod.resolve_accuracy(loss, tuple(ops.shape(y_true)), tuple(ops.shape(y_pred))))
        cls = {metrics_mod.BinaryAccuracy: metrics_mod.BinaryCrossentropy,
               metrics_mod.SparseCategoricalAccuracy: metrics_mod.SparseCategoricalCrossentropy}.get(
                   kind, metrics_mod.CategoricalCrossentropy)
        from_logits = bool(getattr(loss, "from_logits", False) or
                           (getattr(loss, "_fn_kwargs", None) or {}).get("from_logits", False))
        metric = cls(from_logits=from_logits)
        metric.name = m.lower()
        return metric
    metric = metrics_mod.get(m)
    if not isinstance(metric, metrics_mod.Metric):
        metric = metrics_mod.MeanMetricWrapper(metric)
    if isinstance(m, str):
        metric.name = m  # as Keras: metrics=["mae"] is logged as "mae"
    return metric
