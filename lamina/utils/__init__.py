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
from lamina.utils.audio_dataset import audio_dataset_from_directory  # noqa: E402,F401
from lamina.utils.model_visualization import model_to_dot, plot_model  # noqa: E402,F401
from lamina.utils.io_utils import (  # noqa: E402,F401
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from lamina.backend.common.dtypes import standardize_dtype  # noqa: E402,F401
from lamina.backend.common.keras_tensor import is_keras_tensor  # noqa: E402,F401
from lamina.saving.serialization import (  # noqa: E402,F401
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
)
from lamina.saving import deserialize_keras_object, register_keras_serializable, serialize_keras_object  # noqa: E402,F401,E501


def get_source_inputs(tensor):
    """The ``Input`` tensors that the symbolic ``tensor`` is computed from (in the order they are reached).

    Example:
    >>> import lamina
    >>> a, b = lamina.Input((2,)), lamina.Input((2,))
    >>> c = lamina.layers.Add()([a, b])
    >>> [t is a for t in lamina.utils.get_source_inputs(c)]
    [True, False]
    """
    from lamina.backend.common.keras_tensor import KerasTensor

    if not isinstance(tensor, KerasTensor):
        raise ValueError(f"get_source_inputs expected a symbolic tensor (from lamina.Input or a layer called on "
                         f"one), but received {type(tensor).__name__}.")
    found, seen, pending = [], set(), [tensor]
    while pending:
        t = pending.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        history = getattr(t, "_history", None)
        if history is None or history.node.is_input:
            found.append(t)
            continue
        pending.extend(reversed(list(history.node.input_tensors)))
    return found
from lamina.utils.config_dict import Config  # noqa: E402,F401
from lamina.utils import legacy  # noqa: E402,F401
from lamina.utils import bounding_boxes  # noqa: E402,F401


def __getattr__(name):
    # FeatureSpace is made of layers, and the layers import lamina.utils: load it when first asked.
    if name == "FeatureSpace":
        from lamina.utils.feature_space import FeatureSpace

        return FeatureSpace
    raise AttributeError(f"module 'lamina.utils' has no attribute '{name}'")
