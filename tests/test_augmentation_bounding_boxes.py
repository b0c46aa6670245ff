"""Bounding boxes, segmentation masks and labels through the image preprocessing and augmentation layers (Keras's
dict inputs), on the current backend, against NumPy box math and numbers recorded from Keras 3 on JAX."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops

H, W = 12, 16
BOXES = np.array([[[1, 2, 8, 9], [10, 3, 15, 11], [3, 3, 3, 8]],
                  [[0, 0, 16, 12], [12, 1, 20, 6], [0, 0, 0, 0]]], "float32")  # xyxy pixels
LABELS = np.array([[1, 2, 3], [4, 5, -1]], "int32")


def np_(x):
    return np.asarray(ops.convert_to_numpy(x))


def sample(batched=True, masks=True, images=None, boxes=BOXES, labels=LABELS):
    images = np.random.default_rng(0).uniform(0, 255, (2, H, W, 3)).astype("float32") if images is None else images
    data = {"images": images, "bounding_boxes": {"boxes": boxes.copy(), "labels": labels.copy()}}
    if masks:
        data["segmentation_masks"] = np.random.default_rng(1).integers(0, 4, images.shape[:3] + (1,)).astype("float32")
    if not batched:
        data = {"images": data["images"][0], "bounding_boxes": {"boxes": boxes[0], "labels": labels[0]},
                **({"segmentation_masks": data["segmentation_masks"][0]} if masks else {})}
    return data


def pin_uniform(layer, *values):
    """Replace the layer's uniform draws, in call order, by fixed values (broadcast to the requested shape)."""
    queue = [np.asarray(v, "float32") for v in values]
    layer._uniform = lambda shape, low, high, dtype: ops.convert_to_tensor(
        np.broadcast_to(queue.pop(0), shape).astype(dtype))
    return layer


def clip_np(boxes, labels, h, w):
    """Reference clipping: coordinates into the image; a box without area gets the label -1."""
    b = boxes.copy()
    b[..., 0::2] = b[..., 0::2].clip(0, w)
    b[..., 1::2] = b[..., 1::2].clip(0, h)
    area = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return b, np.where(area > 0, labels, -1)


def corners_np(boxes, matrix):
    """The boxes around the corners of ``boxes`` mapped by the 3x3 projective ``matrix`` (one per image)."""
    out = np.zeros_like(boxes)
    for i in range(boxes.shape[0]):
        for j in range(boxes.shape[1]):
            x1, y1, x2, y2 = boxes[i, j]
            pts = np.array([[x1, y1, 1], [x2, y1, 1], [x2, y2, 1], [x1, y2, 1]], "float64") @ matrix[i].T
            pts = pts[:, :2] / pts[:, 2:]
            out[i, j] = [*pts.min(0), *pts.max(0)]
    return out


def assert_boxes(out, boxes, labels, atol=1e-4):
    np.testing.assert_allclose(np_(out["bounding_boxes"]["boxes"]), boxes, atol=atol)
    np.testing.assert_array_equal(np_(out["bounding_boxes"]["labels"]), labels)


# ---- deterministic layers ------------------------------------------------------------------------------------

def test_resizing_stretch_crop_and_pad_move_boxes_and_masks():
    data = sample()
    out = layers.Resizing(6, 8, bounding_box_format="xyxy")(data)
    assert_boxes(out, *clip_np(BOXES * [0.5, 0.5, 0.5, 0.5], LABELS, 6, 8))
    rows, cols = (np.arange(6) + 0.5) * 2, (np.arange(8) + 0.5) * 2  # nearest sampling of the mask
    np.testing.assert_array_equal(np_(out["segmentation_masks"]), data["segmentation_masks"][:, rows.astype(int)][
        :, :, cols.astype(int)])
    assert out["images"].shape == (2, 6, 8, 3)
    # crop: the central 12x12 window (left 2), scaled by 0.5; pad: 4 black columns added left (8x... -> 16x24)
    out = layers.Resizing(6, 6, crop_to_aspect_ratio=True, bounding_box_format="xyxy")(sample())
    assert_boxes(out, *clip_np((BOXES - [2, 0, 2, 0]) * 0.5, LABELS, 6, 6))
    out = layers.Resizing(12, 24, pad_to_aspect_ratio=True, bounding_box_format="xyxy")(sample())
    expected, labels = clip_np(BOXES + [4, 0, 4, 0], LABELS, 12, 24)
    expected[1, 2] = 0  # a padding box (all zeros) stays [0, 0, 0, 0], as Keras
    assert_boxes(out, expected, labels)


