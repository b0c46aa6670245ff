"""Magnitude pruning: masks that zero the smallest weights of chosen kernels during ``fit``.

Design (no wrapper layers, so the model, its config and its saved files stay plain):

* ``prune_low_magnitude(model, pruning_schedule, layers=None)`` marks ``model`` for pruning
  and returns it: the kernels (``kernel``, ``depthwise_kernel``, ``pointwise_kernel``,
  ``embeddings``) of its Dense, EinsumDense, Conv* and Embedding layers, or of ``layers``.
* ``UpdatePruningStep()`` (alias ``PruningCallback``), passed to ``fit``, counts training steps;
  at each step the schedule names it recomputes each mask (the smallest ``sparsity`` fraction of
  the weight's magnitudes) and, after every optimizer update it sees, multiplies the weights
  by their masks, so pruned weights stay zero. On JAX, where one compiled call may run several
  steps, the masks are applied after each call (so always at the end of an epoch).
* ``strip_pruning(model)`` applies the masks a last time and removes the marks: the model is
  then an ordinary model with sparse kernels. ``get_sparsity(model)`` reports the zeros.
"""

import numpy as np

from lamina import backend, ops
from lamina.callbacks.callback import Callback
from lamina.pruning.schedules import ConstantSparsity, PruningSchedule

_KERNEL_NAMES = ("kernel", "depthwise_kernel", "pointwise_kernel", "embeddings")


class _PruningState:
    """What ``prune_low_magnitude`` attaches to a model: schedule, targets, masks, step count."""

    def __init__(self, schedule, layers):
        self.schedule = schedule
        self.layer_filter = layers
        self.masks = {}  # id(variable) -> (variable, mask tensor)
        self.step = 0  # training steps done under pruning, over every fit call


def _default_layers(model):
    from lamina.layers import Dense, EinsumDense, Embedding
    from lamina.layers.convolutional.base_conv import BaseConv
    from lamina.models.model import Model

    kinds = (Dense, EinsumDense, Embedding, BaseConv)
    return [layer for layer in model._flatten_layers()
            if isinstance(layer, kinds) and not isinstance(layer, Model)]


def _prunable_weights(layer):
    out = []
    for name in _KERNEL_NAMES:
        v = getattr(layer, name, None)
        if isinstance(v, backend.VariableBase) and backend.is_float_dtype(str(v.dtype)):
            out.append(v)
    return out


def _resolve_targets(model, layer_filter):
    """The (layer, [variables]) pairs to prune, checked."""
    if layer_filter is None:
        layers = _default_layers(model)
    else:
        by_name = {layer.name: layer for layer in model._flatten_layers()}
        layers = []
        for item in layer_filter:
            layer = by_name.get(item) if isinstance(item, str) else item
            if layer is None or layer not in by_name.values():
                raise ValueError(f"prune_low_magnitude: {item!r} is not a layer of model '{model.name}' "
                                 f"(its layers: {sorted(by_name)[:20]}).")
            if not _prunable_weights(layer):
                raise ValueError(f"prune_low_magnitude: layer '{layer.name}' ({type(layer).__name__}) has no "
                                 f"float kernel to prune (looked for {list(_KERNEL_NAMES)}).")
            layers.append(layer)
    targets = [(layer, _prunable_weights(layer)) for layer in layers]
    targets = [(layer, ws) for layer, ws in targets if ws]
    if not targets:
        raise ValueError(f"prune_low_magnitude: model '{model.name}' has no built Dense, EinsumDense, Conv or "
                         "Embedding layer with a float kernel to prune.")
    return targets


def prune_low_magnitude(model, pruning_schedule=None, layers=None):
    """Mark ``model`` for magnitude pruning during ``fit`` (with the ``UpdatePruningStep`` callback).

    Args:
        model: a ``Model`` (Sequential, Functional or subclassed).
        pruning_schedule: a ``PruningSchedule`` (default ``ConstantSparsity(0.5, begin_step=0)``).
        layers: optional list of layers (or layer names) to prune; by default every Dense,
            EinsumDense, Conv* and Embedding layer. Their kernels are pruned, never biases.

    Returns:
        ``model`` itself, marked for pruning.

    Example:
    >>> import lamina, numpy as np
    >>> from lamina import pruning
    >>> model = lamina.Sequential([lamina.Input((8,)), lamina.layers.Dense(16, name="hidden"),
    ...                            lamina.layers.Dense(1, name="out")])
    >>> model = pruning.prune_low_magnitude(model, pruning.ConstantSparsity(0.75, begin_step=0, frequency=1))
    >>> model.compile(optimizer="adam", loss="mse")
    >>> _ = model.fit(np.ones((16, 8)), np.ones((16, 1)), epochs=1, verbose=0,
    ...               callbacks=[pruning.UpdatePruningStep()])
    >>> model = pruning.strip_pruning(model)
    >>> pruning.get_sparsity(model)
    {'hidden': 0.75, 'out': 0.75}
    """
    from lamina.models.model import Model

    if not isinstance(model, Model):
        raise TypeError(f"prune_low_magnitude expected a lamina Model, but received {type(model).__name__}.")
    schedule = ConstantSparsity(0.5, begin_step=0) if pruning_schedule is None else pruning_schedule
    if not isinstance(schedule, PruningSchedule):
        raise TypeError("prune_low_magnitude expected `pruning_schedule` to be a PruningSchedule (e.g. "
                        f"ConstantSparsity or PolynomialDecay), but received {type(schedule).__name__}.")
    if layers is not None and not isinstance(layers, (list, tuple)):
        raise TypeError(f"prune_low_magnitude expected `layers` to be a list of layers or names, but received "
                        f"{type(layers).__name__}.")
    if model.built:
        _resolve_targets(model, layers)  # report a bad `layers` now rather than in fit
    object.__setattr__(model, "_pruning_state", _PruningState(schedule, layers))
    return model


