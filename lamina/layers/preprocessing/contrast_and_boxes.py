"""Deterministic detection-pipeline image layers (Keras 3): ``ContrastLimitedAdaptiveHistogramEqualization``
(CLAHE) and ``MaxNumBoundingBoxes``. Re-exported by ``policy_augmentation.py`` and ``lamina.layers``.
"""

import numpy as np

from lamina import ops
from lamina.backend.common.keras_tensor import KerasTensor
from lamina.config import standardize_data_format
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import _dict_inputs as dicts
from lamina.layers.preprocessing import _utils as u
from lamina.layers.preprocessing._augment_base import is_number, parse_value_range
from lamina.layers.preprocessing.image_preprocessing import ImageLayer


def _to_range(x, source, target):
    """Keras's value-range conversion (through ``[0, 1]``, in this order, so truncations agree with it)."""
    if tuple(source) == tuple(target):
        return x
    return (x - source[0]) / (source[1] - source[0]) * (target[1] - target[0]) + target[0]


def _tile_grid(size, tile, tiles):
    """For output rows (or columns) ``0..size-1``: the two neighbouring tile centers (indices into the tile grid
    padded by one tile at each end) and the weight of the second."""
    g = (np.arange(size, dtype="float64") - tile / 2.0) / tile + 1.0
    low = np.floor(g)
    weight = (g - low).astype("float32")
    return np.clip(low, 0, tiles + 1).astype("int32"), np.clip(low + 1, 0, tiles + 1).astype("int32"), weight


