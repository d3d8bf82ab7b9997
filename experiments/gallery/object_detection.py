"""Object detection: one look (YOLO-style) gets mAP@0.5 > 0.9 on game frames at 1/38 the compute of 2,761 looks (R-CNN).

The frames come from our own games: Catch and Breakout boards, each drawn by the games' pixel-art renderer
(`envs.arcade_render.board_image`, what render_mode="rgb_array" shows) at a random cell size of 4-6 px and a
random place in a 64x64 frame. The ground-truth boxes come from the board's channels: every visible ball,
paddle and brick cell is one object; Breakout's grey trail (the ball's last cell) is drawn but is no object.

- YOLO-style (one look): one `nets.cnn` trunk runs once over the whole frame and ends in a 16x16 grid (one
  cell per 4 px, no larger than any object, so no cell holds two object centres); each cell predicts
  objectness, a box (centre offset in the cell, log size) and a class.
- R-CNN-style (many looks): square windows of 4, 5 and 6 px every 2 px, 2,761 per frame (standing in for
  R-CNN's ~2,000 selective-search proposals), are cut out with 2 px of context around them, warped to 10x10
  and each classified (background, ball, paddle, brick) by a small `nets.cnn`, which also regresses a box
  correction. It is trained on the windows of 100 frames: those with IoU >= 0.5 to an object, and three
  background windows for each of those.

Both end in per-class non-maximum suppression and are scored on the same 100 held-out frames with VOC mean
average precision at IoU 0.5 (all-point interpolation). "Mean IoU" is, per ground-truth box, the best IoU with
a detection of its class scoring >= 0.5 (0 if there is none), averaged. Both detect well (mAP about 0.98 each);
what differs is the cost. It is counted three ways: CNN evaluations per frame (1 against 2,761), multiply-adds
per frame (counted by hooks on the conv and linear layers: 4.0 M against 152 M) and milliseconds per frame on
one CPU thread (which depends on the machine and its load; the multiply-adds do not).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from envs.arcade_render import BACKGROUND
from experiments.gallery import _detection_data as data
from experiments.gallery._detection_data import CLASSES, FRAME_PX
from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets import Trainer, cnn

STRIDE = 4  # pixels per YOLO grid cell: below the smallest object (4 px), so one object per cell at most
GRID = FRAME_PX // STRIDE
WINDOW_SIZES = (4, 5, 6)
WINDOW_STEP = 2
CONTEXT_PX = 2
CROP_PX = 10
MIN_SCORE = 0.05
MAX_DETECTIONS = 100  # per frame, the best-scoring after NMS (as COCO scores); a frame has at most 32 objects


@dataclass
class DetectionConfig:
    """Sizes of one run; the defaults are the gallery's, tests shrink them."""

    train_frames: int = 800
    rcnn_train_frames: int = 100  # each gives ~140 window crops
    test_frames: int = 100
    yolo_epochs: int = 20
    rcnn_epochs: int = 4
    seed: int = 0


def as_input(frames: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float (N, 3, H, W) in [0, 1]."""
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float().div_(255.0)


# ------------------------------------------------------------------------------------------------ one look


def yolo_net() -> nn.Sequential:
    """(N, 3, 64, 64) -> (N, 5 + classes, 16, 16): objectness, x, y, log w, log h and class logits per cell."""
    trunk = cnn((3, FRAME_PX, FRAME_PX), channels=(16, 32, 32), kernel_sizes=3, strides=(2, 2, 1), paddings=1,
                head=())
    return nn.Sequential(*list(trunk)[:-1], nn.Conv2d(32, 5 + len(CLASSES), 1))  # drop cnn's Flatten


def yolo_targets(truth) -> torch.Tensor:
    """(N, 6, GRID, GRID): objectness, centre offset in the cell (x, y), log(size / STRIDE) (w, h), class."""
    target = torch.zeros(len(truth), 6, GRID, GRID)
    for i, (boxes, labels) in enumerate(truth):
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2 / STRIDE
        cell = np.floor(centre).astype(int)
        size = np.log((boxes[:, 2:] - boxes[:, :2]) / STRIDE)
        for (gx, gy), offset, wh, label in zip(cell, centre - cell, size, labels):
            target[i, :, gy, gx] = torch.tensor([1.0, *offset, *wh, float(label)])
    return target


def yolo_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    objects = target[:, 0] > 0
    objectness = F.binary_cross_entropy_with_logits(output[:, 0], target[:, 0])
    out, tgt = output.permute(0, 2, 3, 1)[objects], target.permute(0, 2, 3, 1)[objects]
    box = F.mse_loss(torch.sigmoid(out[:, 1:3]), tgt[:, 1:3]) + F.mse_loss(out[:, 3:5], tgt[:, 3:5])
    return objectness + 5.0 * box + F.cross_entropy(out[:, 5:], tgt[:, 5].long())


def yolo_decode(output: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One frame's grid (5 + classes, GRID, GRID) -> (boxes, scores, labels) after per-class NMS."""
    cells = output.permute(1, 2, 0).reshape(-1, output.shape[0])
    class_probs = torch.softmax(cells[:, 5:], dim=1)
    scores, labels = (torch.sigmoid(cells[:, :1]) * class_probs).max(dim=1)
    gy, gx = torch.meshgrid(torch.arange(GRID), torch.arange(GRID), indexing="ij")
    centre = (torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1) + torch.sigmoid(cells[:, 1:3])) * STRIDE
    half = torch.exp(cells[:, 3:5]) * STRIDE / 2
    boxes = torch.cat([centre - half, centre + half], dim=1)
    return _per_class_nms(boxes.numpy(), scores.numpy(), labels.numpy(), threshold=0.45)


