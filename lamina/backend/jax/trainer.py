"""JAX step functions for the training loop: pure, jit-compiled, several steps per call.

Same names as ``backend/torch/trainer.py``. The data is placed on the device
once; each compiled call receives a block of batch indices, gathers the batches
inside the compiled function and runs them with ``lax.scan``. Model, optimizer
and metric state are passed in and returned (buffers donated), then written back
to the Variables without waiting for the device.
"""

import jax
import jax.numpy as jnp
import numpy as np

from lamina import tree
from lamina.backend.common.scopes import StatelessScope
from lamina.backend.jax.core import convert_to_tensor
from lamina.backend.jax.nn_conv import CONVOLUTIONS_TRACED
from lamina.random.random import global_seed_draws, global_seed_state

_AUTO_STEPS = 16


def _place(struct):
    if struct is None:
        return None
    return tree.map_structure(lambda a: None if a is None else convert_to_tensor(a), struct)


def _host(struct):
    """``struct``'s arrays as NumPy arrays of the dtypes ``_place`` gives (cast only where they differ)."""
    def one(a):
        if a is None:
            return None
        if isinstance(a, np.ndarray) and a.dtype != object:
            dt = _engine_dtype(a.dtype)
            return a if a.dtype == dt else a.astype(dt)
        return np.asarray(convert_to_tensor(a))

    if struct is None:
        return None
    return tree.map_structure(one, struct)


def _gather(struct, idx):
    if struct is None:
        return None
    return tree.map_structure(lambda a: None if a is None else jnp.take(a, idx, axis=0), struct)


_gather_jit = jax.jit(lambda data, idx: _gather(data, idx))


def _stack_leaves(*leaves):
    if leaves[0] is None:
        return None
    if all(isinstance(a, np.ndarray) for a in leaves):
        return np.stack(leaves)
    return jnp.stack([convert_to_tensor(a) for a in leaves])


def _stack_batches(block):
    """Stack batches ``[(x, y, sw), ...]`` of equal shapes along a new leading (steps) axis."""
    return tuple(None if block[0][i] is None else tree.map_structure(_stack_leaves, *[b[i] for b in block])
                 for i in range(3))


_ENGINE_DTYPES = {}


def _engine_dtype(dtype):
    """The dtype ``convert_to_tensor`` gives a NumPy array of ``dtype`` (e.g. int64 -> int32 without x64)."""
    out = _ENGINE_DTYPES.get(dtype)
    if out is None:
        out = _ENGINE_DTYPES[dtype] = np.dtype(convert_to_tensor(np.zeros((0,), dtype)).dtype)
    return out


def _place_stacked(batches):
    """Stacked host batches as device arrays, all leaves in one ``device_put`` (one transfer call);
    the same arrays and dtypes as ``_place``."""
    leaves = tree.flatten(batches)
    host = [i for i, a in enumerate(leaves) if isinstance(a, np.ndarray)]
    if not host:
        return tuple(_place(s) for s in batches)
    arrays = []
    for i in host:
        a = leaves[i]
        dt = _engine_dtype(a.dtype)
        arrays.append(a if a.dtype == dt else a.astype(dt))
    for i, a in zip(host, jax.device_put(arrays)):
        leaves[i] = a
    return tree.pack_sequence_as(batches, [None if a is None else convert_to_tensor(a) for a in leaves])


def _values(variables):
    return [v.value for v in variables]


def _write(variables, values):
    for v, val in zip(variables, values):
        v._direct_assign(val)


def _scope_values(scope, variables, old):
    out = []
    for v, o in zip(variables, old):
        new = scope.get_current_value(v)
        out.append(o if new is None else new)
    return out


# Whether every block of steps is fused into one compiled call with ``lax.scan``. On XLA:CPU a
# convolution inside a while loop runs far slower than on its own (a CIFAR CNN step: 430 ms scanned
# against 92 ms alone), so on the CPU a step with convolutions runs one per compiled call
# (``steps_per_execution`` then only sets how often the loop returns to callbacks); the blocks of a step
# without any run as one compiled loop each (FUSE_STEPS_WITHOUT_CONVOLUTIONS below).
FUSE_STEPS_ON_CPU = False