class ContrastLimitedAdaptiveHistogramEqualization(ImageLayer):
    """CLAHE: histogram equalization per tile of a ``tile_grid_size`` grid, with each tile's histogram clipped at
    ``clip_limit`` times the mean bin count (the excess spread evenly over the 256 bins), and the tiles' mappings
    blended bilinearly between tile centers. Deterministic, and active at inference too (as Keras).

    Values are taken on the ``[0, 255]`` scale and truncated to integer bins; images whose height or width is not a
    multiple of the grid are padded symmetrically for the histograms. A tile maps bin ``v`` to
    ``255 (cdf[v] - cdf[0]) / (area - cdf[0])`` (as Keras: offset by bin 0, not by the first occupied bin). The
    result has the input's dtype (integer results are truncated, as Keras).

    Args:
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        clip_limit: the contrast limit, a number >= 0 (default 4.0; 0 disables the clipping).
        tile_grid_size: ``(rows, columns)`` of tiles, positive ints (default ``(8, 8)``).
        data_format: "channels_last" or "channels_first" (default: the global setting).

    Example:
    >>> import numpy as np, lamina
    >>> x = np.tile(np.linspace(100.0, 110.0, 8), (1, 8, 1))[..., None]  # (1, 8, 8, 1), a faint ramp
    >>> layer = lamina.layers.ContrastLimitedAdaptiveHistogramEqualization(clip_limit=0.0, tile_grid_size=(1, 1))
    >>> y = lamina.ops.convert_to_numpy(layer(x))
    >>> float(y.min()), float(y.max())  # 100..110 stretched (its lowest eighth of the pixels maps to 255 / 8)
    (31.875, 255.0)
    """

    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8), data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = parse_value_range(self, value_range)
        if not (is_number(clip_limit) and clip_limit >= 0):
            raise ValueError(f"{u.who(self)}: clip_limit must be a number >= 0, but received "
                             f"clip_limit={clip_limit!r}.")
        self.clip_limit = float(clip_limit)
        if not (isinstance(tile_grid_size, (list, tuple)) and len(tile_grid_size) == 2 and all(
                isinstance(t, (int, np.integer)) and not isinstance(t, bool) and t > 0 for t in tile_grid_size)):
            raise ValueError(f"{u.who(self)}: tile_grid_size must be a pair of positive ints (rows, columns), but "
                             f"received tile_grid_size={tile_grid_size!r}.")
        self.tile_grid_size = (int(tile_grid_size[0]), int(tile_grid_size[1]))

    def call(self, inputs, training=True):
        if isinstance(inputs, dict):  # the images change, their annotations do not (Keras accepts only tensors)
            return self._call_dict(inputs, training)
        dtype = ops.dtype(inputs)
        out = self._apply(inputs, self._equalize)
        return out if ops.dtype(out) == dtype else ops.cast(out, dtype)

    def _equalize(self, images):
        batch, height, width, channels = images.shape
        (grid_h, grid_w), bins = self.tile_grid_size, 256
        tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
        fdt = ops.dtype(images)
        pixels = ops.clip(ops.cast(_to_range(images, self.value_range, (0, 255)), "int32"), 0, bins - 1)
        padded = pixels
        if (tile_h * grid_h, tile_w * grid_w) != (height, width):  # symmetric padding at the bottom and right
            rows = np.pad(np.arange(height), (0, tile_h * grid_h - height), mode="symmetric")
            cols = np.pad(np.arange(width), (0, tile_w * grid_w - width), mode="symmetric")
            padded = ops.take(ops.take(pixels, ops.convert_to_tensor(rows), axis=1), ops.convert_to_tensor(cols),
                              axis=2)
        tiles = ops.reshape(padded, (batch, grid_h, tile_h, grid_w, tile_w, channels))
        tiles = ops.reshape(ops.transpose(tiles, (0, 1, 3, 5, 2, 4)), (-1, tile_h * tile_w))
        count = batch * grid_h * grid_w * channels
        ids = ops.reshape(tiles + ops.arange(count, dtype="int32")[:, None] * bins, (-1,))
        hist = ops.segment_sum(ops.ones(ids.shape, dtype=fdt), ids, num_segments=count * bins)
        hist = ops.reshape(hist, (batch, grid_h, grid_w, channels, bins))
        area = float(tile_h * tile_w)
        if self.clip_limit > 0:
            clipped = ops.minimum(hist, self.clip_limit * area / bins)
            hist = clipped + ops.sum(hist - clipped, axis=-1, keepdims=True) / bins
        cdf = ops.cumsum(hist, axis=-1)
        low = cdf[..., :1]
        denominator = area - low
        table = ops.clip((cdf - low) * 255.0 / ops.where(ops.equal(denominator, 0), 1.0, denominator), 0, 255)
        table = ops.concatenate([table[:, :1], table, table[:, -1:]], axis=1)  # edge tiles repeated
        table = ops.reshape(ops.concatenate([table[:, :, :1], table, table[:, :, -1:]], axis=2), (-1,))
        y0, y1, wy = _tile_grid(height, tile_h, grid_h)
        x0, x1, wx = _tile_grid(width, tile_w, grid_w)
        stride_x = channels * bins
        stride_y = stride_x * (grid_w + 2)
        base = (ops.reshape(ops.arange(batch, dtype="int32"), (-1, 1, 1, 1)) * (stride_y * (grid_h + 2))
                + ops.reshape(ops.arange(channels, dtype="int32"), (1, 1, 1, -1)) * bins + pixels)

        def look(ys, xs):
            offset = ys[None, :, None, None] * stride_y + xs[None, None, :, None] * stride_x
            index = ops.reshape(base + ops.convert_to_tensor(offset.astype("int32")), (-1,))
            return ops.reshape(ops.take(table, index, axis=0), (batch, height, width, channels))

        wy = ops.convert_to_tensor(wy.astype(fdt)[None, :, None, None])
        wx = ops.convert_to_tensor(wx.astype(fdt)[None, None, :, None])
        top = look(y0, x0) * (1.0 - wx) + look(y0, x1) * wx
        bottom = look(y1, x0) * (1.0 - wx) + look(y1, x1) * wx
        return _to_range(top * (1.0 - wy) + bottom * wy, (0, 255), self.value_range)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "value_range": list(self.value_range), "clip_limit": self.clip_limit,
                "tile_grid_size": list(self.tile_grid_size)}


