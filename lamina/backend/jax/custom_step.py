"""A model's own ``train_step``/``test_step`` compiled with ``jax.jit`` (see lamina/training/custom_steps.py).

A first trace, for shapes only, lets the step create what it makes lazily (optimizer slots, metric accumulators);
then the step is traced once as a pure function of every Variable the model can reach and compiled. A step that
cannot be traced (it converts a tensor to a Python value, say) falls back to running eagerly, with a warning.
"""

import warnings

import jax

from lamina.backend.common.scopes import StatelessScope
from lamina.backend.jax.core import UNTRACEABLE

_UNTRACEABLE = UNTRACEABLE + (jax.errors.UnexpectedTracerError,)


class CustomStepRunner:
    def __init__(self, model, method, collect_state):
        self.model = model
        self.method = method
        self.collect_state = collect_state
        self.eager = False
        self.calls = 0
        self.state = None
        self.compiled = None
        self.key_order = None
        self.logs_keys = []

    def __call__(self, data):
        self.calls += 1
        if self.eager:
            return self.method(data)
        try:
            if self.compiled is None:
                # A first trace, for shapes only, lets the step create what it makes lazily (optimizer slots,
                # metric accumulators: their initial values are computed outside the trace); then every
                # Variable it can reach is known, and the step compiles as a pure function of them.
                before = self.collect_state(self.model)
                jax.eval_shape(lambda values, batch: self._discover(values, batch, before),
                               [v._storage() for v in before], data)
                self.state = self.collect_state(self.model)
                self.compiled = jax.jit(self._pure, donate_argnums=(0,))
            values = [v._storage() for v in self.state]
            logs, new_values = self.compiled(values, data)
        except _UNTRACEABLE as err:
            self.eager = True
            warnings.warn(
                f"{type(self.model).__name__}.{self.method.__name__} could not be compiled with jax.jit "
                f"({type(err).__name__}: {str(err).splitlines()[0]}), so it runs eagerly (slower). Keep the step "
                "in lamina.ops, without converting tensors to Python values, to have it compiled.", stacklevel=4)
            return self.method(data)
        for var, value in zip(self.state, new_values):
            var._direct_assign(value)
        if self.key_order is None:
            self.key_order = list(self.logs_keys)
        return {k: logs[k] for k in self.key_order if k in logs} if isinstance(logs, dict) else logs

    def _pure(self, values, data):
        with StatelessScope(list(zip(self.state, values))) as scope:
            logs = self.method(data)
        self.logs_keys = list(logs) if isinstance(logs, dict) else []
        return logs, [scope.get_current_value(v) for v in self.state]

    def _discover(self, values, data, variables):
        with StatelessScope(list(zip(variables, values))):
            logs = self.method(data)
        return logs