def _fuse_steps():
    return FUSE_STEPS_ON_CPU or jax.default_backend() != "cpu"


# On the CPU, steps that trace no convolution are fused all the same (a ``lax.fori_loop`` over a padded
# block's real steps): XLA:CPU's slowness in loop bodies is its convolutions' (measured: a conv step 11x
# slower in a loop, a Dense step about 4x faster with the per-call dispatch saved).
FUSE_STEPS_WITHOUT_CONVOLUTIONS = True


def _has_convolution_layers(model):
    """Whether a layer of ``model`` looks like a convolution (by class name: Conv2D, ConvLSTM2D,
    DepthwiseConv2D, a user's ConvBlock...): a guess made before tracing, checked by the first trace."""
    layers = model._flatten_layers() if hasattr(model, "_flatten_layers") else []
    return any("conv" in type(layer).__name__.lower() for layer in layers)


def _take_aligned(a, idx):
    """``np.take(a, idx, axis=0)`` into a new 64-byte-aligned array: XLA:CPU reads an aligned NumPy argument
    in place where it copies any other into a buffer of its own (the MNIST MLP's step on the CPU: 0.122
    against 0.130 ms, interleaved)."""
    if a.dtype.hasobject:
        return np.take(a, idx, axis=0)
    shape = tuple(idx.shape) + a.shape[1:]
    nbytes = int(np.prod(shape, dtype=np.int64)) * a.dtype.itemsize
    raw = np.empty(nbytes + 64, np.uint8)
    start = -raw.ctypes.data % 64
    out = raw[start:start + nbytes].view(a.dtype).reshape(shape)
    # mode="clip": with ``out`` the default mode ("raise") takes into a temporary first (the indices are
    # the loop's own, all in range)
    np.take(a, idx, axis=0, out=out, mode="clip")
    return out


class _Block(tuple):
    """A block padded to ``steps_per_call`` batches, of which the first ``steps`` are real."""

    def __new__(cls, batches, steps):
        return super().__new__(cls, (batches, steps))

    batches = property(lambda self: self[0])
    steps = property(lambda self: self[1])


