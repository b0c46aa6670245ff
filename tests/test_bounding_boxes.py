"""lamina.utils.bounding_boxes against NumPy references (float64) written independently here, and Keras fixtures."""

import inspect
import math

import numpy as np
import pytest

import lamina
from lamina import ops
from lamina.utils import bounding_boxes as bb

FORMATS = ["xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx", "rel_xywh", "rel_center_xywh"]
H, W = 240, 320


def npy(x):
    return np.asarray(ops.convert_to_numpy(x))


# ---- NumPy references -------------------------------------------------------------------------------------------

def ref_to_corners(b, fmt, h=H, w=W):
    """(left, top, right, bottom) in pixels, float64."""
    b = np.asarray(b, np.float64)
    rel = fmt.startswith("rel_")
    base = fmt[4:] if rel else fmt
    p, q, r, s = np.moveaxis(b, -1, 0)
    layouts = {
        "xyxy": lambda: (p, q, r, s),
        "yxyx": lambda: (q, p, s, r),
        "xywh": lambda: (p, q, p + r, q + s),
        "center_xywh": lambda: (p - r / 2, q - s / 2, p + r / 2, q + s / 2),
        "center_yxhw": lambda: (q - s / 2, p - r / 2, q + s / 2, p + r / 2),
    }
    x1, y1, x2, y2 = layouts[base]()
    if rel:
        x1, x2, y1, y2 = x1 * w, x2 * w, y1 * h, y2 * h
    return np.stack([x1, y1, x2, y2], -1)


def ref_from_corners(c, fmt, h=H, w=W):
    c = np.asarray(c, np.float64)
    rel = fmt.startswith("rel_")
    x1, y1, x2, y2 = np.moveaxis(c, -1, 0)
    if rel:
        x1, x2, y1, y2 = x1 / w, x2 / w, y1 / h, y2 / h
    base = fmt[4:] if rel else fmt
    cx, cy, bw, bh = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
    cols = {"xyxy": (x1, y1, x2, y2), "yxyx": (y1, x1, y2, x2), "xywh": (x1, y1, bw, bh),
            "center_xywh": (cx, cy, bw, bh), "center_yxhw": (cy, cx, bh, bw)}[base]
    return np.stack(cols, -1)


