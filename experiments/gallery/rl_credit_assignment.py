"""Credit assignment: with reward only at the corridor's end, value iteration moves credit back one state per sweep.

Reinforcement learning as an MDP, a state machine with actions, transition probabilities and rewards. In a
1 x 10 corridor the only reward (+1) comes on entering the last cell, so which early move deserves credit is
not visible from the immediate reward: the delayed-feedback (credit assignment) problem. Each value-iteration
sweep V <- max_a (R + gamma P V) carries the reward's news one state further back; after sweep k exactly the
k states nearest the goal know about it, and after 9 sweeps V(s) = gamma^(distance - 1) everywhere.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the mdparcade/... ids)
from agents.planning import value_iteration
from envs.tabular_mdp import TabularMDP
from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure

LENGTH, GAMMA = 10, 0.9
LEFT, RIGHT = 0, 1


def corridor(length: int = LENGTH) -> TabularMDP:
    """States 0..length-1 left to right, actions LEFT/RIGHT (deterministic, bumping the end wall stays put);
    +1 for entering the last state, which is terminal. P: (S, 2, S), R: (S, 2)."""
    P = np.zeros((length, 2, length))
    R = np.zeros((length, 2))
    for s in range(length):
        for action, step in ((LEFT, -1), (RIGHT, 1)):
            nxt = min(max(s + step, 0), length - 1)
            P[s, action, nxt] = 1.0
            R[s, action] = 1.0 if nxt == length - 1 and s != length - 1 else 0.0
    terminal = np.arange(length) == length - 1
    return TabularMDP(P, R, terminal, np.eye(length)[0])


def value_iteration_sweeps(mdp: TabularMDP, gamma: float, sweeps: int) -> np.ndarray:
    """V after each synchronous sweep V <- max_a (R + gamma P V), terminal V = 0. Returns (sweeps + 1, S)."""
    V = np.zeros(mdp.num_states)
    history = [V]
    for _ in range(sweeps):
        V = np.where(mdp.terminal, 0.0, (mdp.R + gamma * mdp.P @ V).max(axis=1))
        history.append(V)
    return np.array(history)


def main(plot_dir: str | None = None) -> dict:
    mdp = corridor()
    history = value_iteration_sweeps(mdp, GAMMA, sweeps=LENGTH)
    distance = LENGTH - 1 - np.arange(LENGTH)  # moves to the goal
    closed_form = np.where(mdp.terminal, 0.0, GAMMA ** (distance - 1.0))
    # The same corridor as a registered gridworld (4 actions, up/down bump the walls), solved by agents.planning.
    gridworld = gym.make("mdparcade/Corridor-v0").unwrapped.mdp
    planner_V = value_iteration(gridworld, GAMMA).V
    print(f"1 x {LENGTH} corridor, +1 for entering the right end, gamma {GAMMA}; V after each sweep:")
    for k, V in enumerate(history):
        print(f"  sweep {k:2d}: " + " ".join(f"{v:5.3f}" for v in V))
    informed = [int((V > 0).sum()) for V in history]
    print(f"states with V > 0 after each sweep: {informed}")
    print(f"final V vs gamma^(distance-1): {np.abs(history[-1] - closed_form).max():.1e}; vs agents.planning on "
          f"mdparcade/Corridor-v0: {np.abs(history[-1] - planner_V).max():.1e}")
    if plot_dir is not None:
        fig, ax = new_figure(panel_size=(6.0, 3.5))
        image = ax.imshow(history, cmap="viridis", aspect="auto")
        ax.set(xlabel="state (goal at the right)", ylabel="sweep", title="V per sweep: credit flows back")
        fig.colorbar(image, ax=ax)
        save_figure(fig, plot_dir, "rl_credit_assignment")
    return {
        "values_per_sweep": history.tolist(),
        "informed_states_per_sweep": informed,
        "informed_are_nearest_goal": all(set(np.nonzero(V > 0)[0]) == set(range(LENGTH - 1 - n, LENGTH - 1))
                                         for n, V in zip(informed, history, strict=True)),
        "max_abs_diff_closed_form": float(np.abs(history[-1] - closed_form).max()),
        "max_abs_diff_planner": float(np.abs(history[-1] - planner_V).max()),
        "last_sweep_change": float(np.abs(history[-1] - history[-2]).max()),
    }


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
