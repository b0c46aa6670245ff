"""PyTorch core: Variable, tensor conversion, shape tracing."""

import contextlib

import numpy as np
import torch

from lamina.backend.common import scopes, tracing
from lamina.backend.common.dtypes import infer_dtype, standardize_dtype
from lamina.backend.common.keras_tensor import KerasTensor
from lamina.backend.common.variables import VariableBase

NAME = "torch"

DEFAULT_DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
_ON_CUDA = DEFAULT_DEVICE.startswith("cuda")  # kept with DEFAULT_DEVICE (device_scope)

_TORCH_DTYPES = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
    "float64": torch.float64, "int8": torch.int8, "int16": torch.int16, "int32": torch.int32,
    "int64": torch.int64, "uint8": torch.uint8, "uint16": torch.uint16, "uint32": torch.uint32,
    "uint64": torch.uint64, "bool": torch.bool, "complex64": torch.complex64,
    "complex128": torch.complex128,
}


def to_engine_dtype(dtype):
    """Return the torch dtype for a lamina dtype name (None: floatx)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    found = _TORCH_DTYPES.get(dtype) if isinstance(dtype, str) else None
    return found if found is not None else _TORCH_DTYPES[standardize_dtype(dtype)]


_TORCH_NAMES = {v: k for k, v in _TORCH_DTYPES.items()}


def dtype_name(x):
    """Return the lamina dtype name of a tensor-like."""
    if isinstance(x, torch.Tensor):
        return _TORCH_NAMES[x.dtype]
    return infer_dtype(x)


class Variable(VariableBase):

    def _initialize(self, value):
        # A copy: the initial value may share memory with the caller's array, which in-place
        # updates must never touch. Made outside inference mode: a model first built under
        # ``torch.inference_mode()`` must still train (and track versions) afterwards.
        with torch.inference_mode(False):
            value = value.detach().clone()
            self._param = torch.nn.Parameter(value, requires_grad=self._trainable and value.is_floating_point())

    def _run_initializer(self, initializer, shape, dtype):
        with torch.inference_mode(False), torch.no_grad():
            return initializer(shape, dtype)

    def _storage(self):
        return self._param

    def _to_engine(self, value, dtype):
        return convert_to_tensor(value, dtype)

    def _direct_assign(self, value):
        if self._param.requires_grad:
            with torch.no_grad():
                self._param.copy_(value)
        else:
            # A value carrying a gradient graph (a loss given to a metric tracker in compute_loss) must not
            # join this state to the graph: the copy would keep every step's graph alive.
            self._param.copy_(value.detach() if value.requires_grad else value)

    def assign_add(self, value):
        # In place, without a temporary, when no stateless scope collects the new values
        # (a metric accumulator, every step).
        if scopes.current_scope() is not None or self._param.requires_grad:
            return super().assign_add(value)
        if not isinstance(value, bool) and (isinstance(value, int) or (
                isinstance(value, float) and self._param.is_floating_point())):
            p = self._param
            seen = getattr(p, "_lamina_host", None)  # the host copy optimizers._host_value keeps
            before = p._version
            p.add_(value)
            if seen is not None and seen[0] == before:
                p._lamina_host = (p._version, seen[1] + value)
            return p
        value = self._convert_assigned(value)
        return self._param.add_(value.detach() if value.requires_grad else value)  # (see _direct_assign)

    def _on_trainable_change(self):
        self._param.requires_grad_(self._trainable and self._param.is_floating_point())

    @property
    def shape(self):
        return tuple(self._param.shape)

    def numpy(self):
        return convert_to_numpy(self.value)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        # Lets torch functions accept a Variable directly (torch.add(v, 1)).
        args = [a.value if isinstance(a, Variable) else a for a in args]
        kwargs = {k: (v.value if isinstance(v, Variable) else v) for k, v in (kwargs or {}).items()}
        return func(*args, **kwargs)


def is_tensor(x):
    """Return True for a torch tensor."""
    return isinstance(x, torch.Tensor)


def convert_to_tensor(x, dtype=None, sparse=None):
    """Return ``x`` as a torch tensor (on lamina's device), cast to ``dtype`` if given."""
    if isinstance(x, torch.Tensor):
        if x.is_cuda is not _ON_CUDA and not x.is_meta:
            x = x.to(DEFAULT_DEVICE)  # a CPU tensor (a DataLoader's, say) joins the GPU weights, as in Keras
        if dtype is not None:
            td = to_engine_dtype(dtype)
            if x.dtype != td:
                x = x.to(td)
        return x
    if isinstance(x, VariableBase):
        return convert_to_tensor(x.value, dtype)
    if isinstance(x, KerasTensor):
        raise TypeError(
            "A symbolic KerasTensor (from lamina.Input) was passed where a real tensor is needed. "
            "Symbolic tensors can only be passed to layers and lamina.ops inside a Functional model; "
            f"received {x}."
        )
    if isinstance(x, (list, tuple)) and any(isinstance(e, (torch.Tensor, VariableBase)) for e in x):
        return torch.stack([convert_to_tensor(e, dtype) for e in x])
    if dtype is None:
        dtype = infer_dtype(x)
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            infer_dtype(x)  # raises a clear error
        if any(st < 0 for st in x.strides) or not x.flags.writeable:
            # torch cannot view negative strides (x[::-1]) nor safely share read-only memory
            x = np.array(x, copy=True, order="C")
    return torch.as_tensor(x if isinstance(x, (np.ndarray, int, float, bool)) else np.asarray(x),
                           dtype=to_engine_dtype(dtype), device=DEFAULT_DEVICE)


def convert_to_numpy(x):
    """Return ``x`` as a NumPy array (copies from the device when needed)."""
    if isinstance(x, VariableBase):
        return x.numpy()
    if isinstance(x, torch.Tensor):
        if type(x) is not torch.Tensor and type(x) is not torch.nn.Parameter:
            from lamina.backend.torch import _sharding  # a sharded variable's DTensor: its whole value

            x = _sharding.full_value(x) if _sharding.is_sharded(x) else x
        x = x.detach()
        if x.dtype == torch.bfloat16:
            x = x.float()
        # A copy: on CPU .numpy() shares memory, and weights are updated in place.
        return x.cpu().numpy().copy()
    if isinstance(x, (list, tuple)) and any(isinstance(t, (torch.Tensor, VariableBase)) for t in x):
        return np.asarray([convert_to_numpy(t) for t in x])  # e.g. an RNN's list of states, stacked as Keras
    return np.asarray(x)


def shape(x):
    """Return the shape of ``x`` as a tuple of ints."""
    return tuple(x.shape)


def cast(x, dtype):
    """Return ``x`` converted to ``dtype``."""
    return convert_to_tensor(x, dtype)


def stop_gradient(x):
    """Return ``x`` with gradients blocked."""
    return convert_to_tensor(x).detach()


def cond(pred, true_fn, false_fn):
    """Call ``true_fn()`` if ``pred`` else ``false_fn()``."""
    return true_fn() if bool(pred) else false_fn()


def device_name():
    """Return the name of the device tensors are placed on."""
    return DEFAULT_DEVICE


# ---- symbolic tracing -------------------------------------------------------

def _meta_value(var):
    return torch.empty(var.shape, dtype=to_engine_dtype(var.dtype), device="meta")


def _run_trial(fn, args, kwargs, trial, device):
    def concrete(kt):
        return torch.zeros(tracing.trial_shape(kt, trial), dtype=to_engine_dtype(kt.dtype), device=device)

    fallback = _meta_value if device == "meta" else None
    with scopes.SymbolicScope(fallback=fallback), torch.no_grad():
        return fn(*tracing.replace_keras_tensors(args, concrete), **tracing.replace_keras_tensors(kwargs, concrete))


def compute_output_spec(fn, *args, **kwargs):
    """Trace ``fn`` on symbolic inputs; return its outputs as KerasTensors.

    Runs ``fn`` twice (see ``backend/common/tracing.py``) on torch's "meta" device
    (no data, no compute) when every op supports it, else on small real tensors.
    """
    def trial_run(trial):
        try:
            return _run_trial(fn, args, kwargs, trial, "meta")
        except (RuntimeError, NotImplementedError, TypeError):
            # Small real tensors, on the device the weights live on (a GPU's, when there is one).
            return _run_trial(fn, args, kwargs, trial, DEFAULT_DEVICE)

    return tracing.run_trials(trial_run)


@contextlib.contextmanager
def device_scope(device_name_):
    """Place new tensors on ``device_name_`` ("cpu", "gpu:0", "cuda:1", ...)."""
    global DEFAULT_DEVICE, _ON_CUDA
    old = DEFAULT_DEVICE
    name = str(device_name_).lower().replace("gpu", "cuda")
    try:
        parsed = torch.device(name)
    except (RuntimeError, ValueError):
        parsed = None
    known = parsed is not None and (parsed.type in ("cpu", "meta") or (
        parsed.type == "cuda" and torch.cuda.is_available() and (parsed.index or 0) < torch.cuda.device_count()))
    if not known:
        have = ["cpu"] + [f"gpu:{i}" for i in range(torch.cuda.device_count() if torch.cuda.is_available() else 0)]
        raise ValueError(f"lamina.device: expected a device of this machine ({have}; 'cuda:N' is the same as "
                         f"'gpu:N'), but received {device_name_!r}.")
    DEFAULT_DEVICE, _ON_CUDA = name, name.startswith("cuda")
    try:
        yield
    finally:
        DEFAULT_DEVICE, _ON_CUDA = old, old.startswith("cuda")


def remat(fn):
    """``fn`` with gradient checkpointing: its intermediate values are recomputed in the backward pass instead
    of being kept (``torch.utils.checkpoint``, non-reentrant). Without gradients it is a plain call."""
    from torch.utils import checkpoint as _checkpoint

    def wrapped(*args, **kwargs):
        if not torch.is_grad_enabled():
            return fn(*args, **kwargs)
        return _checkpoint.checkpoint(fn, *args, use_reentrant=False, **kwargs)

    return wrapped


def value_and_grad(fn, variables, has_aux=False):
    """``fn``'s value and its gradients with respect to the lamina Variables ``variables`` (see
    ``lamina.ops.value_and_grad``), by ``torch.autograd.grad``; a variable the value does not depend on gets a
    zero gradient."""
    variables = list(variables)

    def wrapped(*args, **kwargs):
        params = [v._storage() for v in variables]
        with torch.enable_grad():
            out = fn(*args, **kwargs)
            value = out[0] if has_aux else out
            if not isinstance(value, torch.Tensor) or not value.requires_grad:
                raise ValueError(
                    "value_and_grad: the function's value does not depend on any variable being differentiated "
                    f"(received {type(value).__name__}{'' if not isinstance(value, torch.Tensor) else ' without a gradient'}).")
            targets = [p for p in params if p.requires_grad]
            grads = iter(torch.autograd.grad(value, targets, allow_unused=True))
        out_grads = []
        for p in params:
            g = next(grads) if p.requires_grad else None
            out_grads.append(torch.zeros_like(p) if g is None else g)
        from lamina import tree

        out = tree.map_structure(lambda t: t.detach() if isinstance(t, torch.Tensor) else t, out)
        return out, out_grads

    return wrapped


def abstract_call(fn):
    """Run ``fn()`` for its side effects on Python objects (see the JAX backend); eager PyTorch compiles nothing,
    so it simply runs."""
    fn()


def set_float32_matmul_precision(value):
    """``lamina.config.set_float32_matmul_precision``'s engine half: TensorFloat-32 on or off in cuBLAS
    matrix products and cuDNN convolutions/RNNs ("default": torch's own defaults, off and on)."""
    torch.backends.cuda.matmul.allow_tf32 = value == "high"
    torch.backends.cudnn.allow_tf32 = value != "highest"
