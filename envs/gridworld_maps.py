"""Text maps for gridworlds: the built-in layouts, loading and checking a map, and a seeded maze generator.

A map is a list of equal-length strings over the characters in `CELL_CHARS` (see `envs/gridworld.py`).
"""

from __future__ import annotations

import os
from collections import deque

import numpy as np

START, FLOOR, WALL, GOAL, HOLE, CLIFF = "S", ".", "#", "G", "H", "C"
CELL_CHARS = (START, FLOOR, WALL, GOAL, HOLE, CLIFF)

# Gymnasium's FrozenLake8x8 with its F (frozen) cells written as floor.
FROZEN_LAKE_8X8 = (
    "S.......",
    "........",
    "...H....",
    ".....H..",
    "...H....",
    ".HH...H.",
    ".H..H.H.",
    "...H...G",
)

# Sutton & Barto Example 6.6: start bottom left, goal bottom right, the cliff between them.
CLIFF_WALKING = (
    "............",
    "............",
    "............",
    "SCCCCCCCCCCG",
)

# Russell & Norvig's 4x3 world (Figure 17.1): one obstacle, +1 goal top right, -1 exit below it.
RUSSELL_NORVIG_4X3 = (
    "...G",
    ".#.H",
    "S...",
)

# Sutton, Precup & Singh (1999) four rooms, the 11x11 interior (the outer wall is the map edge).
FOUR_ROOMS = (
    "S....#.....",
    ".....#.....",
    "...........",
    ".....#.....",
    ".....#.....",
    "#.####.....",
    ".....###.##",
    ".....#.....",
    ".....#.....",
    "...........",
    ".....#....G",
)

CORRIDOR = ("S........G",)

FROZEN_LAKE_4X4 = (
    "S...",
    ".H.H",
    "...H",
    "H..G",
)


def generate_maze(height: int, width: int, seed: int = 0) -> list[str]:
    """A random perfect maze (one path between any two open cells), start top left, goal bottom right.

    Randomized depth-first search over the cells at even (row, col); the cells between two of them are the
    passages it opens. With an even height or width the last row or column stays wall.
    """
    if height < 1 or width < 1 or max(height, width) < 3:
        raise ValueError(f"a maze needs height, width >= 1 and one of them >= 3, got {height} x {width}")
    rng = np.random.default_rng(seed)
    grid = np.full((height, width), WALL, dtype="<U1")
    grid[0, 0] = FLOOR
    stack = [(0, 0)]
    steps = ((0, 2), (2, 0), (0, -2), (-2, 0))
    while stack:
        row, col = stack[-1]
        fresh = [
            (row + dr, col + dc)
            for dr, dc in steps
            if 0 <= row + dr < height and 0 <= col + dc < width and grid[row + dr, col + dc] == WALL
        ]
        if not fresh:
            stack.pop()
            continue
        next_row, next_col = fresh[rng.integers(len(fresh))]
        grid[(row + next_row) // 2, (col + next_col) // 2] = FLOOR
        grid[next_row, next_col] = FLOOR
        stack.append((next_row, next_col))
    if height == 1 or width == 1:  # a one-cell-thick maze is a corridor: open the gaps too
        grid[:, :] = FLOOR
    grid[0, 0] = START
    grid[(height - 1) // 2 * 2, (width - 1) // 2 * 2] = GOAL
    return ["".join(row) for row in grid]


BUILTIN_MAPS = {
    "FrozenLake8x8": FROZEN_LAKE_8X8,
    "FrozenLake4x4": FROZEN_LAKE_4X4,
    "CliffWalking": CLIFF_WALKING,
    "RussellNorvig4x3": RUSSELL_NORVIG_4X3,
    "FourRooms": FOUR_ROOMS,
    "Corridor": CORRIDOR,
    "Maze15x15": tuple(generate_maze(15, 15, seed=0)),
}


def load_map(map_spec) -> tuple[str, ...]:
    """Rows of a checked map from a built-in name, a path to a .txt file, a multi-line string or a list of rows.

    Raises ValueError naming the row and column of a bad character or ragged row, or the problem (empty map,
    no start, no goal, a goal unreachable from a start).
    """
    if isinstance(map_spec, str | os.PathLike):
        text = str(map_spec)
        if text in BUILTIN_MAPS:
            rows = list(BUILTIN_MAPS[text])
        elif "\n" in text:
            rows = text.strip("\n").split("\n")
        elif os.path.isfile(text):
            try:
                with open(text, encoding="utf-8") as file:
                    rows = file.read().strip("\n").split("\n")
            except UnicodeDecodeError as err:
                raise ValueError(f"map file {text} is not a UTF-8 text map (byte {err.start} cannot be read); "
                                 "write it as rows of map characters") from None
        else:
            raise ValueError(
                f"map {text!r} is neither a built-in map ({', '.join(BUILTIN_MAPS)}) nor an existing file"
            )
    else:
        rows = list(map_spec)
    rows = [row.rstrip("\r") if isinstance(row, str) else row for row in rows]
    check_map(rows)
    return tuple(rows)


def check_map(rows: list[str]) -> None:
    """Raise ValueError if `rows` is not a valid map (see `load_map`)."""
    if len(rows) == 0 or all(len(row) == 0 for row in rows):
        raise ValueError("the map is empty")
    for r, row in enumerate(rows):
        if not isinstance(row, str):
            raise ValueError(f"row {r} of the map is not a string: {row!r}")
        if len(row) != len(rows[0]):
            column = min(len(row), len(rows[0]))
            raise ValueError(
                f"ragged map: row {r} has {len(row)} columns but row 0 has {len(rows[0])} "
                f"(first difference at row {r}, column {column})"
            )
        for c, char in enumerate(row):
            if char not in CELL_CHARS:
                raise ValueError(
                    f"unknown character {char!r} at row {r}, column {c} (allowed: {' '.join(CELL_CHARS)})"
                )
    starts = [(r, c) for r, row in enumerate(rows) for c, char in enumerate(row) if char == START]
    if not starts:
        raise ValueError(f"the map has no start cell {START!r}")
    if not any(GOAL in row for row in rows):
        raise ValueError(f"the map has no goal cell {GOAL!r}")
    # Floor and start cells connect symmetrically, so starts inside an already checked region are fine.
    checked: set[tuple[int, int]] = set()
    for r, c in starts:
        if (r, c) in checked:
            continue
        region = _reachable_cells(rows, (r, c))
        if not any(rows[gr][gc] == GOAL for gr, gc in region):
            raise ValueError(f"no goal is reachable from the start at row {r}, column {c}")
        checked |= region


def _reachable_cells(rows: list[str], origin: tuple[int, int]) -> set[tuple[int, int]]:
    """Cells a walk from `origin` can enter; it passes only through start and floor cells (BFS)."""
    height, width = len(rows), len(rows[0])
    seen = {origin}
    queue = deque([origin])
    while queue:
        r, c = queue.popleft()
        if rows[r][c] not in (START, FLOOR):
            continue  # goals and holes end the episode, the cliff sends back to a start, walls stop the walk
        for nr, nc in ((r, c - 1), (r + 1, c), (r, c + 1), (r - 1, c)):
            if 0 <= nr < height and 0 <= nc < width and (nr, nc) not in seen and rows[nr][nc] != WALL:
                seen.add((nr, nc))
                queue.append((nr, nc))
    return seen
