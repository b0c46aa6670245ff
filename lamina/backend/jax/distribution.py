"""Distribution on ``jax.sharding``: a ``Mesh`` of devices, ``NamedSharding`` for variables and batches.

Variables are placed as the current distribution's layouts say (replicated for
``DataParallel``, split for ``ModelParallel``'s ``LayoutMap``); each batch is split along
the mesh's batch axis. The jit-compiled steps then run partitioned by XLA, with the
updated variables held to their layouts. Metrics are computed inside the step over the
global batch, so nothing is summed afterwards.
"""

import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

_DEVICE_TYPES = {"gpu": ("gpu", "cuda", "rocm"), "cuda": ("gpu", "cuda"), "cpu": ("cpu",), "tpu": ("tpu",)}


def _name(device):
    return f"{device.platform}:{device.id}".replace("cuda:", "gpu:")


def list_devices(device_type=None):
    devices = jax.devices()
    if device_type is not None:
        try:
            devices = jax.devices(device_type)
        except RuntimeError:
            return []
    return [_name(d) for d in devices]


def _device(name):
    for d in jax.devices():
        if _name(d) == str(name).lower():
            return d
    raise ValueError(f"DeviceMesh: unknown device {name!r}; the devices are {list_devices()}.")


def initialize(job_addresses=None, num_processes=None, process_id=None):
    # CPU processes exchange data through Gloo (accelerators use their own interconnect).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if job_addresses is None and num_processes is None and process_id is None:
        jax.distributed.initialize(**_timeouts())
        return
    coordinator = None if job_addresses is None else job_addresses.split(",")[0]
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                               process_id=process_id, **_timeouts())


def _timeouts():
    """``LAMINA_DISTRIBUTED_TIMEOUT`` (seconds; as on PyTorch): how long a process waits for one that stopped
    answering (JAX's heartbeat timeout) before the job stops with an error."""
    value = os.environ.get("LAMINA_DISTRIBUTED_TIMEOUT")
    if not value:
        return {}
    seconds = max(1, int(float(value)))
    return {"heartbeat_timeout_seconds": seconds}


def process_index():
    return jax.process_index()


def process_count():
    return jax.process_count()


def agree_on_int(value):
    if jax.process_count() <= 1:
        return value
    from jax.experimental import multihost_utils

    return int(multihost_utils.broadcast_one_to_all(np.int64(int(value) % (2 ** 62))))


def sum_across_processes(values):
    return values  # the compiled step already reduced over the global batch


# ---- meshes and shardings ---------------------------------------------------------------------

_MESHES = {}


def _to_jax_mesh(device_mesh):
    key = id(device_mesh)
    mesh = _MESHES.get(key)
    if mesh is None or mesh[0] is not device_mesh:
        devices = np.vectorize(_device, otypes=[object])(device_mesh.devices)
        mesh = _MESHES[key] = (device_mesh, Mesh(devices, tuple(device_mesh.axis_names)))
    return mesh[1]


def _to_sharding(layout):
    return NamedSharding(_to_jax_mesh(layout.device_mesh), PartitionSpec(*layout.axes))


def distribute_tensor(tensor, layout):
    if layout is None:
        return tensor
    return jax.device_put(tensor, _to_sharding(layout))


class _Placement:
    """The shardings of one model's state and batches under a distribution."""

    def __init__(self, distribution):
        self.distribution = distribution
        self.mesh = _to_jax_mesh(distribution.device_mesh)
        self.batch_axis = distribution.batch_dim_name
        self.batch_devices = self.mesh.shape[self.batch_axis]
        self.multi_process = jax.process_count() > 1

    def variable_sharding(self, variable):
        layout = self.distribution.get_variable_layout(variable)
        sharding = _to_sharding(layout)
        for dim, axis in zip(variable.shape, layout.axes):
            if axis is not None and dim % self.mesh.shape[axis]:
                raise ValueError(f"{type(self.distribution).__name__}: '{variable.path}' of shape "
                                 f"{tuple(variable.shape)} cannot be split over mesh axis '{axis}' of "
                                 f"size {self.mesh.shape[axis]} (the dimension is not divisible).")
        return sharding

    def place_variables(self, variables):
        """Move each variable's value to its sharding; return the shardings."""
        shardings = []
        for v in variables:
            s = self.variable_sharding(v)
            value = v.value
            if self.multi_process:  # rank 0's value on every process (as DDP); each keeps its shards
                from jax.experimental import multihost_utils

                from lamina.backend.jax.core import convert_to_numpy

                value = np.asarray(multihost_utils.broadcast_one_to_all(convert_to_numpy(value)))
            v._direct_assign(jax.device_put(value, s))
            shardings.append(s)
        return shardings

    def replicate(self, struct):
        """Host arrays (the same in every process) as arrays replicated on the whole mesh."""
        from lamina import tree

        return tree.map_structure(
            lambda a: None if a is None else jax.device_put(np.asarray(a), self.replicated()), struct)

    def from_process_shards(self, struct):
        """Batches ``(steps, local_batch, ...)`` read by each process, as one global batch split over the
        mesh's batch axis (processes in rank order)."""
        from lamina import tree

        def one(a):
            if a is None:
                return None
            a = np.asarray(a)
            spec = [None] * a.ndim
            spec[1] = self.batch_axis
            global_shape = (a.shape[0], a.shape[1] * jax.process_count()) + a.shape[2:]
            return jax.make_array_from_process_local_data(NamedSharding(self.mesh, PartitionSpec(*spec)), a,
                                                          global_shape)

        return tree.map_structure(one, struct)

    def replicated(self):
        return NamedSharding(self.mesh, PartitionSpec())

    def batch_sharding(self, array, leading_steps=True):
        """Split along the batch dimension (after the leading steps axis) when it divides evenly."""
        dim = 1 if leading_steps else 0
        if array.ndim <= dim or array.shape[dim] % self.batch_devices:
            return self.replicated()
        spec = [None] * array.ndim
        spec[dim] = self.batch_axis
        return NamedSharding(self.mesh, PartitionSpec(*spec))


def _current_placement():
    from lamina import distribution as api

    current = api.distribution()
    return None if current is None else _Placement(current)


def synchronized_moments(x, axes):
    """None: under ``jax.jit`` a batch split over devices or processes is one global array, so the statistics of
    BatchNormalization are over the whole batch already (synchronized or not)."""
    return None
