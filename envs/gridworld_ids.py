"""The registered gridworld ids: `mdparcade/<Name>-v0`, each with a single and a vector entry point.

envs/registration.py passes every dict in REGISTRY to `gymnasium.register`.
"""

from __future__ import annotations

_SINGLE = "envs.gridworld:GridWorldEnv"
_VECTOR = "envs.gridworld_vector:GridWorldVectorEnv"


def _gridworld(name: str, max_episode_steps: int, **kwargs) -> dict:
    return dict(
        id=f"mdparcade/{name}-v0",
        entry_point=_SINGLE,
        vector_entry_point=_VECTOR,
        max_episode_steps=max_episode_steps,
        kwargs=kwargs,
    )


REGISTRY = [
    # Same layout, dynamics and rewards as Gymnasium's FrozenLake8x8-v1 (is_slippery=True).
    _gridworld("FrozenLake8x8", 200, map="FrozenLake8x8", slip=1.0 / 3.0),
    # Sutton & Barto Example 6.6: -1 per move (the goal included), -100 and back to start for the cliff.
    _gridworld("CliffWalking", 500, map="CliffWalking", step_reward=-1.0, goal_reward=-1.0),
    # Russell & Norvig Figure 17.1: -0.04 per move, 0.8 intended move, +1 and -1 terminal cells.
    _gridworld("RussellNorvig4x3", 100, map="RussellNorvig4x3", slip=0.8, step_reward=-0.04, hole_reward=-1.0),
    # Sutton, Precup & Singh (1999) four rooms, deterministic moves, +1 at the goal.
    _gridworld("FourRooms", 500, map="FourRooms"),
    # A fixed 15x15 maze from envs.gridworld_maps.generate_maze(15, 15, seed=0).
    _gridworld("Maze", 500, map="Maze15x15"),
    # Any map: gym.make("mdparcade/GridWorld-v0", map=[...rows...] or "path/to/map.txt").
    _gridworld("GridWorld", 500),
    # 1 x 10 corridor S........G, deterministic: +1 only at the far end (credit assignment).
    _gridworld("Corridor", 200, map="Corridor"),
]
