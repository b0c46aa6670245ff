"""Functional models: a graph of layers from ``Input``s to outputs, replayed on data."""

from lamina import backend, ops, tree
from lamina.backend.common.keras_tensor import KerasTensor
from lamina.backend.common.masking import get_keras_mask, set_keras_mask
from lamina.layers.core.input_layer import InputLayer
from lamina.layers.layer import Layer, _overrides
from lamina.models import _direct_calls
from lamina.models.layer_order import keras_layer_order
from lamina.models.model import Model


class _Step:
    """One node of the graph, prepared for fast replay."""

    __slots__ = ("operation", "node", "out_ids", "simple_in", "is_layer", "mask_producer", "accepts_mask")

    def __init__(self, node):
        self.operation = node.operation
        self.node = node
        self.out_ids = [id(t) for t in node.output_tensors]
        args, kwargs = node.call_args, node.call_kwargs
        simple = len(args) == 1 and not kwargs and isinstance(args[0], KerasTensor)
        self.simple_in = id(args[0]) if simple else None
        self.is_layer = isinstance(node.operation, Layer)
        self.mask_producer = self.is_layer and (
            _overrides(type(node.operation), "compute_mask") or node.operation.supports_masking)
        self.accepts_mask = self.is_layer and node.operation._has_mask_arg


def _topological_steps(inputs, outputs):
    """Nodes needed to compute ``outputs`` from ``inputs``, in execution order."""
    input_ids = {id(t) for t in inputs}
    order, visiting, done = [], set(), set()

    def visit(tensor):
        if id(tensor) in input_ids:
            return
        hist = tensor._history
        if hist is None:
            raise ValueError(
                f"Functional model: the output depends on {tensor}, which does not come from the "
                "model's inputs. Pass every Input the outputs depend on in `inputs=`."
            )
        node = hist.node
        if id(node) in done:
            return
        if node.is_input:
            raise ValueError(
                f"Functional model: the outputs depend on the input '{hist.operation.name}', "
                "which is not in `inputs=`. Add it to the model's inputs."
            )
        if id(node) in visiting:
            raise ValueError("Functional model: the layer graph has a cycle.")
        visiting.add(id(node))
        for t in node.input_tensors:
            visit(t)
        visiting.discard(id(node))
        done.add(id(node))
        order.append(node)

    for t in outputs:
        visit(t)
    return order


def _start_at_inputs(inputs, outputs):
    """A model may start from tensors inside another graph (Keras allows ``Model(encoded, head(encoded))``):
    each such input gets a new ``Input`` of its shape and dtype, and the layers between the inputs and the
    outputs are called again on the new inputs (the same layers, shared; nothing upstream is kept)."""
    from lamina.layers.core.input_layer import Input
    from lamina.utils.naming import uniquify

    flat_in = tree.flatten(inputs)
    if all(isinstance(t._history.operation, InputLayer) for t in flat_in):
        return inputs, outputs
    new = {}
    for t in flat_in:
        if isinstance(t._history.operation, InputLayer):
            new[id(t)] = t
        else:
            name = uniquify(f"{t._history.operation.name}_output")
            new[id(t)] = Input(batch_shape=tuple(t.shape), dtype=t.dtype, name=name)
    for node in _topological_steps(flat_in, tree.flatten(outputs)):
        args, kwargs = node.arguments_with(new)
        again = node.operation(*args, **kwargs)
        fresh = [x for x in tree.flatten(again) if isinstance(x, KerasTensor)]
        for old, replacement in zip(node.output_tensors, fresh):
            new[id(old)] = replacement

    def swap(t):
        return new.get(id(t), t) if isinstance(t, KerasTensor) else t
    return tree.map_structure(swap, inputs), tree.map_structure(swap, outputs)


def conform_input(ref_shape, x, who, dtype=None):
    """Check ``x`` against an Input's shape; like Keras, add or drop a trailing axis of size 1, and convert it
    to the Input's ``dtype`` (uint8 images given to a float32 Input are float32 inside, as in Keras)."""
    if dtype is not None and dtype != "string" and backend.dtype_name(x) != dtype:
        mask = get_keras_mask(x)
        x = ops.cast(x, dtype)
        if mask is not None:
            set_keras_mask(x, mask)
    shape = tuple(x.shape)
    if len(shape) == len(ref_shape) - 1 and ref_shape[-1] == 1:
        return ops.expand_dims(x, -1)
    if len(shape) == len(ref_shape) + 1 and shape[-1] == 1:
        return ops.squeeze(x, -1)
    if len(shape) != len(ref_shape):  # sizes are checked by each layer's input_spec, which names the layer
        raise ValueError(
            f"Invalid input shape for {who}: expected shape {tuple(ref_shape)}, but the input has the "
            f"incompatible shape {shape}."
        )
    return x


