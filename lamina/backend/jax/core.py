"""JAX core: Variable, tensor conversion, shape tracing."""

import contextlib

import threading

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np

from lamina import tree
from lamina.backend.common import scopes, tracing
from lamina.backend.common.dtypes import infer_dtype, standardize_dtype
from lamina.backend.common.keras_tensor import KerasTensor
from lamina.backend.common.variables import VariableBase

NAME = "jax"

jax.config.update("jax_enable_x64", True)  # so int64/float64 mean what they say, as in NumPy

_JAX_DTYPES = {
    "float16": jnp.float16, "bfloat16": jnp.bfloat16, "float32": jnp.float32,
    "float64": jnp.float64, "int8": jnp.int8, "int16": jnp.int16, "int32": jnp.int32,
    "int64": jnp.int64, "uint8": jnp.uint8, "uint16": jnp.uint16, "uint32": jnp.uint32,
    "uint64": jnp.uint64, "bool": jnp.bool_, "complex64": jnp.complex64,
    "complex128": jnp.complex128,
}


def to_engine_dtype(dtype):
    """Return the jnp dtype for a lamina dtype name (None: floatx)."""
    found = _JAX_DTYPES.get(dtype) if isinstance(dtype, str) else None
    return found if found is not None else _JAX_DTYPES[standardize_dtype(dtype)]


def dtype_name(x):
    """Return the lamina dtype name of a tensor-like."""
    return infer_dtype(x)


INITIALIZING = threading.local()  # set while a Variable's initializer runs


class Variable(VariableBase):

    def __init__(self, *args, **kwargs):
        # A Variable holds a concrete array even when it is created while a function is being traced: a layer
        # built lazily inside a traced call (a sublayer made in ``build`` during symbolic shape inference, or
        # in the first step of a compiled function) would otherwise keep a tracer as its storage.
        with jax.ensure_compile_time_eval():
            super().__init__(*args, **kwargs)

    def _initialize(self, value):
        self._array = value

    def _run_initializer(self, initializer, shape, dtype):
        # Evaluate now even when created while a function is being traced; filled tensors are made on the
        # host (numpy_create.py), so building a model compiles no program per weight shape.
        with jax.ensure_compile_time_eval():
            INITIALIZING.active = getattr(INITIALIZING, "active", 0) + 1
            try:
                return initializer(shape, dtype)
            finally:
                INITIALIZING.active -= 1

    def _storage(self):
        return self._array

    def _to_engine(self, value, dtype):
        return convert_to_tensor(value, dtype)

    def _direct_assign(self, value):
        self._array = value

    @property
    def shape(self):
        return tuple(self._array.shape)

    def numpy(self):
        return np.asarray(self.value)

    def __jax_array__(self):
        return self.value


def is_tensor(x):
    """Return True for a JAX array (concrete or traced)."""
    return isinstance(x, jax.Array)


def convert_to_tensor(x, dtype=None, sparse=None):
    """Return ``x`` as a JAX array, cast to ``dtype`` if given."""
    if isinstance(x, VariableBase):
        x = x.value
    if isinstance(x, jax.Array):
        if dtype is not None:
            jd = to_engine_dtype(dtype)
            if x.dtype != jd:
                x = x.astype(jd)
        return x
    if isinstance(x, KerasTensor):
        raise TypeError(
            "A symbolic KerasTensor (from lamina.Input) was passed where a real tensor is needed. "
            "Symbolic tensors can only be passed to layers and lamina.ops inside a Functional model; "
            f"received {x}."
        )
    if type(x).__module__.startswith("torch"):
        x = x.detach().cpu().numpy()
    if isinstance(x, (list, tuple)) and any(isinstance(e, jax.Array) for e in x):
        return jnp.stack([convert_to_tensor(e, dtype) for e in x])
    if dtype is None:
        dtype = infer_dtype(x)
    if isinstance(x, np.ndarray) and x.dtype == object:
        infer_dtype(x)  # raises a clear error
    return jnp.asarray(x, dtype=to_engine_dtype(dtype))


def convert_to_numpy(x):
    """Return ``x`` as a NumPy array."""
    if isinstance(x, VariableBase):
        x = x.value
    if isinstance(x, jax.Array) and jax.process_count() > 1 and not x.is_fully_addressable:
        # spans the devices of several processes (one process: never; the property costs ~2 us)
        if x.is_fully_replicated:
            x = x.addressable_data(0)
        else:
            from jax.experimental import multihost_utils

            x = multihost_utils.process_allgather(x, tiled=True)
    if isinstance(x, jax.Array) and x.dtype == jnp.bfloat16:
        return np.asarray(x).astype(ml_dtypes.bfloat16)
    return np.asarray(x)


def shape(x):
    """Return the shape of ``x`` as a tuple of ints."""
    return tuple(x.shape)


