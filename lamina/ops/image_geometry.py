"""Geometric resampling ops of ``lamina.ops.image``: ``map_coordinates``, ``affine_transform``,
``perspective_transform`` and ``scale_and_translate``. Sampling follows ``scipy.ndimage.map_coordinates``
(order 0 or 1; pixel ``i`` sits at coordinate ``i``), with fill modes "constant" (each out-of-range tap reads
``fill_value``), "nearest", "wrap", "mirror" and "reflect".
"""

import numbers

import numpy as np

from lamina import backend
from lamina import ops as _ops
from lamina.ops.image import to_batch_last
from lamina.ops.operation import op

__all__ = ["map_coordinates", "affine_transform", "perspective_transform", "scale_and_translate"]

FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
INTERPOLATIONS = {"nearest": 0, "bilinear": 1}


def _taps(coord, order):
    """``[(integer index, weight or None), ...]`` of one axis's interpolation."""
    if order == 0:  # round half away from zero
        return [(_ops.cast(_ops.sign(coord) * _ops.floor(_ops.abs(coord) + 0.5), "int64"), None)]
    low = _ops.floor(coord)
    frac = coord - low
    low = _ops.cast(low, "int64")
    return [(low, 1.0 - frac), (low + 1, frac)]


def _fix(index, size, mode):
    """``index`` mapped into ``[0, size)`` by ``mode``, and whether it was inside already."""
    inside = _ops.logical_and(_ops.greater_equal(index, 0), _ops.less(index, size))
    if mode == "reflect":  # half-sample symmetric: (d c b a | a b c d | d c b a)
        m = _ops.mod(index, 2 * size)
        index = _ops.where(_ops.less(m, size), m, 2 * size - 1 - m)
    elif mode == "mirror":  # whole-sample symmetric: (d c b | a b c d | c b a)
        if size == 1:
            index = _ops.zeros_like(index)
        else:
            m = _ops.mod(index, 2 * (size - 1))
            index = _ops.where(_ops.less_equal(m, size - 1), m, 2 * (size - 1) - m)
    elif mode == "wrap":
        index = _ops.mod(index, size)
    else:  # nearest; constant is clipped too (to keep the gather in range) and masked afterwards
        index = _ops.clip(index, 0, size - 1)
    return index, inside


def _interpolate(flat, sizes, coords, base, order, mode, fill_value, dtype):
    """Sum over the interpolation taps of ``take(flat, base + sum(index_d * stride_d))`` (rows of ``flat``),
    each weighted by the product of its axes' weights. ``coords`` holds one float tensor per axis."""
    strides = [int(np.prod(sizes[d + 1:])) for d in range(len(sizes))]
    out = None
    per_axis = [_taps(c, order) for c in coords]
    for combo in np.ndindex(*[len(t) for t in per_axis]):
        index, weight, valid = base, None, None
        for d, k in enumerate(combo):
            i, w = per_axis[d][k]
            i, ok = _fix(i, sizes[d], mode)
            index = index + i * strides[d]
            valid = ok if valid is None else _ops.logical_and(valid, ok)
            weight = w if weight is None else (weight if w is None else weight * w)
        values = _ops.take(flat, _ops.reshape(index, (-1,)), axis=0)
        values = _ops.reshape(values, tuple(index.shape) + tuple(flat.shape[1:]))
        extra = len(flat.shape) - 1
        if mode == "constant":
            mask = _ops.reshape(valid, tuple(valid.shape) + (1,) * extra)
            values = _ops.where(mask, values, _ops.cast(fill_value, dtype))
        if weight is not None:
            values = values * _ops.reshape(weight, tuple(weight.shape) + (1,) * extra)
        out = values if out is None else out + values
    return out


def _check_mode(name, fill_mode, order=None):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"{name}: expected `fill_mode` in {FILL_MODES}, but received {fill_mode!r}.")


def _finish(out, dtype):
    if "float" in dtype:
        return _ops.cast(out, dtype)
    return _ops.cast(_ops.sign(out) * _ops.floor(_ops.abs(out) + 0.5), dtype)


def _compute_dtype(dtype):
    return dtype if "float" in dtype else "float32"