class _StepFunction:
    def __init__(self, model, steps_per_call=1):
        self.model = model
        self.steps_per_call = steps_per_call
        self.jit = not getattr(model, "run_eagerly", False)
        self.fuse = _fuse_steps()
        from lamina.backend.jax.distribution import _current_placement

        self.placement = _current_placement()  # None: one device, no sharding
        self._wait_each_call = self.placement is not None and jax.default_backend() == "cpu"
        self._host_gather = self.placement is None and jax.default_backend() == "cpu"
        # Steps run one per compiled call (the CPU): every block is padded to a full one, so one program
        # (``_fn1``, step i of a block) serves blocks of any length - a short tail block, a fit shorter than
        # a block - instead of a second program compiled the first time a block is short.
        self._pad_blocks = (not self.fuse and self.jit and self.steps_per_call > 1 and self.placement is None)
        # On the CPU the blocks of a step without convolutions run in one compiled call as well (a loop over
        # the block's real steps; an MLP step 35% faster). A model with no layer named like a convolution
        # starts so; the first trace corrects the guess either way (``_settle_fusion``).
        self._fuse_blocks = (self._pad_blocks and FUSE_STEPS_WITHOUT_CONVOLUTIONS
                             and not _has_convolution_layers(model))
        self._fusion_settled = not self._pad_blocks
        self._convolutions = False
        self._shardings = {}

    def _distribute(self, **groups):
        """Lay each group of variables out on the mesh (a distribution is active)."""
        if self.placement is None:
            return
        for name, variables in groups.items():
            self._shardings[name] = self.placement.place_variables(variables)

    def _hold(self, name, values):
        """Keep updated values in their variables' layouts inside the compiled step."""
        shardings = self._shardings.get(name)
        if not shardings or not self.jit:
            return values
        held = [jax.lax.with_sharding_constraint(v, s) for v, s in zip(values, shardings)]
        return held + list(values[len(held):])  # the global seed state, carried once a layer draws from it

    def _shard_batches(self, batches):
        if self.placement is None:
            return batches
        return tree.map_structure(
            lambda a: None if a is None else jax.device_put(a, self.placement.batch_sharding(a)), batches)

    def place(self, data):
        if self.placement is not None and self.placement.multi_process:
            return self.placement.replicate((data.x, data.y, data.sample_weight))
        if self._host_gather:  # batches are taken on the host (``_batches``): no copy of the data to and fro
            return (_host(data.x), _host(data.y), _host(data.sample_weight))
        return (_place(data.x), _place(data.y), _place(data.sample_weight))

    def sync(self):
        pass

    def _compile(self, fn, donate):
        if not self.jit:
            return fn

        def traced(*args):
            # A layer that draws with ``seed=None`` takes its seed from the global SeedGenerator, whose counter
            # cannot advance inside a trace unless the step carries its state: from the next call on it does
            # (a new argument structure: jit traces again), so the noise differs from call to call.
            before, convs = global_seed_draws(), CONVOLUTIONS_TRACED[0]
            out = fn(*args)
            self._convolutions = self._convolutions or CONVOLUTIONS_TRACED[0] != convs
            if global_seed_draws() != before:
                state = global_seed_state()
                if all(v is not state for v in self.ntv):
                    self.ntv = list(self.ntv) + [state]
            return out

        return jax.jit(traced, donate_argnums=donate)

    def _scan(self, body, carry, batches):
        """``lax.scan`` over the steps of a block; a plain loop when eager (scan would trace every call)."""
        n = tree.flatten(batches)[0].shape[0]
        if n == 1:  # one step: no loop at all (XLA:CPU runs loop bodies slowly)
            return body(carry, tree.map_structure(lambda a: None if a is None else a[0], batches))[0]
        if self.jit:
            return jax.lax.scan(body, carry, batches)[0]
        for i in range(tree.flatten(batches)[0].shape[0]):
            carry, _ = body(carry, tree.map_structure(lambda a: None if a is None else a[i], batches))
        return carry

    def _compile_steps(self, multi_step, donate):
        """The compiled runners of ``multi_step(*args, batches)``: all steps of a block in one call,
        and (unfused) one step ``i`` of a gathered block per call."""
        self._fn = self._compile(multi_step, donate)

        def indexed(*args):
            *head, batches, i = args
            one = tree.map_structure(
                lambda a: None if a is None else jax.lax.dynamic_slice_in_dim(a, i, 1, axis=0), batches)
            return multi_step(*head, one)

        self._fn1 = self._compile(indexed, donate)

        def looped(*args):
            # the first ``steps`` steps of a padded block, one program for any count
            *head, batches, steps = args
            state = head.pop()

            def body(i, carry):
                return indexed(*head, carry, batches, i)

            return jax.lax.fori_loop(0, steps, body, state)

        self._fn_loop = self._compile(looped, donate)

    def _run_block(self, *args):
        """Run the steps of one gathered block ``args[-1]``; the carried state is ``args[-2]``."""
        *head, state, batches = args
        if isinstance(batches, _Block):  # padded: only its first ``steps`` steps are real
            if self._fuse_blocks:
                state = self._settle(self._fn_loop(*head, state, batches.batches, np.int32(batches.steps)))
                self._settle_fusion()
                return state
            for i in range(batches.steps):
                state = self._settle(self._fn1(*head, state, batches.batches, np.int32(i)))
            self._settle_fusion()
            return state
        n = tree.flatten(batches)[0].shape[0]
        if self.fuse or n == 1 or not self.jit:
            return self._settle(self._fn(*head, state, batches))
        for i in range(n):
            state = self._settle(self._fn1(*head, state, batches, np.int32(i)))
        return state

    def _settle_fusion(self):
        """After the first trace: loop over blocks in one call if and only if the step has no convolution."""
        if not self._fusion_settled:
            self._fusion_settled = True
            self._fuse_blocks = FUSE_STEPS_WITHOUT_CONVOLUTIONS and not self._convolutions

    def _settle(self, result):
        """Wait for a sharded step on host devices: XLA:CPU deadlocks in its cross-device all-reduce
        when many such steps are queued at once (seen with two host devices and 200 queued steps)."""
        if self._wait_each_call:
            jax.block_until_ready(result)
        return result

    def _batches(self, placed, block):
        """Gather each block of batches: arrays of shape (steps, batch, ...).

        The step function's compiled code depends on the batch shape only, not on the size of
        the dataset: on the CPU the batches are taken on the host (the device memory is the
        host's, and a compiled gather would compile again for every new dataset size); on an
        accelerator a small compiled gather of its own runs on the device."""
        if self._host_gather:
            # A block that one compiled call runs whole is handed over as NumPy arrays: the compiled call's
            # own (C++) argument transfer costs half of a Python ``jax.device_put`` (150 against 300 us a
            # block of 16 MNIST batches). A block whose steps run one call each is placed once instead.
            # Either way XLA reads the aligned arrays in place (``_take_aligned``).
            put = (lambda a: a) if self._pad_blocks and self._fuse_blocks else jax.device_put

            def take(idx):
                return tree.map_structure(
                    lambda a: None if a is None else put(_take_aligned(np.asarray(a), idx)), placed)

            if self._pad_blocks:
                return [_Block(take(np.stack(self._padded(block))), len(block))]
            return [take(idx) for idx in self._blocks(block)]
        return [self._shard_batches(_gather_jit(placed, np.asarray(idx, np.int32))) for idx in self._blocks(block)]

    def _padded(self, block):
        """``block`` (batches of one size, or their indices) filled up to ``steps_per_call`` by repeating
        its last batch."""
        return list(block) + [block[-1]] * (self.steps_per_call - len(block))

    def _blocks(self, block):
        if len(block) == self.steps_per_call:
            return [np.stack(block)]
        return [np.asarray(b)[None] for b in block]

    def place_batches(self, block):
        """Host batches ``[(x, y, sw), ...]`` of one shape from an iterable source (the prefetcher groups
        them so), as device arrays with a leading steps dimension: all stacked when they fill a compiled
        call, else one by one (called on the data-prefetch thread)."""
        if self.placement is not None and self.placement.multi_process:
            # Each process's batches are its own shard: together they make the global batch.
            groups = [block] if len(block) == self.steps_per_call else [[b] for b in block]
            return [self.placement.from_process_shards(_stack_batches(g)) for g in groups]
        if self._pad_blocks:
            return [_Block(_place_stacked(_stack_batches(self._padded(block))), len(block))]
        groups = [block] if len(block) == self.steps_per_call else [[b] for b in block]
        return [self._shard_batches(_place_stacked(_stack_batches(g))) for g in groups]


