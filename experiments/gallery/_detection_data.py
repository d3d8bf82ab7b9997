"""Detection data and scoring for the object_detection gallery script: frames drawn from Catch and Breakout
boards with their ground-truth boxes, box IoU, non-maximum suppression and mean average precision (VOC style).

Boxes are float arrays (K, 4) of pixel corners (x0, y0, x1, y1), x1 and y1 exclusive.
"""

from __future__ import annotations

import numpy as np

from envs import rng
from envs.arcade_render import BACKGROUND, board_image
from envs.breakout import NUM_BRICKS, BreakoutGame
from envs.catch import CatchGame

CLASSES = ("ball", "paddle", "brick")
FRAME_PX = 64
CELL_SIZES = (4, 5, 6)  # pixels per board cell, drawn at random per frame: objects of 4 to 6 px
GAMES = (CatchGame, BreakoutGame)


def play_boards(game_cls, num: int, max_steps: int, seed: int) -> np.ndarray:
    """Observations (num, C, H, W) of `num` copies, copy i snapshotted after a random number of steps.

    The paddle follows the ball's column with probability 0.8 and moves at random otherwise; copies that lose
    start over. A Breakout wall starts with each brick kept with a probability drawn per copy from [0.2, 1],
    standing in for the walls of longer games than this simple player survives.
    """
    game = game_cls(num)
    everyone = np.ones(num, dtype=bool)
    game.seed(everyone, rng.seed_to_keys(seed, num))
    choices = np.random.default_rng(seed)
    start_over(game, everyone, choices)
    snapshot_at = choices.integers(0, max_steps, size=num)
    boards = game.observe()
    for step in range(1, int(snapshot_at.max()) + 1):
        follow = np.sign(game.ball_col - game.paddle_col) + 1
        actions = np.where(choices.random(num) < 0.8, follow, choices.integers(0, 3, size=num))
        _, terminated = game.step(actions.astype(np.int64))
        if terminated.any():
            start_over(game, terminated, choices)
        now = snapshot_at == step
        boards[now] = game.observe()[now]
    return boards


def start_over(game, mask: np.ndarray, choices: np.random.Generator) -> None:
    """Reset the copies in `mask`; a Breakout wall keeps each brick with a probability drawn from [0.2, 1]."""
    game.reset(mask)
    if hasattr(game, "bricks"):
        count = int(mask.sum())
        keep = choices.random((count, NUM_BRICKS)) < choices.uniform(0.2, 1.0, size=(count, 1))
        game.bricks[mask] = (keep * (1 << np.arange(NUM_BRICKS))).sum(axis=1).astype(np.uint32)


def visible_layer(board: np.ndarray) -> np.ndarray:
    """Which channel is drawn in each cell (0 background, c + 1 for channel c), as board_image paints it."""
    top = np.zeros(board.shape[1:], dtype=np.intp)
    for channel in range(board.shape[0]):
        top[board[channel] > 0] = channel + 1
    return top


def board_boxes(board: np.ndarray, channel_names, cell_px: int, top: int, left: int):
    """Ground truth of one board drawn at (top, left): boxes (K, 4) and class indices (K,) into CLASSES.

    Every visible cell of a ball, paddle or brick channel is one object (a ball hidden under the trail is not);
    other channels (Breakout's trail) are drawn but are not objects.
    """
    layer = visible_layer(board)
    boxes, labels = [], []
    for channel, name in enumerate(channel_names):
        if name not in CLASSES:
            continue
        rows, cols = np.nonzero(layer == channel + 1)
        for r, c in zip(rows, cols):
            x0, y0 = left + c * cell_px, top + r * cell_px
            boxes.append((x0, y0, x0 + cell_px, y0 + cell_px))
            labels.append(CLASSES.index(name))
    return np.array(boxes, dtype=np.float32).reshape(-1, 4), np.array(labels, dtype=np.int64)