@op
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """Sample the n-D ``inputs`` at ``coordinates`` ``(n, *output_shape)`` by interpolation of ``order`` 0
    (nearest) or 1 (linear), as ``scipy.ndimage.map_coordinates``; result of shape ``output_shape``.

    Example:
    >>> from lamina import ops
    >>> x = ops.convert_to_tensor([[0.0, 1.0], [2.0, 3.0]])
    >>> ops.convert_to_numpy(ops.image.map_coordinates(x, [[0.5], [0.5]], order=1)).tolist()
    [1.5]
    """
    name = "map_coordinates"
    x = backend.convert_to_tensor(inputs)
    coords = backend.convert_to_tensor(coordinates)
    if order not in (0, 1) or isinstance(order, bool):
        raise ValueError(f"{name}: expected `order` 0 or 1, but received {order!r}.")
    _check_mode(name, fill_mode)
    if len(coords.shape) < 2 or coords.shape[0] != len(x.shape):
        raise ValueError(f"{name}: expected `coordinates` of shape ({len(x.shape)}, ...) (one row per input "
                         f"axis, at least 2-D) for inputs of shape {tuple(x.shape)}, but received shape "
                         f"{tuple(coords.shape)}.")
    dtype = _ops.dtype(x)
    cdt = _compute_dtype(dtype)
    coords = _ops.cast(coords, cdt)
    flat = _ops.cast(_ops.reshape(x, (-1,)), cdt)
    axes = [coords[d] for d in range(len(x.shape))]
    base = _ops.zeros(tuple(coords.shape[1:]), dtype="int64")
    out = _interpolate(flat, tuple(x.shape), axes, base, order, fill_mode, fill_value, cdt)
    return _finish(out, dtype)


def sample_images(x, y_in, x_in, order, fill_mode, fill_value):
    """Sample the channels-last batch ``x`` at per-image coordinates ``y_in``, ``x_in`` ``(batch, H', W')``."""
    batch, height, width, channels = x.shape
    dtype = _ops.dtype(x)
    cdt = _compute_dtype(dtype)
    flat = _ops.reshape(_ops.cast(x, cdt), (-1, channels))
    base = _ops.reshape(_ops.arange(batch, dtype="int64") * (height * width), (-1, 1, 1))
    out = _interpolate(flat, (height, width), [_ops.cast(y_in, cdt), _ops.cast(x_in, cdt)], base, order,
                       fill_mode, fill_value, cdt)
    return _finish(out, dtype)


def _grid(height, width, dtype):
    ys, xs = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    return _ops.convert_to_tensor(xs.astype(dtype))[None], _ops.convert_to_tensor(ys.astype(dtype))[None]


def _interpolation(name, interpolation):
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{name}: expected `interpolation` in {tuple(INTERPOLATIONS)}, but received "
                         f"{interpolation!r}.")
    return INTERPOLATIONS[interpolation]


def _projective(t, xs, ys):
    def c(i):
        return _ops.reshape(t[:, i], (-1, 1, 1))

    k = c(6) * xs + c(7) * ys + 1.0
    return (c(0) * xs + c(1) * ys + c(2)) / k, (c(3) * xs + c(4) * ys + c(5)) / k


@op
def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0,
                     data_format=None):
    """Resample images by projective transforms ``[a0, a1, a2, b0, b1, b2, c0, c1]`` (one, ``(8,)``, or one per
    image, ``(batch, 8)``): the output pixel ``(x, y)`` reads the input at
    ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`` with ``k = c0 x + c1 y + 1``.

    Example:
    >>> from lamina import ops
    >>> x = ops.reshape(ops.arange(9, dtype="float32"), (1, 3, 3, 1))
    >>> shift = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0]  # read one column to the right
    >>> y = ops.image.affine_transform(x, shift, data_format="channels_last")
    >>> ops.convert_to_numpy(y)[0, :, :, 0].tolist()
    [[1.0, 2.0, 0.0], [4.0, 5.0, 0.0], [7.0, 8.0, 0.0]]
    """
    name = "affine_transform"
    order = _interpolation(name, interpolation)
    _check_mode(name, fill_mode)
    x, restore = to_batch_last(name, images, data_format)
    t = backend.convert_to_tensor(transform)
    if len(t.shape) not in (1, 2) or t.shape[-1] != 8:
        raise ValueError(f"{name}: expected `transform` of shape (8,) or (batch, 8), but received shape "
                         f"{tuple(t.shape)}.")
    if len(t.shape) == 2 and t.shape[0] not in (1, x.shape[0]) and None not in (t.shape[0], x.shape[0]):
        raise ValueError(f"{name}: expected one transform per image ({x.shape[0]}), but received "
                         f"{t.shape[0]}.")
    cdt = _compute_dtype(_ops.dtype(x))
    t = _ops.cast(t if len(t.shape) == 2 else t[None], cdt)
    xs, ys = _grid(x.shape[1], x.shape[2], cdt)
    x_in, y_in = _projective(t, xs, ys)
    shape = (x.shape[0], x.shape[1], x.shape[2])
    y_in, x_in = _ops.broadcast_to(y_in, shape), _ops.broadcast_to(x_in, shape)
    return restore(sample_images(x, y_in, x_in, order, fill_mode, fill_value))


