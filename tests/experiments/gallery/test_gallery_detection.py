"""The object_detection gallery script: its claim on main()'s numbers (slow), a small run of the whole pipeline,
and its parts (ground truth, IoU, AP, box encodings, windows, multiply-add counts) against independent
computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from envs.arcade_render import BACKGROUND
from envs.breakout import BreakoutGame
from envs.catch import CatchGame
from experiments import gallery
from experiments.gallery import _detection_data as data
from experiments.gallery import object_detection as od

CLASS_COLORS = {  # every colour each class is drawn in, by game
    0: {CatchGame.channel_colors[1], BreakoutGame.channel_colors[1]},
    1: {CatchGame.channel_colors[0], BreakoutGame.channel_colors[0]},
    2: {BreakoutGame.channel_colors[3]},
}


# ------------------------------------------------------------------------------------- independent references


def iou_reference(a, b) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def ap_reference(detections, truth, label: int, threshold: float = 0.5) -> float:
    """AP as the sum, over true positives in score order, of 1/num_truth times the best precision at that
    rank or any later one (the same all-point interpolation, computed rank by rank in plain Python)."""
    ranked = sorted(((float(s), f, tuple(map(float, b)))
                     for f, (boxes, scores, labels) in enumerate(detections)
                     for b, s, k in zip(boxes, scores, labels) if k == label), key=lambda item: -item[0])
    gts = {f: [tuple(map(float, b)) for b, k in zip(boxes, labels) if k == label]
           for f, (boxes, labels) in enumerate(truth)}
    num_truth = sum(len(v) for v in gts.values())
    used = {f: [False] * len(v) for f, v in gts.items()}
    hits = []
    for _, f, box in ranked:
        candidates = [(iou_reference(box, g), j) for j, g in enumerate(gts[f]) if not used[f][j]]
        best = max(candidates, default=(0.0, -1))
        hit = best[0] >= threshold
        if hit:
            used[f][best[1]] = True
        hits.append(hit)
    precision = [sum(hits[:k + 1]) / (k + 1) for k in range(len(hits))]
    return sum(max(precision[k:]) for k in range(len(hits)) if hits[k]) / num_truth


# ------------------------------------------------------------------------------------------------ the claim


@pytest.mark.slow
def test_one_look_detects_as_well_at_a_fraction_of_the_cost(tmp_path):
    r = gallery.run_script("object_detection", plot_dir=str(tmp_path))
    yolo, rcnn = r["yolo"], r["rcnn"]
    assert yolo["mAP50"] >= 0.9 and min(yolo["AP50_per_class"].values()) >= 0.9
    assert yolo["mean_best_iou"] > 0.7
    assert rcnn["mAP50"] >= 0.9  # reported, not claimed: the comparison is between two working detectors
    assert yolo["cnn_evaluations_per_frame"] == 1 and rcnn["cnn_evaluations_per_frame"] == 2761
    assert r["multiply_add_ratio"] >= 10  # the 10x claim, independent of the machine's load
    assert r["speedup"] > 2  # wall clock, measured ~20-60x: only a very generous floor, so it cannot flake
    assert r["test_objects"]["ball"] > 90 and r["test_objects"]["paddle"] == r["test_frames"] == 100
    assert (tmp_path / "object_detection.png").stat().st_size > 1000


# ----------------------------------------------------------------------------------------- a small whole run


@pytest.fixture(scope="module")
def small_run():
    config = od.DetectionConfig(train_frames=400, rcnn_train_frames=30, test_frames=12, yolo_epochs=8,
                                rcnn_epochs=5, seed=3)
    return od.run(config)


def test_small_run_gives_sane_numbers(small_run):
    numbers, details = small_run
    assert numbers["test_frames"] == len(details["frames"]) == len(details["truth"]) == 12
    assert sum(numbers["test_objects"].values()) == sum(len(labels) for _, labels in details["truth"])
    for name in ("yolo", "rcnn"):
        r = numbers[name]
        assert 0.0 <= r["mAP50"] <= 1.0 and 0.0 <= r["mean_best_iou"] <= 1.0
        assert set(r["AP50_per_class"]) == set(data.CLASSES) and r["ms_per_frame"] > 0
        assert r["mAP50"] > 0.1  # half-trained (a few seconds of training), but learning
        for boxes, scores, labels in details[name]:
            assert boxes.shape == (len(scores), 4) and labels.shape == scores.shape
            assert np.all((scores >= od.MIN_SCORE) & (scores <= 1)) and np.all((labels >= 0) & (labels < 3))
    assert numbers["rcnn"]["cnn_evaluations_per_frame"] == 2761 and numbers["multiply_add_ratio"] >= 10
    assert numbers["rcnn_training_crops"] > 0


def test_small_run_map_matches_an_independent_computation(small_run):
    numbers, details = small_run
    for name in ("yolo", "rcnn"):
        assert any(0 < ap < 1 for ap in numbers[name]["AP50_per_class"].values())  # ranks and misses matter
        per_class = [ap_reference(details[name], details["truth"], k) for k in range(len(data.CLASSES))]
        assert numbers[name]["AP50_per_class"] == pytest.approx(dict(zip(data.CLASSES, per_class)), abs=1e-9)
        assert numbers[name]["mAP50"] == pytest.approx(np.mean(per_class), abs=1e-9)


def test_multiply_adds_are_counted_as_the_layer_shapes_say(small_run):
    numbers, _ = small_run
    # YOLO-style, per frame: three 3x3 convs (3->16 at 32x32, 16->32 at 16x16, 32->32 at 16x16), 1x1 conv 32->8.
    yolo = 32 * 32 * 16 * 3 * 9 + 16 * 16 * 32 * 16 * 9 + 16 * 16 * 32 * 32 * 9 + 16 * 16 * 8 * 32
    assert numbers["yolo"]["multiply_adds_per_frame"] == yolo == 4_046_848
    # R-CNN-style, per window: 3x3 convs 3->8 at 10x10 and 8->16 at 5x5 (each then 2x2 max pooling), dense
    # 16*2*2 -> 64 -> 8; and 2,761 windows per frame.
    per_window = 10 * 10 * 8 * 3 * 9 + 5 * 5 * 16 * 8 * 9 + 64 * 64 + 64 * 8
    assert numbers["rcnn"]["multiply_adds_per_frame"] == 2761 * per_window
    assert numbers["multiply_add_ratio"] == pytest.approx(2761 * per_window / yolo)


# ------------------------------------------------------------------------------------------- ground truth


def test_boxes_cover_exactly_the_pixels_drawn_in_each_class_colour():
    frames, truth = data.make_frames(40, seed=5)
    assert all(frame.shape == (64, 64, 3) for frame in frames)
    for frame, (boxes, labels) in zip(frames, truth):
        assert (labels == 1).sum() == 1 and (labels == 0).sum() <= 1  # one paddle; a ball unless hidden
        for label, colours in CLASS_COLORS.items():
            inside = np.zeros(frame.shape[:2], dtype=bool)
            for x0, y0, x1, y1 in boxes[labels == label].astype(int):
                inside[y0:y1, x0:x1] = True
                # The cell's first row and column are grid lines; the rest is the object's colour.
                interior = frame[y0 + 1:y1 - 1, x0 + 1:x1 - 1].reshape(-1, 3)
                assert {tuple(int(v) for v in pixel) for pixel in interior} <= colours
            drawn = np.zeros(frame.shape[:2], dtype=bool)
            for colour in colours:
                drawn |= np.all(frame == colour, axis=-1)
            assert not np.any(drawn & ~inside)  # no pixel of the class's colour outside its boxes


def test_frames_are_seeded_and_mix_both_games():
    first, truth = data.make_frames(30, seed=7)
    again, _ = data.make_frames(30, seed=7)
    np.testing.assert_array_equal(first, again)
    bricks = [int((labels == 2).sum()) for _, labels in truth]
    assert bricks.count(0) >= 15 and len(set(bricks)) > 5  # half Catch; Breakout walls of many sizes


# ------------------------------------------------------------------------------------------------ scoring


def test_box_iou_by_hand():
    a = np.array([[0, 0, 4, 4], [10, 10, 12, 12]])
    b = np.array([[2, 0, 6, 4], [0, 0, 4, 4], [4, 4, 8, 8]])
    expected = [[8 / 24, 1.0, 0.0], [0.0, 0.0, 0.0]]
    np.testing.assert_allclose(data.box_iou(a, b), expected)


def test_average_precision_by_hand():
    truth = [(np.array([[0, 0, 4, 4], [10, 0, 14, 4]], float), np.array([0, 0])),
             (np.array([[0, 0, 4, 4]], float), np.array([0]))]
    detections = [
        (np.array([[0, 0, 4, 4], [20, 20, 24, 24], [0, 1, 4, 5], [10, 0, 14, 4]], float),
         np.array([0.9, 0.8, 0.6, 0.5]), np.array([0, 0, 0, 0])),
        (np.array([[0, 0, 4, 4], [0, 0, 4, 4]], float), np.array([0.7, 0.95]), np.array([0, 1])),
    ]
    # Class 0 in score order: 0.9 hit, 0.8 miss, 0.7 hit, 0.6 a second box on a claimed object (miss), 0.5 hit.
    # Precision at the hits 1, 2/3, 3/5; none is beaten later, so AP = (1 + 2/3 + 3/5) / 3 = 34/45.
    assert data.average_precision(detections, truth, 0) == pytest.approx(34 / 45)
    assert ap_reference(detections, truth, 0) == pytest.approx(34 / 45)
    assert np.isnan(data.average_precision(detections, truth, 1))  # no class-1 objects: left out of the mean
    assert data.mean_average_precision(detections, truth)["mAP"] == pytest.approx(34 / 45)
    no_detections = [(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))] * 2
    assert data.average_precision(no_detections, truth, 0) == 0.0


def test_nms_keeps_the_best_of_overlapping_boxes_only():
    boxes = np.array([[0, 0, 4, 4], [0, 1, 4, 5], [4, 0, 8, 4], [20, 20, 24, 24]], float)
    scores = np.array([0.6, 0.9, 0.8, 0.1])
    assert data.nms(boxes, scores, 0.5).tolist() == [1, 2, 3]  # box 0 overlaps box 1 with IoU 0.6


# --------------------------------------------------------------------------------------- encodings, windows


def test_yolo_decodes_its_own_targets_back_to_the_truth():
    frames, truth = data.make_frames(6, seed=11)
    target = od.yolo_targets(truth)
    logits = torch.full((len(truth), 5 + 3, od.GRID, od.GRID), -20.0)
    logits[:, 0] = torch.where(target[:, 0] > 0, 20.0, -20.0)
    logits[:, 1:3] = torch.logit(target[:, 1:3].clamp(1e-6, 1 - 1e-6))
    logits[:, 3:5] = target[:, 3:5]
    logits[:, 5:] = 20.0 * torch.nn.functional.one_hot(target[:, 5].long(), 3).permute(0, 3, 1, 2)
    detections = [od.yolo_decode(grid) for grid in logits]
    for (boxes, _, labels), (gt_boxes, gt_labels) in zip(detections, truth):
        order, gt_order = np.lexsort(boxes.T[::-1]), np.lexsort(gt_boxes.T[::-1])
        np.testing.assert_allclose(boxes[order], gt_boxes[gt_order], atol=1e-3)
        np.testing.assert_array_equal(labels[order], gt_labels[gt_order])
    assert data.mean_average_precision(detections, truth)["mAP"] == pytest.approx(1.0)


def test_rcnn_windows_crops_and_box_deltas():
    windows = od.window_boxes()
    assert len(windows) == sum(((64 - s) // 2 + 1) ** 2 for s in od.WINDOW_SIZES) == 2761
    boxes = windows[::7][:50] + np.array([1, -1, 2, 1], np.float32)
    np.testing.assert_allclose(od.apply_deltas(windows[::7][:50], od.box_deltas(windows[::7][:50], boxes)), boxes,
                               atol=1e-4)
    frames, _ = data.make_frames(1, seed=2)
    crops = od.crop_windows(od.as_input(frames))
    assert crops.shape == (2761, 3, 10, 10)
    # A 6 px window with 2 px of context on each side is exactly 10 px: its crop is the frame, unwarped.
    background = np.array(BACKGROUND, np.float32) / 255
    padded = np.pad(frames[0] / 255.0, ((2, 2), (2, 2), (0, 0)), constant_values=-1)
    padded[padded[..., 0] < 0] = background
    for index in np.flatnonzero(windows[:, 2] - windows[:, 0] == 6)[::97]:
        x0, y0 = windows[index, :2].astype(int)
        np.testing.assert_allclose(crops[index].permute(1, 2, 0).numpy(), padded[y0:y0 + 10, x0:x0 + 10], atol=1e-6)
