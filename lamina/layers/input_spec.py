"""InputSpec: what a layer accepts (rank, dtype, fixed axis sizes), checked on every call."""

from lamina.backend.common.dtypes import standardize_dtype


class InputSpec:
    """Describes the inputs a layer accepts; the layer checks each call against it.

    Args:
        dtype: required dtype, or None.
        shape: required full shape (None entries are free), or None.
        ndim / max_ndim / min_ndim: required rank bounds.
        axes: dict ``{axis: size}`` of fixed sizes.
        allow_last_axis_squeeze: accept a rank one lower when the last axis is 1.
        name: the input's name, used in messages.

    Example:
    >>> from lamina.layers import InputSpec
    >>> InputSpec(min_ndim=2, axes={-1: 3}).axes
    {-1: 3}
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = standardize_dtype(dtype) if dtype is not None else None
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.optional = optional

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in (("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim),
                                         ("max_ndim", self.max_ndim), ("min_ndim", self.min_ndim),
                                         ("axes", self.axes or None)) if v is not None]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim,
                "min_ndim": self.min_ndim, "axes": self.axes}


class _Who:
    """``Input i of layer 'name'``, formatted only when an error message needs it (checks run at every call)."""

    __slots__ = ("layer", "index")

    def __init__(self, layer, index):
        self.layer, self.index = layer, index

    def __str__(self):
        return f"Input {self.index} of layer '{self.layer.name}'"

    def __format__(self, spec):
        return format(str(self), spec)


def check_input(layer, spec, x, index=0):
    """Raise a ValueError naming ``layer`` if ``x`` (a tensor or KerasTensor) does not fit ``spec``."""
    if spec is None or x is None:
        return
    shape = tuple(x.shape)
    rank = len(shape)
    who = _Who(layer, index)
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and rank != spec.ndim:
        raise ValueError(
            f"{who} is incompatible with the layer: expected ndim={spec.ndim}, "
            f"but received input with ndim={rank} and shape {shape}."
        )
    if spec.max_ndim is not None and rank > spec.max_ndim:
        raise ValueError(
            f"{who} is incompatible with the layer: expected max_ndim={spec.max_ndim}, "
            f"but received input with ndim={rank} and shape {shape}."
        )
    if spec.min_ndim is not None and rank < spec.min_ndim:
        raise ValueError(
            f"{who} is incompatible with the layer: expected min_ndim={spec.min_ndim}, "
            f"but received input with ndim={rank} and shape {shape}."
        )
    for axis, size in spec.axes.items():
        if size is None:
            continue
        if axis >= rank or axis < -rank:
            raise ValueError(
                f"{who} is incompatible with the layer: expected axis {axis} of input shape to exist, "
                f"but received input with shape {shape}."
            )
        got = shape[axis]
        if got is not None and got != size:
            extra = ""
            if axis == -1 and rank >= 2:
                extra = (f" Hint: the layer was built for inputs whose last dimension is {size}; "
                         f"check the input data or the previous layer's output size.")
            raise ValueError(
                f"{who} is incompatible with the layer: expected axis {axis} of input shape "
                f"to have value {size}, but received input with shape {shape}.{extra}"
            )
    if spec.shape is not None:
        for i, (want, got) in enumerate(zip(spec.shape, shape)):
            if want is not None and got is not None and want != got:
                raise ValueError(
                    f"{who} is incompatible with the layer: expected shape={spec.shape}, "
                    f"but received input with shape {shape}."
                )