def test_resizing_matches_keras_offsets_on_odd_sizes():
    # recorded from Keras 3.15.1 (JAX): the crop/pad offsets are floored in output pixels
    out = layers.Resizing(3, 7, crop_to_aspect_ratio=True, bounding_box_format="xyxy")(sample(masks=False))
    assert_boxes(out, [[[0.4375, 0.0, 3.5, 2.9375], [4.375, 0.3125, 6.5625, 3.0], [1.3125, 0.3125, 1.3125, 2.5]],
                       [[0.0, 0.0, 7.0, 3.0], [5.25, 0.0, 7.0, 1.625], [0.0, 0.0, 0.0, 0.0]]], [[1, 2, -1], [4, 5, -1]])
    out = layers.Resizing(8, 23, pad_to_aspect_ratio=True, bounding_box_format="xyxy")(sample(masks=False))
    assert_boxes(out, [[[6.6667, 1.3333, 11.3333, 6.0], [12.6667, 2.0, 16.0, 7.3333], [8.0, 2.0, 8.0, 5.3333]],
                       [[6.0, 0.0, 16.6667, 8.0], [14.0, 0.6667, 19.3333, 4.0], [0.0, 0.0, 0.0, 0.0]]],
                 [[1, 2, -1], [4, 5, -1]], atol=1e-3)


def test_center_crop_moves_boxes_into_the_window_and_scales_small_images():
    data = sample()
    out = layers.CenterCrop(8, 10, bounding_box_format="xyxy")(data)
    assert_boxes(out, *clip_np(BOXES - [3, 2, 3, 2], LABELS, 8, 10))
    np.testing.assert_array_equal(np_(out["segmentation_masks"]), data["segmentation_masks"][:, 2:10, 3:13])
    # smaller than the target: the largest 12x6 window (left 5) is cropped, then resized to 14x7 (recorded from Keras)
    out = layers.CenterCrop(14, 7, bounding_box_format="xyxy")(sample(masks=False))
    assert_boxes(out, [[[0.0, 2.3333, 3.5, 10.5], [5.8333, 3.5, 7.0, 12.8333], [0.0, 3.5, 0.0, 9.3333]],
                       [[0.0, 0.0, 7.0, 14.0], [7.0, 1.1667, 7.0, 7.0], [0.0, 0.0, 0.0, 0.0]]],
                 [[1, 2, -1], [4, -1, -1]], atol=1e-3)


def test_rescaling_and_colour_layers_pass_annotations_through():
    data = sample()
    out = layers.Rescaling(0.5)(data)
    np.testing.assert_allclose(np_(out["images"]), data["images"] * 0.5, rtol=1e-6)
    assert_boxes(out, BOXES, LABELS)
    for layer in (layers.RandomContrast(0.5, seed=3), layers.RandomGrayscale(1.0), layers.RandomHue(0.3, seed=3),
                  layers.Solarization(0.5, seed=3), layers.RandomGaussianBlur(factor=(1.0, 1.0), seed=3),
                  layers.AutoContrast()):
        out = layer(sample())
        assert_boxes(out, BOXES, LABELS)
        np.testing.assert_array_equal(np_(out["segmentation_masks"]), data["segmentation_masks"])
        assert not np.allclose(np_(out["images"]), data["images"]), type(layer).__name__


# ---- random geometric layers ----------------------------------------------------------------------------------

