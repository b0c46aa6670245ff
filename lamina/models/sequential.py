"""``Sequential``: a plain stack of layers, each feeding the next."""

import numpy as np

from lamina import backend
from lamina.backend.common.masking import get_keras_mask
from lamina.backend.common.keras_tensor import KerasTensor
from lamina.layers.core.input_layer import InputLayer
from lamina.layers.layer import Layer
from lamina.models import _direct_calls
from lamina.models.functional import conform_input
from lamina.models.model import Model


class Sequential(Model):
    """A linear stack of layers.

    Build it from a list, or with ``add``. When the input shape is known (an
    ``Input``/``InputLayer`` first, or ``input_shape=``/``input_dim=`` on the
    first layer) the model is built at once, so ``summary()`` works before
    training; otherwise it is built on its first call.

    Args:
        layers: optional list of layers.
        name: the model's name.

    Example:
    >>> import lamina
    >>> model = lamina.Sequential([lamina.Input(shape=(4,)), lamina.layers.Dense(2)])
    >>> model.output_shape
    (None, 2)
    >>> model.add(lamina.layers.Dense(1)); model.output_shape
    (None, 1)
    """

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        self._stack = []
        self._input_layer = None
        self._output_kt = None
        self._plans = _direct_calls.Plans()  # layers called directly, by input signature (see _direct_calls)
        self._string_plan = None  # set when the Input is a string (see layers/preprocessing/_string_inputs)
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                raise TypeError(
                    f"Sequential expected a list of layers, but received {type(layers).__name__}."
                )
            for layer in layers:
                self.add(layer, rebuild=False)
            self._maybe_rebuild()

    def add(self, layer, rebuild=True):
        """Add a layer on top of the stack."""
        if isinstance(layer, KerasTensor) and layer._history is not None and \
                isinstance(layer._history.operation, InputLayer):
            layer = layer._history.operation
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add expected a Layer instance, but received {layer!r:.100} "
                f"of type {type(layer).__name__}."
            )
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._stack:
                raise ValueError(
                    f"Sequential model '{self.name}': an InputLayer can only be the first layer."
                )
            self._input_layer = layer
        else:
            if any(l is layer for l in self._stack):
                raise ValueError(f"Sequential model '{self.name}' already contains layer '{layer.name}'.")
            names = {l.name for l in self._stack}
            if layer.name in names:
                raise ValueError(
                    f"All layers added to a Sequential model should have unique names. Name '{layer.name}' "
                    f"is already the name of a layer in model '{self.name}'."
                )
            if not self._stack and self._input_layer is None and layer._batch_input_shape is not None:
                self._input_layer = InputLayer(batch_shape=layer._batch_input_shape, dtype=layer.dtype)
            elif not self._stack and self._input_layer is None and _vectorizes_text(layer):
                # A TextVectorization first (Keras's export pattern): its input is a batch of strings.
                self._input_layer = InputLayer(batch_shape=(None,), dtype="string")
            self._stack.append(layer)
            self._tracked.append(layer)
        self.built = False
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        """Remove and return the last layer."""
        if not self._stack:
            raise TypeError(f"Sequential model '{self.name}' has no layers to pop.")
        layer = self._stack.pop()
        self._tracked.remove(layer)
        self.built = False
        self._output_kt = None
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self):
        if self._input_layer is not None and self._stack:
            self._build_symbolic(self._input_layer.output)

    def _build_symbolic(self, x):
        from lamina.layers.preprocessing._string_inputs import SequentialStringPlan

        self._string_plan = SequentialStringPlan.build(self)
        with self._open_name_scope():  # the layers' weights under the model's name, as Keras's
            for layer in self._stack:
                x = layer(x)
        self._output_kt = x
        self._build_shapes = self._input_layer.batch_shape if self._input_layer else None
        self.built = True

    def build(self, input_shape=None):
        """Build the stack for inputs of ``input_shape`` (including the batch dimension)."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError(
                    f"Sequential model '{self.name}' cannot be built without an input shape. "
                    "Pass input_shape to build(), start with lamina.Input(shape=...), or call it on data."
                )
            input_shape = self._input_layer.batch_shape
        if self._input_layer is None:
            self._input_layer = InputLayer(batch_shape=tuple(input_shape))
        self._build_symbolic(self._input_layer.output)

    @property
    def layers(self):
        """The stacked layers (the InputLayer is not included, as in Keras)."""
        return list(self._stack)

    def _maybe_build(self, args):
        if not self.built and args and hasattr(args[0], "shape") and not isinstance(args[0], (list, dict)):
            shape = tuple(args[0].shape)
            self.build((None,) + shape[1:])

    def _convert_input(self, x):
        if isinstance(x, (list, tuple)) and x and all(isinstance(e, (list, tuple, int, float)) for e in x):
            x = np.asarray(x)  # nested Python lists of numbers: the batch they spell
        elif isinstance(x, (list, tuple)) and len(x) == 1:
            x = x[0]  # the one input wrapped in a list, as older tutorials pass it (Keras accepts it too)
        if self._string_plan is not None:  # raw strings stay NumPy; the plan converts them on the host
            return self._string_plan.check_concrete(x)
        return super()._convert_input(x)

    def call(self, inputs, training=None, mask=None):
        if not self._stack:
            raise ValueError(f"Sequential model '{self.name}' has no layers; add some before calling it.")
        x, stack = inputs, self._stack
        if self._string_plan is not None:  # string Input: the first layer runs on the host
            x, stack = self._string_plan.first_output(inputs), self._stack[1:]
        elif self._input_layer is not None and backend.is_tensor(x):
            x = conform_input(self._input_layer.batch_shape, x, f"model '{self.name}'",
                              self._input_layer.output.dtype)
        key = record = None
        if mask is None and self._string_plan is None and backend.is_tensor(x) and _direct_calls.available(training):
            key = (training, x.shape, x.dtype)
            plan = self._plans.get(key)
            if plan:  # this signature ran before: every layer's checks passed, call them directly
                for entry in plan:
                    x = _direct_calls.run(entry, x, training)
                return x
            if plan is None:
                record, generation = [], self._plans.generation
        for layer in stack:
            kwargs = {}
            if layer._has_training_arg and training is not None:
                kwargs["training"] = training
            if mask is not None and layer._has_mask_arg:
                kwargs["mask"] = mask
            y = layer(x, **kwargs)
            if record is not None:  # after the call: the layer is built and its checks passed
                entry = _direct_calls.prepare(layer, x, training) if mask is None else None
                if entry is None:
                    record = None
                else:
                    record.append(entry)
            if mask is not None or _makes_mask(layer):
                made = get_keras_mask(y)  # the layer call attached its output mask
                mask = made if made is not None else layer.compute_mask(x, mask)
            x = y
        if key is not None and plan is None:  # remember what this signature allows (False: the full path)
            self._plans.put(key, tuple(record) if record is not None and mask is None else False, generation)
        return x

    def compute_output_spec(self, *args, **kwargs):
        return backend.compute_output_spec(self.call, *args, **kwargs)

    @property
    def inputs(self):
        return [self._input_layer.output] if self._input_layer is not None else []

    @property
    def outputs(self):
        return [self._output_kt] if self._output_kt is not None else []

    @property
    def input_shape(self):
        if self._input_layer is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined input shape yet.")
        return self._input_layer.batch_shape

    @property
    def output_shape(self):
        if self._output_kt is None:
            raise AttributeError(f"Sequential model '{self.name}' is not built yet, so it has no output shape.")
        return self._output_kt.shape

    def get_config(self):
        from lamina.saving.serialization import serialize_object

        layers = []
        if self._input_layer is not None:
            layers.append(serialize_object(self._input_layer))
        layers += [serialize_object(l) for l in self._stack]
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype, "layers": layers}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from lamina.saving.serialization import deserialize_object

        config = dict(config)
        layers = [deserialize_object(c, custom_objects=custom_objects) for c in config.pop("layers")]
        return cls(layers=layers, **{k: v for k, v in config.items() if k in ("name", "trainable")})


def _vectorizes_text(layer):
    """A TextVectorization whose output shape is known (an un-adapted vector mode leaves the model unbuilt)."""
    from lamina.layers.preprocessing.text_vectorization import TextVectorization

    return isinstance(layer, TextVectorization) and (
        layer.output_mode == "int" or layer.compute_output_shape((None,))[-1] is not None)


def _makes_mask(layer):
    return type(layer).compute_mask is not Layer.compute_mask
