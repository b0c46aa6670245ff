"""Random numbers from explicit, saveable seeds (``lamina.random``).

``seed`` may be an int (always the same numbers), None (drawn from the global
``SeedGenerator``, which ``lamina.utils.set_random_seed`` resets), or a
``SeedGenerator`` (its state is a Variable: saved with the model and threaded
through compiled steps).

Example:
>>> import lamina
>>> a = lamina.random.normal((2,), seed=1); b = lamina.random.normal((2,), seed=1)
>>> bool((lamina.ops.convert_to_numpy(a) == lamina.ops.convert_to_numpy(b)).all())
True
"""

from lamina.random.random import (  # noqa: F401
    SeedGenerator,
    beta,
    binomial,
    categorical,
    draw_seed,
    dropout,
    gamma,
    global_seed_generator,
    normal,
    randint,
    shuffle,
    truncated_normal,
    uniform,
)
