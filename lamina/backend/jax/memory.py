"""Releasing what JAX keeps after a model is gone (twin of ``backend/torch/memory.py``)."""

import jax

# JAX keeps every lowered and compiled computation in process-wide LRU caches (4096 entries each),
# keyed by the computation, not by the function that made it: when a model and its jitted steps are
# deleted, their executables stay. A loop that builds many models (a hyperparameter search) grows
# by megabytes per model. These are the caches that hold the executables and their lowerings.
_COMPILED_CACHES = ("_cached_compilation", "_cached_lowering_to_hlo", "_pjit_lower")


def release_compiled_functions():
    """Drop JAX's cached compiled executables of functions that are no longer used.

    Live jitted functions keep their own executables (their fast-path caches are not
    touched); a new function compiles as usual. Returns the number of caches cleared.
    """
    try:
        from jax._src import util

        caches = list(util._caches.items())
    except (ImportError, AttributeError):  # another JAX layout: clear everything (correct, slower)
        jax.clear_caches()
        return -1
    cleared = 0
    for cache, what in caches:
        name = getattr(cache, "__name__", None) or str(what)
        if any(name == n or f"function {n} " in str(what) for n in _COMPILED_CACHES):
            cache.cache_clear()
            cleared += 1
    return cleared
