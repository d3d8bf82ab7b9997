"""Draws a gridworld (and optional value heatmap and policy arrows) onto one pygame Surface.

"rgb_array" returns that Surface's pixels; "human" blits the same Surface to a window, so both show one picture.
"""

from __future__ import annotations

import numpy as np

from envs.gridworld_maps import CLIFF, FLOOR, GOAL, HOLE, START, WALL
from envs.gridworld_model import MOVES
from envs.window import Window, pygame

CELL_COLORS = {
    FLOOR: (236, 236, 236),
    START: (198, 218, 250),
    WALL: (64, 64, 72),
    GOAL: (92, 196, 120),
    HOLE: (34, 44, 96),
    CLIFF: (168, 72, 52),
}
GRID_LINE_COLOR = (200, 200, 200)
AGENT_COLOR = (222, 52, 52)
ARROW_COLOR = (20, 20, 20)
# A viridis-like ramp for the value heatmap, low to high.
HEAT_STOPS = np.array([(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)], dtype=float)
MAX_WINDOW_PIXELS = 768


def heat_colors(values: np.ndarray) -> np.ndarray:
    """RGB (N, 3) uint8 for values (N,), scaled so the smallest is dark purple and the largest yellow."""
    low, high = float(np.min(values)), float(np.max(values))
    scaled = (values - low) / (high - low) if high > low else np.full(values.shape, 0.5)
    position = scaled * (len(HEAT_STOPS) - 1)
    lower = np.minimum(position.astype(int), len(HEAT_STOPS) - 2)
    frac = (position - lower)[:, None]
    return np.round(HEAT_STOPS[lower] * (1 - frac) + HEAT_STOPS[lower + 1] * frac).astype(np.uint8)


def arrow_keys_to_action() -> dict[tuple[int, ...], int]:
    return {(pygame.K_LEFT,): 0, (pygame.K_DOWN,): 1, (pygame.K_RIGHT,): 2, (pygame.K_UP,): 3}


class GridRenderer:
    """Draws a map of H x W cells, `cell` pixels each (fitting MAX_WINDOW_PIXELS), frame size (W*cell, H*cell)."""

    def __init__(self, rows: tuple[str, ...], caption: str = "GridWorld"):
        self.rows = rows
        self.height, self.width = len(rows), len(rows[0])
        self.cell = max(2, min(64, MAX_WINDOW_PIXELS // max(self.height, self.width)))
        self.size = (self.width * self.cell, self.height * self.cell)
        self.caption = caption
        cells = "".join(rows)
        self.cell_colors = np.array([CELL_COLORS[char] for char in cells], dtype=np.uint8)  # (S, 3)
        # Cells that get a heat colour and a policy arrow: the ones an agent can stand on and act from.
        self.open_cells = np.array([char in (FLOOR, START) for char in cells])
        self.glyph_cells = {s: char for s, char in enumerate(cells) if char in (GOAL, HOLE)}
        self.surface = pygame.Surface(self.size)
        self.window = Window(self.size, caption)

    def draw(self, state: int | None, values=None, policy=None) -> pygame.Surface:
        """The frame for the agent at `state` (None: no agent), values (S,) heatmap, policy (S,) arrows."""
        surface, cell = self.surface, self.cell
        colors = self.cell_colors.copy()
        if values is not None:
            colors[self.open_cells] = heat_colors(np.asarray(values)[self.open_cells])
        for s, color in enumerate(colors.tolist()):
            row, col = divmod(s, self.width)
            rect = pygame.Rect(col * cell, row * cell, cell, cell)
            surface.fill(color, rect)
            if cell >= 8:
                pygame.draw.rect(surface, GRID_LINE_COLOR, rect, width=1)
            if cell >= 6 and s in self.glyph_cells:
                self._draw_glyph(rect, self.glyph_cells[s])
            if policy is not None and self.open_cells[s]:
                self._draw_arrow(rect, int(policy[s]))
        if state is not None:
            row, col = divmod(int(state), self.width)
            center = (col * cell + cell // 2, row * cell + cell // 2)
            pygame.draw.circle(surface, AGENT_COLOR, center, max(1, int(cell * 0.3)))
        return surface

    def _draw_glyph(self, rect: pygame.Rect, char: str) -> None:
        """A white ring marks a goal, a black disc a hole, so they read apart from any heatmap colour."""
        radius = max(2, int(self.cell * 0.3))
        if char == GOAL:
            pygame.draw.circle(self.surface, (255, 255, 255), rect.center, radius, width=max(1, self.cell // 12))
        else:
            pygame.draw.circle(self.surface, (8, 8, 16), rect.center, radius)

    def _draw_arrow(self, rect: pygame.Rect, action: int) -> None:
        dr, dc = MOVES[action]
        cx, cy, half = rect.centerx, rect.centery, self.cell * 0.3
        tip = (cx + dc * half, cy + dr * half)
        # The base of the triangle is perpendicular to the move.
        base_left = (cx - dc * half * 0.6 - dr * half * 0.6, cy - dr * half * 0.6 + dc * half * 0.6)
        base_right = (cx - dc * half * 0.6 + dr * half * 0.6, cy - dr * half * 0.6 - dc * half * 0.6)
        pygame.draw.polygon(self.surface, ARROW_COLOR, (tip, base_left, base_right))

    def show(self, surface: pygame.Surface, fps: int) -> None:
        """Blit the frame to the window (opened on first use) and keep the window responsive."""
        self.window.show(surface, fps)

    def close(self) -> None:
        self.window.close()
