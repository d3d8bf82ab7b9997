"""Markov decision process: the 4x3 world is a state machine with 0.8/0.1/0.1 arrows; planning gives R&N's utilities.

The notes call a Markov decision process "sorta like a state machine". Russell & Norvig's 4x3 world
(`mdparcade/RussellNorvig4x3-v0`, Figure 17.1) is small enough to draw whole. It has 11 cells (one is a wall),
two of them terminal (+1 and -1), and 4 actions. An action moves the intended way with probability 0.8 and at
right angles with 0.1 each; bumping into the wall or the edge means staying put. Every move costs 0.04. The
model is the table `env.unwrapped.mdp.P[s, a, s']` (rows sum to 1) with rewards `R[s, a]`. The picture
draws it as a state machine: every action's arrows out of one cell, and the chain that the optimal policy
leaves. Value iteration on that table (gamma 1) gives Russell & Norvig's utilities of Figure 17.3 (0.812,
0.868, 0.918 along the top row). Their U(s) also counts the -0.04 of the cell itself, so it is V*(s) - 0.04.
It also gives their policy of Figure 17.2, which takes the long way round the -1 cell.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the mdparcade/... ids)
from agents.planning import reach_probabilities, value_iteration
from envs.gridworld_model import ACTION_NAMES
from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure

ENV_ID = "mdparcade/RussellNorvig4x3-v0"
GAMMA = 1.0
ARROWS = {"left": "<", "down": "v", "right": ">", "up": "^"}
SHOWN_STATE = (1, 2)  # the cell beside the -1 exit: its four actions fan out differently


def world():
    """(TabularMDP, map rows, cell (row, col) of each state index)."""
    env = gym.make(ENV_ID)
    mdp, rows = env.unwrapped.mdp, env.unwrapped.rows
    env.close()
    width = len(rows[0])
    return mdp, rows, [divmod(s, width) for s in range(mdp.num_states)]


def edges(mdp, cells, walls: set) -> list[dict]:
    """Every arrow of the state machine: (from, action, to, probability, expected reward of the action) for
    non-terminal, non-wall states and P > 0."""
    arrows = []
    for s, cell in enumerate(cells):
        if mdp.terminal[s] or cell in walls:
            continue
        for a, name in enumerate(ACTION_NAMES):
            for s_next in np.flatnonzero(mdp.P[s, a] > 0):
                arrows.append({"from": cell, "action": name, "to": cells[s_next],
                               "p": float(mdp.P[s, a, s_next]), "reward": float(mdp.R[s, a])})
    return arrows


def main(plot_dir: str | None = None) -> dict:
    mdp, rows, cells = world()
    walls = {cell for cell in cells if rows[cell[0]][cell[1]] == "#"}
    goal = np.array([rows[r][c] == "G" for r, c in cells])
    arrows = edges(mdp, cells, walls)
    live = [s for s, cell in enumerate(cells) if cell not in walls and not mdp.terminal[s]]
    plan = value_iteration(mdp, GAMMA)
    step_reward = float(mdp.R[cells.index((2, 0))].min())  # -0.04: every move from a cell far from the exits
    utilities = {str(cells[s]): float(plan.V[s] + step_reward) for s in live}
    policy = {str(cells[s]): ACTION_NAMES[plan.policy[s]] for s in live}
    reach_goal = reach_probabilities(mdp, plan.policy, goal)
    start = int(np.argmax(mdp.start))
    successors = {(e["from"], e["action"]) for e in arrows}
    per_pair = [sum(1 for e in arrows if (e["from"], e["action"]) == key) for key in sorted(successors)]
    print(f"{ENV_ID}: {mdp.num_states} table states ({len(walls)} wall, {int(mdp.terminal.sum())} terminal, "
          f"{len(live)} where the agent acts), {mdp.num_actions} actions, {len(arrows)} arrows with P > 0")
    print(f"state machine rows out of {SHOWN_STATE}: (action: next cell with probability)")
    for name in ACTION_NAMES:
        outs = [f"{e['to']} {e['p']:.1f}" for e in arrows if e["from"] == SHOWN_STATE and e["action"] == name]
        reward = next(e["reward"] for e in arrows if e["from"] == SHOWN_STATE and e["action"] == name)
        print(f"  {name:>5}: {', '.join(outs):38} expected reward {reward:+.3f}")
    print("value iteration (gamma 1), utilities U = V* - 0.04 as in R&N Fig. 17.3, and the greedy policy:")
    for r, row in enumerate(rows):
        line = []
        for c, char in enumerate(row):
            key = str((r, c))
            line.append("  wall  " if char == "#" else f"  {'+1' if char == 'G' else '-1'}    " if key not in
                        utilities else f"{utilities[key]:.3f} {ARROWS[policy[key]]}")
        print("  " + " ".join(line))
    print(f"following that policy from the start {cells[start]}: P(reach +1) = {reach_goal[start]:.4f}")
    if plot_dir is not None:
        _plot(plot_dir, mdp, rows, cells, walls, arrows, plan.policy)
    return {
        "num_states": int(mdp.num_states), "num_actions": int(mdp.num_actions), "walls": [list(w) for w in walls],
        "terminal": [list(cells[s]) for s in np.flatnonzero(mdp.terminal)], "acting_states": len(live),
        "arrows": [{**e, "from": list(e["from"]), "to": list(e["to"])} for e in arrows],
        "successors_per_action": {"min": min(per_pair), "max": max(per_pair)},
        "row_sums_max_error": float(np.abs(mdp.P.sum(axis=2) - 1).max()),
        "utilities": utilities, "policy": policy, "V_start": float(plan.V[start]),
        "reach_goal_from_start": float(reach_goal[start]),
    }


def _xy(cell) -> tuple[float, float]:
    return float(cell[1]), -float(cell[0])


def _draw_cells(ax, rows, title: str) -> None:
    from matplotlib.patches import Rectangle

    for r, row in enumerate(rows):
        for c, char in enumerate(row):
            color = {"#": "dimgray", "G": "palegreen", "H": "salmon"}.get(char, "whitesmoke")
            ax.add_patch(Rectangle((c - 0.45, -r - 0.45), 0.9, 0.9, facecolor=color, edgecolor="gray"))
            label = {"#": "wall", "G": "+1", "H": "-1", "S": "start"}.get(char, "")
            ax.text(c, -r + 0.3, f"({r},{c}) {label}", ha="center", fontsize=7)
    ax.set(xlim=(-0.6, len(rows[0]) - 0.4), ylim=(-len(rows) + 0.4, 0.6), aspect="equal", title=title)
    ax.axis("off")


def _arrow(ax, start, end, p: float, color: str, rad: float) -> None:
    (x0, y0), (x1, y1) = _xy(start), _xy(end)
    if start == end:
        ax.text(x0, y0 - 0.28, f"stay {p:.1f}", ha="center", fontsize=7, color=color)
        return
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=dict(
        arrowstyle="-|>", color=color, lw=0.5 + 2.5 * p, shrinkA=12, shrinkB=12, connectionstyle=f"arc3,rad={rad}"))
    ax.text((x0 + x1) / 2 + rad * (y1 - y0) * 0.6, (y0 + y1) / 2 - rad * (x1 - x0) * 0.6, f"{p:.1f}",
            fontsize=7, color=color, ha="center", va="center", bbox=dict(fc="white", ec="none", pad=0.5))


def _draw_fan(ax, arrows) -> None:
    """One state's rows of the machine as a tree: state -> its 4 actions -> their successors, labelled with P."""
    ax.set(xlim=(-0.3, 11.3), ylim=(-0.5, 2.6), title=f"the machine's rows for state {SHOWN_STATE}")
    ax.axis("off")
    node = dict(ha="center", va="center", fontsize=7, bbox=dict(boxstyle="circle", fc="whitesmoke", ec="gray"))
    ax.text(5.5, 2.2, str(SHOWN_STATE), **node)
    for a, name in enumerate(ACTION_NAMES):
        outs = [e for e in arrows if e["from"] == SHOWN_STATE and e["action"] == name]
        x_action = 1.0 + 3.0 * a
        ax.annotate("", xy=(x_action, 1.25), xytext=(5.5, 2.05), arrowprops=dict(arrowstyle="-", color="gray"))
        ax.plot(x_action, 1.2, "ko", ms=5)
        ax.text(x_action + 0.15, 1.35, f"{name}\nR {outs[0]['reward']:+.3f}", fontsize=7, va="bottom")
        for k, e in enumerate(outs):
            x_leaf = x_action + 0.9 * (k - (len(outs) - 1) / 2)
            ax.annotate("", xy=(x_leaf, 0.15), xytext=(x_action, 1.15), arrowprops=dict(
                arrowstyle="-|>", color="tab:red" if e["p"] > 0.5 else "gray", lw=0.5 + 2 * e["p"]))
            ax.text((x_leaf + x_action) / 2, 0.65, f"{e['p']:.1f}", fontsize=7, ha="center",
                    bbox=dict(fc="white", ec="none", pad=0.3))
            ax.text(x_leaf, 0.0, f"{e['to'][0]},{e['to'][1]}", **{**node, "fontsize": 6})


def _plot(plot_dir, mdp, rows, cells, walls, arrows, policy) -> None:
    fig, (ax_fan, ax_chain) = new_figure(ncols=2, panel_size=(5.2, 4.0))
    _draw_fan(ax_fan, arrows)
    _draw_cells(ax_chain, rows, "the chain under the optimal policy")
    for s, cell in enumerate(cells):
        if mdp.terminal[s] or cell in walls:
            continue
        name = ACTION_NAMES[policy[s]]
        for e in arrows:
            if e["from"] == cell and e["action"] == name:
                _arrow(ax_chain, cell, e["to"], e["p"], "tab:red" if e["p"] > 0.5 else "tab:gray", 0.15)
    save_figure(fig, plot_dir, "mdp_state_machine")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
