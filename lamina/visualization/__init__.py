"""``lamina.visualization``: draw boxes and masks on images, and plot galleries of them.

``draw_bounding_boxes`` and ``draw_segmentation_masks`` return NumPy images; the ``plot_*`` functions build a
matplotlib figure (matplotlib is needed only for those, and imported when they are called).
"""

from lamina.visualization.draw_bounding_boxes import draw_bounding_boxes  # noqa: F401
from lamina.visualization.draw_segmentation_masks import draw_segmentation_masks  # noqa: F401
from lamina.visualization.plot_galleries import (  # noqa: F401
    plot_bounding_box_gallery,
    plot_image_gallery,
    plot_segmentation_mask_gallery,
)

__all__ = [
    "draw_bounding_boxes",
    "draw_segmentation_masks",
    "plot_bounding_box_gallery",
    "plot_image_gallery",
    "plot_segmentation_mask_gallery",
]