def ref_iou_table(b1, b2):
    """Pairwise IoU of xyxy boxes, by explicit loops."""
    out = np.zeros((len(b1), len(b2)))
    for i, (ax1, ay1, ax2, ay2) in enumerate(np.asarray(b1, np.float64)):
        for j, (bx1, by1, bx2, by2) in enumerate(np.asarray(b2, np.float64)):
            iw = max(0.0, min(ax2, bx2) - max(ax1, bx1))
            ih = max(0.0, min(ay2, by2) - max(ay1, by1))
            inter = iw * ih
            out[i, j] = inter / ((ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter)
    return out


def ref_ciou(a, b):
    ax1, ay1, ax2, ay2 = (float(v) for v in a)
    bx1, by1, bx2, by2 = (float(v) for v in b)
    inter = max(0.0, min(ax2, bx2) - max(ax1, bx1)) * max(0.0, min(ay2, by2) - max(ay1, by1))
    wa, ha, wb, hb = ax2 - ax1, ay2 - ay1, bx2 - bx1, by2 - by1
    iou = inter / (wa * ha + wb * hb - inter)
    diag2 = (max(ax2, bx2) - min(ax1, bx1)) ** 2 + (max(ay2, by2) - min(ay1, by1)) ** 2
    rho2 = ((ax1 + ax2) / 2 - (bx1 + bx2) / 2) ** 2 + ((ay1 + ay2) / 2 - (by1 + by2) / 2) ** 2
    v = 4 / math.pi ** 2 * (math.atan(wb / hb) - math.atan(wa / ha)) ** 2
    return iou - rho2 / diag2 - v * v / (1 - iou + v)


def random_corners(rng, shape, rel=False):
    """xyxy boxes (pixels) with positive sizes."""
    xy = rng.uniform(0, 200, shape[:-1] + (2,))
    wh = rng.uniform(1, 100, shape[:-1] + (2,))
    return np.concatenate([xy, xy + wh], -1)


def in_format(rng, fmt, shape):
    return ref_from_corners(random_corners(rng, shape), fmt).astype("float32")


# ---- names and signatures ---------------------------------------------------------------------------------------

KERAS_SIGNATURES = {
    "affine_transform": "(boxes, angle, translate_x, translate_y, scale, shear_x, shear_y, height, width, "
                        "center_x=None, center_y=None, bounding_box_format='xyxy')",
    "clip_to_image_size": "(bounding_boxes, height=None, width=None, bounding_box_format='xyxy')",
    "compute_ciou": "(boxes1, boxes2, bounding_box_format, image_shape=None)",
    "compute_iou": "(boxes1, boxes2, bounding_box_format, use_masking=False, mask_val=-1, image_shape=None)",
    "convert_format": "(boxes, source, target, height=None, width=None, dtype='float32')",
    "crop": "(boxes, top, left, height, width, bounding_box_format='xyxy')",
    "decode_deltas_to_boxes": "(anchors, boxes_delta, anchor_format, box_format, encoded_format='center_yxhw', "
                              "variance=None, image_shape=None)",
    "encode_box_to_deltas": "(anchors, boxes, anchor_format, box_format, encoding_format='center_yxhw', "
                            "variance=None, image_shape=None)",
    "pad": "(boxes, top, left, height=None, width=None, bounding_box_format='xyxy')",
}


def test_public_names_and_signatures_match_keras():
    public = {n for n in dir(lamina.utils.bounding_boxes) if not n.startswith("_")}
    assert set(KERAS_SIGNATURES) <= public
    for name, sig in KERAS_SIGNATURES.items():
        assert str(inspect.signature(getattr(bb, name))) == sig, name


# ---- convert_format ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("source", FORMATS)
def test_convert_format_matches_reference(source):
    rng = np.random.default_rng(FORMATS.index(source))
    for shape in [(7, 4), (3, 5, 4)]:
        boxes = in_format(rng, source, shape)
        corners = ref_to_corners(boxes, source)
        for target in FORMATS:
            out = bb.convert_format(boxes, source, target, height=H, width=W)
            assert tuple(out.shape) == shape and lamina.backend.standardize_dtype(out.dtype) == "float32"
            scale = 1.0 if target.startswith("rel_") else 300.0
            np.testing.assert_allclose(npy(out), ref_from_corners(corners, target), rtol=1e-5, atol=1e-6 * scale,
                                       err_msg=f"{source} -> {target}")


def test_convert_format_round_trip_and_case_insensitive():
    rng = np.random.default_rng(1)
    boxes = in_format(rng, "xyxy", (6, 4))
    for fmt in FORMATS:
        there = bb.convert_format(boxes, "XYXY", fmt.upper(), height=H, width=W)
        back = bb.convert_format(there, fmt, "xyxy", height=H, width=W)
        np.testing.assert_allclose(npy(back), boxes, rtol=1e-5, atol=1e-4)


def test_convert_format_relative_to_relative_and_known_values():
    out = bb.convert_format([[0.1, 0.2, 0.5, 0.6]], "rel_xyxy", "rel_center_xywh", height=1, width=1)
    np.testing.assert_allclose(npy(out), [[0.3, 0.4, 0.4, 0.4]], atol=1e-7)
    out = bb.convert_format(np.array([[10, 20, 30, 40]]), "xyxy", "rel_yxyx", height=200, width=100)
    np.testing.assert_allclose(npy(out), [[0.1, 0.1, 0.2, 0.3]], atol=1e-7)


def test_convert_format_dict_is_updated_in_place_like_keras():
    labels = np.array([3, 4])
    d = {"boxes": np.array([[0.0, 0.0, 4.0, 2.0], [1.0, 1.0, 3.0, 5.0]]), "labels": labels}
    out = bb.convert_format(d, "xyxy", "center_xywh")
    assert out is d and out["labels"] is labels
    np.testing.assert_allclose(npy(out["boxes"]), [[2, 1, 4, 2], [2, 3, 2, 4]])


def test_convert_format_dtype():
    out = bb.convert_format(np.array([[1, 2, 30, 41]]), "xyxy", "xywh", dtype="int32")
    assert lamina.backend.standardize_dtype(out.dtype) == "int32"
    assert npy(out).tolist() == [[1, 2, 29, 39]]
    same = bb.convert_format(np.array([[1, 2, 3, 4]], "int32"), "xyxy", "xyxy")
    assert lamina.backend.standardize_dtype(same.dtype) == "float32"


def test_convert_format_errors():
    with pytest.raises(ValueError, match=r"convert_format\(\).*source='xyzw'"):
        bb.convert_format([[0, 0, 1, 1]], "xyzw", "xyxy")
    with pytest.raises(ValueError, match=r"convert_format\(\).*target=.*rel_center_yxhw"):
        bb.convert_format([[0, 0, 1, 1]], "xyxy", "rel_center_yxhw", height=1, width=1)
    with pytest.raises(ValueError, match=r"convert_format\(\).*last dimension of 4.*\(2, 3\)"):
        bb.convert_format(np.zeros((2, 3)), "xyxy", "xywh")
    with pytest.raises(ValueError, match=r"convert_format\(\) needs `height` and `width`.*width=None"):
        bb.convert_format([[0, 0, 1, 1]], "xyxy", "rel_xyxy", height=10)
    with pytest.raises(ValueError, match=r"convert_format\(\) needs `height` and `width`"):
        bb.convert_format([[0, 0, 1, 1]], "rel_xyxy", "rel_xywh")
    with pytest.raises(ValueError, match=r"convert_format\(\).*'boxes' entry"):
        bb.convert_format({"labels": [1]}, "xyxy", "xywh")


# ---- clip / crop / pad ------------------------------------------------------------------------------------------

def test_clip_to_image_size_matches_reference_and_marks_empty_boxes():
    rng = np.random.default_rng(2)
    boxes = rng.uniform(-60, 400, (2, 6, 4)).astype("float32")
    boxes[0, 0] = [330, 10, 400, 20]  # entirely right of the image: zero width once clipped
    labels = rng.integers(0, 5, (2, 6))
    d = {"boxes": boxes, "labels": labels, "extra": "kept"}
    out = bb.clip_to_image_size(d, height=H, width=W)
    want = np.stack([np.clip(boxes[..., 0], 0, W), np.clip(boxes[..., 1], 0, H), np.clip(boxes[..., 2], 0, W),
                     np.clip(boxes[..., 3], 0, H)], -1)
    np.testing.assert_array_equal(npy(out["boxes"]), want)
    area = (want[..., 2] - want[..., 0]) * (want[..., 3] - want[..., 1])
    np.testing.assert_array_equal(npy(out["labels"]), np.where(area > 0, labels, -1))
    assert npy(out["labels"])[0, 0] == -1 and out["extra"] == "kept"
    assert d["boxes"] is boxes and d["labels"] is labels  # the input dict is not changed


def test_clip_to_image_size_relative_array_and_other_formats():
    out = bb.clip_to_image_size({"boxes": np.array([[-0.2, 0.5, 1.5, 0.9]])}, bounding_box_format="rel_xyxy")
    np.testing.assert_allclose(npy(out["boxes"]), [[0.0, 0.5, 1.0, 0.9]], atol=1e-7)
    assert "labels" not in out
    arr = bb.clip_to_image_size(np.array([[-5.0, 3.0, 400.0, 50.0]]), height=100, width=200)
    np.testing.assert_array_equal(npy(arr), [[0, 3, 200, 50]])
    xywh = bb.clip_to_image_size({"boxes": np.array([[-5.0, 10.0, 50.0, 500.0]]), "labels": np.array([2])},
                                 height=100, width=200, bounding_box_format="xywh")
    np.testing.assert_allclose(npy(xywh["boxes"]), [[0, 10, 45, 90]])
    assert npy(xywh["labels"]).tolist() == [2]


def test_clip_to_image_size_errors():
    with pytest.raises(ValueError, match=r"clip_to_image_size\(\) needs `height` and `width`"):
        bb.clip_to_image_size({"boxes": np.zeros((1, 4))})
    with pytest.raises(ValueError, match=r"clip_to_image_size\(\).*unknown bounding box format"):
        bb.clip_to_image_size({"boxes": np.zeros((1, 4))}, 10, 10, bounding_box_format="ltrb")
    with pytest.raises(ValueError, match=r"clip_to_image_size\(\).*'boxes' entry"):
        bb.clip_to_image_size({"labels": np.zeros((1,))}, 10, 10)


def test_crop_and_pad_match_reference():
    rng = np.random.default_rng(3)
    boxes = rng.uniform(-20, 300, (2, 5, 4)).astype("float32")
    out = npy(bb.crop(boxes, top=10, left=20, height=100, width=150))
    want = np.stack([np.clip(boxes[..., 0] - 20, 0, 150), np.clip(boxes[..., 1] - 10, 0, 100),
                     np.clip(boxes[..., 2] - 20, 0, 150), np.clip(boxes[..., 3] - 10, 0, 100)], -1)
    np.testing.assert_allclose(out, want, atol=1e-5)
    padded = npy(bb.pad(boxes[0], top=7, left=3))
    np.testing.assert_allclose(padded, boxes[0] + np.array([3, 7, 3, 7], "float32"), atol=1e-5)
    # another pixel format goes through xyxy and comes back in its own format
    cxcy = bb.convert_format(boxes, "xyxy", "center_xywh")
    out2 = bb.crop(cxcy, top=10, left=20, height=100, width=150, bounding_box_format="center_xywh")
    np.testing.assert_allclose(npy(bb.convert_format(out2, "center_xywh", "xyxy")), want, atol=1e-3)
    d = bb.pad({"boxes": boxes[0], "labels": np.arange(5)}, top=1, left=2)
    np.testing.assert_allclose(npy(d["boxes"]), boxes[0] + np.array([2, 1, 2, 1], "float32"), atol=1e-5)


def test_crop_and_pad_reject_relative_formats():
    with pytest.raises(ValueError, match=r"crop\(\) works on boxes in pixels.*rel_xyxy"):
        bb.crop(np.zeros((1, 4)), 0, 0, 5, 5, bounding_box_format="rel_xyxy")
    with pytest.raises(ValueError, match=r"pad\(\).*last dimension of 4"):
        bb.pad(np.zeros((1, 5)), 0, 0)


# ---- affine_transform -------------------------------------------------------------------------------------------

def test_affine_identity_translation_scale_rotation():
    rng = np.random.default_rng(4)
    boxes = random_corners(rng, (2, 3, 4)).astype("float32")
    zeros, ones = np.zeros(2, "float32"), np.ones(2, "float32")
    same = bb.affine_transform(boxes, zeros, zeros, zeros, ones, zeros, zeros, H, W)
    np.testing.assert_allclose(npy(same), boxes, atol=1e-3)
    angle, tx, ty, s = np.array([30.0, -75.0], "float32"), np.array([0.1, -0.2], "float32"), \
        np.array([0.05, 0.0], "float32"), np.array([1.3, 0.8], "float32")
    out = npy(bb.affine_transform(boxes, angle, tx, ty, s, zeros, zeros, H, W))
    # Reference: p' = c + s R(angle) (p - c + t), corners mapped then enclosed.
    c = np.array([0.5 * (W - 1), 0.5 * (H - 1)])
    for i in range(2):
        th = math.radians(angle[i])
        rot = np.array([[math.cos(th), math.sin(th)], [-math.sin(th), math.cos(th)]])
        t = np.array([tx[i] * (W - 1), ty[i] * (H - 1)])
        for j in range(3):
            x1, y1, x2, y2 = boxes[i, j].astype(np.float64)
            pts = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])
            moved = c + s[i] * (pts - c + t) @ rot.T
            want = np.concatenate([moved.min(0), moved.max(0)])
            np.testing.assert_allclose(out[i, j], want, rtol=1e-5, atol=1e-3)


