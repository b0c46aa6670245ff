"""PyTorch step functions for the training loop: eager autograd, in-place updates.

Same names as ``backend/jax/trainer.py``: ``make_train_function``,
``make_test_function``, ``make_predict_function``. Each returns a callable
``fn(placed_data, index_block)`` with ``place(data)``, ``sync()`` and
``steps_per_call``.
"""

import os
import types
import warnings

import numpy as np
import torch

from lamina import tree
from lamina.backend.common.scopes import COMPILING as _COMPILING
from lamina.backend.torch import core as _core  # DEFAULT_DEVICE read at call time (device_scope)
from lamina.backend.torch.core import convert_to_tensor


def _place(struct):
    if struct is None:
        return None
    return tree.map_structure(lambda a: None if a is None else convert_to_tensor(a), struct)


def _gather(struct, idx):
    if struct is None:
        return None
    return tree.map_structure(lambda a: None if a is None else a.index_select(0, idx) if a.ndim else a, struct)


def _batch_size(x):
    return tree.flatten(x)[0].shape[0]


class _StepFunction:
    steps_per_call = 1

    def __init__(self, model):
        self.model = model
        self._order = None  # (epoch's host index order, the same on the device)
        # Eager steps on a CPU hold the interpreter lock most of the time: a cheap iterable source is read
        # in the training thread (training/data_adapters/prefetch.py, for_steps). On a GPU the background
        # thread also overlaps the copies to the device.
        self.prefetch = "background" if _core._ON_CUDA else "auto"

    def place(self, data):
        return (_place(data.x), _place(data.y), _place(data.sample_weight))

    def sync(self):
        pass

    def _batches(self, placed, block):
        x, y, sw = placed
        for idx in block:
            idx_t = self._device_index(idx)
            yield _gather(x, idx_t), _gather(y, idx_t), _gather(sw, idx_t)

    def _device_index(self, idx):
        """``idx`` as a device tensor. A batch's indices are a slice of the epoch's order: on a GPU that
        order goes up once per epoch and each step slices it there (a host-to-device copy per step
        would make the host wait for the GPU at every step)."""
        if not _core._ON_CUDA:
            return torch.from_numpy(np.ascontiguousarray(idx))
        base = idx.base
        if (base is not None and base.ndim == 1 and idx.ndim == 1 and base.flags.c_contiguous
                and idx.strides == base.strides and base.dtype == idx.dtype):
            cached = self._order
            if cached is None or cached[0] is not base:
                cached = self._order = (base, torch.from_numpy(base).to(_core.DEFAULT_DEVICE))
            start = (idx.ctypes.data - base.ctypes.data) // base.itemsize
            return cached[1][start:start + len(idx)]
        return torch.from_numpy(np.ascontiguousarray(idx)).to(_core.DEFAULT_DEVICE)

    def place_batches(self, block):
        """Host batches ``[(x, y, sw), ...]`` from an iterable source, as device tensors
        (called on the data-prefetch thread)."""
        return [(_to_device(x), _to_device(y), _to_device(sw)) for x, y, sw in block]


class TrainFunction(_StepFunction):
    def __init__(self, model):
        super().__init__(model)
        self.variables = model.trainable_variables
        self.params = [v._storage() for v in self.variables]
        model.optimizer.build(self.variables)
        self._forward = self._forward_loss
        self._metrics = model._update_metrics
        if _wants_compile(model):
            self._forward = _Compiled(self._forward_loss, model, "the forward pass and loss of its training step",
                                      graphs=True)
            self._metrics = _Compiled(model._update_metrics, model, "the metric updates of its training step")

    def __call__(self, placed, block):
        for x, y, sw in self._batches(placed, block):
            self.step(x, y, sw)

    def _forward_loss(self, x, y, sw):
        model = self.model
        y_pred = model(x, training=True)
        loss = model.compute_loss(x, y, y_pred, sw)
        return loss, y_pred, model._pop_output_losses()

    def step(self, x, y, sw):
        """One training step on one batch of device tensors."""
        model = self.model
        if getattr(self._forward, "graphs", False):
            torch.compiler.cudagraph_mark_step_begin()  # the last step's graph outputs are no longer needed
        loss, y_pred, output_losses = self._forward(x, y, sw)
        if self.params:  # (a model with no trainable weights has nothing to differentiate: fit() warned)
            grads = torch.autograd.grad(model.optimizer.scale_loss(loss), self.params, allow_unused=True)
            grads = [torch.zeros_like(p) if g is None else g for g, p in zip(grads, self.params)]
            grads = self._reduce_gradients(grads)
        with torch.no_grad():
            if self.params:
                model.optimizer.apply(grads, self.variables)
            self._metrics(y, _detach(y_pred), sw, loss.detach(), _batch_size(x), _detach(output_losses))

    def _reduce_gradients(self, grads):
        return grads  # one process; the data parallel step all-reduces here

    def run_batches(self, placed):
        """Train on the batches of an iterable source, as placed by ``place_batches``."""
        for x, y, sw in placed:
            self.step(x, y, sw)


