"""Rematerialization (gradient checkpointing): ``lamina.RematScope`` and ``lamina.remat``.

A rematerialized layer keeps none of its intermediate values for the backward pass; they are recomputed from its
inputs when the gradients are taken, trading compute for memory (``torch.utils.checkpoint`` on PyTorch,
``jax.checkpoint`` on JAX). A layer's call is made pure for this: its weights and non-trainable state
(BatchNormalization statistics, dropout seeds) go in as arguments and the new state comes out, so the recomputation
draws the same dropout masks and never updates moving statistics twice.
"""

import math
import threading

from lamina import backend, tree
from lamina.backend.common.keras_tensor import KerasTensor
from lamina.backend.common.scopes import current_scope, raw_value

_STATE = threading.local()
ACTIVE = [0]  # scopes open in any thread: Layer.__call__ looks further only when non-zero
_COUNT_LOCK = threading.Lock()
_MODES = ("full", "activations", "larger_than", "list_of_layers", None)


def _stack():
    s = getattr(_STATE, "stack", None)
    if s is None:
        s = _STATE.stack = []
    return s


def current_remat_scope():
    """The innermost active ``RematScope``, or None."""
    s = _stack()
    return s[-1] if s else None


class RematScope:
    """Rematerialize (recompute in the backward pass) the layers created or called inside this scope.

    Keras 3's ``keras.RematScope``. The mode is recorded on a layer when it is created or called in the scope and
    applies whenever it later runs with gradients (``fit``, ``GradientTape``-style custom steps).

    Args:
        mode: ``"full"`` (every layer), ``"activations"`` (only the activation functions of layers that have one,
            e.g. ``Dense(..., activation="relu")``), ``"larger_than"`` (layers whose output has more than
            ``output_size_threshold`` elements per sample), ``"list_of_layers"`` (the layers named in
            ``layer_names``), or None (no rematerialization, e.g. to switch it off inside an outer scope).
        output_size_threshold: the size for ``"larger_than"`` (default 1024).
        layer_names: the names for ``"list_of_layers"``.

    Example:
    >>> import lamina, numpy as np
    >>> with lamina.RematScope(mode="full"):
    ...     inputs = lamina.Input((4,))
    ...     hidden = lamina.layers.Dense(8, activation="relu")(inputs)
    >>> model = lamina.Model(inputs, lamina.layers.Dense(1)(hidden))
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = model.fit(np.ones((8, 4)), np.ones((8, 1)), epochs=1, verbose=0)
    >>> model.layers[1]._remat_mode
    'full'
    """

    def __init__(self, mode="full", output_size_threshold=1024, layer_names=None):
        if mode not in _MODES:
            raise ValueError(f"RematScope: mode must be one of {list(_MODES)}, but received mode={mode!r}.")
        if isinstance(output_size_threshold, bool) or not isinstance(output_size_threshold, int) or \
                output_size_threshold < 0:
            raise ValueError("RematScope: output_size_threshold must be a non-negative int, but received "
                             f"{output_size_threshold!r}.")
        if isinstance(layer_names, str):
            layer_names = [layer_names]
        layer_names = list(layer_names or [])
        if mode == "list_of_layers" and not layer_names:
            raise ValueError("RematScope(mode='list_of_layers') needs layer_names, the names of the layers to "
                             "rematerialize; received none.")
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = layer_names

    def __enter__(self):
        _stack().append(self)
        with _COUNT_LOCK:
            ACTIVE[0] += 1
        return self

    def __exit__(self, *exc):
        _stack().pop()
        with _COUNT_LOCK:
            ACTIVE[0] -= 1
        return False


def remat(f):
    """``f`` with gradient checkpointing: called with gradients, its intermediate values are recomputed in the
    backward pass instead of being kept (Keras 3's ``keras.remat``).

    ``f`` is a layer or a function of tensors. A function should be pure (no weights assigned inside); a layer is
    made pure as the class docstring of this module says, so BatchNormalization and Dropout layers are safe.

    Example:
    >>> import lamina
    >>> square_sum = lamina.remat(lambda x: lamina.ops.sum(x * x))
    >>> float(square_sum(lamina.ops.ones((3,))))
    3.0
    """
    from lamina.layers.layer import Layer

    if isinstance(f, Layer):
        def call_layer(*args, **kwargs):
            saved = f._remat_mode
            f._remat_mode = "full"
            try:
                return f(*args, **kwargs)
            finally:
                f._remat_mode = saved
        return call_layer
    if not callable(f):
        raise TypeError(f"remat: expected a layer or a function, but received {type(f).__name__}.")
    return backend.core.remat(f)


