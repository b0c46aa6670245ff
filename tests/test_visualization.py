"""lamina.visualization: drawn pixels against references (and Keras/OpenCV fixtures), galleries via matplotlib Agg."""

import inspect

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import lamina  # noqa: E402
from lamina import visualization as vis  # noqa: E402

KERAS_SIGNATURES = {
    "draw_bounding_boxes": "(images, bounding_boxes, bounding_box_format, class_mapping=None, "
                           "color=(128, 128, 128), line_thickness=2, text_thickness=1, font_scale=1.0, "
                           "data_format=None)",
    "draw_segmentation_masks": "(images, segmentation_masks, num_classes=None, color_mapping=None, alpha=0.8, "
                               "blend=True, ignore_index=-1, data_format=None)",
    "plot_bounding_box_gallery": "(images, bounding_box_format, y_true=None, y_pred=None, value_range=(0, 255), "
                                 "true_color=(0, 188, 212), pred_color=(255, 235, 59), line_thickness=2, "
                                 "font_scale=1.0, text_thickness=None, class_mapping=None, "
                                 "ground_truth_mapping=None, prediction_mapping=None, legend=False, "
                                 "legend_handles=None, rows=None, cols=None, data_format=None, **kwargs)",
    "plot_image_gallery": "(images, y_true=None, y_pred=None, label_map=None, rows=None, cols=None, "
                          "value_range=(0, 255), scale=2, path=None, show=None, transparent=True, dpi=60, "
                          "legend_handles=None, data_format=None)",
    "plot_segmentation_mask_gallery": "(images, num_classes, value_range=(0, 255), y_true=None, y_pred=None, "
                                      "color_mapping=None, blend=True, alpha=0.8, ignore_index=-1, "
                                      "data_format=None, **kwargs)",
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_public_names_and_signatures_match_keras():
    assert lamina.visualization is vis
    for name, sig in KERAS_SIGNATURES.items():
        assert str(inspect.signature(getattr(vis, name))) == sig, name


# ---- draw_bounding_boxes ----------------------------------------------------------------------------------------

def ref_outline(height, width, x1, y1, x2, y2, thickness):
    """Pixels within (thickness + 1) // 2 of the 1-pixel outline (brute force over the outline's pixels)."""
    xa, xb, ya, yb = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
    yy, xx = np.mgrid[0:height, 0:width]
    if thickness < 0:
        return (xx >= xa) & (xx <= xb) & (yy >= ya) & (yy <= yb)
    radius = 0 if thickness <= 1 else (thickness + 1) // 2
    outline = {(x, y) for x in range(xa, xb + 1) for y in (ya, yb)} | {(x, y) for y in range(ya, yb + 1)
                                                                       for x in (xa, xb)}
    covered = np.zeros((height, width), bool)
    for x, y in outline:
        covered |= (xx - x) ** 2 + (yy - y) ** 2 <= radius ** 2
    return covered


def box_dict(boxes, labels):
    return {"boxes": np.asarray(boxes, "float32"), "labels": np.asarray(labels)}


def test_outline_thickness_2_matches_opencv_fixture():
    # cv2.rectangle(img, (3, 3), (10, 9), 255, 2) on a 14 x 14 image (OpenCV 5.0).
    rows = ["00000000000000", "00000000000000", "00011111111000", "00111111111100", "00111111111100",
            "00111000011100", "00111000011100", "00111000011100", "00111111111100", "00111111111100",
            "00011111111000", "00000000000000", "00000000000000", "00000000000000"]
    want = np.array([[c == "1" for c in r] for r in rows])
    out = vis.draw_bounding_boxes(np.zeros((1, 14, 14, 3), "uint8"), box_dict([[[3, 3, 10, 9]]], [[0]]), "xyxy",
                                  color=(255, 255, 255))
    np.testing.assert_array_equal(out[0, ..., 0] == 255, want)


@pytest.mark.parametrize("thickness", [-1, 1, 2, 3, 4, 7])
def test_outlines_match_reference(thickness):
    rng = np.random.default_rng(thickness + 10)
    images = np.zeros((2, 23, 31, 3), "uint8")
    boxes = rng.integers(-8, 38, (2, 3, 4))
    labels = np.array([[0, 1, -1], [2, 0, 1]])
    color = (11, 22, 33)
    out = vis.draw_bounding_boxes(images, box_dict(boxes, labels), "xyxy", color=color, line_thickness=thickness)
    assert out.dtype == np.uint8 and out.shape == images.shape
    for i in range(2):
        want = np.zeros((23, 31), bool)
        for j in range(3):
            if labels[i, j] != -1:
                want |= ref_outline(23, 31, *boxes[i, j], thickness)
        np.testing.assert_array_equal(out[i, ..., 1] == 22, want)
        assert (out[i][want] == color).all() and (out[i][~want] == 0).all()


def test_draw_boxes_formats_float_images_and_channels_first():
    images = np.full((1, 20, 30, 3), 0.5, "float32")  # max <= 1: read as [0, 1]
    xyxy = vis.draw_bounding_boxes(images, box_dict([[[2, 3, 20, 15]]], [[1]]), "xyxy", color=(255, 0, 0))
    assert xyxy.dtype == np.uint8 and xyxy[0, 10, 10].tolist() == [127, 127, 127]
    assert xyxy[0, 3, 10].tolist() == [255, 0, 0]
    same = vis.draw_bounding_boxes(images, box_dict([[[2, 3, 18, 12]]], [[1]]), "xywh", color=(255, 0, 0))
    np.testing.assert_array_equal(same, xyxy)
    rel = vis.draw_bounding_boxes(images, box_dict([[[3 / 20, 2 / 30, 15 / 20, 20 / 30]]], [[1]]), "rel_yxyx",
                                  color=(255, 0, 0))
    np.testing.assert_array_equal(rel, xyxy)
    cf = vis.draw_bounding_boxes(np.transpose(images, (0, 3, 1, 2)), box_dict([[[2, 3, 20, 15]]], [[1]]), "xyxy",
                                 color=(255, 0, 0), data_format="channels_first")
    np.testing.assert_array_equal(np.transpose(cf, (0, 2, 3, 1)), xyxy)
    big = vis.draw_bounding_boxes(np.full((1, 4, 4, 1), 300.0), box_dict([[[0, 0, 1, 1]]], [[-1]]), "xyxy")
    assert (big == 255).all()  # floats above 1 are clipped to [0, 255]; the -1 box is not drawn
    gray = vis.draw_bounding_boxes(np.zeros((1, 4, 4, 1), "uint8"), box_dict([[[0, 0, 3, 3]]], [[0]]), "xyxy",
                                   color=(90, 1, 2), line_thickness=1)
    assert gray[0, 0, 0, 0] == 90 and gray[0, 1, 1, 0] == 0


def test_labels_are_drawn_above_or_inside_the_box():
    images = np.zeros((1, 100, 120, 3), "uint8")
    boxes = box_dict([[[10, 60, 50, 90], [70, 5, 110, 30]]], [[0, 1]])
    plain = vis.draw_bounding_boxes(images, boxes, "xyxy", color=(255, 0, 0), line_thickness=1)
    text = vis.draw_bounding_boxes(images, boxes, "xyxy", class_mapping={0: "cat", 1: "dog"}, color=(255, 0, 0),
                                   line_thickness=1)
    extra = (text[0, ..., 0] == 255) & ~(plain[0, ..., 0] == 255)
    ys, xs = np.nonzero(extra[:60, :60])
    assert len(ys) > 20 and ys.max() <= 52 and xs.min() >= 10  # "cat": baseline 8 px above the box at y=60
    ys, xs = np.nonzero(extra[:, 65:])
    assert len(ys) > 20 and ys.min() > 5 and xs.min() + 65 >= 72  # "dog": no room above, drawn inside the box
    assert set(map(tuple, text[0][extra].tolist())) == {(255, 0, 0)}
    confident = dict(boxes, confidences=np.array([[0.9, 0.5]]))
    with_conf = vis.draw_bounding_boxes(images, confident, "xyxy", class_mapping={0: "cat"}, color=(255, 0, 0),
                                        line_thickness=1)
    assert (with_conf[0, :60, 60:] == 255).sum() > (text[0, :60, 60:] == 255).sum()  # "cat | 0.90" is wider


def test_draw_bounding_boxes_errors():
    images = np.zeros((1, 5, 5, 3), "uint8")
    with pytest.raises(ValueError, match=r"draw_bounding_boxes\(\) expected a batch of images.*\(5, 5, 3\)"):
        vis.draw_bounding_boxes(images[0], box_dict([[[0, 0, 1, 1]]], [[0]]), "xyxy")
    with pytest.raises(TypeError, match=r"draw_bounding_boxes\(\) expected `bounding_boxes` to be a dict"):
        vis.draw_bounding_boxes(images, np.zeros((1, 1, 4)), "xyxy")
    with pytest.raises(ValueError, match=r"draw_bounding_boxes\(\).*'boxes' and 'labels'.*\['boxes'\]"):
        vis.draw_bounding_boxes(images, {"boxes": np.zeros((1, 1, 4))}, "xyxy")
    with pytest.raises(ValueError, match=r"draw_bounding_boxes\(\) expected boxes of shape \(batch, num_boxes, 4\)"):
        vis.draw_bounding_boxes(images, box_dict([[0, 0, 1, 1]], [0]), "xyxy")
    with pytest.raises(ValueError, match=r"convert_format\(\).*unknown bounding box format"):
        vis.draw_bounding_boxes(images, box_dict([[[0, 0, 1, 1]]], [[0]]), "ltrb")
    with pytest.raises(ValueError, match=r"draw_bounding_boxes\(\) expected data_format"):
        vis.draw_bounding_boxes(images, box_dict([[[0, 0, 1, 1]]], [[0]]), "xyxy", data_format="NHWC")


# ---- draw_segmentation_masks ------------------------------------------------------------------------------------

IMAGES = (np.arange(2 * 2 * 3 * 3).reshape(2, 2, 3, 3) * 7).astype("uint8")
MASKS = np.array([[[0, 1, 2], [2, -1, 1]], [[1, 1, 0], [3, 2, 2]]], "int32")[..., None]


def test_segmentation_masks_match_keras_fixtures():
    out = vis.draw_segmentation_masks(IMAGES, MASKS, num_classes=4, alpha=0.6)
    keras_out = [[[[0, 2, 5], [9, 87, 32], [18, 172, 59]], [[26, 180, 68], [84, 91, 98], [42, 121, 66]]],
                 [[[51, 129, 74], [59, 137, 83], [67, 70, 72]], [[77, 154, 137], [85, 239, 126], [93, 247, 135]]]]
    assert out.dtype == np.uint8 and out.tolist() == keras_out
    mapping = {0: (1, 2, 3), 1: (200, 100, 0), 2: (0, 0, 250)}
    out = vis.draw_segmentation_masks(IMAGES, MASKS, num_classes=3, color_mapping=mapping, alpha=0.3)
    keras_out = [[[[0, 5, 10], [74, 49, 24], [29, 34, 114]], [[44, 49, 128], [84, 91, 98], [133, 108, 83]]],
                 [[[148, 123, 98], [162, 137, 112], [117, 123, 128]],
                  [[189, 196, 203], [147, 151, 231], [161, 166, 246]]]]
    assert out.tolist() == keras_out


def test_segmentation_masks_match_reference():
    rng = np.random.default_rng(3)
    images = rng.uniform(0, 255, (2, 4, 5, 3)).astype("float32")
    masks = rng.integers(-1, 4, (2, 4, 5))
    palette = {0: [0, 0, 0], 1: [1, 127, 31], 2: [2, 254, 62], 3: [3, 126, 93]}  # Keras's default palette
    want = images.copy()
    for (b, y, x), k in np.ndenumerate(masks):
        if k in palette:
            want[b, y, x] = images[b, y, x] * np.float32(1 - 0.7) + np.float32(palette[k]) * np.float32(0.7)
    out = vis.draw_segmentation_masks(images, masks, alpha=0.7)  # num_classes inferred: 4 (classes 0..3)
    np.testing.assert_array_equal(out, want.astype("uint8"))
    np.testing.assert_array_equal(vis.draw_segmentation_masks(images, masks[..., None], alpha=0.7), out)
    cf = vis.draw_segmentation_masks(np.transpose(images, (0, 3, 1, 2)), masks[:, None], alpha=0.7,
                                     data_format="channels_first")
    np.testing.assert_array_equal(np.transpose(cf, (0, 2, 3, 1)), out)


def test_segmentation_masks_unblended_ignore_index_and_partial_mapping():
    images = np.full((1, 1, 4, 3), 10, "uint8")
    masks = np.array([[[0, 1, 2, 5]]])
    out = vis.draw_segmentation_masks(images, masks, num_classes=3, color_mapping={1: (9, 8, 7), 2: (1, 1, 1)},
                                      blend=False, ignore_index=2)
    assert out.dtype == np.float32
    assert out[0, 0].tolist() == [[10, 10, 10], [9, 8, 7], [10, 10, 10], [10, 10, 10]]


def test_draw_segmentation_masks_errors():
    with pytest.raises(TypeError, match=r"draw_segmentation_masks\(\) expected `segmentation_masks` of an integer"):
        vis.draw_segmentation_masks(IMAGES, MASKS.astype("float32"))
    with pytest.raises(ValueError, match=r"draw_segmentation_masks\(\) expected segmentation masks of shape"):
        vis.draw_segmentation_masks(IMAGES, MASKS[:, :, :2])
    with pytest.raises(ValueError, match=r"draw_segmentation_masks\(\) expected a batch of images"):
        vis.draw_segmentation_masks(IMAGES[0], MASKS[0])


# ---- galleries --------------------------------------------------------------------------------------------------

def shown(fig=None):
    """(titles, image arrays) of the axes of the current figure."""
    fig = fig or plt.gcf()
    return [ax.get_title() for ax in fig.axes], [np.asarray(im.get_array()) for ax in fig.axes
                                                 for im in ax.get_images()]


def test_plot_image_gallery_figure():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 6, 5, 3)).astype("uint8")
    assert vis.plot_image_gallery(images, y_true=[0, 1, 2, 1], y_pred=np.array([1, 1, 7, 0]),
                                  label_map={0: "cat", 1: "dog", 2: "fox"}, show=False, scale=3) is None
    fig = plt.gcf()
    titles, arrays = shown(fig)
    assert len(fig.axes) == 4 and tuple(fig.get_size_inches()) == (6.0, 6.0)
    assert titles == ["Label: cat  Pred: dog", "Label: dog  Pred: dog", "Label: fox  Pred: Unknown",
                      "Label: dog  Pred: cat"]
    for got, want in zip(arrays, images):
        np.testing.assert_array_equal(got, want)


