"""UpSampling1D/2D/3D: repeat (nearest) or interpolate (bilinear, 2D) the spatial axes by integer factors."""

import numpy as np

from lamina import ops
from lamina.backend.common import conv_utils as cu
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


def _bilinear_matrix(length, factor):
    """``(length * factor, length)`` interpolation weights with half-pixel centers (as Keras's resize)."""
    out = length * factor
    src = np.clip((np.arange(out) + 0.5) / factor - 0.5, 0, length - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, length - 1)
    frac = src - lo
    m = np.zeros((out, length), "float32")
    m[np.arange(out), lo] += 1 - frac
    m[np.arange(out), hi] += frac
    return m


class _UpSampling(Layer):
    def __init__(self, rank, size, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        who = f"Layer '{self.name}' ({type(self).__name__})"
        self.rank = rank
        self.size = cu.normalize_tuple(size, rank, "size", who)
        if rank == 1 and data_format is None:
            data_format = "channels_last"
        self.data_format = cu.standardize_data_format(data_format, who)
        allowed = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5") if rank == 2 else ("nearest",)
        if interpolation not in allowed:
            raise ValueError(f"{who}: interpolation must be one of {list(allowed)}, but received "
                             f"interpolation={interpolation!r}.")
        self.interpolation = interpolation
        self.input_spec = InputSpec(ndim=rank + 2)

    def _first(self):
        return 1 if self.data_format == "channels_last" else 2

    def call(self, inputs):
        x = inputs
        first = self._first()
        if self.interpolation not in ("nearest", "bilinear"):  # as Keras: ops.image.resize to the new size
            size = [x.shape[first + i] * f for i, f in enumerate(self.size)]
            return ops.image.resize(x, size, interpolation=self.interpolation, data_format=self.data_format)
        for i, f in enumerate(self.size):
            if f == 1:
                continue
            axis = first + i
            if self.interpolation == "nearest":
                x = ops.repeat(x, f, axis=axis)
            else:
                m = ops.convert_to_tensor(_bilinear_matrix(x.shape[axis], f), ops.dtype(x))
                x = ops.moveaxis(ops.tensordot(m, ops.moveaxis(x, axis, 0), axes=1), 0, axis)
        return x

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        first = self._first()
        for i, f in enumerate(self.size):
            out[first + i] = None if out[first + i] is None else out[first + i] * f
        return tuple(out)

    def get_config(self):
        config = {**super().get_config(), "size": list(self.size) if self.rank > 1 else self.size[0]}
        if self.rank > 1:
            config["data_format"] = self.data_format
        if self.rank == 2:
            config["interpolation"] = self.interpolation
        return config


class UpSampling1D(_UpSampling):
    """Repeat each step of ``(batch, steps, features)`` ``size`` times.

    Args:
        size: positive int (default 2).

    Example:
    >>> import lamina
    >>> x = lamina.ops.convert_to_tensor([[[1.0], [2.0]]])
    >>> lamina.ops.convert_to_numpy(lamina.layers.UpSampling1D(2)(x))[0, :, 0].tolist()
    [1.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(1, size, **kwargs)


class UpSampling2D(_UpSampling):
    """Upsample rows and columns of images by integer factors ``size``.

    Args:
        size: int or tuple of 2 ints (default ``(2, 2)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (repeat), ``"bilinear"`` (half-pixel centers, as Keras), or
            ``"bicubic"``, ``"lanczos3"``, ``"lanczos5"`` (``ops.image.resize`` to the new size, as Keras).

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.UpSampling2D((2, 3))(lamina.ops.ones((1, 4, 4, 3))))
    (1, 8, 12, 3)
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(2, size, data_format, interpolation, **kwargs)


class UpSampling3D(_UpSampling):
    """Repeat the three spatial dimensions of volumes by integer factors ``size``.

    Args:
        size: int or tuple of 3 ints (default ``(2, 2, 2)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.layers.UpSampling3D()(lamina.ops.ones((1, 2, 2, 2, 3))))
    (1, 4, 4, 4, 3)
    """

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(3, size, data_format, **kwargs)
