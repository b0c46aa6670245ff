"""Data parallel and sharded (``ModelParallel``, FSDP) training on ``torch.distributed`` (Gloo on CPUs,
NCCL on GPUs).

Every process runs the same ``fit``: the same global batches in the same order (the
shuffling seed is agreed on with rank 0), each process computing the gradients of its
contiguous share of every batch. The gradients, weighted by each share's size, are summed
with one ``all_reduce`` over a flat buffer, so every process applies the gradient of the
whole global batch, as ``DistributedDataParallel`` does; weights and optimizer state start
from rank 0's (broadcast when the step function is built). Metric accumulators are summed
across processes when epoch logs are read.

Under ``ModelParallel`` the same loop runs, but the trainable variables and their optimizer slots are
DTensors sharded as the layout map says (``_sharding.py``): gathered for each step's forward pass, their
gradients reduce-scattered back to the shards by DTensor's backward.
"""

import atexit
import datetime
import os

import numpy as np
import torch
import torch.distributed as dist

from lamina.backend.torch import trainer as _trainer
from lamina.backend.torch import core as _core  # DEFAULT_DEVICE read at call time (device_scope)

TIMEOUT_ENV = "LAMINA_DISTRIBUTED_TIMEOUT"


def list_devices(device_type=None):
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 or dist.is_initialized():
        # Several processes: one device each, the mesh position of each rank (ModelParallel's mesh).
        world = process_count()
        kind = "gpu" if dist.get_backend() == "nccl" else "cpu"
        requested = {"cuda": "gpu"}.get(device_type, device_type)
        if requested not in (None, kind, "cpu"):
            return []
        return [f"{requested or kind}:{r}" for r in range(world)]
    if device_type in (None, "gpu", "cuda") and torch.cuda.is_available():
        return [f"gpu:{i}" for i in range(torch.cuda.device_count())]
    if device_type in ("gpu", "cuda", "tpu"):
        return []
    return ["cpu:0"]


def _timeout():
    return datetime.timedelta(seconds=float(os.environ.get(TIMEOUT_ENV, "300")))