def test_random_flip_moves_boxes_and_masks_with_each_image():
    values = np.arange(2 * H * W * 3, dtype="float32").reshape(2, H, W, 3)
    data = sample(images=values)
    data["segmentation_masks"] = values[..., :1].copy()
    out = layers.RandomFlip("horizontal_and_vertical", bounding_box_format="xyxy", seed=7)(data)
    images = np_(out["images"])
    expected = BOXES.copy()
    for i in range(2):  # which of the four flips each image got
        (v_flip, h_flip), = [(v, h) for v in (0, 1) for h in (0, 1)
                             if np.array_equal(images[i], values[i, ::1 - 2 * v, ::1 - 2 * h])]
        if h_flip:
            expected[i, :, [0, 2]] = W - expected[i, :, [2, 0]]
        if v_flip:
            expected[i, :, [1, 3]] = H - expected[i, :, [3, 1]]
    assert_boxes(out, *clip_np(expected, LABELS, H, W))
    np.testing.assert_array_equal(np_(out["segmentation_masks"]), images[..., :1])  # the same flips
    inference = layers.RandomFlip(bounding_box_format="xyxy")(sample(), training=False)
    assert_boxes(inference, BOXES, LABELS)


def test_random_translation_shifts_and_clips_boxes_and_masks():
    data = sample()
    layer = layers.RandomTranslation((0.25, 0.25), (-0.25, -0.25), fill_mode="constant",
                                     interpolation="nearest", bounding_box_format="xyxy")
    out = layer(data)
    assert_boxes(out, *clip_np(BOXES + [-4, 3, -4, 3], LABELS, H, W))
    expected = np.zeros_like(data["segmentation_masks"])
    expected[:, 3:, :W - 4] = data["segmentation_masks"][:, :H - 3, 4:]
    np.testing.assert_array_equal(np_(out["segmentation_masks"]), expected)


def test_random_rotation_maps_box_corners_about_the_center():
    out = layers.RandomRotation((0.05, 0.05), bounding_box_format="xyxy")(sample(masks=False))
    a = 0.05 * 2 * np.pi
    cx, cy = (W - 1) / 2, (H - 1) / 2
    # the image reads input = R(output - c) + c; a box corner moves by the inverse rotation
    inv = np.array([[np.cos(a), np.sin(a), 0], [-np.sin(a), np.cos(a), 0], [0, 0, 1]])
    shift, back = np.eye(3), np.eye(3)
    shift[:2, 2], back[:2, 2] = [-cx, -cy], [cx, cy]
    expected = corners_np(BOXES, np.stack([back @ inv @ shift] * 2))
    assert_boxes(out, *clip_np(expected, LABELS, H, W))
    # recorded from Keras 3.15.1 (JAX), RandomRotation((0.05, 0.05))
    np.testing.assert_allclose(np_(out["bounding_boxes"]["boxes"])[0, :2], [[0.2366, 2.0168, 9.0571, 10.8373],
                                                                             [9.1051, 0.8047, 16.0, 9.9583]], atol=1e-3)
    square = sample(images=np.zeros((2, 8, 8, 3), "float32"), boxes=np.array([[[1, 2, 4, 3]]] * 2, "float32"),
                    labels=np.array([[1], [1]], "int32"))
    out = layers.RandomRotation((0.25, 0.25), bounding_box_format="xyxy")(square)  # 90 degrees: masks as np.rot90
    np.testing.assert_array_equal(np_(out["segmentation_masks"]), np.rot90(square["segmentation_masks"], 1, (1, 2)))
    np.testing.assert_allclose(np_(out["bounding_boxes"]["boxes"]), [[[2, 3, 3, 6]]] * 2, atol=1e-4)