def test_plot_image_gallery_value_range_grid_gray_and_channels_first():
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 1, (5, 4, 4, 3)).astype("float32")
    vis.plot_image_gallery(images, value_range=(0, 1), show=False)
    fig = plt.gcf()
    titles, arrays = shown(fig)
    assert len(fig.axes) == 6 and len(arrays) == 5  # 3 x 2 grid, the last cell left empty
    np.testing.assert_array_equal(arrays[2], (images[2] * np.float32(255)).astype("uint8"))
    plt.close("all")
    vis.plot_image_gallery(np.transpose(images, (0, 3, 1, 2)), value_range=(0, 1), rows=1, cols=2, show=False,
                           data_format="channels_first")
    assert len(plt.gcf().axes) == 2
    np.testing.assert_array_equal(shown()[1][1], (images[1] * np.float32(255)).astype("uint8"))
    plt.close("all")
    gray = (rng.uniform(0, 255, (2, 4, 4, 1))).astype("uint8")
    vis.plot_image_gallery(gray, show=False)
    arrays = shown()[1]
    np.testing.assert_array_equal(arrays[1], gray[1, ..., 0])


def test_plot_image_gallery_path_show_and_legend(tmp_path):
    images = np.zeros((2, 4, 4, 3), "uint8")
    path = tmp_path / "gallery.png"
    vis.plot_image_gallery(images, path=str(path))
    assert path.stat().st_size > 0 and plt.get_fignums() == []  # saved, then closed
    vis.plot_image_gallery(images)  # show defaults to True: shown (a no-op on Agg) and closed
    assert plt.get_fignums() == []
    handles = [matplotlib.patches.Patch(color="red", label="thing")]
    vis.plot_image_gallery(images, legend_handles=handles, show=False)
    legends = plt.gcf().legends
    assert len(legends) == 1 and [t.get_text() for t in legends[0].get_texts()] == ["thing"]


