"""Global max/average pooling (1D/2D/3D, ``keepdims``) and adaptive pooling to a fixed output size."""

from lamina import ops
from lamina.backend.common import conv_utils as cu
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


class BaseGlobalPooling(Layer):
    """Reduce every spatial dimension with the max or the mean (the base of Global*Pooling1D/2D/3D).

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial dimensions with length 1 (default False).
    """

    def __init__(self, rank, mode, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        who = f"Layer '{self.name}' ({type(self).__name__})"
        self.rank, self._mode = rank, mode
        self.data_format = cu.standardize_data_format(data_format, who)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=rank + 2)
        # As Keras: the 1-D average respects a mask of padded steps; the max does not take one (Keras's
        # GlobalMaxPooling1D drops the mask and pools every step)
        self.supports_masking = rank == 1 and mode != "max"

    def _axes(self):
        start = 1 if self.data_format == "channels_last" else 2
        return tuple(range(start, start + self.rank))

    def call(self, inputs, mask=None):
        axes = self._axes()
        if mask is not None and self.rank == 1 and self._mode != "max":
            m = ops.cast(mask, inputs.dtype)
            m = ops.expand_dims(m, -1 if self.data_format == "channels_last" else 1)
            total = ops.sum(inputs * m, axis=axes, keepdims=self.keepdims)
            return ops.divide_no_nan(total, ops.sum(m, axis=axes, keepdims=self.keepdims))
        fn = ops.max if self._mode == "max" else ops.mean
        return fn(inputs, axis=axes, keepdims=self.keepdims)

    def compute_mask(self, inputs, previous_mask=None):
        return None

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


