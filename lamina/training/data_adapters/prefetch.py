"""Prefetch batches on a background thread: read host batches, group them, place them on the device.

The training step then finds its next batch already on the device, as it would in a
hand-written loop with its data ready. Up to ``group`` consecutive batches of the same
shapes form one block (the JAX trainer runs a block in one compiled call); the step
function's ``place_batches(block)`` converts a block to engine tensors on this thread.

``for_steps`` chooses: a step function whose steps hold the interpreter lock most of the time (PyTorch's eager
steps on a CPU) says ``prefetch = "auto"``, and then a source that is cheap to read (slicing arrays, a
DataLoader over tensors) is read in the training thread itself - handing each batch over from another thread and
contending for the interpreter lock costs more than the read (measured: PyDataset 1.2x the arrays' step time with
the thread, 1.0-1.07x without) - while a source that takes time (files, decoding) moves to the background thread
after its first few blocks.
"""

import queue
import threading
import time

from lamina.training.data_adapters.batches import shape_key

_DONE = object()


class Prefetcher:
    """Iterate ``(placed_block, num_batches)`` pairs, computed ``depth`` blocks ahead."""

    def __init__(self, host_batches, place, group=1, depth=2, blocks=None):
        self._block_iter = blocks if blocks is not None else _blocks(host_batches, group)
        self._place = place
        self._queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lamina-prefetch", daemon=True)
        self._thread.start()

    def _blocks(self):
        return self._block_iter

    def _put(self, item):
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self):
        try:
            for block in self._blocks():
                if self._stop.is_set() or not self._put((self._place(block), len(block))):
                    return
            self._put(_DONE)
        except BaseException as e:  # handed to the consuming thread, which raises it
            self._put(e)

    def __iter__(self):
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self):
        """Stop the thread (after an early stop or an error) and wait for it."""
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join()


def _blocks(source, group):
    """Lists of up to ``group`` consecutive batches of ``source`` with the same shapes."""
    group = max(1, int(group))
    block, key = [], None
    for batch in source:
        if group == 1:
            yield [batch]
            continue
        k = shape_key(batch)
        if block and k != key:
            yield block
            block = []
        block.append(batch)
        key = k
        if len(block) == group:
            yield block
            block = []
    if block:
        yield block


class AdaptivePrefetcher:
    """Read the first ``PROBE`` blocks in the calling thread, timing the reading and placing; stay there when a
    block takes under ``CHEAP_S`` seconds, else hand the rest of the source to a background ``Prefetcher``."""

    PROBE = 8
    CHEAP_S = 2e-4

    def __init__(self, host_batches, place, group=1, depth=2):
        self._block_iter = _blocks(host_batches, group)
        self._place = place
        self._depth = depth
        self._background = None
        self.inline = True  # (for tests) whether the blocks so far were read in the calling thread

    def __iter__(self):
        spent = 0.0
        for n in range(1, self.PROBE + 1):  # the probe: each block's reading and placing timed
            start = time.perf_counter()
            block = next(self._block_iter, None)
            if block is None:
                return
            item = (self._place(block), len(block))
            spent += time.perf_counter() - start
            yield item
        if spent / self.PROBE >= self.CHEAP_S:
            self.inline = False
            self._background = Prefetcher(None, self._place, depth=self._depth, blocks=self._block_iter)
            yield from self._background
            return
        for block in self._block_iter:  # cheap: the rest in this thread, untimed
            yield self._place(block), len(block)

    def close(self):
        if self._background is not None:
            self._background.close()
        else:
            self._block_iter.close()


def for_steps(fn, host_batches, group=1):
    """The prefetcher for step function ``fn``: background unless ``fn.prefetch == "auto"``."""
    if getattr(fn, "prefetch", "background") == "auto":
        return AdaptivePrefetcher(host_batches, fn.place_batches, group=group)
    return Prefetcher(host_batches, fn.place_batches, group=group)
