"""Map loading and checking, bad-map errors, and the seeded maze generator."""

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from envs.gridworld import GridWorldEnv
from envs.gridworld_maps import BUILTIN_MAPS, generate_maze, load_map


@pytest.mark.parametrize(
    "rows,message",
    [
        (["S.x", "..G"], r"unknown character 'x' at row 0, column 2"),
        (["S..", ".G", "..."], r"row 1 has 2 columns but row 0 has 3"),
        (["S..", "...G"], r"row 1 has 4 columns .*row 1, column 3"),
        ([], "empty"),
        (["", ""], "empty"),
        (["...", "..G"], "no start"),
        (["S..", "..."], "no goal"),
        (["S#G"], r"no goal is reachable from the start at row 0, column 0"),
        (["SHG"], r"no goal is reachable from the start at row 0, column 0"),
        (["S.#S", "G.#."], r"no goal is reachable from the start at row 0, column 3"),
    ],
)
def test_bad_maps_name_the_problem(rows, message):
    with pytest.raises(ValueError, match=message):
        load_map(rows)
    with pytest.raises(ValueError, match=message):
        GridWorldEnv(rows)


def test_bad_options_raise_value_errors():
    with pytest.raises(ValueError, match="obs_mode"):
        GridWorldEnv("Corridor", obs_mode="pixels")
    with pytest.raises(ValueError, match="slip"):
        GridWorldEnv("Corridor", slip=1.5)
    with pytest.raises(ValueError, match="neither a built-in map"):
        GridWorldEnv("no/such/map.txt")


def test_map_from_a_text_file_and_a_multiline_string(tmp_path):
    path = tmp_path / "room.txt"
    path.write_text("S..\n.#.\n..G\n")
    assert load_map(str(path)) == ("S..", ".#.", "..G")
    assert load_map(path) == ("S..", ".#.", "..G")
    assert load_map("S..\n.#.\n..G") == ("S..", ".#.", "..G")
    assert GridWorldEnv(str(path)).mdp.num_states == 9


def test_builtin_maps_have_the_published_sizes():
    sizes = {name: (len(rows), len(rows[0])) for name, rows in BUILTIN_MAPS.items()}
    assert sizes["FrozenLake8x8"] == (8, 8)
    assert sizes["CliffWalking"] == (4, 12)
    assert sizes["RussellNorvig4x3"] == (3, 4)
    assert sizes["FourRooms"] == (11, 11)
    assert sizes["Corridor"] == (1, 10)
    four_rooms = "".join(BUILTIN_MAPS["FourRooms"])
    assert four_rooms.count(".") + four_rooms.count("S") + four_rooms.count("G") == 104  # 104 cells in SPS 1999


def open_cell_components(rows) -> tuple[int, int, int]:
    """(components, cells, edges) of the non-wall cells by scipy, independent of the map checker BFS."""
    grid = np.array([list(row) for row in rows]) != "#"
    index = -np.ones(grid.shape, dtype=int)
    index[grid] = np.arange(grid.sum())
    edges = []
    for a, b in ((index[:, :-1], index[:, 1:]), (index[:-1, :], index[1:, :])):
        both = (a >= 0) & (b >= 0)
        edges += list(zip(a[both], b[both], strict=True))
    src, dst = np.array(edges).T if edges else (np.zeros(0, int), np.zeros(0, int))
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(grid.sum(), grid.sum()))
    return connected_components(graph, directed=False)[0], grid.sum(), len(src)


@pytest.mark.parametrize("height,width", [(15, 15), (9, 20), (100, 100), (1, 7), (2, 5)])
def test_generated_mazes_are_seeded_solvable_perfect_mazes(height, width):
    maze = generate_maze(height, width, seed=3)
    assert maze == generate_maze(height, width, seed=3)
    assert len(maze) == height and all(len(row) == width for row in maze)
    assert load_map(maze) == tuple(maze)  # passes the checker: the goal is reachable
    components, cells, edges = open_cell_components(maze)
    assert components == 1
    if height > 1 and width > 1:
        assert edges == cells - 1  # a tree: exactly one path between any two cells
    if height * width > 20:
        assert maze != generate_maze(height, width, seed=4)


def test_maze_generator_rejects_tiny_sizes():
    with pytest.raises(ValueError, match="2 x 2"):
        generate_maze(2, 2)


def test_maze_env_of_100x100_steps():
    env = GridWorldEnv(generate_maze(100, 100, seed=0), slip=0.9)
    obs, _ = env.reset(seed=0)
    assert obs == 0 and env.observation_space.n == 10_000
    for action in (1, 2, 3, 0):
        env.step(action)
    with pytest.raises(ValueError, match="GB"):  # a dense P would be 10,000 x 4 x 10,000 floats
        _ = env.mdp
    assert env.transitions.next.shape == (40_000, 3)  # the sparse model is there