def make_frames(num: int, seed: int):
    """`num` frames (uint8 (num, FRAME_PX, FRAME_PX, 3)), half Catch, half Breakout, each board drawn by the
    games' own pixel-art renderer at a random cell size and position; and per frame (boxes, labels)."""
    choices = np.random.default_rng(seed)
    sources = []
    for g, game_cls in enumerate(GAMES):
        count = num // len(GAMES) + (g < num % len(GAMES))
        if count == 0:
            continue
        max_steps = 9 if game_cls is CatchGame else 200
        boards = play_boards(game_cls, count, max_steps, seed * len(GAMES) + g)
        sources += [(game_cls, board) for board in boards]
    order = choices.permutation(len(sources))
    frames = np.empty((num, FRAME_PX, FRAME_PX, 3), dtype=np.uint8)
    truth = []
    for i, index in enumerate(order):
        game_cls, board = sources[index]
        cell_px = int(choices.choice(CELL_SIZES))
        height, width = board.shape[1] * cell_px, board.shape[2] * cell_px
        top, left = (int(choices.integers(0, FRAME_PX - size + 1)) for size in (height, width))
        colors = np.array([BACKGROUND, *game_cls.channel_colors], dtype=np.uint8)
        frames[i] = BACKGROUND
        frames[i, top:top + height, left:left + width] = board_image(board, colors, cell_px)
        truth.append(board_boxes(board, game_cls.channel_names, cell_px, top, left))
    return frames, truth


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in a (K, 4) with every box in b (M, 4): (K, M)."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 4), np.asarray(b, dtype=np.float64).reshape(-1, 4)
    width = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    height = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(width, 0, None) * np.clip(height, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression: indices of the boxes kept, best score first. A box is dropped when
    it overlaps a kept, higher-scoring box with IoU above `threshold`."""
    order = np.argsort(-scores, kind="stable")
    overlaps = box_iou(boxes[order], boxes[order])
    suppressed = np.zeros(len(order), dtype=bool)
    keep = []
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(order[i])
        suppressed |= overlaps[i] > threshold
    return np.array(keep, dtype=np.int64)


def average_precision(detections, truth, label: int, iou_threshold: float = 0.5) -> float:
    """All-point interpolated AP (PASCAL VOC 2010+) of class `label`.

    detections: per frame (boxes (K, 4), scores (K,), labels (K,)); truth: per frame (boxes (M, 4), labels (M,)).
    Detections are taken best score first over all frames; one is a true positive if it overlaps a ground-truth
    box of its class not yet claimed with IoU >= iou_threshold. AP is the area under the precision-recall
    curve after making precision non-increasing. A class with no ground truth has AP nan.
    """
    num_truth = sum(int((labels == label).sum()) for _, labels in truth)
    scored = []  # (score, frame, box)
    for frame, (boxes, scores, labels) in enumerate(detections):
        scored += [(float(s), frame, box) for box, s in zip(boxes[labels == label], scores[labels == label])]
    if num_truth == 0:
        return float("nan")
    scored.sort(key=lambda item: -item[0])
    claimed = [np.zeros(int((labels == label).sum()), dtype=bool) for _, labels in truth]
    hits = np.zeros(len(scored), dtype=bool)
    for k, (_, frame, box) in enumerate(scored):
        gt_boxes = truth[frame][0][truth[frame][1] == label]
        if len(gt_boxes) == 0:
            continue
        overlaps = box_iou(box[None], gt_boxes)[0]
        overlaps[claimed[frame]] = -1.0
        best = int(np.argmax(overlaps))
        if overlaps[best] >= iou_threshold:
            claimed[frame][best] = True
            hits[k] = True
    true_positives = np.cumsum(hits)
    recall = np.concatenate([[0.0], true_positives / num_truth, [1.0]])
    precision = np.concatenate([[1.0], true_positives / np.arange(1, len(hits) + 1), [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(recall) * precision[1:]))


def mean_average_precision(detections, truth, iou_threshold: float = 0.5) -> dict:
    """{"mAP": mean over classes with ground truth, "per_class": {name: AP}}."""
    per_class = {name: average_precision(detections, truth, k, iou_threshold) for k, name in enumerate(CLASSES)}
    present = [ap for ap in per_class.values() if not np.isnan(ap)]
    return {"mAP": float(np.mean(present)) if present else float("nan"), "per_class": per_class}


def mean_best_iou(detections, truth, min_score: float = 0.5) -> float:
    """Mean over ground-truth boxes of the best IoU with a detection of its class scoring >= min_score
    (0 for a box no such detection touches): how tightly the confident detections sit."""
    best = []
    for (boxes, scores, labels), (gt_boxes, gt_labels) in zip(detections, truth):
        confident = scores >= min_score
        overlaps = box_iou(gt_boxes, boxes[confident])
        same_class = gt_labels[:, None] == labels[confident][None, :]
        best += list(np.where(same_class, overlaps, 0.0).max(axis=1, initial=0.0))
    return float(np.mean(best)) if best else float("nan")