class TrainFunction(_StepFunction):
    def __init__(self, model):
        spe = model.steps_per_execution or _AUTO_STEPS
        super().__init__(model, spe)
        self.tv = model.trainable_variables
        self.ntv = model.non_trainable_variables
        model.optimizer.build(self.tv)
        self.ov = list(model.optimizer.variables)
        self.mv = model.metrics_variables
        self._distribute(tv=self.tv, ntv=self.ntv, ov=self.ov, mv=self.mv)
        self._compile_steps(self._multi_step, donate=(0,))

    def _step(self, state, batch):
        model = self.model
        tv, ntv, ov, mv = state
        x, y, sw = batch

        def loss_fn(tv_vals):
            # The metric variables are in scope too: a custom compute_loss may update trackers of the model.
            with StatelessScope(list(zip(self.tv, tv_vals)) + list(zip(self.ntv, ntv)) +
                                list(zip(self.ov, ov)) + list(zip(self.mv, mv))) as scope:
                y_pred = model(x, training=True)
                loss = model.compute_loss(x, y, y_pred, sw)
                scaled = model.optimizer.scale_loss(loss)  # a loss scale is optimizer state
            return scaled, (loss, y_pred, _scope_values(scope, self.ntv, ntv), model._pop_output_losses(),
                            _scope_values(scope, self.mv, mv))

        (_, (loss, y_pred, ntv, out_losses, mv)), grads = jax.value_and_grad(loss_fn, has_aux=True)(tv)
        with StatelessScope(list(zip(self.tv, tv)) + list(zip(self.ov, ov))) as scope:
            model.optimizer.apply(grads, self.tv)
        tv, ov = _scope_values(scope, self.tv, tv), _scope_values(scope, self.ov, ov)
        with StatelessScope(list(zip(self.mv, mv))) as scope:
            model._update_metrics(y, y_pred, sw, loss, tree.flatten(x)[0].shape[0], out_losses)
        mv = _scope_values(scope, self.mv, mv)
        return (self._hold("tv", tv), self._hold("ntv", ntv), self._hold("ov", ov), self._hold("mv", mv))

    def _multi_step(self, state, batches):
        def body(st, batch):
            return self._step(st, batch), None

        return self._scan(body, state, batches)

    def __call__(self, placed, block):
        for batches in self._batches(placed, block):
            state = (_values(self.tv), _values(self.ntv), _values(self.ov), _values(self.mv))
            tv, ntv, ov, mv = self._run_block(state, batches)
            _write(self.tv, tv)
            _write(self.ntv, ntv)
            _write(self.ov, ov)
            _write(self.mv, mv)

    def run_batches(self, placed):
        """Train on the blocks of an iterable source, as placed by ``place_batches``."""
        for batches in placed:
            state = (_values(self.tv), _values(self.ntv), _values(self.ov), _values(self.mv))
            tv, ntv, ov, mv = self._run_block(state, batches)
            _write(self.tv, tv)
            _write(self.ntv, ntv)
            _write(self.ov, ov)
            _write(self.mv, mv)


