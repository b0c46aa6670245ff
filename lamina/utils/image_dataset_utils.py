"""``image_dataset_from_directory``: a dataset of ``(images, labels)`` batches from a folder of image files."""

import io

import numpy as np

from lamina.utils import image_utils as iu
from lamina.utils.directory_dataset import make_datasets

IMAGE_FORMATS = (".jpeg", ".jpg", ".png", ".bmp", ".gif")
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3")


def _image_loader(color_mode, image_size, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio,
                  data_format):
    Image = iu.pil_image()
    resample = iu.resample_filter(interpolation, "image_dataset_from_directory")
    height, width = image_size

    def load(path):
        with open(path, "rb") as f:
            img = Image.open(io.BytesIO(f.read()))
            img.seek(0)  # animated GIF: the first frame
            img = iu.convert_mode(img, color_mode, "image_dataset_from_directory")
        w, h = img.size
        if crop_to_aspect_ratio:
            img = img.crop(iu.crop_box(h, w, height, width))
        elif pad_to_aspect_ratio:
            pad_h = max(h, w * height // width)
            pad_w = max(w, h * width // height)
            if (pad_h, pad_w) != (h, w):
                canvas = Image.new(img.mode, (pad_w, pad_h))
                canvas.paste(img, ((pad_w - w) // 2, (pad_h - h) // 2))
                img = canvas
        if img.size != (width, height):
            img = img.resize((width, height), resample)
        x = np.asarray(img, dtype="float32")
        if x.ndim == 2:
            x = x[:, :, None]
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    return load


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                 color_mode="rgb", batch_size=32, image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, data_format=None,
                                 format=None, verbose=True):
    """Batches of images (and labels) from ``directory``, which holds one sub-folder of images per class.

    Images (``.jpeg .jpg .png .bmp .gif``; the first frame of an animated GIF) are decoded with Pillow when a
    batch is requested, converted to ``color_mode`` and resized to ``image_size``. Returns a ``PyDataset``
    (a ``FileDataset``) whose item ``i`` is ``(images, labels)``: ``images`` is float32 (values 0..255) of
    shape ``(batch, height, width, channels)`` (``(batch, channels, height, width)`` with
    ``data_format="channels_first"``); ``labels`` as in ``text_dataset_from_directory`` (``"int"``: int32
    ``(batch,)``, ``"categorical"``: float32 one-hot, ``"binary"``: float32 ``(batch, 1)``, None: images
    only). The dataset has ``class_names``, ``file_paths``, ``map(fn)``, ``cache()`` and ``take(n)``.

    Args:
        directory, labels, label_mode, class_names, batch_size, shuffle, seed, validation_split, subset,
            follow_links, verbose: as in ``lamina.utils.text_dataset_from_directory``.
        color_mode: ``"rgb"`` (3 channels), ``"rgba"`` (4) or ``"grayscale"`` (1).
        image_size: ``(height, width)`` of the output images.
        interpolation: ``"bilinear"`` (default), ``"nearest"``, ``"bicubic"``, ``"area"`` or ``"lanczos3"``
            (Pillow's filters; when shrinking, Pillow's bilinear/bicubic filters smooth over the source pixels,
            as ``tf.image.resize(..., antialias=True)``).
        crop_to_aspect_ratio: crop the centre of each image to the aspect ratio of ``image_size`` first.
        pad_to_aspect_ratio: pad each image with black (centred) to the aspect ratio of ``image_size`` first.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: ``lamina.config.image_data_format()``).
        format: accepted for Keras compatibility and ignored (the result is always a lamina ``PyDataset``).
    """
    who = "image_dataset_from_directory"
    height, width = iu._check_size(image_size, "image_size", who)
    iu.check_color_mode(color_mode, who)
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{who}: `interpolation` must be one of {list(_INTERPOLATIONS)}, but received "
                         f"interpolation={interpolation!r}.")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(f"{who}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True.")
    data_format = iu._check_data_format(data_format, who)
    load = _image_loader(color_mode, (height, width), interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio,
                         data_format)
    return make_datasets(who, directory, labels, label_mode, class_names, IMAGE_FORMATS, "images", batch_size,
                         shuffle, seed, validation_split, subset, follow_links, verbose, load, np.stack)