def test_random_zoom_crops_the_region_that_fills_the_output():
    out = layers.RandomZoom((0.3, 0.3), (-0.2, -0.2), bounding_box_format="xyxy")(sample(masks=False))
    zx, zy = 0.8, 1.3
    left, top = (W - 1) / 2 * (1 - zx), (H - 1) / 2 * (1 - zy)
    # the input region [left, left + zx W] x [top, top + zy H] fills the output
    assert_boxes(out, *clip_np((BOXES - [left, top, left, top]) / [zx, zy, zx, zy], LABELS, H, W))
    # recorded from Keras 3.15.1 (JAX)
    np.testing.assert_allclose(np_(out["bounding_boxes"]["boxes"])[0, :2], [[0.0, 2.8077, 8.125, 8.1923],
                                                                             [10.625, 3.5769, 16.0, 9.7308]], atol=1e-3)


def test_random_crop_boxes_follow_the_random_window():
    values = np.arange(2 * H * W * 3, dtype="float32").reshape(2, H, W, 3)
    data = sample(images=values)
    out = layers.RandomCrop(8, 8, bounding_box_format="xyxy", seed=4)(data)
    images = np_(out["images"])
    top, left = [int(v) for v in np.argwhere(values[0] == images[0, 0, 0, 0])[0][:2]]
    assert np.array_equal(images, values[:, top:top + 8, left:left + 8])
    assert_boxes(out, *clip_np(BOXES - [left, top, left, top], LABELS, 8, 8))
    np.testing.assert_array_equal(np_(out["segmentation_masks"]), data["segmentation_masks"][:, top:top + 8,
                                                                                             left:left + 8])
    # at inference the image is center-cropped to the aspect ratio (12x12, left 2) and resized: boxes follow
    out = layers.RandomCrop(6, 6, bounding_box_format="xyxy")(sample(), training=False)
    assert_boxes(out, *clip_np((BOXES - [2, 0, 2, 0]) * 0.5, LABELS, 6, 6))


def test_random_shear_maps_corners_exactly():
    layer = pin_uniform(layers.RandomShear(1.0, 1.0, bounding_box_format="xyxy"), [0.2, 0.7], 0.15, 0.3)
    out = layer(sample(masks=False))
    expected = []
    for sign in (1.0, -1.0):  # draws above 0.5 flip the sign of both shears
        sx, sy = 0.3 * sign, 0.15 * sign
        expected.append(np.linalg.inv(np.array([[1, sx, 0], [sy, 1, 0], [0, 0, 1]])))
    assert_boxes(out, *clip_np(corners_np(BOXES, np.stack(expected)), LABELS, H, W))


def test_random_perspective_maps_corners_through_the_homography():
    shift = np.random.default_rng(3).uniform(-0.15, 0.15, (2, 4, 2)).astype("float32")
    layer = pin_uniform(layers.RandomPerspective(scale=0.3, bounding_box_format="xyxy"), [1.0, 0.0], 0.5, shift)
    out = layer(sample(masks=False))
    start = np.array([[0, 0], [W - 1, 0], [0, H - 1], [W - 1, H - 1]], "float64")
    end = start + start * shift[0]
    rows = []  # the homography that moves each start point onto its end point
    for (sx, sy), (ex, ey) in zip(start, end):
        rows += [[sx, sy, 1, 0, 0, 0, -ex * sx, -ex * sy, ex], [0, 0, 0, sx, sy, 1, -ey * sx, -ey * sy, ey]]
    rows = np.array(rows)
    h = np.append(np.linalg.solve(rows[:, :8], rows[:, 8]), 1.0).reshape(3, 3)
    expected = BOXES.copy()
    expected[:1] = corners_np(BOXES[:1], h[None])  # the second image is not warped (probability 0)
    assert_boxes(out, *clip_np(expected, LABELS, H, W), atol=1e-3)


def test_masks_follow_the_image_warp_with_nearest_sampling():
    masks = np.random.default_rng(2).integers(0, 5, (2, H, W, 1)).astype("float32")
    for layer in (layers.RandomRotation(0.2, interpolation="nearest", seed=1),
                  layers.RandomZoom(0.3, interpolation="nearest", seed=1),
                  layers.RandomShear(0.3, 0.3, interpolation="nearest", seed=1),
                  layers.RandomPerspective(interpolation="nearest", seed=1),
                  layers.RandomElasticTransform(interpolation="nearest", seed=1)):
        out = layer({"images": np.repeat(masks, 3, axis=-1), "segmentation_masks": masks})
        np.testing.assert_array_equal(np_(out["segmentation_masks"]), np_(out["images"])[..., :1],
                                      err_msg=type(layer).__name__)
        assert not np.array_equal(np_(out["segmentation_masks"]), masks), type(layer).__name__


