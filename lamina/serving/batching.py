"""Request batching: concurrent requests are merged into one model call, and the results split back.

A ``Batcher`` owns an asyncio queue and one worker thread. ``await batcher.submit(arrays)`` puts a
request (one array per model input, all with the same number of rows) on the queue; a loop task
takes the first waiting request, then keeps adding requests whose arrays have the same trailing
shapes until ``max_batch_size`` rows are gathered or ``batch_timeout`` seconds have passed since
the first one arrived. The merged arrays go to ``predict_fn`` in the worker thread (so the event
loop keeps answering other requests), and each request gets back its own rows of every output.
"""

import asyncio
import collections
import concurrent.futures
import time

import numpy as np


class Batcher:
    """Merge concurrent requests into batched model calls.

    Args:
        predict_fn: ``predict_fn(list_of_arrays) -> list_of_arrays``, one array per input in and one
            per output out, every one with the batch on axis 0. Runs in a worker thread.
        max_batch_size: most rows in one model call. A single request with more rows runs alone.
            ``1`` turns batching off (every request is its own call).
        batch_timeout: seconds the first request of a batch waits for others to join (default 2 ms).
        on_batch: optional ``on_batch(rows, requests, seconds)`` called after each model call.
    """

    def __init__(self, predict_fn, max_batch_size=32, batch_timeout=0.002, on_batch=None):
        if int(max_batch_size) < 1:
            raise ValueError(f"Batcher: max_batch_size must be >= 1, but received {max_batch_size}.")
        if float(batch_timeout) < 0:
            raise ValueError(f"Batcher: batch_timeout must be >= 0 seconds, but received {batch_timeout}.")
        self.predict_fn = predict_fn
        self.max_batch_size = int(max_batch_size)
        self.batch_timeout = float(batch_timeout)
        self.on_batch = on_batch
        self._pending = collections.deque()
        self._wakeup = None
        self._task = None
        self._executor = None
        self._busy = False

    async def start(self):
        """Start the batching loop on the running event loop."""
        self._wakeup = asyncio.Event()
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="lamina-model")
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self):
        """Finish the requests already queued, then stop the loop and the worker thread."""
        if self._task is None:
            return
        while self._pending or self._busy:
            await asyncio.sleep(self.batch_timeout or 0.001)
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None
        self._executor.shutdown(wait=True)

    async def run_in_worker(self, fn, *args):
        """Run ``fn(*args)`` in the model's worker thread (used for warm-up)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def submit(self, arrays):
        """Queue one request; return its outputs (one array per output) once its batch has run."""
        if self._task is None:
            raise RuntimeError("Batcher.submit: the batcher is not started; call `await batcher.start()`.")
        future = asyncio.get_running_loop().create_future()
        self._pending.append((arrays, future, time.perf_counter()))
        self._wakeup.set()
        return await future

    @staticmethod
    def _key(arrays):
        return tuple((a.shape[1:], a.dtype.str) for a in arrays)

    def _take_batch(self):
        """Pop the first request and every waiting one that fits with it (same trailing shapes, size)."""
        first = self._pending.popleft()
        batch, rows, key = [first], len(first[0][0]), self._key(first[0])
        kept = collections.deque()
        while self._pending and rows < self.max_batch_size:
            item = self._pending.popleft()
            n = len(item[0][0])
            if self._key(item[0]) == key and rows + n <= self.max_batch_size:
                batch.append(item)
                rows += n
            else:
                kept.append(item)
        self._pending.extendleft(reversed(kept))
        return batch, rows

    async def _loop(self):
        loop = asyncio.get_running_loop()
        while True:
            if not self._pending:
                self._wakeup.clear()
                await self._wakeup.wait()
            deadline = self._pending[0][2] + self.batch_timeout
            while self._queued_rows() < self.max_batch_size and time.perf_counter() < deadline:
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), max(0.0, deadline - time.perf_counter()))
                except asyncio.TimeoutError:
                    break
            batch, _ = self._take_batch()
            live = [item for item in batch if not item[1].done()]  # a client may have gone away
            if not live:
                continue
            started = time.perf_counter()
            self._busy = True
            try:
                outputs = await loop.run_in_executor(self._executor, self._run, [item[0] for item in live])
            except Exception as exc:  # the model failed: every request of the batch gets the error
                for item in live:
                    if not item[1].done():
                        item[1].set_exception(exc)
                continue
            finally:
                self._busy = False
            if self.on_batch is not None:
                self.on_batch(sum(len(item[0][0]) for item in live), len(live), time.perf_counter() - started)
            for item, out in zip(live, outputs):
                if not item[1].done():
                    item[1].set_result(out)

    def _queued_rows(self):
        return sum(len(item[0][0]) for item in self._pending)

    def _run(self, requests):
        """In the worker thread: one model call for all ``requests``; return each one's outputs."""
        if len(requests) == 1:
            return [self.predict_fn(requests[0])]
        merged = [np.concatenate(column, axis=0) for column in zip(*requests)]
        outputs = self.predict_fn(merged)
        bounds = np.cumsum([len(r[0]) for r in requests])[:-1]
        per_output = [np.split(o, bounds, axis=0) for o in outputs]
        return [[parts[i] for parts in per_output] for i in range(len(requests))]
