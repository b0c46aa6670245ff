"""Data parallel training on ``torch.distributed`` (Gloo on CPUs, NCCL on GPUs).

Every process runs the same ``fit``: the same global batches in the same order (the
shuffling seed is agreed on with rank 0), each process computing the gradients of its
contiguous share of every batch. The gradients, weighted by each share's size, are summed
with one ``all_reduce`` over a flat buffer, so every process applies the gradient of the
whole global batch, as ``DistributedDataParallel`` does; weights and optimizer state start
from rank 0's (broadcast when the step function is built). Metric accumulators are summed
across processes when epoch logs are read.
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
    """Leave the process group before the interpreter tears down (else Gloo's threads may abort)."""
    if dist.is_initialized():
        dist.destroy_process_group()


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
    """``(rank, world_size)`` when training should run data parallel, else ``None``."""
    from lamina import distribution as api

    current = api.distribution()
    if current is not None and type(current).__name__ == "ModelParallel" and process_count() > 1:
        raise ValueError("ModelParallel: on PyTorch lamina trains data parallel only (every process holds "
                         "the whole model); use DataParallel, or the JAX backend for sharded variables.")
    if process_count() > 1:
        return dist.get_rank(), dist.get_world_size()
    return None


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


class _DataParallelTrainFunction(_ShardedBatches, _trainer.TrainFunction):
    """A training step whose gradients are all-reduced across processes."""

    def __init__(self, model, rank, world):
        super().__init__(model)
        self.rank, self.world = rank, world
        self.fraction = 1.0
        self._ntv = model.non_trainable_variables
        _broadcast_variables(model.trainable_variables + self._ntv + list(model.optimizer.variables))

    def _reduce_gradients(self, grads):
        dev = _comm_device()
        # Each share's gradient is the mean over its samples; weighting it by the share's part of
        # the global batch makes the sum the mean over the whole batch.
        flat = torch.cat([g.reshape(-1) for g in grads]).to(dev).mul_(self.fraction)
        _collective("all-reduce the gradients", dist.all_reduce, flat)
        out, offset = [], 0
        for g in grads:
            n = g.numel()
            out.append(flat[offset:offset + n].view_as(g).to(g.device))
            offset += n
        return out

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