# ---------------------------------------------------------------------------------------------- many looks


def window_boxes() -> np.ndarray:
    """Every sliding window (K, 4), in the order `crop_windows` cuts them."""
    boxes = []
    for size in WINDOW_SIZES:
        starts = np.arange(0, FRAME_PX - size + 1, WINDOW_STEP)
        y0, x0 = np.meshgrid(starts, starts, indexing="ij")
        boxes.append(np.stack([x0, y0, x0 + size, y0 + size], axis=-1).reshape(-1, 4))
    return np.concatenate(boxes).astype(np.float32)


def crop_windows(frames: torch.Tensor) -> torch.Tensor:
    """(N, 3, 64, 64) -> (N * K, 3, CROP_PX, CROP_PX): each window with CONTEXT_PX of context, warped."""
    background = torch.tensor(BACKGROUND, dtype=torch.float32).div(255.0).view(1, 3, 1, 1)
    padded = F.pad(frames - background, (CONTEXT_PX,) * 4) + background
    crops = []
    for size in WINDOW_SIZES:
        side = size + 2 * CONTEXT_PX
        patches = F.unfold(padded, side, stride=WINDOW_STEP)  # (N, 3 * side * side, windows)
        patches = patches.transpose(1, 2).reshape(-1, 3, side, side)
        crops.append(F.interpolate(patches, size=(CROP_PX, CROP_PX), mode="bilinear", align_corners=False)
                     .view(len(frames), -1, 3, CROP_PX, CROP_PX))
    return torch.cat(crops, dim=1).reshape(-1, 3, CROP_PX, CROP_PX)


def rcnn_net() -> nn.Sequential:
    """(N, 3, 10, 10) window crops -> (N, 1 + classes + 4): background and class logits, box correction."""
    return cnn((3, CROP_PX, CROP_PX), channels=(8, 16), kernel_sizes=3, paddings=1, pool="max",
               head=(64, 1 + len(CLASSES) + 4))


