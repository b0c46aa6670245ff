"""Max and average pooling layers, 1D/2D/3D."""

from lamina import backend
from lamina.backend.common import conv_utils as cu
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


class BasePooling(Layer):
    """Pooling over windows of ``pool_size`` (the base of Max/AveragePooling1D/2D/3D).

    Args:
        pool_size: int or tuple, the window size.
        strides: int or tuple, or None (default: ``pool_size``).
        padding: ``"valid"`` or ``"same"`` (average pooling does not count padded positions).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def __init__(self, rank, mode, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = f"Layer '{self.name}' ({type(self).__name__})"
        self.rank, self._mode = rank, mode
        self.pool_size = cu.normalize_tuple(pool_size, rank, "pool_size", who)
        self.strides = self.pool_size if strides is None else cu.normalize_tuple(strides, rank, "strides", who)
        self.padding = cu.standardize_padding(padding, who)
        self.data_format = cu.standardize_data_format(data_format, who)
        self.input_spec = InputSpec(ndim=rank + 2)

    def call(self, inputs):
        fn = backend.nn.max_pool if self._mode == "max" else backend.nn.average_pool  # engine tensors only
        return fn(inputs, self.pool_size, self.strides, self.padding, self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        spatial = [cu.conv_output_length(L, k, self.padding, s)
                   for L, k, s in zip(cu.spatial_shape(input_shape, self.data_format), self.pool_size, self.strides)]
        if self.data_format == "channels_last":
            return (input_shape[0], *spatial, input_shape[-1])
        return (input_shape[0], input_shape[1], *spatial)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format}


def _pool_class(name, rank, mode, default_pool, example):
    what = "Max" if mode == "max" else "Average"

    def __init__(self, pool_size=default_pool, strides=None, padding="valid", data_format=None, **kwargs):
        BasePooling.__init__(self, rank, mode, pool_size, strides, padding, data_format, **kwargs)

    doc = (f"{what} pooling for {rank}D inputs: the {what.lower()} over windows of ``pool_size`` moved by "
           f"``strides``.\n\n    Args:\n        pool_size: int or tuple of {rank} ints (default {default_pool}).\n"
           "        strides: int or tuple, or None (default: ``pool_size``).\n"
           "        padding: ``\"valid\"`` or ``\"same\"``"
           + (" (padded positions are not counted in the average)" if mode != "max" else "") + ".\n"
           "        data_format: ``\"channels_last\"`` (default) or ``\"channels_first\"``.\n\n"
           f"    Input shape:\n        ``(batch, spatial..., channels)`` or ``(batch, channels, spatial...)``, "
           f"{rank} spatial dims.\n\n    Output shape:\n        the same rank, spatial dims "
           "``(length - pool) // stride + 1`` (valid) or ``ceil(length / stride)`` (same).\n\n"
           f"    Example:\n    >>> import lamina\n{example}")
    return type(name, (BasePooling,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


MaxPooling1D = _pool_class("MaxPooling1D", 1, "max", 2,
                           "    >>> x = lamina.ops.convert_to_tensor([[[1.0], [3.0], [2.0], [5.0]]])\n"
                           "    >>> lamina.ops.convert_to_numpy(lamina.layers.MaxPooling1D()(x))[0, :, 0].tolist()\n"
                           "    [3.0, 5.0]\n")
MaxPooling2D = _pool_class("MaxPooling2D", 2, "max", (2, 2),
                           "    >>> lamina.ops.shape(lamina.layers.MaxPooling2D()(lamina.ops.ones((2, 28, 28, 8))))\n"
                           "    (2, 14, 14, 8)\n")
MaxPooling3D = _pool_class("MaxPooling3D", 3, "max", (2, 2, 2),
                           "    >>> lamina.ops.shape(lamina.layers.MaxPooling3D()(lamina.ops.ones((1, 4, 4, 4, 2))))\n"
                           "    (1, 2, 2, 2, 2)\n")
AveragePooling1D = _pool_class(
    "AveragePooling1D", 1, "average", 2,
    "    >>> x = lamina.ops.convert_to_tensor([[[1.0], [3.0], [2.0]]])\n"
    "    >>> layer = lamina.layers.AveragePooling1D(padding=\"same\")\n"
    "    >>> lamina.ops.convert_to_numpy(layer(x))[0, :, 0].tolist()\n"
    "    [2.0, 2.0]\n")
AveragePooling2D = _pool_class(
    "AveragePooling2D", 2, "average", (2, 2),
    "    >>> lamina.ops.shape(lamina.layers.AveragePooling2D(3, strides=2, padding=\"same\")(lamina.ops.ones((2, 7, 7, 3))))\n"
    "    (2, 4, 4, 3)\n")
AveragePooling3D = _pool_class(
    "AveragePooling3D", 3, "average", (2, 2, 2),
    "    >>> lamina.ops.shape(lamina.layers.AveragePooling3D()(lamina.ops.ones((1, 4, 4, 4, 2))))\n"
    "    (1, 2, 2, 2, 2)\n")