def _global_class(name, rank, mode, example):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        BaseGlobalPooling.__init__(self, rank, mode, data_format, keepdims, **kwargs)

    what = "max" if mode == "max" else "average"
    doc = (f"Global {what} pooling over the {rank} spatial dimension(s)"
           + (" (a ``mask`` of padded steps is respected)" if rank == 1 and mode != "max" else "")
           + (" (as Keras, a mask of padded steps is not used: every step is pooled)" if rank == 1 and mode == "max"
              else "") + ".\n\n"
           "    Args:\n        data_format: ``\"channels_last\"`` (default) or ``\"channels_first\"``.\n"
           "        keepdims: keep the reduced dimensions with length 1 (default False).\n\n"
           "    Output shape:\n        ``(batch, channels)``, or with ``keepdims`` the input's rank with spatial "
           f"dims 1.\n\n    Example:\n    >>> import lamina\n{example}")
    return type(name, (BaseGlobalPooling,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


GlobalMaxPooling1D = _global_class(
    "GlobalMaxPooling1D", 1, "max",
    "    >>> x = lamina.ops.convert_to_tensor([[[1.0, 4.0], [3.0, 2.0]]])\n"
    "    >>> lamina.ops.convert_to_numpy(lamina.layers.GlobalMaxPooling1D()(x)).tolist()\n    [[3.0, 4.0]]\n")
GlobalMaxPooling2D = _global_class(
    "GlobalMaxPooling2D", 2, "max",
    "    >>> lamina.ops.shape(lamina.layers.GlobalMaxPooling2D(keepdims=True)(lamina.ops.ones((2, 5, 5, 3))))\n"
    "    (2, 1, 1, 3)\n")
GlobalMaxPooling3D = _global_class(
    "GlobalMaxPooling3D", 3, "max",
    "    >>> lamina.ops.shape(lamina.layers.GlobalMaxPooling3D()(lamina.ops.ones((2, 3, 3, 3, 4))))\n    (2, 4)\n")
GlobalAveragePooling1D = _global_class(
    "GlobalAveragePooling1D", 1, "average",
    "    >>> x = lamina.ops.convert_to_tensor([[[1.0], [3.0], [8.0]]])\n"
    "    >>> mask = lamina.ops.convert_to_tensor([[True, True, False]])\n"
    "    >>> lamina.ops.convert_to_numpy(lamina.layers.GlobalAveragePooling1D()(x, mask=mask)).tolist()\n"
    "    [[2.0]]\n")
GlobalAveragePooling2D = _global_class(
    "GlobalAveragePooling2D", 2, "average",
    "    >>> lamina.ops.shape(lamina.layers.GlobalAveragePooling2D()(lamina.ops.ones((2, 5, 5, 3))))\n    (2, 3)\n")
GlobalAveragePooling3D = _global_class(
    "GlobalAveragePooling3D", 3, "average",
    "    >>> lamina.ops.shape(lamina.layers.GlobalAveragePooling3D(data_format=\"channels_first\")"
    "(lamina.ops.ones((2, 4, 3, 3, 3))))\n    (2, 4)\n")


class BaseAdaptivePooling(Layer):
    """Pool to a fixed spatial ``output_size`` whatever the input size (PyTorch's windows).

    Args:
        output_size: int or tuple, the spatial size of the output.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def __init__(self, rank, mode, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = f"Layer '{self.name}' ({type(self).__name__})"
        self.rank, self._mode = rank, mode
        self.output_size = cu.normalize_tuple(output_size, rank, "output_size", who)
        self.data_format = cu.standardize_data_format(data_format, who)
        self.input_spec = InputSpec(ndim=rank + 2)

    def call(self, inputs):
        fn = ops.adaptive_max_pool if self._mode == "max" else ops.adaptive_average_pool
        return fn(inputs, self.output_size, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.data_format == "channels_last":
            return (input_shape[0], *self.output_size, input_shape[-1])
        return (input_shape[0], input_shape[1], *self.output_size)

    def get_config(self):
        return {**super().get_config(), "output_size": list(self.output_size), "data_format": self.data_format}


def _adaptive_class(name, rank, mode, example):
    def __init__(self, output_size, data_format=None, **kwargs):
        BaseAdaptivePooling.__init__(self, rank, mode, output_size, data_format, **kwargs)

    what = "max" if mode == "max" else "average"
    doc = (f"Adaptive {what} pooling to a fixed {rank}D ``output_size`` (window ``i`` spans "
           "``floor(i*L/out)`` to ``ceil((i+1)*L/out)``, as PyTorch).\n\n"
           "    Args:\n        output_size: int or tuple, the spatial output size.\n"
           "        data_format: ``\"channels_last\"`` (default) or ``\"channels_first\"``.\n\n"
           f"    Example:\n    >>> import lamina\n{example}")
    return type(name, (BaseAdaptivePooling,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


AdaptiveMaxPooling1D = _adaptive_class(
    "AdaptiveMaxPooling1D", 1, "max",
    "    >>> lamina.ops.shape(lamina.layers.AdaptiveMaxPooling1D(4)(lamina.ops.ones((2, 10, 3))))\n    (2, 4, 3)\n")
AdaptiveMaxPooling2D = _adaptive_class(
    "AdaptiveMaxPooling2D", 2, "max",
    "    >>> lamina.ops.shape(lamina.layers.AdaptiveMaxPooling2D((2, 3))(lamina.ops.ones((2, 7, 9, 3))))\n"
    "    (2, 2, 3, 3)\n")
AdaptiveMaxPooling3D = _adaptive_class(
    "AdaptiveMaxPooling3D", 3, "max",
    "    >>> lamina.ops.shape(lamina.layers.AdaptiveMaxPooling3D(2)(lamina.ops.ones((1, 5, 5, 5, 2))))\n"
    "    (1, 2, 2, 2, 2)\n")
AdaptiveAveragePooling1D = _adaptive_class(
    "AdaptiveAveragePooling1D", 1, "average",
    "    >>> x = lamina.ops.convert_to_tensor([[[1.0], [2.0], [3.0], [4.0]]])\n"
    "    >>> lamina.ops.convert_to_numpy(lamina.layers.AdaptiveAveragePooling1D(2)(x))[0, :, 0].tolist()\n"
    "    [1.5, 3.5]\n")
AdaptiveAveragePooling2D = _adaptive_class(
    "AdaptiveAveragePooling2D", 2, "average",
    "    >>> lamina.ops.shape(lamina.layers.AdaptiveAveragePooling2D(1)(lamina.ops.ones((2, 7, 7, 3))))\n"
    "    (2, 1, 1, 3)\n")
AdaptiveAveragePooling3D = _adaptive_class(
    "AdaptiveAveragePooling3D", 3, "average",
    "    >>> lamina.ops.shape(lamina.layers.AdaptiveAveragePooling3D(2)(lamina.ops.ones((1, 4, 4, 4, 2))))\n"
    "    (1, 2, 2, 2, 2)\n")
