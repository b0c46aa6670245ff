"""``TorchModuleWrapper``: a ``torch.nn.Module`` used as a lamina layer (PyTorch backend)."""

import importlib

from lamina import backend
from lamina.backend.common import scopes
from lamina.layers.layer import Layer


def _engine():
    return importlib.import_module("lamina.backend.torch._torch_module")


class TorchModuleWrapper(Layer):
    """Use a ``torch.nn.Module`` as a layer: its parameters become the layer's variables (trained by ``fit``,
    saved by ``save_weights``), its buffers (BatchNorm statistics) non-trainable variables, and calling the layer
    runs the module's ``forward``. PyTorch backend only.

    The module is moved to lamina's device. Its parameters are rebound to tensors the variables own, so the
    module and the layer always hold the same values. A module with lazy parameters (``torch.nn.LazyLinear``)
    gets its shapes on the layer's first build. ``training=False`` calls put the module in ``eval()`` mode;
    other calls in ``train()`` mode.

    A model holding one saves its weights like any other; its config cannot be rebuilt from a file, since
    lamina never unpickles a module: rebuild the model in code and ``load_weights``.

    Args:
        module: the ``torch.nn.Module``.
        name: the layer's name.
        output_shape: the output shape without the batch axis, when tracing the module for it is not wanted.

    Example (PyTorch backend):
    ``layer = lamina.layers.TorchModuleWrapper(torch.nn.Linear(4, 2))``
    """

    def __init__(self, module, name=None, output_shape=None, **kwargs):
        super().__init__(name=name, **kwargs)
        who = f"TorchModuleWrapper '{self.name}'"
        if backend.backend() != "torch":
            raise ValueError(f"{who} wraps a torch.nn.Module: it needs the PyTorch backend (LAMINA_BACKEND=torch), "
                             f"but lamina runs on {backend.backend()}. On JAX, wrap a function with "
                             "lamina.layers.JaxLayer instead.")
        engine = _engine()
        if not engine.is_module(module):
            raise ValueError(f"{who} expected a torch.nn.Module, but received {type(module).__name__}.")
        self.module = engine.prepare(module)
        self.output_shape_ = None if output_shape is None else tuple(output_shape)
        if not engine.has_uninitialized_parameters(self.module):
            self._adopt()

    def _adopt(self):
        """Create one variable per parameter and buffer, and rebind the module to the variables' tensors."""
        engine = _engine()
        for name, tensor, is_parameter, trainable, dtype in engine.tensors(self.module):
            value = tensor.detach()
            variable = self.add_weight(shape=tuple(value.shape), dtype=dtype, trainable=trainable,
                                       initializer=lambda shape, dtype=None, v=value: v,
                                       name=name.replace(".", "_"))
            engine.rebind(self.module, name, variable._storage(), is_parameter)
        self.built = True

    def build(self, input_shape=None):
        if self.weights or self.built:
            return
        if _engine().has_uninitialized_parameters(self.module):
            if input_shape is None:
                raise ValueError(f"TorchModuleWrapper '{self.name}': the module has lazy parameters; call the "
                                 "layer on an input (or build it with an input shape) first.")
            _engine().materialize(self.module, input_shape)
        self._adopt()

    def call(self, *args, training=None, **kwargs):
        # While lamina traces shapes (on stand-in tensors) the module runs in eval mode: no BatchNorm update.
        tracing = isinstance(scopes.current_scope(), scopes.SymbolicScope)
        _engine().set_mode(self.module, training is not False and not tracing)
        return self.module(*args, **kwargs)

    def compute_output_shape(self, input_shape):
        if self.output_shape_ is not None:
            return (input_shape[0],) + self.output_shape_ if input_shape else self.output_shape_
        # Traced in eval mode: tracing runs the module on small stand-in tensors, which must not move its
        # BatchNorm statistics or draw dropout masks.
        was_training = self.module.training
        _engine().set_mode(self.module, False)
        try:
            return super().compute_output_shape(input_shape)
        finally:
            _engine().set_mode(self.module, was_training)

    def get_config(self):
        config = super().get_config()
        config["output_shape"] = self.output_shape_
        return config

    @classmethod
    def from_config(cls, config):
        raise ValueError(f"TorchModuleWrapper '{config.get('name')}' cannot be rebuilt from a config: its "
                         "torch.nn.Module is code, and lamina never unpickles code from a file. Build the model in "
                         "code (with the same module) and load the saved weights with model.load_weights(...).")