class TestFunction(_StepFunction):
    def __init__(self, model):
        super().__init__(model, model.steps_per_execution or _AUTO_STEPS)
        self.tv = model.trainable_variables
        self.ntv = model.non_trainable_variables
        self.mv = model.metrics_variables
        self._distribute(tv=self.tv, ntv=self.ntv, mv=self.mv)
        self._compile_steps(self._multi_step, donate=(1,))

    def _multi_step(self, tv, state, batches):
        model = self.model

        def body(carry, batch):
            ntv, mv = carry
            xb, yb, swb = batch
            with StatelessScope(list(zip(self.tv, tv)) + list(zip(self.ntv, ntv)) + list(zip(self.mv, mv))) as scope:
                y_pred = model(xb, training=False)
                loss = model.compute_loss(xb, yb, y_pred, swb)
            # Non-trainable state a layer updates in inference (a stateful RNN's states) carries
            # from batch to batch, as on PyTorch; trackers a custom compute_loss updates too.
            ntv, mv = _scope_values(scope, self.ntv, ntv), _scope_values(scope, self.mv, mv)
            with StatelessScope(list(zip(self.mv, mv))) as scope:
                model._update_metrics(yb, y_pred, swb, loss, tree.flatten(xb)[0].shape[0],
                                      model._pop_output_losses())
            return (ntv, _scope_values(scope, self.mv, mv)), None

        return self._scan(body, state, batches)

    def __call__(self, placed, block):
        tv = _values(self.tv)
        for batches in self._batches(placed, block):
            ntv, mv = self._run_block(tv, (_values(self.ntv), _values(self.mv)), batches)
            _write(self.ntv, ntv)
            _write(self.mv, mv)

    def run_batches(self, placed):
        """Evaluate the blocks of an iterable source, as placed by ``place_batches``."""
        tv = _values(self.tv)
        for batches in placed:
            ntv, mv = self._run_block(tv, (_values(self.ntv), _values(self.mv)), batches)
            _write(self.ntv, ntv)
            _write(self.mv, mv)