# ---- applied by Layer.__call__ ----------------------------------------------------------------------------------

def capture(layer):
    """Record the active scope's mode on ``layer`` (called when the layer is created or called in a scope)."""
    scope = current_remat_scope()
    if scope is None:
        return
    from lamina.models.model import Model

    if isinstance(layer, Model):  # containers: their layers are rematerialized, not the whole graph twice
        return
    mode = scope.mode
    if mode == "list_of_layers" and layer.name not in scope.layer_names:
        mode = None
    if mode == "activations" and not _has_activation(layer):
        mode = None
    layer._remat_mode = mode
    layer._remat_threshold = scope.output_size_threshold
    layer._remat_size = None


def _has_activation(layer):
    activation = getattr(layer, "activation", None)
    return callable(activation) and getattr(activation, "__name__", "") != "linear"


def output_size(outputs):
    """Elements per sample of the largest output (batch dimension excluded)."""
    sizes = [math.prod(d for d in tuple(t.shape)[1:] if d is not None) for t in tree.flatten(outputs)
             if hasattr(t, "shape")]
    return max(sizes, default=0)


def applies(layer):
    """Whether ``layer`` runs rematerialized now (its mode says so and its size is known to pass)."""
    if layer._remat_mode != "larger_than":
        return layer._remat_mode is not None
    return layer._remat_size is not None and layer._remat_size > layer._remat_threshold


def call(layer, args, kwargs):
    """``layer.call(*args, **kwargs)`` rematerialized, as a pure function of the layer's weights and state."""
    if layer._remat_mode == "activations":
        activation = layer.activation
        object.__setattr__(layer, "activation", backend.core.remat(activation))
        try:
            return layer.call(*args, **kwargs)
        finally:
            object.__setattr__(layer, "activation", activation)
    tv, ntv = layer.trainable_variables, layer.non_trainable_variables
    outer = current_scope()
    tv_vals = [raw_value(v, outer) for v in tv]
    # copies: PyTorch updates a variable's storage in place, and the recomputation must see the values from before
    ntv_vals = [backend.numpy.copy(raw_value(v, outer)) for v in ntv]
    sublayers = layer._flatten_layers()
    tensors, rebuild = _split(args, kwargs)

    def pure(tv_in, ntv_in, tensors_in):
        call_args, call_kwargs = rebuild(tensors_in)
        mapping = list(zip(tv, tv_in)) + list(zip(ntv, ntv_in))
        fallback = outer.get if outer is not None else None
        with backend.StatelessScope(mapping, fallback=fallback) as scope:
            outputs = layer.call(*call_args, **call_kwargs)
        side = ([list(sub._losses) for sub in sublayers],
                [[value for _, value, _ in sub._added_metrics] for sub in sublayers])
        return outputs, [scope.get_current_value(v) for v in ntv], side

    outputs, new_ntv, (losses, metric_values) = backend.core.remat(pure)(tv_vals, ntv_vals, tensors)
    for v, value in zip(ntv, new_ntv):
        v.assign(value)
    for sub, sub_losses, values in zip(sublayers, losses, metric_values):
        sub._losses = list(sub_losses)
        sub._added_metrics = [(name, value, agg) for (name, _, agg), value in zip(sub._added_metrics, values)]
    return outputs


def _split(args, kwargs):
    """The tensors in ``(args, kwargs)`` (passed through the checkpoint) and a function putting them back."""
    flat = tree.flatten((list(args), kwargs))
    slots = [i for i, t in enumerate(flat) if backend.is_tensor(t) and not isinstance(t, KerasTensor)]

    def rebuild(tensors):
        items = list(flat)
        for i, t in zip(slots, tensors):
            items[i] = t
        call_args, call_kwargs = tree.pack_sequence_as((list(args), kwargs), items)
        return tuple(call_args), call_kwargs

    return [flat[i] for i in slots], rebuild
