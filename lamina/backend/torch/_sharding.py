"""Sharded variables (FSDP) for ``ModelParallel`` on PyTorch, on ``torch.distributed.tensor`` (DTensor).

Each trainable variable whose ``LayoutMap`` entry splits a dimension over a mesh axis stores a DTensor
(``Shard(d)`` on that mesh dimension, ``Replicate()`` on the others): every process keeps only its part of
it, and of its optimizer slots, which follow their variable's placement. A step works as torch's own
``fully_shard`` (FSDP2) does:

- before the forward pass every sharded variable is all-gathered (``DTensor.redistribute`` to
  ``Replicate``) and the model computes on the full, plain tensors, each process on its share of the global
  batch (so every op and fused kernel of the backend runs unchanged);
- the gathered tensor leaves DTensor with ``to_local(grad_placements=[Partial()])``: in the backward pass
  DTensor reduce-scatters each process's gradient back to the shards (all-reduces it for replicated
  variables), so every process holds the gradient of the whole global batch for its shard;
- the optimizer updates the shards in place (foreach / fused kernels on DTensors).

Reading a sharded variable's value as an array (``get_weights``, ``save``, ``numpy()``) gathers it, which
every process must do at the same point, as with every collective.
"""

import contextlib

import numpy as np
import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor, init_device_mesh
from torch.distributed.tensor.experimental import implicit_replication

from lamina.backend.common import scopes
from lamina.backend.common.variables import _FLOATS
from lamina.backend.torch import core as _core


def is_sharded(t):
    return isinstance(t, DTensor)


_READ_GROUP = []  # a process group of its own for reading whole values (see full_value)


