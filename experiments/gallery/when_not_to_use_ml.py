"""When not to use ML: with FrozenLake's model known, value iteration is exact in ms; Q-learning takes 1-2x10^5 steps.

The notes: do not use ML "when all cases can be covered by a traditional program". Slippery FrozenLake 8x8
(`mdparcade/FrozenLake8x8-v0`) is such a case when its rules are known. `env.unwrapped.mdp` holds every
transition probability, and value iteration, a plain loop over that table, computes the optimal values V* and
an optimal policy exactly (to 1e-8) in a few milliseconds, with no data at all. A learner that only sees
episodes, tabular Q-learning (`agents.tabular.QLearning`, step size 0.1, epsilon falling linearly from 1 to
0.05 over 100k steps, gamma 0.99), has to discover the same thing by trial and error. Every 5,000 steps we
measure the exact value of its greedy policy with `agents.planning.policy_evaluation`. It takes about 10^5
steps (1-2 x 10^5 over three seeds) to get within 10% of V*(start). Even then its greedy policy keeps
wobbling around that level, because the Q-table is still noisy.
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the mdparcade/... ids)
from agents.planning import policy_evaluation, value_iteration
from agents.schedules import LinearDecay
from agents.tabular import QLearning
from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure

ENV_ID = "mdparcade/FrozenLake8x8-v0"
GAMMA = 0.99
SEEDS = (0, 1, 2)
BUDGET, CHECK_EVERY = 300_000, 5_000
TARGET = 0.9  # fraction of V*(start)


def learn_with_checkpoints(seed: int, mdp, v_star_start: float, start: int) -> dict:
    """Q-learning for BUDGET steps; after every CHECK_EVERY steps the exact value of its greedy policy."""
    env = gym.make(ENV_ID)
    agent = QLearning(env, learning_rate=0.1, epsilon=LinearDecay(1.0, 0.05, 100_000), gamma=GAMMA, seed=seed)
    steps, fractions, started = [], [], time.perf_counter()
    while agent.num_timesteps < BUDGET:
        agent.learn(CHECK_EVERY)
        steps.append(agent.num_timesteps)
        fractions.append(float(policy_evaluation(mdp, agent.greedy_policy(), GAMMA)[start] / v_star_start))
    seconds = time.perf_counter() - started
    env.close()
    reached = next((s for s, f in zip(steps, fractions, strict=True) if f >= TARGET), None)
    after = [f for s, f in zip(steps, fractions, strict=True) if reached is not None and s >= reached]
    return {"steps": steps, "fractions": fractions, "steps_to_target": reached, "seconds": seconds,
            "episodes": len(agent.episode_returns), "share_of_later_checks_at_target":
            float(np.mean(np.array(after) >= TARGET)) if after else 0.0,
            "final_policy": agent.greedy_policy().tolist()}


def main(plot_dir: str | None = None) -> dict:
    env = gym.make(ENV_ID)
    mdp = env.unwrapped.mdp
    env.close()
    start = int(np.argmax(mdp.start))
    plan = value_iteration(mdp, GAMMA)
    runs = {seed: learn_with_checkpoints(seed, mdp, float(plan.V[start]), start) for seed in SEEDS}
    print(f"{ENV_ID}: {mdp.num_states} states x {mdp.num_actions} actions, slippery, gamma {GAMMA}")
    print(f"  value iteration on the known model: {plan.iterations} sweeps, {plan.wall_time * 1e3:.1f} ms, "
          f"residual {plan.residual:.0e}; V*(start) = {plan.V[start]:.4f}")
    print(f"  Q-learning from episodes ({BUDGET:,} steps; greedy policy's exact value / V*(start) "
          f"every {CHECK_EVERY:,} steps):")
    for seed, run in runs.items():
        reached = (f"first >= {TARGET:.0%} at {run['steps_to_target']:,} steps" if run["steps_to_target"]
                   else f"never >= {TARGET:.0%} within {BUDGET:,} steps")
        print(f"    seed {seed}: {reached}; at or above it in {run['share_of_later_checks_at_target']:.0%} of the "
              f"later checks; final {run['fractions'][-1]:.0%}; {run['episodes']:,} episodes, {run['seconds']:.1f} s")
    if plot_dir is not None:
        fig, ax = new_figure(panel_size=(6.0, 3.6))
        for seed, run in runs.items():
            ax.plot(run["steps"], run["fractions"], label=f"Q-learning, seed {seed}")
        ax.axhline(1.0, color="black", lw=1.0, label=f"value iteration ({plan.wall_time * 1e3:.0f} ms, exact)")
        ax.axhline(TARGET, color="gray", ls=":", lw=0.8)
        ax.set(xlabel="env steps", ylabel="V_greedy(start) / V*(start)", ylim=(0, 1.05),
               title="FrozenLake 8x8: plan with the model, or learn from episodes")
        ax.legend(fontsize=8)
        save_figure(fig, plot_dir, "when_not_to_use_ml")
    return {
        "gamma": GAMMA,
        "value_iteration": {"V_start": float(plan.V[start]), "sweeps": int(plan.iterations),
                            "milliseconds": plan.wall_time * 1e3, "residual": float(plan.residual),
                            "policy": plan.policy.tolist()},
        "q_learning": {str(seed): run for seed, run in runs.items()},
        "budget": BUDGET,
        "target": TARGET,
    }


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