def cast(x, dtype):
    """Return ``x`` converted to ``dtype``."""
    return convert_to_tensor(x, dtype)


def stop_gradient(x):
    """Return ``x`` with gradients blocked."""
    return jax.lax.stop_gradient(convert_to_tensor(x))


def cond(pred, true_fn, false_fn):
    """Call ``true_fn()`` if ``pred`` else ``false_fn()`` (traceable)."""
    if isinstance(pred, (bool, np.bool_)):
        return true_fn() if pred else false_fn()
    return jax.lax.cond(pred, true_fn, false_fn)


def device_name():
    """Return the name of the default device."""
    return str(jax.devices()[0])


# ---- symbolic tracing -------------------------------------------------------

class _Slot:
    """Marks where the i-th symbolic input goes in the traced call's arguments."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def compute_output_spec(fn, *args, **kwargs):
    """Trace ``fn`` abstractly (``jax.eval_shape``, nothing is computed); return its
    outputs as KerasTensors. Runs two traces (see ``backend/common/tracing.py``)."""
    leaves = []

    def collect(t):
        leaves.append(t)
        return _Slot(len(leaves) - 1)

    skeleton = tracing.replace_keras_tensors((args, kwargs), collect)

    def traced(*arrays):
        a, k = tree.map_structure(lambda t: arrays[t.index] if isinstance(t, _Slot) else t, skeleton)
        with scopes.SymbolicScope():
            return fn(*a, **k)

    def trial_run(trial):
        return jax.eval_shape(traced, *[jax.ShapeDtypeStruct(tracing.trial_shape(t, trial), to_engine_dtype(t.dtype))
                                        for t in leaves])

    return tracing.run_trials(trial_run)


@contextlib.contextmanager
def device_scope(device_name_):
    """Place new arrays on ``device_name_`` ("cpu", "gpu:0", ...)."""
    kind, _, idx = str(device_name_).lower().partition(":")
    kind = {"cuda": "gpu"}.get(kind, kind)
    try:
        devices = jax.devices(kind)
        dev = devices[int(idx or 0)]
    except (RuntimeError, ValueError, IndexError):
        have = sorted({f"{d.platform}:{d.id}" for d in jax.devices()})
        raise ValueError(f"lamina.device: expected a device of this machine ('cpu', 'gpu', 'gpu:N', ...; JAX has "
                         f"{have}), but received {device_name_!r}.") from None
    with jax.default_device(dev):
        yield


def remat(fn):
    """``fn`` with gradient checkpointing: its intermediate values are recomputed in the backward pass instead
    of being kept (``jax.checkpoint``). Positional arguments must be arrays or pytrees of arrays."""
    return jax.checkpoint(fn)


def value_and_grad(fn, variables, has_aux=False):
    """``fn``'s value and its gradients with respect to the lamina Variables ``variables`` (see
    ``lamina.ops.value_and_grad``). ``fn`` runs as a pure function of the variables' values (``jax.value_and_grad``);
    what it assigns to other variables (BatchNormalization statistics, seeds) is assigned after it."""
    variables = list(variables)

    def wrapped(*args, **kwargs):
        outer = scopes.current_scope()
        values = [scopes.raw_value(v, outer) for v in variables]
        assigned = []

        def pure(vals):
            fallback = outer.get if outer is not None else None
            with scopes.StatelessScope(list(zip(variables, vals)), fallback=fallback) as scope:
                out = fn(*args, **kwargs)
            pairs = scope.assigned()
            assigned[:] = [var for var, _ in pairs]
            value, aux = (out[0], out[1]) if has_aux else (out, None)
            return value, (aux, [val for _, val in pairs])

        (value, (aux, new_values)), grads = jax.value_and_grad(pure, has_aux=True)(values)
        for var, new in zip(assigned, new_values):
            var.assign(new)
        return ((value, aux) if has_aux else value), list(grads)

    return wrapped


# What a function that needs concrete values raises when it is traced.
UNTRACEABLE = (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError,
               jax.errors.TracerBoolConversionError, jax.errors.TracerIntegerConversionError)


def abstract_call(fn):
    """Run ``fn()`` for its side effects on Python objects (building metrics, creating their state) with the
    computation traced for shapes only, so no program is compiled; variable writes inside are dropped. Falls
    back to an eager call if ``fn`` needs concrete values."""
    def traced():
        with scopes.StatelessScope():
            fn()
        return 0

    try:
        jax.eval_shape(traced)
    except UNTRACEABLE:
        fn()


def set_float32_matmul_precision(value):
    """``lamina.config.set_float32_matmul_precision``'s engine half: JAX's default precision of float32 dot
    products and convolutions ("default": JAX's own, TensorFloat-32 on GPUs that have it)."""
    jax.config.update("jax_default_matmul_precision",
                      {"default": None, "high": "tensorfloat32", "highest": "float32"}[value])
