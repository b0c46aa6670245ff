"""``lamina.preprocessing.image``: the Keras 2-era import path of the image helpers.

The image file helpers (``load_img`` & co) and Keras 2's ``ImageDataGenerator`` with its iterators
(``NumpyArrayIterator``, ``DirectoryIterator``, ``DataFrameIterator``) and NumPy/SciPy augmentation functions.
"""

from lamina.utils.image_utils import array_to_img, img_to_array, load_img, save_img, smart_resize  # noqa: F401
from lamina.preprocessing.image_data_generator import ImageDataGenerator  # noqa: F401
from lamina.preprocessing.image_dataframe import DataFrameIterator  # noqa: F401
from lamina.preprocessing.image_iterators import DirectoryIterator, Iterator, NumpyArrayIterator  # noqa: F401
from lamina.preprocessing.image_transforms import (  # noqa: F401
    apply_affine_transform, apply_brightness_shift, apply_channel_shift, flip_axis, random_brightness,
    random_channel_shift, random_rotation, random_shear, random_shift, random_zoom, transform_matrix_offset_center)