def _homography(start, end):
    """The 8 transform numbers that map each ``end`` point to its ``start`` point, ``(batch, 8)``."""
    sx, sy, ex, ey = start[..., 0], start[..., 1], end[..., 0], end[..., 1]
    zeros, ones = _ops.zeros_like(ex), _ops.ones_like(ex)
    rows_x = _ops.stack([ex, ey, ones, zeros, zeros, zeros, -sx * ex, -sx * ey], axis=-1)
    rows_y = _ops.stack([zeros, zeros, zeros, ex, ey, ones, -sy * ex, -sy * ey], axis=-1)
    a = _ops.concatenate([rows_x, rows_y], axis=1)
    b = _ops.concatenate([sx, sy], axis=-1)
    return _ops.squeeze(_ops.solve(a, _ops.expand_dims(b, -1)), -1)


@op
def perspective_transform(images, start_points, end_points, interpolation="bilinear", fill_value=0,
                          data_format=None):
    """Warp images so that the four ``start_points`` ``(4, 2)`` (or ``(batch, 4, 2)``, ``(x, y)`` pixel
    coordinates) move to ``end_points``; pixels from outside the image read ``fill_value``.

    Example:
    >>> from lamina import ops
    >>> x = ops.ones((1, 4, 4, 1))
    >>> corners = [[0.0, 0.0], [3.0, 0.0], [0.0, 3.0], [3.0, 3.0]]
    >>> y = ops.image.perspective_transform(x, corners, corners, data_format="channels_last")
    >>> float(ops.convert_to_numpy(y).sum())
    16.0
    """
    name = "perspective_transform"
    order = _interpolation(name, interpolation)
    x, restore = to_batch_last(name, images, data_format)
    start, end = backend.convert_to_tensor(start_points), backend.convert_to_tensor(end_points)
    for arg, p in (("start_points", start), ("end_points", end)):
        if len(p.shape) not in (2, 3) or tuple(p.shape[-2:]) != (4, 2):
            raise ValueError(f"{name}: expected `{arg}` of shape (4, 2) or (batch, 4, 2), but received shape "
                             f"{tuple(p.shape)}.")
    if tuple(start.shape) != tuple(end.shape):
        raise ValueError(f"{name}: expected `start_points` and `end_points` of the same shape, but received "
                         f"{tuple(start.shape)} and {tuple(end.shape)}.")
    cdt = _compute_dtype(_ops.dtype(x))
    start, end = _ops.cast(start, "float32"), _ops.cast(end, "float32")
    if len(start.shape) == 2:
        start, end = start[None], end[None]
    t = _ops.cast(_homography(start, end), cdt)
    xs, ys = _grid(x.shape[1], x.shape[2], cdt)
    x_in, y_in = _projective(t, xs, ys)
    shape = (x.shape[0], x.shape[1], x.shape[2])
    y_in, x_in = _ops.broadcast_to(y_in, shape), _ops.broadcast_to(x_in, shape)
    return restore(sample_images(x, y_in, x_in, order, "constant", fill_value))


def _triangle(d):
    return _ops.maximum(0.0, 1.0 - d)


def _keys_cubic(d):
    near = ((1.5 * d - 2.5) * d) * d + 1.0
    far = ((-0.5 * d + 2.5) * d - 4.0) * d + 2.0
    return _ops.where(_ops.less(d, 1.0), near, _ops.where(_ops.less(d, 2.0), far, 0.0))


def _lanczos(radius):
    def kernel(d):
        safe = _ops.where(_ops.greater(d, 1e-3), d, 1.0)
        value = radius * _ops.sin(np.pi * safe) * _ops.sin(np.pi * safe / radius) / (np.pi ** 2 * safe * safe)
        return _ops.where(_ops.greater(d, radius), 0.0, _ops.where(_ops.greater(d, 1e-3), value, 1.0))
    return kernel


