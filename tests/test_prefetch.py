"""Reading iterable sources ahead of the step: the background Prefetcher and the adaptive choice (a cheap source
read in the training thread, a slow one moved to the background after a few blocks)."""

import threading
import time

import numpy as np
import pytest

import lamina
from lamina.training.data_adapters import prefetch


def _batches(n, delay=0.0, fail_at=None):
    for i in range(n):
        if delay:
            time.sleep(delay)
        if i == fail_at:
            raise RuntimeError(f"batch {i} is broken")
        yield (np.full((2, 3), i, "float32"), np.array([i, i]), None)


def _place_recording(threads):
    def place(block):
        threads.add(threading.current_thread().name)
        return [b[0][0, 0] for b in block]
    return place


@pytest.mark.parametrize("group", [1, 4])
def test_a_cheap_source_is_read_in_the_calling_thread_in_order(group):
    threads = set()
    pre = prefetch.AdaptivePrefetcher(_batches(30), _place_recording(threads), group=group)
    got = [v for placed, n in pre for v in placed]
    pre.close()
    assert got == list(range(30))
    assert pre.inline and threads == {threading.current_thread().name}


def test_a_slow_source_moves_to_the_background_thread_after_the_probe():
    threads = set()
    pre = prefetch.AdaptivePrefetcher(_batches(14, delay=0.002), _place_recording(threads))
    got = [v for placed, n in pre for v in placed]
    pre.close()
    assert got == list(range(14))
    assert not pre.inline and "lamina-prefetch" in threads


@pytest.mark.parametrize("delay", [0.0, 0.002])
def test_an_error_in_the_source_reaches_the_consumer(delay):
    pre = prefetch.AdaptivePrefetcher(_batches(20, delay=delay, fail_at=11), _place_recording(set()))
    got = []
    with pytest.raises(RuntimeError, match="batch 11 is broken"):
        for placed, n in pre:
            got.extend(placed)
    pre.close()
    assert got == list(range(11))


def test_closing_early_stops_the_background_thread():
    pre = prefetch.AdaptivePrefetcher(_batches(100, delay=0.002), _place_recording(set()))
    it = iter(pre)
    for _ in range(10):
        next(it)
    pre.close()
    assert not pre._background._thread.is_alive()


def test_fit_on_a_pydataset_gives_the_arrays_result_either_way(monkeypatch):
    """The same weights whether the batches are read in the training thread or in the background."""
    x = np.random.default_rng(0).normal(size=(96, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)

    class Slices(lamina.utils.PyDataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return x[16 * i:16 * (i + 1)], y[16 * i:16 * (i + 1)]

    def run(cheap_s):
        monkeypatch.setattr(prefetch.AdaptivePrefetcher, "CHEAP_S", cheap_s)
        monkeypatch.setattr(prefetch.AdaptivePrefetcher, "PROBE", 2)
        lamina.utils.set_random_seed(0)
        m = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(1)])
        m.compile(optimizer="sgd", loss="mse")
        m.fit(Slices(), epochs=2, verbose=0)
        return m.get_weights()

    for a, b in zip(run(1.0), run(0.0)):  # always inline / always background (on PyTorch's CPU steps)
        np.testing.assert_allclose(a, b, rtol=1e-6)