def test_plot_image_gallery_errors(tmp_path):
    images = np.zeros((2, 4, 4, 3), "uint8")
    with pytest.raises(ValueError, match=r"plot_image_gallery\(\) either saves the figure to `path` or shows it"):
        vis.plot_image_gallery(images, path=str(tmp_path / "x.png"), show=True)
    with pytest.raises(ValueError, match=r"plot_image_gallery\(\) needs a `label_map`"):
        vis.plot_image_gallery(images, y_true=[0, 1])
    with pytest.raises(ValueError, match=r"plot_image_gallery\(\) expected a batch of images"):
        vis.plot_image_gallery(images[0], show=False)
    with pytest.raises(ValueError, match=r"plot_image_gallery\(\) expected `y_pred` to be class indices"):
        vis.plot_image_gallery(images, y_pred=np.eye(2), label_map={0: "a"}, show=False)


def test_plot_bounding_box_gallery_shows_drawn_images():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (2, 30, 40, 3)).astype("uint8")
    y_true = box_dict(rng.uniform(0, 25, (2, 2, 4)), [[0, 1], [1, -1]])
    y_pred = box_dict(rng.uniform(0, 25, (2, 2, 4)), [[1, 1], [0, 0]])
    vis.plot_bounding_box_gallery(images, "xywh", y_true=y_true, y_pred=y_pred, legend=True, show=False)
    fig = plt.gcf()
    want = vis.draw_bounding_boxes(images, y_true, "xywh", color=(0, 188, 212))
    want = vis.draw_bounding_boxes(want, y_pred, "xywh", color=(255, 235, 59))
    arrays = shown(fig)[1]
    assert len(fig.axes) == 2 and not np.array_equal(want, images)
    for got, w in zip(arrays, want):
        np.testing.assert_array_equal(got, w)
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts == ["Ground Truth", "Prediction"]
    plt.close("all")
    # images in [0, 1] are rescaled before the boxes are drawn
    vis.plot_bounding_box_gallery(images / 255.0, "xywh", y_true=y_true, value_range=(0, 1), show=False)
    want = vis.draw_bounding_boxes((images / 255.0 * 255).astype("float32").clip(0, 255).astype("uint8"), y_true,
                                   "xywh", color=(0, 188, 212))
    np.testing.assert_array_equal(shown()[1][0], want[0])
    with pytest.raises(ValueError, match=r"plot_bounding_box_gallery\(\) takes `legend=True`.*not both"):
        vis.plot_bounding_box_gallery(images, "xyxy", legend=True, legend_handles=["x"], show=False)