SCALE_AND_TRANSLATE_METHODS = {"linear": _triangle, "bilinear": _triangle, "trilinear": _triangle,
                               "cubic": _keys_cubic, "bicubic": _keys_cubic, "tricubic": _keys_cubic,
                               "lanczos3": _lanczos(3.0), "lanczos5": _lanczos(5.0)}


def _weights(in_size, out_size, scale, translation, kernel, antialias, dtype):
    """``(in_size, out_size)`` resampling weights of one axis (as ``jax.image.scale_and_translate``)."""
    inv = 1.0 / scale
    stretch = _ops.maximum(inv, 1.0) if antialias else 1.0
    centers = (_ops.convert_to_tensor(np.arange(out_size, dtype=dtype)) + 0.5 - translation) * inv - 0.5
    grid = _ops.convert_to_tensor(np.arange(in_size, dtype=dtype))
    w = kernel(_ops.abs(centers[None, :] - grid[:, None]) / stretch)
    total = _ops.sum(w, axis=0, keepdims=True)
    eps = float(np.finfo(dtype).eps)
    w = _ops.where(_ops.greater(_ops.abs(total), 1000.0 * eps),
                   w / _ops.where(_ops.equal(total, 0.0), 1.0, total), 0.0)
    inside = _ops.logical_and(_ops.greater_equal(centers, -0.5), _ops.less_equal(centers, in_size - 0.5))
    return _ops.where(inside[None, :], w, 0.0)


@op
def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method, antialias=True):
    """Resample ``images`` along ``spatial_dims`` to ``output_shape`` by the map ``out = in * scale +
    translation`` (per spatial dim; pixel centers at half-integers), with the kernel ``method`` ("linear",
    "cubic", "lanczos3", "lanczos5" and their bi-/tri- aliases), widened when downsampling if ``antialias``
    (as ``jax.image.scale_and_translate``).

    Example:
    >>> from lamina import ops
    >>> x = ops.ones((4, 4))
    >>> y = ops.image.scale_and_translate(x, (8, 8), [2.0, 2.0], [0.0, 0.0], (0, 1), "linear")
    >>> ops.shape(y), float(ops.convert_to_numpy(y)[3, 3])
    ((8, 8), 1.0)
    """
    name = "scale_and_translate"
    if method not in SCALE_AND_TRANSLATE_METHODS:
        raise ValueError(f"{name}: expected `method` in {tuple(SCALE_AND_TRANSLATE_METHODS)}, but received "
                         f"{method!r}.")
    x = backend.convert_to_tensor(images)
    rank = len(x.shape)
    dims = tuple(spatial_dims) if isinstance(spatial_dims, (tuple, list)) else (spatial_dims,)
    if any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or not -rank <= d < rank for d in dims):
        raise ValueError(f"{name}: expected `spatial_dims` to be axes of the rank-{rank} images, but received "
                         f"{spatial_dims!r}.")
    dims = tuple(int(d) % rank for d in dims)
    output_shape = tuple(output_shape)
    if len(output_shape) != rank or any(output_shape[i] != x.shape[i] for i in range(rank) if i not in dims):
        raise ValueError(f"{name}: expected `output_shape` of length {rank} that differs from the images' shape "
                         f"{tuple(x.shape)} only along spatial_dims {dims}, but received {output_shape}.")
    dtype = _compute_dtype(_ops.dtype(x))
    scale = _ops.cast(backend.convert_to_tensor(scale), dtype)
    translation = _ops.cast(backend.convert_to_tensor(translation), dtype)
    if tuple(scale.shape) != (len(dims),) or tuple(translation.shape) != (len(dims),):
        raise ValueError(f"{name}: expected `scale` and `translation` with one value per spatial dim "
                         f"({len(dims)}), but received shapes {tuple(scale.shape)} and {tuple(translation.shape)}.")
    kernel = SCALE_AND_TRANSLATE_METHODS[method]
    out = _ops.cast(x, dtype)
    for i, d in enumerate(dims):
        w = _weights(x.shape[d], output_shape[d], scale[i], translation[i], kernel, antialias, dtype)
        out = _ops.moveaxis(_ops.tensordot(out, w, axes=[[d], [0]]), -1, d)
    return _finish(out, _ops.dtype(x))