class PredictFunction(_StepFunction):
    def __init__(self, model):
        super().__init__(model, 1)
        self.tv = model.trainable_variables
        self.ntv = model.non_trainable_variables
        self._distribute(tv=self.tv, ntv=self.ntv)
        self._fn = self._compile(self._predict, donate=())

    def place(self, data):
        if self.placement is not None and self.placement.multi_process:
            return (self.placement.replicate(data.x), None, None)
        if self._host_gather:  # batches taken on the host, as in training (see __call__)
            return (_host(data.x), None, None)
        return (_place(data.x), None, None)

    def _predict(self, weights, x, idx):
        tv, ntv = weights
        with StatelessScope(list(zip(self.tv, tv)) + list(zip(self.ntv, ntv))) as scope:
            out = self.model(_gather(x, idx), training=False)
        return out, _scope_values(scope, self.ntv, ntv)

    def __call__(self, placed, block):
        if self._host_gather:
            # The compiled program sees one batch, so it depends on the batch shape only: predicting on data
            # of a new length compiles nothing new (a gather compiled with the whole input compiled two
            # programs, ~0.2 s, for every new length), and the input is not copied to the device first.
            idx = np.asarray(block[0])
            batch = tree.map_structure(lambda a: None if a is None else _take_aligned(a, idx), placed[0])
            return self.predict_batch([(batch, None, None)])
        weights = (_values(self.tv), _values(self.ntv))
        out, ntv = self._settle(self._fn(weights, placed[0], np.asarray(block[0], np.int32)))
        _write(self.ntv, ntv)
        return out

    def place_batches(self, block):
        """Host batches of an iterable source as device arrays, one batch per prediction call."""
        return [(_place(x), None, None) for x, _, _ in block]

    def _predict_placed(self, weights, x):
        tv, ntv = weights
        with StatelessScope(list(zip(self.tv, tv)) + list(zip(self.ntv, ntv))) as scope:
            out = self.model(x, training=False)
        return out, _scope_values(scope, self.ntv, ntv)

    def predict_array(self, x):
        """The outputs for one NumPy batch (``predict`` of a small array, ``predict_on_batch``). An array that
        ``convert_to_tensor`` would not cast goes to the compiled function as it is: jit's own transfer costs
        ~25 us less than placing it first (a one-sample ``predict`` of the MLP: ~70 -> ~47 us)."""
        plain = type(x) is np.ndarray and _engine_dtype(x.dtype) == x.dtype  # not a masked array, a memmap ...
        return self.predict_batch([(x if plain else _place(x), None, None)])

    def predict_batch(self, placed):
        """The outputs for one batch of an iterable source, as placed by ``place_batches``."""
        fn = self.__dict__.get("_placed_fn")
        if fn is None:
            fn = self._placed_fn = self._compile(self._predict_placed, donate=())
        out, ntv = self._settle(fn((_values(self.tv), _values(self.ntv)), placed[0][0]))
        _write(self.ntv, ntv)
        return out


def make_train_function(model):
    """Return the training step runner for ``model``."""
    return TrainFunction(model)


def make_test_function(model):
    """Return the evaluation step runner for ``model``."""
    return TestFunction(model)


def make_predict_function(model):
    """Return the prediction step runner for ``model``."""
    return PredictFunction(model)


def jit_stateless_step(method):
    """A step in Keras's stateless form (``step(state, data) -> (logs, state)``), compiled with ``jax.jit``."""
    return jax.jit(method)


def _no_module_methods(method):
    return AttributeError(f"{method}() is torch.nn.Module's method, available with the PyTorch backend; on JAX "
                          "compute gradients with lamina.ops.value_and_grad (or jax.grad with stateless_call).")


def module_parameters(weights):
    """``model.parameters()`` exists on the PyTorch backend only; here it says what to use instead."""
    raise _no_module_methods("parameters")


def module_zero_grad(weights, set_to_none=True):
    """``model.zero_grad()`` exists on the PyTorch backend only; here it says what to use instead."""
    raise _no_module_methods("zero_grad")


def custom_step_runner(model, method, collect_state):
    """``method`` (a model's own train/test step) compiled after a first eager call (see custom_step.py)."""
    from lamina.backend.jax.custom_step import CustomStepRunner

    return CustomStepRunner(model, method, collect_state)