def _state(model, who):
    state = getattr(model, "_pruning_state", None)
    if state is None:
        raise ValueError(f"{who}: model '{model.name}' is not marked for pruning. Call "
                         "lamina.pruning.prune_low_magnitude(model, schedule) before fit.")
    return state


def _update_masks(state, model, sparsity):
    """Recompute every mask: zero the ``sparsity`` fraction of smallest magnitudes of each weight."""
    for _, weights in _resolve_targets(model, state.layer_filter):
        for v in weights:
            magnitude = np.abs(np.asarray(v.numpy(), dtype=np.float32)).ravel()
            k = int(round(sparsity * magnitude.size))
            mask = np.ones(magnitude.size, dtype=np.float32)
            if k > 0:
                mask[np.argpartition(magnitude, k - 1)[:k]] = 0.0
            tensor = ops.convert_to_tensor(mask.reshape(tuple(v.shape)), str(v.dtype))
            state.masks[id(v)] = (v, tensor)


def _apply_masks(state):
    for v, mask in state.masks.values():
        v.assign(ops.multiply(v.value, mask))


class UpdatePruningStep(Callback):
    """The ``fit`` callback that prunes a model marked by ``prune_low_magnitude``.

    After the training steps it sees (each step on PyTorch; each compiled call of one or more
    steps on JAX), it recomputes the masks when the schedule fires for one of those steps and
    multiplies the pruned weights by their masks, so they stay zero. The step count carries over
    from one ``fit`` to the next.

    Args:
        pruning_schedule: optional; when given (with ``layers``), the callback marks the model
            itself, so ``prune_low_magnitude`` may be skipped.
        layers: optional list of layers or names to prune (with ``pruning_schedule``).
    """

    _lazy_batch_logs = True  # needs no per-batch logs: JAX may keep running several steps per call

    def __init__(self, pruning_schedule=None, layers=None):
        super().__init__()
        self.pruning_schedule = pruning_schedule
        self.layers = layers
        self._last_batch = None

    def on_train_begin(self, logs=None):
        if self.pruning_schedule is not None:
            state = getattr(self.model, "_pruning_state", None)
            if state is None or state.schedule is not self.pruning_schedule:
                prune_low_magnitude(self.model, self.pruning_schedule, self.layers)
        state = _state(self.model, "UpdatePruningStep")
        _resolve_targets(self.model, state.layer_filter)

    def on_epoch_begin(self, epoch, logs=None):
        self._last_batch = None

    def on_train_batch_begin(self, batch, logs=None):
        if self._last_batch is None:  # the epoch's first batch (not 0 when a run resumes inside the epoch)
            self._last_batch = batch - 1

    def on_train_batch_end(self, batch, logs=None):
        state = _state(self.model, "UpdatePruningStep")
        if self._last_batch is None:
            self._last_batch = batch - 1
        done = state.step + batch - self._last_batch  # steps done so far, over every fit
        self._last_batch = batch
        fired = [s for s in range(state.step, done) if state.schedule(s)[0]]
        state.step = done
        if fired:
            _update_masks(state, self.model, state.schedule(fired[-1])[1])
        _apply_masks(state)

    def on_epoch_end(self, epoch, logs=None):
        _apply_masks(_state(self.model, "UpdatePruningStep"))

    def get_state(self):
        """The step count and the current masks (``BackupAndRestore`` saves them with each backup, so a resumed
        run prunes on the same schedule with the same masks)."""
        state = getattr(self.model, "_pruning_state", None) if self.model is not None else None
        if state is None:
            return None
        variables = [v for _, weights in _resolve_targets(self.model, state.layer_filter) for v in weights]
        if not all(id(v) in state.masks for v in variables):
            return {"step": int(state.step), "masks": []}
        return {"step": int(state.step),
                "masks": [np.asarray(ops.convert_to_numpy(state.masks[id(v)][1])) for v in variables]}

    def set_state(self, saved):
        state = _state(self.model, "UpdatePruningStep")
        state.step = int(saved["step"])
        masks = list(saved.get("masks") or [])
        if not masks:
            return
        variables = [v for _, weights in _resolve_targets(self.model, state.layer_filter) for v in weights]
        if len(masks) != len(variables) or any(tuple(m.shape) != tuple(v.shape) for m, v in zip(masks, variables)):
            raise ValueError("UpdatePruningStep: the backup's pruning masks do not fit this model's prunable "
                             f"weights ({len(masks)} masks for {len(variables)} weights); was the model changed "
                             "between the runs?")
        state.masks = {id(v): (v, ops.convert_to_tensor(m, str(v.dtype))) for m, v in zip(masks, variables)}


PruningCallback = UpdatePruningStep


def strip_pruning(model):
    """Apply the masks a last time and remove the pruning marks; return the (now plain) model.

    The model keeps its sparse kernels and can be saved, exported or quantized as any model.
    """
    state = getattr(model, "_pruning_state", None)
    if state is not None:
        _apply_masks(state)
        object.__delattr__(model, "_pruning_state")
    return model


def get_sparsity(model):
    """Return ``{layer name: fraction of zeros}`` over the prunable kernels of each layer of ``model``.

    Counts the kernels of Dense, EinsumDense, Conv* and Embedding layers (biases excluded),
    whether or not the model was pruned.
    """
    out = {}
    for layer in _default_layers(model):
        weights = _prunable_weights(layer)
        if not weights:
            continue
        zeros = sum(int(np.count_nonzero(np.asarray(v.numpy()) == 0)) for v in weights)
        total = sum(int(np.prod(v.shape)) for v in weights)
        out[layer.name] = round(zeros / total, 6) if total else 0.0
    return out
