"""Sharded variables (FSDP) for ``ModelParallel`` on PyTorch, on ``torch.distributed.tensor`` (DTensor).

Each trainable variable whose ``LayoutMap`` entry splits a dimension over a mesh axis stores a DTensor
(``Shard(d)`` on that mesh dimension, ``Replicate()`` on the others): every process keeps only its part of
it, and of its optimizer slots, which follow their variable's placement. A step works as torch's own
``fully_shard`` (FSDP2) does:

- before the forward pass the sharded variables are all-gathered, one collective per bucket (the variables
  of one dtype split over one mesh axis, flattened into one buffer), and the model computes on the full,
  plain tensors, each process on its share of the global batch (so every op and fused kernel of the backend
  runs unchanged);
- in the backward pass each bucket's gradients are reduce-scattered back to the shards with one collective
  (and all-reduced over the other mesh axes; the replicated variables' with one all-reduce), so every
  process holds the gradient of the whole global batch for its shard; they reach the DTensor parameters
  through ``to_local``'s own backward. A variable split over several mesh axes goes through
  ``DTensor.redistribute`` and ``to_local(grad_placements=[Partial()])`` instead;
- the optimizer updates the shards in place (foreach / fused kernels on DTensors).

Reading a sharded variable's value as an array (``get_weights``, ``save``, ``numpy()``) gathers it, which
every process must do at the same point, as with every collective; inside a ``snapshot`` (entered by every
process at the same point) one process alone may read the values gathered on entry (rank 0's checkpoints).
"""

import contextlib
import weakref

import numpy as np
import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor, init_device_mesh
from torch.distributed.tensor.experimental import implicit_replication

from lamina.backend.common import scopes
from lamina.backend.common.variables import _FLOATS
from lamina.backend.torch import core as _core


def _all_gather_single():
    # torch 2.13 names the one-tensor collectives *_single and deprecates the *_tensor names, which
    # earlier releases (2.3 - 2.12) alone have.
    return getattr(dist, "all_gather_single", None) or dist.all_gather_into_tensor


def _reduce_scatter_single():
    return getattr(dist, "reduce_scatter_single", None) or dist.reduce_scatter_tensor


def is_sharded(t):
    return isinstance(t, DTensor)


_READ_GROUP = []  # a process group of its own for reading whole values (see full_value)
_MESHES = weakref.WeakSet()  # the torch device meshes of the Shardings built in this process (see release)

# The whole values gathered by ``snapshot``: {id(DTensor): (DTensor, whole value)}, valid inside its block
# until a sharded variable is written (``assign``, an optimizer update).
_CACHE = {}
_GENERATION = [0]  # bumped whenever the cache is dropped


def _drop_cache():
    if _CACHE:
        _CACHE.clear()
    _GENERATION[0] += 1


def release():
    """Drop this module's references to process groups once ``destroy_process_group`` has shut them down.

    A Gloo group's worker threads are joined only when its last reference goes. Left to the interpreter's
    teardown, a worker still releasing a finished collective's tensors (whose Python objects it may then
    own) asks for the interpreter lock after finalization began, and the process aborts ("terminate called
    without an active exception": 2 exits in 273 of a test script here). Released here, at exit but before
    finalization, the groups are destroyed now: the engine frees them without the interpreter lock held, so
    their workers finish first."""
    _READ_GROUP.clear()
    for mesh in list(_MESHES):
        registry = getattr(mesh, "_pg_registry", None)  # torch's DeviceMesh keeps its dimensions' groups here
        if isinstance(registry, dict):
            registry.clear()
    _MESHES.clear()


def _is_split(t):
    return any(isinstance(pl, Shard) for pl in t.placements)


def _gather_error(t, e):
    path = getattr(t, "_lamina_path", "a sharded variable")
    return RuntimeError(
        f"lamina.distribution: process {dist.get_rank()} could not gather the whole value of '{path}' "
        "(ModelParallel on PyTorch): every process must read a sharded variable at the same point (call "
        "get_weights/save/numpy() in every process; ModelCheckpoint and BackupAndRestore do so for you, and "
        "write on rank 0 only). Engine message: "
        f"{str(e).splitlines()[0] if str(e) else type(e).__name__}")


def _all_gather(local, tensors):
    """Every process's ``local`` (a flat CPU tensor of the same size on each), on the read group."""
    parts = [torch.empty_like(local) for _ in range(dist.get_world_size())]
    try:
        dist.all_gather(parts, local, group=_READ_GROUP[0] if _READ_GROUP else None)
    except (RuntimeError, dist.DistBackendError) as e:
        raise _gather_error(tensors[0], e) from e
    return parts


