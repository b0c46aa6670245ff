"""``lamina.utils``: to_categorical, set_random_seed, Progbar and other helpers."""

from lamina.utils.numerical import normalize, to_categorical  # noqa: F401
from lamina.utils.file_utils import get_file, pad_sequences  # noqa: F401
from lamina.utils.progbar import Progbar  # noqa: F401
from lamina.utils.seeding import set_random_seed  # noqa: F401


def clear_session():
    """Reset lamina's global state (layer name counters), as Keras's ``clear_session``."""
    from lamina.utils.naming import reset_uids

    reset_uids()


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
