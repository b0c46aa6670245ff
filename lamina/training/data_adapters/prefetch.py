"""Prefetch batches on a background thread: read host batches, group them, place them on the device.

The training step then finds its next batch already on the device, as it would in a
hand-written loop with its data ready. Up to ``group`` consecutive batches of the same
shapes form one block (the JAX trainer runs a block in one compiled call); the step
function's ``place_batches(block)`` converts a block to engine tensors on this thread.
"""

import queue
import threading

from lamina.training.data_adapters.batches import shape_key

_DONE = object()


class Prefetcher:
    """Iterate ``(placed_block, num_batches)`` pairs, computed ``depth`` blocks ahead."""

    def __init__(self, host_batches, place, group=1, depth=2):
        self._source = host_batches
        self._place = place
        self._group = max(1, int(group))
        self._queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lamina-prefetch", daemon=True)
        self._thread.start()

    def _blocks(self):
        block, key = [], None
        for batch in self._source:
            if self._group == 1:
                yield [batch]
                continue
            k = shape_key(batch)
            if block and k != key:
                yield block
                block = []
            block.append(batch)
            key = k
            if len(block) == self._group:
                yield block
                block = []
        if block:
            yield block

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
