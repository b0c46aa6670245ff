"""``Input`` and ``InputLayer``: where a Functional model's data enters."""

from lamina import backend
from lamina.backend.common.keras_tensor import KerasTensor
from lamina.layers.layer import Layer
from lamina.ops.node import Node


class InputLayer(Layer):
    """The layer behind ``lamina.Input``: it holds one symbolic input tensor.

    Args:
        shape: the shape of one sample (no batch dimension).
        batch_size: an optional fixed batch size.
        dtype: the input dtype (default ``floatx()``); ``"string"`` for raw text fed to a string layer.
        input_tensor: an existing KerasTensor to use.
        name: the name of the input.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.InputLayer(shape=(3,))
    >>> layer.output.shape
    (None, 3)
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, optional=False, name=None, **kwargs):
        if "input_shape" in kwargs and shape is None:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs and batch_shape is None:
            batch_shape = kwargs.pop("batch_input_shape")
        is_string = isinstance(dtype, str) and dtype in ("string", "str")
        super().__init__(name=name, dtype=None if is_string else dtype, **kwargs)
        if input_tensor is not None:
            if not isinstance(input_tensor, KerasTensor):
                raise ValueError(
                    f"InputLayer '{self.name}': input_tensor must be a KerasTensor (from lamina.Input), "
                    f"but received {type(input_tensor).__name__}."
                )
            batch_shape = input_tensor.shape
            dtype = input_tensor.dtype
        elif batch_shape is None:
            if shape is None:
                raise ValueError(
                    f"InputLayer '{self.name}' needs `shape` (the shape of one sample, e.g. shape=(784,)), "
                    "but shape=None."
                )
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        batch_shape = tuple(batch_shape)
        for d in batch_shape:
            if d is not None and (not isinstance(d, int) or d < 0):
                raise ValueError(
                    f"InputLayer '{self.name}': every dimension of the shape must be a non-negative int "
                    f"or None, but received shape {batch_shape}."
                )
        self.batch_shape = batch_shape
        # "string" inputs hold host data (NumPy arrays of str/bytes), fed to string layers such as
        # TextVectorization, which the model runs on the host (see layers/preprocessing/_string_inputs).
        is_string = isinstance(dtype, str) and dtype in ("string", "str")
        self._dtype = "string" if is_string else backend.standardize_dtype(dtype)
        self.sparse = bool(sparse)
        self.optional = optional
        self.built = True
        if input_tensor is None:
            input_tensor = KerasTensor(batch_shape, dtype=self._dtype, sparse=self.sparse, name=self.name)
        Node(self, call_args=(), call_kwargs={}, outputs=input_tensor)

    def call(self):
        return None

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "sparse": self.sparse,
                "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False):
    """Create a symbolic input for a Functional model.

    Args:
        shape: the shape of one sample, e.g. ``(784,)`` (the batch dimension is added).
        batch_size: an optional fixed batch size.
        dtype: the dtype of the data (default ``floatx()``). ``"string"`` makes a string input: it must feed
            string layers (``TextVectorization``, ``StringLookup``) directly, which the model runs on the host.
        batch_shape: the full shape including the batch dimension (instead of ``shape``).
        name: a name for the input (used for dict inputs).

    Returns:
        A ``KerasTensor``.

    Example:
    >>> import lamina
    >>> x = lamina.Input(shape=(28, 28), name="image")
    >>> x.shape, x.dtype
    ((None, 28, 28), 'float32')
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name, input_tensor=tensor, optional=optional)
    return layer.output