# ---- mixing, policies, pipelines -----------------------------------------------------------------------------

def test_mix_up_mixes_labels_and_masks_and_joins_the_partners_boxes():
    images = np.stack([np.full((H, W, 3), v, "float32") for v in (10.0, 50.0, 90.0)])
    boxes = np.array([[[0, 0, 2, 2]], [[1, 1, 3, 3]], [[2, 2, 4, 4]]], "float32")
    data = {"images": images, "segmentation_masks": images[..., :1] / 10.0, "labels": np.eye(3, dtype="float32"),
            "bounding_boxes": {"boxes": boxes, "labels": np.array([[0], [1], [2]], "int32")}}
    out = layers.MixUp(alpha=0.5, bounding_box_format="xyxy", seed=5)(data)
    out_boxes = np_(out["bounding_boxes"]["boxes"])
    assert out_boxes.shape == (3, 2, 4)
    np.testing.assert_array_equal(out_boxes[:, :1], boxes)
    for i in range(3):
        partner = int(np.argmax([np.array_equal(out_boxes[i, 1:], b) for b in boxes]))
        np.testing.assert_array_equal(np_(out["bounding_boxes"]["labels"])[i], [i, partner])
        value = np_(out["images"])[i, 0, 0, 0]
        own, other = images[i, 0, 0, 0], images[partner, 0, 0, 0]
        w = 1.0 if partner == i else (value - other) / (own - other)
        expected = w * np.eye(3)[i] + (1 - w) * np.eye(3)[partner]
        np.testing.assert_allclose(np_(out["labels"])[i], expected, atol=1e-4)
        np.testing.assert_allclose(np_(out["segmentation_masks"])[i], value / 10.0, rtol=1e-5)
    single = layers.MixUp(bounding_box_format="xyxy")(sample(batched=False))  # nothing to mix with
    assert_boxes(single, BOXES[0], LABELS[0])


def test_cut_mix_pastes_masks_with_the_images_and_refuses_boxes():
    images = np.stack([np.full((H, W, 3), 10.0 * (i + 1), "float32") for i in range(4)])
    data = {"images": images, "segmentation_masks": images[..., :1] / 10.0, "labels": np.eye(4, dtype="float32")}
    out = layers.CutMix(seed=3)(data)
    np.testing.assert_allclose(np_(out["segmentation_masks"]) * 10.0, np_(out["images"])[..., :1])
    labels = np_(out["labels"])  # own and partner class, weighted by the share of the area
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, rtol=1e-5)
    assert (labels > 1e-6).sum(axis=1).max() <= 2 and not np.allclose(labels, np.eye(4))
    with pytest.raises(ValueError, match=r"'cut_mix_\w*' \(CutMix\) cannot transform bounding boxes") as info:
        layers.CutMix(bounding_box_format="xyxy")(sample())
    assert isinstance(info.value, NotImplementedError)  # what Keras raises


def test_rand_augment_moves_boxes_through_the_chosen_operation():
    layer = layers.RandAugment(num_ops=2, factor=(0.25, 0.25), bounding_box_format="xyxy", seed=2)
    layer._ops = [layer.random_translation]  # every choice is the translation by a quarter of the image
    out = layer(sample(masks=False))
    shifted, labels = clip_np(BOXES + [4, 3, 4, 3], LABELS, H, W)
    assert_boxes(out, *clip_np(shifted + [4, 3, 4, 3], labels, H, W))
    inside = clip_np(BOXES, LABELS, H, W)[0]  # every operation keeps boxes of the image inside it
    out = layers.RandAugment(num_ops=3, bounding_box_format="xyxy", seed=1)(sample(boxes=inside))
    b = np_(out["bounding_boxes"]["boxes"])
    assert b.shape == (2, 3, 4) and b.min() >= 0 and b[..., 2].max() <= W and b[..., 3].max() <= H
    assert out["segmentation_masks"].shape == (2, H, W, 1)


