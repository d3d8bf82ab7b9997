"""Animated GIFs of rendered frames, written with Pillow (installed already: matplotlib depends on it).

Frames are kept palettized, one byte a pixel, from the moment they are added until the file is written.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

#: GIF frame delays are whole hundredths of a second.
MAX_FPS = 100
CAPTION_PX = 22
CAPTION_BACKGROUND = (18, 18, 28)
CAPTION_TEXT = (235, 235, 235)


def captioned(frame: np.ndarray, text: str) -> np.ndarray:
    """The frame (uint8 (H, W, 3)) under a strip of CAPTION_PX rows that shows `text` (e.g. the episode and its
    return), as a GIF has no window caption."""
    from PIL import ImageDraw, ImageFont

    frame = np.asarray(frame)
    strip = Image.new("RGB", (frame.shape[1], CAPTION_PX), CAPTION_BACKGROUND)
    ImageDraw.Draw(strip).text((6, 4), text, fill=CAPTION_TEXT, font=ImageFont.load_default())
    return np.concatenate([np.asarray(strip, dtype=np.uint8), frame], axis=0)


class GifRecorder:
    """Collects uint8 (H, W, 3) frames, each shown 1/fps s, and writes them as a looping GIF.

    A frame identical to the one before it (after reduction to the GIF's 256 colours) is not stored again:
    the stored one is shown longer. Pillow's GIF writer would merge such a repeat anyway; merging here keeps
    the count exact: the file holds `len(images)` frames, `frames_added` minus the repeats, and lasts
    frames_added / fps seconds, rounded to the GIF's 1/100 s.
    """

    def __init__(self, fps: float):
        if not 0 < fps <= MAX_FPS:
            raise ValueError(f"fps must be in (0, {MAX_FPS}] (GIF delays are whole 1/100 s), got {fps}")
        self.fps = fps
        self.images: list[Image.Image] = []
        self.repeats: list[int] = []  # how many added frames each stored image stands for
        self._last_frame: np.ndarray | None = None
        self._last_shown: np.ndarray | None = None

    @property
    def frames_added(self) -> int:
        return sum(self.repeats)

    @property
    def size(self) -> tuple[int, int] | None:
        """(height, width) of the frames, like the arrays added; None before the first."""
        return None if self._last_frame is None else self._last_frame.shape[:2]

    def add(self, frame: np.ndarray) -> None:
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"frames must be uint8 (H, W, 3), got {frame.dtype} {frame.shape}")
        if self.size is not None and frame.shape[:2] != self.size:
            raise ValueError(f"frame size {frame.shape[:2]} differs from the first frame's {self.size}")
        if self._last_frame is not None and np.array_equal(frame, self._last_frame):
            self.repeats[-1] += 1  # the cheap test first: reducing colours (below) costs ~10 ms a frame
            return
        self._last_frame = frame.copy()
        # Compare what the GIF will show as well: frames of over 256 colours can become equal once reduced to
        # 256, and Pillow would then merge them itself.
        image = palettized(frame)
        shown = np.asarray(image.convert("RGB"))
        if self._last_shown is not None and np.array_equal(shown, self._last_shown):
            self.repeats[-1] += 1
            return
        self.images.append(image)
        self.repeats.append(1)
        self._last_shown = shown

    def durations_ms(self) -> list[int]:
        """Display time of each stored frame in ms: whole 1/100 s, chosen so that the running total stays within
        1/200 s of frames / fps (a fps like 8 alternates 120 and 130 ms instead of drifting at 120)."""
        ends = np.round(np.cumsum(self.repeats) * 100 / self.fps).astype(np.int64)
        return (np.diff(ends, prepend=0) * 10).tolist()

    def save(self, path: str | os.PathLike) -> Path:
        if not self.images:
            raise ValueError("no frames to write")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        first, *rest = self.images
        first.save(path, format="GIF", save_all=True, append_images=rest, duration=self.durations_ms(), loop=0)
        return path


def palettized(frame: np.ndarray) -> Image.Image:
    """uint8 (H, W, 3) -> a "P" image: exact when the frame has at most 256 colours (every env's frames here),
    else Pillow's median-cut reduction to 256 colours (about twice as slow)."""
    image = Image.fromarray(frame)
    colors = image.getcolors(256)
    if colors is None:
        return image.convert("P", palette=Image.Palette.ADAPTIVE)
    palette = np.sort(_packed(np.array([color for _, color in colors], dtype=np.uint8)))
    height, width = frame.shape[:2]
    indexed = Image.frombytes("P", (width, height), np.searchsorted(palette, _packed(frame)).astype(np.uint8))
    indexed.putpalette(np.stack([palette >> 16, palette >> 8, palette], axis=-1).astype(np.uint8).tobytes())
    return indexed


def _packed(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 colours -> (...) uint32 0xRRGGBB, which sort and compare as one number."""
    rgb = rgb.astype(np.uint32)
    return rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]
