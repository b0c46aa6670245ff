"""Cropping1D/2D/3D and ZeroPadding1D/2D/3D: remove or add rows/columns at the edges of the spatial axes."""

import numbers

from lamina import ops
from lamina.backend.common import conv_utils as cu
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


def _pairs(who, name, value, rank):
    """int -> ((v, v),)*rank; (a, b) for rank 1; tuple of ints (symmetric) or of pairs for rank > 1."""
    def nonneg(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0

    err = ValueError(f"{who}: `{name}` must be a non-negative int, a tuple of {rank} non-negative ints or a tuple "
                     f"of {rank} pairs of them, but received {name}={value!r}.")
    if nonneg(value):
        return ((int(value), int(value)),) * rank
    value = tuple(value) if isinstance(value, (list, tuple)) else None
    if value is None:
        raise err
    if rank == 1:
        if len(value) == 2 and all(nonneg(v) for v in value):
            return ((int(value[0]), int(value[1])),)
        raise err
    if len(value) != rank:
        raise err
    out = []
    for v in value:
        if nonneg(v):
            out.append((int(v), int(v)))
        elif isinstance(v, (list, tuple)) and len(v) == 2 and all(nonneg(p) for p in v):
            out.append((int(v[0]), int(v[1])))
        else:
            raise err
    return tuple(out)


class _Spatial(Layer):
    _arg = "cropping"

    def __init__(self, rank, amounts, data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = f"Layer '{self.name}' ({type(self).__name__})"
        self.rank = rank
        if rank == 1 and data_format is None:
            data_format = "channels_last"  # 1D layers act on axis 1 whatever the global image format
        self.data_format = cu.standardize_data_format(data_format, who)
        setattr(self, self._arg, _pairs(who, self._arg, amounts, rank))
        self.input_spec = InputSpec(ndim=rank + 2)

    def _first(self):
        return 1 if self.data_format == "channels_last" else 2

    def get_config(self):
        pairs = [list(p) for p in getattr(self, self._arg)]
        config = {**super().get_config(), self._arg: pairs[0] if self.rank == 1 else pairs,
                  "data_format": self.data_format}
        if self.rank == 1 and self._arg == "cropping" and self.data_format == "channels_last":
            del config["data_format"]  # Keras's Cropping1D takes no data_format (lamina's default is its layout)
        return config


class _Cropping(_Spatial):
    _arg = "cropping"

    def call(self, inputs):
        shape = tuple(inputs.shape)
        first = self._first()
        index = [slice(None)] * len(shape)
        for i, (a, b) in enumerate(self.cropping):
            index[first + i] = slice(a, shape[first + i] - b)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        first = self._first()
        for i, (a, b) in enumerate(self.cropping):
            d = out[first + i]
            if d is not None and d - a - b <= 0:
                raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): cropping {self.cropping} removes "
                                 f"everything from an input of shape {tuple(input_shape)}.")
            out[first + i] = None if d is None else d - a - b
        return tuple(out)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True


class _ZeroPadding(_Spatial):
    _arg = "padding"

    def call(self, inputs):
        pads = [(0, 0)] * len(inputs.shape)
        first = self._first()
        for i, p in enumerate(self.padding):
            pads[first + i] = p
        return ops.pad(inputs, pads)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        first = self._first()
        for i, (a, b) in enumerate(self.padding):
            out[first + i] = None if out[first + i] is None else out[first + i] + a + b
        return tuple(out)


def _make(name, base, rank, default, example):
    what = "Crop" if base is _Cropping else "Zero-pad"
    arg = base._arg

    def __init__(self, *args, **kwargs):
        for n, v in zip((arg, "data_format"), args):
            if n in kwargs:
                raise TypeError(f"{name}() got multiple values for argument '{n}'.")
            kwargs[n] = v
        if len(args) > 2:
            raise TypeError(f"{name}() takes at most 2 positional arguments ({arg}, data_format).")
        amounts = kwargs.pop(arg, default)
        data_format = kwargs.pop("data_format", None)
        base.__init__(self, rank, amounts, data_format, **kwargs)

    doc = (f"{what} the {rank} spatial dimension(s) of the input.\n\n    Args:\n        {arg}: int (the same "
           f"on every side), a tuple of {rank} ints (symmetric per axis) or of {rank} ``(before, after)`` pairs"
           + (" (for 1D: one ``(before, after)`` pair)" if rank == 1 else "") + f" (default {default}).\n"
           + "        data_format: ``\"channels_last\"`` (default) or ``\"channels_first\"``.\n"
           + f"\n    Example:\n    >>> import lamina\n{example}")
    return type(name, (base,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


Cropping1D = _make("Cropping1D", _Cropping, 1, (1, 1),
                   "    >>> lamina.ops.shape(lamina.layers.Cropping1D((1, 2))(lamina.ops.ones((2, 6, 3))))\n"
                   "    (2, 3, 3)\n")
Cropping2D = _make("Cropping2D", _Cropping, 2, ((0, 0), (0, 0)),
                   "    >>> lamina.ops.shape(lamina.layers.Cropping2D(((1, 1), (2, 0)))(lamina.ops.ones((2, 6, 6, 3))))\n"
                   "    (2, 4, 4, 3)\n")
Cropping3D = _make("Cropping3D", _Cropping, 3, ((1, 1), (1, 1), (1, 1)),
                   "    >>> lamina.ops.shape(lamina.layers.Cropping3D()(lamina.ops.ones((1, 4, 4, 4, 2))))\n"
                   "    (1, 2, 2, 2, 2)\n")
ZeroPadding1D = _make("ZeroPadding1D", _ZeroPadding, 1, 1,
                      "    >>> lamina.ops.shape(lamina.layers.ZeroPadding1D(2)(lamina.ops.ones((2, 6, 3))))\n"
                      "    (2, 10, 3)\n")
ZeroPadding2D = _make("ZeroPadding2D", _ZeroPadding, 2, (1, 1),
                      "    >>> lamina.ops.shape(lamina.layers.ZeroPadding2D()(lamina.ops.ones((2, 4, 4, 3))))\n"
                      "    (2, 6, 6, 3)\n")
ZeroPadding3D = _make("ZeroPadding3D", _ZeroPadding, 3, (1, 1, 1),
                      "    >>> lamina.ops.shape(lamina.layers.ZeroPadding3D(((1, 0), 0, 2))(lamina.ops.ones((1, 2, 2, 2, 1))))\n"
                      "    (1, 3, 2, 6, 1)\n")
