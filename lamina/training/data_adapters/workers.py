"""Fetch ``PyDataset`` batches in parallel, in order: worker threads, or worker processes.

Processes are started with the "spawn" method (safe with the multithreaded engines);
the dataset is pickled once and sent to each worker when the pool starts, and the
pool is restarted only when the dataset's pickled state changes (e.g. reshuffled in
``on_epoch_end``), so worker processes always see the current dataset.
"""

import collections
import multiprocessing
import pickle
from concurrent.futures import ThreadPoolExecutor

_WORKER_DATASET = None


def _init_worker(payload):
    global _WORKER_DATASET
    _WORKER_DATASET = pickle.loads(payload)


def _fetch(index):
    return _WORKER_DATASET[index]


class OrderedFetcher:
    """``fetch(indices)`` yields ``dataset[i]`` for each index, computed by workers ahead of time."""

    def __init__(self, dataset, workers, use_multiprocessing, max_queue_size):
        self.dataset = dataset
        self.workers = max(1, int(workers))
        self.use_multiprocessing = bool(use_multiprocessing)
        self.ahead = max(1, int(max_queue_size))
        self._pool = None
        self._payload = None

    @property
    def parallel(self):
        return self.workers > 1 or self.use_multiprocessing

    def _executor(self):
        if not self.use_multiprocessing:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="lamina-pydataset")
            return self._pool
        try:
            payload = pickle.dumps(self.dataset)
        except Exception as e:
            raise ValueError(
                f"PyDataset {type(self.dataset).__name__} has use_multiprocessing=True but cannot be pickled "
                f"to send to worker processes ({type(e).__name__}: {e}). Define the class at module level, "
                "keep only picklable attributes, or use threads (use_multiprocessing=False)."
            ) from e
        if self._pool is None or payload != self._payload:
            self.close()
            ctx = multiprocessing.get_context("spawn")
            self._pool = ctx.Pool(self.workers, initializer=_init_worker, initargs=(payload,))
            self._payload = payload
        return self._pool

    def _submit(self, pool, index):
        if self.use_multiprocessing:
            return pool.apply_async(_fetch, (index,))
        return pool.submit(self.dataset.__getitem__, index)

    def _result(self, future):
        return future.get() if self.use_multiprocessing else future.result()

    def fetch(self, indices):
        if not self.parallel:
            for i in indices:
                yield self.dataset[i]
            return
        pool = self._executor()
        pending = collections.deque()
        it = iter(indices)
        try:
            for i in it:
                pending.append(self._submit(pool, i))
                if len(pending) >= self.ahead:
                    break
            while pending:
                result = self._result(pending.popleft())
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(self._submit(pool, nxt))
                yield result
        finally:
            if not self.use_multiprocessing:
                for f in pending:
                    f.cancel()

    def close(self):
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if self.use_multiprocessing:
            pool.terminate()
            pool.join()
        else:
            pool.shutdown(wait=True, cancel_futures=True)