def test_affine_with_shear_matches_keras_fixture():
    boxes = np.array([[[10, 20, 50, 40], [0, 0, 30, 60]], [[5, 5, 15, 25], [40, 10, 70, 70]]], "float32")
    f = lambda v: np.array(v, "float32")  # noqa: E731
    out = bb.affine_transform(boxes, f([15, -30]), f([0.1, -0.05]), f([0.02, 0.1]), f([1.1, 0.9]), f([12, -8]),
                              f([-5, 20]), 64, 80, center_x=f([0.5, 0.3]), center_y=f([0.4, 0.5]))
    keras_out = [[[12.824990, 14.162886, 68.641724, 50.021461], [-8.707973, 0.963865, 55.890911, 74.550262]],
                 [[3.817867, 2.446142, 23.373667, 22.095734], [10.563131, 31.203358, 69.230530, 90.152130]]]
    np.testing.assert_allclose(npy(out), keras_out, rtol=1e-5, atol=1e-4)


def test_affine_unbatched_scalars_and_errors():
    out = bb.affine_transform(np.array([[10.0, 10.0, 20.0, 30.0]]), 0.0, 0.1, 0.0, 1.0, 0.0, 0.0, 11, 21)
    np.testing.assert_allclose(npy(out), [[12.0, 10.0, 22.0, 30.0]], atol=1e-4)
    with pytest.raises(ValueError, match=r"affine_transform\(\) expected `angle` to be a scalar or shape \(2,\)"):
        bb.affine_transform(np.zeros((2, 1, 4)), np.zeros(3), 0, 0, 1, 0, 0, 10, 10)
    with pytest.raises(ValueError, match=r"affine_transform\(\) expected boxes of shape \(N, 4\)"):
        bb.affine_transform(np.zeros((1, 2, 1, 4)), 0, 0, 0, 1, 0, 0, 10, 10)