class TestFunction(_StepFunction):
    def __init__(self, model):
        super().__init__(model)
        self._step = self._eval_step
        if _wants_compile(model):
            self._step = _Compiled(self._eval_step, model, "its evaluation step")

    def __call__(self, placed, block):
        for x, y, sw in self._batches(placed, block):
            self.step(x, y, sw)

    def _eval_step(self, x, y, sw):
        model = self.model
        y_pred = model(x, training=False)
        loss = model.compute_loss(x, y, y_pred, sw)
        model._update_metrics(y, y_pred, sw, loss, _batch_size(x), model._pop_output_losses())

    def step(self, x, y, sw):
        """One evaluation step on one batch of device tensors."""
        with torch.no_grad():
            self._step(x, y, sw)

    def run_batches(self, placed):
        """Evaluate the batches of an iterable source, as placed by ``place_batches``."""
        for x, y, sw in placed:
            self.step(x, y, sw)


class PredictFunction(_StepFunction):
    def __init__(self, model):
        super().__init__(model)
        self._forward = self._predict
        if _wants_compile(model):
            self._forward = _Compiled(self._predict, model, "its forward pass for predict")

    def _predict(self, x):
        return self.model(x, training=False)

    def place(self, data):
        return (_place(data.x), None, None)

    def __call__(self, placed, block):
        with torch.no_grad():
            for x, _, _ in self._batches(placed, block):
                return self._forward(x)

    def predict_batch(self, placed):
        """The outputs for one batch of an iterable source, as placed by ``place_batches``."""
        with torch.no_grad():
            return self._forward(placed[0][0])

    def predict_array(self, x):
        """The outputs for one NumPy batch (``predict`` of a small array, ``predict_on_batch``)."""
        return self.predict_batch(((convert_to_tensor(x), None, None),))


def _wants_compile(model):
    """``compile(jit_compile=True)``: the step's pieces run through ``torch.compile`` (Keras's "auto" is
    eager on PyTorch, and ``run_eagerly=True`` wins, as in Keras)."""
    return getattr(model, "jit_compile", "auto") is True and not getattr(model, "run_eagerly", False)


_compiled_count = 0


_GRAPH_MODES = {"reduce-overhead": None, "max-autotune": "max-autotune-no-cudagraphs"}


def _compile_options(graphs=False):
    """``torch.compile`` keywords: ``LAMINA_TORCH_COMPILE_MODE`` picks its mode (``"reduce-overhead"``: CUDA
    graphs; ``"max-autotune"``, ...); unset, torch's default. CUDA graphs (``graphs``) only for the training
    step's forward pass: its outputs are used up within the step. The metric updates and the evaluation step
    assign variables (which CUDA graphs skip), and predict's outputs outlive the call, so those compile
    without graphs."""
    mode = os.environ.get("LAMINA_TORCH_COMPILE_MODE") or None
    if mode in _GRAPH_MODES and not graphs:
        mode = _GRAPH_MODES[mode]
    return {"mode": mode} if mode else {}


def _isolation():
    """``isolate_recompiles=True`` where torch has it (2.13+): after a graph break torch resumes in the layers'
    own frames (``Dense.call``, a regularizer, ...), whose code every model shares; isolated, each model's
    compiled entries count against its own recompile limit, so the 9th model of another shape still compiles
    instead of silently running those frames eagerly."""
    global _ISOLATION
    if _ISOLATION is None:
        import inspect

        _ISOLATION = ({"isolate_recompiles": True}
                      if "isolate_recompiles" in inspect.signature(torch.compile).parameters else {})
    return _ISOLATION