def test_aug_mix_mixes_masks_and_keeps_boxes():
    data = sample()
    out = layers.AugMix(bounding_box_format="xyxy", seed=4)(data)
    assert_boxes(out, BOXES, LABELS)
    masks = np_(out["segmentation_masks"])
    assert masks.shape == (2, H, W, 1) and masks.min() >= 0 and masks.max() <= 3


def test_pipeline_and_max_num_bounding_boxes_on_dicts():
    pipeline = layers.Pipeline([layers.RandomFlip("horizontal", bounding_box_format="xyxy", seed=3),
                                layers.Resizing(6, 8, bounding_box_format="xyxy"),
                                layers.MaxNumBoundingBoxes(4, bounding_box_format="xyxy")])
    out = pipeline(sample())
    flip = layers.RandomFlip("horizontal", bounding_box_format="xyxy", seed=3)
    manual = layers.Resizing(6, 8, bounding_box_format="xyxy")(flip(sample()))
    boxes = np_(out["bounding_boxes"]["boxes"])
    assert boxes.shape == (2, 4, 4) and (boxes[:, 3] == -1).all()
    np.testing.assert_allclose(boxes[:, :3], np_(manual["bounding_boxes"]["boxes"]), atol=1e-5)
    np.testing.assert_array_equal(np_(out["bounding_boxes"]["labels"])[:, 3], [-1, -1])
    ragged = {"images": np.zeros((2, 8, 8, 3)), "bounding_boxes": {"boxes": [[[1, 1, 2, 2]], []], "labels": [[3], []]}}
    out = layers.MaxNumBoundingBoxes(2)(ragged)
    np.testing.assert_array_equal(np_(out["bounding_boxes"]["labels"]), [[3, -1], [-1, -1]])
    single = layers.MaxNumBoundingBoxes(1)({"images": np.zeros((8, 8, 3)), "bounding_boxes": {
        "boxes": np.array([[1., 1, 2, 2], [3, 3, 4, 4]]), "labels": np.array([5, 6])}})
    np.testing.assert_array_equal(np_(single["bounding_boxes"]["boxes"]), [[1, 1, 2, 2]])


# ---- forms of input ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["rel_xyxy", "center_xywh", "yxyx", "xywh"])
def test_other_box_formats_give_the_xyxy_result(fmt):
    layer = layers.Resizing(6, 10, crop_to_aspect_ratio=True, bounding_box_format=fmt)
    reference = layers.Resizing(6, 10, crop_to_aspect_ratio=True, bounding_box_format="xyxy")(sample(masks=False))
    boxes = np_(lamina.utils.bounding_boxes.convert_format(BOXES, "xyxy", fmt, height=H, width=W))
    out = layer(sample(masks=False, boxes=boxes))
    back = lamina.utils.bounding_boxes.convert_format(out["bounding_boxes"]["boxes"], fmt, "xyxy", height=6, width=10)
    np.testing.assert_allclose(np_(back), np_(reference["bounding_boxes"]["boxes"]), atol=1e-4)


