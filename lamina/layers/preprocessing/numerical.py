"""Numerical preprocessing: ``Normalization`` and ``Discretization``."""

import numpy as np

from lamina import backend, ops
from lamina.config import epsilon as _epsilon
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import _utils as u


class Normalization(Layer):
    """Shift and scale inputs to mean 0 and variance 1 per feature: ``(x - mean) / sqrt(var)``.

    The statistics are either given (``mean``, ``variance``) or computed from data with
    ``adapt(data)``. Adapted statistics are non-trainable weights named ``mean`` and ``variance``,
    so they are saved and loaded with the model.

    Args:
        axis: the axis or axes that keep separate statistics (default ``-1``, one mean per feature
            of the last axis); ``None`` computes one scalar mean and variance.
        mean: the mean to use (broadcast over the kept axes); ``variance`` must be given with it.
        variance: the variance to use.
        invert: apply the inverse transformation, ``x * sqrt(var) + mean``.

    Call arguments:
        inputs: a float tensor or array.

    Input shape:
        Any shape whose kept axes are known.

    Output shape:
        The input shape.

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.Normalization(axis=None)
    >>> layer.adapt(np.array([1.0, 2.0, 3.0]))
    >>> lamina.ops.convert_to_numpy(layer(np.array([1.0, 2.0, 3.0]))).astype("float64").round(4).tolist()
    [-1.2247, 0.0, 1.2247]
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axis = (int(axis),)
        elif isinstance(axis, (list, tuple)) and all(isinstance(a, (int, np.integer)) for a in axis):
            axis = tuple(int(a) for a in axis)
        else:
            raise ValueError(f"{u.who(self)}: axis must be an int, a tuple of ints or None, but received "
                             f"axis={axis!r}.")
        self.axis = axis
        if (mean is None) != (variance is None):
            raise ValueError(f"{u.who(self)}: when setting the statistics directly, both mean and variance "
                             f"must be given, but received mean={mean!r} and variance={variance!r}.")
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self.supports_masking = True

    def build(self, input_shape):
        ndim = len(input_shape)
        for a in self.axis:
            if not -ndim <= a < ndim:
                raise ValueError(f"{u.who(self)}: axis {a} is out of range for inputs of rank {ndim} "
                                 f"(shape {tuple(input_shape)}).")
        keep = tuple(sorted(a % ndim for a in self.axis))
        for a in keep:
            if input_shape[a] is None:
                raise ValueError(f"{u.who(self)}: the kept axis {a} must have a known size, but received "
                                 f"input shape {tuple(input_shape)}.")
        self._keep_axis = keep
        self._reduce_axis = tuple(a for a in range(ndim) if a not in keep)
        self._broadcast_shape = tuple(input_shape[a] if a in keep else 1 for a in range(ndim))
        stat_shape = tuple(input_shape[a] for a in keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=stat_shape, initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=stat_shape, initializer="ones",
                                                  trainable=False)
            # Kept (never updated) as in Keras 3, whose weight files and parameter counts include it.
            self.count = self.add_weight(name="count", shape=(), dtype="int", initializer="zeros", trainable=False)
        else:
            self._const_mean = self._broadcast_const(self.input_mean, "mean")
            self._const_variance = self._broadcast_const(self.input_variance, "variance")
        self.built = True

    def _broadcast_const(self, value, arg):
        arr = np.asarray(u.to_numpy(value), dtype="float64")
        stat_shape = tuple(self._broadcast_shape[a] for a in self._keep_axis)
        if arr.shape == stat_shape:
            arr = arr.reshape(self._broadcast_shape)
        try:
            arr = np.broadcast_to(arr, self._broadcast_shape)
        except ValueError:
            raise ValueError(f"{u.who(self)}: {arg} of shape {arr.shape} does not match the kept axes "
                             f"{self._keep_axis} of the input (expected a scalar or shape {stat_shape}).") from None
        return arr.astype(self.compute_dtype)

    def _stat(self, which):
        if not self.built:
            return None
        if self.input_mean is None:
            value = ops.reshape(getattr(self, f"adapt_{which}"), self._broadcast_shape)
            return ops.cast(value, self.compute_dtype)
        return ops.convert_to_tensor(getattr(self, f"_const_{which}"))

    @property
    def mean(self):
        """The mean used, shaped to broadcast against the inputs (e.g. ``(1, features)``), as Keras's
        ``layer.mean``: the adapted values (current after ``adapt`` or loading), or the ``mean`` argument.
        None before the layer is built."""
        return self._stat("mean")

    @property
    def variance(self):
        """The variance used, shaped like ``mean`` (None before the layer is built)."""
        return self._stat("variance")

    def adapt(self, data, batch_size=None, steps=None):
        """Compute the mean and variance of ``data`` (an array, a tensor or an iterable of batches)."""
        count, mean, m2 = 0, None, None
        for batch in u.iterate_batches(self, data, steps):
            batch = np.asarray(batch, dtype="float64")
            if batch.ndim == 0:
                batch = batch.reshape(1)
            if not self.built:
                self.build((None,) + batch.shape[1:] if batch.ndim > 1 else batch.shape)
            if self.input_mean is not None:
                raise ValueError(f"{u.who(self)}: adapt() cannot be used when mean and variance were given "
                                 "to the constructor.")
            if batch.ndim != len(self._broadcast_shape):
                raise ValueError(f"{u.who(self)}: adapt() expected data of rank {len(self._broadcast_shape)}, "
                                 f"but received shape {batch.shape}.")
            n = int(np.prod([batch.shape[a] for a in self._reduce_axis], dtype=int))
            b_mean = batch.mean(axis=self._reduce_axis)
            b_m2 = ((batch - batch.mean(axis=self._reduce_axis, keepdims=True)) ** 2).sum(axis=self._reduce_axis)
            if mean is None:
                count, mean, m2 = n, b_mean, b_m2
            else:  # Chan et al.'s parallel update of mean and sum of squared deviations
                delta = b_mean - mean
                total = count + n
                mean = mean + delta * n / total
                m2 = m2 + b_m2 + delta ** 2 * count * n / total
                count = total
        if mean is None or count == 0:
            raise ValueError(f"{u.who(self)}: adapt() received no data.")
        self.adapt_mean.assign(np.asarray(mean, dtype=self.compute_dtype).reshape(self.adapt_mean.shape))
        self.adapt_variance.assign(np.asarray(m2 / count, dtype=self.compute_dtype)
                                   .reshape(self.adapt_variance.shape))

    def call(self, inputs):
        inputs = ops.cast(inputs, self.compute_dtype)
        if self.input_mean is None:
            mean = ops.reshape(self.adapt_mean, self._broadcast_shape)
            variance = ops.reshape(self.adapt_variance, self._broadcast_shape)
        else:
            mean = ops.convert_to_tensor(self._const_mean)
            variance = ops.convert_to_tensor(self._const_variance)
        std = ops.maximum(ops.sqrt(ops.cast(variance, self.compute_dtype)), _epsilon())
        if self.invert:
            return inputs * std + mean
        return (inputs - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": list(self.axis) if len(self.axis) != 1 else self.axis[0],
                "invert": self.invert, "mean": u.listify(self.input_mean),
                "variance": u.listify(self.input_variance)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("axis"), list) and not config["axis"]:
            config["axis"] = None
        return cls(**config)


class Discretization(Layer):
    """Bucket continuous values into integer bins by ``bin_boundaries``.

    Value ``x`` goes to bin ``i`` where ``bin_boundaries[i-1] <= x < bin_boundaries[i]`` (bin 0 below the
    first boundary, bin ``len(bin_boundaries)`` at or above the last). Boundaries are given, or computed by
    ``adapt(data)`` as the ``k / num_bins`` quantiles of the data (``k = 1 .. num_bins - 1``, by linear
    interpolation of the sorted values' cumulative fraction ``(i + 1) / n``).

    Args:
        bin_boundaries: a sorted list of boundaries.
        num_bins: the number of bins to compute with ``adapt`` (instead of ``bin_boundaries``).
        epsilon: accepted for Keras compatibility (lamina computes exact quantiles).
        output_mode: ``"int"`` (bin index), ``"one_hot"``, ``"multi_hot"`` or ``"count"``.
        sparse: must be False.

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    >>> lamina.ops.convert_to_numpy(layer(np.array([[-1.5, 1.0, 3.4, 0.5]]))).tolist()
    [[0, 2, 3, 1]]
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int", sparse=False,
                 dtype=None, name=None, **kwargs):
        if dtype is None:
            dtype = "int64" if output_mode == "int" else None
        kwargs.pop("autocast", None)
        super().__init__(dtype=dtype, name=name, autocast=False, **kwargs)
        u.check_choice(self, "output_mode", output_mode, ("int",) + u.ENCODING_MODES)
        u.check_not_sparse(self, sparse)
        if bin_boundaries is not None and num_bins is not None and len(bin_boundaries) != num_bins - 1:
            raise ValueError(f"{u.who(self)}: give either bin_boundaries or num_bins, not both (received "
                             f"bin_boundaries={bin_boundaries!r}, num_bins={num_bins!r}).")
        if bin_boundaries is None and num_bins is None:
            raise ValueError(f"{u.who(self)}: give bin_boundaries, or num_bins and then call adapt().")
        self.num_bins = u.check_positive_int(self, "num_bins", num_bins, allow_none=True)
        if bin_boundaries is not None:
            bounds = np.asarray(u.to_numpy(bin_boundaries), dtype="float64").reshape(-1)
            if np.any(np.diff(bounds) < 0):
                raise ValueError(f"{u.who(self)}: bin_boundaries must be sorted, but received {bounds.tolist()}.")
            bin_boundaries = bounds.tolist()
        self.bin_boundaries = bin_boundaries
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse

    def adapt(self, data, batch_size=None, steps=None):
        """Set ``bin_boundaries`` to the quantiles of ``data`` (needs ``num_bins``)."""
        if self.num_bins is None:
            raise ValueError(f"{u.who(self)}: adapt() needs num_bins; this layer was given bin_boundaries.")
        values = np.concatenate([np.asarray(b, dtype="float64").reshape(-1)
                                 for b in u.iterate_batches(self, data, steps)])
        if values.size == 0:
            raise ValueError(f"{u.who(self)}: adapt() received no data.")
        values = np.sort(values)
        cum = np.arange(1, values.size + 1) / values.size
        percents = np.arange(1, self.num_bins) / self.num_bins
        self.bin_boundaries = np.interp(percents, cum, values).tolist()

    def _depth(self):
        return len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(f"{u.who(self)}: the bin boundaries are not set; call adapt(data) before using "
                             "the layer, or pass bin_boundaries.")
        u.check_encoding_rank(self, inputs.shape, self.output_mode)
        if not backend.is_float_dtype(backend.dtype_name(inputs)):
            inputs = ops.cast(inputs, "float64" if backend.dtype_name(inputs) == "int64" else "float32")
        bounds = ops.convert_to_tensor(np.asarray(self.bin_boundaries), backend.dtype_name(inputs))
        indices = ops.cast(ops.searchsorted(bounds, ops.reshape(inputs, (-1,)), side="right"), "int64")
        indices = ops.reshape(indices, ops.shape(inputs))
        out_dtype = self.compute_dtype
        if self.output_mode != "int" and not backend.is_float_dtype(out_dtype):
            out_dtype = "float32"
        return u.encode_categorical(indices, self.output_mode, self._depth(), out_dtype)

    def compute_output_spec(self, inputs):
        u.check_encoding_rank(self, inputs.shape, self.output_mode)
        out_dtype = self.compute_dtype
        if self.output_mode != "int" and not backend.is_float_dtype(out_dtype):
            out_dtype = "float32"
        return backend.KerasTensor(u.encoded_shape(inputs.shape, self.output_mode, self._depth()), out_dtype)

    def compute_output_shape(self, input_shape):
        return u.encoded_shape(input_shape, self.output_mode, self._depth())

    def get_config(self):
        return {**super().get_config(), "bin_boundaries": u.listify(self.bin_boundaries),
                "num_bins": self.num_bins, "epsilon": self.epsilon, "output_mode": self.output_mode,
                "sparse": self.sparse}