def full_value(t):
    """The whole value of a DTensor: its shards gathered from every process (a collective that every process
    must call at the same point).

    The gather runs on a process group of its own, never the training steps' one: a read made by one process
    alone (e.g. a callback that runs on rank 0 only) then cannot pair with the other processes' training
    collectives and silently mix values; it fails with a message saying why."""
    if not any(isinstance(pl, Shard) for pl in t.placements):
        return t.to_local().detach().clone()  # replicated: every process has it all
    local = t.to_local().detach().cpu().contiguous()  # the read group is Gloo's; values go to the host anyway
    mesh = t.device_mesh
    ranks = mesh.mesh
    parts = [torch.empty_like(local) for _ in range(dist.get_world_size())]
    group = _READ_GROUP[0] if _READ_GROUP else None
    try:
        dist.all_gather(parts, local, group=group)
    except (RuntimeError, dist.DistBackendError) as e:
        path = getattr(t, "_lamina_path", "a sharded variable")
        raise RuntimeError(
            f"lamina.distribution: process {dist.get_rank()} could not gather the whole value of '{path}' "
            "(ModelParallel on PyTorch): every process must read a sharded variable at the same point (call "
            "get_weights/save/numpy() in every process). Callbacks that run on rank 0 only (ModelCheckpoint, "
            "BackupAndRestore) do not support sharded variables on PyTorch yet. Engine message: "
            f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from e
    full = torch.empty(t.shape, dtype=local.dtype, device=local.device)
    for rank, part in enumerate(parts):
        coords = (ranks == rank).nonzero()
        if not len(coords):
            continue
        index = [slice(None)] * full.dim()
        for i, placement in enumerate(t.placements):
            if isinstance(placement, Shard):
                d = placement.dim
                size = t.shape[d] // ranks.shape[i]
                index[d] = slice(int(coords[0][i]) * size, (int(coords[0][i]) + 1) * size)
        full[tuple(index)] = part
    return full


_RAW = [0]  # > 0 inside optimizer_scope: sharded variables read as their DTensors


class ShardedVariable(_core.Variable):
    """The class a placed variable takes on: outside the step functions (a direct ``model(x)``, a custom
    loop, a constraint), reading its value gathers it (every process must read it at the same point); inside
    an optimizer update it reads as its DTensor, so the update runs on each process's shard."""

    @property
    def value(self):
        if _RAW[0]:
            return self._param
        scope = scopes.current_scope() if scopes.ACTIVE[0] else None
        value = None if scope is None else scope.get(self)
        if value is None:
            value = full_value(self._param).to(self._param.device)
        cast_to = scopes.autocast_dtype()
        if cast_to is not None and cast_to != self._dtype and self.autocast and self._dtype in _FLOATS:
            return self._cast(value, cast_to)
        return value

    def _direct_assign(self, value):
        assign(self._param, value)

    def numpy(self):
        return _core.convert_to_numpy(self._param)


class _GatheredScope(scopes.StatelessScope):
    """Sharded variables read as their gathered full values; writes to other variables (metrics,
    BatchNormalization statistics) go to their storage as usual."""

    def __init__(self, values):
        super().__init__()
        self._values = values

    def assign(self, variable, value):
        if id(variable) in self._values:
            raise ValueError(f"Variable '{variable.path}' is sharded (ModelParallel on PyTorch) and cannot be "
                             "assigned inside a training or evaluation step.")
        variable._direct_assign(value)


class Sharding:
    """The placements of one model's variables over a torch ``DeviceMesh`` built from the distribution's."""

    def __init__(self, distribution, world):
        mesh = distribution.device_mesh
        if int(np.prod(mesh.shape)) != world:
            raise ValueError(
                f"ModelParallel: on PyTorch each position of the device mesh is one process, but the mesh "
                f"{mesh.axis_names} has shape {mesh.shape} ({int(np.prod(mesh.shape))} positions) and "
                f"{world} processes run. Build the mesh with `DeviceMesh(shape, axis_names, "
                f"distribution.list_devices())` and launch as many processes (torchrun --nproc-per-node).")
        self.distribution = distribution
        self.axis_names = list(mesh.axis_names)
        self.axis_sizes = dict(zip(mesh.axis_names, mesh.shape))
        device = "cuda" if _core._ON_CUDA else "cpu"  # where the variables live
        self.mesh = init_device_mesh(device, tuple(mesh.shape), mesh_dim_names=tuple(mesh.axis_names))
        if not _READ_GROUP:  # every process builds it here, at the same point (new_group is collective)
            from lamina.backend.torch import distribution as _dist

            _READ_GROUP.append(dist.new_group(backend="gloo", timeout=_dist._timeout()))
        self.replicate = [Replicate()] * len(self.axis_names)
        self.partial = [Partial()] * len(self.axis_names)

    def placements(self, variable):
        """The DTensor placements of ``variable`` (``Replicate`` on every mesh axis its layout does not split
        it over: such variables are DTensors too, so that optimizer updates see DTensors only)."""
        layout = self.distribution.get_variable_layout(variable)
        placements = list(self.replicate)
        for d, (size, axis) in enumerate(zip(variable.shape, layout.axes)):
            if axis is None:
                continue
            i = self.axis_names.index(axis)
            if isinstance(placements[i], Shard):
                raise ValueError(f"ModelParallel: the layout {layout.axes} of '{variable.path}' splits several "
                                 f"dimensions over the mesh axis '{axis}'; split each dimension over its own axis.")
            if size % self.axis_sizes[axis]:
                raise ValueError(f"ModelParallel: the layout {layout.axes} of '{variable.path}' splits its "
                                 f"dimension {d} (of size {size}, shape {tuple(variable.shape)}) over the mesh "
                                 f"axis '{axis}' of size {self.axis_sizes[axis]}, which does not divide it. "
                                 "Change the layout, the mesh or the layer's size.")
            placements[i] = Shard(d)
        return placements

    def place(self, variables):
        """Store each variable the layout map splits as a DTensor of its shards (rank 0's values)."""
        for v in variables:
            p = v._storage()
            if is_sharded(p):
                continue
            placements = self.placements(v)
            if not p.is_floating_point():
                if any(isinstance(pl, Shard) for pl in placements):
                    raise ValueError(f"ModelParallel: '{v.path}' has dtype {v.dtype}; on PyTorch only float "
                                     "variables can be sharded.")
                continue  # stays a plain tensor, kept equal on every process
            with torch.no_grad():
                # distribute_tensor scatters rank 0's value, so every process starts from the same weights.
                shards = distribute_tensor(p.detach(), self.mesh, placements)
            v._param = torch.nn.Parameter(shards, requires_grad=p.requires_grad)
            v._param._lamina_path = v.path
            v.__class__ = ShardedVariable

    @contextlib.contextmanager
    def gathered(self, variables, grad):
        """Inside the block the sharded ``variables`` read as their full values (gathered now, in the order
        given, the same on every process); with ``grad`` their gradients flow back to the shards."""
        from lamina.backend.torch import distribution as _dist

        values = {}
        for v in variables:
            p = v._storage()
            if not is_sharded(p):
                continue
            full = _dist._collective(f"all-gather the sharded variable '{v.path}'", p.redistribute, self.mesh,
                                     self.replicate)
            values[id(v)] = full.to_local(grad_placements=self.partial) if grad else full.to_local().detach()
        if not values:
            yield
            return
        with _GatheredScope(values):
            yield


@contextlib.contextmanager
def optimizer_scope():
    """Sharded variables read as their DTensors (each process updates its shards); plain tensors (a learning
    rate, a step count) meet them as replicated values."""
    _RAW[0] += 1
    try:
        with implicit_replication():
            yield
    finally:
        _RAW[0] -= 1


def assign(param, value):
    """Write a whole value (plain or DTensor) into a sharded variable: each process keeps its part."""
    with torch.no_grad():
        if not is_sharded(value):  # each process keeps its part of its own (equal) copy: no communication
            value = distribute_tensor(value.to(param.dtype), param.device_mesh, param.placements, src_data_rank=None)
        param.copy_(value)
