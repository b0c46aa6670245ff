"""Distributed training on the engines' own runtimes (Keras's ``keras.distribution`` API).

One program runs unchanged on one device or many:

- **PyTorch**: data parallel across processes through ``torch.distributed`` (Gloo on CPUs,
  NCCL on GPUs). Launch with ``torchrun --nproc-per-node N train.py``; ``fit`` sees the
  launcher's environment (``WORLD_SIZE``, ``RANK``, ...), joins the process group and
  trains data parallel without any change to the script. Each process computes the
  gradients of its share of every global batch (``batch_size`` is the global batch) and
  the gradients are all-reduced, so N processes take the same steps as one process with
  the same global batch. Only rank 0 prints and writes checkpoints. Under ``ModelParallel``
  the variables its ``LayoutMap`` splits are stored sharded across the processes (FSDP on
  torch's DTensor: gathered for each step, gradients reduce-scattered to the shards); see
  docs/distributed.md.
- **JAX**: ``jax.sharding`` across the devices of a ``DeviceMesh``: ``DataParallel`` shards
  every batch along the mesh's batch axis and replicates the variables; ``ModelParallel``
  also lays variables out as a ``LayoutMap`` says (path regexes to ``TensorLayout``);
  XLA partitions the compiled steps. Several hosts join with ``initialize()``
  (``jax.distributed.initialize``).

Example:
>>> from lamina import distribution
>>> mesh = distribution.DeviceMesh((1,), ["batch"], distribution.list_devices()[:1])
>>> layout_map = distribution.LayoutMap(mesh)
>>> layout_map["dense.*kernel"] = (None, "batch")
>>> layout_map["dense/kernel"].axes
(None, 'batch')
>>> layout_map["dense_1/bias"] is None
True
"""

import collections.abc
import contextlib
import importlib
import os
import re

import numpy as np

from lamina import backend

__all__ = ["list_devices", "DeviceMesh", "TensorLayout", "LayoutMap", "DataParallel", "ModelParallel",
           "set_distribution", "distribution", "initialize", "distribute_tensor", "process_index",
           "process_count", "is_chief"]

_CURRENT = None


_ENGINES = {}  # the engine's distribution module, by engine (looked up on every small predict)


def _engine():
    name = backend.engine.__name__
    module = _ENGINES.get(name)
    if module is None:
        module = _ENGINES[name] = importlib.import_module(name + ".distribution")
    return module


# ---- devices and processes -------------------------------------------------------------------


def list_devices(device_type=None):
    """The devices this program can place work on, as strings like ``"cpu:0"`` or ``"gpu:1"``.

    ``device_type`` (``"cpu"``, ``"gpu"``, ``"tpu"``) filters them; the default is the
    engine's default device type. On JAX this lists the devices of every process.
    """
    if device_type is not None and str(device_type).lower() not in ("cpu", "gpu", "cuda", "tpu"):
        raise ValueError(f"list_devices: device_type must be 'cpu', 'gpu' or 'tpu', but received "
                         f"{device_type!r}.")
    return _engine().list_devices(None if device_type is None else str(device_type).lower())


def get_device_count(device_type=None):
    """The number of devices of ``device_type`` (``"cpu"``, ``"gpu"``, ``"tpu"``; default: the engine's default
    device type) that ``list_devices`` lists.

    Example:
    >>> import lamina
    >>> lamina.distribution.get_device_count("cpu") >= 1
    True
    """
    return len(list_devices(device_type))


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Join a multi-process run.

    PyTorch: initialises the ``torch.distributed`` process group (Gloo on CPUs, NCCL on
    GPUs). With no arguments the launcher's environment is used (``torchrun`` sets
    ``MASTER_ADDR``, ``MASTER_PORT``, ``WORLD_SIZE``, ``RANK``); ``fit`` does this by
    itself when it finds that environment, so calling it is optional. ``job_addresses``
    (``"host:port"``, the first being the coordinator), ``num_processes`` and
    ``process_id`` override it. JAX: ``jax.distributed.initialize`` with the same meaning
    (or its own cluster auto-detection when no argument is given).
    """
    if num_processes is not None and (not isinstance(num_processes, int) or num_processes < 1):
        raise ValueError(f"initialize: num_processes must be a positive int, but received {num_processes!r}.")
    if process_id is not None and num_processes is not None and not 0 <= process_id < num_processes:
        raise ValueError(f"initialize: process_id must be in [0, {num_processes}), but received {process_id!r}.")
    if job_addresses is None and num_processes is None and process_id is None:
        # As Keras: the launcher may pass the three through the environment.
        env = {k: os.environ.get(f"LAMINA_DISTRIBUTION_{k}", os.environ.get(f"KERAS_DISTRIBUTION_{k}"))
               for k in ("JOB_ADDRESSES", "NUM_PROCESSES", "PROCESS_ID")}
        if all(v is not None for v in env.values()):
            job_addresses, num_processes, process_id = (env["JOB_ADDRESSES"], int(env["NUM_PROCESSES"]),
                                                        int(env["PROCESS_ID"]))
    if isinstance(job_addresses, (list, tuple)):
        job_addresses = ",".join(job_addresses)
    _engine().initialize(job_addresses, num_processes, process_id)


def process_index():
    """This process's rank in a multi-process run (0 when alone)."""
    return _engine().process_index()


