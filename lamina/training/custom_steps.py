"""Running a model's own ``train_step`` / ``test_step`` / ``predict_step`` (Keras's way of customizing ``fit``).

When a model class overrides one of these methods, ``fit``/``evaluate``/``predict`` call it once per batch with
``data`` as Keras passes it — ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` of engine tensors — and use the
dict it returns as the logs (callbacks, History, the progress bar). The same loop drives it as the built-in steps
(callbacks, validation, early stopping, resuming). The method runs eagerly: written with ``lamina.ops`` and
``lamina.ops.value_and_grad`` it is the same code on PyTorch and JAX (see docs/custom_training.md).
"""

import numpy as np

from lamina import backend, tree

KINDS = ("train", "test", "predict")


def overridden(model, kind):
    """Whether ``model``'s class overrides ``<kind>_step``."""
    from lamina.training.trainer import Trainer

    name = f"{kind}_step"
    return getattr(type(model), name) is not getattr(Trainer, name)


class CustomStepFunction:
    """The step-function interface of the training loop (``place``, ``__call__``, ``run_batches``, ...) around
    the model's own step method."""

    steps_per_call = 1

    def __init__(self, model, kind):
        self.model = model
        self.kind = kind
        self.method = getattr(model, f"{kind}_step")
        if kind != "predict" and _takes_state(self.method):  # Keras's JAX form: step(state, data) -> (logs, state)
            self.run_step = StatelessStep(model, kind, self.method)
            return
        runner = getattr(backend.engine.trainer, "custom_step_runner", None)
        self.run_step = runner(model, self.method, reachable_state) if runner is not None and kind != "predict" and \
            not getattr(model, "run_eagerly", False) else self.method

    def place(self, data):
        return (data.x, data.y, data.sample_weight)

    def sync(self):
        pass

    def __call__(self, placed, block):
        x, y, sw = placed
        out = None
        for idx in block:
            out = self._run(tuple(None if a is None else _take(a, idx) for a in (x, y, sw)))
        return out

    def place_batches(self, block):
        return list(block)

    def run_batches(self, placed):
        for batch in placed:
            self._run(batch)

    def predict_batch(self, placed):
        return self._run(placed[0])

    def _run(self, batch):
        x, y, sw = (None if a is None else tree.map_structure(_tensor, a) for a in batch)
        if self.kind == "predict":
            return self.method((x,))
        data = (x,) if y is None and sw is None else (x, y) if sw is None else (x, y, sw)
        logs = self.run_step(data)
        self.model._custom_logs = _as_logs(logs, f"{type(self.model).__name__}.{self.kind}_step")
        return None


def _takes_state(method):
    """Whether a step method has Keras's stateless signature ``(state, data)``."""
    import inspect

    try:
        params = [p for p in inspect.signature(method).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return len(params) == 2


class StatelessStep:
    """A step written as Keras's "customizing fit() with JAX" guide writes it: ``train_step(self, state, data)``
    with ``state = (trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables)``
    (``test_step``: without the optimizer's), returning ``(logs, state)``. The step is a pure function of the
    values; it is compiled with ``jax.jit`` on JAX (run as it is elsewhere) and the returned state is written
    back into the variables."""

    def __init__(self, model, kind, method):
        self.model, self.kind, self.method = model, kind, method
        self.compiled = None

    def _groups(self):
        m = self.model
        trainable = list(m.trainable_variables)
        groups = [trainable, list(m.non_trainable_variables)]
        if self.kind == "train":
            if m.optimizer is None:
                raise ValueError(f"{type(m).__name__}.train_step(state, data) needs an optimizer: call compile() "
                                 "with one first.")
            if not m.optimizer.built:
                m.optimizer.build(trainable)
            groups.append(list(m.optimizer.variables))
        groups.append([v for metric in m.metrics for v in metric.variables])
        return groups

    def __call__(self, data):
        m = self.model
        compiled = getattr(m, "compiled_metrics", None)
        if compiled is not None and not compiled.built and len(data) > 1 and data[1] is not None:
            compiled.build(data[1], m(data[0], training=False))  # as Keras: metrics exist before the first step
        groups = self._groups()
        state = tuple([v.value for v in group] for group in groups)
        if self.compiled is None:
            jit = getattr(backend.engine.trainer, "jit_stateless_step", None)  # JAX: jax.jit; others: as it is
            self.compiled = jit(self.method) if jit is not None and not getattr(m, "run_eagerly", False) \
                else self.method
        who = f"{type(m).__name__}.{self.kind}_step(state, data)"
        out = self.compiled(state, data)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(f"{who} must return (logs, state), but returned {type(out).__name__}.")
        logs, new_state = out
        if not (isinstance(new_state, (tuple, list)) and len(new_state) == len(groups) and
                all(len(vals) == len(group) for vals, group in zip(new_state, groups))):
            raise ValueError(f"{who} must return a state of {len(groups)} lists with "
                             f"{[len(g) for g in groups]} values, in the order it received them.")
        for group, values in zip(groups, new_state):
            for var, value in zip(group, values):
                var.assign(value)
        return logs


def reachable_state(model):
    """Every Variable a custom step may read or assign: the model's and its layers' weights, and those of every
    optimizer, metric and seed generator held in the attributes of the model and its layers (a GAN's two
    optimizers, its loss trackers), plus the global seed generator's state."""
    from lamina.layers.layer import Layer
    from lamina.metrics.metric import Metric
    from lamina.optimizers.optimizer import Optimizer
    from lamina.random.random import _GLOBAL, SeedGenerator

    found, seen_vars, seen_objs = [], set(), set()

    def add(var):
        if id(var) not in seen_vars:
            seen_vars.add(id(var))
            found.append(var)

    def visit(obj, depth=0):
        if id(obj) in seen_objs or depth > 8:
            return
        seen_objs.add(id(obj))
        if isinstance(obj, backend.VariableBase):
            add(obj)
        elif isinstance(obj, SeedGenerator):
            add(obj.state)
        elif isinstance(obj, (Layer, Optimizer, Metric)):
            for var in obj.variables:
                add(var)
            for value in list(vars(obj).values()):
                visit(value, depth + 1)
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                visit(item, depth + 1)
        elif isinstance(obj, dict):
            for item in list(obj.values()):
                visit(item, depth + 1)

    visit(model)
    for metric in model.metrics:
        visit(metric)
    if _GLOBAL.get("generator") is not None:
        add(_GLOBAL["generator"].state)
    return found


def _take(struct, idx):
    return tree.map_structure(lambda a: None if a is None else a[idx], struct)


def _tensor(a):
    if a is None or backend.is_tensor(a):
        return a
    return backend.convert_to_tensor(np.asarray(a))


def _as_logs(logs, who):
    if logs is None:
        return {}
    if not isinstance(logs, dict):
        raise TypeError(f"{who} must return a dict of logs (e.g. {{'loss': loss}} or "
                        f"{{m.name: m.result() for m in self.metrics}}), but returned a {type(logs).__name__}.")
    out = {}
    for name, value in logs.items():
        if isinstance(value, dict):
            out.update(_as_logs(value, who))
            continue
        try:
            array = np.asarray(backend.convert_to_numpy(value) if backend.is_tensor(value) else value, dtype=float)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{who} returned a log {name!r} that is not a number: {value!r}.") from err
        if array.size != 1:
            raise TypeError(f"{who} returned a log {name!r} of shape {array.shape}; logs must be scalars "
                            "(reduce it, e.g. with ops.mean).")
        out[name] = float(array.reshape(()))
    return out
