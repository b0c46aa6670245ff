"""Direct calls: a model runs its layers' ``call`` without repeating checks that already passed.

``layer(x)`` converts ``x`` to the layer's dtype, builds the layer, checks ``x`` against its ``input_spec``,
resets the losses of the previous call and enters the ``training`` context - about 8 us of Python per layer
on a CPU, several times the cost of a small layer's arithmetic (a one-sample ``predict`` of the tutorial MLP spent
more time there than in PyTorch). The outcome of those steps depends only on the input's shape and dtype, the
``training`` flag and the layer's own settings. So a ``Sequential`` or functional model, the first time it runs
with an input signature, calls each layer the full way and records which layers could have been called directly;
later calls with the same signature call those layers' ``call`` straight away (the model's own ``__call__``
still enters the ``training`` context that nested layers read).

A layer is called directly only when calling it is exactly ``call``: it does not override how it is called
(``__call__``, input conversion, building, input checks), it has no rematerialization mode, activity regularizer
or mixed-precision policy, it is built, and its input needed no dtype conversion. No scope that changes how
variables are read (a stateless JAX step, autocasting) or rematerialization may be open, nor torch.compile be
tracing (it would guard on the plans and compile again once they are recorded). Masks take the full path.
Setting any attribute that decides how a layer is called (see ``CALL_PLAN_GENERATION`` in
``lamina/layers/layer.py``) drops every plan.
"""

from lamina.backend.common.scopes import ACTIVE as _SCOPES_OPEN
from lamina.backend.common.scopes import COMPILING as _COMPILING
from lamina.layers import remat
from lamina.layers.call_context import current_training
from lamina.layers.layer import CALL_PLAN_GENERATION, Layer

_MAX_PLANS = 16  # input signatures remembered per model (batch sizes of training, evaluation, predict ...)


def direct_call(layer):
    """Whether calling ``layer.call`` is the same as ``layer(x)`` for an input ``layer(x)`` accepted."""
    cls = type(layer)
    return not (cls.__call__ is not Layer.__call__ or cls._convert_input is not Layer._convert_input
                or cls._maybe_build is not Layer._maybe_build or cls._check_inputs is not Layer._check_inputs
                or not layer.built or layer._remat_mode is not None or layer._activity_regularizer is not None
                or layer._dtype_policy.is_mixed)


def available(training):
    """Whether direct calls may run now: ``training`` is None or a bool and is the value of the call context
    (a model's ``call`` run directly, not through ``model(...)``, inside another context takes the full path),
    no variable scope (stateless, autocast) nor rematerialization is open, and no engine compiler traces."""
    return (not _SCOPES_OPEN[0] and not remat.ACTIVE[0] and not _COMPILING[0]
            and (training is None or training is True or training is False) and current_training() is training)


def prepare(layer, x, training):
    """The entry of a recorded plan for calling ``layer`` on ``x`` (just called the full way), or None when it
    must keep the full path: ``(layer, pass training, x's shape, x's dtype)``."""
    if not direct_call(layer) or layer._convert_input(x) is not x:
        return None
    return layer, bool(layer._has_training_arg and training is not None), x.shape, x.dtype


def run(entry, x, training):
    """Call one recorded layer on ``x``, as ``Layer.__call__`` would once its checks have passed. An input
    whose shape or dtype is not the recorded one (a layer before it changed, e.g. an attribute that sets its
    output size, or ``floatx``) is given to the layer the full way, with its checks and messages."""
    layer, pass_training, shape, dtype = entry
    if x.shape != shape or x.dtype != dtype:
        return layer(x, training=training) if pass_training else layer(x)
    if layer._losses:
        layer._losses = []  # the losses of the previous call
    if layer._added_metrics:
        layer._added_metrics = []
    # ``call`` looked up now: a patched (or restored) method, on the layer or its class, is the one called.
    return layer.call(x, training=training) if pass_training else layer.call(x)


class Plans:
    """A model's recorded plans, by input signature; all dropped when ``CALL_PLAN_GENERATION`` moves."""

    __slots__ = ("generation", "plans")

    def __init__(self):
        self.generation = CALL_PLAN_GENERATION[0]
        self.plans = {}

    def get(self, key):
        """The plan for ``key``: a tuple, False (this signature keeps the full path) or None (not recorded)."""
        if self.generation != CALL_PLAN_GENERATION[0]:
            self.plans = {}
            self.generation = CALL_PLAN_GENERATION[0]
            return None
        return self.plans.get(key)

    def put(self, key, plan, generation):
        """Remember ``plan``, unless a layer's settings changed while it was recorded (a first call builds)."""
        if generation != CALL_PLAN_GENERATION[0] or self.generation != generation:
            return
        if len(self.plans) >= _MAX_PLANS:
            self.plans = {}
        self.plans[key] = plan
