"""The gridworld family's settings against stable-baselines3's defaults, on maps this project does not ship.

A map of one's own (`mdparcade/GridWorld-v0 --env-kwargs map=...`) has no entry of its own in the settings table;
it takes the gridworld family's (experiments/learners/sb3_presets.py). The family's entry stays only where,
over 10 seeds, it does at least as well as what SB3 would use for that env: its defaults (one env copy, a 64-64
net), since rl-zoo has no entry for it. Both columns are our agents (one implementation, two settings), each
trained as one population of 10 seeds for 60k steps; a seed's score is the exact value of its greedy policy at
the start state over the optimal one (V(start) / V*(start), from the env's transition model).

`python -m experiments.bench.families [--quick] [--seeds 10] [--steps 60000] [--maps slippery,maze]`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from envs.gridworld_maps import generate_maze
from experiments.bench.common import machine_line, table
from experiments.compare.stats import probability_of_improvement
from experiments.learners.ours import AGENTS
from experiments.learners.presets import ours_from_sb3, preset, preset_source
from experiments.runs import RunSpec
from experiments.runs.run import ExactScorer

ENV_ID = "mdparcade/GridWorld-v0"
#: Maps written here, not shipped: a slippery one with holes (the families issue's own), a deterministic one
#: with a step cost, a random 7 x 7 maze (a 15-step path). A 9 x 9 maze whose path takes 35 steps
#: (generate_maze(9, 9, seed=7)) is beyond both settings at 60k steps: epsilon-greedy and entropy-driven
#: exploration rarely reach its goal within the 500-step limit (0 of 10 seeds on either side, measured).
MAPS = {
    "slippery": dict(map=["S..#.", ".#...", "...#H", "H.#..", "....G"], slip=0.7),
    "step cost": dict(map=["S....#....", ".##..#.##.", ".#...#..#.", ".#.###..#.", "........#G"], step_reward=-0.04),
    "maze": dict(map=list(generate_maze(7, 7, seed=1))),
}
SOLVED = 0.9  # a seed solves a map when its greedy policy reaches 0.9 of the optimal value at the start


def sb3_defaults(algo: str) -> dict:
    """What SB3 trains an env with no rl-zoo entry with, in our names: its defaults, one env copy."""
    return ours_from_sb3(algo, {"n_envs": 1})


def value_ratios(algo: str, kwargs: dict, config: dict, seeds, steps: int) -> list[float]:
    """The exact V(start) / V*(start) of each member's greedy policy after `steps`, trained as one population
    and scored as a run scores it (experiments.runs.run.ExactScorer)."""
    agent = AGENTS[algo](ENV_ID, env_kwargs=kwargs, seeds=seeds, device="cpu", **config).learn(steps)
    scorer = ExactScorer(RunSpec(algo, ENV_ID, steps, env_kwargs=kwargs), agent.config.gamma)

    def predict_members(obs: np.ndarray) -> np.ndarray:  # one member takes a batch, as SB3 does
        return agent.predict(obs)[0] if agent.num_members > 1 else agent.predict(obs[0])[0][None]

    return [exact["value_ratio"] for exact in scorer.members(predict_members, agent.num_members)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=60_000)
    parser.add_argument("--maps", default=",".join(MAPS), help=f"comma-separated, of: {', '.join(MAPS)}")
    parser.add_argument("--reps", type=int, default=2000, help="bootstrap resamples for the intervals")
    parser.add_argument("--quick", action="store_true", help="1 seed, 1,024 steps, 100 resamples: checks that it runs")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # small nets: one thread per run, as compare's workers and the other benchmarks
    seeds, steps, reps = (range(1), 1_024, 100) if args.quick else (range(args.seeds), args.steps, args.reps)
    unknown = set(args.maps.split(",")) - set(MAPS)
    if unknown:
        parser.error(f"unknown map(s) {', '.join(sorted(unknown))}; choose from {', '.join(MAPS)}")
    maps = {name: kwargs for name, kwargs in MAPS.items() if name in args.maps.split(",")}
    print(machine_line())
    print(f"{len(seeds)} seeds, {steps:,} steps each, one population per cell; score: exact V(start)/V*(start)")
    rows, holds = [], True
    for algo in ("DQN", "PPO"):
        for name, kwargs in maps.items():
            scores, seconds = {}, {}
            for side, config in (("family", preset(algo, ENV_ID, kwargs)), ("SB3 defaults", sb3_defaults(algo))):
                start = time.perf_counter()
                scores[side] = np.array(value_ratios(algo, kwargs, config, seeds, steps))
                seconds[side] = time.perf_counter() - start
            ours, theirs = scores["family"], scores["SB3 defaults"]
            better = probability_of_improvement(ours[:, None], theirs[:, None], reps=reps)
            solved = [int((s >= SOLVED).sum()) for s in (ours, theirs)]
            keep = solved[0] >= solved[1] and better["high"] >= 0.5
            holds &= keep
            rows.append([algo, name, f"{solved[0]}/{len(seeds)}", f"{ours.mean():.3f}", f"{seconds['family']:.1f}",
                         f"{solved[1]}/{len(seeds)}", f"{theirs.mean():.3f}", f"{seconds['SB3 defaults']:.1f}",
                         f"{better['probability']:.2f} [{better['low']:.2f}, {better['high']:.2f}]",
                         "keep" if keep else "worse"])
            print(f"  {algo} {name}: family {np.round(ours, 3).tolist()} | SB3 defaults {np.round(theirs, 3).tolist()}",
                  flush=True)
    print(f"family entries: {preset_source('DQN', ENV_ID, MAPS['slippery'])}")
    print(table(["algo", "map", f"family >= {SOLVED}", "mean", "s", f"SB3 defaults >= {SOLVED}", "mean", "s",
                 "P(family > defaults) [95% CI]", "verdict"], rows))
    print(("holds" if holds else "FAILS") + ": every family entry solves at least as many seeds as SB3's defaults "
          "and is not worse by the probability of improvement")
    return 0 if holds else 1


if __name__ == "__main__":
    raise SystemExit(main())