class Functional(Model):
    """A model defined by ``Model(inputs, outputs)``: a graph of layer calls.

    ``inputs`` and ``outputs`` may each be one tensor, a list, or a dict.
    Layers may be shared (called several times) and models may be nested.

    Example:
    >>> import lamina
    >>> a = lamina.Input(shape=(3,), name="a"); b = lamina.Input(shape=(3,), name="b")
    >>> shared = lamina.layers.Dense(2)
    >>> model = lamina.Model([a, b], [shared(a), shared(b)])
    >>> [lamina.ops.shape(o) for o in model([lamina.ops.ones((4, 3)), lamina.ops.ones((4, 3))])]
    [(4, 2), (4, 2)]
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        for t in tree.flatten(inputs):
            if not isinstance(t, KerasTensor):
                raise ValueError(
                    f"Model inputs must be symbolic tensors from lamina.Input, but received "
                    f"{type(t).__name__}: {t!r:.100}"
                )
            if t._history is None:
                raise ValueError(f"Model inputs must be symbolic tensors from lamina.Input (or outputs of layers "
                                 f"called on them), but {t} was made by no layer.")
        inputs, outputs = _start_at_inputs(inputs, outputs)
        for t in tree.flatten(outputs):
            if not isinstance(t, KerasTensor):
                raise ValueError(
                    f"Model outputs must be symbolic tensors computed from the inputs, but received "
                    f"{type(t).__name__}."
                )
        if isinstance(inputs, dict):
            inputs = {k: inputs[k] for k in inputs}
        self._inputs_struct = inputs if isinstance(inputs, (dict, list, tuple)) else inputs
        self._outputs_struct = outputs
        self.inputs = tree.flatten(inputs)
        self.outputs = tree.flatten(outputs)
        nodes = self._index_graph()
        self._input_layers = [t._history.operation for t in self.inputs]
        # Keras 3's order (by depth), which its weight files rely on; call order as the fallback.
        ops_in_order = keras_layer_order(self.inputs, self.outputs) + self._input_layers + \
            [n.operation for n in nodes]
        seen, layers = set(), []
        for op in ops_in_order:
            if isinstance(op, Layer) and id(op) not in seen:
                seen.add(id(op))
                layers.append(op)
        counts = {}
        for layer in layers:
            counts[layer.name] = counts.get(layer.name, 0) + 1
        repeated = {name: n for name, n in counts.items() if n > 1}
        if repeated:
            name, n = next(iter(repeated.items()))
            raise ValueError(f"The name {name!r} is used {n} times in the model {self.name!r}: every layer of a "
                             f"model needs a name of its own (its weights are saved and found by it). Layers "
                             f"named more than once: {sorted(repeated)}.")
        self._graph_layers = layers
        self._tracked.extend(l for l in layers if not isinstance(l, InputLayer))
        self.built = True
        self._build_shapes = tree.map_structure(lambda t: t.shape, inputs)
        self._index_runs()

    def _index_graph(self):
        """The steps of the graph, in call order; they find their values by the ids of the graph's tensors."""
        symbolic_losses = self.__dict__.get("_symbolic_losses") or []
        nodes = _topological_steps(self.inputs, self.outputs + symbolic_losses)
        self._steps = [_Step(n) for n in nodes]
        self._output_ids = [id(t) for t in self.outputs]
        self._loss_ids = [id(t) for t in symbolic_losses]
        return nodes

    def add_loss(self, loss):
        """Add ``loss`` to the losses of this call, as any layer's ``add_loss``; or, the tf.keras 2 form (the VAE
        tutorials'), a symbolic tensor computed from the model's inputs (``model.add_loss(ops.mean(kl))``),
        which every later call of the model computes and adds to its losses (Keras 3 refuses this form).

        A loss added this way is not part of the model's config: a saved and loaded model does not have it.

        Example:
        >>> import lamina, numpy as np
        >>> inp = lamina.Input((3,))
        >>> h = lamina.layers.Dense(2, kernel_initializer="ones")(inp)
        >>> model = lamina.Model(inp, h)
        >>> model.add_loss(lamina.ops.mean(h))
        >>> _ = model(np.ones((1, 3), "float32"))
        >>> float(lamina.ops.convert_to_numpy(model.losses[0]))
        3.0
        """
        flat = list(loss) if isinstance(loss, (list, tuple)) else [loss]
        if not any(isinstance(t, KerasTensor) for t in flat):
            return super().add_loss(loss)
        for t in flat:
            if not isinstance(t, KerasTensor):
                raise ValueError(f"Model '{self.name}'.add_loss: give symbolic loss tensors alone, not mixed with "
                                 f"{type(t).__name__} values.")
            try:
                _topological_steps(self.inputs, [t])
            except ValueError:
                raise ValueError(f"Model '{self.name}'.add_loss: the symbolic loss {t} is not computed from the "
                                 "model's inputs (only such tensors can be computed when the model is called).") \
                    from None
        self._symbolic_losses = list(self.__dict__.get("_symbolic_losses") or []) + flat
        self._index_graph()
        self._index_runs()

    def _index_runs(self):
        # String inputs: their layers run on the host, the rest as usual (None for numeric models).
        from lamina.layers.preprocessing._string_inputs import StringInputPlan

        self._string_plan = StringInputPlan.build(self)
        self._run_steps = self._steps if self._string_plan is None else self._string_plan.engine_steps
        self._plans = _direct_calls.Plans()  # layers called directly, by input signature (see _direct_calls)

    def __deepcopy__(self, memo):
        """A copy with its own layers and weights. The graph's steps refer to tensors by id, so the copy indexes
        its own copied graph again."""
        import copy

        new = type(self).__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            object.__setattr__(new, key, copy.deepcopy(value, memo))
        new._index_graph()
        new._index_runs()
        return new

    def _convert_input(self, x):
        if self._string_plan is not None:  # raw strings stay NumPy; the plan converts the numeric inputs
            return self._string_plan.check_concrete(x)
        return super()._convert_input(x)

    @property
    def layers(self):
        """Every layer of the graph in Keras's order: by decreasing depth (inputs are deepest)."""
        return list(self._graph_layers)

    @property
    def input(self):
        """The model's symbolic input(s), as given to ``Model(inputs, ...)``."""
        return self._inputs_struct

    @property
    def output(self):
        """The model's symbolic output(s), as given to ``Model(..., outputs)``."""
        return self._outputs_struct

    @property
    def input_shape(self):
        return tree.map_structure(lambda t: t.shape, self._inputs_struct)

    @property
    def output_shape(self):
        return tree.map_structure(lambda t: t.shape, self._outputs_struct)

    def _flatten_call_inputs(self, inputs):
        if isinstance(self._inputs_struct, dict):
            if not isinstance(inputs, dict):
                if len(self.inputs) == 1:
                    return [inputs]
                keys = sorted(self._inputs_struct)
                if isinstance(inputs, (list, tuple)) and len(inputs) == len(keys):
                    # as Keras: a list for dict inputs is taken in the order of the sorted keys (said once)
                    if not self.__dict__.get("_warned_list_for_dict"):
                        self.__dict__["_warned_list_for_dict"] = True
                        import warnings

                        warnings.warn(f"Model '{self.name}' has dict inputs; the list it received is taken in the "
                                      f"order of their sorted keys {keys}. Pass a dict to be explicit.",
                                      UserWarning, stacklevel=4)
                    return list(inputs)
                raise ValueError(
                    f"Model '{self.name}' expects a dict of inputs with keys {sorted(self._inputs_struct)}, "
                    f"but received {type(inputs).__name__}."
                )
            missing = [k for k in self._inputs_struct if k not in inputs]
            if missing:
                raise ValueError(
                    f"Model '{self.name}': the input dict is missing the key(s) {missing} "
                    f"(expected keys {sorted(self._inputs_struct)}, received {sorted(inputs)})."
                )
            return [inputs[k] for k in sorted(self._inputs_struct)]
        if isinstance(inputs, dict):
            names = [t._history.operation.name for t in self.inputs]
            try:
                return [inputs[n] for n in names]
            except KeyError:
                raise ValueError(
                    f"Model '{self.name}' received a dict with keys {sorted(inputs)}, but its inputs are "
                    f"named {names}."
                ) from None
        flat = tree.flatten(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != len(self.inputs):
            raise ValueError(
                f"Model '{self.name}' expects {len(self.inputs)} input(s) "
                f"{[t.shape for t in self.inputs]}, but received {len(flat)}."
            )
        return flat

    def call(self, inputs, training=None, mask=None):
        values, masks = {}, {}
        if self._string_plan is not None:
            values = self._string_plan.engine_values(inputs)
        else:
            flat = self._flatten_call_inputs(inputs)
            for kt, x, layer in zip(self.inputs, flat, self._input_layers):
                x = self._convert_input(x) if not backend.is_tensor(x) else x
                values[id(kt)] = conform_input(kt.shape, x, f"input '{layer.name}' of model '{self.name}'",
                                               kt.dtype)
        if mask is not None:
            for kt, m in zip(self.inputs, tree.flatten(mask) if isinstance(mask, (list, tuple)) else [mask]):
                if m is not None:
                    masks[id(kt)] = m
        key = plan = record = None
        if not masks and self._string_plan is None and _direct_calls.available(training):
            key = (training,) + tuple((v.shape, v.dtype) if backend.is_tensor(v) else None for v in values.values())
            plan = self._plans.get(key)
            if plan is None:
                record, generation = [], self._plans.generation
            elif plan is False:
                key = None
        for i, step in enumerate(self._run_steps):
            op = step.operation
            in_mask = None
            if plan:
                entry = plan[i]
                if entry is not None:  # this signature ran before and the layer's checks passed: call it directly
                    out = _direct_calls.run(entry, values[step.simple_in], training)
                    flat_out = tree.flatten(out) if isinstance(out, (list, tuple, dict)) else [out]
                    for oid, o in zip(step.out_ids, flat_out):
                        values[oid] = o
                    continue
            if step.simple_in is not None:
                x = values[step.simple_in]
                in_mask = masks.get(step.simple_in) if masks else None
                if step.is_layer:
                    kw = {}
                    if training is not None and op._has_training_arg:
                        kw["training"] = training
                    if in_mask is not None and step.accepts_mask:
                        kw["mask"] = in_mask
                    out = op(x, **kw)
                else:
                    out = op.call(x)
                if record is not None:  # after the call: the layer is built and its checks passed
                    record.append(_direct_calls.prepare(op, x, training) if step.is_layer and not masks and
                                  backend.is_tensor(x) else None)
            else:
                if record is not None:
                    record.append(None)
                args, kwargs = step.node.arguments_with(values)
                if masks and step.is_layer:
                    in_mask = [masks.get(id(t)) for t in step.node.input_tensors]
                    in_mask = in_mask[0] if len(in_mask) == 1 else (None if all(m is None for m in in_mask) else in_mask)
                    if in_mask is not None and step.accepts_mask and "mask" not in kwargs:
                        kwargs["mask"] = in_mask
                if step.is_layer:
                    # An explicit ``training=`` given when the graph was built wins (as the Keras transfer-learning
                    # guide and tf.keras 2: a frozen base called with training=False stays in inference mode).
                    if training is not None and op._has_training_arg and kwargs.get("training") is None:
                        kwargs["training"] = training
                    out = op(*args, **kwargs)
                else:
                    out = op.call(*args, **kwargs)
            flat_out = tree.flatten(out) if isinstance(out, (list, tuple, dict)) else [out]
            for oid, o in zip(step.out_ids, flat_out):
                values[oid] = o
            if step.mask_producer:
                m = get_keras_mask(flat_out[0]) if step.is_layer else None  # the layer call attached it
                if m is None:
                    first_in = values[step.simple_in] if step.simple_in is not None else args[0]
                    m = op.compute_mask(first_in, in_mask)
                if m is not None:
                    for oid in step.out_ids:
                        masks[oid] = m
        if record is not None:  # remember what this signature allows (False: the full path, masks were made)
            self._plans.put(key, False if masks else tuple(record), generation)
        for lid in self._loss_ids:  # symbolic losses added with add_loss (the tf.keras 2 form)
            self._losses.append(values[lid])
        outs = [values[i] for i in self._output_ids]
        if masks:  # the outputs carry their masks, for the loss and metrics (and the caller)
            for oid, o in zip(self._output_ids, outs):
                if oid in masks:
                    set_keras_mask(o, masks[oid])
        return tree.pack_sequence_as(self._outputs_struct, outs)

    def compute_output_spec(self, *args, **kwargs):
        return backend.compute_output_spec(self.call, *args, **kwargs)

    def get_config(self):
        """The Keras-layout graph config: layers, their inbound nodes, inputs and outputs."""
        from lamina.models.graph_config import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the model (with new weights) from ``get_config()``'s dict."""
        from lamina.models.graph_config import functional_from_config

        return functional_from_config(config, custom_objects)
