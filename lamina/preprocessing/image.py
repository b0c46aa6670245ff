"""``lamina.preprocessing.image``: the Keras 2-era import path of the image file helpers."""

from lamina.utils.image_utils import array_to_img, img_to_array, load_img, save_img, smart_resize  # noqa: F401