def test_unbatched_lists_and_channels_first_give_the_batched_result():
    layer = layers.RandomTranslation((0.25, 0.25), (-0.25, -0.25), bounding_box_format="xyxy")
    batched = layer(sample())
    single = layer(sample(batched=False))
    assert single["images"].shape == (H, W, 3) and single["segmentation_masks"].shape == (H, W, 1)
    np.testing.assert_allclose(np_(single["bounding_boxes"]["boxes"]), np_(batched["bounding_boxes"]["boxes"])[0])
    np.testing.assert_array_equal(np_(single["bounding_boxes"]["labels"]),
                                  np_(batched["bounding_boxes"]["labels"])[0])
    images = sample()["images"]
    listed = layer({"images": images, "bounding_boxes": {"boxes": BOXES.tolist(), "labels": LABELS.tolist()}})
    np.testing.assert_allclose(np_(listed["bounding_boxes"]["boxes"]), np_(batched["bounding_boxes"]["boxes"]))
    ragged = layer({"images": images, "bounding_boxes": {"boxes": [BOXES[0].tolist(), BOXES[1, :2].tolist()],
                                                          "labels": [[1, 2, 3], [4, 5]]}})
    np.testing.assert_allclose(np_(ragged["bounding_boxes"]["boxes"]), np_(batched["bounding_boxes"]["boxes"]))
    np.testing.assert_array_equal(np_(ragged["bounding_boxes"]["labels"]), np_(batched["bounding_boxes"]["labels"]))
    cf = layers.RandomTranslation((0.25, 0.25), (-0.25, -0.25), bounding_box_format="xyxy",
                                  data_format="channels_first")
    data = sample()
    out = cf({**data, "images": data["images"].transpose(0, 3, 1, 2),
              "segmentation_masks": data["segmentation_masks"].transpose(0, 3, 1, 2)})
    np.testing.assert_allclose(np_(out["images"]).transpose(0, 2, 3, 1), np_(batched["images"]), rtol=1e-5)
    np.testing.assert_array_equal(np_(out["segmentation_masks"]).transpose(0, 2, 3, 1),
                                  np_(batched["segmentation_masks"]))
    np.testing.assert_allclose(np_(out["bounding_boxes"]["boxes"]), np_(batched["bounding_boxes"]["boxes"]))


def test_bounding_box_format_argument_and_config():
    layer = layers.RandomFlip(bounding_box_format="yxyx")
    assert layer.get_config()["bounding_box_format"] == "yxyx"
    assert "bounding_box_format" not in layers.RandomFlip().get_config()  # Keras's default: None, not saved
    clone = layers.RandomZoom.from_config(layers.RandomZoom(0.2, bounding_box_format="rel_xyxy").get_config())
    assert clone.bounding_box_format == "rel_xyxy"
    assert layers.MaxNumBoundingBoxes(3, bounding_box_format="xyxy").get_config()["bounding_box_format"] == "xyxy"
    assert layers.RandAugment(bounding_box_format="xyxy").get_config()["bounding_box_format"] == "xyxy"


def test_bad_dict_inputs_raise_errors_naming_the_layer():
    with pytest.raises(ValueError, match=r"'flip' \(RandomFlip\): unknown bounding_box_format='xyz'"):
        layers.RandomFlip(bounding_box_format="xyz", name="flip")
    with pytest.raises(ValueError, match=r"'flip' \(RandomFlip\) received a dict without an 'images' entry"):
        layers.RandomFlip(bounding_box_format="xyxy", name="flip")({"bounding_boxes": {"boxes": BOXES}})
    with pytest.raises(ValueError, match=r"'rs' \(Rescaling\) received a dict without an 'images' entry"):
        layers.Rescaling(2.0, name="rs")({"pixels": np.ones((1, 2, 2, 3))})
    with pytest.raises(ValueError, match=r"'rz' \(Resizing\) expected bounding_boxes\['boxes'\] with a last "
                                         r"dimension of 4.*\(2, 3, 5\)"):
        layers.Resizing(4, 4, bounding_box_format="xyxy", name="rz")(sample(boxes=np.zeros((2, 3, 5), "float32")))
    with pytest.raises(ValueError, match=r"'mx' \(MaxNumBoundingBoxes\) expected bounding_boxes\['boxes'\] with a "
                                         r"last dimension of 4"):
        layers.MaxNumBoundingBoxes(2, name="mx")(sample(boxes=np.zeros((2, 3, 5), "float32")))
    with pytest.raises(ValueError, match=r"'zoom' \(RandomZoom\) received an input with a 'bounding_boxes' entry "
                                         r"but has no bounding_box_format"):
        layers.RandomZoom(0.2, name="zoom")(sample())
    with pytest.raises(ValueError, match=r"\(RandomCrop\) expected bounding_boxes\['boxes'\] of shape \(batch, "
                                         r"num_boxes, 4\) for a batch of images"):
        layers.RandomCrop(4, 4, bounding_box_format="xyxy")(sample(boxes=BOXES[0]))
    with pytest.raises(ValueError, match=r"\(RandomFlip\) expected bounding_boxes\['labels'\] of shape \(2, 3\)"):
        layers.RandomFlip(bounding_box_format="xyxy")(sample(labels=LABELS[:, :2]))
    with pytest.raises(ValueError, match=r"\(RandomFlip\) expected segmentation_masks with the rank and the height"):
        layers.RandomFlip(bounding_box_format="xyxy")({"images": np.zeros((2, 4, 4, 3)),
                                                       "segmentation_masks": np.zeros((2, 5, 4, 1))})
    with pytest.raises(ValueError, match=r"\(RandomElasticTransform\) cannot transform bounding boxes"):
        layers.RandomElasticTransform(bounding_box_format="xyxy")(sample())