def box_deltas(windows: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """R-CNN's box regression targets: centre shift over window size, log size ratio."""
    size_w, size_b = windows[:, 2:] - windows[:, :2], boxes[:, 2:] - boxes[:, :2]
    shift = ((boxes[:, :2] + boxes[:, 2:]) - (windows[:, :2] + windows[:, 2:])) / 2 / size_w
    return np.concatenate([shift, np.log(size_b / size_w)], axis=1)


def apply_deltas(windows: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    size = windows[:, 2:] - windows[:, :2]
    centre = (windows[:, :2] + windows[:, 2:]) / 2 + deltas[:, :2] * size
    half = np.exp(deltas[:, 2:]) * size / 2
    return np.concatenate([centre - half, centre + half], axis=1)


def rcnn_training_set(frames: np.ndarray, truth, seed: int, negatives_per_positive: int = 3):
    """Crops of every window with IoU >= 0.5 to an object (its class, its box deltas) and 3 times as many
    background windows (IoU < 0.5 to every object), half of them touching an object, half drawn anywhere."""
    choices = np.random.default_rng(seed)
    windows = window_boxes()
    picked_crops, labels, deltas = [], [], []
    for i, (boxes, classes) in enumerate(truth):
        overlaps = data.box_iou(windows, boxes)
        best = overlaps.argmax(axis=1)
        best_iou = overlaps.max(axis=1)
        positive = np.flatnonzero(best_iou >= 0.5)
        want = negatives_per_positive * len(positive)
        near = np.flatnonzero((best_iou > 0) & (best_iou < 0.5))
        far = np.flatnonzero(best_iou == 0)
        negative = np.concatenate([choices.choice(near, min(len(near), want // 2), replace=False),
                                   choices.choice(far, min(len(far), want - want // 2), replace=False)])
        picked = np.concatenate([positive, negative])
        picked_crops.append(crop_windows(as_input(frames[i:i + 1]))[picked])
        labels.append(np.concatenate([classes[best[positive]] + 1, np.zeros(len(negative), dtype=np.int64)]))
        regress = np.zeros((len(picked), 4), dtype=np.float32)
        regress[:len(positive)] = box_deltas(windows[positive], boxes[best[positive]])
        deltas.append(regress)
    return torch.cat(picked_crops), np.concatenate(labels), np.concatenate(deltas)


def rcnn_loss(output: torch.Tensor, target: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    labels, deltas = target
    positive = labels > 0
    classify = F.cross_entropy(output[:, :1 + len(CLASSES)], labels)
    regress = F.smooth_l1_loss(output[positive, 1 + len(CLASSES):], deltas[positive], beta=0.1)
    return classify + 2.0 * regress


def rcnn_decode(output: torch.Tensor, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One frame's window outputs (K, 1 + classes + 4) -> (boxes, scores, labels) after per-class NMS."""
    probs = torch.softmax(output[:, :1 + len(CLASSES)], dim=1)[:, 1:].numpy()
    labels = probs.argmax(axis=1)
    scores = probs.max(axis=1)
    keep = scores >= MIN_SCORE
    boxes = apply_deltas(windows[keep], output[keep, 1 + len(CLASSES):].numpy())
    return _per_class_nms(boxes, scores[keep], labels[keep], threshold=0.3)


# --------------------------------------------------------------------------------------------- shared parts


def _per_class_nms(boxes, scores, labels, threshold: float):
    """Drop scores below MIN_SCORE, run NMS class by class, keep the MAX_DETECTIONS best of what is left."""
    keep = scores >= MIN_SCORE
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    kept = [np.flatnonzero(labels == k)[data.nms(boxes[labels == k], scores[labels == k], threshold)]
            for k in range(len(CLASSES))]
    kept = np.concatenate(kept).astype(np.int64)
    kept = kept[np.argsort(-scores[kept], kind="stable")[:MAX_DETECTIONS]]
    return boxes[kept].astype(np.float32), scores[kept].astype(np.float32), labels[kept].astype(np.int64)


class Detector:
    """frame uint8 (H, W, 3) -> (boxes, scores, labels), counting the CNN evaluations (inputs entering the net's
    first layer: one frame or one window each) and multiply-adds (over every conv and linear layer)."""

    def __init__(self, net: nn.Module, detect_fn):
        self.net, self.detect_fn = net.eval(), detect_fn
        self.evaluations = self.multiply_adds = 0
        layers = [module for module in net.modules() if isinstance(module, (nn.Conv2d, nn.Linear))]
        self.first_layer = layers[0]
        for module in layers:
            module.register_forward_hook(self._count)

    def _count(self, module, inputs, output) -> None:
        if module is self.first_layer:
            self.evaluations += output.shape[0]
        if isinstance(module, nn.Conv2d):
            per_output = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        else:
            per_output = module.in_features
        self.multiply_adds += output.numel() * per_output

    @torch.no_grad()
    def __call__(self, frame: np.ndarray):
        return self.detect_fn(self.net, frame)


def yolo_detect(net, frame):
    return yolo_decode(net(as_input(frame[None]))[0])


def rcnn_detect(net, frame):
    return rcnn_decode(net(crop_windows(as_input(frame[None]))), window_boxes())


def evaluate(detector: Detector, frames: np.ndarray, truth) -> dict:
    """mAP at IoU 0.5, mean best IoU, CNN evaluations, multiply-adds and (median) milliseconds per frame."""
    detector.evaluations = detector.multiply_adds = 0
    detections, seconds = [], []
    for frame in frames:
        start = time.perf_counter()
        detections.append(detector(frame))
        seconds.append(time.perf_counter() - start)
    scores = data.mean_average_precision(detections, truth, 0.5)
    return {"mAP50": scores["mAP"], "AP50_per_class": scores["per_class"],
            "mean_best_iou": data.mean_best_iou(detections, truth),
            "cnn_evaluations_per_frame": detector.evaluations / len(frames),
            "multiply_adds_per_frame": detector.multiply_adds // len(frames),
            "ms_per_frame": 1000 * float(np.median(seconds)), "detections": detections}


def run(config: DetectionConfig) -> tuple[dict, dict]:
    """Generate the frames, train both detectors, score them on held-out frames. Prints nothing.

    Returns (numbers, details): details holds the test frames, their truth and each detector's detections."""
    torch.set_num_threads(1)
    torch.manual_seed(config.seed)
    train, train_truth = data.make_frames(config.train_frames, config.seed)
    test, test_truth = data.make_frames(config.test_frames, config.seed + 1000)

    yolo = yolo_net()
    Trainer(yolo, yolo_loss, epochs=config.yolo_epochs, batch_size=16, lr=5e-3, schedule="exponential",
            schedule_kwargs={"s": config.yolo_epochs}, device="cpu", seed=config.seed,
            progress=False).fit(as_input(train), yolo_targets(train_truth))

    rcnn = rcnn_net()
    n = config.rcnn_train_frames
    crops, labels, deltas = rcnn_training_set(train[:n], train_truth[:n], config.seed)
    Trainer(rcnn, rcnn_loss, epochs=config.rcnn_epochs, batch_size=128, lr=3e-3, schedule="exponential",
            schedule_kwargs={"s": config.rcnn_epochs}, device="cpu", seed=config.seed,
            progress=False).fit(crops, (labels, deltas))

    scores = {"yolo": evaluate(Detector(yolo, yolo_detect), test, test_truth),
              "rcnn": evaluate(Detector(rcnn, rcnn_detect), test, test_truth)}
    counts = np.array([np.bincount(labels, minlength=len(CLASSES)) for _, labels in test_truth]).sum(axis=0)
    numbers = {"train_frames": config.train_frames, "test_frames": config.test_frames,
               "test_objects": dict(zip(CLASSES, counts.tolist())), "rcnn_training_crops": len(crops)}
    for name, result in scores.items():
        numbers[name] = {key: value for key, value in result.items() if key != "detections"}
    yolo_numbers, rcnn_numbers = numbers["yolo"], numbers["rcnn"]
    numbers["multiply_add_ratio"] = rcnn_numbers["multiply_adds_per_frame"] / yolo_numbers["multiply_adds_per_frame"]
    numbers["speedup"] = rcnn_numbers["ms_per_frame"] / yolo_numbers["ms_per_frame"]
    details = {"frames": test, "truth": test_truth, **{name: r["detections"] for name, r in scores.items()}}
    return numbers, details


def main(plot_dir: str | None = None) -> dict:
    numbers, details = run(DetectionConfig())
    objects = ", ".join(f"{count} {name}s" for name, count in numbers["test_objects"].items())
    print(f"Catch and Breakout boards in 64x64 px frames, cells of 4-6 px: {numbers['train_frames']} training "
          f"frames, {numbers['test_frames']} held out ({objects})")
    print(f"  {'':12} mAP@0.5  AP ball/paddle/brick  mean IoU  CNN looks/frame  multiply-adds/frame  ms/frame")
    for name, label in (("yolo", "YOLO-style"), ("rcnn", "R-CNN-style")):
        r = numbers[name]
        per_class = " ".join(f"{ap:.3f}" for ap in r["AP50_per_class"].values())
        print(f"  {label:12} {r['mAP50']:7.3f}  {per_class:20}  {r['mean_best_iou']:8.3f}  "
              f"{r['cnn_evaluations_per_frame']:15,.0f}  {r['multiply_adds_per_frame'] / 1e6:17.1f} M  "
              f"{r['ms_per_frame']:8.1f}")
    print(f"one look against {numbers['rcnn']['cnn_evaluations_per_frame']:,.0f}: the grid detector does "
          f"{numbers['multiply_add_ratio']:.0f}x fewer multiply-adds and is {numbers['speedup']:.0f}x faster per "
          f"frame, at mAP {numbers['yolo']['mAP50']:.3f} against {numbers['rcnn']['mAP50']:.3f}")
    if plot_dir is not None:
        _plot(plot_dir, numbers, details)
    return numbers


def _plot(plot_dir, numbers: dict, details: dict, shown: int = 4) -> None:
    from matplotlib.patches import Rectangle

    fig, axes = new_figure(ncols=shown, nrows=2, panel_size=(2.6, 2.8))
    colors = ("gold", "deepskyblue", "orangered")
    for row, (name, label) in enumerate((("yolo", "YOLO-style"), ("rcnn", "R-CNN-style"))):
        r = numbers[name]
        for col in range(shown):
            ax = axes[row * shown + col]
            ax.imshow(details["frames"][col])
            boxes, scores, labels = details[name][col]
            for (x0, y0, x1, y1), k in zip(boxes[scores >= 0.5], labels[scores >= 0.5]):
                ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, lw=1, ec=colors[k]))
            ax.set(xticks=[], yticks=[])
            if col == 0:
                ax.set_title(f"{label}: mAP {r['mAP50']:.3f}, {r['ms_per_frame']:.1f} ms", fontsize="small",
                             loc="left")
    save_figure(fig, plot_dir, "object_detection")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
