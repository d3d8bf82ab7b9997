"""Agent-environment loop: observe, act, get a reward, repeat; PPO on Catch lifts the return from -0.6 to >= 0.9.

The notes describe reinforcement learning like this: the agent takes a step, looks at the environment, acts on
what it sees, and repeats, aiming for the greatest expected long-term reward. This script writes that loop
out by hand (`obs = env.reset(); action = choose(obs); obs, reward, ... = env.step(action)`) on Catch
(`mdparcade/Catch-v0`). A ball falls down a 10 x 5 board for 9 steps, and the paddle (LEFT, STAY, RIGHT) gets +1
if it is under the ball when it lands, else -1. A random agent catches a ball that starts in a uniformly random
column 1 time in 5, so its expected return is 0.2 - 0.8 = -0.6. PPO
(`PPO("mdparcade/Catch-v0", seed=0, **PPO_CATCH)`, a conv net over the board) runs the same loop in 16 copies at
once. A callback records its return over training, and the greedy policy is scored after every rollout. The
trained agent is then put back into the hand-written loop. On the same episode seeds it scores exactly what
`agents.evaluation.evaluate` scores.
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401  (registers the mdparcade/... ids)
from agents.evaluation import EVAL_SEED, evaluate
from agents.ppo import PPO
from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure

ENV_ID = "mdparcade/Catch-v0"
#: PPO's settings here (the arcade boards' values: 16 copies x 64 steps, a conv trunk, an entropy bonus).
PPO_CATCH = dict(num_envs=16, num_steps=64, batch_size=256, n_epochs=4, gamma=0.99, gae_lambda=0.95, ent_coef=0.01,
                 hidden_sizes=(128,), activation="relu", anneal_clip_range=False)
ACTIONS = ("LEFT", "STAY", "RIGHT")
TRAIN_STEPS = 40_000
EPISODES = 200  # greedy scoring and the trained agent's loop
RANDOM_EPISODES = 1000
TARGET = 0.9


def positions(obs: np.ndarray) -> tuple[int, int, int]:
    """(ball row, ball column, paddle column) from a Catch observation (2, 10, 5): channels paddle, ball."""
    (_, paddle_col), = np.argwhere(obs[0])
    (ball_row, ball_col), = np.argwhere(obs[1])
    return int(ball_row), int(ball_col), int(paddle_col)


def agent_env_loop(choose, episodes: int, seed: int, trace: bool = False) -> tuple[np.ndarray, list[dict]]:
    """The loop itself: episode i starts from `env.reset(seed=seed + i)`. `choose(obs) -> action`.
    Returns the episode returns (episodes,) and, with `trace`, every step of the first episode."""
    env = gym.make(ENV_ID)
    returns, steps = np.zeros(episodes), []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)  # observe
        done = False
        while not done:
            action = int(choose(obs))  # act on what was seen
            before = positions(obs)
            obs, reward, terminated, truncated, _ = env.step(action)  # the environment answers
            returns[i] += reward
            done = terminated or truncated
            if trace and i == 0:
                steps.append({"ball": list(before[:2]), "paddle": before[2], "action": ACTIONS[action],
                              "reward": float(reward)})
    env.close()
    return returns, steps


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    random_returns, random_trace = agent_env_loop(lambda obs: rng.integers(len(ACTIONS)), RANDOM_EPISODES,
                                                  EVAL_SEED,
                                                  trace=True)
    agent = PPO(ENV_ID, seed=0, device="cpu", **PPO_CATCH)
    curve = []

    def record(agent, info) -> None:
        greedy = evaluate(lambda obs: agent.predict(obs, deterministic=True)[0], ENV_ID, EPISODES).mean
        curve.append({"steps": info["num_timesteps"], "training_return": info["recent_return"],
                      "greedy_return": greedy, "seconds": info["seconds"]})

    started = time.perf_counter()
    agent.learn(TRAIN_STEPS, callback=record)
    seconds = time.perf_counter() - started
    reached = next((row["steps"] for row in curve if row["greedy_return"] >= TARGET), None)
    trained_returns, trained_trace = agent_env_loop(lambda obs: agent.predict(obs, deterministic=True)[0],
                                                    EPISODES, EVAL_SEED, trace=True)
    evaluated = evaluate(lambda obs: agent.predict(obs, deterministic=True)[0], ENV_ID, EPISODES)

    print(f"{ENV_ID}, the hand-written loop:")
    print(f"  random agent, {RANDOM_EPISODES} episodes: mean return {random_returns.mean():+.3f} +- "
          f"{random_returns.std() / np.sqrt(RANDOM_EPISODES):.3f} (expected -0.6: it catches 1 ball in 5)")
    print("  one episode of the trained agent (ball row, col; paddle col -> action, reward):")
    print("    " + "  ".join(f"{s['ball'][0]},{s['ball'][1]};{s['paddle']}->{s['action'][0]}"
                             + (f" {s['reward']:+.0f}" if s["reward"] else "") for s in trained_trace))
    print(f"PPO, {len(curve)} rollouts of {curve[0]['steps']} steps; greedy return over {EPISODES} episodes:")
    shown = [curve[i] for i in sorted(set(np.linspace(0, len(curve) - 1, 9).astype(int)))]
    print("  " + ", ".join(f"{row['steps'] // 1000}k: {row['greedy_return']:+.2f}" for row in shown))
    print(f"  greedy return >= {TARGET} first at {reached:,} steps; trained {agent.num_timesteps:,} steps in "
          f"{seconds:.1f} s (scoring included)")
    same = bool(np.array_equal(trained_returns, evaluated.returns))
    print(f"  trained agent in the hand loop, {EPISODES} episodes: mean return {trained_returns.mean():+.3f}; "
          f"evaluate() on the same seeds: {evaluated.mean:+.3f} (same episodes: {same})")
    if plot_dir is not None:
        fig, ax = new_figure(panel_size=(6.0, 3.6))
        steps = [row["steps"] for row in curve]
        ax.plot(steps, [row["training_return"] for row in curve], label="training episodes (sampled actions)")
        ax.plot(steps, [row["greedy_return"] for row in curve], label=f"greedy policy, {EPISODES} episodes")
        ax.axhline(-0.6, color="gray", ls="--", lw=0.8, label="random agent (-0.6)")
        ax.axhline(TARGET, color="gray", ls=":", lw=0.8)
        ax.set(xlabel="env steps", ylabel="return per episode", title="PPO on Catch: the loop, repeated",
               ylim=(-1.05, 1.05))
        ax.legend(fontsize=8)
        save_figure(fig, plot_dir, "agent_env_loop")
    return {
        "random_returns": random_returns.tolist(),
        "random_trace": random_trace,
        "curve": curve,
        "steps_to_target": reached,
        "target": TARGET,
        "train_steps": int(agent.num_timesteps),
        "train_seconds": seconds,
        "trained_trace": trained_trace,
        "trained_returns": trained_returns.tolist(),
        "evaluate_returns": evaluated.returns.tolist(),
    }


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