# ---- inside models --------------------------------------------------------------------------------------------

def _augmenter():
    return layers.Pipeline([layers.RandomFlip("horizontal", bounding_box_format="xyxy", seed=1),
                            layers.RandomTranslation(0.1, 0.1, bounding_box_format="xyxy", seed=2),
                            layers.Resizing(8, 8, bounding_box_format="xyxy"),
                            layers.MaxNumBoundingBoxes(3, bounding_box_format="xyxy")])


def test_augmentation_of_dicts_inside_a_compiled_train_step():
    aug = _augmenter()

    class Detector(lamina.Model):
        def __init__(self):
            super().__init__()
            self.aug, self.flat, self.head = aug, layers.Flatten(), layers.Dense(12)

        def call(self, x, training=False):
            out = self.aug({"images": x["images"], "bounding_boxes": {"boxes": x["boxes"], "labels": x["labels"]}},
                           training=training)
            boxes = ops.reshape(out["bounding_boxes"]["boxes"], (-1, 12)) / 8.0
            return self.head(self.flat(out["images"]) / 255.0) + 0.0 * boxes

    data = sample(masks=False)
    x = {"images": np.concatenate([data["images"]] * 4), "boxes": np.concatenate([BOXES] * 4),
         "labels": np.concatenate([LABELS] * 4)}
    model = Detector()
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, np.zeros((8, 12), "float32"), batch_size=4, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    state = np_(aug.layers[0].seed_generator.state.value)
    assert state[1] > 0  # the seed advanced inside the steps: every batch gets new draws


def test_augmentation_in_a_py_dataset_feeds_fit():
    aug = _augmenter()
    data = sample(masks=False)

    class Data(lamina.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            out = aug({"images": data["images"], "bounding_boxes": {"boxes": BOXES, "labels": LABELS}})
            return out["images"] / 255.0, ops.reshape(out["bounding_boxes"]["boxes"], (2, 12)) / 8.0

    model = lamina.Sequential([lamina.Input((8, 8, 3)), layers.Flatten(), layers.Dense(12)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(Data(), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


def test_symbolic_dict_inputs_keep_structure_and_dtypes():
    inputs = {"images": lamina.Input((16, 16, 3)),
              "bounding_boxes": {"boxes": lamina.Input((5, 4)), "labels": lamina.Input((5,), dtype="int32")}}
    x = layers.RandomFlip(bounding_box_format="xyxy")(inputs)
    x = layers.Resizing(8, 8, bounding_box_format="xyxy")(x)
    x = layers.MixUp(bounding_box_format="xyxy")(x)
    x = layers.MaxNumBoundingBoxes(6)(x)
    assert x["images"].shape == (None, 8, 8, 3)
    assert x["bounding_boxes"]["boxes"].shape == (None, 6, 4)
    assert x["bounding_boxes"]["labels"].dtype == "int32"