def _assemble(t, parts):
    """The whole value of the DTensor ``t`` from its local shards ``parts`` (one per rank, in rank order)."""
    ranks = t.device_mesh.mesh
    full = torch.empty(t.shape, dtype=parts[0].dtype, device=parts[0].device)
    for rank, part in enumerate(parts):
        coords = (ranks == rank).nonzero()
        if not len(coords):
            continue
        index = [slice(None)] * full.dim()
        shape = list(t.shape)
        for i, placement in enumerate(t.placements):
            if isinstance(placement, Shard):
                d = placement.dim
                size = t.shape[d] // ranks.shape[i]
                index[d] = slice(int(coords[0][i]) * size, (int(coords[0][i]) + 1) * size)
                shape[d] = size
        full[tuple(index)] = part.reshape(shape)
    return full


def full_value(t):
    """The whole value of a DTensor: its shards gathered from every process (a collective that every process
    must call at the same point), or, inside a ``snapshot`` that holds it, the value gathered then.

    The gather runs on a process group of its own, never the training steps' one: a read made by one process
    alone (e.g. a callback that runs on rank 0 only) then cannot pair with the other processes' training
    collectives and silently mix values; it fails with a message saying why."""
    if not _is_split(t):
        return t.to_local().detach().clone()  # replicated: every process has it all
    cached = _CACHE.get(id(t))
    if cached is not None and cached[0] is t:
        return cached[1].clone()  # a copy: the caller may write into it
    local = t.to_local().detach().cpu().contiguous()  # the read group is Gloo's; values go to the host anyway
    return _assemble(t, _all_gather(local, [t]))


