"""Pixel-art drawing of arcade-game observation planes with pygame, for render modes "rgb_array" and "human".

Every frame is drawn once onto one Surface; "human" blits that Surface to the window, so the rgb array and the
window show the same pixels.
"""

from __future__ import annotations

import math

import numpy as np

CELL_PX = 32
SCORE_BAR_PX = 28
BOARD_GAP_PX = 6
FONT_PX = 24
BACKGROUND = (18, 18, 28)
GRID_LINE = (40, 40, 56)
TEXT_COLOR = (235, 235, 235)


def board_image(obs: np.ndarray, colors: np.ndarray, cell_px: int) -> np.ndarray:
    """One board as pixels: obs uint8 (C, H, W) -> uint8 (H * cell_px, W * cell_px, 3).

    colors: uint8 (C + 1, 3), background first; where several channels are lit, the last one wins.
    """
    num_channels, height, width = obs.shape
    top_layer = np.zeros((height, width), dtype=np.intp)
    for channel in range(num_channels):
        top_layer[obs[channel] > 0] = channel + 1
    image = np.repeat(np.repeat(colors[top_layer], cell_px, axis=0), cell_px, axis=1)
    # Thin lines between cells make single cells readable (the look of MinAtar's figures).
    image[::cell_px, :] = GRID_LINE
    image[:, ::cell_px] = GRID_LINE
    image[-1, :] = GRID_LINE
    image[:, -1] = GRID_LINE
    return image


class PixelArtRenderer:
    """Draws up to `num_boards` boards (one per game copy) side by side, each with its score underneath.

    channel_colors: RGB per observation channel; height, width: cells per board.
    """

    def __init__(
        self,
        channel_colors: tuple[tuple[int, int, int], ...],
        height: int,
        width: int,
        num_boards: int = 1,
        caption: str = "mdparcade",
        cell_px: int = CELL_PX,
    ):
        self.colors = np.array([BACKGROUND, *channel_colors], dtype=np.uint8)
        self.height = height
        self.width = width
        self.num_boards = num_boards
        self.caption = caption
        self.cell_px = cell_px
        self.board_columns = math.ceil(math.sqrt(num_boards))
        board_rows = math.ceil(num_boards / self.board_columns)
        self.board_size = (width * cell_px, height * cell_px + SCORE_BAR_PX)
        self.size = (
            self.board_columns * self.board_size[0] + (self.board_columns - 1) * BOARD_GAP_PX,
            board_rows * self.board_size[1] + (board_rows - 1) * BOARD_GAP_PX,
        )
        self.surface = None
        from envs.window import Window  # pygame loads only once something is rendered

        self.window = Window(self.size, caption)

    def draw(self, observations: np.ndarray, scores: np.ndarray) -> None:
        """Draw the frame: observations uint8 (B, C, H, W), scores int (B,) with B <= num_boards."""
        import pygame

        if self.surface is None:
            self.surface = pygame.Surface(self.size)
        if not pygame.font.get_init():
            pygame.font.init()
        # A fresh Font each frame: a cached one dangles if someone calls pygame.quit() in between.
        font = pygame.font.Font(None, FONT_PX)
        self.surface.fill(BACKGROUND)
        for index, (obs, score) in enumerate(zip(observations, scores)):
            left = (index % self.board_columns) * (self.board_size[0] + BOARD_GAP_PX)
            top = (index // self.board_columns) * (self.board_size[1] + BOARD_GAP_PX)
            pixels = board_image(obs, self.colors, self.cell_px)
            self.surface.blit(pygame.surfarray.make_surface(pixels.swapaxes(0, 1)), (left, top))
            text = font.render(f"score {int(score)}", True, TEXT_COLOR, BACKGROUND)
            text_top = top + self.height * self.cell_px + (SCORE_BAR_PX - text.get_height()) // 2
            self.surface.blit(text, (left + 4, text_top))

    def rgb_array(self) -> np.ndarray:
        """The last drawn frame: uint8 (height_px, width_px, 3)."""
        from envs.window import surface_pixels

        return surface_pixels(self.surface)

    def show(self, fps: int) -> None:
        """Put the last drawn frame in the window (opened on first use) and wait to keep `fps` frames/s."""
        self.window.show(self.surface, fps)

    def close(self) -> None:
        self.window.close()
