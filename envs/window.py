"""The one pygame window every env draws into for render_mode="human", and Surface -> array conversion.

Envs draw each frame once onto a Surface; "rgb_array" returns its pixels and "human" blits the same Surface
here, so the array and the window always show the same picture.
"""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402  (after the environment variable that silences its banner)


def surface_pixels(surface: pygame.Surface) -> np.ndarray:
    """uint8 (H, W, 3) pixels of a surface (a copy the caller owns)."""
    width, height = surface.get_size()
    return np.frombuffer(pygame.image.tobytes(surface, "RGB"), dtype=np.uint8).reshape(height, width, 3).copy()


class Window:
    """A window of `size` (width, height) pixels, opened on first `show` and paced to a frame rate."""

    def __init__(self, size: tuple[int, int], caption: str = "mdparcade"):
        self.size = size
        self.caption = caption
        self.display = None
        self.clock = None

    def show(self, surface: pygame.Surface, fps: int) -> None:
        """Blit the frame, keep the window responsive, and wait so frames come `fps` per second."""
        # Reopen if another env closed the display (pygame has one window per process) or replaced it.
        if self.display is None or pygame.display.get_surface() is not self.display:
            pygame.display.init()
            pygame.display.set_caption(self.caption)
            self.display = pygame.display.set_mode(self.size)
            self.clock = pygame.time.Clock()
        self.display.blit(surface, (0, 0))
        pygame.event.pump()
        pygame.display.flip()
        self.clock.tick(fps)

    @property
    def is_open(self) -> bool:
        return self.display is not None

    def close(self) -> None:
        if self.display is not None:
            pygame.display.quit()
            self.display = None
            self.clock = None