def process_count():
    """How many processes take part in the run (1 when alone)."""
    return _engine().process_count()


def is_chief():
    """Whether this process is rank 0, the one that prints and writes files."""
    return process_index() == 0


# ---- meshes and layouts ----------------------------------------------------------------------


class DeviceMesh:
    """Devices arranged in a named n-dimensional grid.

    Args:
        shape: the grid's shape, e.g. ``(2, 4)``; its product is the number of devices.
        axis_names: one name per dimension, e.g. ``["batch", "model"]``.
        devices: the devices (strings from ``list_devices``); all of them by default.
    """

    def __init__(self, shape, axis_names, devices=None):
        shape = tuple(int(s) for s in shape)
        axis_names = [str(a) for a in axis_names]
        if len(shape) != len(axis_names):
            raise ValueError(f"DeviceMesh: shape {shape} and axis_names {axis_names} must have the same length.")
        if len(set(axis_names)) != len(axis_names):
            raise ValueError(f"DeviceMesh: axis_names must be distinct, but received {axis_names}.")
        if devices is None:
            devices = list_devices()
        devices = np.asarray(devices, dtype=object)
        if devices.size != int(np.prod(shape)):
            raise ValueError(f"DeviceMesh: shape {shape} needs {int(np.prod(shape))} devices, but received "
                             f"{devices.size}: {devices.ravel().tolist()}.")
        self._shape, self._axis_names = shape, axis_names
        self._devices = devices.reshape(shape)

    shape = property(lambda self: self._shape)
    axis_names = property(lambda self: self._axis_names)
    devices = property(lambda self: self._devices)

    def __repr__(self):
        return f"<DeviceMesh shape={self._shape}, axis_names={self._axis_names}>"


class TensorLayout:
    """How one tensor is split over a ``DeviceMesh``: one mesh axis name (or ``None`` for
    "not split") per tensor dimension."""

    def __init__(self, axes, device_mesh=None):
        self._axes = tuple(None if a is None else str(a) for a in axes)
        self._device_mesh = None
        if device_mesh is not None:
            self.device_mesh = device_mesh

    axes = property(lambda self: self._axes)

    @property
    def device_mesh(self):
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, mesh):
        if self._device_mesh is not None:
            raise ValueError("TensorLayout: the device mesh is already set.")
        unknown = [a for a in self._axes if a is not None and a not in mesh.axis_names]
        if unknown:
            raise ValueError(f"TensorLayout: axes {unknown} are not axes of the mesh {mesh.axis_names}.")
        self._device_mesh = mesh

    def __repr__(self):
        return f"<TensorLayout axes={self._axes}>"


class LayoutMap(collections.abc.MutableMapping):
    """Variable paths (regular expressions) to ``TensorLayout``s.

    A lookup by a variable's ``path`` returns the layout of the exact key, else of the one
    regex that ``re.search``-matches it, else ``None`` (replicated). Values may be given as
    tuples of axis names.
    """

    def __init__(self, device_mesh):
        self._device_mesh = device_mesh
        self._layouts = {}

    device_mesh = property(lambda self: self._device_mesh)

    def __getitem__(self, key):
        if key in self._layouts:
            return self._layouts[key]
        matches = [k for k in self._layouts if re.search(k, key)]
        if len(matches) > 1:
            raise ValueError(f"LayoutMap: the path '{key}' matches several keys {matches}; make them exclusive.")
        return self._layouts[matches[0]] if matches else None

    def __setitem__(self, key, layout):
        if key in self._layouts:
            raise ValueError(f"LayoutMap: '{key}' already has a layout ({self._layouts[key]}).")
        if isinstance(layout, (tuple, list)):
            layout = TensorLayout(layout)
        if not isinstance(layout, TensorLayout):
            raise ValueError(f"LayoutMap: the value for '{key}' must be a TensorLayout or a tuple of axis names, "
                             f"but received {layout!r}.")
        if layout.device_mesh is None:
            layout.device_mesh = self._device_mesh
        self._layouts[key] = layout

    def __delitem__(self, key):
        del self._layouts[key]

    def __len__(self):
        return len(self._layouts)

    def __iter__(self):
        return iter(self._layouts)