class MaxNumBoundingBoxes(Layer):
    """Pad or truncate the bounding boxes of a detection sample to exactly ``max_number`` per image.

    Takes Keras's dict ``{"images": ..., "bounding_boxes": {"boxes": (batch, n, 4), "labels": (batch, n)}, ...}``
    and returns it with ``boxes`` ``(batch, max_number, 4)`` and ``labels`` ``(batch, max_number)``: the first
    ``max_number`` boxes, then rows of ``fill_value``. Everything else (and a plain image tensor) passes through.

    Unbatched samples (``boxes`` ``(n, 4)``) work the same, and boxes may be given as (ragged) Python lists.

    Args:
        max_number: the number of boxes per image, a positive int.
        fill_value: the value of padding boxes and labels (default -1).
        bounding_box_format: the format of the boxes (any; only checked, as boxes are not moved). None by default.

    Example:
    >>> import numpy as np, lamina
    >>> sample = {"images": np.zeros((1, 4, 4, 3)),
    ...           "bounding_boxes": {"boxes": np.array([[[0.0, 0.0, 2.0, 2.0]]]), "labels": np.array([[7]])}}
    >>> out = lamina.layers.MaxNumBoundingBoxes(max_number=2)(sample)
    >>> lamina.ops.convert_to_numpy(out["bounding_boxes"]["labels"]).tolist()
    [[7, -1]]
    """

    def __init__(self, max_number, fill_value=-1, data_format=None, bounding_box_format=None, **kwargs):
        super().__init__(**kwargs)
        self.bounding_box_format = dicts.check_box_format(self, bounding_box_format)
        self.max_number = u.check_positive_int(self, "max_number", max_number)
        if not is_number(fill_value):
            raise ValueError(f"{u.who(self)}: fill_value must be a number, but received fill_value={fill_value!r}.")
        self.fill_value = int(fill_value)
        self.data_format = standardize_data_format(data_format)

    def _fit(self, x, name):
        x = ops.convert_to_tensor(x)
        if len(x.shape) < 1 + (name == "boxes"):
            raise ValueError(f"{u.who(self)}: expected bounding_boxes['{name}'] with a boxes axis, but received "
                             f"shape {tuple(x.shape)}.")
        if name == "boxes":
            if x.shape[-1] != 4:
                raise ValueError(f"{u.who(self)} expected bounding_boxes['boxes'] with a last dimension of 4 (one "
                                 f"box per row), but received shape {tuple(x.shape)}.")
            x = ops.cast(x, "float32")
        axis = len(x.shape) - 2 if name == "boxes" else len(x.shape) - 1
        x = x[(slice(None),) * axis + (slice(0, self.max_number),)]
        missing = self.max_number - x.shape[axis]
        if missing:
            pads = [[0, 0]] * len(x.shape)
            pads[axis] = [0, missing]
            x = ops.pad(x, pads, constant_values=self.fill_value)
        return x

    def call(self, inputs):
        if not isinstance(inputs, dict) or "bounding_boxes" not in inputs:
            return inputs
        boxes = dict(inputs["bounding_boxes"])
        extra = set(boxes) - {"boxes", "labels"}
        if extra:
            raise ValueError(f"{u.who(self)}: bounding_boxes may hold only 'boxes' and 'labels', but received the "
                             f"keys {sorted(extra)}.")
        if isinstance(boxes.get("boxes"), (list, tuple)):
            images = inputs.get("images")
            batched = len(ops.shape(images)) == 4 if images is not None else _nesting(boxes["boxes"]) >= 3
            labels = boxes.get("labels")
            arrays = dicts.from_lists(self, boxes["boxes"], labels if isinstance(labels, (list, tuple)) else None,
                                      batched)
            boxes["boxes"] = arrays[0]
            if arrays[1] is not None:
                boxes["labels"] = arrays[1]
        for key in ("boxes", "labels"):
            if key in boxes:
                boxes[key] = self._fit(boxes[key], key)
        return {**inputs, "bounding_boxes": boxes}

    def compute_output_spec(self, *args, **kwargs):
        inputs = args[0] if args else kwargs.get("inputs")
        if not isinstance(inputs, dict) or not isinstance(inputs.get("bounding_boxes"), dict):
            return super().compute_output_spec(*args, **kwargs)
        shapes = self.compute_output_shape(
            {**inputs, "bounding_boxes": {k: tuple(v.shape) for k, v in inputs["bounding_boxes"].items()}})
        boxes = {k: KerasTensor(shapes["bounding_boxes"][k], "float32" if k == "boxes" else v.dtype)
                 for k, v in inputs["bounding_boxes"].items()}
        return {**inputs, "bounding_boxes": boxes}  # the other entries pass through as they are

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, dict) or "bounding_boxes" not in input_shape:
            return input_shape
        boxes = dict(input_shape["bounding_boxes"])
        for key, axis in (("boxes", -2), ("labels", -1)):
            if key in boxes:
                shape = list(boxes[key])
                shape[axis] = self.max_number
                boxes[key] = tuple(shape)
        return {**input_shape, "bounding_boxes": boxes}

    def get_config(self):
        config = {**super().get_config(), "max_number": self.max_number, "fill_value": self.fill_value,
                  "data_format": self.data_format}
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config


def _nesting(values):
    """How many list levels ``values`` has (through the first element)."""
    depth = 0
    while isinstance(values, (list, tuple)) and len(values):
        depth, values = depth + 1, values[0]
    return depth + (isinstance(values, np.ndarray) and values.ndim)
