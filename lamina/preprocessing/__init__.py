"""``lamina.preprocessing``: Keras's legacy ``keras.preprocessing`` helpers (``sequence.pad_sequences``)."""

from lamina.preprocessing import sequence  # noqa: F401
from lamina.preprocessing import image  # noqa: F401,E402
from lamina.preprocessing import text  # noqa: F401,E402
from lamina.utils.dataset_utils import timeseries_dataset_from_array  # noqa: F401,E402
from lamina.utils.image_dataset_utils import image_dataset_from_directory  # noqa: F401,E402
from lamina.utils.text_dataset_utils import text_dataset_from_directory  # noqa: F401,E402