# ---- distributions ---------------------------------------------------------------------------


class Distribution:
    """Base class: where variables and data go. Use ``DataParallel`` or ``ModelParallel``."""

    def __init__(self, device_mesh, batch_dim_name, auto_shard_dataset=True):
        if batch_dim_name not in device_mesh.axis_names:
            raise ValueError(f"{type(self).__name__}: batch_dim_name '{batch_dim_name}' is not an axis of the "
                             f"mesh {device_mesh.axis_names}.")
        self._device_mesh = device_mesh
        self._batch_dim_name = batch_dim_name
        self.auto_shard_dataset = auto_shard_dataset

    device_mesh = property(lambda self: self._device_mesh)
    batch_dim_name = property(lambda self: self._batch_dim_name)

    def get_data_layout(self, data_shape):
        """The layout of an input batch: split along its first dimension over the batch axis."""
        return TensorLayout([self._batch_dim_name] + [None] * (len(data_shape) - 1), self._device_mesh)

    def get_variable_layout(self, variable):
        """The layout of a variable (replicated unless a subclass says otherwise)."""
        return TensorLayout([None] * len(variable.shape), self._device_mesh)

    def get_tensor_layout(self, path):
        """The layout of an intermediate tensor named ``path`` (``None``: the compiler decides)."""
        return None

    @contextlib.contextmanager
    def scope(self):
        """Make this the current distribution inside a ``with`` block."""
        global _CURRENT
        previous, _CURRENT = _CURRENT, self
        try:
            yield self
        finally:
            _CURRENT = previous

    def __repr__(self):
        return f"<{type(self).__name__} mesh={self._device_mesh}>"


class DataParallel(Distribution):
    """Replicate the variables on every device and split every batch over them.

    Args:
        device_mesh: a one-dimensional ``DeviceMesh`` (its axis is the batch axis).
        devices: the devices to use when no mesh is given (all by default).
        auto_shard_dataset: kept for Keras compatibility; arrays are always split per batch.
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if device_mesh is None:
            devices = list_devices() if devices is None else list(devices)
            device_mesh = DeviceMesh((len(devices),), ["batch"], devices)
        elif len(device_mesh.shape) != 1:
            raise ValueError(f"DataParallel: the device mesh must be one-dimensional, but its shape is "
                             f"{device_mesh.shape}; use ModelParallel for several axes.")
        super().__init__(device_mesh, device_mesh.axis_names[0], auto_shard_dataset)


class ModelParallel(Distribution):
    """Lay variables out as ``layout_map`` says; split batches over ``batch_dim_name``.

    Args:
        layout_map: a ``LayoutMap`` from variable paths to layouts (its mesh is used).
        batch_dim_name: the mesh axis batches are split over (default: the mesh's first axis).
    """

    def __init__(self, *, layout_map=None, batch_dim_name=None, auto_shard_dataset=True, **kwargs):
        if kwargs.get("device_mesh") is not None and layout_map is None:
            layout_map = LayoutMap(kwargs.pop("device_mesh"))
        if not isinstance(layout_map, LayoutMap):
            raise ValueError(f"ModelParallel: layout_map must be a LayoutMap, but received {layout_map!r}.")
        mesh = layout_map.device_mesh
        super().__init__(mesh, batch_dim_name or mesh.axis_names[0], auto_shard_dataset)
        self._layout_map = layout_map

    layout_map = property(lambda self: self._layout_map)

    def get_variable_layout(self, variable):
        reference = getattr(variable, "_reference", None)  # an optimizer slot follows its variable
        layout = self._layout_map[str((reference or variable).path)]
        if layout is None:
            return super().get_variable_layout(variable)
        if len(layout.axes) != len(variable.shape):
            raise ValueError(f"ModelParallel: the layout {layout.axes} for '{variable.path}' has "
                             f"{len(layout.axes)} axes, but the variable has shape {tuple(variable.shape)}.")
        return layout

    def get_tensor_layout(self, path):
        return self._layout_map[path]


def set_distribution(value):
    """Make ``value`` (a ``DataParallel``/``ModelParallel``, or ``None``) the global distribution."""
    global _CURRENT
    if value is not None and not isinstance(value, Distribution):
        raise ValueError(f"set_distribution: expected a DataParallel, a ModelParallel or None, but received "
                         f"{value!r}.")
    _CURRENT = value


def distribution():
    """The current distribution (set by ``set_distribution`` or a ``scope``), or ``None``."""
    return _CURRENT


def distribute_tensor(tensor, layout):
    """Place ``tensor`` on the devices as ``layout`` says (JAX); unchanged on PyTorch."""
    return _engine().distribute_tensor(tensor, layout)