# ---- deltas -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["center_yxhw", "center_xywh"])
def test_encode_decode_match_reference_and_round_trip(encoding):
    rng = np.random.default_rng(5)
    anchors = random_corners(rng, (6, 4)).astype("float32")
    boxes = random_corners(rng, (2, 6, 4)).astype("float32")
    variance = [0.1, 0.1, 0.2, 0.2]
    deltas = npy(bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", encoding_format=encoding, variance=variance))
    a, b = ref_to_corners(anchors, "xyxy"), ref_to_corners(boxes, "xyxy")
    ac, asz = (a[..., :2] + a[..., 2:]) / 2, a[..., 2:] - a[..., :2]
    bc, bsz = (b[..., :2] + b[..., 2:]) / 2, b[..., 2:] - b[..., :2]
    want = np.concatenate([(bc - ac) / asz, np.log(bsz / asz)], -1)  # x, y, w, h order
    if encoding == "center_yxhw":
        want = want[..., [1, 0, 3, 2]]
    want = want / np.array(variance)
    np.testing.assert_allclose(deltas, want, rtol=1e-4, atol=1e-4)
    decoded = bb.decode_deltas_to_boxes(anchors, deltas, "xyxy", "xywh", encoded_format=encoding, variance=variance)
    np.testing.assert_allclose(npy(decoded), ref_from_corners(b, "xywh"), rtol=1e-4, atol=1e-3)


def test_encode_decode_relative_formats_and_dict_levels():
    rng = np.random.default_rng(6)
    anchors = random_corners(rng, (4, 4)).astype("float32")
    boxes = random_corners(rng, (4, 4)).astype("float32")
    rel = bb.convert_format(boxes, "xyxy", "rel_xyxy", height=H, width=W)
    d1 = bb.encode_box_to_deltas(anchors, rel, "xyxy", "rel_xyxy", image_shape=(H, W, 3))
    d2 = bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy")
    np.testing.assert_allclose(npy(d1), npy(d2), atol=1e-4)
    levels = bb.decode_deltas_to_boxes({"P3": anchors, "P4": anchors[:2]}, {"P3": d2, "P4": npy(d2)[:2]}, "xyxy",
                                       "xyxy")
    assert sorted(levels) == ["P3", "P4"]
    np.testing.assert_allclose(npy(levels["P3"]), boxes, atol=1e-3)
    np.testing.assert_allclose(npy(levels["P4"]), boxes[:2], atol=1e-3)


def test_deltas_errors():
    a = np.zeros((1, 4), "float32")
    with pytest.raises(ValueError, match=r"encode_box_to_deltas\(\) expected `variance` to hold 4 values"):
        bb.encode_box_to_deltas(a, a, "xyxy", "xyxy", variance=[0.1, 0.2])
    with pytest.raises(ValueError, match=r"encode_box_to_deltas\(\) expected `encoding_format` to be"):
        bb.encode_box_to_deltas(a, a, "xyxy", "xyxy", encoding_format="xyxy")
    with pytest.raises(ValueError, match=r"decode_deltas_to_boxes\(\) expected `encoded_format` to be"):
        bb.decode_deltas_to_boxes(a, a, "xyxy", "xyxy", encoded_format="xywh")
    with pytest.raises(ValueError, match=r"decode_deltas_to_boxes\(\) expected `boxes_delta` to have the levels"):
        bb.decode_deltas_to_boxes({"P3": a, "P4": a}, {"P3": a}, "xyxy", "xyxy")
    with pytest.raises(ValueError, match=r"convert_format\(\) needs `height` and `width`"):
        bb.encode_box_to_deltas(a, a, "rel_xyxy", "xyxy")
    with pytest.raises(ValueError, match=r"decode_deltas_to_boxes\(\) expected `image_shape`"):
        bb.decode_deltas_to_boxes(a, a, "xyxy", "xyxy", image_shape=(5,))


# ---- IoU --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["xyxy", "yxyx", "center_xywh", "rel_xywh"])
def test_compute_iou_every_rank_combination(fmt):
    rng = np.random.default_rng(7)
    c1 = random_corners(rng, (2, 5, 4))
    c2 = random_corners(rng, (2, 3, 4))
    c2[0, 0] = c1[0, 0] + [3, -2, 10, 4]  # make sure some pairs overlap
    b1, b2 = ref_from_corners(c1, fmt).astype("float32"), ref_from_corners(c2, fmt).astype("float32")
    ims = (H, W, 3) if fmt.startswith("rel_") else None
    full = npy(bb.compute_iou(b1, b2, fmt, image_shape=ims))
    assert full.shape == (2, 5, 3) and full.max() > 0
    for i in range(2):
        np.testing.assert_allclose(full[i], ref_iou_table(c1[i], c2[i]), atol=1e-5)
    np.testing.assert_allclose(npy(bb.compute_iou(b1[0], b2[0], fmt, image_shape=ims)), full[0], atol=1e-6)
    mixed = npy(bb.compute_iou(b1, b2[1], fmt, image_shape=ims))
    assert mixed.shape == (2, 5, 3)
    np.testing.assert_allclose(mixed[0], ref_iou_table(c1[0], c2[1]), atol=1e-5)
    mixed = npy(bb.compute_iou(b1[1], b2, fmt, image_shape=ims))
    np.testing.assert_allclose(mixed[0], ref_iou_table(c1[1], c2[0]), atol=1e-5)


def test_compute_iou_masking_and_known_values():
    b1 = np.array([[0, 0, 10, 10], [5, 5, 15, 25], [-1, -1, -1, -1]], "float32")
    b2 = np.array([[2, 3, 12, 9], [20, 20, 30, 30], [-1, -1, -1, -1]], "float32")
    iou = npy(bb.compute_iou(b1[:2], b2[:2], "xyxy"))
    np.testing.assert_allclose(iou, [[0.42857143, 0.0], [0.12068965, 0.0]], atol=1e-6)  # Keras's values
    masked = npy(bb.compute_iou(b1, b2, "xyxy", use_masking=True, mask_val=-5))
    np.testing.assert_allclose(masked[:2, :2], iou, atol=1e-7)
    assert (masked[2, :] == -5).all() and (masked[:, 2] == -5).all()
    batched = npy(bb.compute_iou(b1[None], b2, "xyxy", use_masking=True))
    assert batched.shape == (1, 3, 3) and (batched[0, 2] == -1).all() and (batched[0, :, 2] == -1).all()


def test_compute_iou_errors():
    with pytest.raises(ValueError, match=r"compute_iou\(\) expected `boxes1` of shape"):
        bb.compute_iou(np.zeros((1, 2, 3, 4)), np.zeros((2, 4)), "xyxy")
    with pytest.raises(ValueError, match=r"compute_iou\(\) needs `image_shape`.*'rel_xyxy'"):
        bb.compute_iou(np.zeros((2, 4)), np.zeros((2, 4)), "rel_xyxy")
    with pytest.raises(ValueError, match=r"compute_iou\(\).*last dimension of 4.*boxes2"):
        bb.compute_iou(np.zeros((2, 4)), np.zeros((2, 5)), "xyxy")


def test_compute_ciou_matches_reference():
    rng = np.random.default_rng(8)
    c1, c2 = random_corners(rng, (3, 4, 4)), random_corners(rng, (3, 4, 4))
    c2[0, 0] = c1[0, 0] + 1.5
    for fmt in ["xyxy", "center_yxhw"]:
        out = npy(bb.compute_ciou(ref_from_corners(c1, fmt).astype("float32"),
                                  ref_from_corners(c2, fmt).astype("float32"), fmt))
        assert out.shape == (3, 4)
        want = np.array([[ref_ciou(a, b) for a, b in zip(r1, r2)] for r1, r2 in zip(c1, c2)])
        np.testing.assert_allclose(out, want, atol=1e-5)
    known = bb.compute_ciou(np.array([[0, 0, 10, 10], [5, 5, 15, 25]], "float32"),
                            np.array([[2, 3, 12, 9], [20, 20, 30, 30]], "float32"), "xyxy")
    np.testing.assert_allclose(npy(known), [0.40708658, -0.26168945], atol=1e-6)  # Keras's values
    same = bb.compute_ciou([[1.0, 2.0, 5.0, 9.0]], [[1.0, 2.0, 5.0, 9.0]], "xyxy")
    np.testing.assert_allclose(npy(same), [1.0], atol=1e-6)
    rel = bb.compute_ciou([[0.1, 0.1, 0.5, 0.5]], [[0.1, 0.1, 0.5, 0.5]], "rel_xyxy", image_shape=(10, 20, 3))
    np.testing.assert_allclose(npy(rel), [1.0], atol=1e-6)
    with pytest.raises(ValueError, match=r"compute_ciou\(\) needs `image_shape`"):
        bb.compute_ciou([[0.1, 0.1, 0.5, 0.5]], [[0.1, 0.1, 0.5, 0.5]], "rel_xyxy")