def initialize(job_addresses=None, num_processes=None, process_id=None):
    if dist.is_initialized():
        return
    # NCCL needs a GPU of its own per process; with more processes on a machine than GPUs (or none),
    # Gloo (which also reduces CUDA tensors, through the host).
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    backend = "nccl" if torch.cuda.is_available() and torch.cuda.device_count() >= local else "gloo"
    if job_addresses is None and num_processes is None and process_id is None:
        missing = [k for k in ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK") if k not in os.environ]
        if missing:
            raise ValueError(f"initialize: no job_addresses/num_processes/process_id were given and the "
                             f"launcher's environment is incomplete (missing {missing}). Launch with "
                             "`torchrun --nproc-per-node N script.py` or pass the three arguments.")
        init = "env://"
        world, rank = int(os.environ["WORLD_SIZE"]), int(os.environ["RANK"])
    else:
        if job_addresses is None or num_processes is None or process_id is None:
            raise ValueError("initialize: pass all of job_addresses ('host:port' of the coordinator), "
                             "num_processes and process_id, or none of them (to use torchrun's environment).")
        init = "tcp://" + job_addresses.split(",")[0]
        world, rank = int(num_processes), int(process_id)
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", rank)) % torch.cuda.device_count())
    dist.init_process_group(backend, init_method=init, world_size=world, rank=rank, timeout=_timeout())
    atexit.register(_shutdown)


def _shutdown():
    """Leave the process group before the interpreter tears down (else Gloo's threads may abort), then drop
    the groups of sharded models' meshes (see ``_sharding.release``)."""
    if dist.is_initialized():
        dist.destroy_process_group()
    import sys

    sharding = sys.modules.get("lamina.backend.torch._sharding")  # loaded only by ModelParallel
    if sharding is not None:
        sharding.release()


def _auto_initialize():
    """Join the process group when launched by torchrun with several processes."""
    if not dist.is_initialized() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        initialize()


def process_index():
    _auto_initialize()
    return dist.get_rank() if dist.is_initialized() else 0


def process_count():
    _auto_initialize()
    return dist.get_world_size() if dist.is_initialized() else 1


def distribute_tensor(tensor, layout):
    return tensor  # one device per process: the tensor already lives where it is used


def _collective(what, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except (RuntimeError, dist.DistBackendError) as e:
        raise RuntimeError(
            f"lamina.distribution: process {dist.get_rank()} of {dist.get_world_size()} could not {what}: "
            f"another process probably stopped (crashed or was killed), so this one stops too. "
            f"Engine message: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
        ) from e


# ---- what the training loop asks ---------------------------------------------------------------


def _data_parallel_world(model=None):
    """``(rank, world_size)`` when training should run on several processes, else ``None``."""
    if process_count() > 1:
        return dist.get_rank(), dist.get_world_size()
    return None


def _model_parallel():
    """The current ``ModelParallel`` when several processes run (its variables are sharded), else None."""
    from lamina import distribution as api

    current = api.distribution()
    if current is not None and type(current).__name__ == "ModelParallel" and process_count() > 1:
        return current
    return None


def _make_train_function(model, rank, world):
    mp = _model_parallel()
    if mp is not None:
        return _ModelParallelTrainFunction(model, rank, world, mp)
    return _DataParallelTrainFunction(model, rank, world)


def _make_test_function(model, rank, world):
    mp = _model_parallel()
    if mp is not None:
        return _ModelParallelTestFunction(model, rank, world, mp)
    return _DataParallelTestFunction(model, rank, world)


def _make_predict_function(model, rank, world):
    mp = _model_parallel()
    if mp is not None:
        return _ModelParallelPredictFunction(model, mp, world)
    return _trainer.PredictFunction(model)


def agree_on_int(value):
    """Rank 0's ``value`` on every process (e.g. the shuffling seed)."""
    if process_count() <= 1:
        return value
    t = torch.tensor([int(value) % (2 ** 62)], dtype=torch.int64, device=_comm_device())
    _collective("agree on the shuffling seed", dist.broadcast, t, src=0)
    return int(t.item())


def _comm_device():
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else \
        torch.device("cpu")


def _broadcast_variables(variables):
    """Give every process rank 0's values of ``variables``."""
    for v in variables:
        t = v.value
        buf = t.detach().to(_comm_device()).contiguous()
        _collective(f"receive the value of '{v.path}' from rank 0", dist.broadcast, buf, src=0)
        with torch.no_grad():
            v._storage().copy_(buf.to(t.device))


def _shards_variables():
    """Whether this run stores variables sharded across processes (``ModelParallel`` with several)."""
    return _model_parallel() is not None


def _whole_values(variables):
    """A context within which one process alone may read the whole values of ``variables`` (see
    ``_sharding.snapshot``); entered by every process at the same point. Nothing happens (no communication)
    unless a ``ModelParallel`` run holds sharded variables."""
    if _model_parallel() is None:
        import contextlib

        return contextlib.nullcontext()
    from lamina.backend.torch import _sharding

    return _sharding.snapshot(variables)


def sum_across_processes(values):
    """Elementwise sums of a list of tensors over all processes (new tensors)."""
    if not values or process_count() <= 1:
        return values
    dev = _comm_device()
    flat = torch.cat([v.detach().to(dev, torch.float64).reshape(-1) for v in values])
    _collective("sum the metric accumulators", dist.all_reduce, flat)
    out, offset = [], 0
    for v in values:
        n = v.numel()
        out.append(flat[offset:offset + n].reshape(v.shape).to(v.device, v.dtype))
        offset += n
    return out


def _local_share(idx, rank, world):
    """This process's contiguous share of a global batch's indices."""
    return np.array_split(np.asarray(idx), world)[rank]


# ---- step functions ---------------------------------------------------------------------------


class _ShardedBatches:
    """Hands each step only this process's share of the global batch, with the share's weight."""

    def _batches(self, placed, block):
        x, y, sw = placed
        for idx in block:
            share = _local_share(idx, self.rank, self.world)
            self.fraction = len(share) / max(len(idx), 1)
            idx_t = torch.from_numpy(np.ascontiguousarray(share)).to(_core.DEFAULT_DEVICE)
            yield _trainer._gather(x, idx_t), _trainer._gather(y, idx_t), _trainer._gather(sw, idx_t)


def _all_reduce_gradients(grads, scale):
    """The sums over all processes of ``grads`` times ``scale``, with one ``all_reduce`` of a flat buffer."""
    dev = _comm_device()
    flat = torch.cat([g.reshape(-1) for g in grads]).to(dev)
    if scale != 1.0:
        flat.mul_(scale)
    _collective("all-reduce the gradients", dist.all_reduce, flat)
    out, offset = [], 0
    for g in grads:
        n = g.numel()
        out.append(flat[offset:offset + n].view_as(g).to(g.device))
        offset += n
    return out


class _DataParallelTrainFunction(_ShardedBatches, _trainer.TrainFunction):
    """A training step whose gradients are all-reduced across processes."""

    def __init__(self, model, rank, world):
        super().__init__(model)
        self.rank, self.world = rank, world
        self.fraction = 1.0
        self._ntv = model.non_trainable_variables
        _broadcast_variables(model.trainable_variables + self._ntv + list(model.optimizer.variables))

    def _reduce_gradients(self, grads):
        # Each share's gradient is the mean over its samples; weighting it by the share's part of
        # the global batch makes the sum the mean over the whole batch.
        return _all_reduce_gradients(grads, self.fraction)

    def sync(self):
        # Non-trainable state (BatchNormalization statistics) follows rank 0, as DDP's buffers do.
        _broadcast_variables(self._ntv)

    def run_batches(self, placed):
        """Iterable sources are not split: each process reads its own shard (e.g. a DataLoader
        with a DistributedSampler) and every process's batch weighs the same."""
        self.fraction = 1.0 / self.world
        super().run_batches(placed)


class _DataParallelTestFunction(_ShardedBatches, _trainer.TestFunction):
    """An evaluation step on this process's share of each batch (metrics summed in the logs)."""

    def __init__(self, model, rank, world):
        super().__init__(model)
        self.rank, self.world = rank, world


def _sharding_of(model, distribution, world):
    """The model's ``Sharding`` (one per model and distribution): its variables' placements."""
    from lamina.backend.torch import _sharding

    current = getattr(model, "_lamina_sharding", None)
    if current is None or current.distribution is not distribution:
        current = _sharding.Sharding(distribution, world)
        model._lamina_sharding = current
    return current


def _no_compile(model):
    if _trainer._wants_compile(model):
        import warnings

        warnings.warn(f"Model '{model.name}': jit_compile=True is ignored under ModelParallel on PyTorch (the "
                      "steps run eagerly around DTensor's collectives).", RuntimeWarning, stacklevel=3)


class _ModelParallelTrainFunction(_DataParallelTrainFunction):
    """FSDP: the trainable variables (and their optimizer slots) are sharded as the layout map says; each
    process computes the whole model on its share of the batch (see ``_sharding.py``)."""

    def __init__(self, model, rank, world, distribution):
        self.sharding = _sharding_of(model, distribution, world)
        _no_compile(model)
        _trainer.TrainFunction.__init__(self, model)
        self._forward, self._metrics = self._forward_loss, model._update_metrics
        self.rank, self.world, self.fraction = rank, world, 1.0
        self._ntv = model.non_trainable_variables
        slots = list(model.optimizer.variables)
        self.sharding.place(self.variables + [v for v in slots if _follows_its_variable(v)])
        plain = [v for v in self.variables + self._ntv + slots if not _is_sharded(v)]
        _broadcast_variables(plain)
        self.params = [v._storage() for v in self.variables]
        self._plain = [i for i, v in enumerate(self.variables) if not _is_sharded(v)]  # all-reduced gradients

    def step(self, x, y, sw):
        model = self.model
        with self.sharding.gathered(self.variables, grad=True):
            loss, y_pred, output_losses = self._forward(x, y, sw)
        # Each share's loss is the mean over its samples; weighted by the share's part of the global batch,
        # the gradients DTensor sums over the processes are those of the mean over the whole batch.
        scaled = model.optimizer.scale_loss(loss) * self.fraction
        grads = _collective("reduce-scatter the gradients of the sharded variables", torch.autograd.grad, scaled,
                            self.params, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for g, p in zip(grads, self.params)]
        grads = self._reduce_replicated(grads)
        from lamina.backend.torch import _sharding

        with torch.no_grad():
            with _sharding.optimizer_scope():
                model.optimizer.apply(grads, self.variables)
            self._metrics(y, _trainer._detach(y_pred), sw, loss.detach(), _trainer._batch_size(x),
                          _trainer._detach(output_losses))

    def _reduce_replicated(self, grads):
        """All-reduce (as data parallel) the gradients of the variables left plain; the sharded ones
        arrive reduced already."""
        plain = self._plain
        if not plain:
            return grads
        grads = list(grads)
        for i, g in zip(plain, _all_reduce_gradients([grads[i] for i in plain], 1.0)):
            grads[i] = g  # the loss carries each share's weight already
        return grads


class _ModelParallelTestFunction(_DataParallelTestFunction):
    """Evaluation on this process's share of each batch, with the sharded variables gathered per step."""

    def __init__(self, model, rank, world, distribution):
        self.sharding = _sharding_of(model, distribution, world)
        _no_compile(model)
        super().__init__(model, rank, world)
        self._step = self._eval_step
        self._variables = model.trainable_variables
        self.sharding.place(self._variables)
        _broadcast_variables([v for v in model.weights if not _is_sharded(v)])

    def step(self, x, y, sw):
        with torch.no_grad(), self.sharding.gathered(self._variables, grad=False):
            self._step(x, y, sw)


class _ModelParallelPredictFunction(_trainer.PredictFunction):
    """Every process predicts the whole input (as data parallel), with the sharded variables gathered."""

    def __init__(self, model, distribution, world):
        self.sharding = _sharding_of(model, distribution, world)
        _no_compile(model)
        super().__init__(model)
        self._forward = self._predict
        self._variables = model.trainable_variables
        self.sharding.place(self._variables)
        _broadcast_variables([v for v in model.weights if not _is_sharded(v)])

    def __call__(self, placed, block):
        with self.sharding.gathered(self._variables, grad=False):
            return super().__call__(placed, block)

    def predict_batch(self, placed):
        with self.sharding.gathered(self._variables, grad=False):
            return super().predict_batch(placed)


def _is_sharded(variable):
    from lamina.backend.torch import _sharding  # DTensor's modules load only when a run shards

    return _sharding.is_sharded(variable._storage())


def _follows_its_variable(slot):
    ref = getattr(slot, "_reference", None)
    return ref is not None and tuple(ref.shape) == tuple(slot.shape)


class _SumOverProcesses(torch.autograd.Function):
    """``all_reduce(SUM)`` with its gradient (the sum of every process's gradient), on the process group."""

    @staticmethod
    def forward(ctx, tensor):
        out = tensor.clone()
        _collective("all-reduce the batch statistics", dist.all_reduce, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        _collective("all-reduce the gradient of the batch statistics", dist.all_reduce, grad)
        return grad


def synchronized_moments(x, axes):
    """Mean and (biased) variance of ``x`` over ``axes`` and over every data-parallel process's batch, with
    gradients flowing back to each process's inputs (an all-reduce and its gradient, on torch.distributed);
    None with one process (BatchNormalization(synchronized=True))."""
    if process_count() <= 1:
        return None
    axes = tuple(axes)
    count = torch.tensor([float(np.prod([x.shape[a] for a in axes]))], dtype=x.dtype, device=x.device)
    sums = _SumOverProcesses.apply(torch.cat([x.sum(dim=axes).reshape(-1), count]))
    total = sums[-1]
    mean = sums[:-1] / total
    keep = [x.shape[d] if d not in axes else 1 for d in range(x.dim())]
    centered = x - mean.reshape(keep)
    squares = _SumOverProcesses.apply((centered * centered).sum(dim=axes).reshape(-1))
    return mean, squares / total