_ISOLATION = None


def _compile_errors():
    exc = torch._dynamo.exc
    return (exc.BackendCompilerFailed, exc.InternalTorchDynamoError, exc.Unsupported)


class _Compiled:
    """``fn`` through ``torch.compile``, for one model's step functions.

    Each model gets its own copy of ``fn``'s code, so torch's per-code limit on recompilations (8) counts
    this model's input shapes only, not every model a process builds. Where torch cannot compile (no C++
    compiler for the CPU backend, an operation it does not support), a warning says why and ``fn`` runs
    eagerly: the numbers are the same, only the speed differs.
    """

    def __init__(self, fn, model, what, graphs=False):
        global _compiled_count
        _compiled_count += 1
        func = fn.__func__ if isinstance(fn, types.MethodType) else fn
        code = func.__code__.replace(co_name=f"{func.__name__}_lamina_{_compiled_count}")
        fresh = types.FunctionType(code, func.__globals__, code.co_name, func.__defaults__, func.__closure__)
        if isinstance(fn, types.MethodType):
            fresh = types.MethodType(fresh, fn.__self__)
        self.fn = fn
        options = _compile_options(graphs)
        self.graphs = options.get("mode") in _GRAPH_MODES
        self.compiled = torch.compile(fresh, **options, **_isolation())
        self.model_name = getattr(model, "name", type(model).__name__)
        self.what = what

    def __call__(self, *args):
        if self.compiled is not None:
            _COMPILING[0] += 1  # lamina's per-call caches stay off in what torch.compile traces
            try:
                return self.compiled(*args)
            except _compile_errors() as e:
                first = str(e).strip().splitlines()[0] if str(e).strip() else ""
                warnings.warn(
                    f"Model '{self.model_name}' (jit_compile=True): torch.compile could not compile {self.what} "
                    f"({type(e).__name__}: {first[:300]}); it runs eagerly instead, with the same results.",
                    RuntimeWarning, stacklevel=2)
                self.compiled = None
            finally:
                _COMPILING[0] -= 1
        return self.fn(*args)


def _to_device(struct):
    if struct is None:
        return None
    return tree.map_structure(
        lambda a: None if a is None else a.to(_core.DEFAULT_DEVICE) if isinstance(a, torch.Tensor)
        else convert_to_tensor(a), struct)


def _detach(struct):
    return tree.map_structure(lambda t: t.detach() if isinstance(t, torch.Tensor) else t, struct)


def _data_parallel():
    from lamina.backend.torch import distribution

    world = distribution._data_parallel_world()
    return (distribution, world) if world else (None, None)


def make_train_function(model):
    """Return the training step runner for ``model`` (data parallel, or sharded under ModelParallel, when
    several processes run)."""
    dist, world = _data_parallel()
    return dist._make_train_function(model, *world) if dist else TrainFunction(model)


def make_test_function(model):
    """Return the evaluation step runner for ``model`` (each process evaluating its share)."""
    dist, world = _data_parallel()
    return dist._make_test_function(model, *world) if dist else TestFunction(model)


def make_predict_function(model):
    """Return the prediction step runner for ``model``."""
    dist, world = _data_parallel()
    return dist._make_predict_function(model, *world) if dist else PredictFunction(model)


def jit_stateless_step(method):
    """A step in Keras's stateless form (``step(state, data) -> (logs, state)``): run as it is (eager)."""
    return method


def module_parameters(weights):
    """``model.parameters()`` as torch.nn.Module's: the ``torch.nn.Parameter`` behind each weight."""
    return [v.value for v in weights]


def module_zero_grad(weights, set_to_none=True):
    """``model.zero_grad()`` as torch.nn.Module's: drop (or zero in place) each weight's ``.grad``."""
    for v in weights:
        param = v.value
        if param.grad is not None:
            if set_to_none:
                param.grad = None
            else:
                param.grad.detach_()
                param.grad.zero_()


def custom_step_runner(model, method, collect_state):
    """``method`` (a model's own train/test step), run eagerly (see custom_step.py)."""
    from lamina.backend.torch.custom_step import CustomStepRunner

    return CustomStepRunner(model, method, collect_state)
