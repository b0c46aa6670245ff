"""``lamina.utils``: to_categorical, set_random_seed, Progbar and other helpers."""

from lamina.utils.numerical import normalize, to_categorical  # noqa: F401
from lamina.utils.file_utils import get_file, pad_sequences  # noqa: F401
from lamina.utils.progbar import Progbar  # noqa: F401
from lamina.utils.seeding import set_random_seed  # noqa: F401


def clear_session():
    """Reset lamina's global state (layer name counters), as Keras's ``clear_session``."""
    from lamina.utils.naming import reset_uids

    reset_uids()
