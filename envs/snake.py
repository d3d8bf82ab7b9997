"""Snake as a batched numpy core: N snakes on H x W boards step at once, with no Python loop over copies.

The rules live here once; envs/arcade.py wraps them as the single env (N = 1) and the vector env.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from envs import rng
from envs.batched_game import BatchedGame

UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3
HEAD, BODY, FOOD = 0, 1, 2
START_LENGTH = 3
MIN_SIDE = 4

# Row and column step of each absolute direction, indexed by action.
_DELTA_ROW = np.array([-1, 0, 1, 0], dtype=np.int64)
_DELTA_COL = np.array([0, 1, 0, -1], dtype=np.int64)


class SnakeGame(BatchedGame):
    """Snake for N copies.

    Actions are absolute directions (0 up, 1 right, 2 down, 3 left); asking to reverse into the neck keeps
    the current heading. Eating food gives +1 and grows the snake by one; hitting a wall or the body gives
    -1 and ends the episode; moving into the cell the tail leaves this step is allowed. Filling the board
    ends the episode as a win (the last food's +1 is the reward). There is no starvation rule: episode
    length is capped by the registered `max_episode_steps`. Score: food eaten this episode.

    State, per copy i (cells are numbered row * width + col, L = height * width):
      body_cells (N, L) int32: ring buffer of the snake's cells; slot `head_slot[i]` holds the head and the
          `length[i] - 1` slots before it (cyclically) hold the body back to the tail.
      head, head_slot, length, heading, food: (N,) int64; food is -1 once the board is full.
      planes (N, 3, L) uint8: the observation (head, body, food planes), kept up to date by every move.
          The body plane doubles as the occupancy grid for O(1) collision checks (the head cannot be hit).
    """

    action_meanings = ("UP", "RIGHT", "DOWN", "LEFT")
    channel_names = ("head", "body", "food")
    channel_colors = ((120, 255, 120), (0, 150, 0), (230, 40, 40))
    render_fps = 8

    def __init__(self, num_envs: int = 1, height: int = 10, width: int = 10):
        if int(height) < MIN_SIDE or int(width) < MIN_SIDE:
            raise ValueError(f"Snake board must be at least {MIN_SIDE}x{MIN_SIDE}, got height={height}, "
                             f"width={width}")
        super().__init__(num_envs, height, width)
        n = self.num_envs
        self.num_cells = cells = self.height * self.width
        self.body_cells = np.zeros((n, cells), dtype=np.int32)
        self.planes = np.zeros((n, len(self.channel_names), cells), dtype=np.uint8)
        self.head = np.zeros(n, dtype=np.int64)
        self.head_slot = np.zeros(n, dtype=np.int64)
        self.length = np.zeros(n, dtype=np.int64)
        self.heading = np.zeros(n, dtype=np.int64)
        self.food = np.full(n, -1, dtype=np.int64)
        # Flat views plus per-copy offsets address (copy, cell) pairs with one 1-D fancy index. The views are
        # made per call, not stored: a stored view would turn into a detached copy on pickling or deepcopy.
        self._ring_base = np.arange(n, dtype=np.int64) * cells
        self._head_base = np.arange(n, dtype=np.int64) * (len(self.channel_names) * cells) + HEAD * cells
        self._body_base = self._head_base + (BODY - HEAD) * cells
        self._food_base = self._head_base + (FOOD - HEAD) * cells
        self._next_cell = self._neighbour_table()
        mid_row, head_col = self.height // 2, self.width // 2
        self._start_cells = mid_row * self.width + np.arange(head_col - START_LENGTH + 1, head_col + 1)
        # A valid state before the first reset keeps `step` total; food comes with `reset`.
        self._lay_start_snake(np.arange(n))

    def _neighbour_table(self) -> np.ndarray:
        """Cell reached from cell c by moving in direction d, at index 4 * c + d; -1 off the board."""
        rows, cols = np.divmod(np.arange(self.num_cells), self.width)
        next_rows, next_cols = rows[:, None] + _DELTA_ROW, cols[:, None] + _DELTA_COL
        on_board = (next_rows >= 0) & (next_rows < self.height) & (next_cols >= 0) & (next_cols < self.width)
        return np.where(on_board, next_rows * self.width + next_cols, -1).reshape(-1)

    @property
    def occupied(self) -> np.ndarray:
        """Cells covered by each snake: bool (N, L)."""
        return (self.planes[:, HEAD] | self.planes[:, BODY]).astype(bool)

    # ------------------------------------------------------------------ episode start
    def _lay_start_snake(self, copies: np.ndarray) -> None:
        """Put a length-3 snake heading right mid-board for `copies` (int (M,)); no food, no draws."""
        self.planes[copies] = 0
        self.planes[copies[:, None], BODY, self._start_cells[:-1]] = 1
        self.planes[copies, HEAD, self._start_cells[-1]] = 1
        self.body_cells[copies, :START_LENGTH] = self._start_cells
        self.head[copies] = self._start_cells[-1]
        self.head_slot[copies] = START_LENGTH - 1
        self.length[copies] = START_LENGTH
        self.heading[copies] = RIGHT
        self.food[copies] = -1
        self.score[copies] = 0

    def reset(self, mask: np.ndarray) -> None:
        copies = np.flatnonzero(mask)
        self._lay_start_snake(copies)
        self._place_food(copies)
        self.counters[copies] += np.uint64(1)

    def _place_food(self, copies: np.ndarray) -> None:
        """Put food on the k-th free cell (row-major), k uniform in [0, free count), for `copies` (int (M,)).

        Each listed copy must have a free cell. Draws with the copies' current counters.
        """
        if copies.size == 0:
            return
        free_count = self.num_cells - self.length[copies]
        k = rng.integers(self.keys[copies], self.counters[copies], free_count, stream=0)
        covered = self.planes[copies, HEAD] | self.planes[copies, BODY]
        free_seen = np.cumsum(covered == 0, axis=1)  # (M, L): free cells up to and including each cell
        food = np.argmax(free_seen > k[:, None], axis=1)
        self.food[copies] = food
        self.planes.reshape(-1)[self._food_base[copies] + food] = 1

    # ------------------------------------------------------------------ moves
    def tail_cells(self) -> np.ndarray:
        """Cell index of every snake's tail: int (N,)."""
        tail_slot = (self.head_slot - self.length + 1) % self.num_cells
        return self.body_cells.reshape(-1)[self._ring_base + tail_slot].astype(np.int64)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        actions = np.asarray(actions, dtype=np.int64)
        # Directions 0..3 go round the compass, so the reverse of d is d ^ 2.
        self.heading = heading = np.where(actions == (self.heading ^ 2), self.heading, actions)
        head, tail, planes = self.head, self.tail_cells(), self.planes.reshape(-1)
        target = self._next_cell[head * 4 + heading]
        wall = target < 0
        target = np.where(wall, head, target)  # keeps indices in range; the head's body bit is 0
        eats = target == self.food
        # The tail leaves its cell this step unless the snake grows, so entering it is safe.
        dead = wall | ((planes[self._body_base + target] != 0) & (target != tail))
        moves = ~dead
        new_head = np.where(moves, target, head)

        # Order matters: free the tail first, so a head that chases its tail ends up head, not body.
        planes[self._body_base + tail] = ~(moves & ~eats)
        planes[self._body_base + head] = moves
        planes[self._head_base + head] = 0
        planes[self._head_base + new_head] = 1
        planes[self._food_base + target] &= ~eats
        self.head_slot = np.where(moves, (self.head_slot + 1) % self.num_cells, self.head_slot)
        self.body_cells.reshape(-1)[self._ring_base + self.head_slot] = new_head
        self.head = new_head
        self.length += eats
        self.score += eats

        won = eats & (self.length == self.num_cells)
        self.food[won] = -1
        self._place_food(np.flatnonzero(eats & ~won))
        self.counters += np.uint64(1)
        reward = eats.astype(np.float32)
        reward -= dead
        return reward, dead | won

    def observe(self) -> np.ndarray:
        return self.planes.reshape(self.num_envs, len(self.channel_names), self.height, self.width).copy()

    def set_state(self, copy: int, body: Sequence[tuple[int, int]], heading: int,
                  food: tuple[int, int] | None) -> None:
        """Lay out copy `copy` by hand (for tests and teaching); counters and keys are unchanged.

        body: (row, col) cells from tail to head (at least 2), each next to the one before. heading: 0..3.
        food: (row, col) of a free cell, or None (only when the body fills the board).
        """
        if not 0 <= copy < self.num_envs:
            raise ValueError(f"copy {copy} out of range for {self.num_envs} copies")
        cells = [self._cell_index(r, c) for r, c in body]
        if not 2 <= len(cells) <= self.num_cells or len(set(cells)) != len(cells):
            raise ValueError(f"body must be 2..{self.num_cells} distinct cells, got {list(body)}")
        for (r0, c0), (r1, c1) in zip(body[:-1], body[1:]):
            if abs(r0 - r1) + abs(c0 - c1) != 1:
                raise ValueError(f"body cells ({r0}, {c0}) and ({r1}, {c1}) are not neighbours")
        if heading not in (UP, RIGHT, DOWN, LEFT):
            raise ValueError(f"heading must be 0..3, got {heading}")
        if food is None and len(cells) < self.num_cells:
            raise ValueError("food may be None only when the snake fills the board")
        food_cell = -1 if food is None else self._cell_index(*food)
        if food_cell in cells:
            raise ValueError(f"food {food} lies on the snake")
        self.body_cells[copy, : len(cells)] = cells
        self.head[copy] = cells[-1]
        self.head_slot[copy] = len(cells) - 1
        self.length[copy] = len(cells)
        self.heading[copy] = heading
        self.food[copy] = food_cell
        self.planes[copy] = 0
        self.planes[copy, BODY, cells[:-1]] = 1
        self.planes[copy, HEAD, cells[-1]] = 1
        if food_cell >= 0:
            self.planes[copy, FOOD, food_cell] = 1

    def _cell_index(self, row: int, col: int) -> int:
        if not (0 <= row < self.height and 0 <= col < self.width):
            raise ValueError(f"cell (row={row}, col={col}) is off the {self.height}x{self.width} board")
        return int(row) * self.width + int(col)