def test_plot_segmentation_mask_gallery_rows_of_image_true_pred():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (3, 6, 5, 3)).astype("uint8")
    y_true = rng.integers(0, 3, (3, 6, 5, 1))
    y_pred = rng.integers(0, 3, (3, 6, 5))
    vis.plot_segmentation_mask_gallery(images, 3, y_true=y_true, y_pred=y_pred, show=False)
    fig = plt.gcf()
    arrays = shown(fig)[1]
    assert len(fig.axes) == 9 and len(arrays) == 9
    true_drawn = vis.draw_segmentation_masks(images, y_true.astype("int32"), num_classes=3)
    pred_drawn = vis.draw_segmentation_masks(images, y_pred.astype("int32"), num_classes=3)
    for i in range(3):
        np.testing.assert_array_equal(arrays[3 * i], images[i])
        np.testing.assert_array_equal(arrays[3 * i + 1], true_drawn[i])
        np.testing.assert_array_equal(arrays[3 * i + 2], pred_drawn[i])
    plt.close("all")
    vis.plot_segmentation_mask_gallery(images, 3, y_true=y_true, show=False)
    assert len(plt.gcf().axes) == 6
    with pytest.raises(ValueError, match=r"plot_segmentation_mask_gallery\(\) expected a batch of images"):
        vis.plot_segmentation_mask_gallery(images[0], 3, show=False)
