"""String inputs in Functional models: ``Input(dtype="string")`` feeding a string layer (``TextVectorization``,
``StringLookup``), with the string part run on the host.

PyTorch and JAX have no string tensors, so a model whose inputs are strings is split in two:

* the *host steps*: the layers called directly on a string ``Input``. They run with NumPy on the host and
  turn strings into numbers;
* the *engine steps*: everything else, the usual numeric graph (compiled/jitted as any model).

In the symbolic graph a string ``Input`` is a ``KerasTensor`` of dtype ``"string"``; a string layer called on
it records a node whose output is a numeric ``KerasTensor``. At run time:

* ``model(raw_strings)`` (eager) runs the host steps, then the engine steps;
* ``fit`` / ``evaluate`` / ``predict`` (and the ``*_on_batch`` methods) convert the string inputs on the host
  before the data reaches the engine step, into a *host batch*: a dict keyed by :data:`HOST_KEY` names
  holding the numeric inputs and the host steps' outputs. Arrays are converted once, up front; datasets,
  PyDatasets and generators batch by batch (in the data workers). The engine step is then an ordinary
  numeric step, so nothing changes for models without string inputs.

Sequential models whose ``Input`` is a string run their first layer on the host the same way.

Note: with ``TextVectorization(output_sequence_length=None)`` and array data, the sequences of all the data
given to ``fit``/``predict`` are padded to the longest one (not batch by batch).
"""

import numpy as np

from lamina import backend, tree
from lamina.backend.common.keras_tensor import KerasTensor
from lamina.layers.preprocessing import _utils as u
from lamina.utils.py_dataset import PyDataset

STRING = "string"
HOST_KEY = "__lamina_host__/"


def is_string_tensor(x):
    return isinstance(x, KerasTensor) and x.dtype == STRING


def symbolic_call(layer, inputs, out_shape, out_dtype):
    """Record ``layer(inputs)`` on a symbolic string tensor; other symbolic tensors get a clear error."""
    if not is_string_tensor(inputs):
        raise u.symbolic_string_error(layer, inputs)
    from lamina.ops.node import Node

    out = KerasTensor(out_shape, dtype=out_dtype)
    layer.built = True
    Node(layer, call_args=(inputs,), call_kwargs={}, outputs=out)
    return out


def is_host_batch(x):
    return isinstance(x, dict) and any(isinstance(k, str) and k.startswith(HOST_KEY) for k in x)


class _MappedPyDataset(PyDataset):
    """A PyDataset whose batches are ``fn(batch)`` of another's (same length, workers and epoch hooks).

    Its workers are threads: ``fn`` runs the model's string layers, which stay in this process."""

    def __init__(self, source, fn):
        super().__init__(workers=source.workers, use_multiprocessing=False, max_queue_size=source.max_queue_size)
        self.source, self.fn = source, fn

    @property
    def num_batches(self):
        return self.source.num_batches

    def __getitem__(self, index):
        return self.fn(self.source[index])

    def on_epoch_begin(self):
        self.source.on_epoch_begin()

    def on_epoch_end(self):
        self.source.on_epoch_end()


class _MappedIterable:
    """An iterable (iterated again each epoch) whose batches are ``fn(batch)`` of another's."""

    def __init__(self, source, fn):
        self.source, self.fn = source, fn

    def __iter__(self):
        return (self.fn(b) for b in self.source)

    def __len__(self):
        return len(self.source)


def map_batches(source, fn):
    """``source`` (a PyDataset, a generator/iterator or another iterable of batches) with ``fn`` applied to
    each batch, keeping its kind (so the data adapters treat it as they would the original)."""
    if isinstance(source, PyDataset):
        return _MappedPyDataset(source, fn)
    if hasattr(source, "__next__"):
        return (fn(b) for b in source)
    return _MappedIterable(source, fn)


class _HostPlan:
    """What both plans share: checking string data, and converting data given to fit/evaluate/predict."""

    model = None

    def _string_array(self, kt, layer, x):
        who = f"input '{layer.name}' of model '{self.model.name}'"
        if isinstance(x, KerasTensor) or backend.is_tensor(x) or not u.is_string_data(x):
            kind = backend.dtype_name(x) if backend.is_tensor(x) else getattr(np.asarray(x), "dtype", "?")
            if isinstance(x, KerasTensor):
                kind = x.dtype
            raise ValueError(
                f"Model '{self.model.name}': its input '{layer.name}' has dtype 'string' and expects strings (a "
                f"NumPy array or list of str or bytes), but received data of dtype {kind}.")
        arr = np.asarray(x, dtype=object) if not isinstance(x, np.ndarray) else x
        ref = kt.shape
        if arr.ndim == len(ref) - 1 and ref[-1] == 1:
            arr = arr[..., None]
        elif arr.ndim == len(ref) + 1 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if arr.ndim != len(ref):
            raise ValueError(f"Invalid input shape for {who}: expected shape {ref}, but the input has the "
                             f"incompatible shape {arr.shape}.")
        return arr

    def check_concrete(self, x):
        """Return ``x``, refusing symbolic inputs: the host steps need real strings (no nesting in a model)."""
        symbolic = [t for t in tree.flatten(x) if isinstance(t, KerasTensor)] if not isinstance(x, KerasTensor) \
            else [x]
        if symbolic:
            raise ValueError(
                f"Model '{self.model.name}' has string inputs, which run on the host, so it cannot be called on "
                f"the symbolic tensor {symbolic[0]} (nested in another model). Call its string layers in the outer "
                "model directly, on the outer string Input, and nest the numeric part instead.")
        return x

    def host_data(self, x):
        """Data given to fit/evaluate/predict with its strings converted on the host: arrays at once, datasets
        and generators batch by batch (wrapped, see :func:`map_batches`)."""
        from lamina.training.data_adapters import is_iterable_source

        if x is None or is_host_batch(x):
            return x
        if is_iterable_source(x):
            return map_batches(x, self._host_batch_of)
        return self.to_host_batch(x)

    def _host_batch_of(self, batch):
        if isinstance(batch, tuple) and len(batch) in (2, 3):  # (x, y[, sample_weight])
            return (self.to_host_batch(batch[0]),) + batch[1:]
        return self.to_host_batch(batch)

    def _fetch(self, batch, key):
        from lamina.layers.layer import Layer

        if key not in batch:
            raise ValueError(f"Model '{self.model.name}': the host batch lacks '{key}' (received keys "
                             f"{sorted(batch)}).")
        return Layer._convert_input(self.model, batch[key])


