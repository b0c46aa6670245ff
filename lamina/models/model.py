"""``Model``: a Layer that can be trained; ``Model(inputs, outputs)`` makes a Functional model."""

from lamina import backend
from lamina.backend.common.keras_tensor import KerasTensor
from lamina.layers import _init_args
from lamina.layers.layer import Layer
from lamina.saving.model_methods import SavingMixin
from lamina.training.trainer import Trainer


class Model(SavingMixin, Trainer, Layer):
    """A trainable group of layers, as Keras's ``Model``.

    Two ways to make one:

    * Functional: ``Model(inputs, outputs)`` with tensors from ``lamina.Input``.
    * Subclassing: define layers in ``__init__`` and the forward pass in ``call``.

    Example:
    >>> import lamina
    >>> class TwoLayer(lamina.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = lamina.layers.Dense(8, activation="relu")
    ...         self.out = lamina.layers.Dense(1)
    ...     def call(self, x):
    ...         return self.out(self.hidden(x))
    >>> model = TwoLayer()
    >>> lamina.ops.shape(model(lamina.ops.ones((2, 3))))
    (2, 1)
    >>> model.count_params()
    41
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (len(args) >= 2 or "inputs" in kwargs or "outputs" in kwargs):
            from lamina.models.functional import Functional

            return Functional.__new__(Functional, *args, **kwargs)
        if cls is not Model and _graph_arguments(args, kwargs):
            from lamina.models.functional import Functional

            if not issubclass(cls, Functional):
                # ``class MyModel(Model)`` (e.g. with its own train_step) built as ``MyModel(inputs, outputs)``: a
                # graph model that keeps the subclass's methods (Keras's customizing-fit guides do this)
                return super().__new__(_with_graph(cls))
        return super().__new__(cls, *args, **kwargs)  # Layer.__new__ records the arguments (see _init_args)

    def __init__(self, *args, **kwargs):
        if type(self) is Model and (args or "inputs" in kwargs):
            raise ValueError("Model(inputs, outputs) needs both `inputs` and `outputs`.")
        trainable = kwargs.pop("trainable", True)
        name = kwargs.pop("name", None)
        dtype = kwargs.pop("dtype", None)
        Layer.__init__(self, trainable=trainable, name=name, dtype=dtype, **kwargs)
        Trainer.__init__(self)

    @property
    def layers(self):
        """The model's direct sub-layers, in the order they were assigned."""
        return self._layers

    def reset_states(self):
        """Set the states of every stateful layer (e.g. ``LSTM(stateful=True)``) back to zeros."""
        for layer in self._flatten_layers()[1:]:
            if getattr(layer, "stateful", False) and callable(getattr(layer, "reset_states", None)):
                layer.reset_states()

    def get_layer(self, name=None, index=None):
        """Return a layer by ``name`` or by ``index`` (in ``model.layers``)."""
        if index is not None and name is not None:
            raise ValueError("get_layer: provide either `name` or `index`, not both.")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(
                    f"get_layer: index {index} is out of range; model '{self.name}' has "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: '{name}'. Model '{self.name}' has the layers "
                f"{[l.name for l in self.layers]}."
            )
        raise ValueError("get_layer: provide a layer `name` or `index`.")

    def build(self, input_shape):
        """Build a subclassed model by tracing ``call`` on symbolic inputs of ``input_shape``."""
        if self.built:
            return
        def to_kt(s):
            return KerasTensor(tuple(s), self.compute_dtype)
        if isinstance(input_shape, dict):
            x = {k: to_kt(v) for k, v in input_shape.items()}
        elif isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)):
            x = [to_kt(s) for s in input_shape]
        else:
            x = to_kt(input_shape)
        backend.compute_output_spec(self.call, x)
        self._build_shapes = input_shape
        self.built = True

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print a table of the layers, their output shapes and parameter counts, as Keras 3 does.

        Args:
            line_length: the table's width (default: 88 characters, 108 with a "Connected to" column, 12
                more with ``show_trainable``; at most the terminal's width less 4).
            positions: where each column ends, as fractions of ``line_length``.
            print_fn: called once with the whole summary (a string ending with a newline); by default it is
                printed.
            expand_nested: also list the layers of nested models, indented under them.
            show_trainable: add a "Trainable" column (Y/N, or - for a layer without weights).
            layer_range: two regular expressions: list the layers from the first whose name matches the
                first to the last whose name matches the second.
        """
        from lamina.models.summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable, layer_range=layer_range)

    @_init_args.default_config
    def get_config(self):
        """The constructor arguments of a subclassed model: by default those it was created with, when they are
        basic values (see ``lamina.layers._init_args``); override it when they are not (layers, arrays...)."""
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Create the model from a config: a Functional graph config, or a subclass's arguments."""
        if "layers" in config and "input_layers" in config:
            from lamina.models.graph_config import functional_from_config

            return functional_from_config(config, custom_objects)
        return cls(**config)

    def to_json(self, **kwargs):
        """Return the model's architecture (no weights) as a JSON string; see ``model_from_json``."""
        import json

        from lamina.saving.serialization import serialize_object

        return json.dumps(serialize_object(self), **kwargs)


    # ---- deployment (#13) ----------------------------------------------------

    def export(self, filepath, format="onnx", verbose=True, input_signature=None, **kwargs):
        """Write the model's inference function to ``filepath`` as a standalone program.

        ``format`` is ``"onnx"`` (runs in ONNX Runtime), ``"torch"`` (a ``torch.export``
        program) or ``"jax"`` (serialized StableHLO from ``jax.export``); the batch
        dimension stays dynamic. Any format works from either backend. See
        ``lamina.export.export_model``.
        """
        from lamina.export import export_model

        return export_model(self, filepath, format=format, verbose=verbose,
                            input_signature=input_signature, **kwargs)

    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        """Quantize the weights of the Dense, EinsumDense, Embedding (and Conv, int8) layers in place.

        ``mode="int8"``: int8 weights with per-channel scales (dynamic int8 activations for
        Dense/EinsumDense; weight-only for Conv and Embedding). ``mode="int4"``: packed 4-bit weights
        in groups of 128 rows (``config=Int4QuantizationConfig(block_size=...)``; None: per channel).
        ``config``: a ``lamina.quantizers.QuantizationConfig``; ``filters``: a regex, a list of
        regexes or a callable choosing the layers. See ``lamina.quantizers.quantize_model``.
        """
        from lamina.quantizers import quantize_model

        return quantize_model(self, mode, config=config, filters=filters, **kwargs)


_GRAPH_SUBCLASSES = {}


def _graph_arguments(args, kwargs):
    """Whether the constructor arguments are ``(inputs, outputs)`` of symbolic tensors."""
    from lamina.backend.common.keras_tensor import KerasTensor
    from lamina import tree

    if len(args) >= 2:
        inputs, outputs = args[0], args[1]
    elif "outputs" in kwargs:
        inputs, outputs = (args[0] if args else kwargs.get("inputs")), kwargs["outputs"]
    else:
        return False
    flat = tree.flatten(inputs) + tree.flatten(outputs)
    return bool(flat) and all(isinstance(t, KerasTensor) for t in flat)


def _with_graph(cls):
    """``cls`` with the Functional graph machinery under it (cached per class)."""
    from lamina.models.functional import Functional

    made = _GRAPH_SUBCLASSES.get(cls)
    if made is None:
        made = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__,
                                                      "__qualname__": cls.__qualname__})
        _GRAPH_SUBCLASSES[cls] = made
    return made
