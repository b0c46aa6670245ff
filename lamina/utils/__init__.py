"""``lamina.utils``: to_categorical, set_random_seed, Progbar and other helpers."""

from lamina.utils.numerical import normalize, to_categorical  # noqa: F401
from lamina.utils.file_utils import get_file, pad_sequences  # noqa: F401
from lamina.utils.progbar import Progbar  # noqa: F401
from lamina.utils.seeding import set_random_seed  # noqa: F401


def clear_session(free_memory=True):
    """Reset lamina's global state, as Keras's ``clear_session``: the layer name counters, and (with
    ``free_memory``) a garbage collection plus the engine's caches of compiled functions no live model uses
    (JAX's compiled executables; PyTorch's ``torch.compile`` state), so a loop that builds many models does
    not grow.

    Example:
    >>> import lamina
    >>> lamina.utils.clear_session()
    >>> lamina.layers.Dense(1).name
    'dense'
    """
    import gc

    from lamina import backend
    from lamina.utils.naming import reset_uids

    reset_uids()
    if free_memory:
        gc.collect()
        import importlib

        importlib.import_module(backend.engine.__name__ + ".memory").release_compiled_functions()


from lamina.utils.dataset_utils import (  # noqa: E402,F401
    pack_x_y_sample_weight,
    split_dataset,
    timeseries_dataset_from_array,
    unpack_x_y_sample_weight,
)
from lamina.utils.py_dataset import PyDataset, Sequence  # noqa: E402,F401
from lamina.utils.image_utils import array_to_img, img_to_array, load_img, save_img  # noqa: E402,F401
from lamina.utils.text_dataset_utils import text_dataset_from_directory  # noqa: E402,F401
from lamina.utils.image_dataset_utils import image_dataset_from_directory  # noqa: E402,F401