class SequentialStringPlan(_HostPlan):
    """How a Sequential model whose Input is a string runs: its first layer on the host, the rest as usual."""

    def __init__(self, model):
        self.model = model
        self.input_layer = model._input_layer
        self.layer = model._stack[0]
        if not getattr(self.layer, "_host_string_layer", False):
            raise ValueError(
                f"Sequential model '{model.name}': its string Input feeds the layer '{self.layer.name}' "
                f"({type(self.layer).__name__}), which cannot take strings. A string Input must be followed by a "
                "string layer (TextVectorization, StringLookup).")
        self.key = f"{HOST_KEY}{self.layer.name}"

    @classmethod
    def build(cls, model):
        """The plan of ``model``, or None when its input is not a string (the numeric fast path)."""
        if model._input_layer is None or model._input_layer.dtype != STRING or not model._stack:
            return None
        return cls(model)

    def to_host_batch(self, x):
        """Run the first layer on raw strings; return the host batch."""
        if is_host_batch(x):
            return x
        arr = self._string_array(self.input_layer.output, self.input_layer, x)
        return {self.key: backend.convert_to_numpy(self.layer(arr))}

    def first_output(self, inputs):
        """The first layer's output (a tensor), from raw strings or a host batch."""
        return self._fetch(self.to_host_batch(inputs), self.key)


class StringInputPlan(_HostPlan):
    """How one Functional model runs its string inputs (see the module docstring)."""

    def __init__(self, model):
        self.model = model
        string_ids = {id(t) for t in model.inputs if t.dtype == STRING}
        self.host_steps, self.engine_steps = [], []
        for step in model._steps:
            ins = step.node.input_tensors
            if any(id(t) in string_ids for t in ins):
                if not getattr(step.operation, "_host_string_layer", False) or len(ins) != 1 or \
                        len(step.out_ids) != 1:
                    raise ValueError(
                        f"Model '{model.name}': the string input {ins[0]} feeds the layer "
                        f"'{step.operation.name}' ({type(step.operation).__name__}), which cannot take strings. "
                        "A string Input must feed string layers (TextVectorization, StringLookup) directly.")
                self.host_steps.append(step)
            else:
                self.engine_steps.append(step)
        self.keys = {}  # tensor id -> host batch key
        for i, t in enumerate(model.inputs):
            if t.dtype != STRING:
                self.keys[id(t)] = f"{HOST_KEY}input_{i}"
        for j, step in enumerate(self.host_steps):
            self.keys[step.out_ids[0]] = f"{HOST_KEY}{step.operation.name}_{j}"

    @classmethod
    def build(cls, model):
        """The plan of ``model``, or None when none of its inputs is a string (the numeric fast path)."""
        if not any(t.dtype == STRING for t in model.inputs):
            return None
        return cls(model)

    # ---- host side ----------------------------------------------------------------------------------------

    def to_host_batch(self, x):
        """Run the host steps on raw inputs; return the host batch (a dict of numeric arrays)."""
        if is_host_batch(x):
            return x
        model = self.model
        single = len(model.inputs) == 1 and isinstance(x, (list, tuple)) and u.is_string_data(x)
        flat = [x] if single else model._flatten_call_inputs(x)  # a list of str is one input, not many
        out, strings = {}, {}
        for kt, value, layer in zip(model.inputs, flat, model._input_layers):
            if kt.dtype == STRING:
                strings[id(kt)] = self._string_array(kt, layer, value)
            else:
                # lists (e.g. {"age": [60]}) as arrays, so the data adapters see one array per input
                out[self.keys[id(kt)]] = value if backend.is_tensor(value) else np.asarray(value)
        for step in self.host_steps:
            result = step.operation(strings[id(step.node.input_tensors[0])])
            out[self.keys[step.out_ids[0]]] = backend.convert_to_numpy(result)
        return out

    # ---- engine side --------------------------------------------------------------------------------------

    def engine_values(self, inputs):
        """The tensors that seed the engine steps (numeric inputs and host outputs), keyed by KerasTensor id."""
        from lamina.models.functional import conform_input

        model = self.model
        batch = self.to_host_batch(inputs)
        values = {}
        for kt, layer in zip(model.inputs, model._input_layers):
            if kt.dtype == STRING:
                continue
            x = self._fetch(batch, self.keys[id(kt)])
            values[id(kt)] = conform_input(kt.shape, x, f"input '{layer.name}' of model '{model.name}'")
        for step in self.host_steps:
            values[step.out_ids[0]] = self._fetch(batch, self.keys[step.out_ids[0]])
        return values