@contextlib.contextmanager
def snapshot(variables):
    """Inside the block, reading any of the sharded ``variables`` (``get_weights``, ``save``, ``numpy()``)
    needs no communication, so one process alone may do it (rank 0 writing a checkpoint).

    Every process must enter it at the same point with the same ``variables`` in the same order (the model's
    weights, then its optimizer's): it gathers the whole values of those that are split, with one all-gather
    per dtype on the read group. A write to a sharded variable inside the block (``assign``, an optimizer
    update) drops the gathered values (a later read gathers again). Nothing is gathered when no variable is
    split."""
    tensors, seen = [], set()
    for v in variables:
        p = v._storage()
        if is_sharded(p) and _is_split(p) and id(p) not in seen:
            seen.add(id(p))
            tensors.append(p)
    if not tensors:
        yield
        return
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault(t.dtype, []).append(t)
    added = {}
    for group in by_dtype.values():  # dict order: the same on every process (first appearance)
        locals_ = [t.to_local().detach().cpu().reshape(-1) for t in group]
        parts = _all_gather(torch.cat(locals_), group)
        offset = 0
        for t, loc in zip(group, locals_):
            n = loc.numel()
            added[id(t)] = (t, _assemble(t, [part[offset:offset + n] for part in parts]))
            offset += n
    generation = _GENERATION[0]
    outer = {key: _CACHE[key] for key in added if key in _CACHE}  # a snapshot around this one
    _CACHE.update(added)
    try:
        yield
    finally:
        if _GENERATION[0] == generation:  # still valid: only this block's values leave
            for key in added:
                _CACHE.pop(key, None)
            _CACHE.update(outer)
        else:
            _drop_cache()


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
        _MESHES.add(self.mesh)
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
        given, the same on every process); with ``grad`` their gradients flow back to the shards.

        The variables split over one mesh axis are gathered in buckets, one all-gather per (axis, dtype), and
        their gradients go back with one reduce-scatter per bucket (then one all-reduce over each other mesh
        axis the processes along which hold copies); the replicated ones read their local value, and their
        gradients are summed with one all-reduce per dtype - FSDP's flat buckets, instead of DTensor's one
        collective (or several, on a mesh of several axes) per variable. A variable split over several axes
        goes through DTensor's ``redistribute``."""
        from lamina.backend.torch import distribution as _dist

        values, buckets = {}, {}
        for v in variables:
            p = v._storage()
            if not is_sharded(p):
                continue
            split = [(i, pl.dim) for i, pl in enumerate(p.placements) if isinstance(pl, Shard)]
            if len(split) > 1 or any(not isinstance(pl, (Shard, Replicate)) for pl in p.placements):
                full = _dist._collective(f"all-gather the sharded variable '{v.path}'", p.redistribute,
                                         self.mesh, self.replicate)
                values[id(v)] = full.to_local(grad_placements=self.partial) if grad else full.to_local().detach()
                continue
            key = (split[0][0] if split else None, p.dtype)  # dict order: the same on every process
            buckets.setdefault(key, []).append((v, p, split[0][1] if split else None))
        for (axis, _), members in buckets.items():
            locals_ = [p.to_local() for _, p, _ in members]
            dims = [d for _, _, d in members]
            if grad and torch.is_grad_enabled():
                fulls = _GatherBucket.apply(self, axis, dims, *locals_)
            else:
                fulls = self._gather(axis, dims, [t.detach() for t in locals_])
            for (v, _, _), full in zip(members, fulls):
                values[id(v)] = full
        if not values:
            yield
            return
        with _GatheredScope(values):
            yield

    def _group(self, axis):
        return self.mesh.get_group(self.axis_names[axis])

    def _gather(self, axis, dims, locals_):
        """The full values of the local shards ``locals_``, split over mesh axis ``axis`` (None: replicated)
        along ``dims``: one all-gather of their concatenation."""
        if axis is None:
            return list(locals_)
        from lamina.backend.torch import distribution as _dist

        size = self.axis_sizes[self.axis_names[axis]]
        flat = torch.cat([t.reshape(-1) for t in locals_])
        out = flat.new_empty(size * flat.numel())
        _dist._collective("all-gather the sharded variables", _all_gather_single(), out, flat,
                          group=self._group(axis))
        out = out.view(size, -1)
        fulls, offset = [], 0
        for t, d in zip(locals_, dims):
            n = t.numel()
            fulls.append(torch.cat([out[r, offset:offset + n].view(t.shape) for r in range(size)], dim=d))
            offset += n
        return fulls

    def _reduce(self, axis, dims, grads, shapes):
        """The gradients of the local shards from the full gradients ``grads``: summed over every process (a
        reduce-scatter over ``axis``, then an all-reduce over each other axis of size > 1)."""
        from lamina.backend.torch import distribution as _dist

        if axis is None:
            flat = torch.cat([g.reshape(-1) for g in grads])
            _dist._collective("all-reduce the gradients of the replicated variables", dist.all_reduce, flat)
            others = []
        else:
            size = self.axis_sizes[self.axis_names[axis]]
            chunks = [g.chunk(size, dim=d) for g, d in zip(grads, dims)]  # contiguous split, as Shard(d)
            full = torch.cat([c[r].reshape(-1) for r in range(size) for c in chunks])
            flat = full.new_empty(full.numel() // size)
            _dist._collective("reduce-scatter the gradients of the sharded variables", _reduce_scatter_single(),
                              flat, full, group=self._group(axis))
            others = [i for i, name in enumerate(self.axis_names) if i != axis and self.axis_sizes[name] > 1]
        for i in others:
            _dist._collective("all-reduce the gradients of the sharded variables", dist.all_reduce, flat,
                              group=self._group(i))
        out, offset = [], 0
        for shape in shapes:
            n = int(np.prod(shape))
            out.append(flat[offset:offset + n].view(shape))
            offset += n
        return out


class _GatherBucket(torch.autograd.Function):
    """Local shards -> full values (one all-gather); full gradients -> local gradients summed over every
    process (one reduce-scatter / all-reduce). The local shards come from ``DTensor.to_local()``, whose own
    backward makes the local gradients DTensor gradients with the variables' placements."""

    @staticmethod
    def forward(ctx, sharding, axis, dims, *locals_):
        ctx.sharding, ctx.axis, ctx.dims = sharding, axis, dims
        ctx.shapes = [t.shape for t in locals_]
        ctx.like = [(t.dtype, t.device) for t in locals_]
        fulls = sharding._gather(axis, dims, locals_)
        if axis is None:  # a view of an input would be returned as is: autograd wants outputs of its own
            fulls = [t.view_as(t) for t in fulls]
        return tuple(fulls)

    @staticmethod
    def backward(ctx, *grads):
        size = 1 if ctx.axis is None else ctx.sharding.axis_sizes[ctx.sharding.axis_names[ctx.axis]]
        grads = [torch.zeros([s * (size if i == d else 1) for i, s in enumerate(shape)] if d is not None
                             else shape, dtype=dt, device=dev) if g is None else g
                 for g, shape, d, (dt, dev) in zip(grads, ctx.shapes, ctx.dims, ctx.like)]
        return (None, None, None) + tuple(ctx.sharding._reduce(ctx.axis, ctx.dims, grads, ctx.shapes))


@contextlib.contextmanager
def optimizer_scope():
    """Sharded variables read as their DTensors (each process updates its shards); plain tensors (a learning
    rate, a step count) meet them as replicated values."""
    _drop_cache()  # the shards are about to change
    _RAW[0] += 1
    try:
        with implicit_replication():
            yield
    finally:
        _RAW[0] -= 1


def assign(param, value):
    """Write a whole value (plain or DTensor) into a sharded variable: each process keeps its part."""
    _drop_cache()
    with torch.no_grad():
        if not is_sharded(value):  # each process keeps its part of its own (equal) copy: no communication
            value = distribute_tensor(value.to(param.dtype), param.device_mesh, param.placements, src_data_rank=None)
        param.copy_(value)
